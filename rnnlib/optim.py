"""Optimisers and gradient clipping. Parameters are lists of arrays updated in place.

::

    opt = Adam(lr=1e-2)
    grads, norm = clip_by_global_norm(grads, max_norm=1.0)
    opt.step(params, grads)
"""

import numpy as np

__all__ = ["SGD", "Adam", "clip_by_global_norm", "clip_elementwise", "global_norm"]


def global_norm(grads):
    """``sqrt(sum of squares of every entry of every array)``."""
    return float(np.sqrt(sum(float(np.sum(g * g)) for g in grads)))


def clip_by_global_norm(grads, max_norm):
    """Scale all gradients by one factor so that their global norm is at most ``max_norm``.

    Scaling them together keeps the direction of the update; only its length is capped.
    This tames the exploding gradients of long sequences (Pascanu et al. 2013).

    Parameters
    ----------
    grads : list of ndarray
    max_norm : float > 0, or None for no clipping

    Returns
    -------
    clipped : list of ndarray
        New arrays (the inputs are not modified).
    norm : float
        The global norm *before* clipping.
    """
    norm = global_norm(grads)
    if max_norm is None or norm <= max_norm:
        return list(grads), norm
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive or None; got {max_norm}")
    scale = max_norm / norm
    return [g * scale for g in grads], norm


def clip_elementwise(grads, limit):
    """Clip every gradient entry to ``[-limit, limit]``, each on its own (min-char-rnn's way).

    Simpler than ``clip_by_global_norm`` but it changes the update's direction: the entries
    that hit the limit shrink while the others do not.

    Parameters
    ----------
    grads : list of ndarray
    limit : float > 0

    Returns
    -------
    list of ndarray, new arrays
    """
    if not limit > 0:
        raise ValueError(f"limit must be positive; got {limit}")
    return [np.clip(g, -limit, limit) for g in grads]


def _check(params, grads):
    if len(params) != len(grads):
        raise ValueError(f"{len(params)} parameters but {len(grads)} gradients")
    for i, (p, g) in enumerate(zip(params, grads)):
        if p.shape != g.shape:
            raise ValueError(f"gradient {i} has shape {g.shape}, expected {p.shape}, the shape of parameter {i}")


class SGD:
    """Stochastic gradient descent with optional momentum: ``v = m v - lr g;  p += v``."""

    def __init__(self, lr=0.1, momentum=0.0):
        if lr <= 0 or not 0 <= momentum < 1:
            raise ValueError(f"need lr > 0 and 0 <= momentum < 1; got lr={lr}, momentum={momentum}")
        self.lr, self.momentum, self.velocity = lr, momentum, None

    def step(self, params, grads):
        """Update ``params`` (list of ndarray) in place from ``grads``."""
        _check(params, grads)
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        for p, g, v in zip(params, grads, self.velocity):
            v *= self.momentum
            v -= self.lr * g
            p += v


class Adam:
    """Adam (Kingma & Ba 2015) with bias correction.

    ``m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g**2;
    p -= lr * m_hat / (sqrt(v_hat) + eps)``.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        if lr <= 0 or not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"need lr > 0 and betas in [0, 1); got lr={lr}, beta1={beta1}, beta2={beta2}")
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = self.v = None
        self.t = 0

    def step(self, params, grads):
        """Update ``params`` (list of ndarray) in place from ``grads``."""
        _check(params, grads)
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        c1, c2 = 1 - self.beta1 ** self.t, 1 - self.beta2 ** self.t
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
