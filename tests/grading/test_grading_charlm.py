"""Assignment 5, the character-level language model, on the grader's side: what its hidden cases
guarantee, that its visible examples are the notebook's, the harness's driver and keyword
arguments to oracles, answers that are integers, and the grading copy of rnnlib with rules
per function.

The round trip (the solution, the typical mistakes each losing its part's points, cheats and
broken submissions, through ``python -m rnngrade all``) is in test_grading.py, and the attacks
in test_grading_security.py, beside the other assignments.
"""


import numpy as np
import pytest

import rnnlib
from grading_support import CHARLM_NOT_DETACHED, assert_visible_checks_call_as_the_grader, mutate, probe_grading_copy, solved
from rnngrade import harness, incell, judge, restricted, runner, specs, wire
from rnngrade.specs import charlm as charlm_spec
from rnngrade.specs import Case

SECRETS = [None, "one secret", "another secret"]


def parts(secret):
    return {p.function: p for p in specs.get("charlm", secret=secret).parts}


def hidden(part):
    return [c for c in part.cases if c.hidden]


# --------------------------------------------------------------------------- the hidden cases

@pytest.mark.parametrize("secret", SECRETS)
def test_softmax_cases_cover_the_edges_and_catch_the_masked_mean_and_the_overflow(secret):
    cases = hidden(parts(secret)["softmax_cross_entropy"])
    shapes = [c.args[0].shape for c in cases]
    assert {len(s) for s in shapes} == {2, 3}
    assert min(s[-1] for s in shapes) == 1 and min(s[0] for s in shapes if len(s) == 3) == 1    # B = 1, T = 1
    assert min(s[-2] for s in shapes) == 2 and max(s[-2] for s in shapes) >= 300                 # V small, large
    masks = [c.args[2] for c in cases if len(c.args) == 3]
    assert {m.dtype for m in masks} == {np.dtype(bool), np.dtype(np.float64)}
    assert all(0 < m.sum() < m.size for m in masks)    # each with zeros: the mean over every position is wrong
    large = [c for c in cases if np.abs(c.args[0]).max() > 1e3]
    assert large and all(c.forbid_warnings for c in large)
    # where the logits are large, some target's probability underflows: log(p) instead of a log-sum-exp fails
    for c in large:
        logits, targets = c.args[:2]
        gap = np.take_along_axis(logits, np.expand_dims(targets, -2), -2) - logits.max(axis=-2, keepdims=True)
        assert gap.min() < -800


@pytest.mark.parametrize("secret", SECRETS)
def test_clipping_cases_tell_the_global_norm_from_each_arrays_own(secret):
    cases = hidden(parts(secret)["clip_by_global_norm"])
    norm = lambda gs: float(np.sqrt(sum(np.sum(g * g) for g in gs)))
    # one case also compares the arrays passed in, after the call, with their values before it,
    # on a list that is clipped (scaling the arrays in place would change them)
    kept = [c for c in cases if isinstance(c.args[0], dict) and c.args[0] == {"__harness__": "keeps_inputs"}]
    assert len(kept) == 1
    (_, (grads_after, max_norm_after)), (_, grads, max_norm) = kept[0].expected, kept[0].args
    assert all(np.array_equal(a, b) and a is not b for a, b in zip(grads_after, grads)) and max_norm_after == max_norm
    assert norm(grads) > max_norm
    cases = [Case(c.label, c.args[1:], c.expected[0], c.names[0]) if c in kept else c for c in cases]
    over = [c for c in cases if norm(c.args[0]) > c.args[1]]
    assert len(over) < len(cases)                       # one already under the norm
    # a case where each array is under max_norm on its own: clipping each by its own norm changes nothing
    assert any(max(norm([g]) for g in c.args[0]) < c.args[1] for c in over)
    assert any(len(c.args[0]) == 1 for c in cases)
    sizes = [norm([g]) for c in cases for g in c.args[0]]
    assert min(sizes) < 1e-2 and max(sizes) > 1e2


def cumulative(logits, temperature):
    """The cumulative distribution as the reference (rnnlib.lm.next_char_id) and the solution round it."""
    z = logits / temperature
    p = np.exp(z - z.max())
    return np.cumsum(p / p.sum())


