"""Benchmarks: speed ratios measured in one process, with interleaved repeats and medians.

    python benchmarks/bench.py            (or: make bench)

1. The lectures' size (T=256, D=128, H=16, B=1), forward: rnnlib's sequence forward against
   the lectures' per-step ``scan`` (each cell's ``lecture_step``, the same code the book's
   cost chapter times, through ``rnnlib.comparisons``). Target: rnnlib at least 2x faster.
2. Training size (B=64, T=256, D=128, H=128), float32 and float64, forward,
   forward+backward and inference, against PyTorch on the CPU (``torch.nn.RNN``/``GRU``/``LSTM``
   with autograd; inference under ``torch.no_grad`` against ``rnnlib.infer``) when PyTorch is
   installed: ``rnnlib.comparisons.against_torch``, the measurement the book's cost chapter shows.
   PyTorch's GRU is a different variant (reset gate after the matrix product) of the same cost
   class; PyTorch has no MGU, so the MGU is compared with our MGU written in PyTorch
   operations and differentiated by autograd; ``torch.nn.LSTM`` computes exactly our LSTM.
   Targets: forward no slower, forward+backward within 1.5x (the LSTM: no slower), LSTM
   inference within 1.5x.
3. Scaling: forward time against T and H, the memory the backward cache holds, and the
   inference path ``rnnlib.infer`` that keeps no cache (peak memory and time).
4. Roofline (``rnnlib.roofline``, what the cost chapter shows): the GRU's and the LSTM's
   forward+backward at B=64, D=H=256, T=128 as a fraction of a large GEMM's FLOP rate, same
   dtype and threads; target at least 70% in float32 and float64. And where the time goes:
   input products, recurrent products, element-wise work, per-step overhead.
5. Forward+backward of every cell against PyTorch on the grid H in {16, 128, 512} x B in
   {1, 64} (T=256, D=128), float32 and float64. Target: no slower anywhere. Each point is the
   median of the rounds' ratios (``timing.paired_ratios``: each round times both libraries),
   with their range, so that a ratio near 1 shows whether the machine's noise could flip it.
6. The constants that choose a fast path, timed on either side: ``loops.transposed``'s banded
   copy against numpy's copy of a transposed view (``BAND``); the gradient sums in blocks of
   ``GRADIENT_COLUMNS`` columns against larger blocks and one block; the input projection's two
   ways around ``WIDE_BATCH``.
7. A busy machine (``rnnlib.threads``): the GRU's forward+backward in float64 at three sizes,
   with the BLAS threads rnnlib chooses, with one and with two (OpenBLAS's default on two cores,
   what rnnlib did before it chose), first quiet, then with another process keeping one core busy
   (this script starts it). Targets: busy, rnnlib takes no longer than one thread, and at most
   1.3x its quiet time; quiet, no longer than the faster of one and two threads. And
   ``threads.PAYS`` timed on either side: one thread against two, quiet.

PyTorch gets the BLAS threads that rnnlib's products get at the same sizes (``rnnlib.threads``).

Prints the tables and writes ``benchmarks/reports/report.md`` with the machine's details.
"""

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np

import rnnlib
from rnnlib import comparisons, threads, timing
from rnnlib import roofline as roofline_
from rnnlib.cells import gradients, loops

try:
    import torch
except ImportError:
    torch = None

REPORT = Path(__file__).resolve().parent / "reports"


