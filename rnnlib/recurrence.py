"""The linear recurrence ``h_t = a_t * h_{t-1} + b_t`` (element by element), three ways, and its
backward pass.

A cell whose gates read only its input (minGRU, minLSTM) updates its state by exactly this
recurrence: every ``a_t`` and ``b_t`` is known before the first step, so the steps need not be
taken one after another. Three ways to compute ``h`` (``method``):

- ``"loop"``: the recurrence as written, T steps of two numpy calls each. The least arithmetic
  (2 T H B operations), but T Python-level steps.
- ``"scan"``: an associative scan (``rnnlib.associative_scan``) of the pairs ``(a_t, b_t)``
  under the composition of two affine maps ``h -> a h + b``::

      (a_1, b_1) ∘ (a_2, b_2) = (a_1 a_2, a_2 b_1 + b_2)      first 1, then 2

  which is associative (composition is) but not commutative. ``h_t`` is the ``b`` of the
  scan's ``t``-th prefix, once ``h_0`` is folded into the first step: ``b_0 <- a_0 h_0 + b_0``.
  About 3x the loop's arithmetic, in 2 log2 T rounds of whole-array operations.
- ``"auto"`` (the default): the scan for small steps over long sequences (``auto_method``),
  where the loop's time is mostly its calls' overhead, else the loop.
- ``"log"`` (Heinsen 2023), for ``a > 0`` and ``b > 0``: the closed form
  ``h_t = A_t (h_0 + sum_{s <= t} b_s / A_s)``, ``A_t = a_0 a_1 ... a_t``, in logarithms so that
  neither the products (which underflow on long sequences) nor their inverses (which overflow)
  are ever formed::

      log h_t = log A_t + logcumsumexp_{s <= t}(log b_s - log A_s)     (with log h_0 as s = -1)

  ``log A`` is a cumulative sum and ``logcumsumexp`` is ``np.logaddexp.accumulate``: both loop
  in C, so this form has no Python loop at all.

The backward pass is itself a linear recurrence, run backwards in time. With ``g_t`` the
gradient of the loss with respect to ``h_t`` (through every later step)::

    g_t = dh_t + a_{t+1} g_{t+1},    g_{T-1} = dh_{T-1}
    db_t = g_t,    da_t = g_t h_{t-1},    dh_0 = a_0 g_0

where ``dh_t`` is the loss's direct gradient of ``h_t``. The log form does not apply there
(gradients have either sign), so the backward pass takes ``"auto"``, ``"loop"`` or ``"scan"``.
"""

import numpy as np

from ._checks import as_float_array, check_finite
from .prefix_scan import associative_scan

__all__ = ["linear_recurrence", "linear_recurrence_backward", "compose", "auto_method", "METHODS", "SCAN_MAX_STEP",
           "SCAN_MIN_T"]

METHODS = ("auto", "scan", "loop", "log")

#: ``"auto"`` takes the scan for steps of at most this many numbers (H B) over at least
#: ``SCAN_MIN_T`` steps, and the loop otherwise. The loop's cost per step is a fixed call
#: overhead (about 2 µs for its two calls) plus its arithmetic; the scan's is about 3x the
#: arithmetic, in 2 log2 T rounds of a few calls each. The scan wins only where the loop's time
#: is mostly its calls' overhead and there are enough steps for its rounds to pay:
#: benchmarks/scan_bench.py measured it 1.7 to 33 times as fast at H B <= 64 from T = 256 on,
#: and slower from H B = 256 at any T, and at T = 64 from H B = 16.
SCAN_MAX_STEP = 64
SCAN_MIN_T = 128


def auto_method(a):
    """The method ``"auto"`` takes for coefficients ``a`` (T, H, B): ``"scan"`` for at most
    ``SCAN_MAX_STEP`` numbers per step over at least ``SCAN_MIN_T`` steps, else ``"loop"``."""
    return "scan" if a[0].size <= SCAN_MAX_STEP and len(a) >= SCAN_MIN_T else "loop"


def compose(first, then):
    """The affine maps ``h -> a h + b`` as pairs ``(a, b)``: ``then`` after ``first``,
    ``(a_1 a_2, a_2 b_1 + b_2)``; batched, element by element (``associative_scan``'s ``fn``)."""
    (a1, b1), (a2, b2) = first, then
    return a1 * a2, a2 * b1 + b2


def linear_recurrence(a, b, h_0=None, method="auto", reverse=False):
    """``h_t = a_t * h_{t-1} + b_t`` for every ``t``, element by element.

    Parameters
    ----------
    a, b : ndarray, shape (T, H, B)
        The coefficients of every step (any shape with time first: (T, ...)).
    h_0 : ndarray, shape (H, B), optional
        The state before the first step; zeros by default.
    method : {"auto", "scan", "loop", "log"}
        How to compute it (see the module's docstring); ``"log"`` needs ``a > 0``, ``b > 0``
        and ``h_0 >= 0``. The methods agree up to rounding.
    reverse : bool
        Run backwards in time: ``h_t = a_t * h_{t+1} + b_t``, with ``h_0`` the state after the
        last step (``h_T``).

    Returns
    -------
    h : ndarray, shape (T, H, B)
        ``h[t]`` the state after step ``t`` (not ``h_0``).
    """
    a, b, h_0 = _check(a, b, h_0, method)
    if method == "log":
        if not (a.min() > 0 and b.min() > 0 and (h_0 is None or h_0.min() >= 0)):
            raise ValueError("method='log' takes logarithms: it needs a > 0, b > 0 and h_0 >= 0; "
                             f"got a.min() = {a.min():.3g}, b.min() = {b.min():.3g}"
                             + ("" if h_0 is None else f", h_0.min() = {h_0.min():.3g}"))
    return solve(a, b, h_0, method, reverse)


