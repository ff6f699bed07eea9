"""Assignment 6, attention and decoding, on the grader's side: what its hidden cases guarantee, that
its visible examples are the notebook's, answers that are integer arrays, the oracle that stands in
for the student's attention inside their decoder step, the grading copy of rnnlib, and the
notebook's beam search around the student's functions.

The round trip (the solution, the typical mistakes each losing its part's points, cheats and
broken submissions, through ``python -m rnngrade all``) is in test_grading.py, the visible checks
against the grader in test_visible_checks.py, and the attacks in test_grading_security.py, beside
the other assignments.
"""


import numpy as np
import pytest

import rnnlib
from grading_support import (ATTENTION_BEAM_PER_PARENT, ATTENTION_QUERY_H_NEXT, assert_visible_checks_call_as_the_grader,
                             mutate, probe_grading_copy, solved)
from rnngrade import incell, judge, runner, specs, wire
from rnngrade.specs import Case
from rnngrade.specs import attention as spec_module
from rnnlib.seq2seq import decode

SECRETS = [None, "one secret", "another secret"]


def parts(secret):
    return {p.function: p for p in specs.get("attention", secret=secret).parts}


def hidden(part):
    return [c for c in part.cases if c.hidden]


def columns_with_padding(mask):
    return int((mask.min(axis=0) == 0).sum())


# --------------------------------------------------------------------------- the hidden cases

@pytest.mark.parametrize("secret", SECRETS)
def test_attention_cases_cover_the_sizes_the_padding_and_large_scores(secret):
    forward, backward = parts(secret)["attention_forward"], parts(secret)["attention_backward"]
    for part in (forward, backward):
        shapes = []
        for c in part.cases:
            s, Hs, mask, (W_a, U_a, v_a) = c.args if part is forward else (c.args[1][0], c.args[1][1], None, c.args[2])
            (T, H_enc, B), H_dec, A = Hs.shape, s.shape[0], W_a.shape[0]
            assert len({H_enc, H_dec, A}) == 3, (part.grade_id, c.label)          # H_enc != H_dec != A
            shapes.append((T, B))
        assert min(T for T, _ in shapes[1:]) == 1 and min(B for _, B in shapes[1:]) == 1   # T_src = 1, B = 1
    masks = [c.args[2] for c in hidden(forward)]
    assert all(set(np.unique(m)) <= {0.0, 1.0} and m.min(axis=0).max() <= 1 and (m.sum(axis=0) >= 1).all()
               for m in masks)
    assert any(columns_with_padding(m) >= 2 and (m.sum(axis=0) == 1).any() and m.shape[0] > 1 for m in masks)
    # backward: padding, and the reference's cache in the assignment's layout
    for c in backward.cases:
        s, Hs, a, alpha = c.args[1]
        assert a.shape == (Hs.shape[0], c.args[2][0].shape[0], Hs.shape[2]) and np.allclose(alpha.sum(axis=0), 1)
    assert any((c.args[1][3] == 0).any() for c in hidden(backward))
    assert any(np.abs(c.args[1][2]).max() > 0.999 for c in hidden(backward))                 # a saturated tanh
    # large scores: no warning allowed; a real score overflows exp; one case without padding, and
    # one where a padded position is far above every real one of its column
    large = [c for c in forward.cases if c.forbid_warnings]
    assert len(large) == 3 and all(np.abs(c.args[3][2]).max() > 100 for c in large)
    assert not any(c.forbid_warnings for c in forward.cases if np.abs(c.args[3][2]).max() < 100)
    for c in large:
        s, Hs, mask, weights = c.args
        assert spec_module.large_enough(s, Hs, mask, weights, padded=mask.min() == 0), c.label
    assert {bool(c.args[2].min() == 0) for c in hidden(forward) if c.forbid_warnings} == {False, True}


