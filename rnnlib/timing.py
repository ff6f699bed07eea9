"""Timing helpers: repeat a callable, report median / min / max, compare and sweep.

Honest timing on a shared machine means: warm up first, repeat many times, report the
*median* (robust to the occasional slow run) with the spread, and compare alternatives by
*interleaving* their repeats so that a slow phase of the machine hits all of them alike.
The book's cost chapter and the benchmarks in ``benchmarks/`` use these functions.
"""

import os
import platform
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["Timing", "time_call", "compare", "sweep", "machine_info"]


@dataclass
class Timing:
    """Seconds per call: median, min, max over the repeats, and every repeat."""

    median: float
    min: float
    max: float
    times: list

    def __str__(self):
        return f"{self.median * 1e3:.3f} ms (min {self.min * 1e3:.3f}, max {self.max * 1e3:.3f}, n={len(self.times)})"


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


def _summary(times):
    return Timing(float(np.median(times)), float(min(times)), float(max(times)), list(times))


def compare(fns, repeat=15, min_time=0.01, warmup=1):
    """Time several callables with interleaved repeats.

    Parameters
    ----------
    fns : dict of str -> callable
        Callables taking no arguments.
    repeat : int
        Rounds; in each round every callable runs once (as a block of ``number`` calls).
    min_time : float
        Each block lasts at least this long (``number`` is calibrated per callable).
    warmup : int
        Untimed calls of each callable first.

    Returns
    -------
    dict of str -> Timing
        Seconds per single call.
    """
    if not fns or repeat < 1:
        raise ValueError("need at least one callable and repeat >= 1")
    numbers = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        numbers[name] = _calibrate(fn, min_time)
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            n = numbers[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            times[name].append((time.perf_counter() - t0) / n)
    return {name: _summary(ts) for name, ts in times.items()}


def time_call(fn, repeat=15, min_time=0.01, warmup=1):
    """Time one callable; see ``compare``. Returns a ``Timing`` in seconds per call."""
    return compare({"fn": fn}, repeat, min_time, warmup)["fn"]


def sweep(make, values, repeat=9, min_time=0.01):
    """Time a family of callables over a parameter.

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
    out = {}
    for v in values:
        for name, t in compare(make(v), repeat, min_time).items():
            out.setdefault(name, []).append(t)
    return out


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
