"""The vanilla RNN: ``h' = g(W_h [h; x] + b_h)``, ``g`` the sigmoid (the lectures') or tanh."""

import numpy as np

from .._checks import check_activation
from ..activations import sigmoid
from .cell import Cell
from .loops import project, transposed

__all__ = ["rnn_step", "CELL"]


def rnn_step(inputs, weights, activation="sigmoid"):
    """One step of the vanilla RNN: ``h' = g(W_h [h; x] + b_h)``.

    Parameters
    ----------
    inputs : [x, h]
        ``x`` of shape (D, B), ``h`` of shape (H, B).
    weights : tuple
        ``(W_h, b_h)`` with shapes (H, H + D) and (H, 1), or the lecture's 6-tuple
        ``(w1, w2, w3, b1, b2, b3)`` of which it uses ``w1`` and ``b1`` as the lecture does.
    activation : {"sigmoid", "tanh"}
        ``g``; the lectures use the sigmoid.

    Returns
    -------
    y, h_next : ndarray, shape (H, B)
        The new hidden state, twice.
    """
    x, (h,), (W_h, b_h) = CELL.check_step(inputs, weights)
    g = sigmoid if check_activation(activation) == "sigmoid" else np.tanh
    h_next = g(W_h @ np.concatenate([h, x]) + b_h)
    return h_next, h_next


def forward_loop(weights, X, state_0, activation):
    """``rnn_step`` over the sequence: ``hs`` (T, H, B); nothing saved (``hs`` are the activations)."""
    W, b = weights
    (h_0,) = state_0
    H = h_0.shape[0]
    W_hid, W_in = W[:, :H], W[:, H:]
    hs = project(W_in, X, b)                  # starts as the input part of every pre-activation
    if activation == "tanh":
        h = h_0
        for a in hs:                          # becomes h_t in place: a += W_hid h; a = tanh(a)
            a += W_hid.dot(h)
            h = np.tanh(a, out=a)
        return hs, {}
    # sigmoid(a) = (1 + tanh(a / 2)) / 2, so in the variable v = 2 h - 1 = tanh(a / 2) the step
    # is v_t = tanh(W_hid v_{t-1} / 4 + W_hid 1 / 4 + (W_in x_t + b) / 2): one product, one
    # addition and one tanh per step; h = (1 + v) / 2 afterwards for all steps at once.
    W_v = W_hid * 0.25
    hs *= 0.5
    hs += 0.25 * W_hid.sum(axis=1, keepdims=True)
    v = 2.0 * h_0 - 1.0
    tanh, add = np.tanh, np.add
    for a in hs:                              # step t's buffer (a view), in order
        add(a, W_v.dot(v), a)
        v = tanh(a, a)
    hs += 1.0
    hs *= 0.5
    return hs, {}


def backward_loop(dhs, cache):
    """Pre-activation gradients ``dA`` (T, H, B), the gate on what ``W_h`` read (none: it
    reads ``h_{t-1}``), and ``dh_0``."""
    W, _ = cache.weights
    (h_0,) = cache.state_0
    H = h_0.shape[0]
    W_hid = W[:, :H]
    hs = cache.hs
    g_prime = hs * (1.0 - hs) if cache.activation == "sigmoid" else 1.0 - hs * hs
    T, _, B = hs.shape
    dA = np.empty((T, H, B), hs.dtype)
    W_hid_T = transposed(W_hid)
    dh = np.zeros_like(h_0)
    add, mul = np.add, np.multiply
    for t in reversed(range(T)):
        da = dA[t]
        add(dh, dhs[t], dh)
        mul(dh, g_prime[t], da)
        W_hid_T.dot(da, dh)                   # written into dh's own buffer: no new array
    return dA, [None], (dh,)


CELL = Cell(
    name="rnn", title="vanilla RNN",
    weight_names=("W_h", "b_h"), state_names=("h",), saved_names=(),
    step=rnn_step, forward_loop=forward_loop, backward_loop=backward_loop,
    also_accepts={6: ("the lecture's 6-tuple (w1, w2, w3, b1, b2, b3)", (0, 3))},
)
