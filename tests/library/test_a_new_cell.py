"""A cell registered from outside rnnlib, with a layout of its own, works everywhere a cell does.

Two toy cells, written here and registered with ``rnnlib.cells.register``:

- ``xonly``, whose gates read ``x`` alone (minGRU's form): matrices (H, D)::

      z = sigmoid(W_z x + b_z),   c = W_c x + b_c,   h' = (1 - z) h + z c

- ``mixed``, one matrix of each kind: the gate reads ``x`` alone, the candidate ``[h; x]``::

      z = sigmoid(W_z x + b_z),   c = tanh(W_c [h; x] + b_c),   h' = (1 - z) h + z c

Each brings its step, its fast loops and its layout, and nothing else: rnnlib's forward,
backward, inference, initialisation, gradient sums, FLOP count and comparisons read the rest
from the ``Cell``. Tolerances as in test_bptt.py: central differences agree with a right
backward pass to about 1e-9 relative here, a wrong term gives 1e-3 or more.
"""

import numpy as np
import pytest

import rnnlib
from rnnlib import comparisons, lm, roofline
from rnnlib.cells import Bias, Cell, InputMatrix, Matrix
from rnnlib.cells.loops import project


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def xonly_step(inputs, weights):
    x, (h,), (W_z, W_c, b_z, b_c) = XONLY.check_step(inputs, weights)
    z = _sigmoid(W_z @ x + b_z)
    h_next = (1 - z) * h + z * (W_c @ x + b_c)
    return h_next, h_next


def mixed_step(inputs, weights):
    x, (h,), (W_z, W_c, b_z, b_c) = MIXED.check_step(inputs, weights)
    z = _sigmoid(W_z @ x + b_z)
    c = np.tanh(W_c @ np.concatenate([h, x]) + b_c)
    h_next = (1 - z) * h + z * c
    return h_next, h_next


def _forward_loop(reads_h):
    def forward_loop(weights, X, state_0):
        W_z, W_c, b_z, b_c = weights
        (h,) = state_0
        H = h.shape[0]
        W_c_in = W_c[:, H:] if reads_h else W_c
        A = project(np.concatenate([W_z, W_c_in]), X, np.concatenate([b_z, b_c]))   # (T, 2H, B)
        Z, C = _sigmoid(A[:, :H]), A[:, H:]
        hs = np.empty_like(C)
        for t in range(len(X)):
            if reads_h:
                C[t] = np.tanh(C[t] + W_c[:, :H] @ h)
            h = hs[t] = h + Z[t] * (C[t] - h)
        return hs, {"z": Z, "c": C}
    return forward_loop


def _backward_loop(reads_h):
    def backward_loop(dhs, cache):
        W_c = cache.weights[1]
        (h_0,) = cache.state_0
        H = h_0.shape[0]
        Z, C = cache.saved["z"], cache.saved["c"]
        prev = np.concatenate([h_0[None], cache.hs[:-1]])
        dA, dh = np.empty((len(dhs), 2 * H, dhs.shape[2])), np.zeros_like(h_0)
        for t in reversed(range(len(dhs))):
            dh = dh + dhs[t]
            dA[t, :H] = dh * (C[t] - prev[t]) * Z[t] * (1 - Z[t])
            dA[t, H:] = dh * Z[t] * ((1 - C[t] ** 2) if reads_h else 1.0)
            dh = dh * (1 - Z[t]) + (W_c[:, :H].T @ dA[t, H:] if reads_h else 0.0)
        return dA, [None, None], (dh,)
    return backward_loop


XONLY = Cell(name="xonly", title="x-only toy",
             layout=(InputMatrix("W_z"), InputMatrix("W_c"), Bias("b_z"), Bias("b_c")), state_names=("h",), saved_names=("z", "c"), step=xonly_step,
             forward_loop=_forward_loop(False), backward_loop=_backward_loop(False))
MIXED = Cell(name="mixed", title="mixed toy",
             layout=(InputMatrix("W_z"), Matrix("W_c"), Bias("b_z"), Bias("b_c")), state_names=("h",), saved_names=("z", "c"), step=mixed_step,
             forward_loop=_forward_loop(True), backward_loop=_backward_loop(True))


@pytest.fixture(params=[XONLY, MIXED], ids=lambda c: c.name)
def toy(request):
    cell = rnnlib.cells.register(request.param)
    yield cell.name
    del rnnlib.CELLS[cell.name]


def test_its_layout_gives_its_shapes_count_and_initial_weights(toy):
    D, H = 3, 4
    spec = rnnlib.CELLS[toy]
    mixed = toy == "mixed"
    assert spec.shapes(D, H) == ((H, D), (H, H + D) if mixed else (H, D), (H, 1), (H, 1))
    assert spec.parameter_count(D, H) == H * D + H * (H + D if mixed else D) + 2 * H
    for scheme in ("orthogonal", "xavier", "normal"):
        weights = rnnlib.init_weights(toy, D, H, seed=1, scheme=scheme)
        assert [w.shape for w in weights] == list(spec.shapes(D, H))
        assert not weights[2].any() and not weights[3].any()
    a = np.sqrt(6 / (H + D))                  # Glorot's bound of an (H, D) matrix
    assert np.abs(rnnlib.init_weights(toy, D, H, seed=1)[0]).max() <= a
    assert roofline.forward_flops(toy, T=5, D=D, H=H, B=2) == 2 * 5 * 2 * (spec.parameter_count(D, H) - 2 * H)


