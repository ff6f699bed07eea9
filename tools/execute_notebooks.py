"""Re-execute notebooks in place, keeping their outputs (``make notebooks``).

Usage: ``python tools/execute_notebooks.py [NOTEBOOK ...]``; without arguments, every chapter in
``book/`` and every solution notebook in ``solutions/``. Each notebook runs top to bottom in a
fresh kernel with its own folder as working directory; the first error stops it (and the
script exits non-zero), so a committed notebook is always one that ran cleanly.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def execute(path, timeout=600):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:                  # no execution timestamps: they would make every
        cell.metadata.pop("execution", None)  # re-run a diff, and travel into the student release
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)


def main(argv):
    paths = [Path(p).resolve() for p in argv] or sorted(
        list((ROOT / "book").glob("*.ipynb")) + list((ROOT / "solutions").glob("*/*.ipynb")))
    for path in paths:
        t0 = time.perf_counter()
        execute(path)
        print(f"{path.relative_to(ROOT)}: {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
