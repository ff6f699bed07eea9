"""Stacked and bidirectional layers (``rnnlib.deep_forward`` / ``deep_backward``): gradient checks
for every cell, agreement with PyTorch's ``nn.RNN`` / ``nn.LSTM``, and the errors a user meets."""

import numpy as np
import pytest

import rnnlib
from rnnlib import interop

CELLS = list(rnnlib.CELLS)


def make_stack(cell, L=2, D=3, H=4, B=2, T=5, bidirectional=False, seed=0, scale=0.5):
    """Random layers, inputs and nonzero initial states (a zero c_0 would hide a forget-gate mistake)."""
    spec = rnnlib.CELLS[cell]
    rng = np.random.default_rng(seed)
    dirs = 2 if bidirectional else 1
    weights = lambda d: tuple(scale * rng.standard_normal(s) for s in spec.shapes(d, H))
    state = lambda: spec.pack_state([0.5 * rng.standard_normal((H, B)) for _ in spec.state_names])
    per_layer = (lambda make: tuple(make() for _ in range(dirs))) if bidirectional else (lambda make: make())
    layers = [per_layer(lambda: weights(D if l == 0 else dirs * H)) for l in range(L)]
    states_0 = [per_layer(state) for _ in range(L)]
    X = rng.standard_normal((T, D, B))
    return layers, X, states_0, rng


def leaves(tree):
    """Every array of a nested tuple/list, in order: the parameters a gradient check perturbs."""
    if isinstance(tree, np.ndarray):
        return [tree]
    return [a for item in tree for a in leaves(item)]


def rebuild(flat, structure):
    """The arrays ``flat`` in the nested structure of ``structure`` (the inverse of ``leaves``)."""
    it = iter(flat)
    build = lambda tree: next(it) if isinstance(tree, np.ndarray) else type(tree)(build(t) for t in tree)
    return build(structure)


@pytest.mark.parametrize("bidirectional", [False, True], ids=["stacked", "bidirectional"])
@pytest.mark.parametrize("cell", CELLS)
def test_gradients_of_a_two_layer_stack_match_central_differences(cell, bidirectional):
    """L = sum(G * Y) + sum(g * final states), with dropout between the layers (the same masks in
    every evaluation: the generator is re-seeded). Float64 central differences with eps 1e-5
    agree with a right backward to about 1e-9; 1e-6 is the course's threshold for "right"."""
    layers, X, states_0, rng = make_stack(cell, bidirectional=bidirectional)
    Y, cache = rnnlib.deep_forward(cell, layers, X, states_0, bidirectional, dropout=0.3,
                                   rng=np.random.default_rng(5))
    G = rng.standard_normal(Y.shape)
    g = [rng.standard_normal(a.shape) for a in leaves(cache.final_states)]

    def loss():
        Y, cache = rnnlib.deep_forward(cell, layers, X, states_0, bidirectional, dropout=0.3,
                                       rng=np.random.default_rng(5))
        return float(np.sum(G * Y) + sum(np.sum(a * b) for a, b in zip(g, leaves(cache.final_states))))

    dlayers, dX, dstates_0 = rnnlib.deep_backward(G, cache, rebuild(g, cache.final_states))

    assert np.mean(cache.masks[1] == 0) > 0.1 and cache.masks[0] is None     # dropout did drop
    params = leaves(layers) + [X] + leaves(states_0)
    analytic = leaves(dlayers) + [dX] + leaves(dstates_0)
    assert [a.shape for a in analytic] == [p.shape for p in params]
    for p, a in zip(params, analytic):
        err = rnnlib.relative_error(a, rnnlib.numerical_gradient(lambda _: loss(), p))
        assert err < 1e-6, (p.shape, err)


@pytest.mark.parametrize("cell", CELLS)
def test_one_layer_is_forward_and_a_backward_direction_reads_the_reversed_sequence(cell):
    """Exact equality: the same loops on the same numbers."""
    layers, X, states_0, _ = make_stack(cell, L=1, bidirectional=True)
    (w_f, w_b), (s_f, s_b) = layers[0], states_0[0]
    Y, cache = rnnlib.deep_forward(cell, layers, X, states_0, bidirectional=True)
    hs_f, c_f = rnnlib.forward(cell, w_f, X, s_f, activation="tanh")
    hs_b, c_b = rnnlib.forward(cell, w_b, X[::-1], s_b, activation="tanh")
    H = hs_f.shape[1]
    assert np.array_equal(Y[:, :H], hs_f) and np.array_equal(Y[:, H:], hs_b[::-1])
    parts = rnnlib.CELLS[cell].unpack_state
    for ours, theirs in zip(parts(cache.final_states[0][1]), parts(c_b.final_state)):
        assert np.array_equal(ours, theirs)                     # after reading x_0
    Y1, _ = rnnlib.deep_forward(cell, [w_f], X, [s_f])
    assert np.array_equal(Y1, hs_f)


