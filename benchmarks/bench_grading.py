"""Benchmark: grading time per submission, with and without the bubblewrap sandbox.

    python benchmarks/bench_grading.py      (or: make bench)

For every assignment, grades the solved notebook (the release filled in with the solutions)
and the blank release, alternating sandboxed and unsandboxed runs (interleaved repeats,
medians), and prints the time per submission and the sandbox's overhead (target: at most
+30%). Writes ``benchmarks/reports/grading.md``. Needs bubblewrap; without it, says so and
measures only the unsandboxed time.
"""

import re
import statistics
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from rnngrade import runner, sandbox, specs  # noqa: E402

REPEAT = 7


def filled(name):
    src = nbformat.read(ROOT / "solutions" / name / f"{name}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in src.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(ROOT / "assignments" / name / f"{name}.ipynb", as_version=4)
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("solution"):
            c.source = re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", answers[c.metadata["nbgrader"]["grade_id"]], flags=re.M)
    return nb


def main():
    try:
        sandbox.check_available()
        modes = (False, True)
    except sandbox.SandboxUnavailable as exc:
        print(f"sandbox unavailable ({exc}); measuring without it only")
        modes = (False,)
    rows = []
    for name in sorted(specs.ASSIGNMENTS):
        spec = specs.get(name)
        jobdir = runner.prepare_jobdir(spec)
        for label, nb in (("solved", filled(name)), ("blank", nbformat.read(ROOT / "assignments" / name / f"{name}.ipynb", as_version=4))):
            times = {m: [] for m in modes}
            scores = {m: set() for m in modes}
            for _ in range(REPEAT):
                for m in modes:
                    t0 = time.perf_counter()
                    res = runner.grade_cells(nb, spec, use_sandbox=m, workdir=jobdir)
                    times[m].append(time.perf_counter() - t0)
                    scores[m].add(res.score)
            med = {m: statistics.median(v) for m, v in times.items()}
            ratio = f"{med[True] / med[False]:.2f}x" if True in med else "n/a"
            same = "yes" if len({frozenset(s) for s in scores.values()}) == 1 else "NO"
            rows.append((name, label, f"{med[False]:.3f}", f"{med[True]:.3f}" if True in med else "n/a", ratio,
                         "/".join(f"{s:g}" for s in sorted(scores[False])), same))
    header = ("assignment", "submission", "no sandbox (s)", "sandbox (s)", "ratio", "score", "same score")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |"
    text = "\n".join([f"### Grading time per submission (median of {REPEAT}, interleaved)", "", fmt(header),
                      "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(fmt, rows)]) + "\n"
    print(text)
    out = ROOT / "benchmarks" / "reports"
    out.mkdir(parents=True, exist_ok=True)
    (out / "grading.md").write_text(text)


if __name__ == "__main__":
    main()
