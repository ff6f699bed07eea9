"""Input validation for rnnlib's public entry points.

Every public function checks its arguments once, at the boundary, and raises ``ValueError``
with a message that names the expected and the actual shape. The numerical inner loops never
call these helpers.
"""

import numpy as np

#: The weight tuples of each cell, in the lectures' order.
WEIGHT_NAMES = {
    "rnn": ("W_h", "b_h"),
    "gru": ("W_u", "W_r", "W_c", "b_u", "b_r", "b_c"),
    "mgu": ("W_f", "W_h", "b_f", "b_h"),
}
#: The lecture's 6-tuple, which the vanilla RNN also accepts (it uses W_h = w1, b_h = b1).
LECTURE_NAMES = ("w1", "w2", "w3", "b1", "b2", "b3")


def check_cell(cell):
    """Return the cell name in lower case, or raise for an unknown cell."""
    if not isinstance(cell, str) or cell.lower() not in WEIGHT_NAMES:
        raise ValueError(f"cell must be one of 'rnn', 'gru', 'mgu'; got {cell!r}")
    return cell.lower()


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


def rnn_weights(weights):
    """The vanilla RNN's ``(W_h, b_h)``, taken from a 2-tuple or the lecture's 6-tuple."""
    if not isinstance(weights, (tuple, list)) or len(weights) not in (2, 6):
        n = len(weights) if isinstance(weights, (tuple, list)) else type(weights).__name__
        raise ValueError(
            "rnn weights must be (W_h, b_h) or the lecture's 6-tuple (w1, w2, w3, b1, b2, b3); "
            f"got {n} items"
        )
    return (weights[0], weights[3]) if len(weights) == 6 else tuple(weights)


def check_weights(cell, weights, H, D):
    """Check a cell's weight tuple against hidden size ``H`` and input size ``D``.

    Returns the weights as a tuple of float arrays (for the RNN: ``(W_h, b_h)``).
    """
    names = WEIGHT_NAMES[cell]
    if cell == "rnn":
        weights = rnn_weights(weights)
    elif not isinstance(weights, (tuple, list)) or len(weights) != len(names):
        n = len(weights) if isinstance(weights, (tuple, list)) else type(weights).__name__
        raise ValueError(f"{cell} weights must be the {len(names)}-tuple ({', '.join(names)}); got {n} items")
    out = []
    n_mat = len(names) // 2
    for i, (name, w) in enumerate(zip(names, weights)):
        if i < n_mat:
            arr = as_float_array(w, name, 2, "(H, H + D)")
            if arr.shape != (H, H + D):
                raise ValueError(
                    f"{name} has shape {arr.shape}, expected ({H}, {H + D}) = (H, H + D) "
                    f"with H = {H}, D = {D}"
                )
        else:
            arr = as_float_array(w, name, 2, "(H, 1)")
            if arr.shape != (H, 1):
                raise ValueError(f"{name} has shape {arr.shape}, expected ({H}, 1) = (H, 1) with H = {H}")
        check_finite(arr, name)
        out.append(arr)
    return tuple(out)


def check_step_inputs(inputs):
    """Unpack and check the ``[x, h]`` pair of a step function."""
    if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
        raise ValueError("a step function takes inputs [x, h]: x of shape (D, B), h of shape (H, B)")
    x = as_float_array(inputs[0], "x", 2, "(D, B)")
    h = as_float_array(inputs[1], "h", 2, "(H, B)")
    if x.shape[1] != h.shape[1]:
        raise ValueError(
            f"x has shape {x.shape} and h has shape {h.shape}: their batch sizes B (second axis) differ"
        )
    check_finite(x, "x")
    check_finite(h, "h")
    return x, h


def check_sequence(X, h_0):
    """Check a sequence ``X`` of shape (T, D, B) and an initial state ``h_0`` of shape (H, B)."""
    X = as_float_array(X, "X", 3, "(T, D, B)")
    h_0 = as_float_array(h_0, "h_0", 2, "(H, B)")
    if X.shape[0] == 0:
        raise ValueError("X has T = 0 time steps; expected at least one")
    if X.shape[2] != h_0.shape[1]:
        raise ValueError(
            f"X has shape {X.shape} = (T, D, B) and h_0 has shape {h_0.shape} = (H, B): "
            "their batch sizes B differ"
        )
    check_finite(X, "X")
    check_finite(h_0, "h_0")
    return X, h_0


def check_activation(activation):
    if activation not in ("sigmoid", "tanh"):
        raise ValueError(f"activation must be 'sigmoid' or 'tanh'; got {activation!r}")
    return activation