def test_dropout_is_inverted_and_only_between_layers():
    layers, X, _, _ = make_stack("gru", L=3, H=50, B=40, T=30)
    Y, cache = rnnlib.deep_forward("gru", layers, X, dropout=0.25, rng=np.random.default_rng(0))
    assert cache.masks[0] is None
    for mask in cache.masks[1:]:
        assert set(np.unique(mask)) == {0.0, 1 / 0.75}
        assert abs(np.mean(mask == 0) - 0.25) < 0.02            # 60,000 draws: sd 0.0018
    Y0, _ = rnnlib.deep_forward("gru", layers, X)
    assert not np.allclose(Y, Y0)
    Y1, _ = rnnlib.deep_forward("gru", layers, X, dropout=0.0, rng=np.random.default_rng(0))
    assert np.array_equal(Y0, Y1)


def _torch_module(torch, cell, layers, bidirectional, D, H):
    kind = {"rnn": lambda: torch.nn.RNN(D, H, num_layers=len(layers), nonlinearity="tanh",
                                        bidirectional=bidirectional),
            "lstm": lambda: torch.nn.LSTM(D, H, num_layers=len(layers), bidirectional=bidirectional)}[cell]
    net = kind().double()
    net.load_state_dict({k: torch.tensor(v) for k, v in interop.stack_to_torch(cell, layers, bidirectional).items()})
    return net


@pytest.mark.parametrize("bidirectional", [False, True], ids=["stacked", "bidirectional"])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_a_two_layer_stack_is_pytorchs(cell, bidirectional):
    """Outputs, final states and every gradient against nn.RNN/nn.LSTM(num_layers=2), float64 on
    both sides: the same sums grouped differently, so rounding only (1e-10 relative)."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    D, H, B, T = 3, 4, 2, 6
    layers, X, states_0, rng = make_stack(cell, D=D, H=H, B=B, T=T, bidirectional=bidirectional)
    Y, cache = rnnlib.deep_forward(cell, layers, X, states_0, bidirectional)
    dY = rng.standard_normal(Y.shape)
    final = leaves(cache.final_states)
    g = [rng.standard_normal(a.shape) for a in final]
    dlayers, dX, dstates_0 = rnnlib.deep_backward(dY, cache, rebuild(g, cache.final_states))

    net = _torch_module(torch, cell, layers, bidirectional, D, H)
    x = torch.tensor(interop.to_torch_layout(X), requires_grad=True)
    s0 = [torch.tensor(a, requires_grad=True) for a in rnnlib.CELLS[cell].unpack_state(
        interop.states_to_torch(cell, states_0))]
    out, s_n = net(x, rnnlib.CELLS[cell].pack_state(s0))
    s_n = rnnlib.CELLS[cell].unpack_state(s_n)
    # the same upstream gradients, in PyTorch's layout
    g_torch = rnnlib.CELLS[cell].unpack_state(interop.states_to_torch(cell, rebuild(g, cache.final_states)))
    loss = (out * torch.tensor(interop.to_torch_layout(dY))).sum() + sum(
        (a * torch.tensor(b)).sum() for a, b in zip(s_n, g_torch))
    loss.backward()

    close = lambda ours, theirs: np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    close(Y, interop.from_torch_layout(out.detach().numpy()))
    for ours, theirs in zip(rnnlib.CELLS[cell].unpack_state(interop.states_to_torch(cell, cache.final_states)), s_n):
        close(ours, theirs.detach().numpy())
    close(dX, interop.from_torch_layout(x.grad.numpy()))
    for ours, theirs in zip(rnnlib.CELLS[cell].unpack_state(interop.states_to_torch(cell, dstates_0)), s0):
        close(ours, theirs.grad.numpy())
    grads = {k: p.grad.numpy() for k, p in net.named_parameters()}
    ours = interop.stack_to_torch(cell, dlayers, bidirectional)
    for k, theirs in grads.items():
        # our one bias is PyTorch's two: each of theirs has the gradient of ours
        close(ours[k.replace("bias_hh", "bias_ih")], theirs)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_a_pytorch_stack_comes_back_as_layers(cell):
    """nn.LSTM's own random weights, two nonzero biases each, through stack_from_torch: the same outputs."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    torch.manual_seed(0)
    make = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM}[cell]
    net = make(3, 4, num_layers=3, bidirectional=True).double()
    layers, bidirectional = interop.stack_from_torch(cell, {k: v.detach().numpy() for k, v in net.state_dict().items()})
    assert bidirectional and len(layers) == 3 and all(len(item) == 2 for item in layers)
    X = np.random.default_rng(1).standard_normal((5, 3, 2))
    out, s_n = net(torch.tensor(interop.to_torch_layout(X)))
    Y, cache = rnnlib.deep_forward(cell, layers, X, bidirectional=True)
    np.testing.assert_allclose(Y, interop.from_torch_layout(out.detach().numpy()), rtol=1e-10, atol=1e-12)
    back = interop.states_from_torch(cell, tuple(s.detach().numpy() for s in rnnlib.CELLS[cell].unpack_state(s_n))
                                     if cell == "lstm" else s_n.detach().numpy(), bidirectional=True)
    for ours, theirs in zip(leaves(cache.final_states), leaves(back)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_a_layer_of_the_wrong_input_size_is_named_with_the_shape_it_needs():
    layers, X, _, _ = make_stack("gru", L=2, D=3, H=4, bidirectional=True)
    wrong = [layers[0], (layers[0][0], layers[1][1])]      # layer 1's forward weights read D = 3, not 2H = 8
    with pytest.raises(ValueError) as caught:
        rnnlib.deep_forward("gru", wrong, X, bidirectional=True)
    message = str(caught.value)
    assert message.startswith("layers[1] (forward direction): W_u has shape (4, 7)") and "expected (4, 12)" in message
    assert "2H outputs of layer 0 = 8" in message
    with pytest.raises(ValueError, match=r"layers\[0\]: W_u has shape \(4, 7\).* X's D = 5"):
        rnnlib.deep_forward("gru", [layers[0][0]], np.zeros((2, 5, 1)))


@pytest.mark.parametrize("dropout", [-0.1, 1.0, 1.5, float("nan"), "0.5", True])
def test_dropout_outside_zero_to_one_is_refused(dropout):
    layers, X, _, _ = make_stack("rnn", L=2)
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\)"):
        rnnlib.deep_forward("rnn", layers, X, dropout=dropout)


