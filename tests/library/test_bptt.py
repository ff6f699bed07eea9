"""Backprop through time against central differences, for every cell and every input.

Tolerance: relative error (norm form, rnnlib.relative_error) below 1e-6. In float64 with
step 1e-5, central differences are accurate to about 1e-10 relative on these problems, and a
right backward pass agrees with them to about 1e-10..1e-9; a wrong term gives 1e-3 or more.
"""

import numpy as np
import pytest

import rnnlib
from rnnlib import comparisons, timing

CELLS = list(rnnlib.CELLS)


def _loss(cell, weights, X, h_0, G, activation="sigmoid"):
    """A scalar whose gradient w.r.t. every hidden state is G: L = sum(G * hs)."""
    hs, _ = rnnlib.forward(cell, weights, X, h_0, activation)
    return float(np.sum(G * hs))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("sizes", [dict(T=5, D=3, H=4, B=3), dict(T=4, D=6, H=2, B=2)])
def test_bptt_gradients_match_central_differences(problem, cell, sizes):
    weights, X, h_0, G = problem(cell, **sizes)
    weights = [w.copy() for w in weights]
    hs, cache = rnnlib.forward(cell, tuple(weights), X, h_0)
    dweights, dX, dh_0 = rnnlib.backward(G, cache)
    assert len(dweights) == len(weights)
    f = lambda: _loss(cell, tuple(weights), X, h_0, G)       # h_0 may be a pair: perturbed in place
    spec = rnnlib.CELLS[cell]
    names = list(spec.weight_names) + ["X"] + [n + "_0" for n in spec.state_names]
    errors = rnnlib.check_gradients(f, [*weights, X, *spec.unpack_state(h_0)],
                                    [*dweights, dX, *spec.unpack_state(dh_0)], names)
    for name, err in errors:
        assert err < 1e-6, f"{cell} d{name}: relative error {err:.2e}"


def test_tanh_rnn_gradients(problem):
    weights, X, h_0, G = problem("rnn")
    weights = [w.copy() for w in weights]
    _, cache = rnnlib.forward("rnn", tuple(weights), X, h_0, activation="tanh")
    dweights, dX, dh_0 = rnnlib.backward(G, cache)
    f = lambda: _loss("rnn", tuple(weights), X, h_0, G, "tanh")
    for name, err in rnnlib.check_gradients(f, weights + [X, h_0], list(dweights) + [dX, dh_0]):
        assert err < 1e-6, name


def test_rnn_with_the_lecture_tuple_returns_a_six_tuple_with_zeros_where_unused():
    weights, X, h_0 = rnnlib.lecture_setup(T=6, D=5, H=3)
    G = np.random.default_rng(1).standard_normal((6, 3, 1))
    _, cache6 = rnnlib.forward("rnn", weights, X, h_0)
    _, cache2 = rnnlib.forward("rnn", (weights[0], weights[3]), X, h_0)
    d6, _, _ = rnnlib.backward(G, cache6)
    d2, _, _ = rnnlib.backward(G, cache2)
    assert len(d6) == 6 and [d.shape for d in d6] == [w.shape for w in weights]
    assert np.array_equal(d6[0], d2[0]) and np.array_equal(d6[3], d2[1])
    assert not any(d6[i].any() for i in (1, 2, 4, 5))
    assert d2[0].any()


@pytest.mark.parametrize("cell", CELLS)
def test_float32_in_float32_out(problem, cell):
    weights, X, h_0, G = problem(cell)
    w32 = tuple(w.astype(np.float32) for w in weights)
    spec = rnnlib.CELLS[cell]
    s32 = spec.pack_state([s.astype(np.float32) for s in spec.unpack_state(h_0)])
    hs, cache = rnnlib.forward(cell, w32, X.astype(np.float32), s32)
    dw, dX, dh_0 = rnnlib.backward(G.astype(np.float32), cache)
    assert hs.dtype == dX.dtype == np.float32
    assert all(d.dtype == np.float32 for d in spec.unpack_state(dh_0))
    assert all(d.dtype == np.float32 for d in dw)
    hs64, cache64 = rnnlib.forward(cell, weights, X, h_0)
    np.testing.assert_allclose(hs, hs64, atol=1e-5)  # float32 rounding, ~1e-7 per operation
    dw64, _, _ = rnnlib.backward(G, cache64)
    for a, b in zip(dw, dw64):
        assert rnnlib.relative_error(a, b) < 1e-5