def table(title, header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |"
    out = [f"### {title}", "", line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    text = "\n".join(out) + "\n"
    print(text)
    return text


def lecture_size():
    res = comparisons.scan_vs_forward(T=256, D=128, H=16, B=1, repeat=21)
    rows = []
    for cell in dict.fromkeys(c for c, _ in res):
        s, f = res[(cell, "scan")], res[(cell, "forward")]
        rows.append((cell, f"{s.median * 1e3:.3f}", f"{f.median * 1e3:.3f}", f"{s.median / f.median:.2f}x",
                     "met" if s.median / f.median >= 2 else "not met"))
    return table("1. Lecture size (T=256, D=128, H=16, B=1), forward",
                 ("cell", "lecture scan (ms)", "rnnlib.forward (ms)", "speed-up", "target 2x"), rows)


def against_torch():
    T, D, H, B = 256, 128, 128, 64
    measured, info = comparisons.against_torch((np.float32, np.float64), T=T, D=D, H=H, B=B, repeat=7, torch=torch)
    if info is None:
        msg = "### 2. Against PyTorch\n\nskipped: PyTorch is not installed\n"
        print(msg)
        return msg
    rows = []
    for dtype in ("float32", "float64"):
        for cell, twin in info["twins"].items():
            row = [dtype, f"{cell} ({twin})"]
            for kind in comparisons.TORCH_KINDS:
                ours = measured[(dtype, cell, "rnnlib", kind)].median
                theirs = measured[(dtype, cell, "torch", kind)].median if twin != comparisons.NO_TWIN else None
                row += [f"{ours * 1e3:.1f}", "-" if theirs is None else f"{theirs * 1e3:.1f}",
                        "-" if theirs is None else f"{ours / theirs:.2f}"]
            rows.append(row)
    header = ["dtype", "cell"] + [f"{kind} {what}" for kind in comparisons.TORCH_KINDS
                                  for what in ("rnnlib (ms)", "torch (ms)", "ratio")]
    text = table(f"2. Training size (T={T}, D={D}, H={H}, B={B}) against PyTorch {info['version']} "
                 f"({info['threads']} threads, as many as numpy's BLAS)", header, rows)
    return text + ("\nratio = rnnlib time / PyTorch time (targets: forward <= 1, forward+backward <= 1.5 and "
                   "<= 1 for the LSTM, LSTM inference <= 1.5); the vanilla RNN with tanh, as nn.RNN\n")


def scaling():
    Ts, Hs = [64, 128, 256, 512, 1024], [16, 64, 256]
    cells = tuple(rnnlib.CELLS)
    by_T = comparisons.forward_sweep("T", Ts, repeat=9)
    rows = []
    for cell, ts in by_T.items():
        fixed, per_step, worst = timing.fit_line(Ts, ts)
        rows.append((cell, *[f"{t.median * 1e3:.2f}" for t in ts], f"{per_step * 1e6:.2f}",
                     f"{fixed * 1e3:.3f}", f"{100 * worst:.1f}"))
    text = table("3a. Forward time (ms) against T (D=128, H=16, B=1); least-squares line time = fixed + "
                 "per step * T, and the largest distance of a median from it",
                 ("cell", *[f"T={T}" for T in Ts], "per step (µs)", "fixed (ms)", "off the line (%)"), rows)
    by_H = comparisons.forward_sweep("H", Hs, base={"T": 128}, repeat=7)
    rows = [(cell, *[f"{t.median * 1e3:.2f}" for t in ts]) for cell, ts in by_H.items()]
    text += table("3b. Forward time (ms) against H (T=128, D=128, B=1)", ("cell", *[f"H={H}" for H in Hs]), rows)
    rows = []
    for cell in cells:
        w, X, h_0 = comparisons.make_problem(cell, 256, 128, 128, 64)
        hs, cache = rnnlib.forward(cell, w, X, h_0)
        saved = sum(a.nbytes for a in cache.saved.values()) + hs.nbytes
        rows.append((cell, f"{hs.nbytes / 2**20:.1f}", f"{saved / 2**20:.1f}", f"{X.nbytes / 2**20:.1f}"))
    text += table("3c. Memory of the backward cache (MiB) at T=256, D=128, H=128, B=64, float64",
                  ("cell", "hidden states", "states + saved gates", "inputs X (held by reference)"), rows)
    text += inference()
    return text


def inference():
    """``rnnlib.infer`` (no cache, chunked input projection) against ``rnnlib.forward``."""
    rows = []
    for cell in rnnlib.CELLS:
        for T in (256, 1024):
            w, X, h_0 = comparisons.make_problem(cell, T, 128, 128, 64)
            fwd = lambda: rnnlib.forward(cell, w, X, h_0)
            inf = lambda: rnnlib.infer(cell, w, X, h_0)
            mem_f, mem_i = timing.peak_memory(fwd), timing.peak_memory(inf)
            t = timing.compare({"forward": fwd, "infer": inf}, repeat=5)
            rows.append((cell, T, f"{mem_f / 2**20:.1f}", f"{mem_i / 2**20:.2f}",
                         f"{t['forward'].median * 1e3:.1f}", f"{t['infer'].median * 1e3:.1f}",
                         f"{t['infer'].median / t['forward'].median:.2f}"))
    return table("3d. Inference without a cache (D=128, H=128, B=64, float64): peak memory (MiB, "
                 "tracemalloc) and time (ms)",
                 ("cell", "T", "forward peak", "infer peak", "forward ms", "infer ms", "infer / forward"), rows)


def roofline():
    """The GRU's and the LSTM's forward+backward as a fraction of the large-GEMM rate, and
    where their time goes (``rnnlib.roofline``, the measurement the cost chapter shows)."""
    T, D, H, B = 128, 256, 256, 64
    rows, parts = [], []
    for dtype in (np.float32, np.float64):
        peak = roofline_.gemm_rate(dtype)
        rates = roofline_.training_rate(("gru", "lstm"), T, D, H, B, dtype, repeat=9)
        for cell, rate in rates.items():
            frac = rate / peak
            rows.append((np.dtype(dtype).name, cell, f"{peak / 1e9:.0f}", f"{rate / 1e9:.0f}", f"{100 * frac:.0f}%",
                         "met" if frac >= 0.70 else "not met"))
            b = roofline_.breakdown(cell, T, D, H, B, dtype, repeat=7)
            parts.append((np.dtype(dtype).name, cell, f"{b['whole'] * 1e3:.1f}",
                          *[f"{b[k] * 1e3:.1f} ({100 * b[k] / b['whole']:.0f}%)" for k in roofline_.PARTS]))
    text = table(f"4a. Forward+backward against the large-GEMM rate (T={T}, D={D}, H={H}, B={B}; "
                 "GEMM: 2048 x 2048 by 2048 x 2048)",
                 ("dtype", "cell", "GEMM GFLOP/s", "cell GFLOP/s", "fraction", "target 70%"), rows)
    return text + table("4b. Where the forward+backward time goes (ms, and share of the whole)",
                        ("dtype", "cell", "whole", *roofline_.PARTS), parts)


def grid_against_torch():
    """Forward+backward of every cell against PyTorch on a grid of H and B (T=256, D=128)."""
    T, D = 256, 128
    rows, ratios = [], []
    for H in (16, 128, 512):
        for B in (1, 64):
            measured, info = comparisons.against_torch((np.float32, np.float64), T=T, D=D, H=H, B=B, repeat=7,
                                                       kinds=("forward+backward",), torch=torch)
            if info is None:
                return "### 5. Grid against PyTorch\n\nskipped: PyTorch is not installed\n"
            cells = [c for c, twin in info["twins"].items() if twin != comparisons.NO_TWIN]
            row = [H, B]
            for dtype in ("float32", "float64"):
                for cell in cells:
                    r = timing.paired_ratios(measured[(dtype, cell, "rnnlib", "forward+backward")],
                                             measured[(dtype, cell, "torch", "forward+backward")])
                    ratios.append(r)
                    entry = f"{r.median:.2f} ({r.min:.2f}-{r.max:.2f})"
                    row.append(f"**{entry}**" if r.median > 1 else entry)
            rows.append(row)
            print(row, flush=True)
    header = ["H", "B"] + [f"{cell} {dtype}" for dtype in ("float32", "float64") for cell in cells]
    text = table(f"5. Forward+backward, rnnlib time / PyTorch time: the median of the rounds' ratios, and "
                 f"their range (T={T}, D={D}; PyTorch {info['version']}, {info['threads']} threads; the MGU "
                 "against our MGU in PyTorch autograd)", header, rows)
    missed = [r for r in ratios if r.median > 1]
    return text + (f"\ntarget: every ratio <= 1 (bold: missed). Met at {len(ratios) - len(missed)} of {len(ratios)} "
                   f"points; of the {len(missed)} misses, {sum(r.min > 1 for r in missed)} are above 1 in every "
                   "round.\n")


def fast_paths():
    """The constants that choose a fast path (``rnnlib.cells.loops``, ``rnnlib.cells.gradients``),
    timed on either side of the choice."""
    rng = np.random.default_rng(0)
    rows = []
    for n, m in ((2048, 512), (512, 128)):                     # the LSTM's W_hid at H = 512 and 128
        for dtype in (np.float32, np.float64):
            W = rng.standard_normal((n, m)).astype(dtype)
            t = timing.compare({"banded": lambda: loops.transposed(W),
                                "numpy": lambda: np.ascontiguousarray(W.T)}, repeat=9)
            rows.append((f"transposed copy of a ({n}, {m}) {np.dtype(dtype).name} matrix: BAND = {loops.BAND} rows "
                         "against numpy's copy", f"{t['banded'].median * 1e3:.3f}", f"{t['numpy'].median * 1e3:.3f}",
                         f"{t['numpy'].median / t['banded'].median:.2f}"))
    for H in (256, 512):
        w, X, h_0 = comparisons.make_problem("lstm", 256, 128, H, 64)
        _, cache = rnnlib.forward("lstm", w, X, h_0)
        dA, gates, _ = cache.cell.backward_loop(np.ones_like(cache.hs), cache)

        def sums(columns):
            def run():
                old, gradients.GRADIENT_COLUMNS = gradients.GRADIENT_COLUMNS, columns
                try:
                    gradients.weight_gradients(cache, dA, gates)
                finally:
                    gradients.GRADIENT_COLUMNS = old
            return run

        choices = {c: sums(c) for c in (gradients.GRADIENT_COLUMNS, 2 * gradients.GRADIENT_COLUMNS, 256 * 64)}
        t = timing.compare(choices, repeat=7)
        base = t[gradients.GRADIENT_COLUMNS].median
        for c in list(choices)[1:]:
            what = "one block (all 256 steps)" if c == 256 * 64 else f"blocks of {c} columns"
            rows.append((f"LSTM weight gradients, H = {H}, B = 64, T = 256: GRADIENT_COLUMNS = "
                         f"{gradients.GRADIENT_COLUMNS} against {what}", f"{base * 1e3:.1f}",
                         f"{t[c].median * 1e3:.1f}", f"{t[c].median / base:.2f}"))
    for B in (loops.WIDE_BATCH // 2, 2 * loops.WIDE_BATCH):
        W_in, X = rng.standard_normal((512, 128)), rng.standard_normal((256, 128, B))
        b = np.zeros((512, 1))
        stacked = lambda: np.matmul(W_in, X) + b
        one = lambda: np.ascontiguousarray(X.transpose(0, 2, 1).reshape(-1, 128).dot(W_in.T)
                                           .reshape(256, B, -1).transpose(0, 2, 1)) + b
        t = timing.compare({"chosen": lambda: loops.project(W_in, X, b), "stacked": stacked, "one": one}, repeat=9)
        other = "stacked" if B < loops.WIDE_BATCH else "one"
        rows.append((f"input projection, (512, 128) by (256, 128, {B}): the way project takes at B = {B} "
                     f"(WIDE_BATCH = {loops.WIDE_BATCH}) against the other", f"{t['chosen'].median * 1e3:.2f}",
                     f"{t[other].median * 1e3:.2f}", f"{t[other].median / t['chosen'].median:.2f}"))
    return table("6. Fast paths: each choice against its alternative (ms; ratio > 1: the choice is faster)",
                 ("choice", "chosen (ms)", "alternative (ms)", "alternative / chosen"), rows)


BUSY_SIZES = ((256, 128, 16, 1), (256, 128, 128, 64), (128, 256, 256, 64))   # (T, D, H, B)
ONE, TWO = "1 BLAS thread", "2 BLAS threads"


def _thread_variants(T, D, H, B):
    """The GRU's forward+backward with the BLAS threads rnnlib chooses (``rnnlib.threads``), with
    one, and with two (OpenBLAS's default on two cores: what rnnlib did before it chose); a
    pause after each, so that OpenBLAS's idle threads stop spinning before the next is timed."""
    w, X, h_0 = comparisons.make_problem("gru", T, D, H, B)
    dhs = np.ones((T, H, B))

    def run(n=None):
        with mock.patch.object(threads, "threads_for", lambda work: n) if n else contextlib.nullcontext():
            rnnlib.backward(dhs, rnnlib.forward("gru", w, X, h_0)[1])

    pause = lambda: time.sleep(0.2)
    return {"rnnlib": run, "pause 0": pause, ONE: lambda: run(1), "pause 1": pause, TWO: lambda: run(2),
            "pause 2": pause}


def busy_machine():
    measured = {}
    for state in ("quiet", "busy"):
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if state == "busy" else None
        try:
            time.sleep(0.5)
            for size in BUSY_SIZES:
                measured[(state, size)] = timing.compare(_thread_variants(*size), repeat=7, min_time=0.05, budget=None)
        finally:
            if spinner:
                spinner.kill()
                spinner.wait()
    rows = []
    for size in BUSY_SIZES:
        q, b = measured[("quiet", size)], measured[("busy", size)]
        ms = lambda t, k: f"{t[k].median * 1e3:.1f}"
        ratio = b["rnnlib"].median / q["rnnlib"].median
        # "no slower": within 5%, the spread of repeated medians on this machine
        met = (b["rnnlib"].median <= 1.05 * b[ONE].median and ratio <= 1.3
               and q["rnnlib"].median <= 1.05 * min(q[ONE].median, q[TWO].median))
        rows.append(("T={}, D={}, H={}, B={}".format(*size), ms(q, "rnnlib"), ms(q, ONE), ms(q, TWO),
                     ms(b, "rnnlib"), ms(b, ONE), ms(b, TWO), f"{ratio:.2f}", "met" if met else "not met"))
    text = table("7a. A busy machine: GRU forward+backward, float64 (ms; busy: another process keeps one core "
                 "busy). Targets: busy, rnnlib no slower than one BLAS thread and at most 1.3x its quiet time; "
                 "quiet, no slower than the faster of one and two threads",
                 ("size", "quiet: rnnlib", f"quiet: {ONE}", f"quiet: {TWO}", "busy: rnnlib", f"busy: {ONE}",
                  f"busy: {TWO}", "busy / quiet, rnnlib", "targets"), rows)
    notes = [timing.busy_note(measured[("quiet", size)]) for size in BUSY_SIZES]
    if any(notes):
        text += "\nThe quiet half was not quiet: " + next(n for n in notes if n) + "\n"
        print(text.splitlines()[-1])
    rows = []
    for D, H, B in ((128, 32, 32), (128, 64, 32), (128, 32, 64), (128, 64, 64), (128, 128, 32), (128, 256, 16),
                    (65, 256, 32), (64, 512, 1), (64, 512, 8)):
        T = 64
        fns = _thread_variants(T, D, H, B)
        timed = timing.compare({k: fns[k] for k in (ONE, "pause 1", TWO, "pause 2")}, repeat=7, min_time=0.05,
                               budget=None)
        work = rnnlib.CELLS["gru"].step_work(D, H, B)
        rows.append((f"D={D}, H={H}, B={B}", f"{work:,}", "yes" if work >= threads.PAYS else "no",
                     f"{timed[ONE].median * 1e3:.2f}", f"{timed[TWO].median * 1e3:.2f}",
                     f"{timed[ONE].median / timed[TWO].median:.2f}"))
    text += table(f"7b. Where two threads pay: GRU forward+backward, T=64, float64, quiet (ms); PAYS = "
                  f"{threads.PAYS:,} multiply-adds per step",
                  ("size", "multiply-adds per step", "two threads allowed", ONE, TWO, "one / two"), rows)
    print(timing.busy_note(timed))
    return text + "\n" + timing.busy_note(timed) + "\n"


SECTIONS = (lecture_size, against_torch, scaling, roofline, grid_against_torch, fast_paths, busy_machine)


def main(argv):
    """Every section, or those whose numbers are given (``python benchmarks/bench.py 7``: the
    report then holds only those)."""
    info = timing.machine_info()
    header = "## Machine\n\n" + "\n".join(f"- {k}: {v}" for k, v in info.items()) + "\n"
    print(header)
    chosen = [SECTIONS[int(n) - 1] for n in argv] or SECTIONS
    parts = [header] + [section() for section in chosen]
    REPORT.mkdir(exist_ok=True)
    (REPORT / "report.md").write_text("# rnnlib benchmarks\n\n" + "\n".join(parts))
    (REPORT / "machine.json").write_text(json.dumps(info, indent=2))
    print(f"report written to {REPORT / 'report.md'}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
