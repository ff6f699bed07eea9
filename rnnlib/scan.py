"""``scan``: unroll a step function over a sequence.

This is the lectures' primitive, with their exact semantics::

    def scan(fn, elems, weights, h_0=None):
        h_t = h_0
        ys = []
        for x in elems:
            y, h_t = fn([x, h_t], weights)
            ys.append(y)
        return ys, h_t

It is the same idea as ``jax.lax.scan(f, init, xs)``, whose documented meaning in pure Python
is::

    def jax_scan(f, init, xs):
        carry = init
        ys = []
        for x in xs:
            carry, y = f(carry, x)
            ys.append(y)
        return carry, np.stack(ys)

The differences are only of packaging: JAX's step takes ``(carry, x)`` and returns
``(carry, y)`` (carry first), closes over its parameters instead of receiving ``weights``, and
stacks the outputs into one array. Here ``ys`` is a list of the per-step outputs, as in the
lectures; ``np.stack(ys)`` gives the ``(T, H, B)`` array of hidden states.

``scan`` never looks inside the carry, so a state may be any structure the step function
understands, as JAX's carry may be any pytree: the LSTM's state is the pair ``(h, c)``, and
``scan(lstm_step, X, weights, (h_0, c_0))`` returns ``(ys, (h_T, c_T))``.
"""

from collections.abc import Iterable

__all__ = ["scan"]


def scan(fn, elems, weights, h_0=None):
    """Apply ``fn`` along the first axis of ``elems``, carrying a hidden state.

    Parameters
    ----------
    fn : callable
        A step function ``fn([x, h], weights) -> (y, h_next)``, such as ``rnnlib.gru_step``.
    elems : iterable
        The sequence; for an array of shape (T, D, B) each ``x`` is one (D, B) slice.
    weights : tuple
        Passed unchanged to every call of ``fn``.
    h_0 : optional
        The initial state: for rnnlib's cells an (H, B) array, or the LSTM's pair
        ``(h_0, c_0)``; passed to ``fn`` unchanged.

    Returns
    -------
    ys : list of length T
        ``ys[t]`` is the output of step ``t`` (for rnnlib's cells, the hidden state h_{t+1},
        shape (H, B)).
    h_T
        The state after the last step, shaped like ``h_0`` (``h_0`` itself for an empty
        sequence).
    """
    if not callable(fn):
        raise ValueError(f"fn must be a step function fn([x, h], weights) -> (y, h); got {type(fn).__name__}")
    if not isinstance(elems, Iterable):
        raise ValueError(f"elems must be an iterable sequence such as an array of shape (T, D, B); got {type(elems).__name__}")
    h_t = h_0
    ys = []
    for x in elems:
        y, h_t = fn([x, h_t], weights)
        ys.append(y)
    return ys, h_t
