"""A linear read-out on top of the hidden states, and the losses used for training.

The read-out maps a hidden state to an output: ``y = W_y h + b_y`` with ``W_y`` (O, H) and
``b_y`` (O, 1). It applies to one state (H, B) or to every state at once (T, H, B).

Losses return ``(loss, grad)``: the scalar loss and its gradient with respect to the
prediction, so a training step reads ``loss, dy = mse(y, target)``.
"""

import numpy as np

from ._checks import as_float_array, check_finite
from .threads import limited

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
    with limited(W_y.size * h.shape[-1]):            # the BLAS threads that pay (rnnlib.threads)
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
    with limited(W_y.size * h.shape[-1]):
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


def softmax_cross_entropy(logits, targets, mask=None):
    """Softmax cross-entropy, averaged over the positions that count, and its gradient.

    The vocabulary (the classes) runs along the rows of ``logits``, the batch along the
    columns, as everywhere in rnnlib::

        p = softmax(logits) over axis -2
        loss = -(sum over counted positions of log p[target]) / (number of counted positions)
        dlogits = (p - onehot(target)) * mask / (number of counted positions)

    Parameters
    ----------
    logits : ndarray, shape (V, B) or (T, V, B)
        Any finite values: ``log p`` is computed as ``z - max(z) - log(sum(exp(z - max(z))))``
        (the log-sum-exp trick), so logits of 1e4 neither overflow nor warn.
    targets : int ndarray, shape (B,) or (T, B)
        Class indices in ``[0, V)``.
    mask : ndarray of 0/1 (or bool), the shape of ``targets``, optional
        1 where a position counts (default: all). Masked positions add nothing to the loss and
        get a zero gradient; the mean is over the counted positions only.

    Returns
    -------
    loss : float
        The mean negative log-likelihood per counted position (nats). ``exp(loss)`` is the
        perplexity.
    dlogits : ndarray, the shape of ``logits``
    """
    logits = np.asarray(logits)
    targets = np.asarray(targets)
    if logits.ndim not in (2, 3):
        raise ValueError(f"logits must be (V, B) or (T, V, B); got shape {logits.shape}")
    want = logits.shape[:-2] + logits.shape[-1:]
    if targets.shape != want:
        raise ValueError(f"logits has shape {logits.shape} = {'(T, V, B)' if logits.ndim == 3 else '(V, B)'}, "
                         f"so targets must have shape {want}; got {targets.shape}")
    V = logits.shape[-2]
    if targets.size and (not np.issubdtype(targets.dtype, np.integer) or targets.min() < 0 or targets.max() >= V):
        raise ValueError(f"targets must be integers in [0, {V}) (V = logits.shape[-2]); got dtype "
                         f"{targets.dtype}, range [{targets.min()}, {targets.max()}]")
    if mask is None:
        mask = np.ones(targets.shape)
    else:
        mask = np.asarray(mask)
        if mask.shape != targets.shape:
            raise ValueError(f"mask must have the targets' shape {targets.shape}; got {mask.shape}")
        if not np.isin(mask, (0, 1)).all():
            raise ValueError("mask must hold only 0 and 1 (1 = the position counts)")
    count = mask.sum()
    if count == 0:
        raise ValueError("mask counts no position: the mean loss is undefined")
    logits = logits.astype(np.result_type(logits.dtype, np.float32), copy=False)
    check_finite(logits, "logits")
    shifted = logits - logits.max(axis=-2, keepdims=True)           # <= 0: exp cannot overflow
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-2, keepdims=True))
    index = np.expand_dims(targets, -2)                              # (1, B) or (T, 1, B)
    picked = np.take_along_axis(log_p, index, axis=-2)[..., 0, :]    # log p[target], targets' shape
    loss = -float((picked * mask).sum() / count)
    dlogits = np.exp(log_p)
    np.put_along_axis(dlogits, index, np.take_along_axis(dlogits, index, axis=-2) - 1, axis=-2)
    dlogits *= np.expand_dims(mask / count, -2).astype(dlogits.dtype)
    return loss, dlogits
