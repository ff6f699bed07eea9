"""The character language model: text pipeline, softmax cross-entropy, the whole model's
gradients, truncated BPTT, n-gram baselines and sampling."""

import os
import warnings

import numpy as np
import pytest

import rnnlib
from rnnlib import lm, ngram, text


@pytest.fixture(scope="module")
def corpus():
    train, valid, test = text.split_text(text.load_text("time_machine"))
    vocab = text.Vocab.from_text(train)
    return vocab, vocab.encode(train), vocab.encode(valid), vocab.encode(test)


# ---------------------------------------------------------------- text pipeline

def test_shipped_text_is_the_whole_book():
    t = text.load_text("time_machine")
    assert t.startswith("The Time Machine\n") and "Gutenberg" not in t
    assert len(t) == 179_693                 # data/README.md states it; it would drift with the file


def test_vocab_round_trip_and_unknown_characters():
    vocab = text.Vocab.from_text("hello world")
    assert vocab.chars == text.UNKNOWN + " dehlorw" and len(vocab) == 9
    assert vocab.decode(vocab.encode("world hello")) == "world hello"
    assert list(vocab.encode("hx")) == [vocab.chars.index("h"), 0]           # unknown -> id 0
    assert vocab.decode(vocab.encode("hx")) == "h" + text.UNKNOWN
    with pytest.raises(ValueError, match="characters outside the vocabulary: 'xz'"):
        vocab.encode("hzex", strict=True)
    with pytest.raises(ValueError, match=r"ids must be in \[0, 9\)"):
        vocab.decode([9])


def test_splits_are_contiguous_disjoint_and_cut_at_line_breaks():
    t = text.load_text("time_machine")
    parts = text.split_text(t)
    assert "".join(parts) == t
    assert parts[0].endswith("\n") and parts[1].endswith("\n")
    sizes = np.array([len(p) for p in parts]) / len(t)
    assert np.allclose(sizes, (0.9, 0.05, 0.05), atol=0.002)  # a cut moves to the next line break only
    with pytest.raises(ValueError, match="three positive numbers summing to 1"):
        text.split_text(t, (0.5, 0.5))


def test_sequential_batches_continue_each_column():
    ids = np.arange(1000)
    got = list(text.batches(ids, batch_size=4, num_steps=7, order="sequential", rng=np.random.default_rng(3)))
    for X, Y in got:
        assert X.shape == Y.shape == (7, 4) and (Y == X + 1).all()     # targets: the next character
        assert (np.diff(X, axis=0) == 1).all()                          # each column is a run of text
    for (X1, _), (X2, _) in zip(got, got[1:]):
        assert (X2[0] == X1[-1] + 1).all()           # column b of a batch continues column b of the last
    assert len(np.unique(np.concatenate([X.ravel() for X, _ in got]))) == len(got) * 28  # nothing read twice


