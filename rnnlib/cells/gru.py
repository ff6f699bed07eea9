"""The gated recurrent unit (Cho et al. 2014), in the lectures' form: the reset gate acts
*before* the candidate's matrix product."""

import numpy as np

from ..activations import lecture_sigmoid, sigmoid
from .cell import Cell, TorchTwin
from .layout import Bias, Matrix
from .loops import previous_states, project, reversed_blocks, transposed

__all__ = ["gru_step", "CELL"]


def gru_step(inputs, weights):
    """One step of the gated recurrent unit (Cho et al. 2014, the lectures' form).

    ::

        u  = sigmoid(W_u [h; x] + b_u)          update gate
        r  = sigmoid(W_r [h; x] + b_r)          relevance (reset) gate
        c  = tanh(W_c [r * h; x] + b_c)         candidate state
        h' = u * c + (1 - u) * h

    Parameters
    ----------
    inputs : [x, h]
        ``x`` of shape (D, B), ``h`` of shape (H, B).
    weights : tuple
        ``(W_u, W_r, W_c, b_u, b_r, b_c)``: matrices (H, H + D), biases (H, 1).

    Returns
    -------
    y, h_next : ndarray, shape (H, B)
        The new hidden state, twice.
    """
    x, (h,), (W_u, W_r, W_c, b_u, b_r, b_c) = CELL.check_step(inputs, weights)
    hx = np.concatenate([h, x])
    u = sigmoid(W_u @ hx + b_u)
    r = sigmoid(W_r @ hx + b_r)
    c = np.tanh(W_c @ np.concatenate([r * h, x]) + b_c)
    h_next = u * c + (1.0 - u) * h
    return h_next, h_next


def forward_loop(weights, X, state_0):
    """``gru_step`` over the sequence: ``hs`` (T, H, B) and the gates ``u, r`` and candidate ``c``."""
    W_u, W_r, W_c, b_u, b_r, b_c = weights
    (h_0,) = state_0
    H = h_0.shape[0]
    # A gate is sigmoid(a) = 1 / s with s = 1 + exp(-a). The sign of the gates' weights and
    # biases is flipped once, here, so that the buffer holds -a; in the loop it becomes s, and
    # multiplying by the gate is dividing by s. After the loop one reciprocal over all steps
    # turns the buffers into the gates. (exp(-a) overflows to inf for a below about -709, and
    # dividing by inf gives the right 0.)
    W_ur_hid = -np.concatenate([W_u[:, :H], W_r[:, :H]])          # (2H, H): both gates in one product
    W_c_hid = np.ascontiguousarray(W_c[:, :H])                    # (H, H)
    W_in = np.concatenate([-W_u[:, H:], -W_r[:, H:], W_c[:, H:]])  # (3H, D)
    A = project(W_in, X, np.concatenate([-b_u, -b_r, b_c]))       # (T, 3H, B), overwritten below
    UR, C = A[:, :2 * H], A[:, 2 * H:]       # the buffers become the gates and the candidate
    hs = np.empty_like(C)
    one = np.array(1, hs.dtype)
    p_ur, p_c, rh = np.empty_like(UR[0]), np.empty_like(C[0]), np.empty_like(C[0])  # products, r * h
    exp, tanh, add, sub, div = np.exp, np.tanh, np.add, np.subtract, np.divide
    h = h_0
    with np.errstate(over="ignore"):
        for s_ur, c, h_new in zip(UR, C, hs):  # step t's buffers (views), in order
            W_ur_hid.dot(h, p_ur)
            add(s_ur, p_ur, s_ur)              # = -a
            exp(s_ur, s_ur)
            add(s_ur, one, s_ur)               # = 1 / u and 1 / r
            s_u, s_r = s_ur[:H], s_ur[H:]
            div(h, s_r, rh)                    # r * h
            W_c_hid.dot(rh, p_c)
            add(c, p_c, c)
            tanh(c, c)                         # h' = u c + (1 - u) h  =  h + u (c - h)
            sub(c, h, h_new)
            div(h_new, s_u, h_new)
            add(h_new, h, h_new)
            h = h_new
    np.reciprocal(UR, UR)                      # the gates u and r of every step
    return hs, {"u": A[:, :H], "r": A[:, H:2 * H], "c": C}


