"""``associative_scan``: every prefix of a sequence combined by an associative operator, in
O(log T) rounds of whole-array operations instead of a loop of T steps.

For an associative ``∘`` (``(a ∘ b) ∘ c == a ∘ (b ∘ c)``) and elements ``e_0 ... e_{T-1}``,
the inclusive scan is::

    out[0] = e_0,   out[1] = e_0 ∘ e_1,   ...,   out[T-1] = e_0 ∘ e_1 ∘ ... ∘ e_{T-1}

The operands keep their order: ``∘`` need not be commutative (a product of matrices is not).
Associativity alone lets the prefixes be bracketed in a tree, and each level of the tree is
one call of ``fn`` on many pairs at once. numpy runs each such call as one vectorised
operation, so a scan of length T costs O(log T) Python-level calls where a loop costs T.

The semantics are those of ``jax.lax.associative_scan(fn, elems, reverse=False, axis=0)``:

- ``elems`` is an array or a tuple (or list) of arrays, all of one length along ``axis``;
- ``fn(a, b)`` takes two such structures of *batched* slices (each array keeps the scan axis,
  holding several elements side by side) and returns ``a ∘ b`` element by element, in the
  same structure and shapes;
- ``reverse=True`` scans from the end: the input is reversed along ``axis``, scanned, and the
  result reversed back, with ``fn``'s arguments in the same roles. So
  ``out[i] = e_{T-1} ∘ e_{T-2} ∘ ... ∘ e_i``: the later element is the left operand (for
  ``+`` it is the suffix sum).

Two ways of bracketing (``method``), for an input of length ``T``:

- ``"blelloch"`` (the default, work-efficient): combine neighbouring pairs, scan the T/2
  pairs (recursively), then fill in the even positions from the odd ones. About ``2 T``
  applications of ``∘`` (the work), in ``2 log2 T`` rounds (the depth).
- ``"hillis-steele"``: in round ``d = 1, 2, 4, ...`` every position ``i >= d`` becomes
  ``out[i - d] ∘ out[i]``. ``log2 T`` rounds, but about ``T log2 T`` applications.

Blelloch, "Prefix sums and their applications" (1990); Hillis & Steele, "Data parallel
algorithms" (1986).
"""

import numpy as np

__all__ = ["associative_scan", "METHODS"]

METHODS = ("blelloch", "hillis-steele")


def associative_scan(fn, elems, reverse=False, axis=0, method="blelloch"):
    """The inclusive scan of ``elems`` along ``axis`` under the associative operator ``fn``.

    Parameters
    ----------
    fn : callable
        ``fn(a, b) -> a ∘ b`` on batched slices: ``a`` and ``b`` have ``elems``'s structure
        (an array, or a tuple of arrays) and shapes that differ from ``elems``'s only along
        ``axis``; the result has ``b``'s. It must be associative; it need not be commutative.
    elems : ndarray, or tuple or list of ndarray
        The elements, each array of length ``T >= 1`` along ``axis``.
    reverse : bool
        Scan from the end: ``out[i] = e_{T-1} ∘ ... ∘ e_i``, as JAX defines it.
    axis : int
        The axis that runs over the elements (negative counts from the end).
    method : {"blelloch", "hillis-steele"}
        How the prefixes are bracketed (see the module's docstring): work ``~2T`` and depth
        ``~2 log2 T``, or work ``~T log2 T`` and depth ``log2 T``. The results agree up to
        rounding.

    Returns
    -------
    ndarray, or tuple of ndarray
        ``elems``'s structure and shapes: ``out[i] = e_0 ∘ ... ∘ e_i`` along ``axis``.
    """
    if not callable(fn):
        raise ValueError(f"fn must be a callable fn(a, b) -> a ∘ b; got {type(fn).__name__}")
    if method not in METHODS:
        raise ValueError(f"method must be {' or '.join(map(repr, METHODS))}; got {method!r}")
    leaves, pack = _flatten(elems)
    ndim = leaves[0].ndim
    if not all(x.ndim == ndim and x.ndim >= 1 for x in leaves):
        raise ValueError(f"elems must be arrays of one number of dimensions (at least 1); got shapes "
                         f"{[x.shape for x in leaves]}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for elems of {ndim} dimensions")
    axis %= ndim
    T = leaves[0].shape[axis]
    if T == 0 or any(x.shape[axis] != T for x in leaves):
        raise ValueError(f"elems must all have the same length T >= 1 along axis {axis}; got shapes "
                         f"{[x.shape for x in leaves]}")

    def combine(a, b):
        out = _flatten(fn(pack(a), pack(b)), "fn's result")[0]
        if len(out) != len(b) or any(o.shape != y.shape for o, y in zip(out, b)):
            raise ValueError(f"fn must return the structure and shapes of its arguments: "
                             f"{[y.shape for y in b]}; got {[o.shape for o in out]}")
        return out

    if reverse:
        leaves = [np.flip(x, axis) for x in leaves]
    out = (_blelloch if method == "blelloch" else _hillis_steele)(combine, leaves, axis)
    if reverse:
        out = [np.flip(x, axis) for x in out]
    return pack(out)


