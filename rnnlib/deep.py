"""Layers of any cell: stacked, bidirectional, or both, with dropout between layers.

A stack of ``L`` layers feeds each layer's outputs to the next as its inputs::

    Y_0 = X                                      (T, D, B)
    Y_l = layer_l(drop_l(Y_{l-1}))               (T, H, B), or (T, 2H, B) if bidirectional
    Y   = Y_L                                    the top layer's outputs

where ``drop_l`` is inverted dropout on the inputs of every layer but the first (each value
zeroed with probability ``p``, the others scaled by ``1 / (1 - p)``), where char-rnn and
PyTorch's ``nn.LSTM(dropout=p)`` place it. The recurrent connections are never dropped.

A bidirectional layer runs two cells over its inputs, one from ``t = 0`` up and one from
``t = T - 1`` down, and stacks their states at each ``t``::

    fwd_t = cell_fwd(x_t, fwd_{t-1})             t = 0 .. T-1, from fwd_{-1} = state_0 forward
    bwd_t = cell_bwd(x_t, bwd_{t+1})             t = T-1 .. 0, from bwd_T = state_0 backward
    y_t   = [fwd_t; bwd_t]                        (2H, B)

so ``y_t`` has read the whole sequence, before and after ``t``. The backward direction is the
forward pass of its own cell over the reversed sequence, ``X[::-1]``, its outputs reversed
back; its final state is the state after reading ``x_0``, as in PyTorch's ``h_n``.

The backward pass runs the layers top down. A layer's ``dX`` is the gradient of the layer
below's outputs, times the dropout mask; a bidirectional layer's ``dX`` is the sum of its two
directions' (each reads every ``x_t``), the backward direction's reversed in time.

Each direction of each layer is one ``rnnlib.forward``/``rnnlib.backward``, so every cell's
fast loops serve here unchanged.
"""

from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array
from .bptt import backward, forward
from .cells import get as get_cell
from .cells.layout import InputMatrix, Matrix
from .cells.rnn import TRAINED_ACTIVATION

__all__ = ["deep_forward", "deep_backward", "DeepCache", "dropout_mask"]

DIRECTIONS = ("forward", "backward")


def dropout_mask(rng, shape, dropout, dtype=np.float64):
    """Inverted dropout's multiplier: 0 with probability ``dropout``, else ``1 / (1 - dropout)``
    (so that the expected value of every value it multiplies is unchanged)."""
    return ((rng.random(shape) >= dropout) / (1.0 - dropout)).astype(dtype, copy=False)


@dataclass
class DeepCache:
    """What ``deep_backward`` needs from ``deep_forward``.

    Attributes
    ----------
    cell : rnnlib.cells.Cell
    bidirectional : bool
    caches : list of tuple of rnnlib.Cache
        ``caches[l]`` holds layer ``l``'s cache per direction: ``(forward,)``, or
        ``(forward, backward)`` when bidirectional (the backward one is of the reversed sequence).
    masks : list of ndarray or None
        ``masks[l]`` (T, D_l, B) multiplied layer ``l``'s inputs (dropout); None where nothing was dropped.
    """

    cell: object
    bidirectional: bool
    caches: list
    masks: list

    @property
    def final_states(self):
        """The state after the last step of each layer, structured like ``states_0``: per layer
        the state (``h_T``, or the LSTM's ``(h_T, c_T)``), or for a bidirectional layer the pair
        (forward's state after ``x_{T-1}``, backward's state after ``x_0``)."""
        return [self._per_layer(tuple(c.final_state for c in caches)) for caches in self.caches]

    def _per_layer(self, per_direction):
        return per_direction if self.bidirectional else per_direction[0]


def _check_dropout(dropout):
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float, np.floating)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a number in [0, 1); got {dropout!r}")


def _directions(item, bidirectional, what):
    """A layer's item (weights, a state or a gradient) as a tuple per direction."""
    if not bidirectional:
        return (item,)
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        got = f"{len(item)} items" if isinstance(item, (tuple, list)) else f"a {type(item).__name__}"
        raise ValueError(f"{what} of a bidirectional layer must be a pair (forward, backward); got {got}")
    return tuple(item)


def _layer_weights(item, bidirectional, l):
    """A layer's weights as a tuple per direction, with the two mix-ups of structure named."""
    pair = isinstance(item, (tuple, list)) and len(item) == 2
    if not bidirectional and pair and all(isinstance(w, (tuple, list)) for w in item):
        raise ValueError(f"layers[{l}] is a pair of weight tuples, as a bidirectional layer's; "
                         "pass bidirectional=True")
    if bidirectional and pair and not all(isinstance(w, (tuple, list)) for w in item):
        raise ValueError(f"layers[{l}] of a bidirectional layer must be a pair of weight tuples "
                         "(forward weights, backward weights); got a pair of arrays")
    return _directions(item, bidirectional, f"layers[{l}]")


