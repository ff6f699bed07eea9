"""A character-level language model: input layer, a stack of any rnnlib cell, and an output
layer over the vocabulary at every step.

::

    x_t      = E[:, c_t]                  embedding of character c_t, (D, B); one-hot when E is absent
    h_t      = cell(x_t, h_{t-1})         any of rnnlib.CELLS; with L layers, layer l reads layer l-1's h_t
    logits_t = W_y h_t + b_y              (V, B): a score for every possible next character
    loss     = mean over t, b of -log softmax(logits_t)[c_{t+1}]

Parameters live in a dict, in a fixed order (``param_names``): ``E`` (D, V) when there is an
embedding, the cell's weights (``rnnlib.CELLS[cell].weight_names``; with ``L > 1`` layers each
name once per layer, ``W_u_l0``, ``W_u_l1`` ..., as PyTorch names its layers), then ``W_y``
(V, H) and ``b_y`` (V, 1). Optimisers take ``list(params.values())`` and update the arrays in
place. The number of layers is read off the names.

A one-layer model's state is the cell's (``h``, or the LSTM's ``(h, c)``); a deeper model's is a
list of them, one per layer (``zero_state``).

Truncated backprop through time: a long text is read in chunks of T steps; the state at the end
of a chunk starts the next one, and no gradient flows back across the boundary. In numpy this
"detaching" is simply not sending ``dh_0`` anywhere: ``lm_loss_and_grads`` returns the final
state as plain arrays, and the next call starts its own backward pass from its own chunk.
"""

from dataclasses import dataclass

import numpy as np

from ._checks import check_ids
from .bptt import infer
from .cells import get as get_cell
from .cells.rnn import TRAINED_ACTIVATION
from .deep import DeepCache, deep_backward, deep_forward, dropout_mask
from .init import init_readout, init_weights
from .losses import readout_backward, readout_forward, softmax_cross_entropy

__all__ = ["param_names", "init_lm", "zero_state", "lm_forward", "lm_backward", "lm_loss_and_grads",
           "lm_perplexity", "next_char_id", "sample", "dropout_mask", "LMCache", "count_layers"]


def _layer_names(cell, layers):
    """The cell's weight names per layer: bare for one layer, ``<name>_l<l>`` for a stack."""
    names = get_cell(cell).weight_names
    return [names] if layers == 1 else [tuple(f"{n}_l{l}" for n in names) for l in range(layers)]


def param_names(cell, embedding=True, layers=1):
    """The names of a language model's parameters, in their fixed order."""
    return ("E",) * embedding + sum(_layer_names(cell, layers), ()) + ("W_y", "b_y")


def count_layers(cell, params):
    """How many layers ``params`` holds, read off its names (``ValueError`` if none)."""
    first = get_cell(cell).weight_names[0]
    if first in params:
        return 1
    L = 0
    while f"{first}_l{L}" in params:
        L += 1
    if L == 0:
        raise ValueError(f"params lacks the {cell} weights: a {cell} language model has {param_names(cell)} "
                         f"(or {first}_l0, {first}_l1 ... for a stack); got {list(params)}")
    return L


def init_lm(cell, V, H, D=None, seed=0, dtype=np.float64, layers=1):
    """Initial parameters of a language model.

    Parameters
    ----------
    cell : {"rnn", "gru", "mgu", "lstm", "mingru", "minlstm"}
    V : int
        Vocabulary size.
    H : int
        Hidden size (of every layer).
    D : int or None
        Embedding size; None for one-hot input (the first layer then reads D = V inputs).
    seed : int
    layers : int
        Layers stacked; layer ``l > 0`` reads the ``H`` outputs of the layer below.

    Returns
    -------
    dict of str -> ndarray
        ``E`` (D, V) standard normal (when ``D`` is given), each layer's weights
        (``rnnlib.init_weights``), ``W_y`` (V, H) Glorot-uniform and ``b_y`` (V, 1) zeros.
    """
    if not (isinstance(layers, (int, np.integer)) and layers >= 1):
        raise ValueError(f"layers must be a positive integer; got {layers!r}")
    rng = np.random.default_rng([seed, 2])
    params = {} if D is None else {"E": rng.standard_normal((D, V)).astype(dtype)}
    for l, names in enumerate(_layer_names(cell, layers)):
        below = (V if D is None else D) if l == 0 else H
        # layer 0 from the seed itself, as a one-layer model always was; the others from their own
        params.update(zip(names, init_weights(cell, below, H, seed if l == 0 else seed + 100 + l, dtype=dtype)))
    params["W_y"], params["b_y"] = init_readout(H, V, seed + 1, dtype)
    return params


