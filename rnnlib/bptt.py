"""Forward and backward passes over a whole sequence (backpropagation through time).

``forward(cell, weights, X, h_0)`` runs the same equations as the step functions in
``rnnlib.cells`` for every time step and keeps what the backward pass needs in a cache;
``backward(dhs, cache)`` walks the sequence in reverse and returns the gradients.

Two ideas make this much faster than ``scan`` over a step function, and the book's cost
chapter measures both:

1. **Hoist the input projection out of the loop.** Write each weight as
   ``W = [W_hid | W_in]`` (the columns acting on ``h`` and on ``x``). The input part does not
   depend on the recurrence, so ``W_in @ x_t`` for all ``t`` is one call,
   ``W_in @ X`` with ``X`` of shape (T, D, B). Only the small ``W_hid @ h`` stays inside the
   loop, and no ``[h; x]`` is ever concatenated.
2. **Fuse the gates.** The gates that read the same vector are stacked into one matrix
   (GRU: ``u`` and ``r`` read ``h``; all gates read ``x``), so one product serves several gates.

Inside the loops every call is paid T times, and at small sizes the calls' overhead, not the
arithmetic, is the cost (about half a microsecond per numpy call). So the loops use the
cheapest spelling of each operation:

- ``W.dot(h, out)`` for a product: the same arithmetic as ``W @ h``, with less call overhead,
  written into a preallocated buffer;
- ufuncs writing in place with the output passed positionally (``np.add(a, b, a)``: no
  keyword parsing), and constants as 0-d arrays of the right dtype (no conversion of a Python
  float per call);
- a gate ``sigmoid(a) = 1 / s`` kept as ``s = 1 + exp(-a)``, with the minus sign folded into
  its weights once: two calls give ``s``, multiplying by the gate is dividing by ``s``, and one
  reciprocal over all steps after the loop gives the gates for the backward pass. (``exp`` is
  also the cheaper function: on some CPUs numpy's float64 ``tanh`` costs two to three times
  its ``exp``, as the cost chapter measures);
- the vanilla RNN runs in the variable ``v = 2 h - 1``, in which its step is one product, one
  addition and one tanh.

The backward pass mirrors this: the loop only carries the gradient of the hidden state and
records the gradient of every pre-activation, ``dA[t]``; the weight gradients and ``dX`` are
then each one tensor product over all time steps at once.

Gradients of pre-activations use the activated values from the cache
(``sigmoid' = g (1 - g)`` for a gate ``g``, ``tanh' = 1 - c**2``).
"""

from dataclasses import dataclass, field

import numpy as np

from ._checks import (WEIGHT_NAMES, as_float_array, check_activation, check_cell, check_finite,
                      check_sequence, check_weights)

__all__ = ["forward", "backward", "infer", "Cache"]


@dataclass
class Cache:
    """What ``backward`` needs from ``forward``.

    Attributes
    ----------
    cell : str
        "rnn", "gru" or "mgu".
    weights : tuple of ndarray
        The cell's weights in the lectures' order (for the RNN: ``(W_h, b_h)``).
    n_given : int
        Length of the tuple the caller passed (6 when the RNN got the lecture's 6-tuple), so
        that the gradients come back in the same shape of tuple.
    X : ndarray, shape (T, D, B)
    h_0 : ndarray, shape (H, B)
    hs : ndarray, shape (T, H, B)
        ``hs[t]`` is the hidden state after step ``t``.
    saved : dict of str -> ndarray, each (T, H, B)
        Gate activations: GRU ``u, r, c``; MGU ``f, c``; RNN none (``hs`` are its activations).
    activation : str
        The vanilla RNN's ``g``.
    """

    cell: str
    weights: tuple
    n_given: int
    X: np.ndarray
    h_0: np.ndarray
    hs: np.ndarray
    saved: dict = field(default_factory=dict)
    activation: str = "sigmoid"


def _split(W, H):
    """``W = [W_hid | W_in]``: the columns acting on ``h`` and on ``x``."""
    return W[:, :H], W[:, H:]


# From this batch size on, the stacked product beats one big product with transposing copies
# (measured with benchmarks/bench.py's sizes on two cores: about even at B = 16, 1.6x at 64).
_WIDE_BATCH = 32


