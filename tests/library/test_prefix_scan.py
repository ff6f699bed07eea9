"""``rnnlib.associative_scan`` against a sequential fold, as ``jax.lax.associative_scan`` defines it.

The fold is written here, one element at a time, left to right: ``out[i] = fn(out[i-1], e[i])``
(with ``reverse``: ``out[i] = fn(out[i+1], e[i])``, the later element on the left, because JAX
reverses the input, scans, and reverses the result back). Tolerance: 1e-12 relative in float64,
the issue's; the scan brackets the same products differently, which moves the last bits only
(for a sum of 2^16 numbers the error of either order is about sqrt(2^16) * 1e-16 = 3e-14 of
the sum's scale; the comparison's scale is the largest partial result).
"""

import numpy as np
import pytest

import rnnlib
from rnnlib.prefix_scan import METHODS
from rnnlib.recurrence import compose

LENGTHS = (1, 2, 3, 5, 1000, 2 ** 16)


def fold(fn, elems, reverse=False, axis=0):
    """The sequential inclusive scan, one call of ``fn`` per element, on slices that keep the axis
    (for a numpy ufunc, its ``accumulate``: the same left-to-right fold, looped in C)."""
    if isinstance(fn, np.ufunc):
        flip = (lambda x: np.flip(x, axis)) if reverse else (lambda x: x)      # noqa: E731
        return flip(fn.accumulate(flip(elems), axis=axis))
    is_tuple = isinstance(elems, tuple)
    leaves = elems if is_tuple else (elems,)
    pack = (lambda xs: tuple(xs)) if is_tuple else (lambda xs: xs[0])          # noqa: E731
    T = leaves[0].shape[axis]
    out, acc = [None] * T, None
    for i in (range(T - 1, -1, -1) if reverse else range(T)):
        e = pack([np.take(x, [i], axis=axis) for x in leaves])
        acc = e if acc is None else fn(acc, e)
        out[i] = acc if is_tuple else (acc,)
    result = tuple(np.concatenate([o[k] for o in out], axis=axis) for k in range(len(leaves)))
    return pack(result)


def assert_close(ours, ref):
    ours, ref = (ours,) if not isinstance(ours, tuple) else ours, (ref,) if not isinstance(ref, tuple) else ref
    for o, r in zip(ours, ref):
        assert o.shape == r.shape
        scale = np.abs(r).max() or 1.0
        assert np.abs(o - r).max() <= 1e-12 * scale


def matmul2(a, b):
    """2x2 matrix products, batched over the leading axis: not commutative."""
    return a @ b


OPERATORS = {
    "add": (np.add, lambda rng, T: rng.standard_normal((T, 3))),
    "multiply": (np.multiply, lambda rng, T: 1 + 1e-4 * rng.standard_normal((T, 3))),
    "maximum": (np.maximum, lambda rng, T: rng.standard_normal((T, 3))),
    "matmul": (matmul2, lambda rng, T: np.linalg.qr(rng.standard_normal((T, 2, 2)))[0]),
    "affine": (compose, lambda rng, T: (rng.uniform(0.5, 1.0, (T, 3)), rng.standard_normal((T, 3)))),
}


# every operator, length, direction and method; at T = 2^16 the operators whose fold is a Python
# loop (2^16 steps) are checked once, forwards with Blelloch's scan
CASES = [(op, T, reverse, method) for op in OPERATORS for T in LENGTHS for reverse in (False, True)
         for method in METHODS
         if T < 2 ** 16 or op not in ("matmul", "affine") or (method, reverse) == ("blelloch", False)]


@pytest.mark.parametrize("op, T, reverse, method", CASES)
def test_agrees_with_a_sequential_fold(op, T, reverse, method):
    fn, make = OPERATORS[op]
    elems = make(np.random.default_rng(T), T)
    assert_close(rnnlib.associative_scan(fn, elems, reverse=reverse, method=method),
                 fold(fn, elems, reverse=reverse))


def test_the_order_of_operands_is_kept():
    """A product of matrices that do not commute: the scan's prefixes are e_0 e_1 ... e_i, not
    any other order (a wrong order differs by O(1) here)."""
    rng = np.random.default_rng(0)
    M = rng.standard_normal((7, 2, 2))
    out = rnnlib.associative_scan(matmul2, M)
    assert np.allclose(out[2], M[0] @ M[1] @ M[2])
    assert not np.allclose(out[2], M[2] @ M[1] @ M[0])
    back = rnnlib.associative_scan(matmul2, M, reverse=True)
    assert np.allclose(back[4], M[6] @ M[5] @ M[4])      # JAX's reverse: the later element first


def test_reverse_is_jaxs_suffix_sum():
    """jax.lax.associative_scan(jnp.add, jnp.arange(4), reverse=True) is [6, 6, 5, 3] (its docstring)."""
    assert rnnlib.associative_scan(np.add, np.arange(4)).tolist() == [0, 1, 3, 6]
    assert rnnlib.associative_scan(np.add, np.arange(4), reverse=True).tolist() == [6, 6, 5, 3]


@pytest.mark.parametrize("axis", [1, -2])
def test_axis(axis):
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.5, 1, (4, 9, 3)), rng.standard_normal((4, 9, 3))
    for reverse in (False, True):
        assert_close(rnnlib.associative_scan(compose, (a, b), reverse=reverse, axis=axis),
                     fold(compose, (a, b), reverse=reverse, axis=1))


def test_a_list_comes_back_as_a_list():
    out = rnnlib.associative_scan(lambda x, y: [x[0] + y[0], x[1] * y[1]], [np.ones(3), np.full(3, 2.0)])
    assert isinstance(out, list) and out[0].tolist() == [1, 2, 3] and out[1].tolist() == [2, 4, 8]


def test_work_and_depth():
    """Blelloch's scan calls fn about 2 log2 T times on about 2 T elements in all; Hillis-Steele's
    log2 T times on about T log2 T (the docstring's claims, counted)."""
    T = 1024
    for method, calls, work in (("blelloch", 2 * 10 - 1, (2 * T - 2 - 10, 2 * T)),
                                ("hillis-steele", 10, (T * 10 - T, T * 10))):
        seen = []
        rnnlib.associative_scan(lambda a, b: seen.append(len(b)) or a + b, np.ones(T), method=method)
        assert len(seen) == calls, method
        assert work[0] <= sum(seen) <= work[1], (method, sum(seen))


@pytest.mark.parametrize("call, message", [
    (lambda: rnnlib.associative_scan(np.add, np.ones((0, 2))), r"length T >= 1 along axis 0"),
    (lambda: rnnlib.associative_scan(np.add, (np.ones(3), np.ones(4))), r"same length T >= 1"),
    (lambda: rnnlib.associative_scan(np.add, np.ones(3), axis=1), r"axis 1 is out of range"),
    (lambda: rnnlib.associative_scan(np.add, np.ones(3), method="ladner"), r"method must be"),
    (lambda: rnnlib.associative_scan("add", np.ones(3)), r"fn must be a callable"),
    (lambda: rnnlib.associative_scan(lambda a, b: a[:1], np.ones(5)), r"structure and shapes"),
    (lambda: rnnlib.associative_scan(lambda a, b: a[0], (np.ones(3),) * 2), r"structure and shapes"),
    (lambda: rnnlib.associative_scan(np.add, ()), r"non-empty tuple"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
