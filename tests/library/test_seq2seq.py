"""The encoder-decoder: gradients against central differences for every cell, padding that changes
nothing, and decoding (greedy, one beam step, beam search against exhaustive search).

Tolerances: central differences (eps = 1e-5, float64) agree with a right gradient to about 1e-9
relative for these small models; ``AGREE`` (1e-6) separates right from wrong. Results that only
differ in the batch's width (different BLAS blockings) agree to 1e-12 relative.
"""

import itertools

import numpy as np
import pytest

from rnnlib import CELLS
from rnnlib.gradcheck import AGREE, check_gradients
from rnnlib.seq2seq import BOS, EOS, PAD, Vocab, init_seq2seq, seq2seq_backward, seq2seq_forward
from rnnlib.seq2seq.data import TASKS, batch, batches, reverse_pairs
from rnnlib.seq2seq.decode import beam_search, beam_step, greedy_decode, log_softmax

V_SRC, V_TGT = 7, 6


def tiny(cell="gru", attention=True, layers=1, seed=1):
    return init_seq2seq(cell, V_SRC, V_TGT, embed=3, hidden=3, dec_hidden=4, attention_size=3, layers=layers,
                        attention=attention, seed=seed)


def sources(lengths, seed=0):
    rng = np.random.default_rng(seed)
    T = max(lengths)
    mask = (np.arange(T)[:, None] < np.array(lengths)).astype(float)
    src = np.where(mask == 1, rng.integers(3, V_SRC, (T, len(lengths))), PAD)
    return src, mask


CASES = [(c, True, 1) for c in CELLS] + [("gru", True, 2), ("gru", False, 1), ("lstm", False, 2)]


@pytest.mark.parametrize("cell, attention, layers", CASES)
def test_gradients_agree_with_central_differences(cell, attention, layers):
    params = tiny(cell, attention, layers)
    src, mask = sources([4, 2, 2, 1])
    tgt_in = np.random.default_rng(2).integers(1, V_TGT, (3, 4))
    G = np.random.default_rng(3).standard_normal((3, V_TGT, 4))
    logits, _, cache = seq2seq_forward(cell, params, src, mask, tgt_in)
    grads = seq2seq_backward(G, params, cache)
    loss = lambda: float((G * seq2seq_forward(cell, params, src, mask, tgt_in)[0]).sum())
    errors = check_gradients(loss, list(params.values()), [grads[k] for k in params], list(params))
    assert max(e for _, e in errors) < AGREE, [(n, e) for n, e in errors if e >= AGREE]


