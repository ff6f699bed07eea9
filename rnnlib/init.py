"""Seeded initialisation of the cells' weights and of the read-out.

Every function takes a ``seed`` and draws from its own ``numpy.random.default_rng(seed)``,
so the same seed gives the same weights and numpy's global state is never touched.

Schemes for a weight ``W = [W_hid | W_in]`` of shape (H, H + D):

- ``"orthogonal"`` (default): ``W_in`` Xavier/Glorot-uniform, ``W_hid`` a random orthogonal
  matrix. An orthogonal recurrent matrix keeps the norm of a vector it multiplies, which
  helps gradients survive many time steps (Saxe et al. 2014; Le et al. 2015).
- ``"xavier"``: the whole matrix Glorot-uniform, ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``.
- ``"normal"``: standard normal entries, as the lectures draw them (fine for a forward pass,
  poor for training: the pre-activations are large and the gates saturate).

Biases start at zero, except where a cell says otherwise (``Cell.bias_init``): the LSTM's
forget-gate bias starts at 1 (Gers et al. 2000; Jozefowicz et al. 2015), so that at first the
cell keeps its state (f = sigmoid(1) = 0.73) and gradients flow back along the cell state
until the network has learnt what to forget.
"""

import numpy as np

from .cells import get as get_cell

__all__ = ["init_weights", "init_readout", "orthogonal"]


def orthogonal(n, rng):
    """A random (n, n) orthogonal matrix (QR of a Gaussian matrix, signs fixed so that the
    distribution is uniform over the orthogonal group)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _glorot(shape, rng):
    a = np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-a, a, size=shape)


def init_weights(cell, D, H, seed=0, scheme="orthogonal", dtype=np.float64):
    """Initial weights of a cell, in the lectures' tuple order.

    Parameters
    ----------
    cell : {"rnn", "gru", "mgu", "lstm"}
    D, H : int
        Input and hidden sizes.
    seed : int
    scheme : {"orthogonal", "xavier", "normal"}
    dtype : numpy dtype

    Returns
    -------
    tuple
        RNN ``(W_h, b_h)``, GRU ``(W_u, W_r, W_c, b_u, b_r, b_c)``, MGU ``(W_f, W_h, b_f, b_h)``,
        LSTM ``(W_i, W_f, W_o, W_c, b_i, b_f, b_o, b_c)``; matrices (H, H + D), biases (H, 1):
        zeros, but the LSTM's ``b_f`` is 1.
    """
    spec = get_cell(cell)
    if scheme not in ("orthogonal", "xavier", "normal"):
        raise ValueError(f"scheme must be 'orthogonal', 'xavier' or 'normal'; got {scheme!r}")
    for name, v in (("D", D), ("H", H)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer; got {v!r}")
    rng = np.random.default_rng(seed)
    mats = []
    for _ in range(spec.n_matrices):
        if scheme == "normal":
            W = rng.standard_normal((H, H + D))
        elif scheme == "xavier":
            W = _glorot((H, H + D), rng)
        else:
            W = np.concatenate([orthogonal(H, rng), _glorot((H, D), rng)], axis=1)
        mats.append(W.astype(dtype))
    return tuple(mats) + spec.initial_biases(H, dtype)


def init_readout(H, O, seed=0, dtype=np.float64):
    """Read-out weights ``(W_y, b_y)``: ``W_y`` (O, H) Glorot-uniform, ``b_y`` (O, 1) zeros."""
    rng = np.random.default_rng(seed)
    return _glorot((O, H), rng).astype(dtype), np.zeros((O, 1), dtype)
