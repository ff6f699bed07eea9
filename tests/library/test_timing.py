"""The timing helpers' bookkeeping, and what the comparisons time (no speed is asserted here:
that is the benchmarks' job)."""

import os

import numpy as np
import pytest

import rnnlib
from rnnlib import comparisons, roofline, timing

if os.environ.get("RNN_COURSE_STRICT") == "1":
    import torch  # in CI the comparison with PyTorch must run, not skip
else:
    try:
        import torch
    except ImportError:
        torch = None


def test_compare_interleaves_and_summarises():
    order = []
    result = timing.compare({"a": lambda: order.append("a"), "b": lambda: order.append("b")},
                            repeat=3, min_time=0.0, warmup=1)
    assert set(result) == {"a", "b"}
    for t in result.values():
        assert len(t.times) == 3 and t.min <= t.median <= t.max
    # after one warm-up and one calibration call each, the rounds alternate a, b, a, b, ...
    assert order[4:] == ["a", "b"] * 3


def test_paired_ratios_divide_round_by_round():
    """Round i of one timing against round i of the other (not median against median): rounds
    of 1, 4, 2 s against 2, 2, 4 s give ratios 0.5, 2, 0.5."""
    a = timing.Timing(2.0, 1.0, 4.0, [1.0, 4.0, 2.0])
    b = timing.Timing(2.0, 2.0, 4.0, [2.0, 2.0, 4.0])
    r = timing.paired_ratios(a, b)
    assert r.times == [0.5, 2.0, 0.5]
    assert (r.median, r.min, r.max) == (0.5, 0.5, 2.0)


def test_sweep_and_machine_info():
    out = timing.sweep(lambda n: {"f": lambda: sum(range(n))}, [10, 20], repeat=2, min_time=0.0)
    assert len(out["f"]) == 2
    info = timing.machine_info()
    assert info["numpy"] == __import__("numpy").__version__ and info["cpus"]
    assert isinstance(rnnlib.timing.time_call(lambda: None, repeat=2, min_time=0.0), timing.Timing)


def _timings(medians):
    return [timing.Timing(m, m, m, [m]) for m in medians]


def test_fit_line_recovers_a_line_and_measures_the_bend():
    Ts = [32, 64, 128, 256]
    fixed, per_step, worst = timing.fit_line(Ts, _timings([0.5 + 0.01 * T for T in Ts]))
    assert abs(fixed - 0.5) < 1e-12 and abs(per_step - 0.01) < 1e-14 and worst < 1e-12
    # quadratic growth is not a line: the worst point is far from the fit
    assert timing.fit_line(Ts, _timings([1e-4 * T * T for T in Ts]))[2] > 0.2


def test_fit_line_rejects_mismatched_input():
    with pytest.raises(ValueError, match="at least two distinct values"):
        timing.fit_line([64, 64], _timings([1.0, 1.0]))
    with pytest.raises(ValueError, match="one Timing per value"):
        timing.fit_line([1, 2, 3], _timings([1.0, 2.0]))


@pytest.mark.parametrize("cell", [c for c in rnnlib.CELLS if rnnlib.CELLS[c].lecture_step])
def test_the_timed_baseline_computes_what_rnnlib_computes(problem, cell):
    """The lectures' per-step code that the cost chapter times must be the same cell."""
    weights, X, state_0, _ = problem(cell, T=6)
    ys, _ = rnnlib.scan(rnnlib.CELLS[cell].lecture_step, X, weights, state_0)
    hs, _ = rnnlib.forward(cell, weights, X, state_0)
    np.testing.assert_allclose(np.stack(ys), hs, rtol=1e-12, atol=1e-14)   # rounding only


def test_against_torch_times_both_libraries_on_the_same_cells():
    """The measurement behind the cost chapter's and the benchmark's PyTorch tables, on every cell
    by default (tiny sizes: its own check that each exact twin, given our weights, returns our
    states runs in float64)."""
    measured, info = comparisons.against_torch((np.float64,), T=3, D=2, H=4, B=2, repeat=1,
                                               extra=lambda dtype: {"nothing": lambda: None}, torch=torch)
    whos = ("rnnlib",) if info is None else ("rnnlib", "torch")
    expected = {("float64", c, who, k) for c in rnnlib.CELLS for who in whos for k in comparisons.TORCH_KINDS}
    assert set(measured) == expected | {("float64", "extra", "nothing")}
    assert all(t.median > 0 for t in measured.values())
    if info is not None:
        assert info["twins"] == {c: rnnlib.CELLS[c].torch_twin.layer_name for c in rnnlib.CELLS}


@pytest.mark.parametrize("cell", list(rnnlib.CELLS))
def test_roofline_flops_count_every_weight_entry(cell):
    """The forward's FLOPs are one multiply and one add per matrix entry, per column of the
    batch, per step: counted here from the weights init_weights makes (biases, (H, 1), excluded)."""
    T, D, H, B = 3, 5, 4, 2
    weights = rnnlib.init_weights(cell, D, H, seed=0)
    entries = sum(w.size for w in weights if w.shape[1] > 1)
    assert roofline.forward_flops(cell, T, D, H, B) == 2 * entries * B * T


def test_roofline_breakdown_times_every_part():
    """Tiny sizes: every part runs and is timed (whether the parts are right is the cost
    chapter's reading, not a timed test's)."""
    b = roofline.breakdown("gru", T=4, D=3, H=5, B=2, repeat=1)
    assert list(b) == ["whole", *roofline.PARTS]
    assert all(b[k] > 0 for k in ("whole", "input products", "recurrent products", "per-step overhead"))
    assert roofline.gemm_rate(np.float32, n=64, repeat=1) > 0
