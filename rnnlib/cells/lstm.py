"""The long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et
al. 2000; no peepholes). Its state is the pair ``(h, c)``: the cell state ``c`` is updated by
addition, ``c' = f * c + i * g``, which is the path along which gradients survive."""

import numpy as np

from ..activations import sigmoid
from .cell import Cell
from .loops import previous_states, project, reversed_blocks, transposed

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
    W_i, W_f, W_o, W_c, b_i, b_f, b_o, b_c = weights
    W_hid = np.concatenate([-W_i[:, :H], -W_f[:, :H], -W_o[:, :H], W_c[:, :H]])   # (4H, H)
    W_in = np.concatenate([-W_i[:, H:], -W_f[:, H:], -W_o[:, H:], W_c[:, H:]])    # (4H, D)
    A = project(W_in, X, np.concatenate([-b_i, -b_f, -b_o, b_c]))                 # (T, 4H, B)
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
    """Pre-activation gradients of ``i, f, o, g`` (T, 4H, B), the gates on what each matrix
    read (none: all four read ``h_{t-1}``), and ``(dh_0, dc_0)``. ``dc_T`` (H, B), if given,
    is the gradient that reaches the last cell state from beyond the sequence.

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
    W_hid_T = transposed(*(W[:, :H] for W in cache.weights[:4]))                       # (H, 4H)
    mul, add, sub = np.multiply, np.add, np.subtract
    dA = np.empty((T, 4 * H, B), dhs.dtype)            # d loss / d pre-activations of i, f, o, g
    dA_if, dA_o, dA_g = dA.reshape(T, 4, H, B)[:, :2], dA[:, 2 * H:3 * H], dA[:, 3 * H:]
    dh, tmp = np.zeros_like(h_0), np.empty_like(h_0)
    dc = np.zeros_like(c_0) if dc_T is None else dc_T
    blocks, k = reversed_blocks(T, H, B)
    P_o, K, M_g = (np.empty((k, H, B), dhs.dtype) for _ in range(3))
    M_if = np.empty((k, 2, H, B), dhs.dtype)
    for start, stop in blocks:
        # Every factor that does not depend on the carried gradients, for the block's steps at
        # once: the walk over the steps is then five products, two additions and one GEMM.
        n = stop - start
        i_, f_, o_, g_, tc = I[start:stop], F[start:stop], O[start:stop], G[start:stop], TC[start:stop]
        p_o, k_, m_g, m_i, m_f = P_o[:n], K[:n], M_g[:n], M_if[:n, 0], M_if[:n, 1]
        sub(1.0, o_, p_o)                              # da_o = dh p_o,  p_o = tanh(c') o (1 - o)
        mul(p_o, o_, p_o)
        mul(p_o, tc, p_o)
        mul(tc, tc, k_)                                # dc += dh k,     k = o (1 - tanh(c')^2)
        sub(1.0, k_, k_)
        mul(k_, o_, k_)
        sub(1.0, i_, m_i)                              # [da_i; da_f] = dc m_if:  m_i = g i (1 - i)
        mul(m_i, i_, m_i)
        mul(m_i, g_, m_i)
        sub(1.0, f_, m_f)                              #   m_f = c f (1 - f), c the state step t read
        mul(m_f, f_, m_f)
        mul(m_f, previous_states(c_0, Cs, start, stop), m_f)
        mul(g_, g_, m_g)                               # da_g = dc m_g,  m_g = i (1 - g^2)
        sub(1.0, m_g, m_g)
        mul(m_g, i_, m_g)
        for j in reversed(range(n)):                   # then the block's steps, last first
            t = start + j
            add(dh, dhs[t], dh)
            mul(dh, p_o[j], dA_o[t])
            mul(dh, k_[j], tmp)
            add(dc, tmp, dc)
            mul(dc, M_if[j], dA_if[t])                 # dc broadcast over i and f
            mul(dc, m_g[j], dA_g[t])
            mul(dc, f_[j], dc)
            W_hid_T.dot(dA[t], dh)
    return dA, [None] * 4, (dh, dc)


CELL = Cell(
    name="lstm", title="LSTM",
    weight_names=("W_i", "W_f", "W_o", "W_c", "b_i", "b_f", "b_o", "b_c"), state_names=("h", "c"),
    saved_names=("i", "f", "o", "g", "c", "tanh_c"),
    step=lstm_step, forward_loop=forward_loop, backward_loop=backward_loop,
    bias_init={"b_f": 1.0},
)
