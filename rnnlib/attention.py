"""Additive attention (Bahdanau, Cho & Bengio 2015), in the course's column convention and the
book's notation (chapter 14).

A decoder state ``s`` (H_dec, B) asks which of the encoder's outputs ``h_1 .. h_T``
(``Hs``, (T_src, H_enc, B)) to read. For every source position ``t``::

    k_t     = U_a h_t                          the keys, (T_src, A, B): once per source
    a_t     = tanh(W_a s + k_t)                (T_src, A, B)
    e_t     = v_a^T a_t                        the scores, (T_src, B)
    alpha   = softmax(e) over the positions where mask is 1; exactly 0 elsewhere
    context = sum_t alpha_t h_t                (H_enc, B)

No biases, as Bahdanau et al. and d2l's ``AdditiveAttention`` write it. The weights are
``(W_a, U_a, v_a)``, shaped (A, H_dec), (A, H_enc) and (A, 1).

Backward, from ``dcontext`` (H_enc, B)::

    dalpha_t = h_t . dcontext                  dh_t  = alpha_t dcontext + U_a^T dk_t
    de       = alpha * (dalpha - sum_t alpha_t dalpha_t)       (the softmax's Jacobian)
    dk_t     = (1 - a_t^2) * v_a de_t          dv_a = sum_t,b a_t de_t
    ds       = W_a^T sum_t dk_t                dW_a = (sum_t dk_t) s^T,  dU_a = sum_t dk_t h_t^T

A decoder attends to the same ``Hs`` at every step: ``keys`` computes the keys once, ``attend``
and ``attend_backward`` are one step's share, and ``keys_backward`` turns the keys' summed
gradient into ``dHs`` and ``dU_a`` once. ``additive_attention`` and its backward are the three
put together, for one query.
"""

import numpy as np

from ._checks import as_float_array

__all__ = ["additive_attention", "additive_attention_backward", "keys", "attend", "attend_backward",
           "keys_backward", "check_mask"]


def check_mask(mask, shape):
    """``mask`` as a boolean (T_src, B) array: 0/1 (or bool) of ``shape``, and every column with at
    least one real position (else the softmax would have nothing to weigh)."""
    try:
        m = np.asarray(mask)
    except Exception as exc:
        raise ValueError(f"mask could not be converted to an array: {exc}") from None
    if m.shape != shape:
        raise ValueError(f"mask has shape {m.shape}, expected {shape} = (T_src, B), the shape of Hs without H_enc")
    if m.dtype != bool:
        if m.dtype.kind not in "biuf" or not np.isin(m, (0, 1)).all():
            raise ValueError("mask must hold only 0 and 1 (1 where a source position is real)")
        m = m.astype(bool)
    empty = np.flatnonzero(~m.any(axis=0))
    if empty.size:
        raise ValueError(f"mask column {int(empty[0])} has no real position: attention needs at least one")
    return m


def _check(s, Hs, mask, weights):
    """The arguments of ``additive_attention``, checked, in one floating dtype."""
    Hs = as_float_array(Hs, "Hs", 3, "(T_src, H_enc, B)")
    T, H_enc, B = Hs.shape
    s = as_float_array(s, "s", 2, "(H_dec, B)")
    if s.shape[1] != B:
        raise ValueError(f"s has shape {s.shape}, expected (H_dec, {B}) = (H_dec, B): Hs has B = {B}")
    try:
        W_a, U_a, v_a = weights
    except (TypeError, ValueError):
        raise ValueError("weights must be the tuple (W_a, U_a, v_a)") from None
    W_a = as_float_array(W_a, "W_a", 2, "(A, H_dec)")
    A = W_a.shape[0]
    U_a = as_float_array(U_a, "U_a", 2, "(A, H_enc)")
    v_a = as_float_array(v_a, "v_a", 2, "(A, 1)")
    for name, W, want in (("W_a", W_a, (A, s.shape[0])), ("U_a", U_a, (A, H_enc)), ("v_a", v_a, (A, 1))):
        if W.shape != want:
            dims = {"W_a": "(A, H_dec)", "U_a": "(A, H_enc)", "v_a": "(A, 1)"}[name]
            raise ValueError(f"{name} has shape {W.shape}, expected {want} = {dims} "
                             f"with A = {A} (W_a's rows), H_dec = {s.shape[0]}, H_enc = {H_enc}")
    dtype = np.result_type(s, Hs, W_a, U_a, v_a)
    cast = lambda a: a.astype(dtype, copy=False)
    return cast(s), cast(Hs), check_mask(mask, (T, B)), (cast(W_a), cast(U_a), cast(v_a))


def keys(Hs, U_a):
    """The keys ``U_a h_t`` of every source position: (T_src, A, B), from ``Hs`` (T_src, H_enc, B)."""
    return np.matmul(U_a, Hs)