def test_bidirectional_states_of_the_wrong_structure_are_refused():
    layers, X, states_0, _ = make_stack("lstm", L=2, bidirectional=True)
    with pytest.raises(ValueError, match=r"states_0 must be None or a list with one item per layer \(2\)"):
        rnnlib.deep_forward("lstm", layers, X, states_0[:1], bidirectional=True)
    one_direction = [states_0[0][0], states_0[1]]          # a single (h, c) where a pair of them belongs
    with pytest.raises(ValueError, match=r"states_0\[0\] \(forward direction\): the lstm state is the pair \(h_0, c_0\).*a pair: \(forward state, backward state\)"):
        rnnlib.deep_forward("lstm", layers, X, one_direction, bidirectional=True)
    gru_layers, X, gru_states, _ = make_stack("gru", L=1, bidirectional=True)
    with pytest.raises(ValueError, match=r"states_0\[0\] of a bidirectional layer must be a pair \(forward, backward\)"):
        rnnlib.deep_forward("gru", gru_layers, X, [gru_states[0][0]], bidirectional=True)
    with pytest.raises(ValueError, match=r"layers\[0\] of a bidirectional layer must be a pair"):
        rnnlib.deep_forward("gru", [gru_layers[0][0]], X, bidirectional=True)


def test_deep_backward_checks_dY_and_the_cache():
    layers, X, _, _ = make_stack("gru", L=2, bidirectional=True)
    Y, cache = rnnlib.deep_forward("gru", layers, X, bidirectional=True)
    with pytest.raises(ValueError, match=r"dY has shape \(5, 4, 2\), expected \(5, 8, 2\) = \(T, 2H, B\)"):
        rnnlib.deep_backward(Y[:, :4], cache)
    with pytest.raises(ValueError, match="DeepCache"):
        rnnlib.deep_backward(Y, None)


def test_mix_ups_of_structure_are_named():
    layers, X, states_0, _ = make_stack("gru", L=1, H=4, B=2, bidirectional=True)
    with pytest.raises(ValueError, match=r"layers\[0\] is a pair of weight tuples.*pass bidirectional=True"):
        rnnlib.deep_forward("gru", layers, X)
    with pytest.raises(ValueError, match=r"got a tuple of arrays, one layer's weights: for one layer pass \[weights\]"):
        rnnlib.deep_forward("gru", layers[0][0], X)
    rnn_layers, X_rnn, _, _ = make_stack("rnn", L=1)
    with pytest.raises(ValueError, match=r"must be a pair of weight tuples \(forward weights, backward weights\); "
                                         r"got a pair of arrays"):
        rnnlib.deep_forward("rnn", rnn_layers, X_rnn, bidirectional=True)
    # a state of the wrong size is the state's fault, not the weights'
    with pytest.raises(ValueError, match=r"states_0\[0\] \(backward direction\): h_0 has shape \(5, 2\), "
                                         r"expected \(4, 2\) = \(H, B\)"):
        rnnlib.deep_forward("gru", layers, X, [(states_0[0][0], np.zeros((5, 2)))], bidirectional=True)
    with pytest.raises(ValueError, match=r"states_0\[0\] \(forward direction\): h_0 has shape \(4, 3\)"):
        rnnlib.deep_forward("gru", layers, X, [(np.zeros((4, 3)), states_0[0][1])], bidirectional=True)
    with pytest.raises(ValueError, match=r"every layer's state must have one shape"):
        interop.states_to_torch("rnn", [np.zeros((4, 2)), np.zeros((5, 2))])
