"""``rnnlib.linear_recurrence`` (``h_t = a_t h_{t-1} + b_t``), its three methods and its backward pass;
minGRU and minLSTM against the paper's equations written independently in PyTorch.

Tolerances: the methods compute the same numbers in different orders, so they agree to a few
ulps of the largest state, 1e-12 relative (the log form's exp/log round trip costs a few more
ulps per step: 1e-10). Central differences agree with a right gradient to about 1e-9; the
issue asks for 1e-6, and a wrong term gives 1e-2 or more. Against PyTorch autograd, float64 on
both sides: 1e-10 relative, the issue's.
"""

import os

import numpy as np
import pytest

import rnnlib
from rnnlib.recurrence import SCAN_MAX_STEP, SCAN_MIN_T, auto_method


def reference(a, b, h_0, reverse=False):
    """The recurrence, written out one step at a time."""
    T = len(a)
    h, out = h_0, np.empty_like(b)
    for t in (reversed(range(T)) if reverse else range(T)):
        h = a[t] * h + b[t]
        out[t] = h
    return out


def positive_problem(T=40, H=3, B=2, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.uniform(0.05, 1.0, (T, H, B)), rng.uniform(0.01, 1.0, (T, H, B)),
            rng.uniform(0.0, 1.0, (H, B)))


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("method", ["loop", "scan", "log", "auto"])
@pytest.mark.parametrize("T", [1, 2, 7, 64])
def test_every_method_computes_the_recurrence(T, method, reverse):
    a, b, h_0 = positive_problem(T)
    ref = reference(a, b, h_0, reverse)
    tol = 1e-10 if method == "log" else 1e-12
    for start in (h_0, None):
        out = rnnlib.linear_recurrence(a, b, start, method=method, reverse=reverse)
        want = ref if start is not None else reference(a, b, np.zeros_like(h_0), reverse)
        assert np.abs(out - want).max() <= tol * np.abs(want).max()


def test_coefficients_of_either_sign_for_the_loop_and_the_scan():
    rng = np.random.default_rng(1)
    a, b, h_0 = rng.standard_normal((33, 4, 3)), rng.standard_normal((33, 4, 3)), rng.standard_normal((4, 3))
    ref = reference(a, b, h_0)
    for method in ("loop", "scan"):
        out = rnnlib.linear_recurrence(a, b, h_0, method=method)
        assert np.abs(out - ref).max() <= 1e-12 * np.abs(ref).max()


def test_auto_takes_the_scan_for_small_steps_over_long_sequences_and_else_the_loop():
    shape = lambda T, HB: np.zeros((T, 1, HB))                                          # noqa: E731
    assert auto_method(shape(SCAN_MIN_T, SCAN_MAX_STEP)) == "scan"
    assert auto_method(shape(SCAN_MIN_T, SCAN_MAX_STEP + 1)) == "loop"
    assert auto_method(shape(SCAN_MIN_T - 1, 1)) == "loop"


def test_the_log_form_survives_where_the_closed_form_does_not():
    """h_t = A_t (h_0 + sum_s b_s / A_s) with A_t = prod a: at T = 2000 with a = 0.5, A underflows
    to 0 (0.5^2000 = 1e-602) and b / A overflows; the log form and the scan stay exact."""
    T = 2000
    a, b = np.full((T, 1, 1), 0.5), np.full((T, 1, 1), 1.0)
    with np.errstate(all="ignore"):
        A = np.cumprod(a, axis=0)
        naive = A * np.cumsum(b / A, axis=0)
    assert not np.isfinite(naive[-1]).all()
    for method in ("log", "scan", "loop"):
        out = rnnlib.linear_recurrence(a, b, method=method)
        assert abs(out[-1, 0, 0] - 2.0) < 1e-12               # the fixed point of h = h / 2 + 1


def test_the_log_form_refuses_what_it_cannot_take():
    a, b, h_0 = positive_problem()
    b[3, 1, 0] = -0.1
    with pytest.raises(ValueError, match=r"needs a > 0, b > 0 and h_0 >= 0; .*b.min\(\) = -0.1"):
        rnnlib.linear_recurrence(a, b, h_0, method="log")
    with pytest.raises(ValueError, match=r"needs a > 0, b > 0 and h_0 >= 0"):
        rnnlib.linear_recurrence(a, abs(b), -h_0 - 1, method="log")


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("method", ["loop", "scan"])
def test_the_backward_pass_against_central_differences(method, reverse):
    rng = np.random.default_rng(2)
    T, H, B = 9, 3, 2
    a, b, h_0 = rng.uniform(-1, 1, (T, H, B)), rng.standard_normal((T, H, B)), rng.standard_normal((H, B))
    G = rng.standard_normal((T, H, B))
    h = rnnlib.linear_recurrence(a, b, h_0, method=method, reverse=reverse)
    grads = rnnlib.linear_recurrence_backward(G, a, h, h_0, method=method, reverse=reverse)
    loss = lambda a_, b_, h0_: float(np.sum(G * reference(a_, b_, h0_, reverse)))   # noqa: E731
    for k, (x, g) in enumerate(zip((a, b, h_0), grads)):
        args = [a, b, h_0]

        def f(v):
            args[k] = v
            return loss(*args)
        num = rnnlib.numerical_gradient(f, x.copy())
        assert rnnlib.relative_error(g, num) < 1e-6, ("a", "b", "h_0")[k]