@pytest.mark.parametrize("secret", SECRETS)
def test_sampling_cases_draw_neither_the_argmax_nor_near_a_boundary(secret):
    cases = hidden(parts(secret)["sample_next"])
    last = np.nextafter(1.0, 0.0)                  # the largest float below 1
    for c in cases:
        logits, temperature, u = c.args
        assert c.expected != int(np.argmax(logits)), c.label
        cdf = cumulative(logits, temperature)
        if u == 0.0:    # characters of probability 0 before the answer, which is never one of them
            assert c.expected > 0 and cdf[c.expected - 1] == 0.0 < cdf[c.expected]
        elif u == last:    # the rounded sum ends below u: the last index comes from the rule alone
            assert cdf[-1] < u and c.expected == len(logits) - 1
        elif u > 1e-9:     # in the middle half of its interval: rounding cannot move the answer
            low = cdf[c.expected - 1] if c.expected else 0.0
            width = cdf[c.expected] - low
            assert width >= charlm_spec.MIN_PROBABILITY and low + width / 4 <= u <= cdf[c.expected] - width / 4
        if temperature != 1.0 and np.abs(logits).max() < 100:
            assert c.expected != rnnlib.lm.next_char_id(logits, 1.0, u=u), c.label     # the temperature matters
    us = sorted(c.args[2] for c in cases)
    assert us[0] == 0.0 and 0 < us[1] < 1e-9 and us[-1] == last
    assert any(c.forbid_warnings and np.abs(c.args[0]).max() > 1e3 for c in cases)


@pytest.mark.parametrize("secret", SECRETS)
def test_training_cases_run_chunks_in_a_row_that_the_oracles_tell_apart(secret):
    part = parts(secret)["train_step"]
    clipped = []
    for c in part.cases:
        driver, cell, params, ids, T, state, lr, max_norms = c.args
        assert driver == {"__harness__": "train_chunks"} and len(max_norms) >= 2
        loss_calls = c.oracles["softmax_cross_entropy"]["entries"]
        clip_calls = c.oracles["clip_by_global_norm"]["entries"]
        targets = [e["match"][0][1].tobytes() for e in loss_calls]
        assert len(set(targets)) == len(targets) == len(max_norms) == len(set(max_norms))
        assert all(np.abs(s).min() > 0 for s in rnnlib.CELLS[cell].unpack_state(state))  # nonzero
        clipped += [e["result"][1] > e["match"][0][1] for e in clip_calls]
    assert any(clipped) and not all(clipped)
    cells = {c.args[1] for c in part.cases}
    assert cells == set(rnnlib.cells.sequential())      # every cell the assignment's chapters teach
    assert any(c.args[4] == 1 and c.args[3].shape[1] == 1 for c in part.cases)        # T = 1, B = 1


def test_the_visible_examples_are_the_notebooks():
    """The visible check cells call the student's functions on exactly the arguments of the
    grader's visible examples (which the feedback shows), in the same order."""
    ns = {"__name__": "__main__"}
    for c in runner.code_cells(solved("charlm"), specs.get("charlm")):
        exec(compile(c["source"], "<charlm>", "exec"), ns)
    assert_visible_checks_call_as_the_grader("charlm", ns, rtol=1e-12)
    # floats to 1e-12 relative: in the notebook, the second chunk's parameters come from the
    # solution's loss, in the grader from rnnlib's (the oracle), which differ by rounding


# --------------------------------------------------------------------------- the harness and the judge

def test_the_driver_runs_chunks_in_a_row_from_the_state_each_returned():
    ids = np.arange(7 * 2).reshape(7, 2)                 # 3 chunks of T = 2, and the last targets
    calls = []

    def train_step(cell, params, X_ids, Y_ids, state, lr, max_norm):
        calls.append((X_ids.copy(), Y_ids.copy(), state, max_norm))
        params["w"] -= lr
        return float(len(calls)), state + 1

    params = {"w": np.zeros(3)}
    driver = harness.resolve({"__harness__": "train_chunks"})
    losses, states, values = driver(train_step, "gru", params, ids, 2, 10, 0.5, [1.0, 2.0, 3.0])
    assert [c[3] for c in calls] == [1.0, 2.0, 3.0] and [c[2] for c in calls] == [10, 11, 12]
    for k, (X, Y, _, _) in enumerate(calls):
        assert np.array_equal(X, ids[2 * k:2 * k + 2]) and np.array_equal(Y, ids[2 * k + 1:2 * k + 3])
    assert (losses, states) == ([1.0, 2.0, 3.0], [11, 12, 13])
    assert np.array_equal(values[0], np.full(3, -1.5))
    reply = harness.call({"train_step": lambda *a: 0.5}, "train_step", (driver, "gru", params, ids, 2, 0, 0.5, [1.0]),
                         {})
    assert reply["status"] == "error"
    assert reply["message"] == "TypeError: train_step must return (loss, state); got float"


def test_a_call_oracle_takes_keyword_arguments_by_their_names():
    entries = [{"match": [[[1], 2.0]], "check": [[[0, 0], np.ones(2)]], "result": ([np.zeros(2)], 7.0)}]
    log = []
    clip = harness.CallOracle("clip_by_global_norm", entries, log, params=["grads", "max_norm"])
    for call in (lambda: clip([np.ones(2)], 2.0), lambda: clip([np.ones(2)], max_norm=2.0),
                 lambda: clip(max_norm=2.0, grads=[np.ones(2)])):
        clipped, norm = call()
        assert norm == 7.0 and np.array_equal(clipped[0], np.zeros(2))
    assert log == []
    clipped, norm = clip([np.ones(2)], limit=2.0)      # no such parameter: no entry matches
    assert np.isnan(clipped[0]).all() and log == ["clip_by_global_norm:no-match-nan"]


