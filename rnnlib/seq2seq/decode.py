"""Decoding: from a source to the most likely target, greedily or by beam search.

**Greedy** writes, at each step, the single most likely token, and feeds it back.

**Beam search** keeps the ``k`` most likely partial targets (hypotheses). Each step::

    expand   every live hypothesis j by every token v:    score(j, v) = score_j + log p(v | j)
    keep     the k best of the (live x V) candidates      (ties: the lower parent, then token)
    reorder  the decoder states by parent: state[:, parents]

A candidate that ends with ``<eos>`` is finished: it is kept apart, and the beam goes on with
one hypothesis fewer (``k - finished`` wide), until ``k`` are finished or ``max_len`` steps.
The score is the summed log-probability, which favours short targets (every token adds a
negative term); with ``length_norm = a`` the finished ones are ranked by
``score / length ** a`` (0: no normalization, 1: the mean log-probability per token).
"""

import numpy as np

from .. import attention as att
from ..threads import limited
from .model import Model, decoder_step, encode, initial_state
from .vocab import BOS, EOS

__all__ = ["log_softmax", "greedy_decode", "beam_step", "beam_search", "Hypothesis"]


def log_softmax(logits):
    """``log softmax`` over the rows (the vocabulary) of (V, B) logits."""
    shifted = logits - logits.max(axis=0, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))


def _encoded(cell, params, src, src_mask):
    model = Model.of(cell, params)
    Hs, summary, _ = encode(model, params, np.asarray(src), src_mask)
    K = att.keys(Hs, params["U_a"]) if model.attention else None
    return model, Hs, summary, K


def greedy_decode(cell, params, src, src_mask, max_len):
    """The most likely token at every step, for a batch.

    Parameters
    ----------
    src, src_mask : (T_src, B), as for ``seq2seq_forward``
    max_len : int
        Steps at most (``<eos>`` included).

    Returns
    -------
    tokens : list of B lists of ids, without ``<eos>``
    alphas : list of B arrays (steps, T_src): each written token's attention (None without)
    """
    # on the threads that pay, as seq2seq_forward's products
    with limited(Model.of(cell, params).step_work(np.shape(src)[1])):
        return _greedy(cell, params, src, src_mask, max_len)


def _greedy(cell, params, src, src_mask, max_len):
    model, Hs, summary, K = _encoded(cell, params, src, src_mask)
    mask = np.asarray(src_mask).astype(bool)
    B = Hs.shape[2]
    state, y = initial_state(model, params, summary), np.full(B, BOS)
    out, weights, done = [], [], np.zeros(B, bool)
    for _ in range(max_len):
        logits, state, alpha, _ = decoder_step(model, params, y, state, Hs, mask, summary, K)
        y = logits.argmax(axis=0)
        out.append(y)
        weights.append(alpha)
        done |= y == EOS
        if done.all():
            break
    out = np.stack(out)                                  # (steps, B)
    tokens, alphas = [], []
    for b in range(B):
        n = int(np.argmax(out[:, b] == EOS)) if (out[:, b] == EOS).any() else len(out)
        tokens.append(out[:n, b].tolist())
        alphas.append(np.stack([a[:, b] for a in weights[:n + 1]]) if model.attention else None)
    return tokens, alphas


def beam_step(log_probs, scores, states, k, finished=None):
    """One step of beam search: expand, score, keep the top ``k``, reorder the states.

    ``finished`` is for the fixed-width variant of beam search, in which a hypothesis that has
    written ``<eos>`` stays in the beam (and keeps its place there while it is among the ``k``
    best) instead of leaving it: such a hypothesis is not extended. Its only candidate is itself,
    with its score unchanged and the token ``EOS``; its other candidates do not exist. (It is
    done by giving a finished column the log-probability 0 at ``EOS`` and -inf elsewhere.)
    ``beam_search`` keeps the finished hypotheses apart instead, and passes none.

    Parameters
    ----------
    log_probs : ndarray (V, n)
        ``log p(v | hypothesis j)`` for each of the ``n`` live hypotheses (columns).
    scores : ndarray (n,)
        Each hypothesis's summed log-probability so far.
    states : the decoder's state after reading each hypothesis, (H, n), or an LSTM's pair
    k : int
        How many candidates to keep (at most ``V n``; with ``finished``, at most the number of
        candidates that exist, ``V`` per unfinished hypothesis and 1 per finished one: fewer
        are returned otherwise, as when ``k > V n``).
    finished : bool ndarray (n,), optional
        True for a hypothesis that has already written ``<eos>``. None (the default): none has.

    Returns
    -------
    scores : ndarray (k,)
        The kept candidates' scores, best first.
    tokens : int ndarray (k,)
        The token each kept candidate adds (``EOS`` for a finished hypothesis kept as it is).
    parents : int ndarray (k,)
        The hypothesis each extends.
    states : the states reordered by parent: column ``i`` is ``states[:, parents[i]]``
    """
    log_probs = np.asarray(log_probs)
    scores = np.asarray(scores)
    V, n = log_probs.shape
    if scores.shape != (n,):
        raise ValueError(f"scores has shape {scores.shape}, expected ({n},): one per column of log_probs (V, n)")
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k must be a positive integer; got {k!r}")
    if finished is not None:
        finished = np.asarray(finished)
        if finished.shape != (n,) or finished.dtype != bool:
            raise ValueError(f"finished must be a bool array of shape ({n},), one per column of log_probs (V, n); "
                             f"got {finished.dtype} {finished.shape}")
        # a finished column: EOS at no cost, no other token (np.where: no arithmetic on -inf)
        only_eos = np.where(np.arange(V)[:, None] == EOS, 0.0, -np.inf)           # (V, 1)
        log_probs = np.where(finished[None, :], only_eos, log_probs)
    candidates = (scores[None, :] + log_probs).T.ravel()        # (n V,): parent j's tokens together
    # the best first; a stable sort keeps equal scores in (parent, token) order
    best = np.argsort(-candidates, kind="stable")
    if finished is not None:                                    # a finished parent's other tokens do not exist
        exists = (~finished[:, None] | (np.arange(V) == EOS)).ravel()
        best = best[exists[best]]
    best = best[:k]
    parents, tokens = np.divmod(best, V)
    reorder = lambda s: s[:, parents]
    if isinstance(states, tuple):
        return candidates[best], tokens, parents, tuple(map(reorder, states))
    return candidates[best], tokens, parents, reorder(states)


