"""Assignment 5, a character-level language model: its graded parts and their cases.

The parts:

- ``softmax_cross_entropy(logits, targets, mask=None) -> (loss, dlogits)``, judged against
  ``rnnlib.softmax_cross_entropy``: logits (V, B) and (T, V, B), B = 1, T = 1, V from 2 to 300,
  masks of 0/1 floats and of booleans with zeros in them, logits of magnitude 1e4 (no warning
  allowed: the max must be subtracted and log p computed as a log-sum-exp).
- ``clip_by_global_norm(grads, max_norm) -> (clipped, norm)``, against
  ``rnnlib.clip_by_global_norm``: lists where every array's own norm is under ``max_norm`` but
  the global norm is not (clipping each array by its own norm changes nothing there), a
  gradient already under the norm, one array, norms from 1e-3 to 1e3 side by side; and a case
  that also compares the arrays passed in, after the call, with what they were (a clipping that
  scales them in place loses the part).
- ``sample_next(logits, temperature, u) -> int``, against ``rnnlib.lm.next_char_id``: the draw
  ``u`` is passed in, so the answer is one index. Every ``u`` sits in the middle of its index's
  interval of the cumulative distribution, far from a boundary, except ``u`` near 0, ``u = 0``
  where the first characters have probability 0 (the draw skips them), and the largest float
  below 1 where the rounded cumulative sum ends below it (the answer is the last index; so is
  one of the visible examples);
  the answer is never the most likely index (so taking the argmax fails every case), and in the
  typical cases with a temperature it differs from the answer without one; logits of magnitude 1e4.
- ``train_step(cell, params, X_ids, Y_ids, state, lr, max_norm) -> (loss, state)``: one step of
  truncated BPTT. Each case runs two or three chunks in a row through the harness's driver
  ``train_chunks`` (each call starts from the state the previous one returned), and compares
  every loss, every returned state and the parameters after the last update. The student's
  ``softmax_cross_entropy`` and ``clip_by_global_norm`` are answered by oracles: the loss's
  matched by the chunk's targets (distinct within a case), the clipping's by the chunk's
  ``max_norm`` (distinct too: each chunk has its own, some under the gradient's norm and some
  over it). Starting from zeros or from the state passed in for the wrong chunk, returning the
  wrong state, sending the gradient on into the chunk before (not detaching), skipping the
  clipping or the update: each changes what the oracles are called with or what comes back.

Hidden cases' inputs derive from the course secret (``rnngrade.secret.case_rng``) and their case
numbers below; the visible examples (case 0) are the notebook's, from their fixed seeds.
"""

import numpy as np

import rnnlib
from rnnlib.grading import after_updates
from rnnlib.lm import init_lm, lm_backward, lm_forward
from rnnlib.optim import global_norm

from .cases import case_rng, hidden_rngs
from .types import Assignment, Case, Part

NAME = "charlm"
TRAIN_CHUNKS = {"__harness__": "train_chunks"}
KEEPS_INPUTS = {"__harness__": "keeps_inputs"}
#: an interval of the cumulative distribution that a hidden ``u`` falls in is at least this wide,
#: and ``u`` sits in its middle half: far from a boundary, where rounding could move the answer
MIN_PROBABILITY = 1e-3
#: what the feedback says when train_step calls the loss or the clipping with other arguments
#: than the reference does (the oracles' notes, by code; see rnngrade.judge)
LOSS_NOTES = {
    "wrong-input": "the logits your code passed to softmax_cross_entropy at one of the chunks differ from the "
                   "reference's: is each chunk's forward pass run from the state passed in, with the parameters "
                   "the step before left?",
    "no-match": "your code called softmax_cross_entropy with targets that are no chunk's Y_ids",
}
CLIP_NOTES = {
    "wrong-input": "the gradients your code passed to clip_by_global_norm at one of the chunks differ from the "
                   "reference's: lm_backward's for this chunk alone, as a list in the order of params",
    "no-match": "your code called clip_by_global_norm with another max_norm than the one passed in",
}


def _rng(grade_id, i, seed, secret):
    """Case ``i``'s generator: the notebook's (``default_rng(seed)``) for the visible examples
    (``i == 0``), else the one the course secret derives for case number ``seed``."""
    return case_rng(hidden_rngs(secret, NAME), grade_id, i, seed)


def _label(i, what):
    return "the visible example" if i == 0 else f"hidden case {i} ({what})"