@pytest.mark.parametrize("secret", SECRETS)
def test_a_context_summed_over_the_batch_is_wrong_where_a_columns_encoder_outputs_are_zero(secret):
    """Every hidden case of B > 1 catches a context summed over the batch's columns, and one says
    why in its label: a column whose encoder outputs are all 0 has the context 0, and that column
    alone is wrong."""
    told = []
    for c in hidden(parts(secret)["attention_forward"]):
        s, Hs, mask, weights = c.args
        context = c.expected[0]
        summed = np.broadcast_to(context.sum(axis=1, keepdims=True), context.shape)
        assert Hs.shape[2] == 1 or not np.allclose(summed, context, rtol=1e-3), c.label
        zero = [b for b in range(Hs.shape[2]) if not Hs[:, :, b].any()]
        if zero:
            assert Hs.shape[2] > 1 and (context[:, zero] == 0).all() and np.abs(summed[:, zero]).max() > 0.1
            assert f"column {zero[0]}'s encoder outputs all 0" in c.label
            told.append(c)
    assert len(told) == 1


def softmax_without_max(s, Hs, mask, weights):
    """The weights of a softmax that does not subtract the largest score (numpy's warnings made errors)."""
    with np.errstate(over="raise", invalid="raise"):
        w = np.exp(spec_module.scores(s, Hs, weights)) * mask
        return w / w.sum(axis=0)


def softmax_over_every_position(s, Hs, mask, weights):
    """The weights of a softmax whose largest score is over every position, the pads zeroed afterwards."""
    e = spec_module.scores(s, Hs, weights)
    with np.errstate(under="ignore", invalid="raise"):
        w = np.exp(e - e.max(axis=0)) * mask
        return w / w.sum(axis=0)


@pytest.mark.parametrize("secret", SECRETS)
def test_the_large_cases_break_a_softmax_without_the_real_positions_maximum(secret):
    large = [c for c in parts(secret)["attention_forward"].cases if c.forbid_warnings]
    for c in large:
        with pytest.raises(FloatingPointError):
            softmax_without_max(*c.args)
    for c in (c for c in large if c.args[2].min() == 0):
        with pytest.raises(FloatingPointError):
            softmax_over_every_position(*c.args)
    for c in parts(secret)["attention_forward"].cases:       # elsewhere the two are right
        if not c.forbid_warnings:
            assert np.allclose(softmax_over_every_position(*c.args), c.expected[1], rtol=1e-12, atol=0)


@pytest.mark.parametrize("secret", SECRETS)
def test_decoder_cases_cover_the_sizes_and_their_oracle_answers_the_query_h(secret):
    part = parts(secret)["decoder_step"]
    shapes = []
    for c in part.cases:
        y_prev, h, Hs, mask, params = c.args
        assert y_prev.dtype.kind == "i" and y_prev.shape == (h.shape[1],)
        (T, H_enc, B), H_dec, A = Hs.shape, h.shape[0], params["W_a"].shape[0]
        assert len({H_enc, H_dec, A, params["E_tgt"].shape[0]}) == 4, c.label
        shapes.append((T, B))
        (entry,) = c.oracles["attention_forward"]["entries"]
        assert entry["check"][0] == [[0], h]                                  # the query: the state before the step
        context, alpha, cache = entry["result"]
        assert np.array_equal(alpha, c.expected[2]) and cache[0] is h
        # the answer depends on the context: another context gives other logits and states
        assert not np.allclose(c.expected[0], params["W_y"] @ rnnlib.gru_step(
            [np.concatenate([params["E_tgt"][:, y_prev], 0 * context]), h],
            tuple(params[f"{n}_dec"] for n in spec_module.GRU_NAMES))[1] + params["b_y"])
    assert min(T for T, _ in shapes) == 1 and min(B for _, B in shapes) == 1
    assert any(len(set(c.args[0].tolist())) < len(c.args[0]) for c in hidden(part))       # a token in two columns
    assert any(columns_with_padding(c.args[3]) >= 2 for c in hidden(part))


