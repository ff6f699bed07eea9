"""The lectures' example, reproducible: seed-10 weights, inputs and initial state.

The lecture notebook draws its arrays from numpy's *legacy* global generator after
``numpy.random.seed(10)``, in this order: three weight matrices (H, H + D), three biases
(H, 1), then the sequence X (T, D, 1). ``lecture_setup`` makes the same draws from a private
``numpy.random.RandomState(seed)``, which produces the identical stream without touching
numpy's global state. With these arrays, ``gru_step([X[1], h_0], weights)`` gives the
lecture's 16 published numbers (``LECTURE_GRU_X1``).
"""

import numpy as np

__all__ = ["lecture_setup", "LECTURE_GRU_X1"]

#: The lecture's published output of ``forward_GRU([X[1], h_0], weights)[0]`` (16 x 1),
#: copied from the lecture notebook's printed output (9 significant digits).
LECTURE_GRU_X1 = np.array([
    9.77779014e-01, -9.97986240e-01, -5.19958083e-01, -9.99999886e-01,
    -9.99707004e-01, -3.02197037e-04, -9.58733503e-01, 2.10804828e-02,
    9.77365398e-05, 9.99833090e-01, 1.63200940e-08, 8.51874303e-01,
    5.21399924e-02, 2.15495959e-02, 9.99878828e-01, 9.77165472e-01,
]).reshape(16, 1)


def lecture_setup(seed=10, T=256, D=128, H=16):
    """The lecture's weights, sequence and initial state.

    Parameters
    ----------
    seed : int
        Seed of the legacy generator (the lecture uses 10).
    T, D, H : int
        Sequence length, input (embedding) size and hidden size; the lecture's are
        256, 128 and 16.

    Returns
    -------
    weights : tuple of 6 ndarrays
        ``(w1, w2, w3, b1, b2, b3)``: matrices (H, H + D), biases (H, 1), float64. The GRU
        reads them as ``(W_u, W_r, W_c, b_u, b_r, b_c)``; the vanilla RNN uses ``w1, b1``.
    X : ndarray, shape (T, D, 1)
    h_0 : ndarray, shape (H, 1), zeros
    """
    for name, v in (("T", T), ("D", D), ("H", H)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer; got {v!r}")
    rng = np.random.RandomState(seed)
    mats = tuple(rng.standard_normal((H, H + D)) for _ in range(3))
    biases = tuple(rng.standard_normal((H, 1)) for _ in range(3))
    X = rng.standard_normal((T, D, 1))
    return mats + biases, X, np.zeros((H, 1))
