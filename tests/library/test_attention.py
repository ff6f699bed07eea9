"""Additive attention: the forward's meaning (weights that sum to 1, exactly 0 on padding), the
backward against central differences and against PyTorch autograd, and clear errors.

Tolerances: central differences at eps = 1e-5 in float64 agree with a right gradient to about
1e-10 relative; 1e-7 leaves room (a wrong term gives 1e-3 or more). PyTorch computes the same
float64 formula in another order: 1e-12 relative.
"""

import os

import numpy as np
import pytest

import rnnlib
from rnnlib.gradcheck import check_gradients

T, H_ENC, H_DEC, A, B = 6, 5, 4, 3, 4


def problem(seed=0, lengths=(6, 4, 1, 3)):
    rng = np.random.default_rng(seed)
    s = rng.standard_normal((H_DEC, B))
    Hs = rng.standard_normal((T, H_ENC, B))
    mask = (np.arange(T)[:, None] < np.array(lengths)[None]).astype(float)
    weights = (rng.standard_normal((A, H_DEC)), rng.standard_normal((A, H_ENC)), rng.standard_normal((A, 1)))
    return s, Hs, mask, weights


def test_weights_sum_to_one_and_are_exactly_zero_on_padding():
    s, Hs, mask, weights = problem()
    context, alpha, _ = rnnlib.additive_attention(s, Hs, mask, weights)
    assert context.shape == (H_ENC, B) and alpha.shape == (T, B)
    np.testing.assert_allclose(alpha.sum(axis=0), 1.0, rtol=1e-15)
    assert (alpha[mask == 0] == 0).all()
    assert (alpha[mask == 1] > 0).all()
    assert np.all(alpha[:, 2] == np.eye(T)[0])       # one real position: all the weight on it


def test_matches_the_equations_written_out_for_one_column():
    s, Hs, mask, (W_a, U_a, v_a) = problem()
    context, alpha, _ = rnnlib.additive_attention(s, Hs, mask, (W_a, U_a, v_a))
    b, n = 1, 4                                         # column 1 has 4 real positions
    scores = np.array([(v_a[:, 0] * np.tanh(W_a @ s[:, b] + U_a @ Hs[t, :, b])).sum() for t in range(n)])
    want = np.exp(scores) / np.exp(scores).sum()
    np.testing.assert_allclose(alpha[:n, b], want, rtol=1e-13)
    np.testing.assert_allclose(context[:, b], Hs[:n, :, b].T @ want, rtol=1e-13)


def test_padding_cannot_change_the_context():
    s, Hs, mask, weights = problem()
    context, alpha, _ = rnnlib.additive_attention(s, Hs, mask, weights)
    noisy = Hs + 1e3 * (mask == 0)[:, None, :]          # any values at the padded positions
    context2, alpha2, _ = rnnlib.additive_attention(s, noisy, mask, weights)
    assert np.array_equal(context, context2) and np.array_equal(alpha, alpha2)


def test_large_scores_do_not_overflow():
    s, Hs, mask, (W_a, U_a, v_a) = problem()
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # underflow to 0 is right
        _, alpha, _ = rnnlib.additive_attention(s, Hs, mask, (W_a, U_a, 1e4 * v_a))
    assert np.isfinite(alpha).all()
    np.testing.assert_allclose(alpha.sum(axis=0), 1.0, rtol=1e-15)


def test_backward_passes_a_gradient_check():
    s, Hs, mask, weights = problem()
    G = np.random.default_rng(1).standard_normal((H_ENC, B))
    weights = [w.copy() for w in weights]
    context, _, cache = rnnlib.additive_attention(s, Hs, mask, weights)
    ds, dHs, dweights = rnnlib.additive_attention_backward(G, cache)
    loss = lambda: float((G * rnnlib.additive_attention(s, Hs, mask, weights)[0]).sum())
    errors = check_gradients(loss, [s, Hs, *weights], [ds, dHs, *dweights], ["s", "Hs", "W_a", "U_a", "v_a"])
    assert all(e < 1e-7 for _, e in errors), errors
    assert (dHs.transpose(0, 2, 1)[mask == 0] == 0).all()   # padding gets no gradient at all


