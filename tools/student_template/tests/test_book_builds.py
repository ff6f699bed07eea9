"""The book builds from this repository with zero warnings, every page of its table of contents.

The chapters are rendered from the outputs they are committed with (``_config.yml``:
``execute_notebooks: off``); the course's own tests execute every chapter.
"""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _pages(entry):
    """Every ``file`` (and the ``root``) of a _toc.yml entry, however it nests its parts and chapters."""
    if isinstance(entry, dict):
        return [entry[k] for k in ("root", "file") if k in entry] + [p for v in entry.values() for p in _pages(v)]
    if isinstance(entry, list):
        return [p for item in entry for p in _pages(item)]
    return []


def test_the_book_builds_with_zero_warnings(tmp_path):
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run([str(jupyter_book), "build", str(ROOT), "--path-output", str(tmp_path),
                           "--warningiserror", "--keep-going"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    html = tmp_path / "_build" / "html"
    pages = _pages(yaml.safe_load((ROOT / "_toc.yml").read_text()))
    assert pages and all((html / f"{page}.html").is_file() for page in pages), sorted(p.name for p in html.rglob("*.html"))