def attend(s, K, Hs, mask, W_a, v_a):
    """One query's context and weights, given the keys ``K`` (T_src, A, B) and a boolean ``mask``.

    Returns ``context`` (H_enc, B), ``alpha`` (T_src, B) and the cache for ``attend_backward``,
    ``(s, Hs, W_a, v_a, a, alpha)`` with ``a`` the (T_src, A, B) values ``tanh(W_a s + k_t)``.
    """
    a = np.tanh(W_a @ s + K)                                  # (T, A, B): the query added to each key
    e = np.matmul(v_a.T, a)[:, 0]                             # (T, B): the scores
    # softmax over the real positions: the largest real score is subtracted (exp cannot
    # overflow), and the padded positions are set to exactly 0, not to a tiny number
    top = np.where(mask, e, -np.inf).max(axis=0)
    w = np.where(mask, np.exp(np.where(mask, e - top, 0.0)), 0.0)
    alpha = w / w.sum(axis=0)
    context = np.einsum("tb,thb->hb", alpha, Hs)
    return context, alpha, (s, Hs, W_a, v_a, a, alpha)


def attend_backward(dcontext, cache):
    """``attend``'s backward: ``ds`` (H_dec, B), ``dK`` (T_src, A, B), the direct part of ``dHs``
    (``alpha_t dcontext``), ``dW_a`` and ``dv_a``."""
    s, Hs, W_a, v_a, a, alpha = cache
    dHs = alpha[:, None, :] * dcontext[None]                  # (T, H_enc, B)
    dalpha = np.einsum("thb,hb->tb", Hs, dcontext)
    de = alpha * (dalpha - (alpha * dalpha).sum(axis=0))      # 0 where alpha is 0: the padding
    dv_a = np.einsum("tab,tb->a", a, de)[:, None]
    dK = (1 - a * a) * (v_a[None] * de[:, None, :])           # (T, A, B): d pre-tanh = d key
    dq = dK.sum(axis=0)                                       # the query is added at every position
    return W_a.T @ dq, dK, dHs, dq @ s.T, dv_a


def keys_backward(dK, Hs, U_a):
    """From the keys' gradient (T_src, A, B): ``U_a^T dk_t`` for every position (T_src, H_enc, B),
    and ``dU_a`` (A, H_enc)."""
    return np.matmul(U_a.T, dK), np.tensordot(dK, Hs, axes=((0, 2), (0, 2)))


def additive_attention(s, Hs, mask, weights):
    """Additive attention of one query over the encoder's outputs.

    Parameters
    ----------
    s : ndarray, shape (H_dec, B)
        The decoder's state: the query.
    Hs : ndarray, shape (T_src, H_enc, B)
        The encoder's outputs: keys and values.
    mask : ndarray of 0/1 or bool, shape (T_src, B)
        1 where a source position is real, 0 where it is padding; every column needs a 1.
    weights : (W_a, U_a, v_a)
        Shapes (A, H_dec), (A, H_enc), (A, 1).

    Returns
    -------
    context : ndarray, shape (H_enc, B)
        ``sum_t alpha_t h_t``.
    alpha : ndarray, shape (T_src, B)
        The weights: each column sums to 1, and is exactly 0 where ``mask`` is 0.
    cache : for ``additive_attention_backward``
        ``(attend's cache, U_a)``: ``((s, Hs, W_a, v_a, a, alpha), U_a)``.
    """
    s, Hs, mask, (W_a, U_a, v_a) = _check(s, Hs, mask, weights)
    context, alpha, cache = attend(s, keys(Hs, U_a), Hs, mask, W_a, v_a)
    return context, alpha, (cache, U_a)


def additive_attention_backward(dcontext, cache):
    """Gradients of ``additive_attention``.

    Parameters
    ----------
    dcontext : ndarray, shape (H_enc, B)
    cache : from ``additive_attention``

    Returns
    -------
    ds : ndarray, shape (H_dec, B)
    dHs : ndarray, shape (T_src, H_enc, B)
        Exactly 0 at the padded positions.
    dweights : (dW_a, dU_a, dv_a), the weights' shapes
    """
    try:
        step, U_a = cache
        Hs = step[1]
    except (TypeError, ValueError, IndexError):
        raise ValueError("cache must be the one returned by rnnlib.additive_attention") from None
    dcontext = as_float_array(dcontext, "dcontext", 2, "(H_enc, B)")
    if dcontext.shape != (Hs.shape[1], Hs.shape[2]):
        raise ValueError(f"dcontext has shape {dcontext.shape}, expected {(Hs.shape[1], Hs.shape[2])} = (H_enc, B), "
                         "the shape of context")
    ds, dK, dHs, dW_a, dv_a = attend_backward(dcontext.astype(Hs.dtype, copy=False), step)
    dHs_keys, dU_a = keys_backward(dK, Hs, U_a)
    return ds, dHs + dHs_keys, (dW_a, dU_a, dv_a)