def test_padding_changes_nothing():
    """A batch of sources of different lengths gives each column what it gives alone."""
    params = tiny("lstm", layers=2)
    src, mask = sources([5, 2, 3, 5])
    tgt_in = np.random.default_rng(4).integers(1, V_TGT, (3, 4))
    logits, alphas, _ = seq2seq_forward("lstm", params, src, mask, tgt_in)
    for b, n in enumerate(mask.sum(axis=0).astype(int)):
        alone, alpha, _ = seq2seq_forward("lstm", params, src[:n, [b]], mask[:n, [b]], tgt_in[:, [b]])
        np.testing.assert_allclose(logits[:, :, b], alone[:, :, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(alphas[:, :n, b], alpha[:, :, 0], rtol=1e-12, atol=1e-14)
        assert (alphas[:, n:, b] == 0).all()


def test_the_model_without_attention_reads_only_the_summary():
    params = tiny("gru", attention=False)
    assert not {"W_a", "U_a", "v_a"} & set(params)
    src, mask = sources([3, 3])
    logits, alphas, _ = seq2seq_forward("gru", params, src, mask, np.ones((2, 2), int))
    assert alphas is None and logits.shape == (2, V_TGT, 2)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_greedy_is_a_beam_of_one(cell):
    params = tiny(cell, seed=5)
    src, mask = sources([4, 3, 1], seed=6)
    tokens, alphas = greedy_decode(cell, params, src, mask, max_len=6)
    for b in range(3):
        n = int(mask[:, b].sum())
        best = beam_search(cell, params, src[:n, b], k=1, max_len=6)[0]
        assert best.tokens == tokens[b]
        if best.finished:
            np.testing.assert_allclose(best.alphas, alphas[b][:, :n], rtol=1e-12)


def teacher_forced_score(cell, params, src, tokens):
    """The summed log-probability of writing ``tokens`` (then <eos>), by the teacher-forced model."""
    target = list(tokens) + [EOS]
    logits, _, _ = seq2seq_forward(cell, params, src[:, None], np.ones((len(src), 1)),
                                   np.array([BOS] + target[:-1])[:, None])
    return sum(log_softmax(z)[y, 0] for z, y in zip(logits, target))


def test_a_beam_wider_than_every_candidate_is_exhaustive_search():
    """With max_len 3 and a beam wider than the 6 + 30 + 150 candidates, beam search finishes every
    target of up to 2 tokens and <eos>: its ranking must be the brute-force one."""
    params = tiny("gru", seed=7)
    src = np.array([3, 5, 4, 6])
    found = beam_search("gru", params, src, k=200, max_len=3)
    others = [v for v in range(V_TGT) if v != EOS]
    every = [list(t) for n in range(3) for t in itertools.product(others, repeat=n)]
    assert len(found) == len(every) == 1 + 5 + 25
    brute = sorted(((teacher_forced_score("gru", params, src, t), t) for t in every), key=lambda p: -p[0])
    assert [h.tokens for h in found] == [t for _, t in brute]
    np.testing.assert_allclose([h.score for h in found], [s for s, _ in brute], rtol=1e-12)


def test_beam_scores_are_the_models_log_probabilities_and_length_norm_reranks():
    params = tiny("lstm", seed=8)
    src = np.array([4, 4, 3])
    hyps = beam_search("lstm", params, src, k=4, max_len=5)
    for h in hyps:
        if h.finished:
            assert h.score == pytest.approx(teacher_forced_score("lstm", params, src, h.tokens), rel=1e-12)
    normed = beam_search("lstm", params, src, k=4, max_len=5, length_norm=1.0)
    assert [h.score / h.length() for h in normed] == sorted((h.score / h.length() for h in normed), reverse=True)


def test_beam_step_keeps_the_best_candidates_and_reorders_the_states():
    rng = np.random.default_rng(9)
    log_probs = log_softmax(rng.standard_normal((5, 3)))
    scores = np.array([-1.0, -0.2, -3.0])
    states = (rng.standard_normal((4, 3)), rng.standard_normal((4, 3)))
    new_scores, tokens, parents, new_states = beam_step(log_probs, scores, states, k=4)
    every = sorted(((scores[j] + log_probs[v, j], j, v) for j in range(3) for v in range(5)), key=lambda c: -c[0])
    assert list(zip(parents, tokens)) == [(j, v) for _, j, v in every[:4]]
    np.testing.assert_array_equal(new_scores, [s for s, _, _ in every[:4]])
    for new, old in zip(new_states, states):
        np.testing.assert_array_equal(new, old[:, parents])


def test_beam_step_breaks_ties_by_parent_then_token():
    _, tokens, parents, _ = beam_step(np.zeros((3, 2)), np.zeros(2), np.zeros((1, 2)), k=4)
    assert list(zip(parents, tokens)) == [(0, 0), (0, 1), (0, 2), (1, 0)]


def test_beam_width_must_be_positive():
    with pytest.raises(ValueError, match="beam width must be a positive integer; got 0"):
        beam_search("gru", tiny(), np.array([3, 4]), k=0, max_len=3)
    with pytest.raises(ValueError, match=r"scores has shape \(3,\), expected \(2,\)"):
        beam_step(np.zeros((3, 2)), np.zeros(3), np.zeros((1, 2)), k=2)


def test_beam_step_keeps_a_finished_hypothesis_as_it_is_and_extends_only_the_others():
    """The fixed-width variant: a finished column has one candidate, itself (its score unchanged,
    the token EOS); the unfinished columns' candidates are those of the step without ``finished``;
    the tie rule and the order are the same; no floating-point warning on the way."""
    rng = np.random.default_rng(11)
    V, n = 6, 4
    log_probs = log_softmax(rng.standard_normal((V, n)))
    log_probs[:, 1] = log_softmax(np.array([[0.0], [0.0], [-9.0], [5.0], [4.0], [0.0]]))[:, 0]   # EOS unlikely
    scores = np.array([-2.0, -0.1, -1.5, -0.7])
    finished = np.array([False, True, False, True])
    states = (rng.standard_normal((3, n)), rng.standard_normal((3, n)))
    exists = [(j, v) for j in range(n) for v in range(V) if not finished[j] or v == EOS]
    every = sorted(((scores[j] + (0.0 if finished[j] else log_probs[v, j]), j, v) for j, v in exists),
                   key=lambda c: -c[0])                     # sorted() is stable: ties in (parent, token) order
    for k in (1, 3, 7, len(every)):
        with np.errstate(all="raise"):
            new_scores, tokens, parents, new_states = beam_step(log_probs, scores, states, k, finished)
        assert list(zip(parents.tolist(), tokens.tolist())) == [(j, v) for _, j, v in every[:k]]
        np.testing.assert_array_equal(new_scores, [s for s, _, _ in every[:k]])
        for new, old in zip(new_states, states):
            np.testing.assert_array_equal(new, old[:, parents])
        for j in np.flatnonzero(finished):                  # at most one candidate, itself, with EOS
            mine = parents == j
            assert mine.sum() <= 1 and (tokens[mine] == EOS).all() and (new_scores[mine] == scores[j]).all()
    # both finished hypotheses are kept (the first one best); ignoring `finished`, column 1's
    # tokens 3 and 4 would be
    _, tokens, parents, _ = beam_step(log_probs, scores, states, 4, finished)
    assert (parents[0], tokens[0]) == (1, EOS) and (3, EOS) in zip(parents.tolist(), tokens.tolist())
    _, tokens, parents, _ = beam_step(log_probs, scores, states, 4)
    assert (1, 3) in zip(parents.tolist(), tokens.tolist())
    # k beyond the candidates that exist: only those are returned (as with k > V n)
    got = beam_step(log_probs, scores, states, V * n, finished)
    assert len(got[0]) == len(every) == 2 * V + 2 and np.isfinite(got[0]).all()
    # unfinished columns are unaffected: none finished is the step without `finished`, exactly
    for k in (1, 5, V * n):
        for a, b in zip(beam_step(log_probs, scores, states[0], k, np.zeros(n, bool)),
                        beam_step(log_probs, scores, states[0], k)):
            assert a.dtype == b.dtype and np.array_equal(a, b)
    # ties: a finished hypothesis and candidates of equal score, in (parent, token) order
    _, tokens, parents, _ = beam_step(np.zeros((3, 2)), np.zeros(2), np.zeros((1, 2)), k=3,
                                      finished=np.array([False, True]))
    assert list(zip(parents.tolist(), tokens.tolist())) == [(0, 0), (0, 1), (0, 2)]
    _, tokens, parents, _ = beam_step(np.zeros((3, 2)), np.zeros(2), np.zeros((1, 2)), k=4,
                                      finished=np.array([True, False]))
    assert list(zip(parents.tolist(), tokens.tolist())) == [(0, EOS), (1, 0), (1, 1), (1, 2)]
    with pytest.raises(ValueError, match=r"finished must be a bool array of shape \(2,\)"):
        beam_step(np.zeros((3, 2)), np.zeros(2), np.zeros((1, 2)), k=2, finished=np.array([0, 1]))


def test_batches_hold_one_source_length_and_every_pair_once():
    task = TASKS["dates"]
    sv, tv = task.vocabs
    pairs = task.pairs(500, "train", 0)
    seen = []
    for src, src_mask, tgt_in, tgt_out, tgt_mask in batches(pairs, sv, tv, 32, np.random.default_rng(0)):
        assert src_mask.all() and src.shape[1] <= 32          # one length: no padding at all
        assert (tgt_in[0] == BOS).all() and (tgt_in[1:] == tgt_out[:-1]).all()
        assert (tgt_out[tgt_mask.sum(axis=0).astype(int) - 1, range(src.shape[1])] == EOS).all()
        seen += [(sv.decode(s), tv.decode(t)) for s, t in zip(src.T, tgt_out.T)]
    assert sorted(seen) == sorted(pairs)


def test_reverse_targets_are_padded_and_masked():
    pairs = reverse_pairs(6, seed=1)
    sv, tv = TASKS["reverse"].vocabs
    _, src_mask, _, tgt_out, tgt_mask = batch(pairs, sv, tv)
    assert (src_mask.sum(axis=0) == [len(s) for s, _ in pairs]).all()
    assert (tgt_mask.sum(axis=0) == [len(t) + 1 for _, t in pairs]).all()
    assert ((tgt_out == PAD) == (tgt_mask == 0)).all()


def test_vocab_round_trip_and_unknown_characters():
    v = Vocab("cab")
    ids, mask = v.encode(["ab", "c"], bos=True, eos=True)
    assert ids[:, 0].tolist() == [BOS, v.stoi["a"], v.stoi["b"], EOS] and mask[:, 1].tolist() == [1, 1, 1, 0]
    assert v.decode(ids[:, 0]) == "ab"
    with pytest.raises(ValueError, match="'aXb' holds characters outside the vocabulary: 'X'"):
        v.encode(["aXb"])


def test_every_generated_date_fits_the_task():
    task = TASKS["dates"]
    sv, tv = task.vocabs
    pairs = task.pairs(3000, "train", 3) + task.pairs(1000, "test", 3)
    assert max(len(s) for s, _ in pairs) <= task.max_source
    assert all(not sv.unknown(s) and not tv.unknown(t) and len(t) == task.max_target for s, t in pairs)


@pytest.mark.parametrize("name", ["dates", "dates_small", "reverse_attention", "reverse_summary"])
def test_each_shipped_model_is_what_its_history_says(name):
    """The shipped checkpoints (tools/train_*.py): a fresh evaluation on the test split gives the
    accuracy their history recorded at the end of training."""
    from rnnlib.seq2seq.checkpoint import load_checkpoint
    from rnnlib.seq2seq.train import accuracy
    from rnnlib.text import DATA_DIR

    m = load_checkpoint(DATA_DIR / "models" / f"{name}.npz")
    c = m.config
    test = TASKS[c.task].pairs(c.test_size, "test", c.seed)
    assert accuracy(c.cell, m.params, test, m.src_vocab, m.tgt_vocab, m.max_target + 1) == m.history["test_accuracy"]


def test_the_shipped_date_model_translates_the_readmes_examples():
    from rnnlib.seq2seq.checkpoint import load_checkpoint
    from rnnlib.seq2seq.train import translate
    from rnnlib.text import DATA_DIR

    m = load_checkpoint(DATA_DIR / "models" / "dates.npz")
    assert m.history["test_accuracy"] >= 0.99
    texts = ["the 3rd of march 1987", "3/4/21", "Tue 3 Mar 1987", "31 DECEMBER 1999"]
    outputs = [o for o, _ in translate(m.config.cell, m.params, texts, m.src_vocab, m.tgt_vocab, m.max_target + 1,
                                       beam=4)]
    assert outputs == ["1987-03-03", "2021-04-03", "1987-03-03", "1999-12-31"]
