"""rnnlib.threads: BLAS threads only where they pay, and never against a busy core."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from threadpoolctl import ThreadpoolController, threadpool_limits

import rnnlib
from rnnlib import comparisons, threads, timing

BLAS = ThreadpoolController().select(user_api="blas")
TWO_CORES = pytest.mark.skipif(threads.usable_cores() < 2 or min(l.num_threads for l in BLAS.lib_controllers) < 2,
                               reason="needs two cores and a BLAS allowed two threads")


def blas_threads():
    return min(lib.num_threads for lib in BLAS.lib_controllers)


@pytest.fixture
def spinner():
    """Another process keeping one core busy, as a reader's other work does."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.3)
    yield proc
    proc.kill()
    proc.wait()


def test_small_products_get_one_thread(monkeypatch):
    monkeypatch.setattr(threads, "idle_cores", lambda: float(threads.usable_cores()))    # a quiet machine
    assert threads.threads_for(threads.PAYS - 1) == 1
    assert threads.threads_for(0) == 1


def test_never_more_than_the_users_limit():
    with threadpool_limits(1, user_api="blas"):
        assert threads.threads_for(10 ** 9) == 1
        with threads.limited(10 ** 9) as n:
            assert n == 1 and blas_threads() == 1


def test_limited_sets_the_threads_and_gives_the_users_back():
    before = blas_threads()
    with threads.limited(threads.PAYS - 1) as n:
        assert n == 1 and blas_threads() == 1
    assert blas_threads() == before


def test_idle_between_takes_this_process_out():
    """Between two readings 2 s apart all processes used 3 CPU seconds, this one 1: the others
    used 1 core on average, and the rest of the machine's were idle."""
    idle = threads.idle_between((10.0, 100.0, 5.0), (12.0, 103.0, 6.0))
    assert idle == pytest.approx(min(threads.usable_cores(), os.cpu_count() - 1.0))
    assert threads.idle_between((10.0, 100.0, 5.0), (10.01, 100.0, 5.0)) is None   # too short to tell
    assert threads.idle_between(None, (12.0, 103.0, 6.0)) is None


@TWO_CORES
@pytest.mark.skipif(threads.reading() is None, reason="no /proc/stat here")
def test_a_busy_core_is_seen_and_the_large_products_get_one_thread(spinner):
    threads.idle_cores()
    time.sleep(0.3)
    assert threads.idle_cores() <= threads.usable_cores() - 0.6
    assert threads.threads_for(10 ** 9) == 1
    with threads.limited(10 ** 9) as n:
        assert n == 1 and blas_threads() == 1


@TWO_CORES
def test_the_numbers_agree_whatever_the_threads(monkeypatch):
    """Two threads split a product's rows or columns, which can change its last bits at odd
    sizes (D = 65): the results agree to 1e-12 of the largest entry."""
    for cell in rnnlib.CELLS:
        w, X, h_0 = comparisons.make_problem(cell, 8, 65, 128, 32)
        out = []
        for n in (1, 2):
            monkeypatch.setattr(threads, "threads_for", lambda work, n=n: n)
            hs, cache = rnnlib.forward(cell, w, X, h_0)
            dweights, dX, _ = rnnlib.backward(np.cos(hs), cache)
            y, readout = rnnlib.readout_forward(hs, np.ones((70, 128)), np.ones((70, 1)))
            out.append((hs, dX, *dweights, y, *rnnlib.readout_backward(np.sin(y), readout)))
        for a, b in zip(*out, strict=True):
            assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(a)), cell


def test_timing_stops_at_its_budget():
    """Calls of 20 ms, 100 rounds asked, 0.2 s allowed: three rounds (the least) to a few more,
    not a hundred; without a budget, every round."""
    t = timing.time_call(lambda: time.sleep(0.02), repeat=100, min_time=0, warmup=0, budget=0.2)
    assert 3 <= len(t.times) <= 12
    assert len(timing.time_call(lambda: None, repeat=40, min_time=0, warmup=0, budget=None).times) == 40
    assert len(timing.time_call(lambda: None, repeat=2, budget=0.0).times) == 2


def test_a_busy_measurement_says_so():
    cores = threads.usable_cores()
    quiet = timing.Timing(1.0, 1.0, 1.0, [1.0], idle_cores=float(cores))
    busy = timing.Timing(1.0, 1.0, 1.0, [1.0], idle_cores=cores - 1.0)
    assert timing.busy_note({"a": quiet}) == ""
    assert timing.busy_note([quiet, timing.Timing(1.0, 1.0, 1.0, [1.0])]) == ""
    note = timing.busy_note({"a": quiet, "b": busy}, width=None)
    assert f"about 1.0 of this machine's {cores} cores busy" in note and "\n" not in note
    wrapped = timing.busy_note({"a": quiet, "b": busy})               # as the book prints it
    assert max(map(len, wrapped.split("\n"))) <= 70 and " ".join(wrapped.split()) == note


@TWO_CORES
@pytest.mark.skipif(threads.reading() is None, reason="no /proc/stat here")
def test_compare_records_the_idle_cores(spinner):
    t = timing.time_call(lambda: time.sleep(0.01), repeat=5, min_time=0)
    assert t.idle_cores <= threads.usable_cores() - 0.6
    assert "busy" in timing.busy_note([t])
