"""A linear read-out on top of the hidden states, and the losses used for training.

The read-out maps a hidden state to an output: ``y = W_y h + b_y`` with ``W_y`` (O, H) and
``b_y`` (O, 1). It applies to one state (H, B) or to every state at once (T, H, B).

Losses return ``(loss, grad)``: the scalar loss and its gradient with respect to the
prediction, so a training step reads ``loss, dy = mse(y, target)``.
"""

import numpy as np

from ._checks import as_float_array, check_finite

__all__ = ["readout_forward", "readout_backward", "mse", "softmax_cross_entropy"]


def readout_forward(h, W_y, b_y):
    """Linear read-out ``y = W_y h + b_y``.

    Parameters
    ----------
    h : ndarray, shape (H, B) or (T, H, B)
    W_y : ndarray, shape (O, H)
    b_y : ndarray, shape (O, 1)

    Returns
    -------
    y : ndarray, shape (O, B) or (T, O, B)
    cache : tuple, for ``readout_backward``
    """
    h = np.asarray(h)
    W_y = as_float_array(W_y, "W_y", 2, "(O, H)")
    b_y = as_float_array(b_y, "b_y", 2, "(O, 1)")
    if h.ndim not in (2, 3) or h.shape[-2] != W_y.shape[1]:
        raise ValueError(f"h has shape {h.shape}, expected (H, B) or (T, H, B) with H = {W_y.shape[1]} = W_y.shape[1]")
    if b_y.shape != (W_y.shape[0], 1):
        raise ValueError(f"b_y has shape {b_y.shape}, expected ({W_y.shape[0]}, 1) = (O, 1)")
    return W_y @ h + b_y, (h, W_y)


def readout_backward(dy, cache):
    """Gradients of the read-out.

    Parameters
    ----------
    dy : ndarray, shape (O, B) or (T, O, B)
    cache : from ``readout_forward``

    Returns
    -------
    dh : ndarray, the shape of ``h``
    dW_y : ndarray, shape (O, H)
    db_y : ndarray, shape (O, 1)
    """
    h, W_y = cache
    dy = np.asarray(dy)
    expected = h.shape[:-2] + (W_y.shape[0], h.shape[-1])
    if dy.shape != expected:
        raise ValueError(f"dy has shape {dy.shape}, expected {expected}, the shape of y")
    dh = W_y.T @ dy
    if h.ndim == 2:
        return dh, dy @ h.T, dy.sum(axis=1, keepdims=True)
    axes = ((0, 2), (0, 2))
    return dh, np.tensordot(dy, h, axes), dy.sum(axis=(0, 2))[:, None]


def mse(pred, target):
    """Mean squared error over every element, and its gradient.

    ``loss = mean((pred - target) ** 2)``, ``grad = 2 (pred - target) / pred.size``.

    Parameters
    ----------
    pred, target : ndarray, the same shape

    Returns
    -------
    loss : float
    grad : ndarray, the shape of ``pred``
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred has shape {pred.shape} but target has shape {target.shape}; they must match")
    check_finite(pred, "pred")
    diff = pred - target
    return float(np.mean(diff * diff)), 2.0 * diff / diff.size


def softmax_cross_entropy(logits, labels):
    """Softmax cross-entropy averaged over all examples, and its gradient.

    Classes run along the first axis of ``logits`` (column convention).

    Parameters
    ----------
    logits : ndarray, shape (C, B) or (T, C, B)
    labels : int ndarray, shape (B,) or (T, B)
        Class indices in ``[0, C)``.

    Returns
    -------
    loss : float
        ``mean(-log softmax(logits)[label])`` over the ``B`` (or ``T * B``) examples.
    grad : ndarray, the shape of ``logits``
        ``(softmax(logits) - onehot(labels)) / number of examples``.
    """
    logits = np.asarray(logits, dtype=float)
    labels = np.asarray(labels)
    if logits.ndim not in (2, 3) or labels.shape != logits.shape[:-2] + logits.shape[-1:]:
        raise ValueError(
            f"logits has shape {logits.shape} = (C, B) or (T, C, B), so labels must have shape "
            f"{logits.shape[:-2] + logits.shape[-1:]}; got {labels.shape}"
        )
    C = logits.shape[-2]
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= C:
        raise ValueError(f"labels must be integers in [0, {C}); got dtype {labels.dtype}, range [{labels.min()}, {labels.max()}]")
    check_finite(logits, "logits")
    shifted = logits - logits.max(axis=-2, keepdims=True)          # log-sum-exp trick
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-2, keepdims=True))
    onehot = np.moveaxis(np.eye(C)[labels], -1, -2)                  # (C, B) or (T, C, B)
    n = labels.size
    loss = -float((log_p * onehot).sum()) / n
    return loss, (np.exp(log_p) - onehot) / n
