"""Assignment 6, attention and decoding: its graded parts and their cases.

The parts:

- ``attention_forward(s, Hs, mask, weights) -> (context, alpha, cache)``, additive attention with
  a mask, judged against ``rnnlib.additive_attention``; the cache is ``(s, Hs, a, alpha)`` with
  ``a = tanh(W_a s + U_a h_t)`` (T_src, A, B), a layout fixed for part 2. Every case has
  H_enc != H_dec != A; masks pad some columns (padding at the end) and give one column a single
  real position; B = 1 and T_src = 1; one column's encoder outputs all 0 (its context is 0,
  which a context summed over the batch is not). Two cases have scores of magnitude 1e3 (``v_a``
  LARGE times larger; no warning allowed there): one without padding, where a real score is above
  OVERFLOW (an exponential without the largest score subtracted overflows), and one where a
  padded position scores more than UNDERFLOW above every real position of its column (a
  softmax over every position, masked afterwards, loses all its real weights to underflow).
- ``attention_backward(dcontext, cache, weights) -> (ds, dHs, (dW_a, dU_a, dv_a))``, against
  ``rnnlib.additive_attention_backward``, on the reference's cache (so that this part is judged
  alone): padded columns, B = 1, T_src = 1, and saturated ``a`` (encoder outputs 10 times larger).
- ``decoder_step(y_prev, h, Hs, mask, params) -> (logits, h_next, alpha)``, one step of a GRU
  decoder with attention, against ``rnnlib.seq2seq.model.decoder_step``. The student's
  ``attention_forward`` is answered by an oracle: its call with the query ``h`` (the state
  before the step) and the case's ``Hs``, mask and weights gets the reference's answer; a call
  with another query (``h_next``) is answered by the student's own function and noted.
- ``beam_step(log_probs, scores, states, k, finished) -> (new_scores, tokens, parents, new_states)``,
  against ``rnnlib.seq2seq.decode.beam_step`` for ``states`` one (H, n) array and ``finished``
  a bool array (n,) (the fixed-width beam, where a hypothesis that has written ``<eos>`` stays,
  not extended: its one candidate is itself, score unchanged, token EOS): the first step
  (n = 1, scores 0), k = 1, k = V n, one hypothesis far ahead of the others (all k kept
  candidates extend it: the best token of each parent is not the answer), ties (scores on a
  grid of quarters: equal candidates inside and across the k kept, in several parents), a large
  vocabulary, none finished in all these; then finished hypotheses: one that would otherwise be
  extended into the top k (``finished_matters``), a finished one tied with kept candidates of
  a later parent (``finished_ties``), and every hypothesis finished. Tokens and parents are
  integer arrays, judged exactly (``rnngrade.judge``).

Hidden cases' inputs derive from the course secret (``rnngrade.secret.case_rng``) and their case
numbers below; the visible examples (case 0) are the notebook's, from their fixed seeds.
"""

import numpy as np

import rnnlib
from rnnlib.seq2seq import decode
from rnnlib.seq2seq.model import Model, decoder_step
from rnnlib.seq2seq.vocab import EOS

from .cases import WEIGHT_SCALE, case_rng, hidden_rngs
from .types import Assignment, Case, Part

NAME = "attention"
#: how much larger v_a is in the cases with large scores
LARGE = 1000.0
#: a score above which exp overflows (float64's largest exponent is about 709.8)
OVERFLOW = 720.0
#: a gap between scores beyond which exp of the difference underflows to 0 (float64: about -745)
UNDERFLOW = 800.0
#: the cache's entries, named by position
CACHE_NAMES = ("cache[0] s", "cache[1] Hs", "cache[2] a", "cache[3] alpha")
GRU_NAMES = rnnlib.CELLS["gru"].weight_names
#: the attention_forward oracle's notes (rnngrade.judge), by code
ATTENTION_NOTES = {
    "wrong-input": "the query your code passed to attention_forward differs from the reference's: the decoder "
                   "attends with the state it reads, h, the state before the step (not h_next)",
    "no-match": "your code called attention_forward with other encoder outputs, mask or weights than the ones "
                "decoder_step was given: attention_forward(h, Hs, mask, (W_a, U_a, v_a)), in that order",
}


