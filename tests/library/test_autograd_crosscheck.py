"""An independent cross-check: each cell's equations written in PyTorch (its ``TorchTwin.step``),
differentiated by autograd.

Skipped with a reason when PyTorch is not installed (it is optional; CI installs the CPU build).
Tolerance: float64 on both sides, different summation orders: 1e-10 relative.
"""

import os

import numpy as np
import pytest

import rnnlib

if os.environ.get("RNN_COURSE_STRICT") == "1":
    import torch  # in CI the cross-check must run, not skip
else:
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: autograd cross-check skipped")

CASES = [(cell, None) for cell in rnnlib.CELLS] + [("rnn", "tanh")]


@pytest.mark.parametrize("cell, activation", CASES)
def test_forward_and_gradients_agree_with_torch_autograd(problem, cell, activation):
    spec = rnnlib.CELLS[cell]
    if spec.torch_twin is None:
        pytest.skip(f"the {cell} cell has no PyTorch twin")
    weights, X, state_0, G = problem(cell, T=6, D=3, H=5, B=4)
    tw = [torch.tensor(w, requires_grad=True) for w in weights]
    tX = torch.tensor(X, requires_grad=True)
    ts0 = [torch.tensor(s, requires_grad=True) for s in spec.unpack_state(state_0)]
    options = spec.loop_options(activation=activation)
    state, ths = spec.pack_state(ts0), []
    for x in tX:                                    # the twin's step, one step at a time
        h, state = spec.torch_twin.step(torch, [x, state], tw, **options)
        ths.append(h)
    ths = torch.stack(ths)
    (ths * torch.tensor(G)).sum().backward()

    hs, cache = rnnlib.forward(cell, weights, X, state_0, activation)
    dweights, dX, dstate_0 = rnnlib.backward(G, cache)
    np.testing.assert_allclose(hs, ths.detach().numpy(), rtol=1e-12, atol=1e-14)
    for ours, theirs in zip([*dweights, dX, *spec.unpack_state(dstate_0)], tw + [tX] + ts0):
        assert rnnlib.relative_error(ours, theirs.grad.numpy()) < 1e-10


@pytest.mark.parametrize("cell", [c for c in rnnlib.CELLS if rnnlib.CELLS[c].torch_twin is not None])
def test_each_twins_step_is_the_cells_step(problem, cell):
    """The twin's step is the numpy step on tensors: the same numbers to rounding."""
    spec = rnnlib.CELLS[cell]
    weights, X, state_0, _ = problem(cell)
    y, state = spec.step([X[0], state_0], weights)
    to_torch = lambda parts: spec.pack_state([torch.tensor(p) for p in spec.unpack_state(parts)])
    tw = [torch.tensor(w) for w in weights]
    ty, tstate = spec.torch_twin.step(torch, [torch.tensor(X[0]), to_torch(state_0)], tw)
    for ours, theirs in zip([y, *spec.unpack_state(state)], [ty, *spec.unpack_state(tstate)]):
        np.testing.assert_allclose(theirs.numpy(), ours, rtol=1e-13, atol=1e-15)