def per_parent(log_probs, scores, k):
    """The candidates of a beam step that keeps each parent's best token, then the k best of those."""
    candidates = (scores + log_probs).T.ravel()
    V, n = log_probs.shape
    each = candidates.reshape(n, V).argmax(axis=1) + V * np.arange(n)
    return each[np.argsort(-candidates[each], kind="stable")][:k]


@pytest.mark.parametrize("secret", SECRETS)
def test_beam_cases_cover_the_first_step_k_ties_and_a_parent_far_ahead(secret):
    part = parts(secret)["beam_step"]
    sizes = []
    for c in part.cases:
        log_probs, scores, states, k, finished = c.args
        (V, n), H = log_probs.shape, states.shape[0]
        assert finished.dtype == bool and finished.shape == (n,)
        assert isinstance(k, int) and 1 <= k <= V * (n - finished.sum()) + finished.sum() and scores.shape == (n,)
        new_scores, tokens, parents, new_states = c.expected
        assert tokens.dtype.kind == parents.dtype.kind == "i" and new_states.shape == (H, k)
        assert np.isfinite(new_scores).all()
        sizes.append((V, n, k))
    cases = [c for c in hidden(part) if not c.args[4].any()]       # none finished: the plain step
    assert any(n == 1 for _, n, _ in sizes[1:]) and any(k == 1 for *_, k in sizes[1:])
    assert any(k == V * n for V, n, k in sizes[1:]) and any(k > n for _, n, k in sizes[1:])
    assert any(k < n for _, n, k in sizes[1:])
    assert max(V for V, _, _ in sizes) >= 40
    # the states are reordered, not kept: some case's parents are not 0, 1, ..., n - 1
    assert any(c.expected[2].tolist() != list(range(len(c.args[1]))) and c.args[3] == len(c.args[1]) for c in cases)
    # ties decide which candidates are kept and in which order
    assert any(spec_module.ties_matter(*c.args[:2], c.args[3]) for c in cases)
    # a parent far ahead: the best token of each parent is not the answer, and the first parent is not it
    ahead = [c for c in cases if c.args[3] > 1 and not np.array_equal(
        per_parent(c.args[0], c.args[1], c.args[3]), c.expected[2] * c.args[0].shape[0] + c.expected[1])]
    assert any(len(set(c.expected[2].tolist())) == 1 and c.expected[2][0] != 0 for c in ahead)
    # a case where the parent's score decides: ranking by the log-probabilities alone keeps others
    assert any(not np.array_equal(np.argsort(-c.args[0].T.ravel(), kind="stable")[:c.args[3]],
                                  c.expected[2] * c.args[0].shape[0] + c.expected[1]) for c in cases)


def kept(case):
    return list(zip(case.expected[2].tolist(), case.expected[1].tolist()))


