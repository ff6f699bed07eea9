"""The long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et
al. 2000; no peepholes). Its state is the pair ``(h, c)``: the cell state ``c`` is updated by
addition, ``c' = f * c + i * g``, which is the path along which gradients survive."""

import numpy as np

from ..activations import lecture_sigmoid, sigmoid
from .cell import Cell, TorchTwin
from .layout import Bias, Matrix
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


def forward_loop(weights, X, state_0):
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
    gates, cands = A[:, :3 * H], A[:, 3 * H:]     # -a_i, -a_f, -a_o, then a_g; they become s and g
    hs, cs, tanh_cs = (np.empty((T, H, B), A.dtype) for _ in range(3))
    product, i_times_g = np.empty_like(A[0]), np.empty_like(h_0)
    one = np.array(1, A.dtype)
    exp, tanh, add, div = np.exp, np.tanh, np.add, np.divide
    # Step t's buffers, as views of the arrays over all steps. One zip over them costs less per
    # step than indexing each array (at small sizes the loop's time is its calls' overhead):
    #   a                   A[t]: the four pre-activations, -a_i, -a_f, -a_o, a_g
    #   s_i, s_f, s_o       the gates' parts of a, which become 1 / i, 1 / f, 1 / o
    #   g                   the candidate's part of a, which becomes g
    #   c_new, tanh_c, h_new    c_t, tanh(c_t) and h_t
    steps = zip(A, gates, gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:], cands, cs, tanh_cs, hs)
    h, c = h_0, c_0
    with np.errstate(over="ignore"):
        for a, s, s_i, s_f, s_o, g, c_new, tanh_c, h_new in steps:
            W_hid.dot(h, product)
            add(a, product, a)                # -a_i, -a_f, -a_o, a_g
            exp(s, s)
            add(s, one, s)                    # s = 1 / i, 1 / f, 1 / o
            tanh(g, g)
            div(c, s_f, c_new)                # c' = f c + i g
            div(g, s_i, i_times_g)
            add(c_new, i_times_g, c_new)
            tanh(c_new, tanh_c)               # h' = o tanh(c')
            div(tanh_c, s_o, h_new)
            h, c = h_new, c_new
    np.reciprocal(gates, gates)               # the gates of every step
    return hs, {"i": gates[:, :H], "f": gates[:, H:2 * H], "o": gates[:, 2 * H:], "g": cands,
                "c": cs, "tanh_c": tanh_cs}


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

    Each factor that multiplies a carried gradient (``dh'`` or ``dc``) is computed first, for
    a block of steps at once; the walk over the block's steps is then five products, two
    additions and one matrix product per step.
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
    # the factors, for a block's steps: dh' -> da_o, dh' -> dc, dc -> [da_i; da_f], dc -> da_g
    to_da_o, to_dc, to_da_g = (np.empty((k, H, B), dhs.dtype) for _ in range(3))
    to_da_if = np.empty((k, 2, H, B), dhs.dtype)
    for start, stop in blocks:
        n = stop - start
        i, f, o, g, tc = I[start:stop], F[start:stop], O[start:stop], G[start:stop], TC[start:stop]
        c = previous_states(c_0, Cs, start, stop)      # the cell state step t read
        p_o, k_c, m_i, m_f, m_g = to_da_o[:n], to_dc[:n], to_da_if[:n, 0], to_da_if[:n, 1], to_da_g[:n]
        sub(1.0, o, p_o)                               # da_o = dh' p_o,  p_o = tanh(c') o (1 - o)
        mul(p_o, o, p_o)
        mul(p_o, tc, p_o)
        mul(tc, tc, k_c)                               # dc += dh' k_c,   k_c = o (1 - tanh(c')^2)
        sub(1.0, k_c, k_c)
        mul(k_c, o, k_c)
        sub(1.0, i, m_i)                               # da_i = dc m_i,   m_i = g i (1 - i)
        mul(m_i, i, m_i)
        mul(m_i, g, m_i)
        sub(1.0, f, m_f)                               # da_f = dc m_f,   m_f = c f (1 - f)
        mul(m_f, f, m_f)
        mul(m_f, c, m_f)
        mul(g, g, m_g)                                 # da_g = dc m_g,   m_g = i (1 - g^2)
        sub(1.0, m_g, m_g)
        mul(m_g, i, m_g)
        for j in reversed(range(n)):                   # then the block's steps, last first
            t = start + j
            add(dh, dhs[t], dh)                        # dh'
            mul(dh, p_o[j], dA_o[t])
            mul(dh, k_c[j], tmp)
            add(dc, tmp, dc)                           # dc
            mul(dc, to_da_if[j], dA_if[t])             # dc broadcast over i and f
            mul(dc, m_g[j], dA_g[t])
            mul(dc, f[j], dc)                          # dc -> f dc
            W_hid_T.dot(dA[t], dh)                     # dh -> W_hid^T da
    return dA, [None] * 4, (dh, dc)


def lecture_lstm_step(inputs, weights):
    """A per-step LSTM in the lectures' style: four concatenations and four ``np.dot``."""
    x, (h, c) = inputs
    W_i, W_f, W_o, W_c, b_i, b_f, b_o, b_c = weights
    i = lecture_sigmoid(np.dot(W_i, np.concatenate([h, x])) + b_i)
    f = lecture_sigmoid(np.dot(W_f, np.concatenate([h, x])) + b_f)
    o = lecture_sigmoid(np.dot(W_o, np.concatenate([h, x])) + b_o)
    g = np.tanh(np.dot(W_c, np.concatenate([h, x])) + b_c)
    c = f * c + i * g
    h = o * np.tanh(c)
    return h, (h, c)


def torch_step(torch, inputs, weights):
    """``lstm_step`` in torch operations (``TorchTwin.step``)."""
    x, (h, c) = inputs
    W_i, W_f, W_o, W_c, b_i, b_f, b_o, b_c = weights
    hx = torch.cat([h, x])
    i, f, o = (torch.sigmoid(W @ hx + b) for W, b in ((W_i, b_i), (W_f, b_f), (W_o, b_o)))
    c_next = f * c + i * torch.tanh(W_c @ hx + b_c)
    h_next = o * torch.tanh(c_next)
    return h_next, (h_next, c_next)


#: Our four blocks in PyTorch's order i, f, g, o, as indices into (W_i, W_f, W_o, W_c).
TORCH_ORDER = (0, 1, 3, 2)


def to_torch(weights):
    """The weights as ``torch.nn.LSTM``'s one-layer state dict (numpy arrays): ``weight_ih_l0``
    (4H, D), ``weight_hh_l0`` (4H, H), ``bias_ih_l0`` (4H,) and ``bias_hh_l0`` (4H,), zeros
    (PyTorch has two biases where we have one), the blocks in PyTorch's order i, f, g, o."""
    H = weights[4].shape[0]
    mats = [weights[k] for k in TORCH_ORDER]
    b = np.concatenate([weights[4 + k][:, 0] for k in TORCH_ORDER])
    return {"weight_ih_l0": np.concatenate([W[:, H:] for W in mats]),
            "weight_hh_l0": np.concatenate([W[:, :H] for W in mats]),
            "bias_ih_l0": b, "bias_hh_l0": np.zeros_like(b)}


def from_torch(state):
    """``torch.nn.LSTM``'s one-layer state dict (numpy arrays) -> the weight tuple; the two
    biases add."""
    W_ih, W_hh = np.asarray(state["weight_ih_l0"]), np.asarray(state["weight_hh_l0"])
    if W_hh.ndim != 2 or W_hh.shape[0] != 4 * W_hh.shape[1] or W_ih.shape[0] != W_hh.shape[0]:
        raise ValueError(f"weight_hh_l0 must be (4H, H) and weight_ih_l0 (4H, D); got {W_hh.shape} and {W_ih.shape}")
    H = W_hh.shape[1]
    b = np.asarray(state["bias_ih_l0"]) + np.asarray(state["bias_hh_l0"])
    blocks = {k: slice(j * H, (j + 1) * H) for j, k in enumerate(TORCH_ORDER)}
    mats = tuple(np.concatenate([W_hh[blocks[k]], W_ih[blocks[k]]], axis=1) for k in range(4))
    return mats + tuple(b[blocks[k]][:, None].copy() for k in range(4))


def torch_layer(torch, weights):
    """``torch.nn.LSTM`` with these weights: exactly this cell."""
    H = weights[0].shape[0]
    net = torch.nn.LSTM(weights[0].shape[1] - H, H).to(getattr(torch, weights[0].dtype.name))
    net.load_state_dict({k: torch.tensor(v) for k, v in to_torch(weights).items()})
    return net


CELL = Cell(
    name="lstm", title="LSTM",
    layout=(Matrix("W_i"), Matrix("W_f"), Matrix("W_o"), Matrix("W_c"),
            Bias("b_i"), Bias("b_f", value=1.0), Bias("b_o"), Bias("b_c")),
    state_names=("h", "c"), saved_names=("i", "f", "o", "g", "c", "tanh_c"),
    step=lstm_step, forward_loop=forward_loop, backward_loop=backward_loop,
    # the notebooks keep what the backward needs and recompute tanh(c') from c'
    step_cache=("x", "h", "c", "i", "f", "o", "g", "c_next"),
    lecture_step=lecture_lstm_step,
    torch_twin=TorchTwin(torch_step, torch_layer, "nn.LSTM"),
    # The cell state runs along the top (c_{t-1} -> times f -> plus i g -> c_t); all four
    # layers read the same stacked vector [h_{t-1}; x_t], drawn once on the left.
    diagram={
        "nodes": {
            "c_in": (0.0, 3.95, "io", r"$c_{t-1}$"),
            "h_in": (-1.0, 1.65, "io", r"$h_{t-1}$"),
            "x": (0.8, 0.0, "io", r"$x_t$"),
            "hx": (0.8, 1.65, "stack", r"$[h_{t-1}; x_t]$"),
            "f": (3.9, 2.85, "layer", r"$f = \sigma(W_f[h, x] + b_f)$"),
            "i": (3.9, 2.05, "layer", r"$i = \sigma(W_i[h, x] + b_i)$"),
            "g": (3.9, 1.25, "layer", r"$g = \tanh(W_c[h, x] + b_c)$"),
            "o": (3.9, 0.45, "layer", r"$o = \sigma(W_o[h, x] + b_o)$"),
            "fc": (3.9, 3.95, "op", r"$f\,c$"),
            "ig": (6.3, 1.65, "op", r"$i\,g$"),
            "add": (6.3, 3.95, "op", r"$+$"),
            "c_out": (8.9, 3.95, "io", r"$c_t$"),
            "tanh": (7.7, 2.7, "op", r"$\tanh$"),
            "oh": (7.7, 0.45, "op", r"$\times$"),
            "h_out": (8.9, 0.45, "io", r"$h_t$"),
        },
        "edges": [("c_in", "fc"), ("f", "fc"), ("fc", "add"), ("i", "ig"), ("g", "ig"),
                  ("ig", "add"), ("add", "c_out"), ("add", "tanh"), ("tanh", "oh"), ("o", "oh"),
                  ("oh", "h_out"), ("h_in", "hx"), ("x", "hx"), ("hx", "f"), ("hx", "i"),
                  ("hx", "g"), ("hx", "o")],
        "size": (9.0, 4.8),
        "scale": 1.25,
    },
)