def _rng(grade_id, i, seed, secret):
    return case_rng(hidden_rngs(secret, NAME), grade_id, i, seed)


def _mask(T, lengths):
    """A (T, B) mask of 0.0/1.0: ``lengths[b]`` real positions at the top of column ``b``."""
    return (np.arange(T)[:, None] < np.asarray(lengths)).astype(np.float64)


def _sizes(lengths=None, **sizes):
    text = ", ".join(f"{k}={v}" for k, v in sizes.items())
    if lengths is not None and min(lengths) < sizes["T_src"]:
        text += ", real positions per column " + "/".join(map(str, lengths))
    return text


# --------------------------------------------------------------------------- attention

def attention_problem(rng, T=5, H_enc=6, H_dec=4, A=3, lengths=(5, 3, 1)):
    """The notebook's ``attention_problem`` drawn from ``rng``: ``(s, Hs, mask, weights, dcontext)``."""
    B = len(lengths)
    Hs, s = rng.standard_normal((T, H_enc, B)), rng.standard_normal((H_dec, B))
    weights = tuple(WEIGHT_SCALE * rng.standard_normal(shape) for shape in ((A, H_dec), (A, H_enc), (A, 1)))
    return s, Hs, _mask(T, lengths), weights, rng.standard_normal((H_enc, B))


def reference_attention(s, Hs, mask, weights):
    """rnnlib's attention, its cache laid out as the assignment's: ``(s, Hs, a, alpha)``."""
    context, alpha, ((_, _, _, _, a, _), _) = rnnlib.additive_attention(s, Hs, mask, weights)
    return context, alpha, (s, Hs, a, alpha)


def scores(s, Hs, weights):
    """Every position's score ``v_a^T tanh(W_a s + U_a h_t)``, (T_src, B)."""
    W_a, U_a, v_a = weights
    return (v_a * np.tanh(W_a @ s + U_a @ Hs)).sum(axis=1)


def large_enough(s, Hs, mask, weights, padded):
    """Whether a case of large scores shows what it is for: a real score above OVERFLOW; with
    ``padded``, also a column where a padded position scores UNDERFLOW above every real one."""
    e, real = scores(s, Hs, weights), mask > 0
    top = np.where(real, e, -np.inf).max(axis=0)
    pad = np.where(real, -np.inf, e).max(axis=0)
    return top.max() > OVERFLOW and (not padded or (pad - top).max() > UNDERFLOW)


def _large(rng, padded, **sizes):
    """A problem whose v_a is LARGE times larger, drawn again until ``large_enough``."""
    while True:
        s, Hs, mask, (W_a, U_a, v_a), dcontext = attention_problem(rng, **sizes)
        weights = (W_a, U_a, LARGE * v_a)
        if large_enough(s, Hs, mask, weights, padded):
            return s, Hs, mask, weights, dcontext


#: the notebook's examples: part 1's seed (chosen so that, with v_a LARGE times larger, a real
#: score overflows and a padded one is UNDERFLOW above a column's real ones), part 2's
FORWARD_SEED, BACKWARD_SEED = 16, 1