def test_random_batches_are_disjoint_chunks_in_random_order():
    ids = np.arange(1000)
    got = list(text.batches(ids, batch_size=4, num_steps=7, order="random", rng=np.random.default_rng(3)))
    starts = np.concatenate([X[0] for X, _ in got])
    assert all((Y == X + 1).all() and (np.diff(X, axis=0) == 1).all() for X, Y in got)
    assert len(set(starts)) == len(starts) and len(starts) >= 4 * (1000 // 7 // 4) - 4
    assert (np.diff(starts) % 7 == 0).all() and not (np.diff(starts) > 0).all()   # one grid, shuffled


def test_batches_come_from_the_training_split_only(corpus):
    """No leakage: the batches are cut from the ids given, and the validation text shares no
    long run of characters with what the training batches read at the cut."""
    vocab, train, valid, _ = corpus
    X, Y = next(text.batches(train, 8, 32, "sequential", np.random.default_rng(0)))
    assert Y.max() < len(vocab) and X.size == 256
    tail = vocab.decode(train[-200:])
    assert vocab.decode(valid[:200]) not in vocab.decode(train) and tail not in vocab.decode(valid)


def test_batches_reject_bad_arguments():
    for kwargs, msg in (({"batch_size": 0, "num_steps": 3}, "batch_size must be a positive integer"),
                        ({"batch_size": 2, "num_steps": 3, "order": "shuffled"}, "order must be 'sequential' or 'random'"),
                        ({"batch_size": 50, "num_steps": 30}, "too few for one batch of 50 x 30")):
        with pytest.raises(ValueError, match=msg):
            next(text.batches(np.arange(100), **kwargs))


# ---------------------------------------------------------------- softmax cross-entropy

def _reference_ce(logits, targets, mask):
    """Position by position, in Python floats: the definition, with no vectorisation to share bugs."""
    logits = logits if logits.ndim == 3 else logits[None]
    targets, mask = np.atleast_2d(targets), np.atleast_2d(mask)
    total, count = 0.0, 0
    for t in range(logits.shape[0]):
        for b in range(logits.shape[2]):
            if mask[t, b]:
                z = logits[t, :, b]
                total += -(z[targets[t, b]] - z.max() - np.log(np.sum(np.exp(z - z.max()))))
                count += 1
    return total / count


@pytest.mark.parametrize("shape", [(6, 3), (4, 6, 3)])
def test_softmax_cross_entropy_with_a_mask(shape):
    rng = np.random.default_rng(1)
    logits = 3 * rng.standard_normal(shape)
    targets = rng.integers(0, shape[-2], size=shape[:-2] + shape[-1:])
    mask = (rng.random(targets.shape) < 0.6).astype(float)
    mask.flat[0] = 1
    loss, dlogits = rnnlib.softmax_cross_entropy(logits, targets, mask)
    # rtol 1e-12: a sum of at most 12 terms in float64, in two orders
    assert loss == pytest.approx(_reference_ce(logits, targets, mask), rel=1e-12)
    num = rnnlib.numerical_gradient(lambda z: rnnlib.softmax_cross_entropy(z, targets, mask)[0], logits.copy())
    assert rnnlib.relative_error(dlogits, num) < 1e-8        # central differences: about 1e-10 here
    masked = np.expand_dims(mask == 0, -2).repeat(shape[-2], -2)
    assert (dlogits[masked] == 0).all()
    # the mean is over counted positions only: the unmasked loss of the counted ones alone
    assert loss == pytest.approx(_reference_ce(logits, targets, np.ones_like(mask)) if mask.all() else
                                 _reference_ce(logits, targets, mask))


def test_softmax_cross_entropy_against_torch():
    if os.environ.get("RNN_COURSE_STRICT") == "1":
        import torch
    else:
        torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    rng = np.random.default_rng(2)
    logits = 4 * rng.standard_normal((5, 30, 7))                           # (T, V, B)
    targets = rng.integers(0, 30, size=(5, 7))
    mask = (rng.random((5, 7)) < 0.7).astype(float)
    loss, dlogits = rnnlib.softmax_cross_entropy(logits, targets, mask)
    z = torch.tensor(logits.transpose(0, 2, 1).reshape(-1, 30), requires_grad=True)   # (T B, V)
    per = torch.nn.functional.cross_entropy(z, torch.tensor(targets.reshape(-1)), reduction="none")
    m = torch.tensor(mask.reshape(-1))
    ref = (per * m).sum() / m.sum()
    ref.backward()
    ref_grad = z.grad.numpy().reshape(5, 7, 30).transpose(0, 2, 1)
    # 1e-10 relative: float64 on both sides, different summation orders
    assert abs(loss - ref.item()) <= 1e-10 * abs(ref.item())
    assert rnnlib.relative_error(dlogits, ref_grad) < 1e-10


def test_softmax_cross_entropy_is_stable_for_large_logits():
    logits = np.array([[1e4, -1e4], [0.0, 1e4], [-1e4, 0.0]])               # (V=3, B=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                      # no overflow warning
        loss, dlogits = rnnlib.softmax_cross_entropy(logits, np.array([1, 1]))
    assert loss == pytest.approx((1e4 + 0.0) / 2) and np.isfinite(dlogits).all()


def test_softmax_cross_entropy_names_bad_input():
    z = np.zeros((4, 3))
    for args, msg in (((z, np.zeros(4, int)), r"targets must have shape \(3,\); got \(4,\)"),
                      ((z, np.array([0, 1, 4])), r"targets must be integers in \[0, 4\)"),
                      ((z, np.array([0, 1, 2]), np.ones(2)), r"mask must have the targets' shape \(3,\)"),
                      ((z, np.array([0, 1, 2]), np.zeros(3)), "mask counts no position"),
                      ((np.zeros(3), np.array(0)), r"logits must be \(V, B\) or \(T, V, B\)")):
        with pytest.raises(ValueError, match=msg):
            rnnlib.softmax_cross_entropy(*args)


# ---------------------------------------------------------------- the whole model

@pytest.mark.parametrize("embed", [None, 5])
@pytest.mark.parametrize("cell", list(rnnlib.CELLS))
def test_whole_model_gradient_check(cell, embed):
    """Embedding (or one-hot), cell and output layer against central differences. Inputs repeat
    characters, so the embedding's np.add.at must accumulate. Tolerance 1e-6: float64 central
    differences with a step of 1e-5 agree to about 1e-8 on these smooth functions."""
    V, H, T, B = 7, 4, 5, 3
    params = lm.init_lm(cell, V, H, embed, seed=3)
    rng = np.random.default_rng(4)
    X, Y = rng.integers(0, 3, size=(T, B)), rng.integers(0, V, size=(T, B))     # ids 0..2 repeat
    state = rnnlib.CELLS[cell].pack_state([0.3 * rng.standard_normal((H, B)) for _ in rnnlib.CELLS[cell].state_names])
    mask = np.ones((T, B))
    mask[0, 1] = 0
    loss, grads, _ = lm.lm_loss_and_grads(cell, params, X, Y, state, mask)
    assert list(grads) == list(lm.param_names(cell, embed is not None))
    for name in params:
        num = rnnlib.numerical_gradient(
            lambda a: lm.lm_loss_and_grads(cell, {**params, name: a}, X, Y, state, mask)[0], params[name].copy())
        assert rnnlib.relative_error(grads[name], num) < 1e-6, name


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_gradient_check_with_dropout(cell):
    """With the dropout mask held fixed (the same generator seed at every call), the model is a
    smooth function of its parameters, and its gradient is checked like any other; about a
    third of the hidden values the output layer reads are dropped."""
    V, H, T, B = 6, 5, 4, 3
    params = lm.init_lm(cell, V, H, 3, seed=2)
    rng = np.random.default_rng(6)
    X, Y = rng.integers(0, V, size=(T, B)), rng.integers(0, V, size=(T, B))
    state = lm.zero_state(cell, H, B)
    run = lambda p: lm.lm_loss_and_grads(cell, p, X, Y, state, dropout=0.35, rng=np.random.default_rng(7))
    logits, cache = lm.lm_forward(cell, params, X, state, dropout=0.35, rng=np.random.default_rng(7))
    assert 0.15 < np.mean(cache.keep == 0) < 0.55                       # the mask drops about 35%
    _, grads, _ = run(params)
    for name in params:
        num = rnnlib.numerical_gradient(lambda a: run({**params, name: a})[0], params[name].copy())
        assert rnnlib.relative_error(grads[name], num) < 1e-6, name
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\); got 1"):
        lm.lm_forward(cell, params, X, state, dropout=1)


