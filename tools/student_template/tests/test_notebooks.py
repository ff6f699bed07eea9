"""Every assignment runs, from its first cell, up to its first exercise.

Each notebook in ``assignments/`` is executed in a fresh kernel, as by a student who has written
nothing yet: every cell must run cleanly until the first exercise is called, which raises
``NotImplementedError`` (its stub). That error, and only that one, is a pass: the notebook's
imports, setup and every check before it work with this repository's rnnlib.
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "assignments").glob("*/*.ipynb"))
STUB = "raise NotImplementedError()"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_runs_up_to_its_first_exercise(path):
    nb = nbformat.read(path, as_version=4)
    first_stub = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and STUB in c.source), None)
    assert first_stub is not None, f"{path.name} has no exercise (no cell with `{STUB}`)"
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    with pytest.raises(CellExecutionError) as stopped:
        client.execute()
    failed = next(i for i, c in enumerate(nb.cells) if any(o.output_type == "error" for o in c.get("outputs", [])))
    assert stopped.value.ename == "NotImplementedError", f"cell {failed} of {path.name}:\n{stopped.value}"
    assert failed > first_stub, f"cell {failed} of {path.name} raised NotImplementedError before the first exercise"
