import numpy as np
import pytest

import rnnlib
from rnnlib import LECTURE_GRU_X1


def test_lecture_gru_step_reproduces_the_16_published_numbers():
    weights, X, h_0 = rnnlib.lecture_setup(seed=10)
    y, h = rnnlib.gru_step([X[1], h_0], weights)
    assert y.shape == (16, 1)
    assert np.allclose(y, LECTURE_GRU_X1)            # the acceptance check (default tolerance)
    # The lecture prints 9 significant digits, so we agree to half a unit in the 9th digit.
    np.testing.assert_allclose(y, LECTURE_GRU_X1, rtol=5e-9, atol=5e-17)
    assert y is h


def test_lecture_setup_matches_the_global_legacy_generator_and_leaves_it_alone():
    state = np.random.get_state()
    np.random.seed(10)
    expected = [np.random.standard_normal((16, 144)) for _ in range(3)]
    expected += [np.random.standard_normal((16, 1)) for _ in range(3)]
    expected_X = np.random.standard_normal((256, 128, 1))
    np.random.set_state(state)
    before = np.random.get_state()[1].copy()
    weights, X, h_0 = rnnlib.lecture_setup(10)
    assert np.array_equal(np.random.get_state()[1], before)  # global state untouched
    for w, e in zip(weights, expected):
        assert np.array_equal(w, e)
    assert np.array_equal(X, expected_X)
    assert np.array_equal(h_0, np.zeros((16, 1)))


def _loop_over_columns(spec, x, state, weights):
    parts = [spec.step([x[:, [b]], spec.pack_state([s[:, [b]] for s in spec.unpack_state(state)])], weights)[1]
             for b in range(x.shape[1])]
    return [np.concatenate([spec.unpack_state(p)[k] for p in parts], axis=1) for k in range(len(spec.state_names))]


@pytest.mark.parametrize("cell", list(rnnlib.CELLS))
def test_a_batch_is_its_columns_computed_one_by_one(problem, cell):
    spec = rnnlib.CELLS[cell]
    weights, X, state_0, _ = problem(cell, B=4)
    batched = spec.unpack_state(spec.step([X[0], state_0], weights)[1])
    for ours, by_column in zip(batched, _loop_over_columns(spec, X[0], state_0, weights)):
        np.testing.assert_allclose(ours, by_column, rtol=1e-14, atol=1e-15)


def test_gru_step_against_the_equations_written_elementwise():
    """Scalar loops, no matrix products: an independent reading of the GRU equations."""
    rng = np.random.default_rng(3)
    H, D = 2, 3
    W_u, W_r, W_c = (rng.standard_normal((H, H + D)) for _ in range(3))
    b_u, b_r, b_c = (rng.standard_normal((H, 1)) for _ in range(3))
    x, h = rng.standard_normal((D, 1)), rng.standard_normal((H, 1))
    sig = lambda a: 1 / (1 + np.exp(-a))
    hx = list(h[:, 0]) + list(x[:, 0])
    dot = lambda W, i, v: sum(W[i, j] * v[j] for j in range(H + D))
    u = [sig(dot(W_u, i, hx) + b_u[i, 0]) for i in range(H)]
    r = [sig(dot(W_r, i, hx) + b_r[i, 0]) for i in range(H)]
    rhx = [r[i] * h[i, 0] for i in range(H)] + list(x[:, 0])
    c = [np.tanh(dot(W_c, i, rhx) + b_c[i, 0]) for i in range(H)]
    expected = np.array([[u[i] * c[i] + (1 - u[i]) * h[i, 0]] for i in range(H)])
    y, _ = rnnlib.gru_step([x, h], (W_u, W_r, W_c, b_u, b_r, b_c))
    np.testing.assert_allclose(y, expected, rtol=1e-14)


def test_mgu_step_against_its_equations():
    rng = np.random.default_rng(4)
    H, D, B = 3, 2, 2
    W_f, W_h = rng.standard_normal((H, H + D)), rng.standard_normal((H, H + D))
    b_f, b_h = rng.standard_normal((H, 1)), rng.standard_normal((H, 1))
    x, h = rng.standard_normal((D, B)), rng.standard_normal((H, B))
    f = 1 / (1 + np.exp(-(W_f[:, :H] @ h + W_f[:, H:] @ x + b_f)))
    c = np.tanh(W_h[:, :H] @ (f * h) + W_h[:, H:] @ x + b_h)
    y, _ = rnnlib.mgu_step([x, h], (W_f, W_h, b_f, b_h))
    np.testing.assert_allclose(y, (1 - f) * h + f * c, rtol=1e-14)


def test_rnn_step_uses_first_weight_and_bias_of_the_lecture_tuple_and_selects_tanh():
    weights, X, h_0 = rnnlib.lecture_setup()
    w1, b1 = weights[0], weights[3]
    y6, _ = rnnlib.rnn_step([X[0], h_0], weights)
    y2, _ = rnnlib.rnn_step([X[0], h_0], (w1, b1))
    assert np.array_equal(y6, y2)
    a = w1 @ np.concatenate([h_0, X[0]]) + b1
    np.testing.assert_allclose(y2, 1 / (1 + np.exp(-a)), rtol=1e-15)
    yt, _ = rnnlib.rnn_step([X[0], h_0], (w1, b1), activation="tanh")
    np.testing.assert_allclose(yt, np.tanh(a), rtol=1e-15)