@pytest.mark.parametrize("secret", SECRETS)
def test_beam_cases_with_finished_hypotheses_catch_a_step_that_extends_them(secret):
    """Finished hypotheses, visible and hidden: one that the step would otherwise extend into the
    top k, kept as it is (score unchanged, token EOS, one candidate); one tied with a kept
    candidate of a later parent; every hypothesis finished."""
    cases = [c for c in parts(secret)["beam_step"].cases if c.args[4].any()]
    assert any(not c.hidden for c in cases) and len([c for c in cases if c.hidden]) >= 3
    for c in cases:
        log_probs, scores, states, k, finished = c.args
        new_scores, tokens, parents, _ = c.expected
        for i, j in enumerate(parents):
            if finished[j]:
                assert tokens[i] == decode.EOS and new_scores[i] == scores[j] and (parents == j).sum() == 1, c.label
    for c in (c for c in cases if not c.args[4].all()):
        log_probs, scores, states, k, finished = c.args
        assert spec_module.finished_matters(log_probs, scores, k, finished), c.label
        # ignoring `finished` gives another answer, which extends a finished hypothesis
        ignored = decode.beam_step(log_probs, scores, states, k)
        assert any(finished[j] and v != decode.EOS for j, v in zip(ignored[2], ignored[1])), c.label
        # keeping a finished hypothesis's own log p(<eos>) changes a kept score
        paying = np.where(finished & (np.arange(len(log_probs))[:, None] != decode.EOS), -np.inf, log_probs)
        assert not np.array_equal(decode.beam_step(paying, scores, states, k)[0], c.expected[0]), c.label
    assert any(c.hidden and spec_module.finished_ties(*c.args[:2], c.args[3], c.args[4]) for c in cases)
    everyone = [c for c in cases if c.args[4].all() and c.hidden]
    assert everyone and all(kept(c) == [(j, decode.EOS) for j in np.argsort(-c.args[1], kind="stable")]
                            for c in everyone)
    assert any(list(np.argsort(-c.args[1], kind="stable")) != list(range(len(c.args[1]))) for c in everyone)


def test_the_visible_tie_example_has_ties_that_matter():
    (log_probs, scores, _, k, finished) = spec_module.beam_examples()["ties, k = 5"]
    assert spec_module.ties_matter(log_probs, scores, k) and not finished.any()


def test_the_visible_finished_example_would_otherwise_extend_a_finished_hypothesis():
    (log_probs, scores, _, k, finished) = spec_module.beam_examples()["hypotheses 0 and 2 finished, k = 4"]
    assert spec_module.finished_matters(log_probs, scores, k, finished) and finished[0] and scores[0] == scores.max()


def test_the_visible_examples_are_the_notebooks():
    """The visible check cells call the student's functions on exactly the arguments of the
    grader's visible examples (which the feedback shows), in the same order; the decoder step's
    check with rnnlib's attention standing in for the student's, as the grader's oracle does."""
    ns = {"__name__": "__main__"}
    for c in runner.code_cells(solved("attention"), specs.get("attention")):
        exec(compile(c["source"], "<attention>", "exec"), ns)
    assert_visible_checks_call_as_the_grader("attention", ns)


# --------------------------------------------------------------------------- integer answers

def test_an_integer_array_answer_is_judged_exactly():
    case = Case("hidden case 1 (V=5)", (), np.array([3, 0, 2]), "tokens")
    reply = lambda value: {"status": "ok", "decoded": wire.decode(wire.encode(value))}
    assert judge.judge(case, reply(np.array([3, 0, 2])), "f") == (True, "")
    assert judge.judge(case, reply(np.array([3, 0, 2], dtype=np.int32)), "f") == (True, "")
    assert judge.judge(case, reply(np.array([3, 2, 0])), "f") == (
        False, "tokens: 2 of 3 values are wrong, the first at index (1,)")
    assert judge.judge(case, reply(np.array([3.0, 0.0, 2.0])), "f") == (
        False, "tokens: wrong dtype: expected integers (int64), got float64")
    assert judge.judge(case, reply(np.array([3, 0])), "f") == (False, "tokens: wrong shape: expected (3,), got (2,)")
    assert judge.judge(case, reply([3, 0, 2]), "f") == (
        False, "tokens: expected a numpy array of integers of shape (3,), got a list of 3 items")
    assert judge.judge(case, reply(np.array([True, False, True])), "f")[0] is False
    visible = Case("the visible example", (), np.array([3, 0, 2]), "tokens", hidden=False)
    assert judge.judge(visible, reply(np.array([3, 2, 0])), "f") == (
        False, "tokens: 2 of 3 values are wrong, the first at index (1,): got [3, 2, 0], expected [3, 0, 2]")
    long = Case("the visible example", (), np.arange(30), "parents", hidden=False)
    assert judge.judge(long, reply(np.arange(30)[::-1].copy()), "f") == (
        False, "parents: 30 of 30 values are wrong, the first at index (0,): got 29, expected 0")


