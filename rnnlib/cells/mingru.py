"""minGRU (Feng et al. 2024, "Were RNNs all we needed?", section 3.1): a GRU whose gate and
candidate read the input alone, so that its state follows a linear recurrence and a whole
sequence is computed without a step loop over matrix products."""

import numpy as np

from ..activations import sigmoid
from ..recurrence import gradients as recurrence_gradients, solve
from .cell import Cell, TorchTwin
from .layout import Bias, InputMatrix
from .loops import project, sigmoid_in_place

__all__ = ["mingru_step", "CELL"]


def mingru_step(inputs, weights):
    """One step of minGRU.

    The gate and the candidate read ``x`` alone, never ``h``::

        z  = sigmoid(W_z x + b_z)               update gate
        c  = W_h x + b_h                        candidate (no tanh)
        h' = (1 - z) * h + z * c

    Parameters
    ----------
    inputs : [x, h]
        ``x`` of shape (D, B), ``h`` of shape (H, B).
    weights : tuple
        ``(W_z, W_h, b_z, b_h)``: matrices (H, D), biases (H, 1).

    Returns
    -------
    y, h_next : ndarray, shape (H, B)
        The new hidden state, twice.
    """
    x, (h,), (W_z, W_h, b_z, b_h) = CELL.check_step(inputs, weights)
    z = sigmoid(W_z @ x + b_z)
    c = W_h @ x + b_h
    h_next = (1.0 - z) * h + z * c
    return h_next, h_next


def forward_loop(weights, X, state_0):
    """The parallel forward: every step's gate and candidate in one matrix product, then
    ``h_t = a_t h_{t-1} + b_t`` with ``a = 1 - z``, ``b = z c`` (``rnnlib.linear_recurrence``).

    No product is left inside a loop over the steps: what remains is elementwise, and
    ``linear_recurrence`` chooses a scan or a loop of two numpy calls per step for it."""
    W_z, W_h, b_z, b_h = weights
    (h_0,) = state_0
    H = h_0.shape[0]
    A = project(np.concatenate([W_z, W_h]), X, np.concatenate([b_z, b_h]))      # (T, 2H, B)
    Z, C = A[:, :H], A[:, H:]
    sigmoid_in_place(Z)
    return solve(1.0 - Z, Z * C, h_0), {"z": Z, "c": C}


def backward_loop(dhs, cache):
    """The parallel backward: the recurrence's gradients (a recurrence backwards in time), then
    the gate's and the candidate's, for every step at once. With ``g_t`` the gradient of
    ``h_t`` and ``a = 1 - z``, ``b = z c``::

        da_t = g_t h_{t-1},   db_t = g_t               (rnnlib.linear_recurrence_backward)
        dz   = db c - da   =  g (c - h_{t-1})
        d(W_z x + b_z) = dz z (1 - z),   d(W_h x + b_h) = db z
    """
    (h_0,) = cache.state_0
    H = h_0.shape[0]
    Z, C = cache.saved["z"], cache.saved["c"]
    a = 1.0 - Z
    da, db, dh_0 = recurrence_gradients(dhs, a, cache.hs, h_0)
    T, _, B = dhs.shape
    dA = np.empty((T, 2 * H, B), dhs.dtype)
    dA_z, dA_c = dA[:, :H], dA[:, H:]
    np.multiply(db, C, dA_z)
    dA_z -= da
    a *= Z                                             # z (1 - z), in a's buffer
    dA_z *= a
    np.multiply(db, Z, dA_c)
    return dA, [None, None], (dh_0,)


def torch_step(torch, inputs, weights):
    """``mingru_step`` in torch operations (``TorchTwin.step``)."""
    x, h = inputs
    W_z, W_h, b_z, b_h = weights
    z = torch.sigmoid(W_z @ x + b_z)
    h_next = (1 - z) * h + z * (W_h @ x + b_h)
    return h_next, h_next


def torch_layer(torch, weights):
    """PyTorch has no minGRU: the paper's sequential mode as a PyTorch user would write it
    (every step's gate and candidate in one product, then the loop), differentiated by autograd."""
    class MinGRU(torch.nn.Module):
        def __init__(self):
            super().__init__()
            P = lambda a: torch.nn.Parameter(torch.tensor(a))                 # noqa: E731
            W_z, W_h, b_z, b_h = weights
            self.W, self.b = P(np.concatenate([W_z, W_h])), P(np.concatenate([b_z, b_h])[:, 0])

        def forward(self, x, h_0):                    # x (T, B, D), h_0 (1, B, H), as nn.GRU
            z, c = torch.addmm(self.b, x.flatten(0, 1), self.W.T).view(*x.shape[:2], -1).chunk(2, -1)
            z = torch.sigmoid(z)
            h, out = h_0[0], []
            for z_t, c_t in zip(z, c):
                h = (1 - z_t) * h + z_t * c_t
                out.append(h)
            return torch.stack(out), h[None]

    return MinGRU()


CELL = Cell(
    name="mingru", title="minGRU",
    layout=(InputMatrix("W_z"), InputMatrix("W_h"), Bias("b_z"), Bias("b_h")),
    state_names=("h",), saved_names=("z", "c"),
    step=mingru_step, forward_loop=forward_loop, backward_loop=backward_loop,
    torch_twin=TorchTwin(torch_step, torch_layer, "minGRU (autograd)"),
    diagram={
        "nodes": {
            "h_in": (0.0, 3.0, "io", r"$h_{t-1}$"),
            "x": (2.6, 0.0, "io", r"$x_t$"),
            "z": (1.3, 1.4, "layer", r"$z = \sigma(W_z x + b_z)$"),
            "c": (4.2, 1.4, "layer", r"$c = W_h x + b_h$"),
            "keep": (2.6, 3.0, "op", r"$(1-z)h$"),
            "zc": (4.6, 2.3, "op", r"$z\,c$"),
            "mix": (5.6, 3.0, "op", r"$+$"),
            "h_out": (6.8, 3.0, "io", r"$h_t$"),
        },
        "edges": [("x", "z"), ("x", "c"), ("h_in", "keep"), ("z", "keep"), ("z", "zc"), ("c", "zc"),
                  ("keep", "mix"), ("zc", "mix"), ("mix", "h_out")],
    },
)