# --------------------------------------------------------------------------- softmax cross-entropy

def _mask(rng, shape, kind):
    """A mask of ``kind`` ("float" 0/1 or "bool"), about a third of it zeros, at least one zero and one one."""
    counted = rng.random(shape) > 1 / 3
    counted.flat[0], counted.flat[-1] = False, True
    counted = rng.permuted(counted.ravel()).reshape(shape)
    return counted if kind == "bool" else counted.astype(np.float64)


def _softmax_part(secret):
    gid = "test_softmax_cross_entropy"
    # the notebook's example: a batch column of logits around 1e4 and two padded positions
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((4, 6, 3))
    logits[:, :, 2] *= 1e4
    targets = rng.integers(0, 6, size=(4, 3))
    mask = np.ones((4, 3))
    mask[3, 1:] = 0
    inputs = [(0, "the visible example, (T, V, B) with a mask", (logits, targets, mask)),
              (0, "the visible example, (V, B) without a mask", (logits[0], targets[0]))]
    # (case number, shape of the logits, their scale, the mask's kind)
    for i, (seed, shape, scale, mask_kind) in enumerate([
            (5101, (5, 7, 3), 2.0, "float"), (5102, (6, 4, 1), 2.0, None), (5103, (1, 2, 6), 2.0, "bool"),
            (5104, (3, 300, 2), 2.0, None), (5105, (4, 6, 3), 1e4, "float"), (5106, (5, 8), 2.0, "float")], 1):
        rng = _rng(gid, i, seed, secret)
        logits = scale * rng.standard_normal(shape)
        targets = rng.integers(0, shape[-2], size=shape[:-2] + shape[-1:])
        args = (logits, targets) if mask_kind is None else (logits, targets, _mask(rng, targets.shape, mask_kind))
        sizes = dict(zip("TVB", shape)) if len(shape) == 3 else dict(zip("VB", shape))
        what = ", ".join(f"{k}={v}" for k, v in sizes.items()) + (", logits of magnitude 1e4" if scale > 100 else "")
        what += ", no mask" if mask_kind is None else f", a {mask_kind} mask with zeros"
        inputs.append((i, _label(i, what), args))
    cases = [Case(label, args, rnnlib.softmax_cross_entropy(*args), ("loss", "dlogits"), hidden=i > 0,
                  forbid_warnings=bool(np.abs(args[0]).max() > 100))
             for i, label, args in inputs]
    return Part(gid, 4, "softmax_cross_entropy", cases)


# --------------------------------------------------------------------------- clipping by global norm

def _clip_case(i, label, grads, max_norm):
    clipped, norm = rnnlib.clip_by_global_norm(grads, max_norm)
    names = [f"clipped[{j}]" for j in range(len(grads))]
    return Case(label, (grads, max_norm), (clipped, norm), (names, "norm"), hidden=i > 0)