def test_the_backward_pass_is_a_reverse_recurrence():
    """db = g with g_t = dh_t + a_{t+1} g_{t+1}: the forward recurrence run backwards in time."""
    rng = np.random.default_rng(3)
    a, G = rng.uniform(0, 1, (6, 2, 1)), rng.standard_normal((6, 2, 1))
    h = rnnlib.linear_recurrence(a, G)
    _, db, _ = rnnlib.linear_recurrence_backward(G, a, h)
    a_next = np.concatenate([a[1:], np.zeros_like(a[:1])])
    np.testing.assert_allclose(db, reference(a_next, G, np.zeros_like(G[0]), reverse=True), rtol=1e-13)


@pytest.mark.parametrize("call, message", [
    (lambda: rnnlib.linear_recurrence(np.ones((3, 2, 1)), np.ones((3, 2, 2))), r"one shape \(T, H, B\)"),
    (lambda: rnnlib.linear_recurrence(np.ones((0, 2, 1)), np.ones((0, 2, 1))), r"T >= 1"),
    (lambda: rnnlib.linear_recurrence(np.ones((3, 2, 1)), np.ones((3, 2, 1)), np.ones((1, 2))),
     r"h_0 has shape \(1, 2\), expected \(2, 1\) = \(H, B\)"),
    (lambda: rnnlib.linear_recurrence(np.ones((3, 2, 1)), np.ones((3, 2, 1)), method="fast"), r"method must be"),
    (lambda: rnnlib.linear_recurrence(np.ones((3, 2, 1)), np.full((3, 2, 1), np.nan)), r"b contains 6 non-finite"),
    (lambda: rnnlib.linear_recurrence_backward(np.ones((3, 2, 1)), np.ones((3, 2, 1)), np.ones((3, 2, 1)),
                                               method="log"), r"takes method 'auto', 'scan' or 'loop'"),
    (lambda: rnnlib.linear_recurrence_backward(np.ones((3, 2, 1)), np.ones((3, 2, 1)), np.ones((2, 2, 1))),
     r"h has shape \(2, 2, 1\), expected \(3, 2, 1\)"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- minGRU and minLSTM vs the paper


def paper_cell(torch, cell, weights, X, h_0):
    """Feng et al. (2024), section 3, sequential mode, written from the paper (not from rnnlib):
    minGRU  z_t = σ(Linear_z(x_t)),  h̃_t = Linear_h(x_t),  h_t = (1 - z_t) h_{t-1} + z_t h̃_t;
    minLSTM f_t = σ(Linear_f(x_t)),  i_t = σ(Linear_i(x_t)),  h̃_t = Linear_h(x_t),
            f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t),  h_t = f'_t h_{t-1} + i'_t h̃_t."""
    h, out = h_0, []
    for x in X:
        if cell == "mingru":
            W_z, W_h, b_z, b_h = weights
            z = torch.sigmoid(W_z @ x + b_z)
            h = (1 - z) * h + z * (W_h @ x + b_h)
        else:
            W_f, W_i, W_h, b_f, b_i, b_h = weights
            f, i = torch.sigmoid(W_f @ x + b_f), torch.sigmoid(W_i @ x + b_i)
            h = f / (f + i) * h + i / (f + i) * (W_h @ x + b_h)
        out.append(h)
    return torch.stack(out)


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
def test_min_cells_match_the_papers_equations_in_pytorch(problem, cell):
    if os.environ.get("RNN_COURSE_STRICT") == "1":
        import torch                                  # in CI the cross-check must run
    else:
        torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    weights, X, h_0, G = problem(cell, T=11, D=3, H=5, B=4)
    tw = [torch.tensor(w, requires_grad=True) for w in weights]
    tX, th0 = torch.tensor(X, requires_grad=True), torch.tensor(h_0, requires_grad=True)
    ths = paper_cell(torch, cell, tw, tX, th0)
    (ths * torch.tensor(G)).sum().backward()
    hs, cache = rnnlib.forward(cell, weights, X, h_0)          # the parallel mode
    dweights, dX, dh_0 = rnnlib.backward(G, cache)
    assert rnnlib.relative_error(hs, ths.detach().numpy()) < 1e-12
    for ours, theirs in zip([*dweights, dX, dh_0], [*tw, tX, th0]):
        assert rnnlib.relative_error(ours, theirs.grad.numpy()) < 1e-10


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
@pytest.mark.parametrize("T, B", [(300, 1), (50, 80)])
def test_the_parallel_mode_is_the_step_mode(cell, T, B):
    """``rnnlib.forward`` (one product for all steps, then the recurrence by a scan for a small
    step, by the loop for a large one) against ``scan`` over the readable step."""
    rng = np.random.default_rng(4)
    spec = rnnlib.CELLS[cell]
    D, H = 3, 8
    weights = spec.initial_weights(D, H, rng)
    X, h_0 = rng.standard_normal((T, D, B)), rng.standard_normal((H, B))
    ys, h_T = rnnlib.scan(spec.step, X, weights, h_0)
    hs, cache = rnnlib.forward(cell, weights, X, h_0)
    assert np.abs(hs - np.stack(ys)).max() <= 1e-12 * np.abs(hs).max()
    assert np.array_equal(cache.final_state, hs[-1])