def _split(cell, params):
    """``E`` (or None), the list of layers' weight tuples, ``W_y``, ``b_y``."""
    L = count_layers(cell, params)
    embedding = "E" in params
    missing = [n for n in param_names(cell, embedding, L) if n not in params]
    if missing:
        raise ValueError(f"params lacks {missing}; a {cell} language model of {L} layer(s) has "
                         f"{param_names(cell, embedding, L)}")
    layers = [tuple(params[n] for n in names) for names in _layer_names(cell, L)]
    return params.get("E"), layers, params["W_y"], params["b_y"]


def zero_state(cell, H, B, dtype=np.float64, layers=1):
    """The all-zero initial state for ``B`` streams: ``h_0`` (H, B), or the LSTM's ``(h_0, c_0)``;
    for ``layers > 1`` a list of them, one per layer."""
    states = [get_cell(cell).zero_state(H, B, dtype) for _ in range(layers)]
    return states[0] if layers == 1 else states


def _as_layers(state, L):
    """A model's state as a list per layer (a one-layer model's is the cell's state itself)."""
    if L == 1:
        return [state]
    if not isinstance(state, list) or len(state) != L:
        raise ValueError(f"the state of a {L}-layer model is a list of {L} states, one per layer; "
                         f"got {type(state).__name__}" + (f" of {len(state)}" if isinstance(state, (list, tuple)) else ""))
    return state


def _from_layers(states):
    return states[0] if len(states) == 1 else list(states)


def _inputs(E, W_y, ids):
    """The cell's input sequence (T, D, B) for character ids (T, B), in the model's dtype."""
    if E is None:                                  # one-hot: column c of the identity
        X = np.zeros((ids.shape[0], W_y.shape[0], ids.shape[1]), W_y.dtype)
        np.put_along_axis(X, ids[:, None, :], 1.0, axis=1)
        return X
    return E[:, ids].transpose(1, 0, 2)            # E[:, ids] is (D, T, B)


@dataclass
class LMCache:
    """What ``lm_backward`` needs from ``lm_forward``.

    Attributes
    ----------
    X_ids : int ndarray, shape (T, B)
    stack : rnnlib.DeepCache
        The layers', from ``rnnlib.deep_forward``.
    readout_cache : tuple
        The output layer's, from ``rnnlib.readout_forward``.
    E : ndarray (D, V), or None for one-hot input
    keep : ndarray (T, H, B), or None
        The dropout multiplier of the top layer's outputs, when there was dropout.
    """

    X_ids: np.ndarray
    stack: DeepCache
    readout_cache: tuple
    E: np.ndarray = None
    keep: np.ndarray = None

    @property
    def cell_cache(self):
        """A one-layer model's ``rnnlib.Cache`` (what ``rnnlib.backward`` takes)."""
        return self.stack.caches[0][0]

    @property
    def final_state(self):
        """The state after the chunk's last step, as the model carries it: where the next chunk starts."""
        return _from_layers(self.stack.final_states)


