"""Synthetic sequence tasks, generated in code (no downloads).

Each task of ``TASKS`` is a function ``task(T, B, rng) -> (X, Y)`` with ``X`` of shape
(T, D, B). When ``Y`` has shape (O, B) the target belongs to the end of the sequence (read from
the last hidden state); when it has shape (T, O, B) there is a target at every step.

``selective_copying`` is a task over token ids, shaped for ``rnnlib.lm``: inputs, targets and
a mask, each (T, B).
"""

import numpy as np

__all__ = ["adding_problem", "noisy_sine", "selective_copying", "TASKS", "ADDING_BASELINE_MSE"]

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


def selective_copying(T, B, n_copy, n_symbols, rng):
    """Selective copying (Gu & Dao 2023; Feng et al. 2024, Table 1): remember the few symbols
    scattered among noise, and give them back in order.

    Token ids: ``0`` is noise, ``1 ... n_symbols`` are the symbols to copy, and
    ``n_symbols + 1`` (the marker) asks for the next copied symbol; ``n_symbols + 2`` ids in
    all. Each sequence has a context of ``T - n_copy`` steps, all noise but ``n_copy`` steps at
    random positions (distinct, in any order) that hold random symbols, then ``n_copy``
    markers. At the ``k``-th marker the target is the ``k``-th symbol of the context, in the
    order of its position; only those ``n_copy`` targets count (the mask). The inputs never
    show the answer: unlike a copy task at fixed places, the model must select what to keep
    by its content, wherever it stands.

    Parameters
    ----------
    T : int
        Steps per sequence, the markers included; at least ``2 n_copy``.
    B : int >= 1
        Sequences, side by side in the columns.
    n_copy : int >= 1
        Symbols to copy per sequence.
    n_symbols : int >= 1
        Distinct symbols.
    rng : numpy.random.Generator

    Returns
    -------
    X : int ndarray, shape (T, B)
        The input ids.
    Y : int ndarray, shape (T, B)
        The targets: the symbols in order at the last ``n_copy`` steps, 0 elsewhere.
    mask : ndarray, shape (T, B)
        1.0 at the last ``n_copy`` steps (where the answer is), 0.0 elsewhere.
    """
    _check(T, B)
    for name, v in (("n_copy", n_copy), ("n_symbols", n_symbols)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {v!r}")
    if T < 2 * n_copy:
        raise ValueError(f"T must be at least 2 n_copy = {2 * n_copy} (a context that holds the "
                         f"{n_copy} symbols, then {n_copy} markers); got {T}")
    context = T - n_copy
    # the positions: the n_copy smallest of a random key per context step, sorted (distinct)
    positions = np.sort(np.argsort(rng.random((context, B)), axis=0)[:n_copy], axis=0)
    symbols = rng.integers(1, n_symbols + 1, size=(n_copy, B))
    X = np.zeros((T, B), dtype=np.int64)
    np.put_along_axis(X, positions, symbols, axis=0)
    X[context:] = n_symbols + 1
    Y = np.zeros((T, B), dtype=np.int64)
    Y[context:] = symbols
    mask = np.zeros((T, B))
    mask[context:] = 1.0
    return X, Y, mask


TASKS = {"adding": adding_problem, "sine": noisy_sine}