@pytest.mark.parametrize("cell", list(rnnlib.CELLS))
def test_a_two_layer_model_gradient_check_with_dropout_between_layers(cell):
    """Two layers, an embedding, dropout between the layers and before the output layer (the mask
    fixed by re-seeding), a nonzero carried state per layer: every parameter's gradient."""
    V, H, T, B = 6, 4, 4, 3
    params = lm.init_lm(cell, V, H, 3, seed=2, layers=2)
    assert list(params) == list(lm.param_names(cell, True, 2)) and lm.count_layers(cell, params) == 2
    first = rnnlib.CELLS[cell].layout[0]                 # the first matrix: its shape in (D, H)
    assert params[lm.param_names(cell, True, 2)[1]].shape == first.shape(3, H)      # layer 0 reads D = 3
    assert params[f"{first.name}_l1"].shape == first.shape(H, H)                    # layer 1 reads H
    rng = np.random.default_rng(6)
    X, Y = rng.integers(0, V, size=(T, B)), rng.integers(0, V, size=(T, B))
    spec = rnnlib.CELLS[cell]
    state = [spec.pack_state([0.3 * rng.standard_normal((H, B)) for _ in spec.state_names]) for _ in range(2)]
    run = lambda p: lm.lm_loss_and_grads(cell, p, X, Y, state, dropout=0.3, rng=np.random.default_rng(7))
    _, cache = lm.lm_forward(cell, params, X, state, dropout=0.3, rng=np.random.default_rng(7))
    assert cache.stack.masks[1] is not None and cache.keep is not None
    _, grads, carried = run(params)
    assert isinstance(carried, list) and len(carried) == 2
    for name in params:
        num = rnnlib.numerical_gradient(lambda a: run({**params, name: a})[0], params[name].copy())
        assert rnnlib.relative_error(grads[name], num) < 1e-6, name


