"""The grader's command line, where it must refuse or explain before it grades anything.

Found trying the course as a new instructor: a student's name with a typo in ``--student`` was
graded as a submission of its own (a missing notebook) and so enrolled in the gradebook with
zeros in every assignment; and ``--help`` did not say what the export writes besides grades.csv.
"""

import hashlib
import subprocess
import sys

import pytest

from grading_support import make_course, release, rnngrade, solved, submit


def _state(course):
    """What grading would change in ``course``: its files, with a digest of each."""
    return {str(p.relative_to(course)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(course.rglob("*")) if p.is_file()}


def _course(tmp_path):
    (tmp_path / "course").mkdir()
    course = make_course(tmp_path / "course")
    submit(course, "alice", "mgu", solved("mgu"))
    submit(course, "alina", "mgu", release("mgu"))
    submit(course, "bob", "lstm", solved("lstm"))
    return course


def test_an_unknown_student_is_refused_with_the_known_ones_named_and_nothing_changes(tmp_path, sandbox_flag):
    course = _course(tmp_path)
    before = _state(course)
    for command in ("autograde", "all"):
        proc = rnngrade(course, command, "mgu", "--student", "alcie", "--student", "bob", *sandbox_flag, timeout=300)
        assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
        error = proc.stderr
        assert "ERROR" in error and "'alcie'" in error and "submitted/" in error, error
        assert "did you mean 'alice'" in error, error                       # the closest names suggested
        assert "alice, alina, bob" in error, error                          # and every known one listed
        assert "'bob'" not in error.partition("did you mean")[0], error     # bob is known: not called unknown
        assert _state(course) == before, "a refused command changed the course directory"
        assert not (course / "gradebook.db").exists()


def test_a_known_student_is_graded_only_in_the_assignments_they_submitted(tmp_path, sandbox_flag):
    """bob submitted lstm only: asking for bob in mgu grades nothing and enrols nobody."""
    course = _course(tmp_path)
    before = _state(course)
    proc = rnngrade(course, "autograde", "mgu", "--student", "bob", *sandbox_flag, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "bob" in proc.stdout and "no submission of mgu" in proc.stdout, proc.stdout
    assert _state(course) == before


@pytest.mark.parametrize("argv", [["--help"], ["export", "--help"], ["all", "--help"]])
def test_the_help_says_what_the_export_writes(argv):
    """Both files of the export, and how to read them (a missing submission is not a zero)."""
    proc = subprocess.run([sys.executable, "-m", "rnngrade", *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "grades.csv" in text and "grades_by_part.csv" in text, text
    assert "submitted" in text and "not submitted" in text, text


def test_the_assignments_may_come_after_the_options(capsys):
    """``--student NAME lstm`` names the assignment lstm, as ``lstm --student NAME`` does: an
    unknown assignment there is refused by name, not as an unrecognised argument."""
    from rnngrade.__main__ import main
    for argv in (["export", "--student", "alice", "nosuchassignment"], ["export", "nosuchassignment", "--student", "alice"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and "no grading spec for nosuchassignment" in err, err
