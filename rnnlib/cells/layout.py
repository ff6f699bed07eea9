"""A cell's weights, each described once: its name, its shape as a function of (D, H), and how
it starts.

A cell lists its weights in the order its tuple carries them (``Cell.layout``). Three kinds
cover the course's cells:

- ``Matrix``: (H, H + D), acting on ``[v; x]``, where ``v`` is the hidden state ``h`` (or a
  gated ``g * h``, as the GRU's candidate reads ``r * h``): the gates of the RNN, GRU, MGU, LSTM;
- ``InputMatrix``: (H, D), acting on ``x`` alone: the gates of minGRU and minLSTM, which do not
  read the state;
- ``Bias``: (H, 1).

Another kind (a peephole vector, say) is a subclass with its own ``shape`` and ``initial``.
Everything outside the cell (initialisation, checking, gradient sums, FLOP counts, interop,
the grader) reads the layout and assumes none.

Initial values (``initial``), by ``scheme``:

- ``"orthogonal"`` (default): the input part Xavier/Glorot-uniform, the hidden part (H, H) a
  random orthogonal matrix, which keeps the norm of the vector it multiplies and so helps
  gradients survive many time steps (Saxe et al. 2014; Le et al. 2015);
- ``"xavier"``: the whole matrix Glorot-uniform, ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``;
- ``"normal"``: standard normal entries, as the lectures draw them;
- a bias starts at its ``value`` whatever the scheme (zero, but the LSTM's forget gate: 1).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["Weight", "Matrix", "InputMatrix", "Bias", "orthogonal", "glorot", "SCHEMES"]

SCHEMES = ("orthogonal", "xavier", "normal")


def orthogonal(n, rng):
    """A random (n, n) orthogonal matrix (QR of a Gaussian matrix, signs fixed so that the
    distribution is uniform over the orthogonal group)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def glorot(shape, rng):
    """Glorot-uniform entries: ``U(-a, a)`` with ``a = sqrt(6 / (rows + columns))``."""
    a = np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-a, a, size=shape)


@dataclass(frozen=True)
class Weight:
    """One weight of a cell. Subclasses say its shape and how it starts."""

    name: str
    #: the shape in the names D and H, for messages and docstrings
    shape_text = "?"

    def shape(self, D, H):
        """The shape for input size ``D`` and hidden size ``H``."""
        raise NotImplementedError

    def initial(self, rng, D, H, scheme):
        """A float64 starting value drawn from ``rng`` (see the module's docstring)."""
        raise NotImplementedError

    def input_size(self, shape):
        """``D`` read off an array of this weight's shape, or None if the shape does not say."""
        return None


@dataclass(frozen=True)
class Matrix(Weight):
    """(H, H + D), acting on ``[v; x]``: columns ``[:H]`` on the hidden side, ``[H:]`` on ``x``."""

    shape_text = "(H, H + D)"

    def shape(self, D, H):
        return (H, H + D)

    def initial(self, rng, D, H, scheme):
        if scheme == "normal":
            return rng.standard_normal((H, H + D))
        if scheme == "xavier":
            return glorot((H, H + D), rng)
        return np.concatenate([orthogonal(H, rng), glorot((H, D), rng)], axis=1)

    def input_size(self, shape):
        return shape[1] - shape[0]


@dataclass(frozen=True)
class InputMatrix(Weight):
    """(H, D), acting on ``x`` alone."""

    shape_text = "(H, D)"

    def shape(self, D, H):
        return (H, D)

    def initial(self, rng, D, H, scheme):
        return rng.standard_normal((H, D)) if scheme == "normal" else glorot((H, D), rng)

    def input_size(self, shape):
        return shape[1]


@dataclass(frozen=True)
class Bias(Weight):
    """(H, 1), starting at ``value``."""

    value: float = 0.0
    shape_text = "(H, 1)"

    def shape(self, D, H):
        return (H, 1)

    def initial(self, rng, D, H, scheme):
        return np.full((H, 1), self.value)
