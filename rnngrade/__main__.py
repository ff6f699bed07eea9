"""Command line: ``python -m rnngrade autograde|feedback|export|all`` (see ``--help``).

``all`` (behind ``make grade``) runs the three steps in one go and always goes on to feedback
and export. The exit status is 0 when every submission was graded, broken ones included (they
are recorded with the points they earned and notes for the student); 1, after everything that
could be done was done, when something failed on the grader's side; 2 when it could not start.
"""

import argparse
import logging
import os
import sys
import traceback

from . import pipeline, sandbox, specs
from . import secret as course_secret


def _error(text):
    print(f"ERROR: {text}", file=sys.stderr, flush=True)


COMMANDS = """commands:
  autograde  grade the submissions, submitted/<student>/<assignment>/<notebook>.ipynb, into
             gradebook.db and autograded/; logs in grading_logs/
  feedback   feedback/<student>/<assignment>/<notebook>.html from the gradebook
  export     two CSV files (--to names the first; the second goes beside it):
             grades.csv, nbgrader's export: a row per assignment and student with the total
               score (late penalty subtracted); an assignment a student did not submit has a
               row with score 0 there, as a submission that earned nothing has
             grades_by_part.csv (--to g.csv: g_by_part.csv): the same rows, with a column "submitted"
               ("yes", or "no": not submitted) and a column per graded part with its points
               before any late penalty; a part's cell is empty where the assignment was not
               submitted (and where the part belongs to another assignment). To tell a missing
               submission from a score of 0, or to average a part over a class, read this file
  all        the three in a row (make grade): feedback and export run even when grading failed
"""


def _parser():
    p = argparse.ArgumentParser(prog="python -m rnngrade", description=(
        "Grade the course's assignments outside the students' kernels. Run from the course "
        "directory (the one with nbgrader_config.py) or pass --course."), epilog=COMMANDS,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["autograde", "feedback", "export", "all"], help="what to do (below)")
    p.add_argument("assignments", nargs="*", help="assignment names (default: all with a grading spec)")
    p.add_argument("--course", default=os.getcwd(), help="the course directory (default: this one)")
    p.add_argument("--student", action="append", help=(
        "grade only this student (repeatable), in the assignments they submitted; a name with "
        "no submission under submitted/ is refused, and nothing is graded"))
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded in parallel")
    p.add_argument("--no-sandbox", action="store_true", help=(
        "run students' code without bubblewrap, with the grader's rights: only for trusted "
        "submissions or machines without bubblewrap"))
    p.add_argument("--to", default="grades.csv", help=(
        "CSV file for export (default grades.csv); the grades by part go beside it, with "
        "_by_part added to the name (grades_by_part.csv)"))
    p.add_argument("--report", help="write a JSON report of every graded submission to this file")
    p.add_argument("--cell-timeout", type=float, default=sandbox.Limits.cell_timeout,
                   help="seconds one of a submission's code cells may run (default %(default)s)")
    p.add_argument("--case-timeout", type=float, default=sandbox.Limits.case_timeout,
                   help="seconds one call of a graded function may run (default %(default)s)")
    p.add_argument("--notebook-timeout", type=float, default=sandbox.Limits.notebook_timeout,
                   help="seconds a whole submission may run (default %(default)s)")
    return p


def _sandbox_ok(args):
    """Whether students' code may run: in the sandbox, or without it when asked to (loudly)."""
    if args.no_sandbox:
        print("WARNING: grading WITHOUT the sandbox (--no-sandbox): students' code runs with your "
              "rights and can read or change any file you can, including the gradebook.",
              file=sys.stderr, flush=True)
        return True
    try:
        sandbox.check_available()
        return True
    except sandbox.SandboxUnavailable as exc:
        _error(f"{exc}.\nThe grader will not run students' code unsandboxed unless you "
               f"pass --no-sandbox (see README, Grading security).")
        return False


def _secret_ok(course):
    """Whether the course secret is usable; warns (once) when there is none."""
    try:
        key = course.secret
    except course_secret.SecretError as exc:
        _error(exc)
        return False
    if key is None:
        print(f"WARNING: no course secret ({course_secret.ENV} or {course_secret.FILE}): the hidden cases' "
              f"inputs are the public defaults, which anyone who reads the repository can compute. To keep "
              f"them hidden, create one in the course directory: {course_secret.RECIPE} (see README, "
              f"Instructors).", file=sys.stderr, flush=True)
    return True


def _autograde(args, course, names):
    """Grade every assignment in ``names``; 1 if something failed on the grader's side, else 0."""
    status = 0
    limits = sandbox.Limits(cell_timeout=args.cell_timeout, case_timeout=args.case_timeout,
                            notebook_timeout=args.notebook_timeout)
    report = []
    for name in names:
        try:
            results = pipeline.autograde(course, name, args.student, use_sandbox=not args.no_sandbox,
                                         jobs=args.jobs, limits=limits, report=report)
        except pipeline.GraderError as exc:
            _error(exc)
            status = 1
            continue
        except Exception as exc:  # noqa: BLE001 (one assignment's failure must not stop the others)
            traceback.print_exc()
            _error(f"{name}: not graded because of an error in the grader: {type(exc).__name__}: {exc}")
            status = 1
            continue
        if results:
            times = sorted(r.seconds for r in results.values())
            print(f"{name}: {len(results)} submission(s) graded; median {times[len(times) // 2]:.2f} s, "
                  f"max {times[-1]:.2f} s per submission", flush=True)
        elif args.student:
            print(f"{name}: none of the students named has a submission in submitted/<student>/{name}/", flush=True)
        else:
            print(f"{name}: no submissions in submitted/*/{name}/", flush=True)
    if args.report:
        os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
        with open(args.report, "w") as f:
            f.write(pipeline.dumps_report(report))
    return status


def _feedback(course, names):
    """Feedback for every assignment in ``names`` that has autograded submissions; 1 if some failed."""
    status = 0
    for name in names:
        if any((course.root / "autograded").glob(f"*/{name}")):
            try:
                pipeline.feedback(course, name)
            except RuntimeError as exc:
                _error(f"{name}: feedback failed: {exc}")
                status = 1
                continue
            print(f"{name}: feedback written to feedback/<student>/{name}/", flush=True)
    return status


def _export(course, to):
    try:
        by_part = pipeline.export(course, to)
    except RuntimeError as exc:
        _error(f"export failed: {exc}")
        return 1
    print(f"grades exported to {to}, each part's points to {by_part}", flush=True)
    return 0


def main(argv=None):
    p = _parser()
    args = p.parse_intermixed_args(argv)    # the assignments may come after the options
    unknown = sorted(set(args.assignments) - set(specs.ASSIGNMENTS))
    if unknown:
        p.error(f"no grading spec for {', '.join(unknown)}; expected one of {', '.join(sorted(specs.ASSIGNMENTS))}")
    for stream in (sys.stdout, sys.stderr):  # the log quotes students' text, which may not be valid Unicode
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stdout)
    course = pipeline.Course(args.course)
    names = args.assignments or sorted(specs.ASSIGNMENTS)
    if args.student:
        try:
            course.check_students(args.student)
        except pipeline.UnknownStudent as exc:
            _error(exc)
            return 2
    status = 0
    if args.command in ("autograde", "all"):
        if not _sandbox_ok(args) or not _secret_ok(course):
            return 2
        status |= _autograde(args, course, names)
    if args.command in ("feedback", "all"):
        status |= _feedback(course, names)
    if args.command in ("export", "all"):
        status |= _export(course, args.to)
    return status


if __name__ == "__main__":
    sys.exit(main())
