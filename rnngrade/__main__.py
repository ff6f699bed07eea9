"""Command line: ``python -m rnngrade autograde|feedback|export|all`` (see ``--help``)."""

import argparse
import logging
import os
import sys

from . import pipeline, sandbox, specs


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rnngrade", description=(
        "Grade the course's assignments outside the students' kernels. Run from the course "
        "directory (the one with nbgrader_config.py) or pass --course."))
    p.add_argument("command", choices=["autograde", "feedback", "export", "all"])
    p.add_argument("assignments", nargs="*", help="assignment names (default: all with a grading spec)")
    p.add_argument("--course", default=os.getcwd())
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded in parallel")
    p.add_argument("--no-sandbox", action="store_true", help=(
        "run students' code without bubblewrap, with the grader's rights: only for trusted "
        "submissions or machines without bubblewrap"))
    p.add_argument("--to", default="grades.csv", help="CSV file for export")
    p.add_argument("--report", help="write a JSON report of every graded submission to this file")
    p.add_argument("--cell-timeout", type=float, default=sandbox.Limits.cell_timeout)
    p.add_argument("--case-timeout", type=float, default=sandbox.Limits.case_timeout)
    p.add_argument("--notebook-timeout", type=float, default=sandbox.Limits.notebook_timeout)
    args = p.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # the log quotes students' text, which may not be valid Unicode
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stdout)
    course = pipeline.Course(args.course)
    names = args.assignments or sorted(specs.ASSIGNMENTS)
    status = 0

    if args.command in ("autograde", "all"):
        if args.no_sandbox:
            print("WARNING: grading WITHOUT the sandbox (--no-sandbox): students' code runs with your "
                  "rights and can read or change any file you can, including the gradebook.",
                  file=sys.stderr, flush=True)
        else:
            try:
                sandbox.check_available()
            except sandbox.SandboxUnavailable as exc:
                print(f"ERROR: {exc}.\nThe grader will not run students' code unsandboxed unless you "
                      f"pass --no-sandbox (see README, Grading security).", file=sys.stderr)
                return 2
        limits = sandbox.Limits(cell_timeout=args.cell_timeout, case_timeout=args.case_timeout,
                                notebook_timeout=args.notebook_timeout)
        report = []
        for name in names:
            try:
                results = pipeline.autograde(course, name, args.student, use_sandbox=not args.no_sandbox,
                                             jobs=args.jobs, limits=limits, report=report)
            except pipeline.GraderError as exc:
                print(f"ERROR: {exc}", file=sys.stderr, flush=True)
                status = 1
                continue
            if results:
                times = sorted(r.seconds for r in results.values())
                print(f"{name}: {len(results)} submission(s) graded; median {times[len(times) // 2]:.2f} s, "
                      f"max {times[-1]:.2f} s per submission", flush=True)
            else:
                print(f"{name}: no submissions in submitted/*/{name}/", flush=True)
        if args.report:
            os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
            with open(args.report, "w") as f:
                f.write(pipeline.dumps_report(report))
    if args.command in ("feedback", "all"):
        for name in names:
            if any((course.root / "autograded").glob(f"*/{name}")):
                pipeline.feedback(course, name)
                print(f"{name}: feedback written to feedback/<student>/{name}/", flush=True)
    if args.command in ("export", "all"):
        pipeline.export(course, args.to)
        print(f"grades exported to {args.to}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
