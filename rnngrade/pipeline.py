"""The instructor's pipeline on nbgrader's course directory: autograde, feedback, export.

Layout (nbgrader's, see ``nbgrader_config.py``): ``solutions/<a>/`` source, ``assignments/<a>/``
release, ``submitted/<student>/<a>/<notebook>.ipynb`` submissions, ``autograded/`` and
``feedback/`` outputs, ``gradebook.db`` the gradebook. ``autograde`` grades every submission of
an assignment with ``rnngrade.runner`` (each in its own sandboxed process; none can stop the
others), writes the points into the gradebook as the grade cells' automatic scores, and writes
``autograded/<student>/<a>/<notebook>.ipynb``: the release with the student's solution cells and,
under every test cell, the grader's verdict (no hidden test code or inputs). Like nbgrader's
autograde, it records each submission's ``timestamp.txt`` and the late penalty of nbgrader's
late-submission plugin (``rnngrade.late``). nbgrader's own ``generate_feedback`` (with the page
of ``rnngrade.feedback_page``) and ``export`` then work unchanged.
"""

import concurrent.futures
import copy
import csv
import difflib
import functools
import json
import logging
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings

import nbformat

from . import late, runner, sandbox, specs
from . import secret as course_secret
from .notebook import NotebookError, cell_outputs, cell_source, nbgrader_meta, read_notebook

log = logging.getLogger("rnngrade")


class Course:
    def __init__(self, root):
        self.root = pathlib.Path(root).resolve()
        if not (self.root / "nbgrader_config.py").exists():
            raise SystemExit(f"{self.root} is not a course directory (no nbgrader_config.py)")
        self.db_url = f"sqlite:///{self.root / 'gradebook.db'}"
        # nbgrader's Gradebook runs `alembic` from PATH: the environment's bin/ goes first
        bindir = str(pathlib.Path(sys.executable).parent)
        if bindir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")

    @functools.cached_property
    def secret(self):
        """The course secret (``rnngrade.secret``), or None; SecretError if its file is empty."""
        return course_secret.load(self.root)

    def hidden_inputs(self):
        """Which hidden inputs the grading uses, for the instructor's logs (never the secret)."""
        if self.secret is None:
            return "the public defaults (no course secret)"
        return f"derived from the course secret (fingerprint {course_secret.fingerprint(self.secret)})"

    def nbgrader(self, *args, check=True):
        proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=self.root,
                              capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        return proc

    def students(self, assignment=None):
        """The students with a submission of ``assignment`` (``submitted/<student>/<assignment>/``),
        or with a submission of anything when ``assignment`` is None, sorted."""
        sub = self.root / "submitted"
        if not sub.is_dir():
            return []
        return sorted(p.name for p in sub.iterdir() if p.is_dir() and not p.is_symlink()
                      and (assignment is None or (p / assignment).is_dir() and not (p / assignment).is_symlink()))

    def check_students(self, names):
        """Raise UnknownStudent if a name in ``names`` has no submission at all under submitted/
        (a typo: grading it would enrol a student who does not exist, with zeros everywhere)."""
        known = self.students()
        unknown = [n for n in dict.fromkeys(names) if n not in known]
        if unknown:
            raise UnknownStudent(unknown, known)


class UnknownStudent(ValueError):
    """Students named for grading who have no submission under ``submitted/``."""

    SHOWN = 30          # the known students listed in the message, at most

    def __init__(self, unknown, known):
        self.unknown, self.known = list(unknown), list(known)
        lines = []
        for name in self.unknown:
            close = difflib.get_close_matches(name, self.known, n=3, cutoff=0.6)
            lines.append(f"unknown student {name!r}: no submission of theirs under submitted/"
                         + (f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""))
        if self.known:
            shown = ", ".join(self.known[:self.SHOWN])
            more = f" and {len(self.known) - self.SHOWN} more" if len(self.known) > self.SHOWN else ""
            lines.append(f"the students with submissions: {shown}{more}")
        else:
            lines.append("there are no submissions under submitted/ (submitted/<student>/<assignment>/<notebook>.ipynb)")
        lines.append("nothing was graded or changed")
        super().__init__("\n".join(lines))