def test_a_two_layer_model_samples_and_scores_as_its_forward_pass(corpus):
    """Perplexity (inference, layer by layer) and sampling (one step up the stack at a time) run
    the same numbers as lm_forward: checked on the likeliest character at each step."""
    vocab, train_ids = corpus[0], corpus[1]
    params = lm.init_lm("lstm", len(vocab), 8, 4, seed=0, layers=2)
    ids = train_ids[:200]
    logits, _ = lm.lm_forward("lstm", params, ids[:-1, None], lm.zero_state("lstm", 8, 1, layers=2))
    nats = -np.mean([logits[t, :, 0][ids[t + 1]] - np.log(np.exp(logits[t, :, 0]).sum()) for t in range(199)])
    assert abs(lm.lm_perplexity("lstm", params, ids, streams=1) - np.exp(nats)) < 1e-10 * np.exp(nats)
    greedy = lm.sample("lstm", params, vocab, vocab.decode(ids[:1]), 20, temperature=0)
    text_ids = vocab.encode(greedy)
    logits, _ = lm.lm_forward("lstm", params, text_ids[:-1, None], lm.zero_state("lstm", 8, 1, layers=2))
    assert list(text_ids[1:]) == list(np.argmax(logits[:, :, 0], axis=1))
    with pytest.raises(ValueError, match="the state of a 2-layer model is a list of 2 states"):
        lm.lm_forward("lstm", params, ids[:5, None], lm.zero_state("lstm", 8, 1))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_truncated_bptt_carries_the_state_and_detaches_it(cell):
    """Two chunks with the carried state compute what one long forward pass computes; and the
    second chunk's gradient is the gradient of its own loss with its initial state held fixed."""
    V, H, B = 6, 5, 2
    params = lm.init_lm(cell, V, H, 4, seed=1)
    ids = np.random.default_rng(5).integers(0, V, size=(9, B))
    state_0 = lm.zero_state(cell, H, B)
    whole, _ = lm.lm_forward(cell, params, ids[:8], state_0)
    _, _, carried = lm.lm_loss_and_grads(cell, params, ids[:4], ids[1:5], state_0)
    second, _ = lm.lm_forward(cell, params, ids[4:8], carried)
    np.testing.assert_allclose(second, whole[4:], rtol=1e-12, atol=1e-14)   # same arithmetic, two calls
    _, grads, _ = lm.lm_loss_and_grads(cell, params, ids[4:8], ids[5:9], carried)
    fixed = lambda a: lm.lm_loss_and_grads(cell, {**params, "W_y": a}, ids[4:8], ids[5:9], carried)[0]
    assert rnnlib.relative_error(grads["W_y"], rnnlib.numerical_gradient(fixed, params["W_y"].copy())) < 1e-6
    W = lm.param_names(cell)[1]
    fixed = lambda a: lm.lm_loss_and_grads(cell, {**params, W: a}, ids[4:8], ids[5:9], carried)[0]
    assert rnnlib.relative_error(grads[W], rnnlib.numerical_gradient(fixed, params[W].copy())) < 1e-6


@pytest.mark.parametrize("embed", [None, 4])
def test_float32_model_computes_in_float32(embed):
    """A float32 model runs in float32 all through (a one-hot input built as float64 would
    silently promote every product to float64, at twice the cost), and agrees with the
    float64 model to float32's rounding: tolerance 1e-4 relative, about 1000 float32 ulps."""
    V, H, T, B = 9, 6, 5, 3
    p64 = lm.init_lm("gru", V, H, embed, seed=1)
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    rng = np.random.default_rng(2)
    X, Y = rng.integers(0, V, size=(T, B)), rng.integers(0, V, size=(T, B))
    logits, _ = lm.lm_forward("gru", p32, X, lm.zero_state("gru", H, B, np.float32))
    assert logits.dtype == np.float32
    drop = lambda: {"dropout": 0.3, "rng": np.random.default_rng(3)}     # the same mask for both
    loss32, g32, state = lm.lm_loss_and_grads("gru", p32, X, Y, lm.zero_state("gru", H, B, np.float32), **drop())
    loss64, g64, _ = lm.lm_loss_and_grads("gru", p64, X, Y, lm.zero_state("gru", H, B), **drop())
    assert state.dtype == np.float32 and {g.dtype for g in g32.values()} == {np.dtype(np.float32)}
    assert abs(loss32 - loss64) < 1e-4 * loss64
    for name in g64:
        np.testing.assert_allclose(g32[name], g64[name], rtol=1e-4, atol=1e-4 * np.abs(g64[name]).max(), err_msg=name)