def lm_forward(cell, params, X_ids, state_0, activation=TRAINED_ACTIVATION, dropout=0.0, rng=None):
    """Logits for the next character at every step, and a cache for ``lm_backward``.

    Parameters
    ----------
    cell : str
    params : dict, from ``init_lm``
    X_ids : int ndarray, shape (T, B)
        Input characters.
    state_0 : ndarray (H, B), or the LSTM's pair
        The state carried in from the previous chunk (``zero_state`` to start).
    activation : str
        The vanilla RNN's nonlinearity (``rnnlib.cells.rnn.TRAINED_ACTIVATION``, tanh); the
        other cells have none.
    dropout : float in [0, 1)
        Training only: each value the output layer reads, and each a layer above the first
        reads, is zeroed with this probability and the others scaled by ``1 / (1 - dropout)``
        (inverted dropout on the non-recurrent connections, Zaremba et al. 2014, as char-rnn
        places it); the carried state is left whole.
    rng : numpy.random.Generator, for the dropout mask

    Returns
    -------
    logits : ndarray, shape (T, V, B)
    cache : LMCache, for ``lm_backward``; ``cache.final_state`` is the state after the chunk.
    """
    E, layers, W_y, b_y = _split(cell, params)
    V = W_y.shape[0]
    X_ids = check_ids(X_ids, V, "X_ids", "character ids", "W_y.shape[0]")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1); got {dropout}")
    hs, stack = deep_forward(cell, layers, _inputs(E, W_y, X_ids), _as_layers(state_0, len(layers)),
                             dropout=dropout, rng=rng, activation=activation)
    keep = None
    if dropout:
        keep = dropout_mask(rng, hs.shape, dropout, hs.dtype)
        hs = hs * keep
    logits, readout_cache = readout_forward(hs, W_y, b_y)
    return logits, LMCache(X_ids, stack, readout_cache, E, keep)


def lm_backward(dlogits, cache):
    """Gradients of every parameter from the gradient of the logits.

    Parameters
    ----------
    dlogits : ndarray, shape (T, V, B)
    cache : LMCache, from ``lm_forward``

    Returns
    -------
    grads : dict of str -> ndarray
        The parameters' names and shapes.
    dstate_0 : the gradient with respect to the initial state (shaped like it). Truncated BPTT
        drops it: that is what detaching the carried state means.
    """
    dhs, dW_y, db_y = readout_backward(dlogits, cache.readout_cache)
    if cache.keep is not None:
        dhs *= cache.keep
    dlayers, dX, dstates_0 = deep_backward(dhs, cache.stack)
    grads = {}
    if cache.E is not None:
        # x_t = E[:, c_t]: every use of character c adds its dx to column c of dE. np.add.at
        # accumulates repeated indices (a plain dE[:, ids] += ... would keep only one of them).
        dE = np.zeros_like(cache.E)
        np.add.at(dE.T, cache.X_ids.ravel(), dX.transpose(0, 2, 1).reshape(-1, dX.shape[1]))
        grads["E"] = dE
    for names, dweights in zip(_layer_names(cache.stack.cell, len(dlayers)), dlayers):
        grads.update(zip(names, dweights))
    grads["W_y"], grads["b_y"] = dW_y, db_y
    return grads, _from_layers(dstates_0)


def lm_loss_and_grads(cell, params, X_ids, Y_ids, state_0, mask=None, activation=TRAINED_ACTIVATION, dropout=0.0,
                      rng=None):
    """One chunk of truncated BPTT: the loss, every parameter's gradient, and the state to carry.

    Parameters
    ----------
    X_ids, Y_ids : int ndarray, shape (T, B)
        Inputs and targets (``Y_ids[t]`` is the character after ``X_ids[t]``).
    state_0 : the state carried in (``zero_state`` to start)
    mask : optional (T, B) of 0/1, positions whose loss counts
    dropout, rng : see ``lm_forward``

    Returns
    -------
    loss : float, mean nats per counted character
    grads : dict of str -> ndarray
    state_T : the state after the chunk, detached (plain arrays) for the next chunk
    """
    logits, cache = lm_forward(cell, params, X_ids, state_0, activation, dropout, rng)
    loss, dlogits = softmax_cross_entropy(logits, Y_ids, mask)
    grads, _ = lm_backward(dlogits, cache)             # dstate_0 is dropped: no gradient crosses chunks
    return loss, grads, cache.final_state