def linear_recurrence_backward(dh, a, h, h_0=None, method="auto", reverse=False):
    """The gradients of ``h = linear_recurrence(a, b, h_0)``.

    Parameters
    ----------
    dh : ndarray, shape (T, H, B)
        The loss's gradient with respect to every ``h[t]`` directly (not through later steps).
    a : ndarray, shape (T, H, B)
        The forward pass's coefficients.
    h : ndarray, shape (T, H, B)
        The forward pass's result.
    h_0 : ndarray, shape (H, B), optional
        The forward pass's initial state; zeros by default.
    method : {"auto", "scan", "loop"}
        How to run the backward recurrence ``g_t = dh_t + a_{t+1} g_{t+1}``.
    reverse : bool
        As given to the forward pass.

    Returns
    -------
    da, db : ndarray, shape (T, H, B)
    dh_0 : ndarray, shape (H, B)
    """
    if method == "log":
        raise ValueError("the backward pass takes method 'auto', 'scan' or 'loop': its gradients have "
                         "either sign, and the log form needs positive terms")
    dh, a, h_0 = _check(dh, a, h_0, method, names=("dh", "a"))
    h = as_float_array(h, "h", dh.ndim, "(T, H, B)")
    if h.shape != dh.shape:
        raise ValueError(f"h has shape {h.shape}, expected {dh.shape} = (T, H, B), the shape of dh")
    return gradients(dh, a, h, h_0, method, reverse)


# ---------------------------------------------------------------------- unchecked, for the cells


def solve(a, b, h_0, method="auto", reverse=False):
    """``linear_recurrence`` on checked arrays of one dtype (the cells' parallel loops call it)."""
    if method == "auto":
        method = auto_method(a)
    if reverse:
        return _flip(solve(_flip(a), _flip(b), h_0, method))
    if method == "log":
        return _log_space(a, b, h_0)
    if method == "loop":
        return _loop(a, b, h_0)
    if h_0 is not None:                                   # fold h_0 into the first step
        b = b.copy()
        b[0] += a[0] * h_0
    return associative_scan(compose, (a, b))[1]


def gradients(dh, a, h, h_0, method="auto", reverse=False):
    """``linear_recurrence_backward`` on checked arrays: ``(da, db, dh_0)``."""
    if reverse:
        da, db, dh_0 = gradients(_flip(dh), _flip(a), _flip(h), h_0, method)
        return _flip(da), _flip(db), dh_0
    # g_t = dh_t + a_{t+1} g_{t+1}: the recurrence backwards in time with the next step's a
    # (the last step has no next; its coefficient multiplies a zero state, so any value does)
    a_next = np.empty_like(a)
    a_next[:-1] = a[1:]
    a_next[-1] = 0
    g = solve(a_next, dh, None, method, reverse=True)
    da = np.empty_like(g)
    np.multiply(g[1:], h[:-1], da[1:])                    # da_t = g_t h_{t-1}
    if h_0 is None:
        da[0] = 0
    else:
        np.multiply(g[0], h_0, da[0])
    return da, g, a[0] * g[0]


def _flip(x):
    """``x`` backwards in time (a view)."""
    return x[::-1]


def _loop(a, b, h_0):
    """The recurrence as written: two in-place numpy calls per step."""
    h = np.empty(np.broadcast_shapes(a.shape, b.shape), np.result_type(a, b))
    mul, add = np.multiply, np.add
    h[0] = b[0] if h_0 is None else a[0] * h_0 + b[0]
    for t in range(1, len(h)):
        mul(a[t], h[t - 1], h[t])
        add(h[t], b[t], h[t])
    return h


def _log_space(a, b, h_0):
    """Heinsen's form (see the module's docstring), for positive ``a``, ``b``."""
    log_A = np.cumsum(np.log(a), axis=0)
    with np.errstate(divide="ignore"):                    # log 0 = -inf for an h_0 of zeros
        terms = np.log(b) - log_A
        if h_0 is not None:
            terms = np.concatenate([np.log(h_0)[None], terms])
    log_h = np.logaddexp.accumulate(terms, axis=0)
    return np.exp(log_A + (log_h if h_0 is None else log_h[1:]))


def _check(a, b, h_0, method, names=("a", "b")):
    """The arrays as floats of one dtype, with time first and ``h_0`` shaped like one step."""
    if method not in METHODS:
        raise ValueError(f"method must be {' or '.join(map(repr, METHODS))}; got {method!r}")
    a = np.asarray(a)
    a = as_float_array(a, names[0], max(a.ndim, 1), "(T, H, B)")
    b = as_float_array(b, names[1], a.ndim, f"(T, H, B), the shape of {names[0]}")
    if a.shape != b.shape or a.shape[0] == 0:
        raise ValueError(f"{names[0]} and {names[1]} must have one shape (T, H, B) with T >= 1; "
                         f"got {a.shape} and {b.shape}")
    arrays = [a, b]
    if h_0 is not None:
        h_0 = as_float_array(h_0, "h_0", a.ndim - 1, "(H, B)")
        if h_0.shape != a.shape[1:]:
            raise ValueError(f"h_0 has shape {h_0.shape}, expected {a.shape[1:]} = (H, B), one step of {names[0]}")
        arrays.append(h_0)
    for x, name in zip(arrays, (*names, "h_0")):
        check_finite(x, name)
    dtype = np.result_type(*arrays)
    a, b = a.astype(dtype, copy=False), b.astype(dtype, copy=False)
    return a, b, None if h_0 is None else h_0.astype(dtype, copy=False)
