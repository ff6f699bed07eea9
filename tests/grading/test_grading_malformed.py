"""Malformed submissions, read without running anything: the grader's readers never raise.

Reading the file (``read_notebook``) refuses what is not a notebook at the top, with a message
for the student; below the top, the cell readers (``nbgrader_meta``, ``cell_source``) and
everything built on them (the cells to run, the autograded notebook, the notes on test cells)
take a malformed field as absent, and ``problems`` names it. The full round trip of such
submissions, beside honest ones, is in ``test_grading.py``.
"""

import json
import os
import types

import nbformat
import pytest

from grading_support import ASSIGNMENTS, ROOT, as_data, data_cell, release, solved
from rnngrade import __main__, notebook, pipeline, runner, specs

NB = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _json(**fields):
    return json.dumps(dict(NB, **fields)).encode()


NOT_NOTEBOOKS = {  # file content: what the message says
    "empty": (b"", "is empty: expected a Jupyter notebook"),
    "blank": (b" \n\t", "is empty: expected a Jupyter notebook"),
    "list": (b"[]", "it is a list, expected an object with a list of cells"),
    "string": (b'"x"', "it is a string, expected an object"),
    "number": (b"42", "it is a number, expected an object"),
    "null": (b"null", "it is null, expected an object"),
    "no-cells": (b'{"nbformat": 4, "metadata": {}}', "it has no list of cells"),
    "cells-object": (_json(cells={}), "its cells are an object, expected a list"),
    "cells-string": (_json(cells="abc"), "its cells are a string, expected a list"),
    "nbformat-3": (_json(nbformat=3), "it has nbformat 3, expected nbformat 4"),
    "nbformat-string": (_json(nbformat="4"), "it has nbformat '4', expected nbformat 4"),
    "no-nbformat": (b'{"cells": []}', "it has no nbformat version, expected nbformat 4"),
    "truncated": (b'{"cells": [', "is not valid JSON: Expecting value at line 1, column 12"),
    "not-utf8": (b"\xff\xfe{}", "is not UTF-8 text"),
    "deep": (b'{"cells": [], "nbformat": 4, "metadata": {"n": ' + b"[" * 500 + b"]" * 500 + b"}}",
             "it is nested more than 64 levels deep"),
    "deeper": (b"[" * 100_000, "is nested too deeply to be a notebook"),
}


@pytest.mark.parametrize("name", sorted(NOT_NOTEBOOKS))
def test_files_that_are_not_notebooks_are_refused_with_a_reason(tmp_path, name):
    content, says = NOT_NOTEBOOKS[name]
    path = tmp_path / "mgu.ipynb"
    path.write_bytes(content)
    with pytest.raises(notebook.NotebookError) as err:
        notebook.read_notebook(path)
    assert says in str(err.value) and str(err.value).startswith("mgu.ipynb ")


def test_valid_json_that_python_finds_awkward_is_read(tmp_path):
    """A byte-order mark, a number of 5000 digits: valid JSON, so a readable notebook."""
    text = json.dumps(dict(NB, metadata={"n": "HUGE"})).replace('"HUGE"', "1" * 5000)
    path = tmp_path / "mgu.ipynb"
    for content in (b"\xef\xbb\xbf" + json.dumps(NB).encode(), text.encode()):
        path.write_bytes(content)
        assert notebook.read_notebook(path)["cells"] == []


def _code(source="x = 1", **fields):
    return dict({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                 "source": source}, **fields)