@pytest.mark.parametrize("cell", CELLS)
def test_gradient_of_a_loss_on_the_last_state_only(problem, cell):
    """The common case in training: dhs is zero except at the last step."""
    weights, X, h_0, G = problem(cell, T=6)
    g = np.random.default_rng(5).standard_normal(G.shape[1:])
    G = np.zeros_like(G)
    G[-1] = g
    _, cache = rnnlib.forward(cell, weights, X, h_0)
    _, dX, dh_0 = rnnlib.backward(G, cache)
    f = lambda: float(np.sum(g * rnnlib.forward(cell, weights, X, h_0)[0][-1]))
    assert rnnlib.relative_error(dX, rnnlib.numerical_gradient(lambda _: f(), X)) < 1e-6
    spec = rnnlib.CELLS[cell]
    for d, s in zip(spec.unpack_state(dh_0), spec.unpack_state(h_0)):
        assert rnnlib.relative_error(d, rnnlib.numerical_gradient(lambda _: f(), s)) < 1e-6
    assert np.abs(dX[0]).max() > 0  # the first input does reach the last state


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("chunk", [1, 3, 64])
def test_infer_gives_forwards_states_without_a_cache(problem, cell, chunk):
    # the same loop code runs on each chunk: equal to rounding (1e-13 relative covers a BLAS
    # that blocks a chunk's input projection differently from the whole sequence's)
    weights, X, h_0, _ = problem(cell, T=10, D=3, H=4, B=2)
    hs, cache = rnnlib.forward(cell, weights, X, h_0)
    np.testing.assert_allclose(rnnlib.infer(cell, weights, X, h_0, return_sequence=True, chunk=chunk), hs,
                               rtol=1e-13, atol=0)
    state_T = rnnlib.infer(cell, weights, X, h_0, chunk=chunk)         # h_T, or the LSTM's (h_T, c_T)
    parts = rnnlib.CELLS[cell].unpack_state
    np.testing.assert_allclose(parts(state_T)[0], hs[-1], rtol=1e-13, atol=0)
    for ours, final, first in zip(parts(state_T), parts(cache.final_state), parts(h_0)):
        np.testing.assert_allclose(ours, final, rtol=1e-13, atol=0)
        assert ours.shape == first.shape and not np.shares_memory(ours, first)


def test_infer_memory_does_not_grow_with_T():
    peaks = []
    for T in (128, 1024):
        w, X, h_0 = comparisons.make_problem("gru", T, 16, 16, 8)
        peaks.append(timing.peak_memory(lambda: rnnlib.infer("gru", w, X, h_0, chunk=32)))
        forward_peak = timing.peak_memory(lambda: rnnlib.forward("gru", w, X, h_0))
    # working buffers are O(chunk * H * B); forward's cache at T=1024 is O(T * H * B), 32x more
    assert peaks[1] <= 1.1 * peaks[0], peaks
    assert forward_peak > 10 * peaks[1], (forward_peak, peaks)


@pytest.mark.parametrize("cell", CELLS)
def test_a_gradient_on_the_final_state_flows_back(problem, cell):
    """backward(..., dstate_T): L = sum(G * hs) + sum(g_k * state_T[k]) over the state's parts."""
    weights, X, state_0, G = problem(cell, T=4)
    spec = rnnlib.CELLS[cell]
    rng = np.random.default_rng(7)
    g = [rng.standard_normal(G.shape[1:]) for _ in spec.state_names]

    def loss():
        hs, cache = rnnlib.forward(cell, weights, X, state_0)
        return float(np.sum(G * hs) + sum(np.sum(a * b) for a, b in zip(g, spec.unpack_state(cache.final_state))))

    _, cache = rnnlib.forward(cell, weights, X, state_0)
    before = [a.copy() for a in g]
    dweights, dX, dstate_0 = rnnlib.backward(G, cache, spec.pack_state(g))
    assert all(np.array_equal(a, b) for a, b in zip(g, before))      # the caller's arrays are untouched
    names = list(spec.weight_names) + ["X"] + [n + "_0" for n in spec.state_names]
    for name, err in rnnlib.check_gradients(loss, [*weights, X, *spec.unpack_state(state_0)],
                                            [*dweights, dX, *spec.unpack_state(dstate_0)], names):
        assert err < 1e-6, f"{cell} d{name}: relative error {err:.2e}"


