"""An independent cross-check: the same equations written in PyTorch, differentiated by autograd.

Skipped with a reason when PyTorch is not installed (it is optional; CI installs the CPU build).
Tolerance: float64 on both sides, different summation orders: 1e-10 relative.
"""

import os

import numpy as np
import pytest

import rnnlib
from conftest import state_parts

if os.environ.get("RNN_COURSE_STRICT") == "1":
    import torch  # in CI the cross-check must run, not skip
else:
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: autograd cross-check skipped")


def _torch_forward(cell, weights, X, state_0):
    """The course's equations in torch, one step at a time, column convention."""
    h, c = state_0 if cell == "lstm" else (state_0, None)
    H = h.shape[0]
    hs = []
    for x in X:
        hx = torch.cat([h, x])
        if cell == "rnn":
            W, b = weights
            h = torch.sigmoid(W @ hx + b)
        elif cell == "gru":
            W_u, W_r, W_c, b_u, b_r, b_c = weights
            u, r = torch.sigmoid(W_u @ hx + b_u), torch.sigmoid(W_r @ hx + b_r)
            c = torch.tanh(W_c @ torch.cat([r * h, x]) + b_c)
            h = u * c + (1 - u) * h
        elif cell == "mgu":
            W_f, W_h, b_f, b_h = weights
            f = torch.sigmoid(W_f @ hx + b_f)
            cand = torch.tanh(W_h @ torch.cat([f * h, x]) + b_h)
            h = (1 - f) * h + f * cand
        else:
            W_i, W_f, W_o, W_c, b_i, b_f, b_o, b_c = weights
            i, f, o = (torch.sigmoid(W @ hx + b) for W, b in ((W_i, b_i), (W_f, b_f), (W_o, b_o)))
            c = f * c + i * torch.tanh(W_c @ hx + b_c)
            h = o * torch.tanh(c)
        hs.append(h)
    assert H == h.shape[0]
    return torch.stack(hs)


@pytest.mark.parametrize("cell", list(rnnlib.CELLS))
def test_forward_and_gradients_agree_with_torch_autograd(problem, cell):
    weights, X, state_0, G = problem(cell, T=6, D=3, H=5, B=4)
    tw = [torch.tensor(w, requires_grad=True) for w in weights]
    tX = torch.tensor(X, requires_grad=True)
    ts0 = [torch.tensor(s, requires_grad=True) for s in state_parts(state_0)]
    ths = _torch_forward(cell, tw, tX, ts0[0] if len(ts0) == 1 else tuple(ts0))
    (ths * torch.tensor(G)).sum().backward()

    hs, cache = rnnlib.forward(cell, weights, X, state_0)
    dweights, dX, dstate_0 = rnnlib.backward(G, cache)
    np.testing.assert_allclose(hs, ths.detach().numpy(), rtol=1e-12, atol=1e-14)
    for ours, theirs in zip(list(dweights) + [dX] + state_parts(dstate_0), tw + [tX] + ts0):
        assert rnnlib.relative_error(ours, theirs.grad.numpy()) < 1e-10