def _forward_part(secret):
    gid = "test_attention_forward"
    s, Hs, mask, (W_a, U_a, v_a), _ = attention_problem(np.random.default_rng(FORWARD_SEED))
    inputs = [(0, "the visible example", (s, Hs, mask, (W_a, U_a, v_a)), False),
              (0, "the visible example with v_a 1000 times larger", (s, Hs, mask, (W_a, U_a, LARGE * v_a)), True)]
    # (case number, sizes, large scores)
    for i, (seed, sizes, large) in enumerate([
            (6101, dict(T=7, H_enc=6, H_dec=4, A=5, lengths=(7, 4, 1, 6)), None),
            (6102, dict(T=6, H_enc=3, H_dec=5, A=4, lengths=(4,)), None),
            (6103, dict(T=1, H_enc=4, H_dec=3, A=2, lengths=(1, 1, 1)), None),
            (6104, dict(T=6, H_enc=5, H_dec=3, A=4, lengths=(6, 6, 6)), "no padding"),
            (6105, dict(T=5, H_enc=4, H_dec=6, A=3, lengths=(5, 2, 3)), "a padded position far above the real ones")],
            1):
        rng = _rng(gid, i, seed, secret)
        if large is None:
            s, Hs, mask, weights, _ = attention_problem(rng, **sizes)
        else:
            s, Hs, mask, weights, _ = _large(rng, padded=min(sizes["lengths"]) < sizes["T"], **sizes)
        what = _sizes(sizes["lengths"], T_src=sizes["T"], H_enc=sizes["H_enc"], H_dec=sizes["H_dec"], A=sizes["A"],
                      B=len(sizes["lengths"]))
        what += "" if large is None else f", scores of magnitude 1e3, {large}"
        inputs.append((i, f"hidden case {i} ({what})", (s, Hs, mask, weights), large is not None))
    # the batch's columns kept apart: column 1's encoder outputs all 0, so that its context is 0
    # (a context summed over the batch gives it column 0's)
    sizes = dict(T=4, H_enc=5, H_dec=3, A=2, lengths=(4, 3))
    s, Hs, mask, weights, _ = attention_problem(_rng(gid, 6, 6106, secret), **sizes)
    Hs[:, :, 1] = 0.0
    what = _sizes(sizes["lengths"], T_src=4, H_enc=5, H_dec=3, A=2, B=2)
    inputs.append((6, f"hidden case 6 ({what}, column 1's encoder outputs all 0: its context is 0)",
                   (s, Hs, mask, weights), False))
    cases = [Case(label, args, reference_attention(*args), ("context", "alpha", CACHE_NAMES), hidden=i > 0,
                  forbid_warnings=forbid)
             for i, label, args, forbid in inputs]
    return Part(gid, 3, "attention_forward", cases)


def _backward_part(secret):
    gid = "test_attention_backward"
    cases = []
    # (case number, sizes, how much larger Hs is: saturates a = tanh(...))
    for i, (seed, sizes, scale) in enumerate([
            (BACKWARD_SEED, {}, 1.0),
            (6201, dict(T=7, H_enc=6, H_dec=4, A=5, lengths=(7, 1, 5, 3)), 1.0),
            (6202, dict(T=5, H_enc=3, H_dec=6, A=4, lengths=(3,)), 1.0),
            (6203, dict(T=1, H_enc=5, H_dec=2, A=3, lengths=(1, 1, 1)), 1.0),
            (6204, dict(T=4, H_enc=3, H_dec=4, A=6, lengths=(4, 2)), 10.0)]):
        s, Hs, mask, weights, dcontext = attention_problem(_rng(gid, i, seed, secret), **sizes)
        Hs = scale * Hs
        _, _, cache = reference_attention(s, Hs, mask, weights)
        ds, dHs, dweights = rnnlib.additive_attention_backward(dcontext, rnnlib.additive_attention(
            s, Hs, mask, weights)[2])
        if i == 0:
            label = "the visible example"
        else:
            label = f"hidden case {i} (" + _sizes(sizes["lengths"], T_src=sizes["T"], H_enc=sizes["H_enc"],
                                                  H_dec=sizes["H_dec"], A=sizes["A"], B=len(sizes["lengths"]))
            label += ", encoder outputs 10 times larger: a saturated tanh)" if scale > 1 else ")"
        cases.append(Case(label, (dcontext, cache, weights), (ds, dHs, tuple(dweights)),
                          ("ds", "dHs", ("dW_a", "dU_a", "dv_a")), hidden=i > 0))
    return Part(gid, 4, "attention_backward", cases)


# --------------------------------------------------------------------------- the decoder's step

