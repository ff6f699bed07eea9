"""Forward and backward passes over a whole sequence (backpropagation through time).

``forward(cell, weights, X, h_0)`` runs the same equations as the step functions in
``rnnlib.cells`` for every time step and keeps what the backward pass needs in a cache;
``backward(dhs, cache)`` walks the sequence in reverse and returns the gradients. This module
is the same for every cell: each cell's own loops live beside its step function, in
``rnnlib.cells.<name>`` (``forward_loop`` and ``backward_loop``), and what is written here
about them holds for all of them.

Two ideas make this much faster than ``scan`` over a step function, and the book's cost
chapter measures both:

1. **Hoist the input projection out of the loop.** Write each weight as
   ``W = [W_hid | W_in]`` (the columns acting on ``h`` and on ``x``). The input part does not
   depend on the recurrence, so ``W_in @ x_t`` for all ``t`` is one call,
   ``W_in @ X`` with ``X`` of shape (T, D, B). Only the small ``W_hid @ h`` stays inside the
   loop, and no ``[h; x]`` is ever concatenated.
2. **Fuse the gates.** The gates that read the same vector are stacked into one matrix
   (GRU: ``u`` and ``r`` read ``h``; all gates read ``x``), so one product serves several gates.

Inside the loops every call is paid T times, and at small sizes the calls' overhead, not the
arithmetic, is the cost (about half a microsecond per numpy call). So the loops use the
cheapest spelling of each operation:

- ``W.dot(h, out)`` for a product: the same arithmetic as ``W @ h``, with less call overhead,
  written into a preallocated buffer;
- ufuncs writing in place with the output passed positionally (``np.add(a, b, a)``: no
  keyword parsing), and constants as 0-d arrays of the right dtype (no conversion of a Python
  float per call);
- a gate ``sigmoid(a) = 1 / s`` kept as ``s = 1 + exp(-a)``, with the minus sign folded into
  its weights once: two calls give ``s``, multiplying by the gate is dividing by ``s``, and one
  reciprocal over all steps after the loop gives the gates for the backward pass. (``exp`` is
  also the cheaper function: on some CPUs numpy's float64 ``tanh`` costs two to three times
  its ``exp``, as the cost chapter measures);
- the vanilla RNN runs in the variable ``v = 2 h - 1``, in which its step is one product, one
  addition and one tanh.

The backward pass mirrors this: the loop only carries the gradient of the state and records
the gradient of every pre-activation, ``dA[t]``, each step's in one contiguous (G H, B) block
(the loop's writes and its product then run on adjacent numbers, several times faster than
with the steps interleaved). The weight gradients and ``dX`` are products over all time steps
after the loop, the cell's ``gradients`` (``rnnlib.cells.gradients``): ``dX`` is ``project``
backwards, and the weight gradients are one product per block of steps for each group of
matrices that read the same vector.

Gradients of pre-activations use the activated values from the cache
(``sigmoid' = g (1 - g)`` for a gate ``g``, ``tanh' = 1 - c**2``).
"""

from dataclasses import dataclass, field

import numpy as np

from ._checks import as_float_array, check_activation, check_finite
from .cells import Cell, get as get_cell
from .threads import limited

__all__ = ["forward", "backward", "infer", "Cache", "weight_names"]


@dataclass
class Cache:
    """What ``backward`` needs from ``forward``.

    Attributes
    ----------
    cell : rnnlib.cells.Cell
        The cell, e.g. ``rnnlib.CELLS["gru"]``.
    weights : tuple of ndarray
        The cell's weights in its own order (for the RNN: ``(W_h, b_h)``).
    given_shapes : tuple or None
        The shapes of the tuple the caller passed, when it was another tuple the cell reads
        (the RNN's lecture 6-tuple), so that the gradients come back in that tuple's shape.
    X : ndarray, shape (T, D, B)
    state_0 : tuple of ndarray
        The initial state's parts, each (H, B): ``(h_0,)``, or ``(h_0, c_0)`` for the LSTM.
    hs : ndarray, shape (T, H, B)
        ``hs[t]`` is the hidden state after step ``t``.
    saved : dict of str -> ndarray, each (T, H, B)
        What the cell's fast forward kept (``cell.saved_names``): GRU ``u, r, c``; MGU
        ``f, c``; LSTM ``i, f, o, g, c, tanh_c``; RNN none (``hs`` are its activations).
    options : dict
        The cell's options as the forward ran (the vanilla RNN's ``activation``).
    """

    cell: Cell
    weights: tuple
    given_shapes: tuple
    X: np.ndarray
    state_0: tuple
    hs: np.ndarray
    saved: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)

    @property
    def h_0(self):
        """The initial hidden state, (H, B)."""
        return self.state_0[0]

    @property
    def final_state(self):
        """The state after the last step, as the cell carries it: ``h_T``, or ``(h_T, c_T)``."""
        return self.cell.pack_state(self.cell.final_state(self.hs, self.saved))