def test_an_integer_answer_is_judged_as_an_integer():
    case = Case("hidden case 1 (V=5)", (), 3, "index")
    reply = lambda value: {"status": "ok", "decoded": wire.decode(wire.encode(value))}
    assert judge.judge(case, reply(3), "f") == (True, "")
    assert judge.judge(case, reply(np.int64(3)), "f") == (True, "")         # np.argmax's answer
    assert judge.judge(case, reply(4), "f") == (False, "index: wrong value")
    assert judge.judge(case, reply(3.0), "f") == (False, "index: expected an integer, got a float")
    assert judge.judge(case, reply(True), "f") == (False, "index: expected an integer, got a bool")
    assert judge.judge(case, reply(np.array([3, 3])), "f") == (
        False, "index: expected an integer, got an array of shape (2,)")
    visible = Case("the visible example", (), 3, "index", hidden=False)
    assert judge.judge(visible, reply(4), "f") == (False, "index: wrong value: got 4, expected 3")


def test_an_oracles_note_can_be_its_own_and_comes_with_an_exception_too():
    case = Case("the visible example", (), 1.0, "loss", hidden=False,
                oracles={"g": {"kind": "calls", "entries": [], "notes": {"wrong-input": "the logits differ"}}})
    reply = {"status": "error", "message": "ValueError: dhs contains NaN", "log": ["g:wrong-input", "g:no-match"]}
    ok, message = judge.judge(case, reply, "f")
    # the oracle's own text for one code, the general one (which names the function) for the other
    assert not ok and message.startswith("your function raised ValueError: dhs contains NaN (the logits differ; ")
    assert "your code called g with" in message and message.endswith(")")


def _namespace(nb, assignment="charlm"):
    """The notebook's code run as the grader runs it: every code cell but the checks and the skipped cells."""
    skip, ns = specs.get(assignment).skip_cells, {}
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if c.cell_type == "code" and not (meta.get("grade") and not meta.get("solution")) and meta.get("grade_id") not in skip:
            exec(compile(c.source, meta.get("grade_id", "cell"), "exec"), ns)
    return ns


# train_step's mistakes, (old, new) in its solution cell, and the one hint each must get: the
# oracle of the first call that goes wrong. Every later call is off the reference's path, so its
# inputs differ too, and a hint for them would blame a part of train_step that is right.
FIXED_MAX_NORM = ("clip_by_global_norm(list(grads.values()), max_norm)", "clip_by_global_norm(list(grads.values()), 1.0)")
TRAIN_STEP_HINTS = {
    "a fixed max_norm": (FIXED_MAX_NORM, charlm_spec.CLIP_NOTES["no-match"]),
    "the state from zeros": (("lm_forward(cell, params, X_ids, state)",
                              "lm_forward(cell, params, X_ids, zero_state(cell, params['W_y'].shape[1], X_ids.shape[1]))"),
                             charlm_spec.LOSS_NOTES["wrong-input"]),
    "the state not detached": (CHARLM_NOT_DETACHED, charlm_spec.CLIP_NOTES["wrong-input"]),
    "the update not clipped": (("zip(params.values(), clipped)", "zip(params.values(), grads.values())"),
                               charlm_spec.LOSS_NOTES["wrong-input"]),
}


@pytest.mark.parametrize("mistake", list(TRAIN_STEP_HINTS))
def test_a_train_step_mistake_gets_its_own_hint_and_no_knock_on_one(mistake):
    """Found trying assignment 5: a fixed max_norm also got the loss's hint (the logits differ: is
    the forward pass run with the parameters the step before left?). The parameters differ there
    because of the clipping, whose own hint came first; the loss's was a knock-on."""
    change, hint = TRAIN_STEP_HINTS[mistake]
    ns = _namespace(mutate(solved("charlm"), "train_step", *change))
    spec = specs.get("charlm")
    part = next(p for p in spec.parts if p.function == "train_step")
    outcomes = {(part.grade_id, i): judge.judge(case, incell.run_case(case, part.function, ns), part.function)
                for i, case in enumerate(part.cases)}
    result = runner.score(spec, outcomes)[part.grade_id]
    assert result.score == 0 and result.hints == [hint], result


