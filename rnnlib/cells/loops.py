"""Pieces that every cell's fast loops share.

The fast loops (``forward_loop``/``backward_loop`` in each cell module) run the step's
equations over a whole sequence. They all split each weight as ``W = [W_hid | W_in]`` (the
columns acting on ``h`` and on ``x``) and hoist the input half out of the loop: ``W_in x_t + b``
for every step is computed before the loop, by ``project``; only ``W_hid h`` stays inside.
After the backward loop, ``rnnlib.bptt`` computes the inputs' gradients with
``project_back``, the same products transposed.
"""

import numpy as np

__all__ = ["project", "project_back", "transposed", "previous_states", "reversed_blocks", "sigmoid_in_place",
           "WIDE_BATCH", "BLOCK_NUMBERS", "BAND"]

# From this batch size on, one BLAS call per step beats one big product with transposing copies
# (benchmarks/bench.py, section 6, times both ways on either side of it).
WIDE_BATCH = 32


def project(W_in, X, b):
    """``W_in @ X[t] + b`` for every step ``t`` at once, before the loop: (T, G, B).

    For a narrow batch the T * B input columns, laid side by side as a (T * B, D) matrix, are
    multiplied by ``W_in.T`` in a single BLAS call, far faster than T small products. For a
    wide batch each step's product is big enough on its own, and ``np.matmul`` over the stack
    (one BLAS call per step) writes the (T, G, B) result directly, without the two
    transposing copies that the single product needs.
    """
    T, D, B = X.shape
    if B >= WIDE_BATCH:
        A = np.matmul(W_in, X)
    else:
        A = X.transpose(0, 2, 1).reshape(T * B, D).dot(W_in.T)      # (T * B, G)
        A = np.ascontiguousarray(A.reshape(T, B, -1).transpose(0, 2, 1))
    A += b
    return A


def project_back(W_in, dA):
    """``W_in.T @ dA[t]`` for every step at once: the gradients of the inputs, (T, D, B), from
    the pre-activation gradients, (T, G, B) for ``W_in`` (G, D). The transpose of ``project``,
    with its two ways: one product for a narrow batch, one BLAS call per step for a wide one."""
    T, _, B = dA.shape
    if B >= WIDE_BATCH:
        return np.matmul(W_in.T, dA)
    dX = dA.transpose(0, 2, 1).reshape(T * B, -1).dot(W_in)       # (T * B, D)
    return np.ascontiguousarray(dX.reshape(T, B, -1).transpose(0, 2, 1))


# rows per band in `transposed`: a band's BAND x n numbers stay in the cache while they are copied
BAND = 64


def transposed(*matrices):
    """``np.concatenate(matrices).T`` as a new C-contiguous array: (n, total rows) for matrices
    of n columns. The backward loops multiply by the transposed hidden halves of the weights.

    Copied ``BAND`` rows at a time: numpy's copy of a whole transposed view steps across the
    rows of one of the two arrays, a cache line per number, and at large H takes several times
    as long as the banded copy (benchmarks/bench.py, section 6, times both).
    """
    out = np.empty((matrices[0].shape[1], sum(len(M) for M in matrices)), matrices[0].dtype)
    col = 0
    for M in matrices:
        for i in range(0, len(M), BAND):
            band = M[i:i + BAND]
            out[:, col:col + len(band)] = band.T
            col += len(band)
    return out


def previous_states(first, later, start, stop):
    """The states that steps ``start`` to ``stop - 1`` read: ``first`` (H, B) for step 0, and
    ``later[t - 1]`` for step ``t``; (stop - start, H, B). A view of ``later`` when
    ``start > 0`` (no copy), else a new array."""
    if start > 0:
        return later[start - 1:stop - 1]
    return np.concatenate([first[None], later[:stop - 1]])


# The backward loops first compute, for a block of steps at once, every factor that does not
# depend on the carried gradient (one numpy call per factor for the whole block, instead of one
# per step), then walk the block's steps. The block is sized so that its factors are still in
# the core's cache when the walk reads them (computed for all T steps at once, at large H and
# B, they have left the cache by then, and the walk's element-wise calls slow down several
# times). At small sizes (B = 1, H = 16) one block holds every step.
BLOCK_NUMBERS = 1 << 14


def reversed_blocks(T, H, B):
    """The backward loops' blocks of steps, last first: ``(start, stop)`` pairs covering
    ``range(T)``, each of ``k = max(1, BLOCK_NUMBERS // (H B))`` steps (the first maybe fewer);
    and ``min(k, T)``, the size of a block's buffers."""
    k = max(1, BLOCK_NUMBERS // (H * B))
    return [(start, min(start + k, T)) for start in reversed(range(0, T, k))], min(k, T)


def sigmoid_in_place(A):
    """``A <- sigmoid(A) = 1 / (1 + exp(-A))``, in four in-place passes over ``A``: twice as
    fast as ``rnnlib.sigmoid``'s two branches on a large array (the parallel cells' gates of
    every step at once). Where ``exp(-a)`` overflows (``a < -709`` in float64) it is infinite,
    and ``1 / inf`` is exactly the limit 0, so the overflow is harmless and silenced."""
    with np.errstate(over="ignore"):
        np.negative(A, A)
        np.exp(A, A)
        A += 1
        np.reciprocal(A, A)
    return A