def _per_layer_list(items, L, name, structure):
    if items is None:
        return [None] * L
    if not isinstance(items, (list, tuple)) or len(items) != L:
        got = f"{len(items)} items" if isinstance(items, (list, tuple)) else f"a {type(items).__name__}"
        raise ValueError(f"{name} must be None or a list with one item per layer ({L}), each {structure}; got {got}")
    return list(items)


def _state_structure(spec, bidirectional):
    one = "h (H, B)" if len(spec.state_names) == 1 else "the pair (h, c), each (H, B)"
    return f"a pair (forward state, backward state), each {one}" if bidirectional else one


def deep_forward(cell, layers, X, states_0=None, bidirectional=False, dropout=0.0, rng=None,
                 activation=TRAINED_ACTIVATION):
    """Run a stack of layers of one cell over a sequence, keeping a cache for ``deep_backward``.

    Parameters
    ----------
    cell : str or rnnlib.cells.Cell
        Any registered cell, e.g. ``"lstm"``.
    layers : list
        One item per layer: the cell's weight tuple (``rnnlib.weight_names(cell)`` order), or
        with ``bidirectional`` a pair ``(forward weights, backward weights)``. Layer 0 reads
        ``D`` inputs; layer ``l > 0`` reads the ``H`` outputs of the layer below (``2H`` if
        bidirectional). So for the GRU, layer 0's matrices are (H, H + D), the others'
        (H, H + H), or (H, H + 2H) if bidirectional.
    X : ndarray, shape (T, D, B)
    states_0 : list or None
        One initial state per layer (for a bidirectional layer a pair, one per direction), each
        ``h_0`` (H, B) or the LSTM's ``(h_0, c_0)``. None (or a None item) means zeros.
    bidirectional : bool
    dropout : float in [0, 1)
        Inverted dropout on the inputs of every layer but the first (training only).
    rng : numpy.random.Generator, optional
        Draws the dropout masks (a fresh unseeded one when None).
    activation : {"tanh", "sigmoid"}
        The vanilla RNN's nonlinearity; tanh, as trained models and ``nn.RNN`` use it.

    Returns
    -------
    Y : ndarray, shape (T, H, B), or (T, 2H, B) if bidirectional
        The top layer's outputs (forward direction's states in the first ``H`` rows).
    cache : DeepCache
        ``cache.final_states`` is structured like ``states_0``.
    """
    spec = get_cell(cell)
    _check_dropout(dropout)
    one = f"one {spec.name} weight tuple per layer (a pair of them per layer if bidirectional)"
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError(f"layers must be a non-empty list, {one}; got {type(layers).__name__}")
    if isinstance(layers[0], np.ndarray):
        raise ValueError(f"layers must be a list, {one}; got a tuple of arrays, one layer's weights: "
                         "for one layer pass [weights]")
    L = len(layers)
    states_0 = _per_layer_list(states_0, L, "states_0", _state_structure(spec, bidirectional))
    Y = as_float_array(X, "X", 3, "(T, D, B)")
    if dropout and rng is None:
        rng = np.random.default_rng()
    caches, masks = [], []
    for l, (item, state) in enumerate(zip(layers, states_0)):
        weights = _layer_weights(item, bidirectional, l)
        states = (None,) * len(weights) if state is None else _directions(state, bidirectional, f"states_0[{l}]")
        mask = None
        if l > 0 and dropout:
            mask = dropout_mask(rng, Y.shape, dropout, Y.dtype)
            Y = Y * mask
        masks.append(mask)
        outputs, layer_caches = [], []
        for direction, w, s in zip(DIRECTIONS, weights, states):
            where = f"[{l}]" + (f" ({direction} direction)" if bidirectional else "")
            H = _check_input_size(spec, w, Y.shape[1], l, bidirectional, "layers" + where)
            s = _initial_state(spec, s, H, Y, w, bidirectional, "states_0" + where)
            inputs = Y if direction == "forward" else np.ascontiguousarray(Y[::-1])
            try:
                hs, c = forward(spec, w, inputs, s, activation)
            except ValueError as exc:
                raise ValueError(f"layers{where}: {exc}") from None
            outputs.append(hs if direction == "forward" else hs[::-1])
            layer_caches.append(c)
        Y = outputs[0] if len(outputs) == 1 else np.concatenate(outputs, axis=1)
        caches.append(tuple(layer_caches))
    return Y, DeepCache(spec, bidirectional, caches, masks)


