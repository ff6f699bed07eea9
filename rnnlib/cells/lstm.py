"""The long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et
al. 2000; no peepholes). Its state is the pair ``(h, c)``: the cell state ``c`` is updated by
addition, ``c' = f * c + i * g``, which is the path along which gradients survive."""

import numpy as np

from ..activations import sigmoid
from .cell import Cell
from .loops import previous_states, project

__all__ = ["lstm_step", "CELL"]


def lstm_step(inputs, weights):
    """One step of the LSTM.

    ::

        i  = sigmoid(W_i [h; x] + b_i)          input gate
        f  = sigmoid(W_f [h; x] + b_f)          forget gate
        o  = sigmoid(W_o [h; x] + b_o)          output gate
        g  = tanh(W_c [h; x] + b_c)             candidate
        c' = f * c + i * g                      cell state
        h' = o * tanh(c')                       hidden state

    Parameters
    ----------
    inputs : [x, (h, c)]
        ``x`` of shape (D, B); the state, ``h`` and ``c`` each of shape (H, B).
    weights : tuple
        ``(W_i, W_f, W_o, W_c, b_i, b_f, b_o, b_c)``: matrices (H, H + D), biases (H, 1).
        ``rnnlib.init_weights("lstm", ...)`` starts ``b_f`` at 1 (Gers et al. 2000;
        Jozefowicz et al. 2015): the cell keeps its state until it learns to forget.

    Returns
    -------
    y : ndarray, shape (H, B)
        ``h'``.
    state : (h_next, c_next)
        The new state, each (H, B); ``h_next`` is ``y``.
    """
    x, (h, c), (W_i, W_f, W_o, W_c, b_i, b_f, b_o, b_c) = CELL.check_step(inputs, weights)
    hx = np.concatenate([h, x])
    i = sigmoid(W_i @ hx + b_i)
    f = sigmoid(W_f @ hx + b_f)
    o = sigmoid(W_o @ hx + b_o)
    g = np.tanh(W_c @ hx + b_c)
    c_next = f * c + i * g
    h_next = o * np.tanh(c_next)
    return h_next, (h_next, c_next)


def forward_loop(weights, X, state_0, activation=None):
    """``lstm_step`` over the sequence: ``hs`` (T, H, B), and the gates ``i, f, o``, the
    candidate ``g``, the cell states ``c`` and ``tanh_c = tanh(c)`` of every step."""
    h_0, c_0 = state_0
    H = h_0.shape[0]
    # The four pre-activations are stacked in the weights' order i, f, o, g: one product per
    # step for all of them, and the three sigmoid gates adjacent. A gate sigmoid(a) = 1 / s
    # with s = 1 + exp(-a), as in the GRU: the sign is folded into the gates' weights here, in
    # the loop the buffer becomes s, and multiplying by a gate is dividing by s; one
    # reciprocal after the loop gives the gates for the backward pass.
    sign = np.array([-1.0, -1.0, -1.0, 1.0], h_0.dtype).repeat(H)[:, None]     # (4H, 1)
    W = np.concatenate(weights[:4]) * sign                                  # (4H, H + D)
    W_hid = np.ascontiguousarray(W[:, :H])                                  # (4H, H)
    A = project(W[:, H:], X, np.concatenate(weights[4:]) * sign)           # (T, 4H, B)
    T, _, B = A.shape
    S, S_i, S_f, S_o, G = A[:, :3 * H], A[:, :H], A[:, H:2 * H], A[:, 2 * H:3 * H], A[:, 3 * H:]
    hs, Cs, TC = (np.empty((T, H, B), A.dtype) for _ in range(3))
    p, ig = np.empty_like(A[0]), np.empty_like(h_0)
    one = np.array(1, A.dtype)
    exp, tanh, add, div = np.exp, np.tanh, np.add, np.divide
    h, c = h_0, c_0
    with np.errstate(over="ignore"):
        for a, s, s_i, s_f, s_o, g, c_new, tc, h_new in zip(A, S, S_i, S_f, S_o, G, Cs, TC, hs):
            W_hid.dot(h, p)
            add(a, p, a)                      # -a_i, -a_f, -a_o, a_g
            exp(s, s)
            add(s, one, s)                    # s = 1 / i, 1 / f, 1 / o
            tanh(g, g)
            div(c, s_f, c_new)                # c' = f c + i g
            div(g, s_i, ig)
            add(c_new, ig, c_new)
            tanh(c_new, tc)                   # h' = o tanh(c')
            div(tc, s_o, h_new)
            h, c = h_new, c_new
    np.reciprocal(S, S)                       # the gates of every step
    return hs, {"i": S_i, "f": S_f, "o": S_o, "g": G, "c": Cs, "tanh_c": TC}


