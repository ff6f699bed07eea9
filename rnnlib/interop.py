"""Moving between this course's conventions and two others.

**PyTorch's layout.** ``torch.nn.RNN``/``GRU`` take sequences as ``(T, B, D)`` (batch in the
middle, features last; rows are examples) where this course uses ``(T, D, B)`` (features in
the rows, batch in the columns). ``to_torch_layout`` / ``from_torch_layout`` swap the last two
axes.

PyTorch's weights split ``[h; x]`` the other way round: ``weight_ih`` acts on ``x`` and
``weight_hh`` on ``h``, so ``W = [weight_hh | weight_ih]`` here. ``torch.nn.RNN`` with
``nonlinearity="tanh"`` computes exactly our vanilla RNN with ``activation="tanh"``
(``rnn_to_torch``), and ``torch.nn.LSTM`` exactly our LSTM (``lstm_to_torch``): PyTorch
stacks the LSTM's four blocks in the order ``i, f, g, o`` (``g`` is our candidate, weight
``W_c``) where our tuple is ``i, f, o, c``, and it has two biases per block where we have one
(their sum is ours). ``torch.nn.GRU`` is a *different* GRU: it applies the reset gate after
the matrix product, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, where the lectures
(and Cho et al.) use ``tanh(W_c [r * h; x] + b_c)``, and its ``z`` plays the role of our
``1 - u``. The two agree only in special cases, so there is no exact weight mapping; compare
them on cost, not on numbers.

**Stacks.** ``nn.RNN``/``nn.LSTM`` with ``num_layers=L`` and ``bidirectional=True`` name layer
``l``'s weights ``weight_ih_l{l}`` and so on, and its backward direction's ``weight_ih_l{l}_reverse``;
their states ``h_0``/``h_n`` (and ``c``) are one (L * directions, B, H) array, layer by layer,
the forward direction first. ``stack_to_torch``/``stack_from_torch`` and
``states_to_torch``/``states_from_torch`` move ``rnnlib.deep_forward``'s layers and states to
and from that form.

**Row-vector form.** One of the source notebooks writes a gate as ``x @ U + h @ W + b`` with
``x`` of shape (B, D), ``U`` (D, H), ``W`` (H, H), ``b`` (1, H). It is the same computation
transposed: ``U = W_in.T``, ``W = W_hid.T``, ``b = b.T``.
"""

import numpy as np

from .cells import get as get_cell
from .cells import lstm, rnn
from .cells.layout import Matrix

__all__ = ["to_torch_layout", "from_torch_layout", "rnn_to_torch", "rnn_from_torch",
           "lstm_to_torch", "lstm_from_torch", "stack_to_torch", "stack_from_torch",
           "states_to_torch", "states_from_torch", "to_row_form", "from_row_form"]

#: The cells PyTorch computes exactly, with their one-layer state-dict maps (``nn.GRU`` is
#: another GRU, and PyTorch has no MGU).
TORCH_EXACT = {"rnn": (rnn.to_torch, rnn.from_torch), "lstm": (lstm.to_torch, lstm.from_torch)}


def _checked(cell, weights):
    """A cell's weight tuple, checked (sizes read off its first matrix)."""
    spec = get_cell(cell)
    D, H = spec.sizes(weights)
    return spec, spec.check_weights(weights, H, D)


def to_torch_layout(X):
    """(T, D, B) -> (T, B, D). Also maps hidden states (T, H, B) -> (T, B, H)."""
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"expected a 3-D array of shape (T, D, B); got shape {X.shape}")
    return np.ascontiguousarray(X.transpose(0, 2, 1))


def from_torch_layout(X):
    """(T, B, D) -> (T, D, B)."""
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"expected a 3-D array of shape (T, B, D); got shape {X.shape}")
    return np.ascontiguousarray(X.transpose(0, 2, 1))