def test_the_beam_steps_answer_is_judged_item_by_item():
    case = next(c for c in parts(None)["beam_step"].cases if not c.hidden)
    scores, tokens, parents, states = case.expected
    reply = lambda value: {"status": "ok", "decoded": wire.decode(wire.encode(value))}
    assert judge.judge(case, reply((scores, tokens, parents, states)), "beam_step") == (True, "")
    ok, message = judge.judge(case, reply((scores, parents, tokens, states)), "beam_step")
    assert not ok and message.startswith("tokens: ") and "; parents: " in message


# --------------------------------------------------------------------------- the decoder's oracle

def _namespace(nb):
    """The notebook's code run as the grader runs it: every code cell but the checks and the skipped cells."""
    ns = {}
    for c in runner.code_cells(nb, specs.get("attention")):
        exec(compile(c["source"], f"cell {c['index']}", "exec"), ns)
    return ns


def _decoder_outcomes(nb, longer=False):
    """The decoder step's verdicts, of every case or (``longer``) of those whose source is longer than 1."""
    ns = _namespace(nb)
    part = parts(None)["decoder_step"]
    return [judge.judge(case, incell.run_case(case, part.function, ns), part.function) for case in part.cases
            if not longer or case.args[2].shape[0] > 1]


def test_the_decoders_query_is_checked_and_a_wrong_one_gets_its_hint():
    """(Over a source of one position every query gives the weight 1: that case cannot tell.)"""
    assert all(ok for ok, _ in _decoder_outcomes(solved("attention")))
    outcomes = _decoder_outcomes(mutate(solved("attention"), "decoder_step", *ATTENTION_QUERY_H_NEXT), longer=True)
    assert not any(ok for ok, _ in outcomes)
    assert all(o.notes == [spec_module.ATTENTION_NOTES["wrong-input"]] for o in outcomes), outcomes


def test_a_wrong_attention_costs_the_decoder_step_nothing():
    """The decoder step's oracle answers the call of the student's attention with the query h, whatever
    their attention computes (even nothing at all)."""
    nb = mutate(solved("attention"), "attention_forward", "    alpha = w / w.sum(axis=0)\n", "    alpha = w\n")
    assert all(ok for ok, _ in _decoder_outcomes(nb))
    nb = mutate(solved("attention"), "attention_forward", "    a = np.tanh(", "    raise ValueError()\n    a = np.tanh(")
    assert all(ok for ok, _ in _decoder_outcomes(nb))


def test_a_call_with_other_weights_is_answered_by_the_students_own_attention_and_noted():
    nb = mutate(solved("attention"), "decoder_step", 'weights = (params["W_a"], params["U_a"], params["v_a"])',
                'weights = (params["W_a"], params["U_a"], 2 * params["v_a"])')
    outcomes = _decoder_outcomes(nb, longer=True)
    assert not any(ok for ok, _ in outcomes)
    assert all(o.notes == [spec_module.ATTENTION_NOTES["no-match"]] for o in outcomes), outcomes


def test_the_per_parent_mistake_keeps_one_child_of_each_parent():
    """The mistake of the round trip's table is what its name says, and the grader takes it for one."""
    ns = _namespace(mutate(solved("attention"), "beam_step", *ATTENTION_BEAM_PER_PARENT))
    for case in parts(None)["beam_step"].cases:
        log_probs, scores, states, k, finished = case.args
        if k <= len(scores):
            _, _, parents, _ = ns["beam_step"](log_probs, scores, states, k, finished)
            assert len(set(parents.tolist())) == len(parents)


# --------------------------------------------------------------------------- the grading copy of rnnlib