MALFORMED_CELLS = [  # (cell, what nbgrader_meta gives, what cell_source gives)
    (42, {}, ""), ("x", {}, ""), (None, {}, ""), ([], {}, ""),
    (_code(metadata="x"), {}, "x = 1"),
    (_code(metadata=[1]), {}, "x = 1"),
    (_code(metadata={"nbgrader": "x"}), {}, "x = 1"),
    (_code(metadata={"nbgrader": [1, 2]}), {}, "x = 1"),
    (_code(metadata={"nbgrader": 3}), {}, "x = 1"),
    (_code(metadata={"nbgrader": {"grade_id": 7, "solution": True}}), {"solution": True}, "x = 1"),
    (_code(metadata={"nbgrader": {"grade_id": "a", "solution": "yes", "grade": 1}}), {"grade_id": "a"}, "x = 1"),
    (_code(metadata={"nbgrader": {"grade_id": ["a"], "grade": True}}), {"grade": True}, "x = 1"),
    (_code(source=42), {}, ""),
    (_code(source=None), {}, ""),
    (_code(source={"a": 1}), {}, ""),
    (_code(source=["a = 1\n", 2]), {}, ""),
    (_code(source=["a = 1\n", "b = 2"]), {}, "a = 1\nb = 2"),
    (_code(source="s = '\ud800'"), {}, "s = '\ufffd'"),
    ({"metadata": {"nbgrader": {"grade_id": "g", "grade": False, "solution": True}}}, {"grade_id": "g", "grade": False, "solution": True}, ""),
]


@pytest.mark.parametrize("cell, meta, source", MALFORMED_CELLS)
def test_cell_readers_take_malformed_fields_as_absent(cell, meta, source):
    assert notebook.nbgrader_meta(cell) == meta
    assert notebook.cell_source(cell) == source


def test_problems_names_each_malformed_field_and_nothing_else():
    cells = [42, None, {"source": "x"}, _code(cell_type="python"), _code(metadata="x"),
             _code(metadata={"nbgrader": [1, 2]}), _code(metadata={"nbgrader": {"grade_id": 7, "solution": "yes"}}),
             _code(source=42), _code(source=["a", 1]), _code(source="\ud800"), _code(outputs="x")]
    named = [
        "cell 1: it is a number, expected an object (the cell was ignored)",
        "cell 2: it is null, expected an object (the cell was ignored)",
        "cell 3: it has no cell_type, expected code, markdown or raw (the cell was not run)",
        "cell 4: its cell_type is 'python', expected code, markdown or raw (the cell was not run)",
        "cell 5: its metadata is a string, expected an object (ignored)",
        "cell 6: its nbgrader metadata is a list, expected an object (ignored: the cell counts as an ordinary cell)",
        "cell 7: its nbgrader grade_id is a number, expected a string (ignored)",
        "cell 7: its nbgrader solution is a string, expected true or false (ignored)",
    ]
    assert notebook.problems(dict(NB, cells=cells[:7])) == named
    assert notebook.problems(dict(NB, cells=cells)) == named[:7] + ["and 5 more problems with cells"]
    assert notebook.problems(dict(NB, cells=cells[7:])) == [
        "cell 1: its source is a number, expected text: a string or a list of strings (the cell counts as empty)",
        "cell 2: its source is a list with items that are not strings, expected text: a string or a list of "
        "strings (the cell counts as empty)",
        "cell 3: its source has characters that are not valid Unicode (lone surrogates), replaced by \ufffd",
        "cell 4: its outputs are a string, expected a list (ignored)",
    ]
    for a in ASSIGNMENTS:  # no false alarms on what Jupyter writes
        on_disk = json.loads((ROOT / "assignments" / a / f"{a}.ipynb").read_text())
        assert notebook.problems(as_data(solved(a))) == notebook.problems(on_disk) == []