def _ensure_in_gradebook(course, spec):
    """Register the assignment, its notebook and grade cells (nbgrader generate_assignment into
    a scratch release folder, so the committed release is untouched)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url) as gb:
        try:
            nb = gb.find_notebook(pathlib.Path(spec.notebook).stem, spec.name)
            if {c.name: c.max_score for c in nb.grade_cells} == {p.grade_id: p.points for p in spec.parts}:
                return
        except MissingEntry:
            pass
    with tempfile.TemporaryDirectory() as tmp:
        course.nbgrader("generate_assignment", spec.name, "--force",
                        f"--CourseDirectory.release_directory={tmp}")
    with Gradebook(course.db_url) as gb:
        nb = gb.find_notebook(pathlib.Path(spec.notebook).stem, spec.name)
        cells = {c.name: c.max_score for c in nb.grade_cells}
        expected = {p.grade_id: float(p.points) for p in spec.parts}
        if cells != expected:
            raise RuntimeError(f"the grade cells of solutions/{spec.name} {cells} do not match the "
                               f"grader's spec {expected} (rnngrade/specs/)")


SHOWN_FAILURES = 6          # a part's verdict lists its first failures, and says how many it leaves out
SHOWN_NOTES = 10            # the summary at the top of the feedback lists the first notes, and says so too


def verdict_text(part):
    if part.passed:
        return f"[grader] {part.grade_id}: {part.score:g} / {part.max_score:g} points: every case passed.\n"
    lines = [f"[grader] {part.grade_id}: {part.score:g} / {part.max_score:g} points. What failed:"]
    lines += [f"  - {m}" for m in part.messages[:SHOWN_FAILURES]]
    if len(part.messages) > SHOWN_FAILURES:
        lines.append(f"  ... and {len(part.messages) - SHOWN_FAILURES} more failures, not shown")
    lines += [f"  Hint: {h}" for h in part.hints]
    return "\n".join(lines) + "\n"


def autograded_notebook(course, spec, result, submitted):
    """The release notebook with the student's solution cells and the grader's verdicts.

    ``submitted`` is the notebook as ``read_notebook`` returned it, or None if it could not be read.
    """
    release = nbformat.read(course.root / "assignments" / spec.name / spec.notebook, as_version=4)
    nb = copy.deepcopy(release)
    theirs, shown = {}, {}
    for cell in submitted["cells"] if submitted is not None else []:
        meta = nbgrader_meta(cell)
        if "grade_id" in meta and meta.get("solution"):
            theirs.setdefault(meta["grade_id"], cell_source(cell))
        if "grade_id" in meta:
            shown.setdefault(meta["grade_id"], cell_outputs(cell))
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and meta.get("grade_id") in theirs:
            cell.source = theirs[meta["grade_id"]]
        if cell.cell_type == "code":
            # what the student's notebook showed under the cell (its text and pictures); under a
            # graded test cell only the grader's verdict, since a saved output there (a stale or
            # forged "check passed") would read as a verdict
            test_cell = meta.get("grade") and not meta.get("solution")
            cell.outputs = [] if test_cell else shown.get(meta.get("grade_id"), [])
            cell.execution_count = None
            part = result.parts.get(meta.get("grade_id"))
            if meta.get("grade") and part is not None:
                cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=verdict_text(part)))
    notes = [f"- {n}" for n in result.log[:SHOWN_NOTES]]
    if len(result.log) > SHOWN_NOTES:
        notes.append(f"- ... and {len(result.log) - SHOWN_NOTES} more notes, not shown")
    head = (f"**Grader:** {result.score:g} / {spec.total:g} points."
            + ("\n\nNotes from grading:\n\n" + "\n".join(notes) if notes else ""))
    top = nbformat.v4.new_markdown_cell(head)
    top.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True, "task": False,
                                "grade_id": "rnngrade-summary", "schema_version": 3}
    nb.cells.insert(0, top)
    return nb


def test_cell_notes(release, submitted):
    """Notes on test cells the student deleted or edited (the grader uses its own tests anyway);
    ``submitted`` as for ``autograded_notebook``."""
    if submitted is None:
        return []
    theirs = {}
    for cell in submitted["cells"]:
        meta = nbgrader_meta(cell)
        if "grade_id" in meta:
            theirs[meta["grade_id"]] = cell_source(cell)
    notes = []
    for cell in release.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade") and not meta.get("solution"):
            gid = meta["grade_id"]
            if gid not in theirs:
                notes.append(f"test cell {gid} was deleted (graded all the same, with the grader's own tests)")
            elif theirs[gid].strip() != cell.source.strip():
                notes.append(f"test cell {gid} was edited (graded all the same, with the grader's own tests)")
    return notes


def _late_note(seconds_late, penalty):
    """What the summary at the top of the feedback says of a late submission (nothing if on time)."""
    if not seconds_late:
        return ""
    what = "no late penalty" if not penalty else f"a late penalty of {penalty:g} points"
    return f"\n\nSubmitted {seconds_late / 3600:.1f} hours after the due date: {what}."


def _record(course, spec, student, result, submitted_nb, timestamp, penalties):
    """Write the points, the submission time and the late penalty into the gradebook, and the
    autograded notebook; return (seconds late, late penalty or None)."""
    from nbgrader.api import Gradebook, MissingEntry

    autograded = autograded_notebook(course, spec, result, submitted_nb)
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        # nbgrader's add_submission trips a harmless SQLAlchemy autoflush warning
        warnings.simplefilter("ignore")
        try:
            gb.find_student(student)
        except MissingEntry:
            gb.add_student(student)
        # as nbgrader's autograde: a submission without timestamp.txt keeps the time it had
        gb.update_or_create_submission(spec.name, student, **({"timestamp": timestamp} if timestamp else {}))
        nb = gb.find_submission_notebook(pathlib.Path(spec.notebook).stem, spec.name, student)
        for grade in nb.grades:
            part = result.parts.get(grade.name)
            grade.auto_score = part.score if part is not None else 0.0
            grade.needs_manual_grade = False
        gb.db.commit()
    lateness = penalties.assign(course.db_url, spec.name, pathlib.Path(spec.notebook).stem, student)
    autograded.cells[0].source += _late_note(*lateness)
    out = course.root / "autograded" / student / spec.name
    out.mkdir(parents=True, exist_ok=True)
    # the verdicts quote the student's code (its exception messages), which may not be valid Unicode
    with open(out / spec.notebook, "w", encoding="utf-8", errors="replace") as f:
        nbformat.write(autograded, f)
    return lateness


def _write_log(course, assignment, student, text):
    """The instructor's log of one submission (invalid Unicode from the student's code escaped)."""
    logdir = course.root / "grading_logs" / assignment
    logdir.mkdir(parents=True, exist_ok=True)
    (logdir / f"{student}.txt").write_text(text, errors="backslashreplace")


def _log_result(course, spec, student, result, use_sandbox, report, lateness=(0, None)):
    """One graded submission: its log file, its line in the grader's log, its report entry.
    ``lateness``: seconds after the due date and the late penalty (None: none assigned)."""
    assignment = spec.name
    seconds_late, penalty = lateness
    late_line = (f"late: {seconds_late:g} s after the due date; late penalty: "
                 f"{'none' if penalty is None else f'{penalty:g}'}\n" if seconds_late else "")
    _write_log(course, assignment, student,
               f"{assignment} {student}: {result.score:g}/{spec.total:g} in {result.seconds:.2f} s, "
               f"sandbox: {use_sandbox}\nhidden inputs: {course.hidden_inputs()}\n" + late_line
               + "".join(f"{k}: {v.score:g}/{v.max_score:g} {' | '.join(v.messages + v.hints)}\n"
                         for k, v in result.parts.items())
               + "".join(f"note: {n}\n" for n in result.log)
               + "--- start of the output of the student's code ---\n" + result.output)
    line = (f"{assignment} {student}: {result.score:g}/{spec.total:g} points in {result.seconds:.2f} s"
            f"{'' if use_sandbox else ' (NO SANDBOX)'}"
            + (f", {seconds_late:g} s late, late penalty {penalty or 0:g}" if seconds_late else "")
            + (f"; {'; '.join(result.log[:3])}" if result.log else ""))
    (log.warning if result.error or result.log else log.info)(line)
    if report is not None:
        report.append({"assignment": assignment, "student": student, "score": result.score,
                       "max": spec.total, "seconds": round(result.seconds, 3),
                       "parts": {k: v.score for k, v in result.parts.items()},
                       "sandbox": use_sandbox, "hidden_inputs": course.hidden_inputs(),
                       "seconds_late": seconds_late, "late_penalty": penalty, "notes": result.log})


def autograde(course, assignment, students=None, use_sandbox=True, jobs=1, limits=None, report=None):
    """Grade every submission of ``assignment`` (or those of ``students``); return {student: NotebookResult}.

    ``students``, when given, must each have a submission under ``submitted/`` (else
    UnknownStudent, before anything is graded); those without a submission of this assignment
    are left out, with a line in the log.

    A broken submission (unreadable, malformed, crashing) is graded like any other: it gets the
    points it earned and notes saying what was wrong. An error on the grader's side while grading
    a submission is logged with the student's name and the others are graded all the same; then
    GraderError is raised.
    """
    spec = specs.get(assignment, secret=course.secret)
    if students:
        # only the students named who submitted this assignment: grading a missing submission
        # would record a zero where there is none (the export tells the two apart)
        course.check_students(students)
        submitted = set(course.students(assignment))
        for student in dict.fromkeys(s for s in students if s not in submitted):
            log.info("%s %s: no submission of %s (submitted/%s/%s/); not graded", assignment, student,
                     assignment, student, assignment)
        students = [s for s in dict.fromkeys(students) if s in submitted]
        if not students:
            return {}
    else:
        students = course.students(assignment)
    _ensure_in_gradebook(course, spec)
    limits = limits or sandbox.Limits()
    results = {}
    penalties = late.Penalties(course.root)
    jobdir = runner.prepare_jobdir(spec)

    def one(slot, student):
        folder = course.root / "submitted" / student / assignment
        path = folder / spec.notebook
        result = runner.grade_notebook(path, spec, limits, use_sandbox=use_sandbox, slot=slot, workdir=jobdir)
        try:
            submitted_nb = read_notebook(path)
        except NotebookError:
            submitted_nb = None
        release = nbformat.read(course.root / "assignments" / assignment / spec.notebook, as_version=4)
        result.log += test_cell_notes(release, submitted_nb)
        return result, submitted_nb, late.read_timestamp(folder)

    errors = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(one, i % max(1, jobs), s): s for i, s in enumerate(students)}
            for fut in concurrent.futures.as_completed(futures):
                student = futures[fut]
                try:
                    result, submitted_nb, ts = fut.result()
                    lateness = _record(course, spec, student, result, submitted_nb, ts, penalties)
                except Exception as exc:  # noqa: BLE001 (a grader bug must not lose the others' grades)
                    log.error("%s %s: not graded because of an error in the grader: %r", assignment, student, exc)
                    _write_log(course, assignment, student, f"{assignment} {student}: not graded because of an "
                               f"error in the grader (a previous grade, if any, is kept)\n{traceback.format_exc()}")
                    errors.append(f"{student}: {exc!r}")
                    continue
                results[student] = result
                _log_result(course, spec, student, result, use_sandbox, report, lateness)
    finally:
        shutil.rmtree(jobdir, ignore_errors=True)
    if errors:
        raise GraderError(f"{len(errors)} submission(s) of {assignment} could not be graded because of "
                          f"an error in the grader (their previous grades, if any, are kept): {'; '.join(errors[:3])}")
    return results


class GraderError(RuntimeError):
    """A bug in the grader (not in a submission) stopped some grading."""


def feedback(course, assignment):
    """``feedback/<student>/<assignment>/<notebook>.html`` from the autograded notebooks and the
    gradebook: nbgrader's generate_feedback with rnngrade's page (``rnngrade.feedback_page``)."""
    from . import feedback_page  # imports nbconvert, which only this step needs

    course.nbgrader("generate_feedback", assignment, "--force", *feedback_page.nbgrader_options())
    for page in sorted((course.root / "feedback").glob(f"*/{assignment}/*.html")):
        feedback_page.inline_mathjax(page)


#: the column ``submitted`` of ``grades_by_part.csv``
SUBMITTED, NOT_SUBMITTED = "yes", "no"


def export(course, to="grades.csv"):
    """nbgrader's export to ``to`` (a row per assignment and student, with the total score), and
    beside it ``<to>_by_part.csv`` (``grades_by_part.csv``): the same rows with a column
    ``submitted`` and a column for each graded part, its points before any late penalty, so that
    an instructor sees which part a class found hard. Returns the second file's path.

    nbgrader's file gives an assignment a student did not submit a score of 0, as it gives a
    submission that earned nothing; the second file tells them apart: ``submitted`` is "yes" or
    "no", and a part's cell is empty where the assignment was not submitted (as it is for the
    parts of other assignments), so that a part's mean over a column counts the submissions only.
    """
    from nbgrader.api import Gradebook, MissingEntry

    course.nbgrader("export", "--to", str(to))
    to = pathlib.Path(to)
    with open(to, newline="") as f:             # nbgrader's rows come in grading order: sorted,
        reader = csv.DictReader(f)              # as the by-part file's are
        fields, graded = reader.fieldnames, sorted(reader, key=lambda r: (r["assignment"], r["student_id"]))
    with open(to, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(graded)
    by_part = to.with_name(f"{to.stem}_by_part{to.suffix or '.csv'}")
    rows = []
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        warnings.simplefilter("ignore")
        names = [a.name for a in gb.assignments]
        students = [s.id for s in gb.students]
        for name in names:      # every assignment and student, as nbgrader's export has them
            for student in students:
                row = {"assignment": name, "student_id": student}
                try:
                    submission = gb.find_submission(name, student)
                except MissingEntry:
                    rows.append(dict(row, submitted=NOT_SUBMITTED))
                    continue
                row["submitted"] = SUBMITTED
                row.update({g.name: f"{g.score:g}" for nb in submission.notebooks for g in nb.grades})
                rows.append(row)
    # the parts in the assignments' order, each part in its notebook's order (the grader's specs)
    parts = [p.grade_id for name in specs.ASSIGNMENTS if name in names for p in specs.get(name).parts]
    parts += sorted({k for r in rows for k in r} - set(parts) - {"assignment", "student_id", "submitted"})
    with open(by_part, "w", newline="") as f:
        writer = csv.DictWriter(f, ["assignment", "student_id", "submitted", *parts], restval="")
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: (r["assignment"], r["student_id"])))
    return by_part


def dumps_report(report):
    return json.dumps(report, indent=1)
