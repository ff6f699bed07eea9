import numpy as np
import pytest

import rnnlib
from rnnlib.optim import global_norm


def test_adding_problem_structure_and_baseline():
    rng = np.random.default_rng(0)
    X, y = rnnlib.adding_problem(20, 5000, rng)
    assert X.shape == (20, 2, 5000) and y.shape == (1, 5000)
    markers = X[:, 1]
    assert np.array_equal(markers.sum(axis=0), np.full(5000, 2.0))
    assert (markers[:10].sum(axis=0) == 1).all()            # one marker in each half
    np.testing.assert_allclose(y[0], (X[:, 0] * markers).sum(axis=0), rtol=1e-15)
    # MSE of always answering 1 estimates Var(U1 + U2) = 1/6; standard error ~ 0.003 here
    assert np.mean((y - 1.0) ** 2) == pytest.approx(rnnlib.ADDING_BASELINE_MSE, abs=0.01)


def test_noisy_sine_targets_are_the_next_clean_values():
    X, Y = rnnlib.noisy_sine(50, 3, np.random.default_rng(0), noise=0.0)
    assert X.shape == Y.shape == (50, 1, 3)
    np.testing.assert_array_equal(X[1:], Y[:-1])


def test_adam_first_step_moves_each_parameter_by_lr():
    p = [np.array([1.0, -2.0, 3.0])]
    rnnlib.Adam(lr=0.1).step(p, [np.array([0.5, -4.0, 1e-3])])
    # bias-corrected m/sqrt(v) = g/|g| on the first step (up to eps)
    np.testing.assert_allclose(p[0], [0.9, -1.9, 2.9], rtol=1e-6)


def test_sgd_with_momentum():
    p = [np.array([1.0])]
    opt = rnnlib.SGD(lr=0.1, momentum=0.5)
    opt.step(p, [np.array([1.0])])
    opt.step(p, [np.array([1.0])])
    assert p[0][0] == pytest.approx(1.0 - 0.1 - (0.05 + 0.1))


def test_clip_by_global_norm():
    g = [np.array([3.0]), np.array([[4.0]])]
    clipped, norm = rnnlib.clip_by_global_norm(g, 1.0)
    assert norm == 5.0 and global_norm(clipped) == pytest.approx(1.0)
    np.testing.assert_allclose(clipped[0] / clipped[1][0], g[0] / g[1][0])  # direction kept
    same, _ = rnnlib.clip_by_global_norm(g, 10.0)
    assert same[0] is g[0]


def test_loss_and_grads_match_numerical_gradients():
    rng = np.random.default_rng(0)
    params = rnnlib.init_model("gru", 2, 4, 1, seed=3)
    X, y = rnnlib.adding_problem(5, 3, rng)
    _, grads = rnnlib.loss_and_grads("gru", params, X, y)
    f = lambda: rnnlib.loss_and_grads("gru", params, X, y)[0]
    for name, err in rnnlib.check_gradients(f, params, grads):
        assert err < 1e-6, name


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["gru", "mgu"])
def test_gated_cells_learn_the_adding_problem_at_T30(cell):
    """Acceptance: well below the 0.167 of always predicting 1 (400 steps: the training chapter
    shows the same with every cell)."""
    kw = dict(task="adding", T=30, hidden_size=32, steps=400, batch_size=32, lr=1e-2, seed=0, progress=False)
    a = rnnlib.train(cell, **kw)
    assert a.history["eval_loss"][-1] < 0.02            # measured ~0.002-0.004; baseline 1/6
    assert a.history["eval_loss"][0] > 0.05             # it did have to learn


@pytest.mark.parametrize("cell", list(rnnlib.CELLS))
def test_the_same_seed_gives_the_same_run_bit_for_bit(cell):
    kw = dict(task="adding", T=12, hidden_size=8, steps=30, batch_size=8, eval_every=10, seed=0, progress=False)
    a, b = rnnlib.train(cell, **kw), rnnlib.train(cell, **kw)
    assert a.history == b.history and len(a.history["eval_loss"]) == 3
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))


def test_different_seeds_give_different_runs():
    kw = dict(T=10, steps=5, progress=False)
    assert rnnlib.train("gru", seed=0, **kw).history["loss"] != rnnlib.train("gru", seed=1, **kw).history["loss"]


def test_init_weights_shapes_and_orthogonal_recurrent_part():
    w = rnnlib.init_weights("gru", D=3, H=5, seed=0)
    assert [a.shape for a in w] == [(5, 8)] * 3 + [(5, 1)] * 3
    W_hid = w[0][:, :5]
    np.testing.assert_allclose(W_hid @ W_hid.T, np.eye(5), atol=1e-12)
    assert np.array_equal(rnnlib.init_weights("gru", 3, 5, seed=0)[1], w[1])


def test_a_diverging_run_stops_and_records_the_step_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no overflow RuntimeWarnings escape
        run = rnnlib.train("gru", T=50, steps=300, optimizer="sgd", lr=1.0, clip=None, seed=0, progress=False)
        safe = rnnlib.train("gru", T=50, steps=120, optimizer="sgd", lr=1.0, clip=1.0, seed=0, progress=False)
    assert 1 <= run.history["diverged_at"] < 300
    assert len(run.history["loss"]) == run.history["diverged_at"] - 1
    assert "diverged_at" not in safe.history and np.isfinite(safe.history["loss"]).all()


def test_the_lstm_starts_with_its_forget_gate_open_and_everything_else_as_the_others():
    spec = rnnlib.CELLS["lstm"]
    w = rnnlib.init_weights("lstm", D=3, H=5, seed=0)
    biases = dict(zip(spec.weight_names[4:], w[4:]))
    assert np.array_equal(biases["b_f"], np.ones((5, 1)))
    assert not any(biases[n].any() for n in ("b_i", "b_o", "b_c"))
    assert not rnnlib.init_weights("mgu", D=3, H=5, seed=0)[2].any()   # the MGU's b_f stays 0
    assert [a.shape for a in w] == [(5, 8)] * 4 + [(5, 1)] * 4
    assert spec.parameter_count(3, 5) == 4 * rnnlib.CELLS["rnn"].parameter_count(3, 5) == sum(a.size for a in w)