def test_check_weights_names_its_shape(toy, problem):
    weights, X, h_0, _ = problem(toy, D=3, H=4)
    wrong = (weights[0].T,) + weights[1:]
    with pytest.raises(ValueError, match=r"W_z has shape \(3, 4\), expected \(4, 3\) = \(H, D\) with H = 4, D = 3"):
        rnnlib.forward(toy, wrong, X, h_0)


@pytest.mark.parametrize("B", [1, 3, 40])
def test_forward_is_its_step_scanned_and_infer_is_forward(toy, problem, B):
    weights, X, h_0, _ = problem(toy, B=B)
    ys, h_T = rnnlib.scan(rnnlib.CELLS[toy].step, X, weights, h_0)
    hs, cache = rnnlib.forward(toy, weights, X, h_0)
    np.testing.assert_allclose(hs, np.stack(ys), rtol=1e-13, atol=1e-15)      # rounding only
    np.testing.assert_allclose(cache.final_state, h_T, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(rnnlib.infer(toy, weights, X, h_0, chunk=2, return_sequence=True), hs,
                               rtol=1e-13, atol=0)


@pytest.mark.parametrize("B", [1, 3, 40])
def test_backward_passes_the_gradient_check(toy, problem, B, monkeypatch):
    """In one block of steps and (the gradient sums forced to blocks of 2 steps) in three."""
    weights, X, h_0, G = problem(toy, T=5, B=B)
    weights = [w.copy() for w in weights]
    loss = lambda: float(np.sum(G * rnnlib.forward(toy, tuple(weights), X, h_0)[0]))
    for columns in (4096, 2 * B):
        monkeypatch.setattr(rnnlib.cells.gradients, "GRADIENT_COLUMNS", columns)
        dweights, dX, dh_0 = rnnlib.backward(G, rnnlib.forward(toy, tuple(weights), X, h_0)[1])
        names = list(rnnlib.CELLS[toy].weight_names) + ["X", "h_0"]
        for name, err in rnnlib.check_gradients(loss, [*weights, X, h_0], [*dweights, dX, dh_0], names):
            assert err < 1e-6, f"{toy} d{name} (blocks of {columns} columns): relative error {err:.2e}"


def test_a_language_model_of_it_passes_the_gradient_check(toy):
    V, H, T, B = 5, 4, 3, 2
    params = lm.init_lm(toy, V, H, D=3, seed=2)
    rng = np.random.default_rng(6)
    X, Y = rng.integers(0, V, size=(T, B)), rng.integers(0, V, size=(T, B))
    state = lm.zero_state(toy, H, B)
    _, grads, _ = lm.lm_loss_and_grads(toy, params, X, Y, state)
    loss = lambda: lm.lm_loss_and_grads(toy, params, X, Y, state)[0]
    for name, err in rnnlib.check_gradients(loss, list(params.values()), list(grads.values()), list(params)):
        assert err < 1e-6, f"{toy} d{name}: relative error {err:.2e}"


def test_against_torch_reports_no_twin(toy):
    """It has no PyTorch twin: the comparison times rnnlib's side and says so (PyTorch is not
    needed for that: the twin is what would use it)."""
    fake_torch = type("torch", (), {"__version__": "none", "manual_seed": staticmethod(lambda s: None),
                                    "set_num_threads": staticmethod(lambda n: None),
                                    "get_num_threads": staticmethod(lambda: 1)})
    measured, info = comparisons.against_torch((np.float64,), cells=(toy,), T=3, D=2, H=4, B=2, repeat=1,
                                               torch=fake_torch)
    assert set(measured) == {("float64", toy, "rnnlib", k) for k in comparisons.TORCH_KINDS}
    assert info["twins"] == {toy: "no twin"} == {toy: comparisons.twin_name(toy)}
    alone, info = comparisons.against_torch((np.float64,), cells=(toy,), T=3, D=2, H=4, B=2, repeat=1)
    assert set(alone) == set(measured) and info is None            # without PyTorch: rnnlib's side


def test_register_refuses_a_name_taken_or_not_a_cell(toy):
    with pytest.raises(ValueError, match="'xonly' is taken|'mixed' is taken"):
        rnnlib.cells.register(rnnlib.CELLS[toy])
    with pytest.raises(ValueError, match="register takes a Cell; got str"):
        rnnlib.cells.register("gru")


def test_a_cell_without_a_diagram_says_which_have_one(toy):
    from rnnlib.plotting import draw_cell        # matplotlib, only here

    with pytest.raises(ValueError, match=f"the {toy} cell has no diagram; these have: rnn, gru, mgu, lstm"):
        draw_cell(toy)