def test_a_later_note_on_other_arguments_is_kept_and_the_notes_keep_their_order():
    """Only another function's wrong input after the run has left the reference's path is taken for
    a knock-on: a call with other matching arguments (another max_norm) is a mistake of its own
    wherever it comes, and a function already noted keeps its notes."""
    texts = {name: {"wrong-input": f"{name}: wrong input", "no-match": f"{name}: no match"} for name in "fg"}
    case = Case("the visible example", (), 1.0, "loss", hidden=False,
                oracles={name: {"kind": "calls", "entries": [], "notes": texts[name]} for name in "fg"})

    def notes(log):
        return judge.judge(case, {"status": "error", "message": "ValueError: x", "log": log}, "h").notes

    first, nomatch, nan = notes(["f:wrong-input", "g:wrong-input", "g:no-match", "f:wrong-input-nan"])
    assert (first, nomatch) == ("f: wrong input", "g: no match")
    assert nan.startswith("f: wrong input; your own f could not answer there") and nan.endswith("used NaN")
    assert notes(["g:no-match", "f:wrong-input"]) == ["g: no match"]
    assert notes(["f:wrong-input", "f:no-match"]) == ["f: wrong input", "f: no match"]


# --------------------------------------------------------------------------- the grading copy of rnnlib

def test_the_most_specific_rule_decides_what_is_kept():
    keep, stub = frozenset({"lm", "losses.readout_forward"}), frozenset({"lm.sample", "optim.clip_by_global_norm"})
    kept = {name: restricted.is_kept(name, keep, stub) for name in (
        "lm.lm_forward", "lm.sample", "losses.readout_forward", "losses.softmax_cross_entropy", "optim.SGD.step",
        "optim.clip_by_global_norm", "bptt.forward", "text.Vocab.encode", "cells.gru.gru_step", "cells.cell.Cell.get")}
    assert kept == {"lm.lm_forward": True, "lm.sample": False, "losses.readout_forward": True,
                    "losses.softmax_cross_entropy": False, "optim.SGD.step": True, "optim.clip_by_global_norm": False,
                    "bptt.forward": False, "text.Vocab.encode": True, "cells.gru.gru_step": False,
                    "cells.cell.Cell.get": True}
    assert not restricted.is_kept("lm.sample", frozenset({"lm.sample"}), frozenset({"lm.sample"}))   # a tie stubs


CALLS = """calls = {
    "lm_forward": lambda: rnnlib.lm.lm_forward("gru", rnnlib.lm.init_lm("gru", 5, 3), np.zeros((2, 1), int),
                                               rnnlib.lm.zero_state("gru", 3, 1)),
    "lm_backward": lambda: rnnlib.lm.lm_backward(np.zeros((2, 5, 1)), rnnlib.lm.lm_forward(
        "lstm", rnnlib.lm.init_lm("lstm", 5, 3, 2), np.zeros((2, 1), int), rnnlib.lm.zero_state("lstm", 3, 1))[1]),
    "SGD": lambda: rnnlib.SGD(0.1).step([np.zeros(2)], [np.ones(2)]),
    "sigmoid": lambda: rnnlib.sigmoid(np.zeros(2)),
    "softmax_cross_entropy": lambda: rnnlib.softmax_cross_entropy(np.zeros((3, 1)), np.zeros(1, int)),
    "clip_by_global_norm": lambda: rnnlib.clip_by_global_norm([np.ones(2)], 1.0),
    "global_norm": lambda: rnnlib.optim.global_norm([np.ones(2)]),
    "next_char_id": lambda: rnnlib.lm.next_char_id(np.zeros(3), u=0.5),
    "lm_loss_and_grads": lambda: rnnlib.lm.lm_loss_and_grads("gru", rnnlib.lm.init_lm("gru", 5, 3),
        np.zeros((2, 1), int), np.zeros((2, 1), int), rnnlib.lm.zero_state("gru", 3, 1)),
    "lstm_step": lambda: rnnlib.lstm_step([np.zeros((2, 1)), (np.zeros((3, 1)),) * 2],
                                          rnnlib.init_weights("lstm", 2, 3)),
    "mse": lambda: rnnlib.mse(np.zeros(2), np.ones(2)),
}"""


@pytest.mark.parametrize("name, works", [
    ("charlm", {"lm_forward", "lm_backward", "SGD", "sigmoid", "lstm_step"}),
    ("lstm", {"SGD", "sigmoid", "clip_by_global_norm", "global_norm"}),
])
def test_the_grading_copy_keeps_what_the_assignment_provides_and_nothing_it_asks_for(name, works, tmp_path):
    got = probe_grading_copy(tmp_path, name, CALLS)
    assert {k for k, v in got.items() if v == "works"} == works
    if name == "charlm":  # the answers' bodies are not in the copy; the provided functions' are
        lm, losses = ((tmp_path / "rnnlib" / f).read_text() for f in ("lm.py", "losses.py"))
        assert "searchsorted" not in lm and "np.add.at" in lm
        assert "log_p" not in losses and "W_y.T @ dy" in losses
