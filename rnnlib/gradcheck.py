"""Numerical gradients by central differences, and the relative error of two gradients.

Use these on *any* function to test a hand-written backward pass::

    def loss(W):                        # a scalar function of one array
        hs, _ = rnnlib.forward("gru", (W, *rest), X, h_0)
        return float((G * hs).sum())    # G fixed: dloss/dhs = G

    num = rnnlib.numerical_gradient(loss, W)
    print(rnnlib.relative_error(analytic_dW, num))   # ~1e-9 when the backward pass is right

``gradient_report`` prints the comparison as the course's notebooks show it: a row per gradient,
``ok`` or marked ``WRONG``.

Why central differences: ``(f(x + e) - f(x - e)) / 2e`` has truncation error of order e**2
(the one-sided quotient: order e), so with e = 1e-5 in float64 it is accurate to roughly
1e-10 relative, far below the 1e-6 that separates a right gradient from a wrong one.
"""

import numpy as np

__all__ = ["numerical_gradient", "relative_error", "check_gradients", "gradient_report", "AGREE", "WRONG"]

#: below this relative error a gradient agrees with central differences (a right one: about 1e-10;
#: a wrong term: 1e-3 or more)
AGREE = 1e-6
#: how ``gradient_report`` marks a gradient that does not agree, in every notebook
WRONG = "<-- WRONG: look at this gradient"


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


def _shape_problem(param, grad):
    """Why ``grad`` cannot be the gradient of ``param`` (not a float array of its shape), or None."""
    if type(grad) is not np.ndarray:  # noqa: E721 (as rnnlib.grading.check_array: subclasses refused)
        what = "None" if grad is None else f"a {type(grad).__name__}"
        return f"not an array but {what} (expected shape {param.shape})"
    if grad.shape != param.shape:
        return f"wrong shape: {grad.shape}, expected {param.shape} (the parameter's)"
    if not np.issubdtype(grad.dtype, np.floating):
        return f"wrong dtype: {grad.dtype}, expected floating point"
    return None


def gradient_report(f, params, analytic, names, eps=1e-5, indent="  "):
    """Compare analytic gradients with central differences of ``f``, as a table to print.

    One row per parameter: ``d<name>  relative error 3.1e-11  ok``, or, where the relative error
    is ``AGREE`` or more, the row ends with the mark ``WRONG`` (``<-- WRONG: look at this
    gradient``). A gradient that is not a float array of its parameter's shape, or missing, gets
    a marked row that says so instead of an error, so that one wrong answer never stops the check
    of the others.

    Parameters
    ----------
    f : callable
        ``f() -> float``, a scalar function that reads ``params`` (perturbed in place).
    params : sequence of float ndarrays
    analytic : sequence
        The gradients to check, in the order of ``params`` (as a backward pass returned them).
    names : sequence of str
        The parameters' names; a row names the gradient ``d<name>``.
    eps : float
        Step size of the central differences.
    indent : str
        Put before every row.

    Returns
    -------
    str
        The rows, one a line.
    """
    analytic = list(analytic) if isinstance(analytic, (tuple, list)) else [analytic]
    width = max(len(n) for n in names) + 1
    rows = []
    for k, (name, param) in enumerate(zip(names, params)):
        head = f"{indent}d{name:<{width}}"
        if k >= len(analytic):
            rows.append(f"{head}missing: only {len(analytic)} gradient(s) for {len(params)} parameters  {WRONG}")
            continue
        problem = _shape_problem(param, analytic[k])
        if problem is not None:
            rows.append(f"{head}{problem}  {WRONG}")
            continue
        err = relative_error(analytic[k], numerical_gradient(lambda _: f(), param, eps))
        rows.append(f"{head}relative error {err:.1e}  " + ("ok" if err < AGREE else WRONG))
    if len(analytic) > len(params):
        rows.append(f"{indent}{len(analytic) - len(params)} gradient(s) more than the {len(params)} parameters  {WRONG}")
    return "\n".join(rows)