def _project(W_in, X, b):
    """``W_in @ X[t] + b`` for every step ``t`` at once, before the loop: (T, G, B).

    For a narrow batch the T * B input columns, laid side by side as a (T * B, D) matrix, are
    multiplied by ``W_in.T`` in a single BLAS call, far faster than T small products. For a
    wide batch each step's product is big enough on its own, and ``np.matmul`` over the stack
    (one BLAS call per step) writes the (T, G, B) result directly, without the two
    transposing copies that the single product needs.
    """
    T, D, B = X.shape
    if B >= _WIDE_BATCH:
        A = np.matmul(W_in, X)
    else:
        A = X.transpose(0, 2, 1).reshape(T * B, D).dot(W_in.T)      # (T * B, G)
        A = np.ascontiguousarray(A.reshape(T, B, -1).transpose(0, 2, 1))
    A += b
    return A


# ----------------------------------------------------------------------------- vanilla RNN

def _rnn_forward(weights, X, h_0, activation):
    W, b = weights
    H = h_0.shape[0]
    W_hid, W_in = _split(W, H)
    hs = _project(W_in, X, b)                 # starts as the input part of every pre-activation
    if activation == "tanh":
        h = h_0
        for t in range(X.shape[0]):
            a = hs[t]                         # becomes h_t in place: a += W_hid h; a = tanh(a)
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


def _rnn_backward(dhs, cache):
    W, _ = cache.weights
    H = cache.h_0.shape[0]
    W_hid = W[:, :H]
    hs = cache.hs
    g_prime = hs * (1.0 - hs) if cache.activation == "sigmoid" else 1.0 - hs * hs
    dA = np.empty_like(hs)
    dh = np.zeros_like(cache.h_0)
    for t in reversed(range(hs.shape[0])):
        dA[t] = (dh + dhs[t]) * g_prime[t]
        dh = W_hid.T.dot(dA[t])
    return dA, [_previous_states(cache)], dh


# ----------------------------------------------------------------------------- GRU

def _gru_forward(weights, X, h_0):
    W_u, W_r, W_c, b_u, b_r, b_c = weights
    H = h_0.shape[0]
    # A gate is sigmoid(a) = 1 / s with s = 1 + exp(-a). The sign of the gates' weights and
    # biases is flipped once, here, so that the buffer holds -a; in the loop it becomes s, and
    # multiplying by the gate is dividing by s. After the loop one reciprocal over all steps
    # turns the buffers into the gates. (exp(-a) overflows to inf for a below about -709, and
    # dividing by inf gives the right 0.)
    W_ur_hid = -np.concatenate([W_u[:, :H], W_r[:, :H]])          # (2H, H): both gates in one product
    W_c_hid = np.ascontiguousarray(W_c[:, :H])                    # (H, H)
    W_in = np.concatenate([-W_u[:, H:], -W_r[:, H:], W_c[:, H:]])  # (3H, D)
    A = _project(W_in, X, np.concatenate([-b_u, -b_r, b_c]))      # (T, 3H, B), overwritten below
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


def _gru_backward(dhs, cache):
    W_u, W_r, W_c = cache.weights[:3]
    H = cache.h_0.shape[0]
    W_ur_hid = np.concatenate([W_u[:, :H], W_r[:, :H]])
    W_c_hid = W_c[:, :H]
    U, R, C = cache.saved["u"], cache.saved["r"], cache.saved["c"]
    H_prev = _previous_states(cache)
    T, _, B = dhs.shape
    dA = np.empty((T, 3 * H, B), dhs.dtype)   # d loss / d pre-activations of u, r, c
    dh = np.zeros_like(cache.h_0)
    for t in reversed(range(T)):
        u, r, c, h_prev = U[t], R[t], C[t], H_prev[t]
        dh = dh + dhs[t]
        da_c = dh * u * (1.0 - c * c)                 # h' = u c + (1 - u) h_prev
        d_rh = W_c_hid.T.dot(da_c)                    # gradient of r * h_prev
        dA[t, :H] = dh * (c - h_prev) * u * (1.0 - u)
        dA[t, H:2 * H] = d_rh * h_prev * r * (1.0 - r)
        dA[t, 2 * H:] = da_c
        dh = dh * (1.0 - u) + d_rh * r + W_ur_hid.T.dot(dA[t, :2 * H])
    return dA, [H_prev, H_prev, R * H_prev], dh


# ----------------------------------------------------------------------------- MGU

def _mgu_forward(weights, X, h_0):
    W_f, W_h, b_f, b_h = weights
    H = h_0.shape[0]
    # The gate as for the GRU: the buffer holds -a_f, then s = 1 + exp(-a_f) = 1 / f.
    W_f_hid = -W_f[:, :H]
    W_h_hid = np.ascontiguousarray(W_h[:, :H])
    A = _project(np.concatenate([-W_f[:, H:], W_h[:, H:]]), X,
                 np.concatenate([-b_f, b_h]))                            # (T, 2H, B)
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