def backward_loop(dhs, cache):
    """Pre-activation gradients of ``u, r, c`` (T, 3H, B), the gates on what each matrix read
    (``u``, ``r``: ``h_{t-1}``; ``c``: ``r * h_{t-1}``), and ``dh_0``.

    Backwards through ``h' = u c + (1 - u) h`` and ``c = tanh(W_c [r * h; x] + b_c)``::

        da_c = dh' u (1 - c^2)
        d_rh = W_c_hid^T da_c                  the gradient of r * h
        da_u = dh' (c - h) u (1 - u)
        da_r = d_rh h r (1 - r)
        dh   = dh' (1 - u) + d_rh r + W_ur_hid^T [da_u; da_r]
    """
    W_u, W_r, W_c = cache.weights[:3]
    (h_0,) = cache.state_0
    H = h_0.shape[0]
    W_ur_hid_T = transposed(W_u[:, :H], W_r[:, :H])                               # (H, 2H)
    W_c_hid_T = transposed(W_c[:, :H])                                            # (H, H)
    U, R, C = cache.saved["u"], cache.saved["r"], cache.saved["c"]
    T, _, B = dhs.shape
    mul, add, sub = np.multiply, np.add, np.subtract
    dA = np.empty((T, 3 * H, B), dhs.dtype)            # d loss / d pre-activations of u, r, c
    dA_u, dA_r, dA_c, dA_ur = dA[:, :H], dA[:, H:2 * H], dA[:, 2 * H:], dA[:, :2 * H]
    dh, d_rh, tmp = np.zeros_like(h_0), np.empty_like(h_0), np.empty_like(h_0)
    blocks, k = reversed_blocks(T, H, B)
    K_c, K_u, L_u, K_r = (np.empty((k, H, B), dhs.dtype) for _ in range(4))
    for start, stop in blocks:
        # the factors that do not depend on the carried gradient, for the block's steps at once
        n = stop - start
        u, r, c = U[start:stop], R[start:stop], C[start:stop]
        h = previous_states(h_0, cache.hs, start, stop)  # h_{t-1} (a view of hs, but for step 0)
        k_c, k_u, l_u, k_r = K_c[:n], K_u[:n], L_u[:n], K_r[:n]
        mul(c, c, k_c)                                 # da_c = dh k_c,  k_c = u (1 - c^2)
        sub(1.0, k_c, k_c)
        mul(k_c, u, k_c)
        sub(1.0, u, l_u)                               # dh carries dh' (1 - u)
        sub(c, h, k_u)                                 # da_u = dh k_u,  k_u = (c - h) u (1 - u)
        mul(k_u, u, k_u)
        mul(k_u, l_u, k_u)
        sub(1.0, r, k_r)                               # da_r = d_rh k_r,  k_r = h r (1 - r)
        mul(k_r, r, k_r)
        mul(k_r, h, k_r)
        for i in reversed(range(n)):                   # then the block's steps, last first
            t = start + i
            add(dh, dhs[t], dh)                        # dh'
            mul(dh, k_c[i], dA_c[t])
            W_c_hid_T.dot(dA_c[t], d_rh)
            mul(dh, k_u[i], dA_u[t])
            mul(d_rh, k_r[i], dA_r[t])
            mul(dh, l_u[i], dh)                        # dh' (1 - u)
            mul(d_rh, r[i], d_rh)                      # + d_rh r
            add(dh, d_rh, dh)
            W_ur_hid_T.dot(dA_ur[t], tmp)              # + W_ur_hid^T [da_u; da_r]
            add(dh, tmp, dh)
    return dA, [None, None, R], (dh,)


def lecture_gru_step(inputs, weights):
    """The lectures' per-step GRU, as they wrote it: three concatenations and three ``np.dot``."""
    x, h = inputs
    W_u, W_r, W_c, b_u, b_r, b_c = weights
    u = lecture_sigmoid(np.dot(W_u, np.concatenate([h, x])) + b_u)
    r = lecture_sigmoid(np.dot(W_r, np.concatenate([h, x])) + b_r)
    c = np.tanh(np.dot(W_c, np.concatenate([r * h, x])) + b_c)
    h = u * c + (1 - u) * h
    return h, h


def torch_step(torch, inputs, weights):
    """``gru_step`` in torch operations (``TorchTwin.step``)."""
    x, h = inputs
    W_u, W_r, W_c, b_u, b_r, b_c = weights
    hx = torch.cat([h, x])
    u, r = torch.sigmoid(W_u @ hx + b_u), torch.sigmoid(W_r @ hx + b_r)
    c = torch.tanh(W_c @ torch.cat([r * h, x]) + b_c)
    h_next = u * c + (1 - u) * h
    return h_next, h_next


def torch_layer(torch, weights):
    """``torch.nn.GRU`` of the same sizes, with its own weights: a different GRU (it applies the
    reset gate after the product, ``tanh(W_in x + b_in + r * (W_hn h + b_hn))``) of the same
    cost, so no weights map exactly and the two compare on time only."""
    H, D = weights[0].shape[0], weights[0].shape[1] - weights[0].shape[0]
    return torch.nn.GRU(D, H).to(getattr(torch, weights[0].dtype.name))


CELL = Cell(
    name="gru", title="GRU",
    layout=(Matrix("W_u"), Matrix("W_r"), Matrix("W_c"), Bias("b_u"), Bias("b_r"), Bias("b_c")),
    state_names=("h",), saved_names=("u", "r", "c"),
    step=gru_step, forward_loop=forward_loop, backward_loop=backward_loop,
    lecture_step=lecture_gru_step,
    torch_twin=TorchTwin(torch_step, torch_layer, "nn.GRU", exact=False),
    diagram={
        "nodes": {
            "h_in": (0.0, 3.0, "io", r"$h_{t-1}$"),
            "x": (2.9, 0.0, "io", r"$x_t$"),
            "r": (1.3, 1.2, "layer", r"$r = \sigma(W_r[h, x] + b_r)$"),
            "u": (4.6, 1.2, "layer", r"$u = \sigma(W_u[h, x] + b_u)$"),
            "rh": (0.8, 2.2, "op", r"$\times$"),
            "c": (2.9, 2.2, "layer", r"$c = \tanh(W_c[r h, x] + b_c)$"),
            "mix": (5.9, 3.0, "op", r"$+$"),
            "uc": (5.9, 2.2, "op", r"$u\,c$"),
            "keep": (4.6, 3.0, "op", r"$(1-u)h$"),
            "h_out": (7.0, 3.0, "io", r"$h_t$"),
        },
        "edges": [("h_in", "r"), ("x", "r"), ("h_in", "rh"), ("r", "rh"), ("rh", "c"), ("x", "c"),
                  ("x", "u"), ("h_in", "u"), ("c", "uc"), ("u", "uc"), ("u", "keep"),
                  ("h_in", "keep"), ("keep", "mix"), ("uc", "mix"), ("mix", "h_out")],
    },
)
