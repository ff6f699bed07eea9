"""The Minimal Gated Unit (Zhou et al. 2016): one forget gate does the work of the GRU's two."""

import numpy as np

from ..activations import lecture_sigmoid, sigmoid
from .cell import Cell, TorchTwin
from .layout import Bias, Matrix
from .loops import previous_states, project, reversed_blocks, transposed

__all__ = ["mgu_step", "CELL"]


def mgu_step(inputs, weights):
    """One step of the Minimal Gated Unit (Zhou et al. 2016).

    One forget gate ``f`` does the work of the GRU's two gates::

        f  = sigmoid(W_f [h; x] + b_f)          forget gate
        c  = tanh(W_h [f * h; x] + b_h)         candidate state
        h' = (1 - f) * h + f * c

    Parameters
    ----------
    inputs : [x, h]
        ``x`` of shape (D, B), ``h`` of shape (H, B).
    weights : tuple
        ``(W_f, W_h, b_f, b_h)``: matrices (H, H + D), biases (H, 1).

    Returns
    -------
    y, h_next : ndarray, shape (H, B)
        The new hidden state, twice.
    """
    x, (h,), (W_f, W_h, b_f, b_h) = CELL.check_step(inputs, weights)
    f = sigmoid(W_f @ np.concatenate([h, x]) + b_f)
    c = np.tanh(W_h @ np.concatenate([f * h, x]) + b_h)
    h_next = (1.0 - f) * h + f * c
    return h_next, h_next


def forward_loop(weights, X, state_0):
    """``mgu_step`` over the sequence: ``hs`` (T, H, B), the gate ``f`` and the candidate ``c``."""
    W_f, W_h, b_f, b_h = weights
    (h_0,) = state_0
    H = h_0.shape[0]
    # The gate as for the GRU: the buffer holds -a_f, then s = 1 + exp(-a_f) = 1 / f.
    W_f_hid = -W_f[:, :H]
    W_h_hid = np.ascontiguousarray(W_h[:, :H])
    A = project(np.concatenate([-W_f[:, H:], W_h[:, H:]]), X,
                np.concatenate([-b_f, b_h]))                             # (T, 2H, B)
    F, C = A[:, :H], A[:, H:]                # the buffers become the gate and the candidate
    hs = np.empty_like(C)
    one = np.array(1, hs.dtype)
    p, fh = np.empty_like(C[0]), np.empty_like(C[0])          # a product, f * h
    exp, tanh, add, sub, div = np.exp, np.tanh, np.add, np.subtract, np.divide
    h = h_0
    with np.errstate(over="ignore"):
        for s, c, h_new in zip(F, C, hs):     # step t's buffers (views), in order
            W_f_hid.dot(h, p)
            add(s, p, s)                      # = -a_f
            exp(s, s)
            add(s, one, s)                    # s = 1 / f
            div(h, s, fh)                     # f * h
            W_h_hid.dot(fh, p)
            add(c, p, c)
            tanh(c, c)                        # h' = (1 - f) h + f c  =  h + f (c - h)
            sub(c, h, h_new)
            div(h_new, s, h_new)
            add(h_new, h, h_new)
            h = h_new
    np.reciprocal(F, F)                       # the gate f of every step
    return hs, {"f": F, "c": C}


def backward_loop(dhs, cache):
    """Pre-activation gradients of ``f, c`` (T, 2H, B), the gates on what each matrix read
    (``f``: ``h_{t-1}``; ``c``: ``f * h_{t-1}``), and ``dh_0``.

    Backwards through ``h' = (1 - f) h + f c`` and ``c = tanh(W_h [f * h; x] + b_h)``; the gate
    reaches ``h'`` directly and through ``c``::

        da_c = dh' f (1 - c^2)
        d_fh = W_h_hid^T da_c                  the gradient of f * h
        da_f = (dh' (c - h) + d_fh h) f (1 - f)
        dh   = dh' (1 - f) + d_fh f + W_f_hid^T da_f
    """
    W_f, W_h = cache.weights[:2]
    (h_0,) = cache.state_0
    H = h_0.shape[0]
    W_f_hid_T = transposed(W_f[:, :H])
    W_h_hid_T = transposed(W_h[:, :H])
    F, C = cache.saved["f"], cache.saved["c"]
    T, _, B = dhs.shape
    mul, add, sub = np.multiply, np.add, np.subtract
    dA = np.empty((T, 2 * H, B), dhs.dtype)            # d loss / d pre-activations of f, c
    dA_f, dA_c = dA[:, :H], dA[:, H:]
    dh, d_fh, tmp = np.zeros_like(h_0), np.empty_like(h_0), np.empty_like(h_0)
    blocks, k = reversed_blocks(T, H, B)
    F1, K_c, M_h, M_c = (np.empty((k, H, B), dhs.dtype) for _ in range(4))
    for start, stop in blocks:
        # the factors that do not depend on the carried gradient, for the block's steps at once
        n = stop - start
        f, c = F[start:stop], C[start:stop]
        h = previous_states(h_0, cache.hs, start, stop)  # h_{t-1} (a view of hs, but for step 0)
        f1, k_c, m_h, m_c = F1[:n], K_c[:n], M_h[:n], M_c[:n]
        sub(1.0, f, f1)                                # 1 - f
        mul(c, c, k_c)                                 # da_c = dh k_c,  k_c = f (1 - c^2)
        sub(1.0, k_c, k_c)
        mul(k_c, f, k_c)
        mul(f, f1, m_h)                                # da_f = dh m_c + d_fh m_h:
        sub(c, h, m_c)                                 #   m_c = (c - h) f (1 - f)
        mul(m_c, m_h, m_c)
        mul(m_h, h, m_h)                               #   m_h = h f (1 - f)
        for i in reversed(range(n)):                   # then the block's steps, last first
            t = start + i
            add(dh, dhs[t], dh)                        # dh'
            mul(dh, k_c[i], dA_c[t])
            W_h_hid_T.dot(dA_c[t], d_fh)
            da_f = dA_f[t]
            mul(dh, m_c[i], da_f)
            mul(d_fh, m_h[i], tmp)
            add(da_f, tmp, da_f)
            mul(dh, f1[i], dh)                         # dh' (1 - f)
            mul(d_fh, f[i], d_fh)                      # + d_fh f
            add(dh, d_fh, dh)
            W_f_hid_T.dot(da_f, tmp)                   # + W_f_hid^T da_f
            add(dh, tmp, dh)
    return dA, [None, F], (dh,)


