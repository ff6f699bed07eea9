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


# The loops keep the four pre-activations stacked in the row order o, i, f, g (not the weights'
# i, f, o, c): then the three sigmoid gates o, i, f are adjacent for the forward's one exp, and
# i, f, g are adjacent for the backward's one product with dc.
_ORDER = (2, 0, 1, 3)          # o, i, f, c as indices into the weights' (i, f, o, c)
_SIGN = (-1.0, -1.0, -1.0, 1.0)  # gates hold -a (see below), the candidate holds a


def forward_loop(weights, X, state_0, activation=None):
    """``lstm_step`` over the sequence: ``hs`` (T, H, B), and the gates ``i, f, o``, the
    candidate ``g``, the cell states ``c`` and ``tanh_c = tanh(c)`` of every step."""
    h_0, c_0 = state_0
    H = h_0.shape[0]
    mats = [weights[k] for k in _ORDER]
    # A gate sigmoid(a) = 1 / s with s = 1 + exp(-a), as in the GRU: the sign is folded into the
    # gates' weights here, in the loop the buffer becomes s, and multiplying by a gate is
    # dividing by s; one reciprocal after the loop gives the gates for the backward pass.
    W_hid = np.concatenate([sg * W[:, :H] for sg, W in zip(_SIGN, mats)])   # (4H, H): one product
    W_in = np.concatenate([sg * W[:, H:] for sg, W in zip(_SIGN, mats)])    # (4H, D)
    b = np.concatenate([sg * weights[4 + k] for sg, k in zip(_SIGN, _ORDER)])
    A = project(W_in, X, b)                   # (T, 4H, B): becomes s_o, s_i, s_f and g
    T, _, B = A.shape
    S, S_o, S_i, S_f, G = A[:, :3 * H], A[:, :H], A[:, H:2 * H], A[:, 2 * H:3 * H], A[:, 3 * H:]
    hs, Cs, TC = (np.empty((T, H, B), A.dtype) for _ in range(3))
    p, ig = np.empty_like(A[0]), np.empty_like(h_0)
    one = np.array(1, A.dtype)
    exp, tanh, add, div = np.exp, np.tanh, np.add, np.divide
    h, c = h_0, c_0
    with np.errstate(over="ignore"):
        for a, s, s_o, s_i, s_f, g, c_new, tc, h_new in zip(A, S, S_o, S_i, S_f, G, Cs, TC, hs):
            W_hid.dot(h, p)
            add(a, p, a)                      # -a_o, -a_i, -a_f, a_g
            exp(s, s)
            add(s, one, s)                    # s = 1 / o, 1 / i, 1 / f
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
    """Pre-activation gradients of ``i, f, o, g`` (T, 4H, B) in the weights' order, what each
    matrix read (``h_{t-1}``), and ``(dh_0, dc_0)``. ``dc_T`` (H, B), if given, is the
    gradient that reaches the last cell state from beyond the sequence.

    Backwards through ``c' = f c + i g`` and ``h' = o tanh(c')``::

        dc   = dc' + dh' o (1 - tanh(c')^2)       (dc' carried from step t + 1)
        da_o = dh' tanh(c') o (1 - o)
        da_i = dc g i (1 - i),  da_f = dc c f (1 - f),  da_g = dc i (1 - g^2)
        dc  -> f dc                                the additive path: only a product by f
        dh  -> W_hid^T [da_o; da_i; da_f; da_g]
    """
    h_0, c_0 = cache.state_0
    H = h_0.shape[0]
    s = cache.saved
    I, F, O, G, Cs, TC = s["i"], s["f"], s["o"], s["g"], s["c"], s["tanh_c"]
    T, _, B = dhs.shape
    W_hid_T = np.ascontiguousarray(
        np.concatenate([cache.weights[k][:, :H] for k in _ORDER]).T)    # (H, 4H)
    # Every factor that does not depend on the carried gradients, for all steps at once
    # (vectorised over T): the loop is then five products, two additions and one GEMM.
    P_o = TC * O * (1.0 - O)                          # da_o = dh P_o
    K = O * (1.0 - TC * TC)                           # dc += dh K
    M = np.empty((T, 3, H, B), dhs.dtype)             # [da_i; da_f; da_g] = dc M
    M[:, 0] = G * I * (1.0 - I)
    M[:, 1] = previous_states(c_0, Cs) * F * (1.0 - F)
    M[:, 2] = I * (1.0 - G * G)
    dA = np.empty((T, 4, H, B), dhs.dtype)            # rows o, i, f, g
    dh, tmp = np.zeros_like(h_0), np.empty_like(h_0)
    dc = np.zeros_like(c_0) if dc_T is None else dc_T
    mul, add = np.multiply, np.add
    for t in reversed(range(T)):
        add(dh, dhs[t], dh)
        mul(dh, P_o[t], dA[t, 0])
        mul(dh, K[t], tmp)
        add(dc, tmp, dc)
        mul(dc, M[t], dA[t, 1:])                      # dc broadcast over i, f, g
        mul(dc, F[t], dc)
        W_hid_T.dot(dA[t].reshape(4 * H, B), dh)
    dA = dA[:, [1, 2, 0, 3]].reshape(T, 4 * H, B)     # back to the weights' order i, f, o, c
    H_prev = previous_states(h_0, cache.hs)
    return dA, [H_prev] * 4, (dh, dc)


CELL = Cell(
    name="lstm", title="LSTM",
    weight_names=("W_i", "W_f", "W_o", "W_c", "b_i", "b_f", "b_o", "b_c"), state_names=("h", "c"),
    saved_names=("i", "f", "o", "g", "c", "tanh_c"),
    step=lstm_step, forward_loop=forward_loop, backward_loop=backward_loop,
    bias_init={"b_f": 1.0},
)