def _bad_metadata(a):
    """The solved notebook with the metadata of the first part's solution and test cells and of
    the imports cell malformed, and a cell that is not an object."""
    nb, spec = as_data(solved(a)), specs.get(a)
    first = spec.parts[0]  # solution cells are named after their function
    sol, test, imports = (data_cell(nb, g) for g in (first.function, first.grade_id, "imports"))
    sol["metadata"]["nbgrader"] = "x"
    test["metadata"]["nbgrader"] = [1, 2]
    imports["metadata"]["nbgrader"]["grade_id"] = [1, 2]
    nb["cells"].insert(1, 42)
    return nb, spec, sol, test


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_cells_with_malformed_metadata_run_as_ordinary_cells(a):
    nb, spec, sol, test = _bad_metadata(a)
    ran = runner.code_cells(nb, spec)
    sources = [c["source"] for c in ran]
    assert sol["source"] in sources and test["source"] in sources  # no longer a solution or test cell
    assert 1 not in [c["index"] for c in ran]  # the cell that is a number


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_autograded_notebook_and_test_cell_notes_survive_malformed_metadata(a):
    nb, spec, _, _ = _bad_metadata(a)
    last = data_cell(nb, spec.parts[-1].function)
    last["source"] = "# \ud800\n" + last["source"]
    result = runner.NotebookResult({p.grade_id: runner.PartResult(p.grade_id, 0.0, float(p.points), ["wrong"])
                                    for p in spec.parts}, ["a note"])
    out = pipeline.autograded_notebook(types.SimpleNamespace(root=ROOT), spec, result, nb)
    by_id = {notebook.nbgrader_meta(c).get("grade_id"): c for c in out.cells}
    assert by_id[spec.parts[0].function].source == data_cell(as_data(release(a)), spec.parts[0].function)["source"]
    assert by_id[spec.parts[-1].function].source.startswith("# \ufffd\n")  # the others' answers are placed
    assert "a note" in out.cells[0].source
    nbformat.writes(out).encode("utf-8")  # valid text, so it can be written
    notes = pipeline.test_cell_notes(release(a), nb)
    assert notes == [f"test cell {spec.parts[0].grade_id} was deleted (graded all the same, with the grader's own tests)"]


def _course(tmp_path, monkeypatch):
    """A course directory with an autograded folder for every assignment (nothing else)."""
    monkeypatch.setenv("PATH", os.environ["PATH"])  # pipeline.Course puts the environment's bin/ first
    (tmp_path / "nbgrader_config.py").write_text("")
    for a in ASSIGNMENTS:
        (tmp_path / "autograded" / "someone" / a).mkdir(parents=True)
    return str(tmp_path)


def test_grade_goes_on_to_feedback_and_export_after_a_grader_error(tmp_path, monkeypatch, capsys):
    """``python -m rnngrade all`` (``make grade``): a grader error in one assignment still lets
    the others be graded, feedback and export run, and the exit status says so afterwards."""
    calls = []

    def autograde(course, name, *args, **kwargs):
        calls.append(("autograde", name))
        if name == "forward_and_scan":
            raise pipeline.GraderError("1 submission(s) of forward_and_scan could not be graded")
        if name == "gru_bptt":
            raise RuntimeError("nbgrader generate_assignment failed")
        return {}

    def feedback(course, name):
        calls.append(("feedback", name))
        if name == "mgu":
            raise RuntimeError("nbgrader generate_feedback failed")

    monkeypatch.setattr(pipeline, "autograde", autograde)
    monkeypatch.setattr(pipeline, "feedback", feedback)
    monkeypatch.setattr(pipeline, "export", lambda course, to: calls.append(("export", to)))
    status = __main__.main(["all", "--no-sandbox", "--course", _course(tmp_path, monkeypatch)])
    err = capsys.readouterr().err
    in_order = sorted(ASSIGNMENTS)  # the command line's order
    assert calls == ([("autograde", a) for a in in_order] + [("feedback", a) for a in in_order]
                     + [("export", "grades.csv")])
    assert status == 1
    assert "ERROR: 1 submission(s) of forward_and_scan could not be graded" in err
    assert "ERROR: gru_bptt: not graded because of an error in the grader: RuntimeError: nbgrader generate_assignment failed" in err
    assert "ERROR: mgu: feedback failed: nbgrader generate_feedback failed" in err

