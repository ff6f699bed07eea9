"""Numerical gradients by central differences, and the relative error of two gradients.

Use these on *any* function to test a hand-written backward pass::

    def loss(W):                        # a scalar function of one array
        hs, _ = rnnlib.forward("gru", (W, *rest), X, h_0)
        return float((G * hs).sum())    # G fixed: dloss/dhs = G

    num = rnnlib.numerical_gradient(loss, W)
    print(rnnlib.relative_error(analytic_dW, num))   # ~1e-9 when the backward pass is right

Why central differences: ``(f(x + e) - f(x - e)) / 2e`` has truncation error of order e**2
(the one-sided quotient: order e), so with e = 1e-5 in float64 it is accurate to roughly
1e-10 relative, far below the 1e-6 that separates a right gradient from a wrong one.
"""

import numpy as np

__all__ = ["numerical_gradient", "relative_error", "check_gradients"]


def numerical_gradient(f, x, eps=1e-5):
    """Central-difference gradient of a scalar function ``f`` with respect to array ``x``.

    ``x`` is perturbed in place one element at a time and restored exactly, so ``f`` may
    close over ``x`` (as in the example above) or take it as its argument.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    x : ndarray of floats, any shape
        The point; modified during the call and restored before it returns.
    eps : float
        Step size.

    Returns
    -------
    grad : ndarray, the shape of ``x``
        ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every element ``i``.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"x must be a float ndarray (it is perturbed in place); got {type(x).__name__}"
                         + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else ""))
    if not eps > 0:
        raise ValueError(f"eps must be positive; got {eps}")
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i].copy()
        x[i] = old + eps
        f_plus = float(f(x))
        x[i] = old - eps
        f_minus = float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """Relative error between two arrays: ``||a - b|| / (||a|| + ||b||)`` (Frobenius norms).

    0 means identical; about 1e-16 is float64 rounding; below 1e-6 a backward pass is
    right; near 1 it is unrelated. The norm form is used (not the element-wise maximum)
    because an element that is almost zero in both arrays would otherwise dominate with a
    large ratio of two tiny numbers. Two all-zero arrays have error 0.

    Parameters
    ----------
    a, b : array_like, the same shape

    Returns
    -------
    float
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"the arrays have different shapes: {a.shape} and {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def check_gradients(f, params, analytic, names=None, eps=1e-5):
    """Compare analytic gradients with numerical ones for every array in ``params``.

    Parameters
    ----------
    f : callable
        ``f() -> float``, a scalar function that reads ``params`` (perturbed in place).
    params : sequence of float ndarrays
    analytic : sequence of ndarrays, the same shapes
        The gradients to check.
    names : sequence of str, optional

    Returns
    -------
    list of (name, relative_error) pairs, in the order of ``params``.
    """
    if len(params) != len(analytic):
        raise ValueError(f"{len(params)} parameters but {len(analytic)} gradients")
    names = names or [f"param{i}" for i in range(len(params))]
    return [(n, relative_error(g, numerical_gradient(lambda _: f(), p, eps)))
            for n, p, g in zip(names, params, analytic)]
