"""minLSTM (Feng et al. 2024, "Were RNNs all we needed?", section 3.2): an LSTM whose gates
read the input alone and are normalised to sum to one, with no cell state beside ``h`` and no
output gate. Its state follows a linear recurrence, like minGRU's."""

import numpy as np

from ..activations import sigmoid
from ..recurrence import gradients as recurrence_gradients, solve
from .cell import Cell, TorchTwin
from .layout import Bias, InputMatrix
from .loops import project, sigmoid_in_place

__all__ = ["minlstm_step", "CELL"]


def minlstm_step(inputs, weights):
    """One step of minLSTM.

    Two gates and a candidate, all reading ``x`` alone; the gates are normalised so that the
    old state and the candidate are mixed with weights that sum to one::

        f  = sigmoid(W_f x + b_f),   i = sigmoid(W_i x + b_i)
        f' = f / (f + i),            i' = i / (f + i)
        c  = W_h x + b_h                        candidate (no tanh)
        h' = f' * h + i' * c

    Parameters
    ----------
    inputs : [x, h]
        ``x`` of shape (D, B), ``h`` of shape (H, B).
    weights : tuple
        ``(W_f, W_i, W_h, b_f, b_i, b_h)``: matrices (H, D), biases (H, 1).

    Returns
    -------
    y, h_next : ndarray, shape (H, B)
        The new hidden state, twice.
    """
    x, (h,), (W_f, W_i, W_h, b_f, b_i, b_h) = CELL.check_step(inputs, weights)
    f = sigmoid(W_f @ x + b_f)
    i = sigmoid(W_i @ x + b_i)
    c = W_h @ x + b_h
    h_next = (f * h + i * c) / (f + i)
    return h_next, h_next


def forward_loop(weights, X, state_0):
    """The parallel forward: all gates and the candidate in one matrix product, then
    ``h_t = a_t h_{t-1} + b_t`` with ``a = f'``, ``b = i' c`` (``rnnlib.linear_recurrence``)."""
    W_f, W_i, W_h, b_f, b_i, b_h = weights
    (h_0,) = state_0
    H = h_0.shape[0]
    A = project(np.concatenate([W_f, W_i, W_h]), X, np.concatenate([b_f, b_i, b_h]))   # (T, 3H, B)
    FI, C = A[:, :2 * H], A[:, 2 * H:]
    sigmoid_in_place(FI)
    F, I = FI[:, :H], FI[:, H:]
    s = F + I
    return solve(F / s, I / s * C, h_0), {"f": F, "i": I, "c": C}


def backward_loop(dhs, cache):
    """The parallel backward. With ``g_t`` the gradient of ``h_t``, ``a = f'``, ``b = i' c``,
    and ``f' + i' = 1``, so that ``d f'/d f = i / (f + i)^2 = -d i'/d f``, and the other way
    round for ``i``::

        da_t = g_t h_{t-1},   db_t = g_t               (rnnlib.linear_recurrence_backward)
        d(W_f x + b_f) =  (da - db c) f' i' (1 - f)
        d(W_i x + b_i) = -(da - db c) f' i' (1 - i)
        d(W_h x + b_h) =  db i'
    """
    (h_0,) = cache.state_0
    H = h_0.shape[0]
    F, I, C = cache.saved["f"], cache.saved["i"], cache.saved["c"]
    s = F + I
    f_n, i_n = F / s, I / s
    da, db, dh_0 = recurrence_gradients(dhs, f_n, cache.hs, h_0)
    T, _, B = dhs.shape
    dA = np.empty((T, 3 * H, B), dhs.dtype)
    m = (da - db * C) * f_n * i_n                      # the gradient of f' through both gates
    np.multiply(m, 1.0 - F, dA[:, :H])
    np.multiply(m, I - 1.0, dA[:, H:2 * H])
    np.multiply(db, i_n, dA[:, 2 * H:])
    return dA, [None, None, None], (dh_0,)


def torch_step(torch, inputs, weights):
    """``minlstm_step`` in torch operations (``TorchTwin.step``)."""
    x, h = inputs
    W_f, W_i, W_h, b_f, b_i, b_h = weights
    f = torch.sigmoid(W_f @ x + b_f)
    i = torch.sigmoid(W_i @ x + b_i)
    h_next = f / (f + i) * h + i / (f + i) * (W_h @ x + b_h)
    return h_next, h_next


def torch_layer(torch, weights):
    """PyTorch has no minLSTM: the paper's sequential mode as a PyTorch user would write it
    (every step's gates and candidate in one product, then the loop), differentiated by autograd."""
    class MinLSTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            P = lambda a: torch.nn.Parameter(torch.tensor(a))                 # noqa: E731
            W_f, W_i, W_h, b_f, b_i, b_h = weights
            self.W = P(np.concatenate([W_f, W_i, W_h]))
            self.b = P(np.concatenate([b_f, b_i, b_h])[:, 0])

        def forward(self, x, h_0):                    # x (T, B, D), h_0 (1, B, H), as nn.GRU
            f, i, c = torch.addmm(self.b, x.flatten(0, 1), self.W.T).view(*x.shape[:2], -1).chunk(3, -1)
            f, i = torch.sigmoid(f), torch.sigmoid(i)
            a, b = f / (f + i), i / (f + i) * c
            h, out = h_0[0], []
            for a_t, b_t in zip(a, b):
                h = a_t * h + b_t
                out.append(h)
            return torch.stack(out), h[None]

    return MinLSTM()


CELL = Cell(
    name="minlstm", title="minLSTM",
    layout=(InputMatrix("W_f"), InputMatrix("W_i"), InputMatrix("W_h"), Bias("b_f"), Bias("b_i"), Bias("b_h")),
    state_names=("h",), saved_names=("f", "i", "c"),
    step=minlstm_step, forward_loop=forward_loop, backward_loop=backward_loop,
    torch_twin=TorchTwin(torch_step, torch_layer, "minLSTM (autograd)"),
    diagram={
        "nodes": {
            "h_in": (0.0, 3.2, "io", r"$h_{t-1}$"),
            "x": (3.0, 0.0, "io", r"$x_t$"),
            "f": (0.9, 1.2, "layer", r"$f = \sigma(W_f x + b_f)$"),
            "i": (3.0, 1.2, "layer", r"$i = \sigma(W_i x + b_i)$"),
            "c": (5.1, 1.2, "layer", r"$c = W_h x + b_h$"),
            "norm": (2.0, 2.2, "op", r"$f' , i' = \frac{f,\ i}{f + i}$"),
            "mix": (4.6, 3.2, "op", r"$f' h + i' c$"),
            "h_out": (6.4, 3.2, "io", r"$h_t$"),
        },
        "edges": [("x", "f"), ("x", "i"), ("x", "c"), ("f", "norm"), ("i", "norm"), ("norm", "mix"),
                  ("h_in", "mix"), ("c", "mix"), ("mix", "h_out")],
    },
)