def _prepare(cell, weights, X, h_0, activation):
    """Check the inputs at the boundary and give them one floating dtype."""
    spec = get_cell(cell)
    options = spec.loop_options(activation=check_activation(activation))
    X, state_0 = spec.check_sequence(X, h_0)
    H, D = state_0[0].shape[0], X.shape[1]
    given = weights
    weights = spec.check_weights(weights, H, D)
    given_shapes = None if len(given) == len(weights) else tuple(np.shape(w) for w in given)
    dtype = np.result_type(X, *state_0, *weights)
    X = X.astype(dtype, copy=False)
    # stored row by row: the loops carry gradients in arrays shaped like the state and write
    # products into them, which numpy's dot does only for arrays stored row by row
    state_0 = tuple(np.ascontiguousarray(s, dtype) for s in state_0)
    weights = tuple(w.astype(dtype, copy=False) for w in weights)
    return spec, weights, given_shapes, X, state_0, options


def _work(spec, X, state_0):
    """``Cell.step_work`` at the sizes of ``X`` (T, D, B) and the state (H, B)."""
    (_, D, B), H = X.shape, state_0[0].shape[0]
    return spec.step_work(D, H, B)


def forward(cell, weights, X, h_0, activation=None):
    """Run a cell over a whole sequence and keep a cache for ``backward``.

    Parameters
    ----------
    cell : {"rnn", "gru", "mgu", "lstm", "mingru", "minlstm"}
    weights : tuple
        In the lectures' order: RNN ``(W_h, b_h)`` (or the lecture's 6-tuple, of which it uses
        the first weight and the first bias), GRU ``(W_u, W_r, W_c, b_u, b_r, b_c)``, MGU
        ``(W_f, W_h, b_f, b_h)``, LSTM ``(W_i, W_f, W_o, W_c, b_i, b_f, b_o, b_c)``:
        matrices (H, H + D), biases (H, 1). minGRU ``(W_z, W_h, b_z, b_h)``, minLSTM
        ``(W_f, W_i, W_h, b_f, b_i, b_h)``: matrices (H, D), acting on ``x`` alone, so these
        two run in parallel mode (one product for every step, then
        ``rnnlib.linear_recurrence``), not step by step.
    X : ndarray, shape (T, D, B)
        The input sequence, time first, batch in the columns.
    h_0 : ndarray, shape (H, B), or the pair (h_0, c_0) for the LSTM
        The initial state.
    activation : {"sigmoid", "tanh"}, optional
        The vanilla RNN's nonlinearity, the lectures' sigmoid by default (the other cells have
        none and ignore it).

    Returns
    -------
    hs : ndarray, shape (T, H, B)
        ``hs[t]`` is the hidden state after reading ``X[t]``; equal (to rounding) to
        ``np.stack(scan(step, X, weights, h_0)[0])``.
    cache : Cache
        Everything ``backward`` needs; ``cache.final_state`` is the state after the last step
        (for the LSTM ``(h_T, c_T)``), from which a next chunk of the sequence can go on.

    The computation runs in the floating dtype that the inputs share (float64 unless every
    input is float32).
    """
    spec, weights, given_shapes, X, state_0, options = _prepare(cell, weights, X, h_0, activation)
    with limited(_work(spec, X, state_0)):
        hs, saved = spec.forward_loop(weights, X, state_0, **options)
    return hs, Cache(spec, weights, given_shapes, X, state_0, hs, saved, options)


