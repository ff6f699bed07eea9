"""Moving between this course's conventions and two others.

**PyTorch's layout.** ``torch.nn.RNN``/``GRU`` take sequences as ``(T, B, D)`` (batch in the
middle, features last; rows are examples) where this course uses ``(T, D, B)`` (features in
the rows, batch in the columns). ``to_torch_layout`` / ``from_torch_layout`` swap the last two
axes.

PyTorch's weights split ``[h; x]`` the other way round: ``weight_ih`` acts on ``x`` and
``weight_hh`` on ``h``, so ``W = [weight_hh | weight_ih]`` here. ``torch.nn.RNN`` with
``nonlinearity="tanh"`` computes exactly our vanilla RNN with ``activation="tanh"``
(``rnn_to_torch``). ``torch.nn.GRU`` is a *different* GRU: it applies the reset gate after
the matrix product, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, where the lectures
(and Cho et al.) use ``tanh(W_c [r * h; x] + b_c)``, and its ``z`` plays the role of our
``1 - u``. The two agree only in special cases, so there is no exact weight mapping; compare
them on cost, not on numbers.

**Row-vector form.** One of the source notebooks writes a gate as ``x @ U + h @ W + b`` with
``x`` of shape (B, D), ``U`` (D, H), ``W`` (H, H), ``b`` (1, H). It is the same computation
transposed: ``U = W_in.T``, ``W = W_hid.T``, ``b = b.T``.
"""

import numpy as np

from ._checks import WEIGHT_NAMES, check_cell, rnn_weights

__all__ = ["to_torch_layout", "from_torch_layout", "rnn_to_torch", "rnn_from_torch",
           "to_row_form", "from_row_form"]


def to_torch_layout(X):
    """(T, D, B) -> (T, B, D). Also maps hidden states (T, H, B) -> (T, B, H)."""
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"expected a 3-D array of shape (T, D, B); got shape {X.shape}")
    return np.ascontiguousarray(X.transpose(0, 2, 1))


def from_torch_layout(X):
    """(T, B, D) -> (T, D, B)."""
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"expected a 3-D array of shape (T, B, D); got shape {X.shape}")
    return np.ascontiguousarray(X.transpose(0, 2, 1))


def rnn_to_torch(weights):
    """Vanilla RNN weights -> ``torch.nn.RNN`` (one layer, tanh) state-dict arrays.

    Parameters
    ----------
    weights : ``(W_h, b_h)`` (or the lecture's 6-tuple), W_h (H, H + D), b_h (H, 1)

    Returns
    -------
    dict with ``weight_ih_l0`` (H, D), ``weight_hh_l0`` (H, H), ``bias_ih_l0`` (H,),
    ``bias_hh_l0`` (H,) (zeros: PyTorch has two biases where we have one).
    """
    W, b = (np.asarray(a) for a in rnn_weights(weights))
    H = b.shape[0]
    return {"weight_ih_l0": W[:, H:].copy(), "weight_hh_l0": W[:, :H].copy(),
            "bias_ih_l0": b[:, 0].copy(), "bias_hh_l0": np.zeros(H, b.dtype)}


def rnn_from_torch(state):
    """``torch.nn.RNN`` state-dict arrays (as numpy) -> ``(W_h, b_h)``; the two biases add."""
    W = np.concatenate([state["weight_hh_l0"], state["weight_ih_l0"]], axis=1)
    b = (np.asarray(state["bias_ih_l0"]) + np.asarray(state["bias_hh_l0"]))[:, None]
    return W, b


def to_row_form(cell, weights):
    """Column-form weights -> row form, one ``(U, W, b)`` triple per gate.

    For each weight matrix ``M = [M_hid | M_in]`` (H, H + D) and bias ``c`` (H, 1), the gate
    ``M [h; x] + c`` equals ``(x.T @ U + h.T @ W + b).T`` with ``U = M_in.T`` (D, H),
    ``W = M_hid.T`` (H, H), ``b = c.T`` (1, H).

    Returns
    -------
    list of (U, W, b), in the order of the cell's matrices (GRU: u, r, c; MGU: f, h; RNN: h).
    """
    cell = check_cell(cell)
    if cell == "rnn":
        weights = rnn_weights(weights)
    n = len(WEIGHT_NAMES[cell]) // 2
    if len(weights) != 2 * n:
        raise ValueError(f"{cell} weights must be the {2 * n}-tuple {WEIGHT_NAMES[cell]}; got {len(weights)} items")
    H = np.asarray(weights[n]).shape[0]
    return [(np.asarray(M)[:, H:].T.copy(), np.asarray(M)[:, :H].T.copy(), np.asarray(c).T.copy())
            for M, c in zip(weights[:n], weights[n:])]


def from_row_form(cell, triples):
    """Row-form ``(U, W, b)`` triples -> the cell's column-form weight tuple."""
    cell = check_cell(cell)
    n = len(WEIGHT_NAMES[cell]) // 2
    if len(triples) != n:
        raise ValueError(f"{cell} has {n} weight matrices; got {len(triples)} (U, W, b) triples")
    mats = tuple(np.concatenate([np.asarray(W).T, np.asarray(U).T], axis=1) for U, W, _ in triples)
    return mats + tuple(np.asarray(b).T.copy() for _, _, b in triples)