def rnn_to_torch(weights):
    """Vanilla RNN weights -> ``torch.nn.RNN`` (one layer, tanh) state-dict arrays.

    Parameters
    ----------
    weights : ``(W_h, b_h)`` (or the lecture's 6-tuple), W_h (H, H + D), b_h (H, 1)

    Returns
    -------
    dict with ``weight_ih_l0`` (H, D), ``weight_hh_l0`` (H, H), ``bias_ih_l0`` (H,),
    ``bias_hh_l0`` (H,) (zeros: PyTorch has two biases where we have one).
    """
    return rnn.to_torch(_checked("rnn", weights)[1])


def rnn_from_torch(state):
    """``torch.nn.RNN`` state-dict arrays (as numpy) -> ``(W_h, b_h)``; the two biases add."""
    return rnn.from_torch(state)


def lstm_to_torch(weights):
    """LSTM weights -> ``torch.nn.LSTM`` (one layer) state-dict arrays.

    Parameters
    ----------
    weights : ``(W_i, W_f, W_o, W_c, b_i, b_f, b_o, b_c)``, matrices (H, H + D), biases (H, 1)

    Returns
    -------
    dict with ``weight_ih_l0`` (4H, D), ``weight_hh_l0`` (4H, H), ``bias_ih_l0`` (4H,) and
    ``bias_hh_l0`` (4H,) (zeros), the blocks in PyTorch's order i, f, g, o.
    """
    return lstm.to_torch(_checked("lstm", weights)[1])


def lstm_from_torch(state):
    """``torch.nn.LSTM`` state-dict arrays (as numpy, one layer) -> our LSTM weight tuple;
    the two biases add."""
    return lstm.from_torch(state)


def _exact(cell):
    spec = get_cell(cell)
    if spec.name not in TORCH_EXACT:
        raise ValueError(f"PyTorch has no module that computes the {spec.name} exactly; "
                         f"these maps exist for {sorted(TORCH_EXACT)}")
    return spec, TORCH_EXACT[spec.name]


def _suffixes(L, bidirectional):
    """PyTorch's key suffix for each layer and direction: ``_l0``, ``_l0_reverse``, ``_l1`` ..."""
    return [[f"_l{l}{d}" for d in (("", "_reverse") if bidirectional else ("",))] for l in range(L)]


def stack_to_torch(cell, layers, bidirectional=False):
    """A stack's layers (``rnnlib.deep_forward``'s ``layers``) -> the state dict (numpy arrays) of
    ``nn.RNN(nonlinearity="tanh")`` or ``nn.LSTM`` with ``num_layers=len(layers)`` and
    ``bidirectional``; each second bias is zeros (PyTorch has two where we have one)."""
    spec, (to_torch, _) = _exact(cell)
    state = {}
    for l, (item, suffixes) in enumerate(zip(layers, _suffixes(len(layers), bidirectional))):
        weights = item if bidirectional else (item,)
        if len(weights) != len(suffixes):
            raise ValueError(f"layers[{l}] of a bidirectional stack must be a pair (forward, backward) of weight tuples")
        for w, suffix in zip(weights, suffixes):
            one = to_torch(_checked(spec.name, w)[1])
            state.update({k.replace("_l0", suffix): v for k, v in one.items()})
    return state


