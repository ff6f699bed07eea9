import numpy as np
import pytest

import rnnlib


def test_scan_has_the_lectures_semantics():
    calls = []

    def step(inputs, weights):
        x, h = inputs
        calls.append((x, h, weights))
        return x * 10 + h, h + x

    ys, h_T = rnnlib.scan(step, [1, 2, 3], "w", 0)
    assert ys == [10, 21, 33] and h_T == 6
    assert [c[:2] for c in calls] == [(1, 0), (2, 1), (3, 3)] and all(c[2] == "w" for c in calls)
    assert rnnlib.scan(step, [], "w", 7) == ([], 7)


@pytest.mark.parametrize("cell", list(rnnlib.CELLS))
@pytest.mark.parametrize("B", [1, 40])          # both input projections (see rnnlib.cells.loops)
def test_sequence_forward_equals_scan_of_the_step(problem, cell, B):
    """Every cell's fast loop is tied to its plain step function."""
    step = rnnlib.CELLS[cell].step
    weights, X, h_0, _ = problem(cell, T=7, B=B)
    ys, state_T = rnnlib.scan(step, X, weights, h_0)
    hs, cache = rnnlib.forward(cell, weights, X, h_0)
    assert isinstance(ys, list) and len(ys) == 7
    # Same equations, products grouped differently: rounding-level differences only.
    np.testing.assert_allclose(hs, np.stack(ys), rtol=1e-12, atol=1e-14)
    parts = rnnlib.CELLS[cell].unpack_state
    for ours, theirs in zip(parts(state_T), parts(cache.final_state)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    assert np.array_equal(parts(state_T)[0], ys[-1])


def test_the_lstm_carries_a_pair_like_any_other_state(problem):
    """scan's carry may be any structure (as jax.lax.scan's carry may be any tree)."""
    weights, X, (h_0, c_0), _ = problem("lstm", T=3)
    ys, (h_T, c_T) = rnnlib.scan(rnnlib.lstm_step, X, weights, (h_0, c_0))
    h, c = h_0, c_0
    for x in X:
        y, (h, c) = rnnlib.lstm_step([x, (h, c)], weights)
    assert np.array_equal(h_T, h) and np.array_equal(c_T, c) and np.array_equal(ys[-1], h)
    assert np.abs(c_T).max() > 0 and not np.allclose(c_T, h_T)


def test_lecture_scan_and_forward_agree_for_both_cells():
    weights, X, h_0 = rnnlib.lecture_setup()
    for cell, step in (("rnn", rnnlib.rnn_step), ("gru", rnnlib.gru_step)):
        ys, _ = rnnlib.scan(step, X, weights, h_0)
        hs, _ = rnnlib.forward(cell, weights, X, h_0)
        np.testing.assert_allclose(hs, np.stack(ys), rtol=1e-12, atol=1e-13)
    hs, _ = rnnlib.forward("gru", weights, X, h_0)
    np.testing.assert_allclose(hs[1], rnnlib.gru_step([X[1], hs[0]], weights)[0], rtol=1e-13)
