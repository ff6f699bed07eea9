"""The assignments: the committed release matches the solutions and leaks nothing.

(Grading round trips are in test_grading.py; attacks on the grader in test_grading_security.py.)
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


def nbgrader(course, *args):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")  # nbgrader runs `alembic`
    proc = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A scratch course directory with the release regenerated from solutions/."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    for name in ASSIGNMENTS:
        nbgrader(course, "generate_assignment", name, "--force")
    return course


def _cells(path):
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, c.metadata.get("nbgrader", {}).get("grade_id")) for c in nb.cells]


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_release_matches_a_fresh_generation(course, name):
    fresh = sorted((course / "assignments" / name).glob("*.ipynb"))
    committed = sorted((ROOT / "assignments" / name).glob("*.ipynb"))
    assert [p.name for p in committed] == [p.name for p in fresh], "run `make assignments` and commit"
    for a, b in zip(committed, fresh):
        assert _cells(a) == _cells(b), f"{a} has drifted from solutions/: run `make assignments` and commit"


def _region_lines(source, begin, end):
    lines, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_has_no_solution_and_no_hidden_test(name):
    for src in (ROOT / "solutions" / name).glob("*.ipynb"):
        source_nb = nbformat.read(src, as_version=4)
        secret = set()
        for cell in source_nb.cells:
            secret |= set(_region_lines(cell.source, "### BEGIN SOLUTION", "### END SOLUTION"))
            secret |= set(_region_lines(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"))
        release = nbformat.read(ROOT / "assignments" / name / src.name, as_version=4)
        text = "\n".join(c.source for c in release.cells)
        released_lines = {line.strip() for line in text.splitlines()}
        # lines that also occur outside the secret regions (e.g. a bare `return`) are not secrets
        public = {line.strip() for c in source_nb.cells
                  for line in re.sub(r"### BEGIN (SOLUTION|HIDDEN TESTS).*?### END (SOLUTION|HIDDEN TESTS)", "",
                                     c.source, flags=re.S).splitlines()}
        leaked = sorted((secret - public) & released_lines)
        assert not leaked, f"solution or hidden-test lines in the release: {leaked}"
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
        assert all(not c.get("outputs") for c in release.cells if c.cell_type == "code")
        for cell in release.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                assert "### START CODE HERE ###" in cell.source and "### END CODE HERE ###" in cell.source


# functions whose whole body is the student's (their stub is nbgrader's `raise NotImplementedError()`)
WHOLE_BODY = {"sigmoid", "scan"}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_stub_shows_what_it_returns(name):
    """A graded function's stub ends with its return line, after the student's region: the
    student sees what the function returns and in which order (found missing in the LSTM's
    part 3)."""
    release = nbformat.read(ROOT / "assignments" / name / f"{name}.ipynb", as_version=4)
    for cell in release.cells:
        md = cell.metadata.get("nbgrader", {})
        if md.get("solution") and md.get("grade_id") not in WHOLE_BODY and cell.source.startswith("def "):
            after = cell.source.split("### END CODE HERE ###", 1)[1]
            assert re.search(r"^    return ", after, re.M), f"{name}: {md['grade_id']}'s stub has no return line"