def _assert_same_backward_and_checked(cell, weights, X, h_0, G, whole, blocked):
    """``blocked``, a backward's result, is ``whole`` to rounding (1e-12 relative: the same
    operations on the same numbers, grouped otherwise), and its weight and input gradients
    agree with central differences."""
    parts = rnnlib.CELLS[cell].unpack_state
    for a, b in zip([*whole[0], whole[1], *parts(whole[2])], [*blocked[0], blocked[1], *parts(blocked[2])]):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
    params = [w.copy() for w in weights] + [X]
    f = lambda: _loss(cell, tuple(params[:-1]), X, h_0, G)
    errors = rnnlib.check_gradients(f, params, list(blocked[0]) + [blocked[1]],
                                    list(rnnlib.weight_names(cell)) + ["X"])
    assert max(err for _, err in errors) < 1e-6


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("steps_per_block", [1, 2])
def test_backward_in_blocks_of_steps_is_the_same_backward(problem, monkeypatch, cell, steps_per_block):
    """The backward loops walk the steps in blocks sized to the cache (rnnlib.cells.loops); at
    small sizes one block holds every step. Forced to blocks of 1 and of 2 steps (T = 5: the
    first block short), the gradients are those of the one-block pass, to rounding (1e-12
    relative: the same operations on the same numbers, in another grouping only), and still
    agree with central differences."""
    weights, X, h_0, G = problem(cell, T=5, D=3, H=4, B=3)
    _, cache = rnnlib.forward(cell, weights, X, h_0)
    whole = rnnlib.backward(G, cache)
    H, B = 4, 3
    monkeypatch.setattr(rnnlib.cells.loops, "BLOCK_NUMBERS", steps_per_block * H * B)
    assert len(rnnlib.cells.loops.reversed_blocks(5, H, B)[0]) == -(-5 // steps_per_block)
    _assert_same_backward_and_checked(cell, weights, X, h_0, G, whole, rnnlib.backward(G, cache))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("steps_per_block", [1, 2])
@pytest.mark.parametrize("B", [1, 3, 33])
def test_gradient_sums_in_blocks_of_steps_are_the_same_sums(problem, monkeypatch, cell, steps_per_block, B):
    """The weight gradients are summed a block of steps at a time (rnnlib.cells.gradients'
    GRADIENT_COLUMNS); at small sizes one block holds every step. Forced to blocks of 1 and of
    2 steps (T = 5: the last block short), with one sequence (the block is then a view), three
    and 33 (from loops.WIDE_BATCH = 32 on, the input products take their per-step way), every
    gradient is that of the one-block sum, to rounding (1e-12 relative: the same products,
    summed in another grouping), and the weights' and the inputs' gradients agree with central
    differences."""
    weights, X, h_0, G = problem(cell, T=5, D=3, H=4, B=B)
    _, cache = rnnlib.forward(cell, weights, X, h_0)
    whole = rnnlib.backward(G, cache)
    monkeypatch.setattr(rnnlib.cells.gradients, "GRADIENT_COLUMNS", steps_per_block * B)
    _assert_same_backward_and_checked(cell, weights, X, h_0, G, whole, rnnlib.backward(G, cache))


def test_transposed_stacks_and_transposes_across_its_bands():
    """``loops.transposed`` copies BAND rows at a time: matrices of three bands and a short one,
    exactly one band, and 1 row, stacked, come out as np.concatenate(...).T, exactly (a copy,
    no arithmetic), and C-contiguous (the backward loops' products need that)."""
    from rnnlib.cells.loops import BAND, transposed

    rng = np.random.default_rng(0)
    mats = [rng.standard_normal((n, 7)) for n in (3 * BAND + 8, BAND, 1)]
    out = transposed(*mats)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, np.concatenate(mats).T)


@pytest.mark.parametrize("cell", CELLS)
def test_backward_takes_a_state_stored_column_by_column(problem, cell):
    """``np.zeros((B, H)).T`` is an (H, B) state stored column by column, which a student can
    easily write. The backward loops carry their gradient in an array shaped like the state,
    and numpy's dot writes only into arrays stored row by row: backward crashed. With the
    state's values the same, every gradient is the same, exactly."""
    weights, X, h_0, G = problem(cell, T=4, D=3, H=5, B=2)
    spec = rnnlib.CELLS[cell]
    by_column = [np.asfortranarray(s) for s in spec.unpack_state(h_0)]
    assert not by_column[0].flags.c_contiguous
    by_column = spec.pack_state(by_column)
    expected = rnnlib.backward(G, rnnlib.forward(cell, weights, X, h_0)[1])
    got = rnnlib.backward(G, rnnlib.forward(cell, weights, X, by_column)[1])
    for a, b in zip([*expected[0], expected[1], *spec.unpack_state(expected[2])],
                    [*got[0], got[1], *spec.unpack_state(got[2])]):
        np.testing.assert_array_equal(b, a)
