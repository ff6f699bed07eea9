import numpy as np
import pytest

import rnnlib


def test_numerical_gradient_of_a_known_function_and_x_is_restored():
    x = np.array([[0.5, -1.0], [2.0, 3.0]])
    x0 = x.copy()
    g = rnnlib.numerical_gradient(lambda v: float(np.sum(v ** 3)), x)
    # central difference of a cubic is exact up to eps**2 = 1e-10 and rounding ~1e-10
    np.testing.assert_allclose(g, 3 * x0 ** 2, atol=1e-8)
    assert np.array_equal(x, x0)


def test_relative_error_properties():
    a = np.array([1.0, 2.0, 3.0])
    assert rnnlib.relative_error(a, a) == 0.0
    assert rnnlib.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rnnlib.relative_error(a, -a) == 1.0
    assert rnnlib.relative_error(a, a * (1 + 1e-8)) == pytest.approx(0.5e-8, rel=1e-6)


def test_mse_value_and_gradient():
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    loss, grad = rnnlib.mse(pred, target)
    assert loss == pytest.approx(np.mean((pred - target) ** 2))
    num = rnnlib.numerical_gradient(lambda p: rnnlib.mse(p, target)[0], pred.copy())
    assert rnnlib.relative_error(grad, num) < 1e-8


@pytest.mark.parametrize("shape, label_shape", [((4, 3), (3,)), ((2, 4, 3), (2, 3))])
def test_softmax_cross_entropy_value_and_gradient(shape, label_shape):
    rng = np.random.default_rng(1)
    logits = 3 * rng.standard_normal(shape)
    labels = rng.integers(0, shape[-2], size=label_shape)
    loss, grad = rnnlib.softmax_cross_entropy(logits, labels)
    # direct formula, example by example
    flat_logits = logits.reshape(-1, *shape[-2:]) if logits.ndim == 3 else logits[None]
    flat_labels = labels.reshape(-1, label_shape[-1]) if labels.ndim == 2 else labels[None]
    losses = [-(l[y, b] - np.log(np.exp(l[:, b]).sum())) for l, ys in zip(flat_logits, flat_labels)
              for b, y in enumerate(ys)]
    assert loss == pytest.approx(np.mean(losses), rel=1e-12)
    num = rnnlib.numerical_gradient(lambda z: rnnlib.softmax_cross_entropy(z, labels)[0], logits.copy())
    assert rnnlib.relative_error(grad, num) < 1e-8


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    loss, grad = rnnlib.softmax_cross_entropy(np.array([[1000.0], [0.0]]), np.array([1]))
    assert loss == pytest.approx(1000.0) and np.isfinite(grad).all()


@pytest.mark.parametrize("h_shape", [(3, 2), (4, 3, 2)])
def test_readout_gradients(h_shape):
    rng = np.random.default_rng(2)
    h = rng.standard_normal(h_shape)
    W_y, b_y = rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    y, cache = rnnlib.readout_forward(h, W_y, b_y)
    G = rng.standard_normal(y.shape)
    dh, dW, db = rnnlib.readout_backward(G, cache)
    f = lambda: float(np.sum(G * rnnlib.readout_forward(h, W_y, b_y)[0]))
    for name, err in rnnlib.check_gradients(f, [h, W_y, b_y], [dh, dW, db], ["h", "W_y", "b_y"]):
        assert err < 1e-8, name


def test_the_gradient_report_marks_a_wrong_gradient_and_names_a_misshapen_one_without_raising():
    """The notebooks' gradient checks print this table: one mark for a gradient that disagrees,
    and a gradient of the wrong shape, not an array, or missing, named in its row (a bias gradient
    of shape (H,) once crashed a check that added it to an (H, 1) array)."""
    from rnnlib.gradcheck import WRONG, gradient_report

    rng = np.random.default_rng(3)
    W, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 1))
    f = lambda: float(np.sum(W ** 2) + np.sum(np.sin(b)))
    right = [2 * W, np.cos(b)]
    rows = gradient_report(f, [W, b], right, ["W", "b"]).splitlines()
    assert len(rows) == 2 and all(r.endswith("  ok") for r in rows) and rows[0].lstrip().startswith("dW ")
    rows = gradient_report(f, [W, b], [3 * W, np.cos(b)], ["W", "b"]).splitlines()
    assert rows[0].endswith(WRONG) and rows[1].endswith("ok")
    rows = gradient_report(f, [W, b], [2 * W, np.cos(b).ravel()], ["W", "b"]).splitlines()
    assert "wrong shape: (3,), expected (3, 1)" in rows[1] and rows[1].endswith(WRONG) and rows[0].endswith("ok")
    rows = gradient_report(f, [W, b], [2 * W, None], ["W", "b"]).splitlines()
    assert "not an array but None" in rows[1] and rows[1].endswith(WRONG)
    rows = gradient_report(f, [W, b], [2 * W], ["W", "b"]).splitlines()
    assert "missing" in rows[1] and rows[1].endswith(WRONG)
    rows = gradient_report(f, [W, b], [*right, b], ["W", "b"]).splitlines()
    assert len(rows) == 3 and "more than the 2 parameters" in rows[2] and rows[2].endswith(WRONG)
    rows = gradient_report(f, [W, b], [2 * W, np.full_like(b, np.nan)], ["W", "b"]).splitlines()
    assert rows[1].endswith(WRONG)