CALLS = """
import rnnlib.seq2seq.decode, rnnlib.seq2seq.model
from rnnlib.seq2seq.checkpoint import load_checkpoint
zeros = lambda *shape: np.zeros(shape)
gru = tuple(zeros(2, 5) for _ in range(3)) + tuple(zeros(2, 1) for _ in range(3))
model = rnnlib.seq2seq.model.Model("gru", 1, 1, 1, 2, True, 1, 3)
params = {"E_tgt": zeros(1, 3), "W_a": zeros(1, 2), "U_a": zeros(1, 2), "v_a": zeros(1, 1),
          **dict(zip(("W_u_dec", "W_r_dec", "W_c_dec", "b_u_dec", "b_r_dec", "b_c_dec"), gru)),
          "W_y": zeros(3, 2), "b_y": zeros(3, 1)}
calls = {
    "gru_step": lambda: rnnlib.gru_step([zeros(3, 1), zeros(2, 1)], gru),
    "sigmoid": lambda: rnnlib.sigmoid(zeros(2)),
    "additive_attention": lambda: rnnlib.additive_attention(zeros(2, 1), zeros(1, 2, 1), np.ones((1, 1)),
                                                            (zeros(1, 2), zeros(1, 2), zeros(1, 1))),
    "additive_attention_backward": lambda: rnnlib.additive_attention_backward(zeros(2, 1), None),
    "attend": lambda: rnnlib.attention.attend(zeros(2, 1), zeros(1, 1, 1), zeros(1, 2, 1), np.ones((1, 1), bool),
                                              zeros(1, 2), zeros(1, 1)),
    "decoder_step": lambda: rnnlib.seq2seq.model.decoder_step(model, params, np.zeros(1, int), zeros(2, 1),
                                                              zeros(1, 2, 1), np.ones((1, 1), bool)),
    "beam_step": lambda: rnnlib.seq2seq.decode.beam_step(zeros(3, 1), zeros(1), zeros(2, 1), 2),
    "beam_search": lambda: rnnlib.seq2seq.decode.beam_search("gru", params, np.zeros(1, int), 2, 3),
    "gradient_report": lambda: rnnlib.gradcheck.gradient_report(lambda: 0.0, [zeros(1)], [zeros(1)], ["x"]),
}
"""


def test_the_grading_copy_keeps_the_gru_step_and_nothing_the_assignment_asks_for(tmp_path):
    got = probe_grading_copy(tmp_path, "attention", CALLS)
    assert {k for k, v in got.items() if v == "works"} == {"gru_step", "sigmoid", "gradient_report"}, got
    attention = (tmp_path / "rnnlib" / "attention.py").read_text()
    assert "np.exp" not in attention and "kind=\"stable\"" not in (tmp_path / "rnnlib" / "seq2seq" / "decode.py").read_text()


# --------------------------------------------------------------------------- the notebook's beam search

def test_the_notebooks_beam_search_around_the_students_functions_is_rnnlibs():
    """Part 6's ``translate``, built from the student's decoder_step and beam_step, finds what
    rnnlib's beam_search finds, output and score, for several widths, on test dates."""
    from rnnlib.dates import date_pairs

    nb = solved("attention")
    ns = {}
    for c in nb.cells:
        if c.cell_type == "code" and not c.metadata["nbgrader"].get("grade"):
            exec(compile(c.source, c.metadata["nbgrader"]["grade_id"], "exec"), ns)
    translate, params, checkpoint = ns["translate"], ns["params"], ns["checkpoint"]
    for date, _ in date_pairs(6, split="test", seed=3):
        src = checkpoint.src_vocab.encode([date])[0][:, 0]
        for k in (1, 2, 4):
            ours = translate(date, k)
            theirs = decode.beam_search("gru", params, src, k, checkpoint.max_target + 1)
            assert [text for text, _ in ours] == [checkpoint.tgt_vocab.decode(h.tokens) for h in theirs], (date, k)
            assert np.allclose([score for _, score in ours], [h.score for h in theirs], rtol=1e-9, atol=1e-12)
