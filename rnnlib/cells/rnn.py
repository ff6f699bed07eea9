"""The vanilla RNN: ``h' = g(W_h [h; x] + b_h)``, ``g`` the sigmoid (the lectures') or tanh."""

import numpy as np

from ..activations import ACTIVATIONS, lecture_sigmoid, sigmoid
from .cell import Cell, TorchTwin
from .layout import Bias, Matrix
from .loops import project, transposed

__all__ = ["rnn_step", "CELL", "TRAINED_ACTIVATION"]

#: ``g`` of a vanilla RNN that is trained (``rnnlib.train``, ``rnnlib.lm`` and the command
#: line): tanh, whose slope reaches 1. The lectures' sigmoid, the cell's default
#: (``CELL.options``), has a slope of at most 1/4, so gradients through time shrink at least
#: four times faster per step, and it trains far worse (the book's training chapter).
TRAINED_ACTIVATION = "tanh"


def rnn_step(inputs, weights, activation=None):
    """One step of the vanilla RNN: ``h' = g(W_h [h; x] + b_h)``.

    Parameters
    ----------
    inputs : [x, h]
        ``x`` of shape (D, B), ``h`` of shape (H, B).
    weights : tuple
        ``(W_h, b_h)`` with shapes (H, H + D) and (H, 1), or the lecture's 6-tuple
        ``(w1, w2, w3, b1, b2, b3)`` of which it uses ``w1`` and ``b1`` as the lecture does.
    activation : {"sigmoid", "tanh"}, optional
        ``g``; the default is the lectures' sigmoid.

    Returns
    -------
    y, h_next : ndarray, shape (H, B)
        The new hidden state, twice.
    """
    x, (h,), (W_h, b_h) = CELL.check_step(inputs, weights)
    g = sigmoid if CELL.loop_options(activation=activation)["activation"] == "sigmoid" else np.tanh
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
    g_prime = hs * (1.0 - hs) if cache.options["activation"] == "sigmoid" else 1.0 - hs * hs
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


def lecture_rnn_step(inputs, weights):
    """The lectures' per-step vanilla cell, as they wrote it: a concatenation and an ``np.dot``."""
    x, h = inputs
    W_h, b_h = weights[0], weights[-1] if len(weights) == 2 else weights[3]
    h = lecture_sigmoid(np.dot(W_h, np.concatenate([h, x])) + b_h)
    return h, h


def torch_step(torch, inputs, weights, activation="sigmoid"):
    """``rnn_step`` in torch operations (``TorchTwin.step``)."""
    x, h = inputs
    W_h, b_h = weights
    a = W_h @ torch.cat([h, x]) + b_h
    h_next = torch.sigmoid(a) if activation == "sigmoid" else torch.tanh(a)
    return h_next, h_next


def to_torch(weights):
    """``(W_h, b_h)`` as ``torch.nn.RNN``'s one-layer state dict (numpy arrays): ``weight_ih_l0``
    (H, D), ``weight_hh_l0`` (H, H), ``bias_ih_l0`` (H,) and ``bias_hh_l0`` (H,), zeros: PyTorch
    has two biases where we have one."""
    W, b = weights
    H = b.shape[0]
    return {"weight_ih_l0": W[:, H:].copy(), "weight_hh_l0": W[:, :H].copy(),
            "bias_ih_l0": b[:, 0].copy(), "bias_hh_l0": np.zeros(H, b.dtype)}


def from_torch(state):
    """``torch.nn.RNN``'s one-layer state dict (numpy arrays) -> ``(W_h, b_h)``; the two biases add."""
    W = np.concatenate([state["weight_hh_l0"], state["weight_ih_l0"]], axis=1)
    b = (np.asarray(state["bias_ih_l0"]) + np.asarray(state["bias_hh_l0"]))[:, None]
    return W, b


def torch_layer(torch, weights, activation="sigmoid"):
    """``torch.nn.RNN`` with these weights: exactly this cell with ``activation="tanh"`` (PyTorch
    has no sigmoid RNN: it refuses the lectures' cell)."""
    H, D = weights[0].shape[0], weights[0].shape[1] - weights[0].shape[0]
    net = torch.nn.RNN(D, H, nonlinearity=activation).to(getattr(torch, weights[0].dtype.name))
    net.load_state_dict({k: torch.tensor(v) for k, v in to_torch(weights).items()})
    return net


CELL = Cell(
    name="rnn", title="vanilla RNN",
    layout=(Matrix("W_h"), Bias("b_h")), state_names=("h",), saved_names=(),
    step=rnn_step, forward_loop=forward_loop, backward_loop=backward_loop,
    options={"activation": ACTIVATIONS},
    also_accepts={6: ("the lecture's 6-tuple (w1, w2, w3, b1, b2, b3)", (0, 3))},
    lecture_step=lecture_rnn_step,
    torch_twin=TorchTwin(torch_step, torch_layer, "nn.RNN"),
    diagram={
        "nodes": {
            "h_in": (0.0, 2.0, "io", r"$h_{t-1}$"),
            "x": (2.0, 0.0, "io", r"$x_t$"),
            "g": (2.0, 2.0, "layer", r"$g(W_h[h, x] + b_h)$"),
            "h_out": (4.2, 2.0, "io", r"$h_t$"),
        },
        "edges": [("h_in", "g"), ("x", "g"), ("g", "h_out")],
        "size": (5.5, 3.2),
    },
)