def decoder_problem(rng, V=7, D=3, H_enc=6, H_dec=5, A=4, T=5, lengths=(5, 2, 4)):
    """The notebook's ``decoder_problem`` drawn from ``rng``: ``(y_prev, h, Hs, mask, params)``."""
    B = len(lengths)
    params = {"E_tgt": rng.standard_normal((D, V))}
    params.update(zip(("W_a", "U_a", "v_a"),
                      (WEIGHT_SCALE * rng.standard_normal(shape) for shape in ((A, H_dec), (A, H_enc), (A, 1)))))
    params.update({f"{name}_dec": WEIGHT_SCALE * rng.standard_normal(shape)
                   for name, shape in zip(GRU_NAMES, rnnlib.CELLS["gru"].shapes(D + H_enc, H_dec))})
    params["W_y"], params["b_y"] = (WEIGHT_SCALE * rng.standard_normal((V, H_dec)),
                                    WEIGHT_SCALE * rng.standard_normal((V, 1)))
    y_prev = rng.integers(0, V, size=B)
    h, Hs = rng.standard_normal((H_dec, B)), rng.standard_normal((T, H_enc, B))
    return y_prev, h, Hs, _mask(T, lengths), params


def reference_decoder_step(y_prev, h, Hs, mask, params):
    """rnnlib's decoder step for a GRU decoder of these sizes (the encoder's do not matter to one step)."""
    (D, V), H_dec = params["E_tgt"].shape, h.shape[0]
    model = Model("gru", 1, D, Hs.shape[1] // 2, H_dec, True, 1, V)
    logits, h_next, alpha, _ = decoder_step(model, params, y_prev, h, Hs, mask > 0)
    return logits, h_next, alpha


DECODER_SEED = 2


def _decoder_case(i, label, y_prev, h, Hs, mask, params):
    weights = (params["W_a"], params["U_a"], params["v_a"])
    entry = {"match": [[[1], Hs], [[2], mask], [[3, 0], weights[0]], [[3, 1], weights[1]], [[3, 2], weights[2]]],
             "check": [[[0], h]], "result": reference_attention(h, Hs, mask, weights)}
    oracles = {"attention_forward": {"kind": "calls", "entries": [entry], "notes": ATTENTION_NOTES,
                                     "params": ["s", "Hs", "mask", "weights"]}}
    return Case(label, (y_prev, h, Hs, mask, params), reference_decoder_step(y_prev, h, Hs, mask, params),
                ("logits", "h_next", "alpha"), hidden=i > 0, oracles=oracles)


def _decoder_part(secret):
    gid = "test_decoder_step"
    cases = []
    for i, (seed, sizes) in enumerate([
            (DECODER_SEED, {}),
            (6301, dict(V=7, D=3, H_enc=6, H_dec=5, A=4, T=5, lengths=(5, 3, 1))),
            (6302, dict(V=5, D=4, H_enc=3, H_dec=6, A=2, T=4, lengths=(3,))),
            (6303, dict(V=9, D=2, H_enc=4, H_dec=3, A=5, T=1, lengths=(1, 1))),
            (6304, dict(V=12, D=5, H_enc=8, H_dec=4, A=6, T=6, lengths=(6, 2, 6, 4)))]):
        y_prev, h, Hs, mask, params = decoder_problem(_rng(gid, i, seed, secret), **sizes)
        if i == 4:
            y_prev[2] = y_prev[0]                   # one token in two columns
        what = {} if i == 0 else dict(V=sizes["V"], D=sizes["D"], T_src=sizes["T"], H_enc=sizes["H_enc"],
                                      H_dec=sizes["H_dec"], A=sizes["A"], B=len(sizes["lengths"]))
        label = "the visible example" if i == 0 else f"hidden case {i} ({_sizes(sizes['lengths'], **what)})"
        cases.append(_decoder_case(i, label, y_prev, h, Hs, mask, params))
    return Part(gid, 3, "decoder_step", cases)


# --------------------------------------------------------------------------- beam search

BEAM_NAMES = ("new_scores", "tokens", "parents", "new_states")


def beam_problem(rng, V=6, n=3, H=4):
    """The notebook's ``beam_problem`` drawn from ``rng``: log-probabilities (V, n), scores (n,)
    best first, states (H, n)."""
    log_probs = decode.log_softmax(2.0 * rng.standard_normal((V, n)))
    scores = -np.sort(rng.uniform(0.0, 3.0, n))
    return log_probs, scores, rng.standard_normal((H, n))


#: the notebook's example of ties: (V, n) = (4, 3), every score a multiple of 0.5
TIES_LOG_PROBS = np.array([[-1.0, -0.5, -1.0],
                           [-0.5, -1.5, -0.5],
                           [-2.0, -0.5, -1.0],
                           [-0.5, -1.0, -2.0]])
TIES_SCORES = np.array([-1.0, -1.5, -1.0])
#: the notebook's example of finished hypotheses: its seed and which of its n = 4 are finished
#: (the first, the best, would otherwise be extended into the top k)
FINISHED_SEED, FINISHED = 7, np.array([True, False, True, False])


def none_finished(n):
    return np.zeros(n, dtype=bool)


def beam_examples():
    """The notebook's examples, {label: (log_probs, scores, states, k, finished)}."""
    log_probs, scores, states = beam_problem(np.random.default_rng(3))
    first, _, first_states = beam_problem(np.random.default_rng(4), n=1)
    ties_states = np.random.default_rng(5).standard_normal((4, 3))
    done, done_scores, done_states = beam_problem(np.random.default_rng(FINISHED_SEED), n=4)
    return {"n = 3 hypotheses, k = 3": (log_probs, scores, states, 3, none_finished(3)),
            "the first step, n = 1, k = 4": (first, np.zeros(1), first_states, 4, none_finished(1)),
            "ties, k = 5": (TIES_LOG_PROBS, TIES_SCORES, ties_states, 5, none_finished(3)),
            "hypotheses 0 and 2 finished, k = 4": (done, done_scores, done_states, 4, FINISHED.copy())}


def _beam_case(i, label, log_probs, scores, states, k, finished):
    expected = decode.beam_step(log_probs, scores, states, k, finished)
    return Case(label, (log_probs, scores, states, k, finished), expected, BEAM_NAMES, hidden=i > 0)


def _beam_part(secret):
    gid = "test_beam_step"
    cases = [_beam_case(0, f"the visible example ({label})", *args) for label, args in beam_examples().items()]

    def rng(i, seed):
        return _rng(gid, i, seed, secret)

    def label(i, what, V, n, H, k):
        return f"hidden case {i} (V={V}, n={n}, H={H}, k={k}" + (f", {what})" if what else ")")

    # typical: hypotheses best first, as the step before leaves them
    for i, seed, V, n, H, k in ((1, 6401, 10, 4, 5, 4), (2, 6402, 40, 5, 6, 5)):
        cases.append(_beam_case(i, label(i, "", V, n, H, k), *beam_problem(rng(i, seed), V, n, H), k, none_finished(n)))
    # the first step: one hypothesis, of score 0
    log_probs, _, states = beam_problem(rng(3, 6403), 8, 1, 3)
    cases.append(_beam_case(3, label(3, "the first step, scores 0", 8, 1, 3, 5), log_probs, np.zeros(1), states, 5,
                            none_finished(1)))
    # k = 1, and k = V n (every candidate kept)
    cases.append(_beam_case(4, label(4, "", 7, 3, 4, 1), *beam_problem(rng(4, 6404), 7, 3, 4), 1, none_finished(3)))
    cases.append(_beam_case(5, label(5, "every candidate kept", 3, 2, 2, 6), *beam_problem(rng(5, 6405), 3, 2, 2), 6,
                            none_finished(2)))
    # one hypothesis (not the first) far ahead: the k kept candidates all extend it
    r = rng(6, 6406)
    log_probs, _, states = beam_problem(r, 6, 3, 2)
    scores = -20.0 - r.uniform(0.0, 1.0, 3)
    scores[1 + int(r.integers(2))] = -0.1
    cases.append(_beam_case(6, label(6, "one hypothesis far ahead of the others", 6, 3, 2, 3),
                            log_probs, scores, states, 3, none_finished(3)))
    # ties: every value a multiple of 0.25, drawn again until equal candidates straddle the k-th
    # and lie inside the k kept in two parents or more
    r = rng(7, 6407)
    V, n, H, k = 5, 4, 3, 6
    while True:
        log_probs = -r.integers(1, 7, size=(V, n)) / 4
        scores = -r.integers(0, 3, size=n) / 4
        if ties_matter(log_probs, scores, k):
            break
    cases.append(_beam_case(7, label(7, "ties", V, n, H, k), log_probs, scores, r.standard_normal((H, n)), k,
                            none_finished(n)))
    # finished hypotheses: two of five, drawn again until one of them would otherwise be extended
    # into the top k and one is kept as it is
    r = rng(8, 6408)
    V, n, H, k = 7, 5, 3, 5
    while True:
        log_probs, scores, states = beam_problem(r, V, n, H)
        finished = none_finished(n)
        finished[r.choice(n, size=2, replace=False)] = True
        if finished_matters(log_probs, scores, k, finished):
            break
    cases.append(_beam_case(8, label(8, "2 hypotheses finished, one of them among the best", V, n, H, k),
                            log_probs, scores, states, k, finished))
    # a finished hypothesis tied with kept candidates of a later parent: multiples of 0.25 again
    r = rng(9, 6409)
    V, n, H, k = 5, 4, 3, 6
    while True:
        log_probs = -r.integers(1, 7, size=(V, n)) / 4
        scores = -r.integers(0, 3, size=n) / 4
        finished = none_finished(n)
        finished[r.choice(n, size=2, replace=False)] = True
        if finished_ties(log_probs, scores, k, finished) and finished_matters(log_probs, scores, k, finished):
            break
    cases.append(_beam_case(9, label(9, "2 hypotheses finished, tied with other candidates", V, n, H, k),
                            log_probs, scores, r.standard_normal((H, n)), k, finished))
    # every hypothesis finished: the step keeps them as they are, best first
    r = rng(10, 6410)
    log_probs, _, states = beam_problem(r, 6, 3, 4)
    cases.append(_beam_case(10, label(10, "every hypothesis finished", 6, 3, 4, 3), log_probs,
                            -r.permutation(r.uniform(0.0, 3.0, 3)), states, 3, ~none_finished(3)))
    return Part(gid, 3, "beam_step", cases)


def ties_matter(log_probs, scores, k):
    """Whether the tie rule decides which candidates are kept (an equal candidate is left out at
    the k-th) and their order (equal kept candidates of two or more parents)."""
    V, n = log_probs.shape
    candidates = (scores + log_probs).T.ravel()
    order = np.argsort(-candidates, kind="stable")
    kept, rest = candidates[order[:k]], candidates[order[k:]]
    straddles = rest.size > 0 and rest[0] == kept[-1]
    values, counts = np.unique(kept, return_counts=True)
    parents = [len({int(j) // V for j in order[:k][kept == v]}) for v in values[counts > 1]]
    return straddles and any(p >= 2 for p in parents)


def finished_matters(log_probs, scores, k, finished):
    """Whether a finished hypothesis would be extended into the top k (by a token other than EOS)
    if ``finished`` were ignored, and one is kept, as it is, when it is not."""
    _, tokens, parents, _ = decode.beam_step(log_probs, scores, np.zeros((1, len(scores))), k)
    extended = (finished[parents] & (tokens != EOS)).any()
    _, tokens, parents, _ = decode.beam_step(log_probs, scores, np.zeros((1, len(scores))), k, finished)
    return bool(extended and finished[parents].any())


def finished_ties(log_probs, scores, k, finished):
    """Whether a kept finished hypothesis has the score of a kept candidate of a later, unfinished
    parent (which the tie rule puts after it)."""
    new_scores, _, parents, _ = decode.beam_step(log_probs, scores, np.zeros((1, len(scores))), k, finished)
    return any(finished[p] and not finished[q] and q > p and a == b
               for a, p in zip(new_scores, parents) for b, q in zip(new_scores, parents))


def build(secret=None):
    return Assignment(
        NAME, "attention.ipynb",
        [_forward_part(secret), _backward_part(secret), _decoder_part(secret), _beam_part(secret)],
        skip_cells=frozenset({"gradcheck", "translate"}),
        # the GRU step that decoder_step builds on stays; rnnlib's attention, decoder step and beam
        # search (the answers) go with every module not kept
        keep_in_rnnlib=frozenset({"activations", "cells"}))