def infer(cell, weights, X, h_0, return_sequence=False, chunk=64, activation=None):
    """Run a cell over a sequence for inference: no cache, memory independent of ``T``.

    ``forward`` keeps the gate activations of every step for ``backward`` (for the GRU three
    (T, H, B) arrays besides the states). Inference needs none of it: this runs the same loop
    ``chunk`` time steps at a time, projecting only those steps' inputs in one product, and
    keeps only the last state (or, with ``return_sequence``, the states). The numbers are those
    of ``forward`` (the same code runs on each chunk).

    Parameters
    ----------
    cell, weights, X, h_0, activation
        As for ``forward``: ``X`` is (T, D, B), ``h_0`` is (H, B) (the LSTM: ``(h_0, c_0)``).
    return_sequence : bool
        Return every hidden state ``hs`` (T, H, B) instead of only the last state.
    chunk : int
        Time steps per input projection; memory of the working buffers is O(chunk * H * B).

    Returns
    -------
    ndarray or tuple
        The last state (``h_T`` of shape (H, B); for the LSTM the pair ``(h_T, c_T)``), or
        ``hs`` of shape (T, H, B) with ``return_sequence``.
    """
    if not (isinstance(chunk, (int, np.integer)) and chunk >= 1):
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    spec, weights, _, X, state, options = _prepare(cell, weights, X, h_0, activation)
    hs = np.empty((X.shape[0], *state[0].shape), X.dtype) if return_sequence else None
    with limited(_work(spec, X, state)):
        for start in range(0, X.shape[0], chunk):
            part = X[start:start + chunk]
            hs_part, saved = spec.forward_loop(weights, part, state, **options)
            if return_sequence:
                hs[start:start + len(part)] = hs_part
            state = spec.final_state(hs_part, saved)
    return hs if return_sequence else spec.pack_state(state)


def backward(dhs, cache, dstate_T=None):
    """Backpropagation through time.

    Parameters
    ----------
    dhs : ndarray, shape (T, H, B)
        Upstream gradient of the loss with respect to every hidden state ``hs[t]`` (zeros
        where the loss does not read a state directly, e.g. all but the last for a loss on
        ``h_T`` alone).
    cache : Cache
        From ``forward``.
    dstate_T : optional, shaped like the state: (H, B), or the LSTM's pair ``(dh_T, dc_T)``
        Upstream gradient of the loss with respect to the final state, beyond what ``dhs``
        gives: what a later step (not in this sequence) sends back. For the LSTM it is the
        only way a gradient reaches ``c_T``. Default: none.

    Returns
    -------
    dweights : tuple
        Gradients in the same order and shapes as the weights given to ``forward`` (for the
        RNN with the lecture's 6-tuple, a 6-tuple whose unused entries are zero).
    dX : ndarray, shape (T, D, B)
    dh_0 : ndarray, shape (H, B), or for the LSTM the pair ``(dh_0, dc_0)``
        The gradient with respect to the initial state, shaped like it.
    """
    if not isinstance(cache, Cache):
        raise ValueError(f"cache must be the Cache returned by rnnlib.forward; got {type(cache).__name__}")
    dhs = as_float_array(dhs, "dhs", 3, "(T, H, B)")
    if dhs.shape != cache.hs.shape:
        raise ValueError(f"dhs has shape {dhs.shape}, expected {cache.hs.shape} = (T, H, B), the shape of hs")
    check_finite(dhs, "dhs")
    dhs = dhs.astype(cache.hs.dtype, copy=False)
    spec = cache.cell
    carried = ()
    if dstate_T is not None:
        parts = spec.check_state(dstate_T, suffix="_T")
        parts = tuple(d.astype(dhs.dtype, order="C") for d in parts)   # copies: the loops write into them
        if parts[0].shape != dhs.shape[1:]:
            raise ValueError(f"dh_T has shape {parts[0].shape}, expected {dhs.shape[1:]} = (H, B)")
        dhs = dhs.copy()
        dhs[-1] += parts[0]                   # a gradient on h_T is a gradient on hs[-1]
        carried = parts[1:]                   # the LSTM's dc_T starts its carried dc
    with limited(_work(spec, cache.X, cache.state_0)):
        dA, hidden_gates, dstate_0 = spec.backward_loop(dhs, cache, *carried)
        dweights, dX = spec.gradients(cache, dA, hidden_gates)
    if cache.given_shapes is not None:            # zeros for the items the cell does not use
        used = spec.also_accepts[len(cache.given_shapes)][1]
        dweights = tuple(dweights[used.index(i)] if i in used else np.zeros(shape, dX.dtype)
                         for i, shape in enumerate(cache.given_shapes))
    return dweights, dX, spec.pack_state(dstate_0)


def weight_names(cell):
    """Names of a cell's weights in the lectures' order, e.g. ``("W_f", "W_h", "b_f", "b_h")``."""
    return get_cell(cell).weight_names
