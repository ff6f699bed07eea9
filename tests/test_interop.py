import numpy as np
import pytest

import rnnlib
from rnnlib import interop


def test_torch_layout_round_trip():
    X = np.arange(24.0).reshape(2, 3, 4)               # (T, D, B)
    Xt = interop.to_torch_layout(X)
    assert Xt.shape == (2, 4, 3) and Xt[1, 2, 0] == X[1, 0, 2]
    assert np.array_equal(interop.from_torch_layout(Xt), X)


@pytest.mark.parametrize("cell, step", [("rnn", rnnlib.rnn_step), ("gru", rnnlib.gru_step), ("mgu", rnnlib.mgu_step)])
def test_row_form_computes_the_same_gates(problem, cell, step):
    weights, X, h_0, _ = problem(cell)
    triples = interop.to_row_form(cell, weights)
    for (U, W, b), M, c in zip(triples, weights[:len(triples)], weights[len(triples):]):
        x, h = X[0], h_0
        row = x.T @ U + h.T @ W + b                     # the row-vector notebook's form
        np.testing.assert_allclose(row.T, M @ np.concatenate([h, x]) + c, rtol=1e-13)
    back = interop.from_row_form(cell, triples)
    assert all(np.array_equal(a, b) for a, b in zip(back, weights))


def test_rnn_to_torch_matches_torch_rnn(problem):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    weights, X, h_0, _ = problem("rnn", T=4, D=3, H=5, B=2)
    state = interop.rnn_to_torch(weights)
    net = torch.nn.RNN(3, 5, nonlinearity="tanh").double()
    net.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    out, _ = net(torch.tensor(interop.to_torch_layout(X)), torch.tensor(h_0.T[None].copy()))
    hs, _ = rnnlib.forward("rnn", weights, X, h_0, activation="tanh")
    np.testing.assert_allclose(interop.from_torch_layout(out.detach().numpy()), hs, rtol=1e-12, atol=1e-14)
    W, b = interop.rnn_from_torch({k: v for k, v in state.items()})
    assert np.array_equal(W, weights[0]) and np.array_equal(b, weights[1])