def _flatten(elems, name="elems"):
    """``elems`` as a list of arrays, and the function that packs such a list back."""
    if isinstance(elems, (tuple, list)):
        if not elems:
            raise ValueError(f"{name} must be an array or a non-empty tuple of arrays; got an empty {type(elems).__name__}")
        kind = type(elems)
        return [np.asarray(x) for x in elems], lambda xs: kind(xs)
    return [np.asarray(elems)], lambda xs: xs[0]


def _take(leaves, axis, start, stop=None, step=None):
    """Every array's slice ``start:stop:step`` along ``axis`` (views)."""
    index = (slice(None),) * axis + (slice(start, stop, step),)
    return [x[index] for x in leaves]


def _blelloch(combine, leaves, axis):
    """The work-efficient scan: with ``e`` the elements and ``s`` their scan,
    ``p_j = e_{2j} ∘ e_{2j+1}`` (pairs); ``s_{2j+1}`` is the scan of the pairs (recursion, T/2
    elements); ``s_{2j} = s_{2j-1} ∘ e_{2j}`` for ``j >= 1``; ``s_0 = e_0``. Each level costs
    two calls of ``combine`` on about T/2 elements."""
    T = leaves[0].shape[axis]
    if T < 2:
        return leaves
    pairs = combine(_take(leaves, axis, 0, T - 1, 2), _take(leaves, axis, 1, None, 2))
    odd = _blelloch(combine, pairs, axis)                 # s_1, s_3, ...: T // 2 of them
    # s_2, s_4, ...: (T - 1) // 2 of them, each the odd scan before it with the next element
    even = (combine(_take(odd, axis, 0, (T - 1) // 2), _take(leaves, axis, 2, None, 2)) if T > 2
            else _take(leaves, axis, 2))                 # (none for T = 2)
    at = lambda s: (slice(None),) * axis + (s,)          # noqa: E731  (an index along axis)
    out = []
    for e, o, v in zip(leaves, odd, even):               # interleave s_0, s_1, s_2, ...
        result = np.empty(e.shape, np.result_type(e, o, v))
        result[at(slice(0, 1))] = e[at(slice(0, 1))]
        result[at(slice(1, None, 2))] = o
        result[at(slice(2, None, 2))] = v
        out.append(result)
    return out


def _hillis_steele(combine, leaves, axis):
    """The shallow scan: in round ``d = 1, 2, 4, ...``, ``s_i <- s_{i-d} ∘ s_i`` for every
    ``i >= d`` at once (after it, ``s_i`` combines the ``2d`` elements ending at ``i``)."""
    T = leaves[0].shape[axis]
    out = list(leaves)
    d = 1
    while d < T:
        later = combine(_take(out, axis, 0, T - d), _take(out, axis, d))
        out = [np.concatenate([first, new], axis=axis)
               for first, new in zip(_take(out, axis, 0, d), later)]
        d *= 2
    return out
