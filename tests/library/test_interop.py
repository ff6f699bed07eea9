import numpy as np
import pytest

import rnnlib
from rnnlib import interop


def test_torch_layout_round_trip():
    X = np.arange(24.0).reshape(2, 3, 4)               # (T, D, B)
    Xt = interop.to_torch_layout(X)
    assert Xt.shape == (2, 4, 3) and Xt[1, 2, 0] == X[1, 0, 2]
    assert np.array_equal(interop.from_torch_layout(Xt), X)


@pytest.mark.parametrize("cell", list(rnnlib.CELLS))
def test_row_form_computes_the_same_gates(problem, cell):
    weights, X, state_0, _ = problem(cell)
    h_0 = rnnlib.CELLS[cell].unpack_state(state_0)[0]
    triples = interop.to_row_form(cell, weights)
    for (U, W, b), M, c in zip(triples, weights[:len(triples)], weights[len(triples):]):
        x, h = X[0], h_0
        if W is None:                                   # a matrix (H, D) acting on x alone
            np.testing.assert_allclose((x.T @ U + b).T, M @ x + c, rtol=1e-13)
            continue
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


def test_lstm_to_and_from_torch_lstm(problem):
    """Our LSTM is torch.nn.LSTM (no peepholes, blocks reordered i, f, g, o, biases summed)."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    weights, X, (h_0, c_0), _ = problem("lstm", T=5, D=3, H=4, B=2)
    state = interop.lstm_to_torch(weights)
    net = torch.nn.LSTM(3, 4).double()
    net.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    to_torch = lambda s: torch.tensor(s.T[None].copy())           # (H, B) -> (1, B, H)
    out, (h_T, c_T) = net(torch.tensor(interop.to_torch_layout(X)), (to_torch(h_0), to_torch(c_0)))
    hs, cache = rnnlib.forward("lstm", weights, X, (h_0, c_0))
    # float64 on both sides, products grouped differently: rounding only
    np.testing.assert_allclose(interop.from_torch_layout(out.detach().numpy()), hs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c_T[0].detach().numpy().T, cache.final_state[1], rtol=1e-12, atol=1e-14)

    # and back: a torch LSTM with its own random weights and two nonzero biases
    torch.manual_seed(0)
    other = torch.nn.LSTM(3, 4).double()
    theirs = {k: v.detach().numpy() for k, v in other.state_dict().items()}
    ours = interop.lstm_from_torch(theirs)
    out, _ = other(torch.tensor(interop.to_torch_layout(X)), (to_torch(h_0), to_torch(c_0)))
    hs, _ = rnnlib.forward("lstm", ours, X, (h_0, c_0))
    np.testing.assert_allclose(interop.from_torch_layout(out.detach().numpy()), hs, rtol=1e-12, atol=1e-14)
    back = interop.lstm_to_torch(ours)
    for k in ("weight_ih_l0", "weight_hh_l0"):
        assert np.array_equal(back[k], theirs[k])
    np.testing.assert_allclose(back["bias_ih_l0"], theirs["bias_ih_l0"] + theirs["bias_hh_l0"], rtol=0, atol=0)