def lm_perplexity(cell, params, ids, streams=16, activation=TRAINED_ACTIVATION):
    """Perplexity ``exp(mean nats per character)`` of the model on a held-out text.

    The text is cut into ``streams`` contiguous pieces read side by side, each from a zero
    state; every character but each piece's first is predicted from all that precede it in
    its piece. Inference keeps no cache, so memory does not grow with the text's length.

    Parameters
    ----------
    ids : int ndarray, shape (N,)
    streams : int

    Returns
    -------
    float
    """
    E, layers, W_y, b_y = _split(cell, params)
    ids = np.asarray(ids)
    n = (len(ids) - 1) // streams
    if n < 1:
        raise ValueError(f"{len(ids)} characters are too few for {streams} streams")
    X_ids = check_ids(ids[:n * streams].reshape(streams, n).T, W_y.shape[0], "ids", "character ids", "W_y.shape[0]")
    Y_ids = ids[1:n * streams + 1].reshape(streams, n).T
    hs = _inputs(E, W_y, X_ids)
    for weights in layers:                        # each layer reads the whole sequence below it
        hs = infer(cell, weights, hs, get_cell(cell).zero_state(W_y.shape[1], streams, W_y.dtype),
                   return_sequence=True, activation=activation)
    loss, _ = softmax_cross_entropy(W_y @ hs + b_y, Y_ids)
    with np.errstate(over="ignore"):                  # a diverged model's perplexity is inf, said so
        return float(np.exp(loss))


def next_char_id(logits, temperature=1.0, top_k=None, u=None, rng=None):
    """Draw the next character from the model's scores.

    ``p = softmax(logits / temperature)`` over the ``top_k`` highest scores (all when None),
    then the id ``i`` with ``cumsum(p)[i - 1] <= u < cumsum(p)[i]`` for a uniform ``u``:
    inverse-transform sampling, so that a given ``u`` always gives the same character.
    Temperature 0 means the most likely character (no draw).

    Parameters
    ----------
    logits : ndarray, shape (V,)
    temperature : float >= 0
        Below 1 sharpens the distribution, above 1 flattens it.
    top_k : int or None
    u : float in [0, 1), or None to draw one from ``rng``

    Returns
    -------
    int
    """
    logits = np.asarray(logits, dtype=float).ravel()
    if not (np.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a number >= 0; got {temperature}")
    if top_k is not None and not (isinstance(top_k, (int, np.integer)) and 1 <= top_k):
        raise ValueError(f"top_k must be a positive integer or None; got {top_k!r}")
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    if top_k is not None and top_k < len(z):
        z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)       # keep the k largest scores
    p = np.exp(z - z.max())
    cdf = np.cumsum(p / p.sum())
    u = (np.random.default_rng() if rng is None else rng).random() if u is None else u
    if not 0 <= u < 1:
        raise ValueError(f"u must be in [0, 1); got {u}")
    return int(min(np.searchsorted(cdf, u, side="right"), len(z) - 1))


def sample(cell, params, vocab, prime, length, temperature=1.0, top_k=None, seed=0, activation=TRAINED_ACTIVATION):
    """Generate text: read ``prime``, then draw ``length`` characters one at a time.

    Each drawn character is fed back as the next input. Deterministic given ``seed``.

    Parameters
    ----------
    vocab : rnnlib.text.Vocab
    prime : str, non-empty, every character in the vocabulary
    length : int >= 0

    Returns
    -------
    str : ``prime`` followed by the ``length`` generated characters
    """
    if not prime:
        raise ValueError("prime must hold at least one character")
    E, layers, W_y, b_y = _split(cell, params)
    spec = get_cell(cell)
    ids = list(vocab.encode(prime, strict=True))
    rng = np.random.default_rng(seed)
    states = [spec.zero_state(W_y.shape[1], 1, W_y.dtype) for _ in layers]
    for k in range(len(ids) + length - 1):
        x = _inputs(E, W_y, np.array([[ids[k]]]))                      # (1, D, 1)
        for l, weights in enumerate(layers):                           # up the stack, one step
            states[l] = infer(cell, weights, x, states[l], activation=activation)
            x = spec.unpack_state(states[l])[0][None]
        if k >= len(ids) - 1:
            ids.append(next_char_id((W_y @ x[0] + b_y)[:, 0], temperature, top_k, rng=rng))
    return vocab.decode(ids)
