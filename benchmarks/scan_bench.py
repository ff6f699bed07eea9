"""Parallel scans in numpy: what they buy, measured.

    python benchmarks/scan_bench.py [--only cells,recurrence] [--repeat N]    (make bench: both)

1. **cells.** minGRU's and minLSTM's forward+backward in parallel mode (``rnnlib.forward`` and
   ``backward``: every step's gates in one product, then ``rnnlib.linear_recurrence``) against
   rnnlib's own GRU and LSTM (a loop of T steps with a product each) at the issue's size,
   T = 256, D = H = 128, B = 64, float64, on the quiet machine and with another process holding
   one core. The issue's target: minGRU's time at most a fifth of the GRU's. The ratios are
   paired (each round times all four, back to back). Then a profile of minGRU's forward+backward
   (cProfile): where its time goes.
2. **recurrence.** ``linear_recurrence`` by its methods (the loop, the associative scan, the log
   form) and the closed form with numpy's accumulating ufuncs (``cumprod``, ``cumsum``: fast, but
   it overflows on long sequences), over T and over the numbers per step ``H B``: where the scan
   beats the loop, which is what ``rnnlib.recurrence.auto_method`` (``method="auto"``) encodes.

Writes ``benchmarks/reports/scan.md``.
"""

import argparse
import cProfile
import io
import pstats
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import rnnlib
from rnnlib import comparisons, threads, timing
from rnnlib.recurrence import SCAN_MAX_STEP, SCAN_MIN_T, auto_method, solve

REPORT = Path(__file__).resolve().parent / "reports" / "scan.md"
SIZE = dict(T=256, D=128, H=128, B=64)
PAIRS = (("mingru", "gru"), ("minlstm", "lstm"))
TARGET = 0.2


def training_call(cell, T, D, H, B):
    """One forward + backward of ``cell`` at these sizes, float64."""
    w, X, state_0 = comparisons.make_problem(cell, T, D, H, B)
    dhs = np.ones((T, H, B))

    def run():
        _, cache = rnnlib.forward(cell, w, X, state_0)
        rnnlib.backward(dhs, cache)
    return run


class Busy:
    """Another process holding one core while the block runs."""

    def __enter__(self):
        self.spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)

    def __exit__(self, *exc):
        self.spinner.kill()
        self.spinner.wait()


def section_cells(args):
    fns = {cell: training_call(cell, **SIZE) for pair in PAIRS for cell in pair}
    lines = ["## 1. cells", "",
             f"Forward + backward at T = {SIZE['T']}, D = H = {SIZE['H']}, B = {SIZE['B']}, float64: median "
             "milliseconds, and the paired ratio of each parallel cell to its stepping counterpart (median of "
             "the rounds' ratios, with their range). The issue's target for minGRU / GRU: at most "
             f"{TARGET}.", "",
             "| machine | minGRU | GRU | minGRU / GRU | minLSTM | LSTM | minLSTM / LSTM |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    met = []
    for machine in ("quiet", "busy"):
        if machine == "busy":
            with Busy():
                t = timing.compare(fns, repeat=args.repeat, budget=60)
        else:
            t = timing.compare(fns, repeat=args.repeat, budget=60)
        row = [machine]
        for fast, slow in PAIRS:
            r = timing.paired_ratios(t[fast], t[slow])
            row += [f"{t[fast].median * 1e3:.0f}", f"{t[slow].median * 1e3:.0f}",
                    f"{r.median:.2f} ({r.min:.2f}-{r.max:.2f})"]
            if fast == "mingru":
                met.append(r.median <= TARGET)
        lines.append("| " + " | ".join(row) + " |")
        note = timing.busy_note(list(t.values()), width=10_000)
        if note:
            lines.append(f"| ({machine}: {note}) |")
    lines += ["", f"Target met: {'yes' if all(met) else 'no'} (quiet, busy: {', '.join(map(str, met))}).", ""]
    lines += profile_lines(fns["mingru"])
    return lines


def profile_lines(fn, calls=5, top=12):
    """The functions with the largest own time in ``calls`` calls of ``fn`` (cProfile)."""
    fn()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn()
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]
    total = sum(v[2] for v in stats.stats.values())
    lines = [f"minGRU's forward + backward, profiled ({calls} calls; {total / calls * 1e3:.0f} ms per call under "
             "the profiler): the functions with the largest own time.", "",
             "| function | ms per call | share |", "| --- | ---: | ---: |"]
    for (path, line, name), (_, _, own, _, _) in rows:
        where = f"{Path(path).name}:{line}({name})" if line else name
        lines.append(f"| `{where}` | {own / calls * 1e3:.1f} | {100 * own / total:.0f}% |")
    return lines


