"""Input validation for rnnlib's public entry points (a cell's weights and state are checked by
its ``Cell``, in ``rnnlib.cells.cell``).

Every public function checks its arguments once, at the boundary, and raises ``ValueError``
with a message that names the expected and the actual shape. The numerical inner loops never
call these helpers.
"""

import numpy as np

from .activations import ACTIVATIONS


def as_float_array(a, name, ndim, what):
    """``np.asarray`` that insists on ``ndim`` dimensions and a floating dtype."""
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    kind = arr.dtype.kind                     # (cheaper than np.issubdtype, called per input)
    if kind not in "biufc":
        raise ValueError(f"{name} must hold numbers; got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D with shape {what}; got shape {arr.shape}")
    if kind != "f":
        arr = arr.astype(np.float64)
    return arr


def check_ids(ids, V, name, what, size):
    """``ids`` as a (T, B) integer array of values in ``[0, V)``; ``what`` they are (e.g.
    "character ids") and ``size`` where ``V`` comes from (e.g. "W_y.shape[0]") go into the error."""
    ids = np.asarray(ids)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{name} must be a (T, B) integer array; got dtype {ids.dtype}, shape {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"{name} must be {what} in [0, {V}) (V = {size}); got range [{ids.min()}, {ids.max()}]")
    return ids


def check_finite(arr, name):
    """Raise if ``arr`` holds NaN or infinity, naming how many and where the first is."""
    if np.isfinite(arr.sum()):
        return  # a NaN or an infinity anywhere would make the sum NaN or infinite: the fast path
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.argwhere(~finite)
        first = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"{name} contains {len(bad)} non-finite value(s) (NaN or inf), "
            f"the first at index {first}: {arr[first]}"
        )


def check_activation(activation):
    """``activation``, if it is None (the cell's default) or one of ``ACTIVATIONS``; else ``ValueError``.
    (Only the vanilla RNN has one; the other cells accept and ignore it.)"""
    if activation is not None and activation not in ACTIVATIONS:
        raise ValueError(f"activation must be {' or '.join(map(repr, ACTIVATIONS))}; got {activation!r}")
    return activation