class Hypothesis:
    """A target found by beam search: its ``tokens`` (ids, without ``<eos>``), ``score`` (the
    summed log-probability, ``<eos>`` included), ``finished`` (it ended with ``<eos>``) and
    ``alphas`` (len(tokens) + 1, T_src) when the model attends (else None)."""

    def __init__(self, tokens, score, finished, alphas):
        self.tokens, self.score, self.finished, self.alphas = tokens, float(score), finished, alphas

    def length(self):
        return len(self.tokens) + self.finished

    def ranked(self, length_norm):
        return self.score / self.length() ** length_norm if length_norm else self.score

    def __repr__(self):
        return f"Hypothesis(tokens={self.tokens}, score={self.score:.4f}, finished={self.finished})"


def beam_search(cell, params, src, k, max_len, length_norm=0.0):
    """Beam search for one source.

    Parameters
    ----------
    src : int array (T_src,)
        One source's ids (no padding).
    k : int
        The beam's width (1 is greedy).
    max_len : int
        Steps at most (``<eos>`` included).
    length_norm : float
        The exponent ``a`` of the ranking ``score / length ** a`` (0: none).

    Returns
    -------
    list of Hypothesis, best first (by the ranking): the finished ones (``k``, or fewer if
    ``max_len`` steps came first), or, if none finished, the unfinished ones.
    """
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"the beam width must be a positive integer; got {k!r}")
    src = np.asarray(src).reshape(-1, 1)
    with limited(Model.of(cell, params).step_work(k)):     # as greedy_decode
        return _beam(cell, params, src, k, max_len, length_norm)


def _beam(cell, params, src, k, max_len, length_norm):
    model, Hs, summary, K = _encoded(cell, params, src, np.ones(src.shape))
    spec = model.spec
    state = initial_state(model, params, summary)
    live = [([], [])]                                     # per hypothesis: tokens, alphas
    scores, y = np.zeros(1), np.array([BOS])
    finished = []
    for _ in range(max_len):
        n = len(live)
        cols = np.zeros(n, dtype=int)                     # every hypothesis reads the one source
        logits, state, alpha, _ = decoder_step(model, params, y, state, Hs[:, :, cols],
                                               np.ones((len(src), n), bool), summary[:, cols],
                                               None if K is None else K[:, :, cols])
        scores, tokens, parents, state = beam_step(log_softmax(logits), scores, state, k - len(finished))
        grown = [(live[j][0] + [int(v)], live[j][1] + ([alpha[:, j]] if alpha is not None else []))
                 for j, v in zip(parents, tokens)]
        ends = tokens == EOS
        for (toks, al), score in zip((g for g, e in zip(grown, ends) if e), scores[ends]):
            finished.append(Hypothesis(toks[:-1], score, True, np.stack(al) if al else None))
        if len(finished) == k:
            break
        keep = np.flatnonzero(~ends)
        live = [grown[i] for i in keep]
        scores, y = scores[keep], tokens[keep]
        state = spec.pack_state(tuple(s[:, keep] for s in spec.unpack_state(state)))
    else:
        if not finished:
            finished = [Hypothesis(t, s, False, np.stack(a) if a else None) for (t, a), s in zip(live, scores)]
    return sorted(finished, key=lambda h: -h.ranked(length_norm))