def lecture_mgu_step(inputs, weights):
    """A per-step MGU in the lectures' style: two concatenations and two ``np.dot``."""
    x, h = inputs
    W_f, W_h, b_f, b_h = weights
    f = lecture_sigmoid(np.dot(W_f, np.concatenate([h, x])) + b_f)
    c = np.tanh(np.dot(W_h, np.concatenate([f * h, x])) + b_h)
    h = (1 - f) * h + f * c
    return h, h


def torch_step(torch, inputs, weights):
    """``mgu_step`` in torch operations (``TorchTwin.step``)."""
    x, h = inputs
    W_f, W_h, b_f, b_h = weights
    f = torch.sigmoid(W_f @ torch.cat([h, x]) + b_f)
    c = torch.tanh(W_h @ torch.cat([f * h, x]) + b_h)
    h_next = (1 - f) * h + f * c
    return h_next, h_next


def torch_layer(torch, weights):
    """PyTorch has no MGU: this one, with these weights, as a PyTorch user would write it (the
    input projections of all steps in one product each, then the loop over the steps),
    differentiated by autograd."""
    class MGU(torch.nn.Module):
        def __init__(self):
            super().__init__()
            W_f, W_h, b_f, b_h = weights
            H = W_f.shape[0]
            P = lambda a: torch.nn.Parameter(torch.tensor(a))
            self.W_f_hid, self.W_f_in, self.b_f = P(W_f[:, :H]), P(W_f[:, H:]), P(b_f[:, 0])
            self.W_h_hid, self.W_h_in, self.b_h = P(W_h[:, :H]), P(W_h[:, H:]), P(b_h[:, 0])

        def forward(self, x, h_0):                    # x (T, B, D), h_0 (1, B, H), as nn.GRU
            A_f = torch.addmm(self.b_f, x.flatten(0, 1), self.W_f_in.T).view(*x.shape[:2], -1)
            A_h = torch.addmm(self.b_h, x.flatten(0, 1), self.W_h_in.T).view(*x.shape[:2], -1)
            h, out = h_0[0], []
            for a_f, a_h in zip(A_f, A_h):
                f = torch.sigmoid(a_f + h @ self.W_f_hid.T)
                c = torch.tanh(a_h + (f * h) @ self.W_h_hid.T)
                h = h + f * (c - h)                   # (1 - f) h + f c
                out.append(h)
            return torch.stack(out), h[None]

    return MGU()


CELL = Cell(
    name="mgu", title="MGU",
    layout=(Matrix("W_f"), Matrix("W_h"), Bias("b_f"), Bias("b_h")),
    state_names=("h",), saved_names=("f", "c"),
    step=mgu_step, forward_loop=forward_loop, backward_loop=backward_loop,
    lecture_step=lecture_mgu_step,
    torch_twin=TorchTwin(torch_step, torch_layer, "MGU (autograd)"),
    diagram={
        "nodes": {
            "h_in": (0.0, 3.0, "io", r"$h_{t-1}$"),
            "x": (2.9, 0.0, "io", r"$x_t$"),
            "f": (1.3, 1.2, "layer", r"$f = \sigma(W_f[h, x] + b_f)$"),
            "fh": (0.8, 2.2, "op", r"$\times$"),
            "c": (2.9, 2.2, "layer", r"$c = \tanh(W_h[f h, x] + b_h)$"),
            "fc": (5.9, 2.2, "op", r"$f\,c$"),
            "keep": (4.6, 3.0, "op", r"$(1-f)h$"),
            "mix": (5.9, 3.0, "op", r"$+$"),
            "h_out": (7.0, 3.0, "io", r"$h_t$"),
        },
        "edges": [("h_in", "f"), ("x", "f"), ("h_in", "fh"), ("f", "fh"), ("fh", "c"), ("x", "c"),
                  ("c", "fc"), ("f", "fc"), ("f", "keep"), ("h_in", "keep"), ("keep", "mix"),
                  ("fc", "mix"), ("mix", "h_out")],
    },
)