def test_model_names_bad_input():
    params = lm.init_lm("gru", 5, 3, seed=0)
    with pytest.raises(ValueError, match=r"X_ids must be character ids in \[0, 5\)"):
        lm.lm_forward("gru", params, np.full((2, 1), 5), lm.zero_state("gru", 3, 1))
    with pytest.raises(ValueError, match=r"X_ids must be a \(T, B\) integer array"):
        lm.lm_forward("gru", params, np.zeros(3, int), lm.zero_state("gru", 3, 1))
    with pytest.raises(ValueError, match="params lacks"):
        lm.lm_forward("lstm", params, np.zeros((2, 1), int), lm.zero_state("lstm", 3, 1))


# ---------------------------------------------------------------- n-gram baselines

def test_ngram_probabilities_sum_to_one_in_every_context(corpus):
    vocab, train, _, _ = corpus
    V = len(vocab)
    for order in (1, 2, 3):
        model = ngram.NGram(order, V, alpha=0.7).fit(train)
        for context in ("th", "qz", "e "):                        # seen often, never, sometimes
            ctx = list(vocab.encode(context[-(order - 1):] if order > 1 else ""))
            probs = [model.prob(np.array(ctx + [c]))[0] for c in range(V)]
            assert sum(probs) == pytest.approx(1.0, abs=1e-12) and min(probs) > 0


def test_unigram_perplexity_is_the_smoothed_frequency_formula():
    train, held = np.array([0, 0, 1, 2, 0]), np.array([0, 2, 3])
    model = ngram.NGram(1, 4, alpha=2.0).fit(train)
    p = (np.array([3, 0, 1, 0]) + 2.0 / 4) / (5 + 2.0)               # (N(c) + alpha / V) / (N + alpha)
    assert model.perplexity(held) == pytest.approx(np.exp(-np.mean(np.log(p[held]))), rel=1e-12)


def test_longer_contexts_predict_better(corpus):
    vocab, train, valid, _ = corpus
    ppl = [ngram.fit_alpha(n, len(vocab), train, valid)[1] for n in (1, 2, 3)]
    assert ppl[0] > ppl[1] > ppl[2] > 1


# ---------------------------------------------------------------- sampling

def test_drawing_is_inverse_transform_sampling():
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    cdf = np.cumsum([0.1, 0.2, 0.3, 0.4])
    for u in (0.0, 0.05, 0.11, 0.29, 0.31, 0.59, 0.61, 0.999):       # off the cdf's steps (rounding)
        assert lm.next_char_id(logits, u=u) == int(np.sum(cdf <= u))
    assert lm.next_char_id(logits, temperature=0) == 3                # greedy
    assert lm.next_char_id(logits, top_k=1, u=0.0) == 3
    assert lm.next_char_id(logits, top_k=2, u=0.42) == 2 and lm.next_char_id(logits, top_k=2, u=0.44) == 3  # 3/7 = 0.4286


def test_temperature_reshapes_the_distribution():
    """Frequencies of 20,000 draws against softmax(z / T). Tolerance 0.015: four standard
    deviations of a frequency near 0.5 (sqrt(0.25 / 20000) = 0.0035)."""
    z = np.array([1.0, 2.0, 0.5])
    rng = np.random.default_rng(0)
    for T in (0.5, 1.0, 2.0):
        draws = [lm.next_char_id(z, T, rng=rng) for _ in range(20_000)]
        p = np.exp(z / T) / np.exp(z / T).sum()
        np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20_000, p, atol=0.015)


def test_sampling_is_deterministic_given_a_seed(corpus):
    vocab = corpus[0]
    params = lm.init_lm("lstm", len(vocab), 8, seed=0)
    a = lm.sample("lstm", params, vocab, "The ", 40, seed=7)
    assert a == lm.sample("lstm", params, vocab, "The ", 40, seed=7) and a.startswith("The ") and len(a) == 44
    assert a != lm.sample("lstm", params, vocab, "The ", 40, seed=8)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        lm.sample("lstm", params, vocab, "@", 5)
    with pytest.raises(ValueError, match="temperature must be a number >= 0"):
        lm.next_char_id(np.zeros(3), temperature=-1)