def stack_from_torch(cell, state):
    """The state dict (as numpy) of ``nn.RNN`` or ``nn.LSTM``, any ``num_layers``, either
    direction count -> ``(layers, bidirectional)`` for ``rnnlib.deep_forward``."""
    spec, (_, from_torch) = _exact(cell)
    L = sum(1 for k in state if k.startswith("weight_ih_l") and not k.endswith("_reverse"))
    bidirectional = "weight_ih_l0_reverse" in state
    if L == 0:
        raise ValueError(f"a {spec.name} state dict holds weight_ih_l0 ...; got keys {sorted(state)}")
    layers = []
    for l, suffixes in enumerate(_suffixes(L, bidirectional)):
        per_direction = []
        for suffix in suffixes:
            try:
                one = {k: np.asarray(state[k + suffix]) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            except KeyError as exc:
                raise ValueError(f"the state dict lacks {exc.args[0]} (layer {l} of {L})") from None
            per_direction.append(from_torch({k + "_l0": v for k, v in one.items()}))
        layers.append(tuple(per_direction) if bidirectional else per_direction[0])
    return layers, bidirectional


def states_to_torch(cell, states):
    """``deep_forward``'s per-layer states -> PyTorch's (L * directions, B, H) ``h`` (and for
    the LSTM the pair ``(h, c)``), layer by layer, the forward direction first."""
    spec = get_cell(cell)
    flat = [s for item in states for s in (item if _is_pair_of_states(spec, item) else (item,))]
    checked = [spec.check_state(s) for s in flat]
    if len({c[0].shape for c in checked}) > 1:
        raise ValueError(f"every layer's state must have one shape (H, B) for PyTorch; got "
                         f"{sorted({c[0].shape for c in checked})}")
    parts = zip(*checked)
    stacked = tuple(np.ascontiguousarray(np.stack([np.asarray(p).T for p in part])) for part in parts)
    return spec.pack_state(stacked)


def states_from_torch(cell, state, bidirectional=False):
    """PyTorch's (L * directions, B, H) ``h`` (or the LSTM's ``(h, c)``) -> the per-layer states
    of ``rnnlib.deep_forward`` (pairs per layer if ``bidirectional``)."""
    spec = get_cell(cell)
    parts = [np.asarray(p) for p in spec.unpack_state(state)]
    flat = [spec.pack_state([np.ascontiguousarray(p[k].T) for p in parts]) for k in range(parts[0].shape[0])]
    return [tuple(flat[k:k + 2]) for k in range(0, len(flat), 2)] if bidirectional else flat


def _is_pair_of_states(spec, item):
    """Whether a layer's item is a (forward, backward) pair of states rather than one state."""
    return isinstance(item, (tuple, list)) and len(item) == 2 and (
        len(spec.state_names) == 1 or isinstance(item[0], (tuple, list)))


def to_row_form(cell, weights):
    """Column-form weights -> row form, one ``(U, W, b)`` triple per matrix.

    For each weight matrix ``M = [M_hid | M_in]`` (H, H + D) and its bias ``c`` (H, 1), the gate
    ``M [h; x] + c`` equals ``(x.T @ U + h.T @ W + b).T`` with ``U = M_in.T`` (D, H),
    ``W = M_hid.T`` (H, H), ``b = c.T`` (1, H). A matrix that acts on ``x`` alone (H, D) has
    ``U = M.T`` and ``W = None``.

    Returns
    -------
    list of (U, W, b), in the order of the cell's matrices (GRU: u, r, c; MGU: f, h; RNN: h;
    LSTM: i, f, o, c).
    """
    spec, weights = _checked(cell, weights)
    n = spec.n_matrices
    H = weights[n].shape[0]
    split = lambda w, M: (M[:, H:], M[:, :H].T.copy()) if isinstance(w, Matrix) else (M, None)   # M_in, W
    return [(M_in.T.copy(), W, c.T.copy())
            for (M_in, W), c in zip((split(w, M) for w, M in zip(spec.matrices, weights)), weights[n:])]


def from_row_form(cell, triples):
    """Row-form ``(U, W, b)`` triples -> the cell's column-form weight tuple."""
    spec = get_cell(cell)
    n = spec.n_matrices
    if len(triples) != n:
        raise ValueError(f"{spec.name} has {n} weight matrices; got {len(triples)} (U, W, b) triples")
    mats = tuple(np.concatenate([np.asarray(W).T, np.asarray(U).T], axis=1) if isinstance(w, Matrix)
                 else np.asarray(U).T.copy() for w, (U, W, _) in zip(spec.matrices, triples))
    return mats + tuple(np.asarray(b).T.copy() for _, _, b in triples)
