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


@pytest.mark.parametrize("cell, step", [("rnn", rnnlib.rnn_step), ("gru", rnnlib.gru_step), ("mgu", rnnlib.mgu_step)])
def test_sequence_forward_equals_scan_of_the_step(problem, cell, step):
    weights, X, h_0, _ = problem(cell, T=7)
    ys, h_T = rnnlib.scan(step, X, weights, h_0)
    hs, _ = rnnlib.forward(cell, weights, X, h_0)
    assert isinstance(ys, list) and len(ys) == 7
    # Same equations, products grouped differently: rounding-level differences only.
    np.testing.assert_allclose(hs, np.stack(ys), rtol=1e-12, atol=1e-14)
    assert np.array_equal(h_T, ys[-1])


def test_lecture_scan_and_forward_agree_for_both_cells():
    weights, X, h_0 = rnnlib.lecture_setup()
    for cell, step in (("rnn", rnnlib.rnn_step), ("gru", rnnlib.gru_step)):
        ys, _ = rnnlib.scan(step, X, weights, h_0)
        hs, _ = rnnlib.forward(cell, weights, X, h_0)
        np.testing.assert_allclose(hs, np.stack(ys), rtol=1e-12, atol=1e-13)
    hs, _ = rnnlib.forward("gru", weights, X, h_0)
    np.testing.assert_allclose(hs[1], rnnlib.gru_step([X[1], hs[0]], weights)[0], rtol=1e-13)