def backward_loop(dhs, cache, dc_T=None):
    """Pre-activation gradients of ``i, f, o, g`` (T, 4H, B), what each matrix read
    (``h_{t-1}``), and ``(dh_0, dc_0)``. ``dc_T`` (H, B), if given, is the gradient that
    reaches the last cell state from beyond the sequence.

    Backwards through ``c' = f c + i g`` and ``h' = o tanh(c')``::

        dc   = dc' + dh' o (1 - tanh(c')^2)       (dc' carried from step t + 1)
        da_o = dh' tanh(c') o (1 - o)
        da_i = dc g i (1 - i),  da_f = dc c f (1 - f),  da_g = dc i (1 - g^2)
        dc  -> f dc                                the additive path: only a product by f
        dh  -> W_hid^T [da_i; da_f; da_o; da_g]
    """
    h_0, c_0 = cache.state_0
    H = h_0.shape[0]
    s = cache.saved
    I, F, O, G, Cs, TC = s["i"], s["f"], s["o"], s["g"], s["c"], s["tanh_c"]
    T, _, B = dhs.shape
    W_hid_T = np.ascontiguousarray(np.concatenate([W[:, :H] for W in cache.weights[:4]]).T)  # (H, 4H)
    # Every factor that does not depend on the carried gradients, for all steps at once
    # (vectorised over T, in place: each is a (T, H, B) array): the loop is then six
    # products, two additions and one GEMM.
    mul, add, sub = np.multiply, np.add, np.subtract
    P_o = sub(1.0, O)                                  # da_o = dh P_o,  P_o = tanh(c') o (1 - o)
    mul(P_o, O, P_o)
    mul(P_o, TC, P_o)
    K = mul(TC, TC)                                    # dc += dh K,     K = o (1 - tanh(c')^2)
    sub(1.0, K, K)
    mul(K, O, K)
    M_if = np.empty((T, 2, H, B), dhs.dtype)           # [da_i; da_f] = dc M_if
    M_i, M_f = M_if[:, 0], M_if[:, 1]
    sub(1.0, I, M_i)                                   # g i (1 - i)
    mul(M_i, I, M_i)
    mul(M_i, G, M_i)
    sub(1.0, F, M_f)                                   # c f (1 - f), c the state step t read
    mul(M_f, F, M_f)
    mul(M_f[1:], Cs[:-1], M_f[1:])
    mul(M_f[0], c_0, M_f[0])
    M_g = mul(G, G)                                    # da_g = dc M_g,  M_g = i (1 - g^2)
    sub(1.0, M_g, M_g)
    mul(M_g, I, M_g)
    dA = np.empty((4, H, T, B), dhs.dtype)             # gates i, f, o, g; steps in the columns
    dA_steps = dA.reshape(4 * H, T, B)
    dh, tmp = np.zeros_like(h_0), np.empty_like(h_0)
    dc = np.zeros_like(c_0) if dc_T is None else dc_T
    for t in reversed(range(T)):
        add(dh, dhs[t], dh)
        mul(dh, P_o[t], dA[2, :, t])
        mul(dh, K[t], tmp)
        add(dc, tmp, dc)
        mul(dc, M_if[t], dA[:2, :, t])                 # dc broadcast over i and f
        mul(dc, M_g[t], dA[3, :, t])
        mul(dc, F[t], dc)
        W_hid_T.dot(dA_steps[:, t], dh)
    H_prev = previous_states(h_0, cache.hs)
    return dA_steps, [H_prev] * 4, (dh, dc)


CELL = Cell(
    name="lstm", title="LSTM",
    weight_names=("W_i", "W_f", "W_o", "W_c", "b_i", "b_f", "b_o", "b_c"), state_names=("h", "c"),
    saved_names=("i", "f", "o", "g", "c", "tanh_c"),
    step=lstm_step, forward_loop=forward_loop, backward_loop=backward_loop,
    bias_init={"b_f": 1.0},
)
