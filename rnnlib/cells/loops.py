"""Pieces that every cell's fast loops share.

The fast loops (``forward_loop``/``backward_loop`` in each cell module) run the step's
equations over a whole sequence. They all split each weight as ``W = [W_hid | W_in]`` (the
columns acting on ``h`` and on ``x``) and hoist the input half out of the loop: ``W_in x_t + b``
for every step is computed before the loop, by ``project``; only ``W_hid h`` stays inside.
"""

import numpy as np

__all__ = ["project", "previous_states", "reversed_blocks", "product_by_columns", "WIDE_BATCH",
           "BLOCK_NUMBERS"]

# From this batch size on, the stacked product beats one big product with transposing copies
# (measured with benchmarks/bench.py's sizes on two cores: about even at B = 16, 1.6x at 64).
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


def previous_states(first, later, start=0, stop=None):
    """The states that steps ``start`` to ``stop - 1`` read: ``first`` (H, B) for step 0, and
    ``later[t - 1]`` for step ``t``; (stop - start, H, B). A view of ``later`` when
    ``start > 0`` (no copy), else a new array."""
    stop = len(later) if stop is None else stop
    if start > 0:
        return later[start - 1:stop - 1]
    return np.concatenate([first[None], later[:stop - 1]])


# The backward loops first compute, for a block of steps at once, every factor that does not
# depend on the carried gradient (one numpy call per factor for the whole block, instead of one
# per step), then walk the block's steps. The block is sized so that its factors are still in
# the core's cache when the walk reads them: computed for all T steps at once, at H = 256 and
# B = 64, they had left the cache by then, and the walk's element-wise calls took six times as
# long as on cached arrays. At small sizes (B = 1, H = 16) one block holds every step.
BLOCK_NUMBERS = 1 << 14


def reversed_blocks(T, H, B):
    """The backward loops' blocks of steps, last first: ``(start, stop)`` pairs covering
    ``range(T)``, each of ``k = max(1, BLOCK_NUMBERS // (H B))`` steps (the first maybe fewer);
    and ``min(k, T)``, the size of a block's buffers."""
    k = max(1, BLOCK_NUMBERS // (H * B))
    return [(start, min(start + k, T)) for start in reversed(range(0, T, k))], min(k, T)


def product_by_columns(B):
    """How the backward loops multiply by one step's gradients ``dA[:, t]`` (G H, B), whose
    rows lie ``T B`` numbers apart: ``f(W, dA[:, t], out)``, ``np.dot`` or ``np.matmul``.

    ``np.dot`` first copies an operand whose rows are not adjacent (for B = 64, H = 128 the
    copy made the product 1.4x slower); ``np.matmul`` hands BLAS the row stride instead. But
    ``matmul`` costs about 0.7 microseconds more per call, which at a narrow batch is more than
    the copy (at B = 1 a step's gradients are one column and ``dot`` copies nothing).
    """
    return np.matmul if B >= WIDE_BATCH else np.dot
