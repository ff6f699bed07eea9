"""Pieces that every cell's fast loops share.

The fast loops (``forward_loop``/``backward_loop`` in each cell module) run the step's
equations over a whole sequence. They all split each weight as ``W = [W_hid | W_in]`` (the
columns acting on ``h`` and on ``x``) and hoist the input half out of the loop: ``W_in x_t + b``
for every step is computed before the loop, by ``project``; only ``W_hid h`` stays inside.
"""

import numpy as np

__all__ = ["project", "previous_states", "WIDE_BATCH"]

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


def previous_states(first, later):
    """``prev[t]`` = the state step ``t`` read: ``first`` (H, B), then ``later[:-1]``; (T, H, B)."""
    return np.concatenate([first[None], later[:-1]])
