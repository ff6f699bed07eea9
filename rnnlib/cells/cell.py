"""``Cell``: everything rnnlib knows about one recurrent cell, in one place.

Each cell module (``rnn``, ``gru``, ``mgu``, ``lstm``, ``mingru``, ``minlstm``) ends with one ``Cell(...)`` that lays out
its weights, names its state and the activations its fast forward keeps, and hands over its
functions: the readable step, the fast forward and backward loops, and the extras (the lectures'
per-step code it is timed against, a PyTorch twin, a diagram). The rest of rnnlib
(``forward``/``backward``/``infer``, initialisation, training, interop, timing), the grader,
the tests and the benchmarks read cells from ``rnnlib.cells.CELLS`` and never name one in code.

A cell's weights are its own fact (``layout``, a tuple of ``rnnlib.cells.layout.Weight``): the
four cells here have ``G`` matrices (H, H + D) acting on ``[h; x]`` then ``G`` biases (H, 1),
``G`` counting the gates and the candidate (RNN 1, MGU 2, GRU 3, LSTM 4); minGRU's matrices are
(H, D), acting on ``x`` alone.
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .._checks import as_float_array, check_finite
from .gradients import weight_gradients
from .layout import InputMatrix, Matrix

__all__ = ["Cell", "TorchTwin"]


@dataclass(frozen=True)
class TorchTwin:
    """A cell written in PyTorch, for the tests and the benchmarks. rnnlib never imports torch:
    each function takes the module as its first argument.

    Attributes
    ----------
    step : callable
        ``step(torch, [x, state], weights, **options) -> (y, state_next)``: the step's equations
        in torch operations on tensors, in the course's column convention (``x`` (D, B), ``h``
        (H, B)), as the numpy step; differentiated by autograd, it is an independent check of
        the backward pass.
    layer : callable
        ``layer(torch, weights, **options) -> module``: PyTorch's fastest counterpart over a
        sequence, in PyTorch's layout: ``module(x, state) -> (hs, state_T)`` with ``x``
        (T, B, D), ``hs`` (T, B, H) and a state of (1, B, H) tensors (the LSTM's a pair), as
        ``nn.GRU`` takes it.
    layer_name : str
        How reports name the layer: ``"nn.LSTM"``, or ``"MGU (autograd)"`` for a cell PyTorch
        lacks, written in its operations.
    exact : bool
        Whether the layer computes this cell with these weights (``nn.LSTM``), or only a cell
        of the same cost (``nn.GRU`` applies its reset gate after the product; compare them on
        time, not on numbers).
    """

    step: Callable
    layer: Callable
    layer_name: str
    exact: bool = True


@dataclass(frozen=True)
class Cell:
    """A recurrent cell, described once.

    Attributes
    ----------
    name : str
        The name the public functions take, e.g. ``"gru"``.
    title : str
        How the book writes it, e.g. ``"GRU"``.
    layout : tuple of rnnlib.cells.layout.Weight
        The weights in the order of the tuple the cell takes (the lectures' order), each with
        its shape as a function of (D, H) and its initialisation.
    state_names : tuple of str
        What the step carries: ``("h",)`` (the state is an (H, B) array) or ``("h", "c")``
        (the state is a pair of (H, B) arrays).
    saved_names : tuple of str
        The activations ``forward_loop`` keeps for ``backward_loop``, each (T, H, B).
    step : callable
        ``step([x, state], weights, **options) -> (y, state_next)``: the readable reference.
    forward_loop : callable
        ``forward_loop(weights, X, state_0, **options) -> (hs, saved)`` on checked arrays of
        one dtype; ``state_0`` the state's parts; ``hs`` is (T, H, B), ``saved`` a dict over
        ``saved_names``.
    backward_loop : callable
        ``backward_loop(dhs, cache, *dstate_T_rest) -> (dA, hidden_gates, dstate_0)``, where
        ``dstate_T_rest`` are the upstream gradients of the state's parts after ``h`` (the
        LSTM's ``dc_T``), if any: ``dA`` (T, G H, B) holds the gradients of the
        pre-activations, matrix by matrix in the weights' order; ``hidden_gates[k]`` says what
        matrix ``k`` read on the hidden side at each step: ``None`` for ``h_{t-1}``, or a saved
        (T, H, B) gate ``g`` for ``g_t * h_{t-1}`` (the GRU's candidate reads ``r * h``, the
        MGU's ``f * h``); ``dstate_0`` is a tuple of the state's parts.
    gradients : callable
        ``gradients(cache, dA, hidden_gates) -> (dweights, dX)``: the sums over the steps that
        turn ``dA`` into the weights' and the inputs' gradients. The default,
        ``rnnlib.cells.gradients.weight_gradients``, fits matrices followed by their biases.
    options : dict of str -> tuple
        Keyword options of the step and the loops, with their allowed values, the default
        first: the vanilla RNN's ``{"activation": ("sigmoid", "tanh")}``. The other cells have
        none.
    step_cache : tuple of str, optional
        What the course's notebooks keep from one step for its backward pass, in order: ``x``,
        the state's parts as the step read them, and activations, where ``<part>_next`` is the
        state's part after the step. Default: ``x``, the state's parts, then ``saved_names``.
    also_accepts : dict of int -> (str, tuple of int)
        Other tuple lengths the cell reads: what the tuple is called, and which of its items
        the cell uses (the vanilla RNN reads ``w1, b1`` of the lecture's 6-tuple).
    lecture_step : callable, optional
        The lectures' per-step code for this cell, as they wrote it (a concatenation and an
        ``np.dot`` per gate, no checks): what the cost chapter times rnnlib against.
    torch_twin : TorchTwin, optional
        The cell in PyTorch. Without one, the comparisons with PyTorch report "no twin".
    diagram : dict, optional
        The book's schematic of a step (``rnnlib.plotting.draw_cell``).
    """

    name: str
    title: str
    layout: tuple
    state_names: tuple
    saved_names: tuple
    step: Callable
    forward_loop: Callable
    backward_loop: Callable
    gradients: Callable = weight_gradients
    options: dict = field(default_factory=dict)
    step_cache: tuple = None
    also_accepts: dict = field(default_factory=dict)
    lecture_step: Callable = None
    torch_twin: TorchTwin = None
    diagram: dict = None

    @property
    def weight_names(self):
        """The weights' names in the tuple's order, e.g. ``("W_f", "W_h", "b_f", "b_h")``."""
        return tuple(w.name for w in self.layout)

    @property
    def matrices(self):
        """The weights that are matrices (``Matrix`` or ``InputMatrix``), in order."""
        return tuple(w for w in self.layout if isinstance(w, (Matrix, InputMatrix)))

    @property
    def reads_state(self):
        """Whether a gate reads the state (a ``Matrix`` on ``[h; x]``), so that each step must
        wait for the last: the RNN, GRU, MGU and LSTM. minGRU's and minLSTM's gates read ``x``
        alone, and their whole sequence can be computed at once (``rnnlib.linear_recurrence``)."""
        return any(isinstance(w, Matrix) for w in self.layout)

    @property
    def n_matrices(self):
        """The number of weight matrices (gates and candidate), e.g. 3 for the GRU."""
        return len(self.matrices)

    @property
    def cache_names(self):
        """``step_cache``, or its default: ``("x", *state_names, *saved_names)``."""
        return self.step_cache or ("x",) + self.state_names + self.saved_names

    def shapes(self, D, H):
        """Every weight's shape for input size ``D`` and hidden size ``H``, in order."""
        return tuple(w.shape(D, H) for w in self.layout)

    def parameter_count(self, D, H):
        """Number of trainable numbers, e.g. ``G (H (H + D) + H)`` for ``G`` matrices (H, H + D)
        and their biases."""
        return sum(int(np.prod(s)) for s in self.shapes(D, H))

    def step_work(self, D, H, B):
        """Multiply-adds of one step's products over ``B`` columns, about ``B`` per trainable
        number: what decides how many BLAS threads the products get (``rnnlib.threads``)."""
        return self.parameter_count(D, H) * B

    def initial_weights(self, D, H, rng, scheme="orthogonal", dtype=np.float64):
        """Every weight's initial value, drawn from ``rng`` in the tuple's order (``rnnlib.init_weights``)."""
        return tuple(w.initial(rng, D, H, scheme).astype(dtype) for w in self.layout)

    def loop_options(self, **given):
        """The options for the step and the loops: each of ``options`` from ``given``, checked,
        or its default when ``given`` has None for it. Options of other cells are ignored (the
        gated cells have no ``activation``)."""
        out = {}
        for name, allowed in self.options.items():
            value = given.get(name)
            value = allowed[0] if value is None else value
            if value not in allowed:
                raise ValueError(f"{name} must be {' or '.join(map(repr, allowed))}; got {value!r}")
            out[name] = value
        return out

    # ------------------------------------------------------------------ checking at the boundary

    def sizes(self, weights):
        """``(D, H)`` read off a weight tuple: ``H`` from the rows of the first weight whose shape
        tells ``D`` (the first matrix), ``D`` from its columns. ``ValueError`` if it cannot."""
        k, w = next((k, w) for k, w in enumerate(self.layout) if isinstance(w, (Matrix, InputMatrix)))
        given = weights[k] if isinstance(weights, (tuple, list)) and len(weights) > k else None
        shape = np.shape(given) if given is not None else None
        if shape is None or len(shape) != 2 or w.input_size(shape) < 1:
            raise ValueError(f"{self.name} weights must hold {w.name} of shape {w.shape_text}; got {shape}")
        return w.input_size(shape), shape[0]

    def check_weights(self, weights, H, D):
        """Check a weight tuple against hidden size ``H`` and input size ``D``.

        Returns the weights as a tuple of float arrays, in ``weight_names`` order (for a tuple of
        another accepted length, only the items the cell uses). Raises ``ValueError`` naming the
        expected and the actual shape or length.
        """
        n = len(weights) if isinstance(weights, (tuple, list)) else None
        if n in self.also_accepts:
            weights = tuple(weights[i] for i in self.also_accepts[n][1])
        elif n != len(self.layout):
            got = f"{n} items" if n is not None else f"a {type(weights).__name__}"
            raise ValueError(f"{self.name} weights must be {self._tuple_text()}; got {got}")
        out = []
        for spec, w in zip(self.layout, weights):
            arr = as_float_array(w, spec.name, 2, spec.shape_text)
            expected = spec.shape(D, H)
            if arr.shape != expected:
                sizes = f"H = {H}, D = {D}" if "D" in spec.shape_text else f"H = {H}"
                raise ValueError(f"{spec.name} has shape {arr.shape}, expected {expected} = {spec.shape_text} "
                                 f"with {sizes}")
            check_finite(arr, spec.name)
            out.append(arr)
        return tuple(out)

    def _tuple_text(self):
        if not self.also_accepts:
            return f"the {len(self.layout)}-tuple ({', '.join(self.weight_names)})"
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
        else:
            pair = f"the pair ({', '.join(names)}), each of shape (H, B)"
            if not isinstance(state, (tuple, list)):
                shape = getattr(state, "shape", None)
                what = f"one array of shape {shape}" if shape is not None else f"a {type(state).__name__}"
                raise ValueError(f"the {self.name} state is {pair}; got {what} (is {names[-1]} missing?)")
            if len(state) != len(names):
                raise ValueError(f"the {self.name} state is {pair}; got {len(state)} items")
        arrays = tuple(as_float_array(a, n, 2, "(H, B)") for a, n in zip(self.unpack_state(state), names))
        for a, n in zip(arrays[1:], names[1:]):
            if a.shape != arrays[0].shape:
                raise ValueError(f"{n} has shape {a.shape}, expected {arrays[0].shape} = (H, B), "
                                 f"the shape of {names[0]}")
        for a, n in zip(arrays, names):
            check_finite(a, n)
        return arrays

    # ------------------------------------------------------------------ the state, packed and in parts

    def pack_state(self, parts):
        """A sequence of state arrays as the cell carries its state: a bare ``h``, or the pair ``(h, c)``."""
        return parts[0] if len(self.state_names) == 1 else tuple(parts)

    def unpack_state(self, state):
        """The state as a tuple of its parts: ``(h,)``, or ``(h, c)``; the inverse of ``pack_state``."""
        return (state,) if len(self.state_names) == 1 else tuple(state)

    def zero_state(self, H, B, dtype=np.float64):
        """The all-zero state for ``B`` columns, packed: ``h`` (H, B), or the pair ``(h, c)``."""
        return self.pack_state([np.zeros((H, B), dtype) for _ in self.state_names])

    def state_sequence(self, hs, saved):
        """Each part of the state after every step, a tuple of (T, H, B) arrays: ``hs`` and, for
        a part other than ``h``, its saved values (the LSTM's ``saved["c"]``)."""
        return tuple(hs if n == "h" else saved[n] for n in self.state_names)

    def final_state(self, hs, saved):
        """The state after the last step, as a tuple of copies of ``state_sequence``'s last steps."""
        return tuple(s[-1].copy() for s in self.state_sequence(hs, saved))

