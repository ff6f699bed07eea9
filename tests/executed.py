"""One execution of the chapters serves nbval and the book-build test.

nbval executes every chapter in ``book/`` and compares each cell's fresh outputs with the
committed ones. This plugin (registered by ``conftest.py``) keeps those fresh outputs and
the time each notebook took, and runs the book-build test after nbval's items, so that the
test can render the chapters from nbval's execution (jupyter-book with
``execute_notebooks: off``) instead of executing every chapter a second time. When nbval did
not run a chapter in this session (``pytest tests/book/test_book.py`` alone) or a cell failed,
``executed_chapters`` says so and the build test lets jupyter-book execute them as
``make book`` does.
"""

import copy
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
_RUNS = {}            # notebook path -> {"outputs": {code cell number: outputs}, "seconds": s, "ok": bool}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if not (hasattr(item, "test_outputs") and hasattr(item, "cell_num")):   # an nbval cell item
        return
    run = _RUNS.setdefault(Path(str(item.parent.fspath)).resolve(), {"outputs": {}, "seconds": 0.0, "ok": True})
    run["seconds"] += call.duration        # setup (the kernel's start, for the first cell) and call
    run["ok"] = run["ok"] and not report.failed
    if call.when == "call" and item.test_outputs is not None:
        run["outputs"][item.cell_num] = copy.deepcopy(item.test_outputs)


def pytest_collection_modifyitems(session, config, items):
    """The book-build test goes last: after nbval has executed the chapters."""
    late = [i for i in items if Path(str(i.fspath)).name == "test_book.py"]
    if late:
        items[:] = [i for i in items if i not in late] + late


def executed_chapters(paths):
    """``{path: (notebook with nbval's fresh outputs, seconds)}`` for the given chapters, or
    ``None`` unless nbval ran every one of them cleanly in this session."""
    out = {}
    for path in paths:
        run = _RUNS.get(Path(path).resolve())
        if run is None or not run["ok"]:
            return None
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        if set(run["outputs"]) != set(range(len(code))):
            return None
        for number, cell in enumerate(code):
            cell.outputs = [nbformat.from_dict(o) for o in run["outputs"][number]]
        nbformat.validate(nb)
        out[path] = (nb, run["seconds"])
    return out