def test_float32_stays_float32():
    s, Hs, mask, weights = problem()
    f32 = lambda a: a.astype(np.float32)
    context, alpha, cache = rnnlib.additive_attention(f32(s), f32(Hs), mask, tuple(map(f32, weights)))
    ds, dHs, dweights = rnnlib.additive_attention_backward(f32(context), cache)
    assert {a.dtype for a in (context, alpha, ds, dHs, *dweights)} == {np.dtype(np.float32)}


def test_agrees_with_pytorch_autograd():
    if os.environ.get("RNN_COURSE_STRICT") == "1":
        import torch
    else:
        torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    s, Hs, mask, weights = problem(seed=3)
    G = np.random.default_rng(4).standard_normal((H_ENC, B))
    context, alpha, cache = rnnlib.additive_attention(s, Hs, mask, weights)
    ds, dHs, dweights = rnnlib.additive_attention_backward(G, cache)
    # d2l's AdditiveAttention in PyTorch's (B, T, H) layout, masked by -inf before the softmax
    ts, tH = torch.tensor(s.T, requires_grad=True), torch.tensor(Hs.transpose(2, 0, 1), requires_grad=True)
    tW, tU, tv = (torch.tensor(w, requires_grad=True) for w in weights)
    scores = (torch.tanh((ts @ tW.T)[:, None, :] + tH @ tU.T) @ tv)[..., 0]          # (B, T)
    scores = scores.masked_fill(torch.tensor(mask.T == 0), float("-inf"))
    talpha = torch.softmax(scores, dim=1)
    tcontext = (talpha[..., None] * tH).sum(dim=1)                                  # (B, H_enc)
    (tcontext * torch.tensor(G.T)).sum().backward()
    rel = lambda a, b: np.abs(a - b).max() / np.abs(b).max()
    assert rel(context, tcontext.detach().numpy().T) < 1e-12
    assert rel(alpha, talpha.detach().numpy().T) < 1e-12
    pairs = [(ds, ts.grad.numpy().T), (dHs, tH.grad.numpy().transpose(1, 2, 0))]
    pairs += [(d, t.grad.numpy()) for d, t in zip(dweights, (tW, tU, tv))]
    assert all(rel(a, b) < 1e-12 for a, b in pairs), [rel(a, b) for a, b in pairs]


@pytest.mark.parametrize("change, message", [
    (lambda s, Hs, m, w: (s[:, :2], Hs, m, w), r"s has shape \(4, 2\), expected \(H_dec, 4\)"),
    (lambda s, Hs, m, w: (s, Hs[0], m, w), r"Hs must be 3-D with shape \(T_src, H_enc, B\)"),
    (lambda s, Hs, m, w: (s, Hs, m[:, :3], w), r"mask has shape \(6, 3\), expected \(6, 4\) = \(T_src, B\)"),
    (lambda s, Hs, m, w: (s, Hs, 2 * m, w), "mask must hold only 0 and 1"),
    (lambda s, Hs, m, w: (s, Hs, m * np.array([1, 0, 1, 1]), w), "mask column 1 has no real position"),
    (lambda s, Hs, m, w: (s, Hs, m, w[:2]), r"weights must be the tuple \(W_a, U_a, v_a\)"),
    (lambda s, Hs, m, w: (s, Hs, m, (w[0], w[1][:, :2], w[2])),
     r"U_a has shape \(3, 2\), expected \(3, 5\) = \(A, H_enc\)"),
    (lambda s, Hs, m, w: (s, Hs, m, (w[0][:, :3], w[1], w[2])),
     r"W_a has shape \(3, 3\), expected \(3, 4\) = \(A, H_dec\)"),
    (lambda s, Hs, m, w: (s, Hs, m, (w[0], w[1], w[2].T)), r"v_a has shape \(1, 3\), expected \(3, 1\)"),
])
def test_bad_input_is_named(change, message):
    with pytest.raises(ValueError, match=message):
        rnnlib.additive_attention(*change(*problem()))


def test_backward_refuses_a_wrong_dcontext():
    s, Hs, mask, weights = problem()
    _, _, cache = rnnlib.additive_attention(s, Hs, mask, weights)
    with pytest.raises(ValueError, match=r"dcontext has shape \(4, 4\), expected \(5, 4\) = \(H_enc, B\)"):
        rnnlib.additive_attention_backward(np.zeros((4, 4)), cache)
    with pytest.raises(ValueError, match="cache must be the one returned by rnnlib.additive_attention"):
        rnnlib.additive_attention_backward(np.zeros((5, 4)), None)