def _clip_part(secret):
    gid = "test_clip_by_global_norm"
    # the notebook's example: every array's own norm is under 2.5, their global norm is not
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal((3, 1)), rng.standard_normal((2, 3))]
    cases = [_clip_case(0, "the visible example", grads, 2.5),
             _clip_case(0, "the visible example, already under the norm", grads, 100.0)]

    def draw(rng, shapes, scales):
        return [s * rng.standard_normal(shape) for shape, s in zip(shapes, scales)]

    def between(grads):  # over every array's own norm, under the global norm
        own = max(global_norm([g]) for g in grads)
        return float((own + global_norm(grads)) / 2)

    rng = _rng(gid, 1, 5201, secret)
    grads = draw(rng, [(4, 5), (4, 1), (3, 4)], [1.0, 1.0, 1.0])
    label = _label(1, "3 arrays, each under max_norm on its own, together over it")
    cases.append(_clip_case(1, label, grads, between(grads)))
    rng = _rng(gid, 2, 5202, secret)
    grads = draw(rng, [(2, 3), (5,), (3, 1)], [1.0, 2.0, 0.5])
    cases.append(_clip_case(2, _label(2, "3 arrays already under the norm"), grads, 1.5 * global_norm(grads)))
    rng = _rng(gid, 3, 5203, secret)
    grads = draw(rng, [(1, 7)], [3.0])
    cases.append(_clip_case(3, _label(3, "one array"), grads, 0.5 * global_norm(grads)))
    rng = _rng(gid, 4, 5204, secret)
    grads = draw(rng, [(3, 3), (4, 2), (2, 2)], [1e3, 1e-3, 1.0])
    cases.append(_clip_case(4, _label(4, "norms from 1e-3 to 1e3"), grads, 0.2 * global_norm(grads)))
    rng = _rng(gid, 5, 5205, secret)
    shapes = [(6, 9)] * 3 + [(6, 1)] * 3 + [(5, 6), (5, 1)]         # a GRU's weights and a read-out
    grads = draw(rng, shapes, [1.0] * len(shapes))
    cases.append(_clip_case(5, _label(5, "8 arrays, strongly clipped"), grads, 0.05 * global_norm(grads)))
    # the arrays passed in must be as they were after the call (the harness's keeps_inputs
    # returns the answer and the arguments as the call left them)
    rng = _rng(gid, 6, 5206, secret)
    grads = draw(rng, [(3, 5), (3, 1), (4, 3)], [1.0, 1.0, 1.0])
    max_norm = 0.5 * global_norm(grads)
    answer = _clip_case(6, "", grads, max_norm)
    after = ([f"grads[{j}] after the call (your function must not change the arrays passed in)"
              for j in range(len(grads))], "max_norm after the call")
    cases.append(Case(_label(6, "3 arrays, clipped; the arrays passed in stay as they were"),
                      (KEEPS_INPUTS, grads, max_norm), (answer.expected, ([g.copy() for g in grads], max_norm)),
                      (answer.names, after)))
    return Part(gid, 2, "clip_by_global_norm", cases)


# --------------------------------------------------------------------------- sampling

def _cdf(logits, temperature):
    z = logits / temperature
    p = np.exp(z - z.max())
    return np.cumsum(p / p.sum())


def _u_inside(cdf, k, rng):
    """A ``u`` in the middle half of index ``k``'s interval of ``cdf``."""
    low = cdf[k - 1] if k else 0.0
    return float(low + (cdf[k] - low) * rng.uniform(0.25, 0.75))


def _u_for(rng, logits, temperature, avoid, tries=8):
    """A ``u`` inside the interval of an index whose probability is at least MIN_PROBABILITY and
    for which ``avoid(index, u)`` is false (the argmax, the index drawn without the temperature
    ...): indices in a random order, ``tries`` draws of ``u`` each; None if none fits."""
    cdf = _cdf(logits, temperature)
    width = np.diff(cdf, prepend=0.0)
    for k in rng.permutation(len(logits)):
        if width[k] >= MIN_PROBABILITY:
            for _ in range(tries):
                u = _u_inside(cdf, k, rng)
                if not avoid(k, u):
                    return u
    return None


def _sample_case(i, label, logits, temperature, u, forbid_warnings=False):
    expected = rnnlib.lm.next_char_id(logits, temperature, u=u)
    return Case(label, (logits, temperature, u), expected, "index", hidden=i > 0, forbid_warnings=forbid_warnings)


