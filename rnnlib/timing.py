"""Timing helpers: repeat a callable, report median / min / max, compare and sweep.

Honest timing on a shared machine means: warm up first, repeat many times, report the
*median* (robust to the occasional slow run) with the spread, and compare alternatives by
*interleaving* their repeats so that a slow phase of the machine hits all of them alike. And
on a busy machine, where every call is slower: stop after a time budget, and say that the
machine was busy (``busy_note``), since such times are not a quiet machine's.
The book's cost chapter and the benchmarks in ``benchmarks/`` use these functions; what they
time (the cells against the lectures' code and against PyTorch) is ``rnnlib.comparisons``.
"""

import os
import platform
import textwrap
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from . import threads

__all__ = ["Timing", "time_call", "compare", "paired_ratios", "busy_note", "sweep", "fit_line", "machine_info",
           "peak_memory"]


@dataclass
class Timing:
    """Seconds per call: median, min, max over the repeats, and every repeat; and how many cores
    other processes left idle while it was measured (None where that could not be read)."""

    median: float
    min: float
    max: float
    times: list
    idle_cores: float = None

    def __str__(self):
        return f"{self.median * 1e3:.3f} ms median (min {self.min * 1e3:.3f}, max {self.max * 1e3:.3f}, n={len(self.times)})"


def _calibrate(fn, min_time):
    """How many calls make one repeat last at least ``min_time`` seconds."""
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - t0 >= min_time or number >= 1 << 20:
            return number
        number *= 2


def _summary(times, idle_cores=None):
    return Timing(float(np.median(times)), float(min(times)), float(max(times)), list(times), idle_cores)


def compare(fns, repeat=15, min_time=0.01, warmup=1, budget=10.0):
    """Time several callables with interleaved repeats.

    Parameters
    ----------
    fns : dict of name -> callable
        Callables taking no arguments (any hashable names).
    repeat : int
        Rounds; in each round every callable runs once (as a block of ``number`` calls).
    min_time : float
        Each block lasts at least this long (``number`` is calibrated per callable).
    warmup : int
        Untimed calls of each callable first.
    budget : float or None
        Seconds: no round starts after the rounds have taken this long, once three (or
        ``repeat``) are done, so that a busy machine, on which every call is slower, is not
        kept busy for longer still. None: always ``repeat`` rounds.

    Returns
    -------
    dict of str -> Timing
        Seconds per single call, each with the cores other processes left idle meanwhile.
    """
    if not fns or repeat < 1:
        raise ValueError("need at least one callable and repeat >= 1")
    first = threads.reading()
    numbers = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        numbers[name] = _calibrate(fn, min_time)
    times = {name: [] for name in fns}
    start = time.perf_counter()
    for done in range(repeat):
        if budget is not None and done >= 3 and time.perf_counter() - start > budget:
            break
        for name, fn in fns.items():
            n = numbers[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            times[name].append((time.perf_counter() - t0) / n)
    idle = threads.idle_between(first, threads.reading())
    return {name: _summary(ts, idle) for name, ts in times.items()}


def paired_ratios(a, b):
    """Round-by-round ratios ``a / b`` of two ``Timing`` results of one ``compare`` call (each
    round ran both, close together in time): a ``Timing`` of the ratios, whose spread shows
    how far the machine's slow and fast phases move the comparison."""
    return _summary([x / y for x, y in zip(a.times, b.times)], a.idle_cores)


#: Other processes' load (cores) from which ``busy_note`` says a measurement was not quiet.
BUSY = 0.25


def busy_note(timings, width=70):
    """What a report says of a measurement made on a busy machine: a sentence when other
    processes kept more than ``BUSY`` of a core busy while any of ``timings`` (Timings,
    or a dict of them) was measured, else "". Times and ratios measured so are not a quiet
    machine's. The sentence is wrapped to lines of at most ``width`` characters (the book's
    output column), or kept on one line if ``width`` is None."""
    timings = list(timings.values()) if isinstance(timings, dict) else list(timings)
    idle = [t.idle_cores for t in timings if t.idle_cores is not None]
    cores = threads.usable_cores()
    if not idle or min(idle) >= cores - BUSY:
        return ""
    note = (f"Measured while other processes kept about {cores - min(idle):.1f} of this machine's {cores} "
            f"cores busy: on a quiet machine these times would be shorter, and comparisons may come out "
            f"otherwise.")
    return note if width is None else textwrap.fill(note, width)


def time_call(fn, repeat=15, min_time=0.01, warmup=1, budget=10.0):
    """Time one callable; see ``compare``. Returns a ``Timing`` in seconds per call."""
    return compare({"fn": fn}, repeat, min_time, warmup, budget)["fn"]


def sweep(make, values, repeat=9, min_time=0.01):
    """Time a family of callables over a parameter.

    All the callables at all the values are interleaved in one ``compare``: a slow phase of
    the machine then hits every point of the sweep alike, instead of bending the curve at
    whichever values happened to be timed during it.

    Parameters
    ----------
    make : callable
        ``make(value) -> dict of str -> callable``: the callables to compare at that value.
    values : sequence

    Returns
    -------
    dict of str -> list of Timing
        For each callable name, one Timing per value.
    """
    fns = {}
    for i, v in enumerate(values):
        for name, fn in make(v).items():
            fns[(name, i)] = fn
    timed = compare(fns, repeat, min_time)
    out = {}
    for (name, i), t in timed.items():
        out.setdefault(name, []).append(t)
    return out


def fit_line(values, timings):
    """Fit ``time = fixed + per_unit * value`` to the medians by least squares.

    "Linear in T" means this straight line, with a fixed cost for the work done once per call
    (checks, allocations, the input projection's set-up); a slope of 1 on log-log axes is the
    special case ``fixed = 0``.

    Parameters
    ----------
    values : sequence of numbers, at least two distinct
        The swept parameter (e.g. the sequence lengths).
    timings : sequence of Timing
        One per value, as returned by ``sweep``.

    Returns
    -------
    fixed, per_unit : float
        Seconds, and seconds per unit of ``value``.
    worst : float
        The largest relative distance of a median from the line,
        ``max |median - line| / median``.
    """
    x = np.asarray(values, dtype=float)
    y = np.array([t.median for t in timings])
    if x.shape != y.shape or len(np.unique(x)) < 2:
        raise ValueError(f"need one Timing per value and at least two distinct values; got "
                         f"{len(x)} values ({len(np.unique(x))} distinct) and {len(y)} timings")
    per_unit, fixed = np.polyfit(x, y, 1)
    worst = float(np.max(np.abs(y - (fixed + per_unit * x)) / y))
    return float(fixed), float(per_unit), worst


def peak_memory(fn):
    """Peak bytes allocated while ``fn()`` runs (numpy reports its buffers to ``tracemalloc``).

    Counts memory allocated during the call beyond what was allocated before it, including
    temporaries freed before it returns; not the interpreter's own overhead.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - before
    if not was_tracing:
        tracemalloc.stop()
    return peak


def machine_info():
    """A short description of the machine and the numerical stack, for reports.

    Returns
    -------
    dict of str -> str
    """
    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": str(os.cpu_count()),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["processor"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:
        info["blas"] = "unknown"
    return info
