"""One time step of each recurrent cell, in the lectures' form.

Column vectors, batch in the columns: ``x`` is ``(D, B)``, ``h`` is ``(H, B)``, every weight
matrix is ``(H, H + D)`` and acts on the stacked vector ``[h; x]`` (hidden state first), every
bias is ``(H, 1)``. A step function has the signature that ``scan`` expects::

    y, h_next = cell([x, h], weights)

and returns the new hidden state twice (as output ``y`` and as carry), as the lectures do.

These functions are the readable reference: one concatenation and one matrix product per
gate, exactly as the equations are written. ``rnnlib.forward`` runs the same equations over a
whole sequence, faster (see ``rnnlib.bptt``).
"""

import numpy as np

from ._checks import check_activation, check_step_inputs, check_weights
from .activations import sigmoid

__all__ = ["rnn_step", "gru_step", "mgu_step", "STEPS"]


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
    x, h = check_step_inputs(inputs)
    W_h, b_h = check_weights("rnn", weights, h.shape[0], x.shape[0])
    g = sigmoid if check_activation(activation) == "sigmoid" else np.tanh
    h_next = g(W_h @ np.concatenate([h, x]) + b_h)
    return h_next, h_next


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
    x, h = check_step_inputs(inputs)
    W_u, W_r, W_c, b_u, b_r, b_c = check_weights("gru", weights, h.shape[0], x.shape[0])
    hx = np.concatenate([h, x])
    u = sigmoid(W_u @ hx + b_u)
    r = sigmoid(W_r @ hx + b_r)
    c = np.tanh(W_c @ np.concatenate([r * h, x]) + b_c)
    h_next = u * c + (1.0 - u) * h
    return h_next, h_next


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
    x, h = check_step_inputs(inputs)
    W_f, W_h, b_f, b_h = check_weights("mgu", weights, h.shape[0], x.shape[0])
    f = sigmoid(W_f @ np.concatenate([h, x]) + b_f)
    c = np.tanh(W_h @ np.concatenate([f * h, x]) + b_h)
    h_next = (1.0 - f) * h + f * c
    return h_next, h_next


#: Step function of each cell, by name.
STEPS = {"rnn": rnn_step, "gru": gru_step, "mgu": mgu_step}