def _sample_part(secret):
    gid = "test_sample_next"
    logits = 2.0 * np.random.default_rng(6).standard_normal(8)       # the notebook's examples
    cases = [_sample_case(0, f"the visible example, u = {u!r}", logits, 0.8, u) for u in (0.0, 0.5, 0.7)]
    # the largest float below 1, above the rounded cumulative sum's last value (1 - 2.2e-16)
    edge, u = np.random.default_rng(19).standard_normal(5), float(np.nextafter(1.0, 0.0))
    cases.append(_sample_case(0, "the visible example with u just below 1, above the cumulative sum's end",
                              edge, 1.0, u))
    big = np.array([1e4, 1e4 + 0.5, -1e4, 3e3])
    cases.append(_sample_case(0, "the visible example with logits of magnitude 1e4, u = 0.2", big, 1.0, 0.2, True))

    def typical(i, seed, V, temperature):
        rng = _rng(gid, i, seed, secret)
        while True:  # logits drawn again (rarely) until some index fits
            logits = 2.0 * rng.standard_normal(V)
            argmax, plain = int(np.argmax(logits)), _cdf(logits, 1.0)
            # neither the argmax nor, with a temperature, the index the same u draws without it
            u = _u_for(rng, logits, temperature, lambda k, u: k == argmax or (
                temperature != 1.0 and k == int(np.searchsorted(plain, u, side="right"))))
            if u is not None:
                return _sample_case(i, _label(i, f"V={V}, temperature {temperature:g}"), logits, temperature, u)

    cases += [typical(1, 5301, 10, 1.0), typical(2, 5302, 6, 0.5), typical(3, 5303, 40, 2.0),
              typical(4, 5304, 2, 1.3), typical(5, 5305, 1000, 1.0)]
    # u near 0 and just under 1: the first and the last index, neither of them the argmax; under 1,
    # the rounded cumulative sum ends below u (logits drawn again until it does), so the last
    # index comes only from the rule for u at or above the sum's last value
    for i, seed, V, end in ((6, 5306, 5, 0), (7, 5307, 7, 1)):
        rng = _rng(gid, i, seed, secret)
        u = float(rng.uniform(0, 1e-9)) if end == 0 else float(np.nextafter(1.0, 0.0))
        while True:
            logits = rng.standard_normal(V)
            first, top = (0, V - 1) if end == 0 else (V - 1, 0)
            logits[top] = logits.max() + 1.0                              # the argmax at the other end
            logits[first] = max(logits[first], logits[top] - 3.0)         # p[first] >= e^-3 / V
            if end == 0 or _cdf(logits, 1.0)[-1] < u:
                break
        label = _label(i, f"V={V}, temperature 1, u " + ("near 0" if end == 0 else "just under 1"))
        cases.append(_sample_case(i, label, logits, 1.0, u))
    # logits of magnitude 1e4, two of them close enough to share the probability
    rng = _rng(gid, 8, 5308, secret)
    logits = 1e4 * rng.standard_normal(6)
    top, second = rng.permutation(6)[:2]
    logits[top] = np.abs(logits).max() + 1e3
    logits[second] = logits[top] - rng.uniform(0.2, 1.0)
    u = _u_for(rng, logits, 0.7, lambda k, u: k != second)
    cases.append(_sample_case(8, _label(8, "V=6, temperature 0.7, logits of magnitude 1e4"), logits, 0.7, u, True))
    # u = 0 where the first characters cannot come (their probability underflows to exactly 0 in
    # any formula): the draw is the first character that can, never one of probability 0
    rng = _rng(gid, 9, 5309, secret)
    logits = rng.standard_normal(6)
    logits[-1] = logits.max() + 1.0
    impossible = 1 + int(rng.integers(2))
    logits[:impossible] = logits[-1] - 1000.0
    cases.append(_sample_case(9, _label(9, "V=6, temperature 1, u = 0, the first characters of probability 0"),
                              logits, 1.0, 0.0))
    return Part(gid, 3, "sample_next", cases)


# --------------------------------------------------------------------------- one step of truncated BPTT

def _chunk(ids, T, k):
    """Chunk ``k`` of the streams ``ids`` (N, B), as ``rnngrade.harness.train_chunks`` cuts it:
    ``(X_ids, Y_ids)``, each (T, B), Y the characters after X."""
    return ids[k * T:(k + 1) * T], ids[k * T + 1:(k + 1) * T + 1]


def _lm_problem(rng, cell, V, H, D, T, B, chunks):
    """The notebook's ``lm_problem``: parameters drawn at scale 0.5, a nonzero initial state and
    B random streams of ``chunks * T + 1`` character ids, (N, B). The ids are drawn again until
    the chunks' targets differ from each other (the loss's oracle matches by them)."""
    params = {k: 0.5 * rng.standard_normal(v.shape) for k, v in init_lm(cell, V, H, D).items()}
    spec = rnnlib.CELLS[cell]
    state = spec.pack_state([0.5 * rng.standard_normal((H, B)) for _ in spec.state_names])
    while True:
        ids = rng.integers(0, V, size=(chunks * T + 1, B))
        if len({_chunk(ids, T, k)[1].tobytes() for k in range(chunks)}) == chunks:
            return params, ids, state