def _check_input_size(spec, weights, D, l, bidirectional, where):
    """A layer's weights must read the ``D`` rows below it; say which layer and what shape if not.
    Returns the layer's ``H``."""
    try:
        D_w, H = spec.sizes(weights)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if D_w != D:
        k, first = next((k, w) for k, w in enumerate(spec.layout) if isinstance(w, (Matrix, InputMatrix)))
        below = "X's D" if l == 0 else f"the {'2H' if bidirectional else 'H'} outputs of layer {l - 1}"
        raise ValueError(f"{where}: {first.name} has shape {np.shape(weights[k])}, which reads {D_w} inputs; "
                         f"layer {l} reads {below} = {D}, so expected {first.shape(D, H)} = {first.shape_text} "
                         f"with H = {H}, D = {D}")
    return H


def _initial_state(spec, state, H, Y, weights, bidirectional, where):
    """The state a direction starts from: zeros for None, else ``state`` once it is checked."""
    if state is None:
        return spec.zero_state(H, Y.shape[2], np.result_type(Y, *weights))
    try:
        parts = spec.check_state(state, suffix="_0")
    except ValueError as exc:
        pair = " (a bidirectional layer's state is a pair: (forward state, backward state))" if bidirectional else ""
        raise ValueError(f"{where}: {exc}{pair}") from None
    if parts[0].shape != (H, Y.shape[2]):
        raise ValueError(f"{where}: h_0 has shape {parts[0].shape}, expected {(H, Y.shape[2])} = (H, B): "
                         f"this layer's weights have H = {H} and the sequence B = {Y.shape[2]}")
    return state


def deep_backward(dY, cache, dstates_T=None):
    """Backpropagation through a stack made by ``deep_forward``.

    Parameters
    ----------
    dY : ndarray, shaped like ``Y``: (T, H, B), or (T, 2H, B) if bidirectional
        The gradient of the loss with respect to the top layer's outputs.
    cache : DeepCache
    dstates_T : list or None
        Gradients with respect to ``cache.final_states``, in its structure (None, or a None
        item, for none): what a later chunk sends back, the only way a gradient reaches the
        LSTM's final ``c``.

    Returns
    -------
    dlayers : list
        Gradients of the layers' weights, structured like ``layers``.
    dX : ndarray, shape (T, D, B)
    dstates_0 : list
        Gradients of the initial states, structured like ``cache.final_states``.
    """
    if not isinstance(cache, DeepCache):
        raise ValueError(f"cache must be the DeepCache returned by rnnlib.deep_forward; got {type(cache).__name__}")
    spec, L = cache.cell, len(cache.caches)
    top = cache.caches[-1]
    shape = (top[0].hs.shape[0], sum(c.hs.shape[1] for c in top), top[0].hs.shape[2])
    dY = as_float_array(dY, "dY", 3, "(T, H, B)")
    if dY.shape != shape:
        rows = "2H" if cache.bidirectional else "H"
        raise ValueError(f"dY has shape {dY.shape}, expected {shape} = (T, {rows}, B), the shape of Y")
    dstates_T = _per_layer_list(dstates_T, L, "dstates_T", _state_structure(spec, cache.bidirectional))
    dlayers, dstates_0 = [None] * L, [None] * L
    for l in reversed(range(L)):
        caches = cache.caches[l]
        given = dstates_T[l]
        finals = (None,) * len(caches) if given is None else _directions(given, cache.bidirectional, f"dstates_T[{l}]")
        rows = np.cumsum([0] + [c.hs.shape[1] for c in caches])
        dweights, dstates, dX = [], [], 0
        for direction, c, d_final, lo, hi in zip(DIRECTIONS, caches, finals, rows[:-1], rows[1:]):
            dhs = dY[:, lo:hi]
            if direction == "backward":
                dhs = dhs[::-1]
            try:
                dw, dX_dir, ds = backward(dhs, c, d_final)
            except ValueError as exc:
                raise ValueError(f"dstates_T[{l}]" + (f" ({direction})" if cache.bidirectional else "")
                                 + f": {exc}") from None
            dX = dX + (dX_dir if direction == "forward" else dX_dir[::-1])
            dweights.append(dw)
            dstates.append(ds)
        dlayers[l] = cache._per_layer(tuple(dweights))
        dstates_0[l] = cache._per_layer(tuple(dstates))
        if cache.masks[l] is not None:
            dX = dX * cache.masks[l]
        dY = dX
    return dlayers, dY, dstates_0
