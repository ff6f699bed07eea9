"""Activation functions and their derivatives.

The recurrent cells squash pre-activations with the logistic sigmoid (gates, and the
lectures' vanilla RNN) and with tanh (candidate states). The derivatives are written in
terms of the *activated* value, because that is what a forward pass keeps in its cache:

    sigma'(a) = s * (1 - s)   where s = sigma(a)
    tanh'(a)  = 1 - t**2      where t = tanh(a)

Applying these formulas to the pre-activation ``a`` instead of the activated value is one of
the commonest bugs in hand-written backprop (see the book's chapter on common mistakes).
"""

import numpy as np

__all__ = ["sigmoid", "tanh", "sigmoid_grad_from_output", "tanh_grad_from_output", "lecture_sigmoid", "ACTIVATIONS"]

#: The nonlinearities a cell's ``activation`` option may name (the vanilla RNN's ``g``), the
#: lectures' sigmoid first.
ACTIVATIONS = ("sigmoid", "tanh")


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow.

    The textbook formula evaluates ``exp(-x)``, which overflows (with a RuntimeWarning) for
    ``x < -709`` in float64. Here ``exp`` only ever sees ``-|x| <= 0``:

        x >= 0:  1 / (1 + e)     with e = exp(-x)
        x <  0:  e / (1 + e)     with e = exp(x)

    Both branches are exact rewrites of the same function, so the result agrees with the
    textbook formula to rounding wherever that formula does not overflow. The work is done in
    one buffer (``out=`` arguments): fresh temporaries for every operation made this function
    several times slower on arrays of a few hundred kilobytes.

    Parameters
    ----------
    x : array_like, any shape
        Pre-activations.

    Returns
    -------
    s : ndarray, same shape as ``x``
        Values in [0, 1]; floating dtype of ``x`` (float64 for integer input). A 0-d input
        (a Python float) gives a 0-d array.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    s = np.abs(x, out=np.empty_like(x))   # a buffer even for 0-d input (np.abs would return a scalar)
    np.negative(s, out=s)
    np.exp(s, out=s)                       # s = e = exp(-|x|), in (0, 1]
    denominator = s + 1.0
    np.copyto(s, 1.0, where=x >= 0)        # numerator: 1 where x >= 0, e elsewhere
    np.divide(s, denominator, out=s)
    return s


def lecture_sigmoid(a):
    """The sigmoid of the lectures' per-step code that the cost chapter times
    (``Cell.lecture_step``): ``(1 + tanh(a / 2)) / 2``, free of overflow, in the same cost class
    as their ``1 / (1 + exp(-a))`` (one transcendental call and a few element-wise operations)."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def tanh(x):
    """Hyperbolic tangent (numpy's, which is stable for all finite inputs).

    Parameters
    ----------
    x : array_like, any shape

    Returns
    -------
    t : ndarray, same shape as ``x``, values in [-1, 1].
    """
    return np.tanh(x)


def sigmoid_grad_from_output(s):
    """Derivative of the sigmoid, given its *output* ``s = sigmoid(a)``: ``s * (1 - s)``.

    Parameters
    ----------
    s : ndarray, any shape
        Activated values (not pre-activations).

    Returns
    -------
    ndarray, same shape as ``s``: d sigmoid(a) / da.
    """
    return s * (1.0 - s)


def tanh_grad_from_output(t):
    """Derivative of tanh, given its *output* ``t = tanh(a)``: ``1 - t**2``.

    Parameters
    ----------
    t : ndarray, any shape
        Activated values (not pre-activations).

    Returns
    -------
    ndarray, same shape as ``t``: d tanh(a) / da.
    """
    return 1.0 - t * t
