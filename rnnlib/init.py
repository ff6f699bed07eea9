"""Seeded initialisation of the cells' weights and of the read-out.

Every function takes a ``seed`` and draws from its own ``numpy.random.default_rng(seed)``,
so the same seed gives the same weights and numpy's global state is never touched.

The schemes, and each weight's shape, are the cell's own facts (``Cell.layout``; see
``rnnlib.cells.layout``): ``"orthogonal"`` (default) draws the input part of a matrix
Xavier/Glorot-uniform and its hidden part (H, H) a random orthogonal matrix; ``"xavier"``
draws the whole matrix Glorot-uniform; ``"normal"`` draws standard normal entries, as the
lectures do (fine for a forward pass, poor for training: the pre-activations are large and the
gates saturate).

Biases start at zero, except where a cell says otherwise: the LSTM's forget-gate bias starts
at 1 (Gers et al. 2000; Jozefowicz et al. 2015), so that at first the cell keeps its state
(f = sigmoid(1) = 0.73) and gradients flow back along the cell state until the network has
learnt what to forget.
"""

import numpy as np

from .cells import get as get_cell
from .cells.layout import SCHEMES, glorot, orthogonal

__all__ = ["init_weights", "init_readout", "orthogonal"]


def init_weights(cell, D, H, seed=0, scheme="orthogonal", dtype=np.float64):
    """Initial weights of a cell, in the lectures' tuple order.

    Parameters
    ----------
    cell : str or Cell
        A name in ``rnnlib.CELLS``.
    D, H : int
        Input and hidden sizes.
    seed : int
    scheme : {"orthogonal", "xavier", "normal"}
    dtype : numpy dtype

    Returns
    -------
    tuple
        In the cell's order and shapes (``Cell.layout``): RNN ``(W_h, b_h)``, GRU
        ``(W_u, W_r, W_c, b_u, b_r, b_c)``, MGU ``(W_f, W_h, b_f, b_h)``, LSTM
        ``(W_i, W_f, W_o, W_c, b_i, b_f, b_o, b_c)``; matrices (H, H + D), biases (H, 1): zeros,
        but the LSTM's ``b_f`` is 1. The matrices are drawn in order from one generator.
    """
    spec = get_cell(cell)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be {', '.join(map(repr, SCHEMES[:-1]))} or {SCHEMES[-1]!r}; got {scheme!r}")
    for name, v in (("D", D), ("H", H)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer; got {v!r}")
    return spec.initial_weights(D, H, np.random.default_rng(seed), scheme, dtype)


def init_readout(H, O, seed=0, dtype=np.float64):
    """Read-out weights ``(W_y, b_y)``: ``W_y`` (O, H) Glorot-uniform, ``b_y`` (O, 1) zeros."""
    rng = np.random.default_rng(seed)
    return glorot((O, H), rng).astype(dtype), np.zeros((O, 1), dtype)