def _train_case(i, label, cell, params_0, ids, T, state_0, lr, max_norms):
    """The reference run of ``train_chunks`` along ``ids`` in chunks of ``T``, and the oracles'
    entries: one for each chunk's loss (matched by its targets) and clipping (matched by its
    ``max_norm``; given, or a callable of the gradient's global norm)."""
    params, state = {k: v.copy() for k, v in params_0.items()}, state_0
    losses, states, norms, loss_calls, clip_calls = [], [], [], [], []
    for k, max_norm in enumerate(max_norms):
        X_ids, Y_ids = _chunk(ids, T, k)
        logits, cache = lm_forward(cell, params, X_ids, state)
        loss, dlogits = rnnlib.softmax_cross_entropy(logits, Y_ids)
        grads = list(lm_backward(dlogits, cache)[0].values())
        max_norm = max_norm(global_norm(grads)) if callable(max_norm) else max_norm
        clipped, norm = rnnlib.clip_by_global_norm(grads, max_norm)
        for p, g in zip(params.values(), clipped):
            p -= lr * g
        state = cache.final_state
        loss_calls.append({"match": [[[1], Y_ids]], "check": [[[0], logits]], "result": (loss, dlogits)})
        clip_calls.append({"match": [[[1], max_norm]], "check": [[[0, j], g] for j, g in enumerate(grads)],
                           "result": (clipped, norm)})
        losses.append(loss)
        states.append(state)
        norms.append(max_norm)
    n = len(max_norms)
    parts = rnnlib.CELLS[cell].state_names
    state_names = [tuple(f"{s} after chunk {k}" for s in parts) if len(parts) > 1 else f"state after chunk {k}"
                   for k in range(1, n + 1)]
    names = ([f"loss of chunk {k}" for k in range(1, n + 1)], state_names, [after_updates(p, n) for p in params])
    oracles = {"softmax_cross_entropy": {"kind": "calls", "entries": loss_calls, "notes": LOSS_NOTES,
                                         "params": ["logits", "targets", "mask"]},
               "clip_by_global_norm": {"kind": "calls", "entries": clip_calls, "notes": CLIP_NOTES,
                                       "params": ["grads", "max_norm"]}}
    return Case(label, (TRAIN_CHUNKS, cell, params_0, ids, T, state_0, lr, norms),
                (losses, states, list(params.values())), names, hidden=i > 0, oracles=oracles)


def _train_part(secret):
    gid = "test_train_step"
    # the notebook's example: a GRU with one-hot input, two chunks, the first clipped, the second not
    params, ids, state = _lm_problem(np.random.default_rng(2), "gru", V=6, H=4, D=None, T=3, B=2, chunks=2)
    cases = [_train_case(0, "the visible example", "gru", params, ids, 3, state, 0.5, [0.5, 50.0])]
    # (case number, cell, V, H, D, T, B, learning rate, each chunk's max_norm over its gradient's norm)
    for i, (seed, cell, V, H, D, T, B, lr, factors) in enumerate([
            (5401, "gru", 7, 5, 3, 4, 3, 0.3, (0.3, 2.0, 0.5)), (5402, "lstm", 4, 3, None, 1, 1, 0.5, (2.0, 0.4, 3.0)),
            (5403, "rnn", 5, 6, None, 5, 2, 0.1, (0.2, 0.25)), (5404, "mgu", 9, 3, 4, 2, 4, 1.0, (4.0, 3.0, 5.0))], 1):
        params, ids, state = _lm_problem(_rng(gid, i, seed, secret), cell, V, H, D, T, B, len(factors))
        what = (f"{cell}, " + ("one-hot input" if D is None else f"embedding D={D}") + f", V={V}, H={H}, T={T}, B={B}, "
                f"{len(factors)} chunks in a row, " + ", ".join("clipped" if f < 1 else "not clipped" for f in factors))
        cases.append(_train_case(i, _label(i, what), cell, params, ids, T, state, lr,
                                 [lambda norm, f=f: f * norm for f in factors]))
    return Part(gid, 4, "train_step", cases)


def build(secret=None):
    return Assignment(
        NAME, "charlm.ipynb",
        [_softmax_part(secret), _clip_part(secret), _sample_part(secret), _train_part(secret)],
        skip_cells=frozenset({"gradcheck", "training", "writing"}),
        # the model's pieces that train_step builds on stay (the layers, deep, under lm); the loss, the clipping, the sampling
        # and rnnlib's own training step (the answers) go
        keep_in_rnnlib=frozenset({"activations", "cells", "bptt", "deep", "lm", "losses.readout_forward",
                                  "losses.readout_backward"}),
        stub_in_rnnlib=frozenset({"optim.clip_by_global_norm", "optim.global_norm", "lm.lm_loss_and_grads",
                                  "lm.lm_perplexity", "lm.next_char_id", "lm.sample"}))
