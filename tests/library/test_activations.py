import warnings

import numpy as np
import pytest

import rnnlib


def test_sigmoid_has_no_overflow_warning_and_right_limits():
    x = np.array([-1000.0, -745.0, -30.0, 0.0, 30.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        s = rnnlib.sigmoid(x)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    # exp(-30) / (1 + exp(-30)) keeps full relative precision (no cancellation)
    assert s[2] == pytest.approx(np.exp(-30.0) / (1 + np.exp(-30.0)), rel=1e-15)


def test_sigmoid_equals_textbook_formula_where_that_does_not_overflow():
    x = np.linspace(-700, 700, 20001)
    naive = 1.0 / (1.0 + np.exp(-x))
    # Both are correctly rounded rewrites of the same function: a few ulps apart at most.
    np.testing.assert_allclose(rnnlib.sigmoid(x), naive, rtol=4e-16, atol=0)


def test_sigmoid_keeps_float32_and_converts_ints():
    assert rnnlib.sigmoid(np.zeros(3, np.float32)).dtype == np.float32
    assert rnnlib.sigmoid(np.array([0, 1])).dtype == np.float64


@pytest.mark.parametrize("f, grad", [(rnnlib.sigmoid, rnnlib.sigmoid_grad_from_output),
                                     (rnnlib.tanh, rnnlib.tanh_grad_from_output)])
def test_derivatives_from_outputs_match_central_differences(f, grad):
    a = np.linspace(-6, 6, 101)
    eps = 1e-6
    numeric = (f(a + eps) - f(a - eps)) / (2 * eps)
    # central differences: error ~ eps**2 * f''' + 1e-16 / eps, so ~1e-10 absolute here
    np.testing.assert_allclose(grad(f(a)), numeric, atol=1e-9)


def test_sigmoid_of_a_scalar():
    """A Python float or a 0-d array (it once raised TypeError: np.abs returned a scalar)."""
    for x in (40.0, np.array(-3.0), 2):
        s = rnnlib.sigmoid(x)
        assert np.shape(s) == () and float(s) == pytest.approx(1 / (1 + np.exp(-float(x))), rel=1e-15)
