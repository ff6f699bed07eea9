"""``Cell``: everything rnnlib knows about one recurrent cell, in one place.

Each cell module (``rnn``, ``gru``, ``mgu``, ``lstm``) ends with one ``Cell(...)`` that names
its weights, its state and the activations its fast forward keeps, and hands over its three
functions: the readable step, the fast forward loop and the fast backward loop. The rest of
rnnlib (``forward``/``backward``/``infer``, initialisation, training, interop), the grader, the
tests and the benchmarks read cells from ``rnnlib.cells.CELLS`` and never name one in code.

The weight layout every cell shares: ``G`` matrices, each (H, H + D) acting on ``[h; x]``
(hidden state first), then ``G`` biases (H, 1), in the same gate order. ``G`` counts the gates
and the candidate (RNN 1, MGU 2, GRU 3, LSTM 4); a forward step costs ``2 B G H (H + D)`` flops
in its matrix products.
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .._checks import as_float_array, check_finite

__all__ = ["Cell"]


@dataclass(frozen=True)
class Cell:
    """A recurrent cell, described once.

    Attributes
    ----------
    name : str
        The name the public functions take, e.g. ``"gru"``.
    title : str
        How the book writes it, e.g. ``"GRU"``.
    weight_names : tuple of str
        The weight tuple in the lectures' order: ``G`` matrices, then ``G`` biases.
    state_names : tuple of str
        What the step carries: ``("h",)`` (the state is an (H, B) array) or ``("h", "c")``
        (the state is a pair of (H, B) arrays).
    saved_names : tuple of str
        The activations ``forward_loop`` keeps for ``backward_loop``, each (T, H, B).
    step : callable
        ``step([x, state], weights) -> (y, state_next)``: the readable reference.
    forward_loop : callable
        ``forward_loop(weights, X, state_0, activation) -> (hs, saved)`` on checked arrays
        of one dtype; ``hs`` is (T, H, B), ``saved`` a dict over ``saved_names``.
    backward_loop : callable
        ``backward_loop(dhs, cache, *dstate_T_rest) -> (dA, hidden_gates, dstate_0)``, where
        ``dstate_T_rest`` are the upstream gradients of the state's parts after ``h`` (the
        LSTM's ``dc_T``), if any: ``dA`` (T, G H, B)
        holds the gradients of the pre-activations, gate by gate in the weights' order;
        ``hidden_gates[k]`` says what matrix ``k`` read on the hidden side at each step:
        ``None`` for ``h_{t-1}``, or a saved (T, H, B) gate ``g`` for ``g_t * h_{t-1}`` (the
        GRU's candidate reads ``r * h``, the MGU's ``f * h``); ``dstate_0`` is shaped like the
        state.
    bias_init : dict of str -> float
        Biases that do not start at zero (the LSTM's forget gate starts at 1).
    also_accepts : dict of int -> (str, tuple of int)
        Other tuple lengths the cell reads: what the tuple is called, and which of its items
        the cell uses (the vanilla RNN reads ``w1, b1`` of the lecture's 6-tuple).
    """

    name: str
    title: str
    weight_names: tuple
    state_names: tuple
    saved_names: tuple
    step: Callable
    forward_loop: Callable
    backward_loop: Callable
    bias_init: dict = field(default_factory=dict)
    also_accepts: dict = field(default_factory=dict)

    @property
    def n_matrices(self):
        """``G``: the number of weight matrices (gates and candidate), e.g. 3 for the GRU."""
        return len(self.weight_names) // 2

    def parameter_count(self, D, H):
        """Number of trainable numbers: ``G (H (H + D) + H)``."""
        return self.n_matrices * (H * (H + D) + H)

    # ------------------------------------------------------------------ checking at the boundary

    def check_weights(self, weights, H, D):
        """Check a weight tuple against hidden size ``H`` and input size ``D``.

        Returns the weights as a tuple of float arrays, in ``weight_names`` order (for a tuple of
        another accepted length, only the items the cell uses). Raises ``ValueError`` naming the
        expected and the actual shape or length.
        """
        n = len(weights) if isinstance(weights, (tuple, list)) else None
        if n in self.also_accepts:
            weights = tuple(weights[i] for i in self.also_accepts[n][1])
        elif n != len(self.weight_names):
            got = f"{n} items" if n is not None else f"a {type(weights).__name__}"
            raise ValueError(f"{self.name} weights must be {self._tuple_text()}; got {got}")
        G = self.n_matrices
        out = []
        for i, (name, w) in enumerate(zip(self.weight_names, weights)):
            if i < G:
                arr = as_float_array(w, name, 2, "(H, H + D)")
                if arr.shape != (H, H + D):
                    raise ValueError(f"{name} has shape {arr.shape}, expected ({H}, {H + D}) = (H, H + D) "
                                     f"with H = {H}, D = {D}")
            else:
                arr = as_float_array(w, name, 2, "(H, 1)")
                if arr.shape != (H, 1):
                    raise ValueError(f"{name} has shape {arr.shape}, expected ({H}, 1) = (H, 1) with H = {H}")
            check_finite(arr, name)
            out.append(arr)
        return tuple(out)

    def _tuple_text(self):
        if not self.also_accepts:
            return f"the {len(self.weight_names)}-tuple ({', '.join(self.weight_names)})"
        others = " or ".join(what for what, _ in self.also_accepts.values())
        return f"({', '.join(self.weight_names)}) or {others}"

    def check_step(self, inputs, weights):
        """Check a step's ``[x, state]`` and weights.

        Returns ``x`` (D, B), the state as a tuple of (H, B) arrays, and the weights.
        """
        state = ", ".join(self.state_names)
        state = state if len(self.state_names) == 1 else f"({state})"
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            raise ValueError(f"a step function takes inputs [x, {state}]: x of shape (D, B), "
                             + " and ".join(f"{n} of shape (H, B)" for n in self.state_names))
        x = as_float_array(inputs[0], "x", 2, "(D, B)")
        parts = self.check_state(inputs[1])
        if x.shape[1] != parts[0].shape[1]:
            raise ValueError(f"x has shape {x.shape} and h has shape {parts[0].shape}: "
                             "their batch sizes B (second axis) differ")
        check_finite(x, "x")
        return x, parts, self.check_weights(weights, parts[0].shape[0], x.shape[0])

    def check_sequence(self, X, state_0):
        """Check a sequence ``X`` (T, D, B) and an initial state; returns ``X`` and the state's parts."""
        X = as_float_array(X, "X", 3, "(T, D, B)")
        parts = self.check_state(state_0, suffix="_0")
        if X.shape[0] == 0:
            raise ValueError("X has T = 0 time steps; expected at least one")
        if X.shape[2] != parts[0].shape[1]:
            raise ValueError(f"X has shape {X.shape} = (T, D, B) and h_0 has shape {parts[0].shape} = (H, B): "
                             "their batch sizes B differ")
        check_finite(X, "X")
        return X, parts

    def check_state(self, state, suffix=""):
        """Check a state (``h``, or the pair ``(h, c)``) and return it as a tuple of float arrays.

        ``suffix`` names the state in messages (``"_0"`` gives ``h_0``, ``c_0``). Every part
        must be (H, B), all of one shape.
        """
        names = tuple(n + suffix for n in self.state_names)
        if len(names) == 1:
            if isinstance(state, tuple):
                raise ValueError(f"the {self.name} state is one array {names[0]} of shape (H, B); "
                                 f"got a tuple of {len(state)} items")
            parts = (state,)
        else:
            pair = f"the pair ({', '.join(names)}), each of shape (H, B)"
            if not isinstance(state, (tuple, list)):
                shape = getattr(state, "shape", None)
                what = f"one array of shape {shape}" if shape is not None else f"a {type(state).__name__}"
                raise ValueError(f"the {self.name} state is {pair}; got {what} (is {names[-1]} missing?)")
            if len(state) != len(names):
                raise ValueError(f"the {self.name} state is {pair}; got {len(state)} items")
            parts = tuple(state)
        arrays = tuple(as_float_array(a, n, 2, "(H, B)") for a, n in zip(parts, names))
        for a, n in zip(arrays[1:], names[1:]):
            if a.shape != arrays[0].shape:
                raise ValueError(f"{n} has shape {a.shape}, expected {arrays[0].shape} = (H, B), "
                                 f"the shape of {names[0]}")
        for a, n in zip(arrays, names):
            check_finite(a, n)
        return arrays

    def pack_state(self, parts):
        """A tuple of state arrays as the cell carries it: a bare ``h``, or the pair ``(h, c)``."""
        return parts[0] if len(self.state_names) == 1 else tuple(parts)

    def final_state(self, hs, saved):
        """The state after the last step, as a tuple of copies: ``hs[-1]`` and, for a state
        part other than ``h``, its last saved value (the LSTM's ``saved["c"][-1]``)."""
        return tuple((hs if n == "h" else saved[n])[-1].copy() for n in self.state_names)

    def initial_biases(self, H, dtype=np.float64):
        """The biases at initialisation: zeros, except those named in ``bias_init``."""
        return tuple(np.full((H, 1), self.bias_init.get(name, 0.0), dtype)
                     for name in self.weight_names[self.n_matrices:])