def _mgu_backward(dhs, cache):
    W_f, W_h = cache.weights[:2]
    H = cache.h_0.shape[0]
    W_f_hid, W_h_hid = W_f[:, :H], W_h[:, :H]
    F, C = cache.saved["f"], cache.saved["c"]
    H_prev = _previous_states(cache)
    T, _, B = dhs.shape
    dA = np.empty((T, 2 * H, B), dhs.dtype)   # d loss / d pre-activations of f, c
    dh = np.zeros_like(cache.h_0)
    for t in reversed(range(T)):
        f, c, h_prev = F[t], C[t], H_prev[t]
        dh = dh + dhs[t]
        da_c = dh * f * (1.0 - c * c)                 # h' = (1 - f) h_prev + f c
        d_fh = W_h_hid.T.dot(da_c)                    # gradient of f * h_prev
        df = dh * (c - h_prev) + d_fh * h_prev        # f reaches h' directly and through c
        dA[t, :H] = da_f = df * f * (1.0 - f)
        dA[t, H:] = da_c
        dh = dh * (1.0 - f) + d_fh * f + W_f_hid.T.dot(da_f)
    return dA, [H_prev, F * H_prev], dh


# ----------------------------------------------------------------------------- shared

def _previous_states(cache):
    """``H_prev[t] = h_{t-1}``: the state each step read, shape (T, H, B)."""
    return np.concatenate([cache.h_0[None], cache.hs[:-1]])


def _gradients_from_preactivations(weights, dA, hidden_inputs, X):
    """Weight, bias and input gradients from the pre-activation gradients of all steps.

    For a gate ``a_t = W_hid v_t + W_in x_t + b`` (``v_t`` is what the gate reads from the
    hidden side: ``h_{t-1}``, or ``r * h_{t-1}`` for the GRU's candidate):

        dW_hid = sum_t da_t v_t^T,   dW_in = sum_t da_t x_t^T,   db = sum_t da_t 1,
        dx_t  += W_in^T da_t

    Each sum over time (and batch) is one tensor product.
    """
    n = len(weights) // 2
    H = weights[-1].shape[0]
    over_time_and_batch = ((0, 2), (0, 2))
    dW_in = np.tensordot(dA, X, over_time_and_batch)               # all gates at once: (nH, D)
    db = dA.sum(axis=(0, 2))[:, None]
    dWs, dbs = [], []
    for k in range(n):
        rows = slice(k * H, (k + 1) * H)
        dW_hid = np.tensordot(dA[:, rows], hidden_inputs[k], over_time_and_batch)
        dWs.append(np.concatenate([dW_hid, dW_in[rows]], axis=1))
        dbs.append(db[rows])
    W_in = np.concatenate([W[:, H:] for W in weights[:n]])          # (nH, D)
    dX = np.tensordot(dA, W_in, axes=(1, 0)).transpose(0, 2, 1)     # dx_t = W_in^T dA_t, (T, D, B)
    return tuple(dWs) + tuple(dbs), np.ascontiguousarray(dX)


_FORWARD = {"rnn": _rnn_forward, "gru": _gru_forward, "mgu": _mgu_forward}
_BACKWARD = {"rnn": _rnn_backward, "gru": _gru_backward, "mgu": _mgu_backward}


def forward(cell, weights, X, h_0, activation="sigmoid"):
    """Run a cell over a whole sequence and keep a cache for ``backward``.

    Parameters
    ----------
    cell : {"rnn", "gru", "mgu"}
    weights : tuple
        In the lectures' order: RNN ``(W_h, b_h)`` (or the lecture's 6-tuple, of which it uses
        the first weight and the first bias), GRU ``(W_u, W_r, W_c, b_u, b_r, b_c)``, MGU
        ``(W_f, W_h, b_f, b_h)``. Matrices (H, H + D), biases (H, 1).
    X : ndarray, shape (T, D, B)
        The input sequence, time first, batch in the columns.
    h_0 : ndarray, shape (H, B)
        The initial hidden state.
    activation : {"sigmoid", "tanh"}
        The vanilla RNN's nonlinearity (ignored by the gated cells).

    Returns
    -------
    hs : ndarray, shape (T, H, B)
        ``hs[t]`` is the hidden state after reading ``X[t]``; equal (to rounding) to
        ``np.stack(scan(step, X, weights, h_0)[0])``.
    cache : Cache
        Everything ``backward`` needs.

    The computation runs in the floating dtype that the inputs share (float64 unless every
    input is float32).
    """
    cell = check_cell(cell)
    activation = check_activation(activation)
    X, h_0 = check_sequence(X, h_0)
    H, D = h_0.shape[0], X.shape[1]
    n_given = len(weights) if isinstance(weights, (tuple, list)) else 0
    weights = check_weights(cell, weights, H, D)
    dtype = np.result_type(X, h_0, *weights)
    X, h_0 = X.astype(dtype, copy=False), h_0.astype(dtype, copy=False)
    weights = tuple(w.astype(dtype, copy=False) for w in weights)
    if cell == "rnn":
        hs, saved = _rnn_forward(weights, X, h_0, activation)
    else:
        hs, saved = _FORWARD[cell](weights, X, h_0)
    return hs, Cache(cell, weights, n_given, X, h_0, hs, saved, activation)


