"""The weight and input gradients of a sequence, from the gradients of its pre-activations.

Every cell's backward loop records ``dA``, the gradient of each step's pre-activations; what is
left is a sum over the steps for every weight. This is the default ``Cell.gradients``: it
reads the layout (``rnnlib.cells.layout``) and fits every cell whose weights are ``k``
matrices, ``Matrix`` (H, H + D) or ``InputMatrix`` (H, D), then their ``k`` biases. A cell with
other weights gives its ``Cell`` a ``gradients`` of its own.

For matrix ``k`` with bias ``b_k``, and ``a_t = W_k u_t + b_k``, where ``u_t`` is what it
reads (``[v_t; x_t]`` for a ``Matrix``, ``v_t`` being ``h_{t-1}`` or ``g_t * h_{t-1}`` for a
saved gate ``g``; ``x_t`` for an ``InputMatrix``)::

    dW_k = sum_t da_t u_t^T,    db_k = sum_t da_t 1,    dx_t = sum_k W_k,in^T da_t

(``W_k,in`` the columns acting on ``x``).
"""

import numpy as np

from .layout import Bias, InputMatrix, Matrix
from .loops import previous_states, project_back

__all__ = ["weight_gradients", "input_weights", "GRADIENT_COLUMNS"]

# The sums are taken a block of steps at a time: each block's da_t and u_t are laid side by
# side in buffers of the block's size, reused from block to block, so the buffers do not grow
# with the sequence. Blocks of about this many columns (steps x batch) keep both in the cache
# through the product; much larger blocks, and one block for the whole sequence, were slower
# (benchmarks/bench.py, section 6, times the choice).
GRADIENT_COLUMNS = 4096


def _matrices(layout):
    """The layout's matrices, checked to be ``k`` matrices followed by their ``k`` biases."""
    k = sum(isinstance(w, (Matrix, InputMatrix)) for w in layout)
    if k == 0 or len(layout) != 2 * k or not all(isinstance(w, Bias) for w in layout[k:]):
        names = ", ".join(w.name for w in layout)
        raise ValueError(f"the default weight gradients need k matrices then their k biases; got ({names}): "
                         "give the Cell a gradients function of its own")
    return layout[:k]


def input_weights(layout, weights, H):
    """The columns of every matrix that act on ``x``, stacked: (G H, D)."""
    return np.concatenate([W[:, H:] if isinstance(w, Matrix) else W
                           for w, W in zip(_matrices(layout), weights)])


def weight_gradients(cache, dA, hidden_gates):
    """Gradients of the weights and of the inputs.

    Parameters
    ----------
    cache : rnnlib.Cache
        From ``rnnlib.forward``: the cell, its weights, ``X`` (T, D, B), ``h_0`` (H, B) and
        ``hs`` (T, H, B).
    dA : ndarray, shape (T, G H, B)
        The pre-activations' gradients, matrix by matrix in the weights' order, each step's
        block in one piece (as the cells' backward loops write it).
    hidden_gates : list
        For each matrix, what scales ``h_{t-1}`` on its hidden side: None, or a saved
        (T, H, B) gate (see ``Cell.backward_loop``); ignored for an ``InputMatrix``.

    Returns
    -------
    dweights : tuple, the weights' shapes and order
    dX : ndarray, shape (T, D, B)

    For a block of ``n`` steps the ``da_t`` are laid side by side as a (G H, n B) matrix
    (copied, or at B = 1 a view of ``dA``), and so are the ``u_t``: the block's share of each
    sum is then one matrix product for each group of matrices that read the same vector (the
    LSTM's four, the GRU's u and r).
    """
    layout, weights, h_0, hs, X = cache.cell.layout, cache.weights, cache.h_0, cache.hs, cache.X
    matrices = _matrices(layout)
    G, H = len(matrices), h_0.shape[0]
    T, D, B = X.shape
    reads_h = cache.cell.reads_state
    top = H if reads_h else 0                           # U's rows: [v; x], or x alone
    groups, k = [], 0                                   # (first matrix, end matrix, reads v, gate)
    while k < G:
        reads_v = isinstance(matrices[k], Matrix)
        gate = hidden_gates[k] if reads_v else None
        j = k + 1
        while j < G and isinstance(matrices[j], Matrix) == reads_v and (
                not reads_v or hidden_gates[j] is gate):
            j += 1
        groups.append((k, j, reads_v, gate))
        k = j
    steps = max(1, min(T, GRADIENT_COLUMNS // B))
    # per group: the first block's products, then the sums; and a later block's products
    sums = [np.empty((H * (j - k), (H + D) if v else D), dA.dtype) for k, j, v, _ in groups]
    parts = [np.empty_like(s) for s in sums] if steps < T else None
    # db is summed in float64: at B = 1 each row's sum runs along a strided axis, where numpy
    # adds one number at a time instead of pairwise
    db = np.zeros((G * H, 1))
    dA_block = np.empty((G * H, steps, B), dA.dtype) if B > 1 else None
    U = np.empty((top + D, steps, B), dA.dtype)         # u_t of a block's steps, side by side
    for t0 in range(0, T, steps):
        t1 = min(t0 + steps, T)
        n = t1 - t0
        if B == 1:
            # dA[t0:t1, :, 0] is an (n, G H) matrix stored row by row: its transpose is already
            # the da_t side by side, a matrix BLAS reads as it is
            q = dA[t0:t1, :, 0].T
        else:
            # the steps' (G H, B) blocks side by side, in the buffer (for a short last block, a
            # view whose rows are `steps` B apart: np.matmul hands BLAS that stride)
            q = dA_block[:, :n]
            q[:] = dA[t0:t1].transpose(1, 0, 2)
            q = q.reshape(G * H, n * B)
        db += q.sum(axis=1, keepdims=True, dtype=np.float64)
        u = U[:, :n]
        u[top:] = X[t0:t1].transpose(1, 0, 2)
        if reads_h:
            v = u[:H].transpose(1, 0, 2)                 # (n, H, B): v_t of the block's steps
            h_prev = previous_states(h_0, hs, t0, t1)    # h_{t-1}
        for (k, j, reads_v, gate), total, part in zip(groups, sums, parts or sums):
            if reads_v:
                v[:] = h_prev
                if gate is not None:
                    v *= gate[t0:t1]
            rows = u if reads_v else u[top:]
            out = total if t0 == 0 else part
            np.matmul(q[k * H:j * H], rows.reshape(len(rows), n * B).T, out=out)
            if t0 > 0:
                total += out
    dX = project_back(input_weights(layout, weights, H), dA)
    db = db.astype(dA.dtype)
    # each matrix's rows, as views (slicing: np.split costs microseconds, which count at small sizes)
    dW = tuple(total[i:i + H] for total in sums for i in range(0, len(total), H))
    return dW + tuple(db[i:i + H] for i in range(0, G * H, H)), dX
