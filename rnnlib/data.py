"""Synthetic sequence tasks, generated in code (no downloads).

Each task is a function ``task(T, B, rng) -> (X, Y)`` with ``X`` of shape (T, D, B). When ``Y``
has shape (O, B) the target belongs to the end of the sequence (read from the last hidden
state); when it has shape (T, O, B) there is a target at every step.
"""

import numpy as np

__all__ = ["adding_problem", "noisy_sine", "TASKS", "ADDING_BASELINE_MSE"]

#: MSE of always predicting 1 on the adding problem: the variance of the sum of two
#: independent U(0, 1) numbers, 1/12 + 1/12 = 1/6.
ADDING_BASELINE_MSE = 1.0 / 6.0


def _check(T, B, min_T=1):
    for name, v, lo in (("T", T, min_T), ("B", B, 1)):
        if not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}; got {v!r}")


def adding_problem(T, B, rng):
    """The adding problem (Hochreiter & Schmidhuber 1997), a test of long-range memory.

    Each input step carries two numbers: a value drawn from U(0, 1), and a marker that is 1 at
    exactly two steps (one in the first half of the sequence, one in the second) and 0
    elsewhere. The target is the sum of the two marked values, given at the end. Predicting
    the mean, 1, scores an MSE of 1/6 (``ADDING_BASELINE_MSE``); doing better requires
    remembering the first marked value across about T/2 steps.

    Parameters
    ----------
    T : int >= 2
    B : int >= 1
    rng : numpy.random.Generator

    Returns
    -------
    X : ndarray, shape (T, 2, B)
        ``X[:, 0]`` the values, ``X[:, 1]`` the markers.
    y : ndarray, shape (1, B)
    """
    _check(T, B, min_T=2)
    values = rng.uniform(0.0, 1.0, size=(T, B))
    half = T // 2
    first = rng.integers(0, half, size=B)
    second = rng.integers(half, T, size=B)
    markers = np.zeros((T, B))
    cols = np.arange(B)
    markers[first, cols] = 1.0
    markers[second, cols] = 1.0
    X = np.stack([values, markers], axis=1)
    y = (values[first, cols] + values[second, cols])[None, :]
    return X, y


def noisy_sine(T, B, rng, noise=0.1):
    """Next-step prediction of sine waves seen through noise.

    Each sequence is ``sin(w t + phase)`` with a random frequency ``w`` in [0.1, 0.5] and
    phase; the input at step t is the noisy value, the target is the clean value at t + 1.

    Parameters
    ----------
    T, B : int
    rng : numpy.random.Generator
    noise : float
        Standard deviation of the Gaussian noise added to the inputs.

    Returns
    -------
    X : ndarray, shape (T, 1, B)
    Y : ndarray, shape (T, 1, B)
    """
    _check(T, B)
    w = rng.uniform(0.1, 0.5, size=B)
    phase = rng.uniform(0, 2 * np.pi, size=B)
    t = np.arange(T + 1)[:, None]
    clean = np.sin(w * t + phase)                       # (T + 1, B)
    X = clean[:-1] + noise * rng.standard_normal((T, B))
    return X[:, None, :], clean[1:, None, :]


TASKS = {"adding": adding_problem, "sine": noisy_sine}