def closed_form(a, b):
    """``h_t = A_t cumsum(b / A)_t`` with ``A = cumprod(a)``: numpy's accumulating ufuncs."""
    with np.errstate(all="ignore"):
        A = np.cumprod(a, axis=0)
        return A * np.cumsum(b / A, axis=0)


def section_recurrence(args):
    rng = np.random.default_rng(0)
    methods = {"loop": lambda a, b: solve(a, b, None, "loop"),
               "scan": lambda a, b: solve(a, b, None, "scan"),
               "log": lambda a, b: solve(a, b, None, "log"),
               "cumprod": closed_form}
    lines = ["## 2. recurrence", "",
             "`linear_recurrence`'s methods, and the closed form by `cumprod`/`cumsum`, in microseconds "
             "(medians), with a in (0.5, 1) and b in (0.1, 1); the fastest of loop and scan in bold. "
             f"`method=\"auto\"` takes the scan for H B <= {SCAN_MAX_STEP} numbers per step over "
             f"T >= {SCAN_MIN_T} steps.", "",
             "| T | H B | loop | scan | log | cumprod | scan / loop |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    wrong = []
    with threads.limited(0):
        for T in (64, 256, 1024, 4096):
            for HB in (1, 16, 64, 256, 4096):
                if T * HB > 2 ** 22:
                    continue
                a, b = rng.uniform(0.5, 1.0, (T, HB, 1)), rng.uniform(0.1, 1.0, (T, HB, 1))
                t = timing.compare({k: (lambda f=f: f(a, b)) for k, f in methods.items()},
                                   repeat=args.repeat, min_time=0.005, budget=5)
                us = {k: v.median * 1e6 for k, v in t.items()}
                r = us["scan"] / us["loop"]
                cells = {k: f"{us[k]:.0f}" for k in us}
                best = "scan" if r < 1 else "loop"
                cells[best] = f"**{cells[best]}**"
                lines.append(f"| {T} | {HB} | {cells['loop']} | {cells['scan']} | {cells['log']} | "
                             f"{cells['cumprod']} | {r:.2f} |")
                if (r < 1) != (auto_method(a) == "scan"):
                    wrong.append(f"T = {T}, H B = {HB}")
    lines += ["", "`auto` chose the faster of loop and scan in every row." if not wrong else
              f"`auto` chose the slower of loop and scan at {'; '.join(wrong)}."]
    return lines


SECTIONS = {"cells": section_cells, "recurrence": section_recurrence}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"sections (default: {','.join(SECTIONS)})")
    ap.add_argument("--repeat", type=int, default=9, help="timed rounds per measurement")
    args = ap.parse_args()
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)}: choose from {', '.join(SECTIONS)}")
    header = ["# Parallel scans in numpy", "",
              f"numpy {np.__version__}; {threads.usable_cores()} cores. `python benchmarks/scan_bench.py` writes "
              "this report."]
    sections = [SECTIONS[name](args) for name in args.only.split(",")]
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(header) + "\n\n" + "\n\n".join("\n".join(s) for s in sections) + "\n")
    print(REPORT.read_text())


if __name__ == "__main__":
    main()