def infer(cell, weights, X, h_0, return_sequence=False, chunk=64, activation="sigmoid"):
    """Run a cell over a sequence for inference: no cache, memory independent of ``T``.

    ``forward`` keeps the gate activations of every step for ``backward`` (for the GRU three
    (T, H, B) arrays besides the states). Inference needs none of it: this runs the same loop
    ``chunk`` time steps at a time, projecting only those steps' inputs in one product, and
    keeps only the last state (or, with ``return_sequence``, the states). The numbers are those
    of ``forward`` (the same code runs on each chunk).

    Parameters
    ----------
    cell, weights, X, h_0, activation
        As for ``forward``: ``X`` is (T, D, B), ``h_0`` is (H, B).
    return_sequence : bool
        Return every state ``hs`` (T, H, B) instead of only the last one.
    chunk : int
        Time steps per input projection; memory of the working buffers is O(chunk * H * B).

    Returns
    -------
    ndarray
        ``h_T`` of shape (H, B), or ``hs`` of shape (T, H, B) with ``return_sequence``.
    """
    cell = check_cell(cell)
    activation = check_activation(activation)
    X, h_0 = check_sequence(X, h_0)
    if not (isinstance(chunk, (int, np.integer)) and chunk >= 1):
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    H, D = h_0.shape[0], X.shape[1]
    weights = check_weights(cell, weights, H, D)
    dtype = np.result_type(X, h_0, *weights)
    X, h = X.astype(dtype, copy=False), h_0.astype(dtype, copy=True)
    weights = tuple(w.astype(dtype, copy=False) for w in weights)
    hs = np.empty((X.shape[0], H, X.shape[2]), dtype) if return_sequence else None
    for start in range(0, X.shape[0], chunk):
        part = X[start:start + chunk]
        if cell == "rnn":
            hs_part, _ = _rnn_forward(weights, part, h, activation)
        else:
            hs_part, _ = _FORWARD[cell](weights, part, h)
        if return_sequence:
            hs[start:start + len(part)] = hs_part
        h = hs_part[-1].copy()
    return hs if return_sequence else h


def backward(dhs, cache):
    """Backpropagation through time.

    Parameters
    ----------
    dhs : ndarray, shape (T, H, B)
        Upstream gradient of the loss with respect to every hidden state ``hs[t]`` (zeros
        where the loss does not read a state directly, e.g. all but the last for a loss on
        ``h_T`` alone).
    cache : Cache
        From ``forward``.

    Returns
    -------
    dweights : tuple
        Gradients in the same order and shapes as the weights given to ``forward`` (for the
        RNN with the lecture's 6-tuple, a 6-tuple whose unused entries are zero).
    dX : ndarray, shape (T, D, B)
    dh_0 : ndarray, shape (H, B)
    """
    if not isinstance(cache, Cache):
        raise ValueError(f"cache must be the Cache returned by rnnlib.forward; got {type(cache).__name__}")
    dhs = as_float_array(dhs, "dhs", 3, "(T, H, B)")
    if dhs.shape != cache.hs.shape:
        raise ValueError(f"dhs has shape {dhs.shape}, expected {cache.hs.shape} = (T, H, B), the shape of hs")
    check_finite(dhs, "dhs")
    dhs = dhs.astype(cache.hs.dtype, copy=False)
    dA, hidden_inputs, dh_0 = _BACKWARD[cache.cell](dhs, cache)
    dweights, dX = _gradients_from_preactivations(cache.weights, dA, hidden_inputs, cache.X)
    if cache.cell == "rnn" and cache.n_given == 6:
        dW, db = dweights
        z = np.zeros_like
        dweights = (dW, z(dW), z(dW), db, z(db), z(db))
    return dweights, dX, dh_0


def weight_names(cell):
    """Names of a cell's weights in the lectures' order, e.g. ``("W_f", "W_h", "b_f", "b_h")``."""
    return WEIGHT_NAMES[check_cell(cell)]

