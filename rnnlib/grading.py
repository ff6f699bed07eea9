"""Checking a student's arrays against a reference, with feedback that says what is wrong.

One comparison rule serves the notebooks' visible checks and the course's grader (which
imports it from here): a value is right when, element by element,

    |got - expected| <= atol + rtol * |expected|                     (``close``)

Its tolerances, and why:

- ``RTOL = 1e-7``, ``ATOL = 1e-10``, the default, for values computed by sums (states,
  gradients, losses). A correct implementation differs from the reference only in the order
  of its floating-point operations, i.e. by a few units of rounding (about 1e-16 relative per
  operation, growing at most linearly over a few hundred time steps), while every real mistake
  (a missing term, a swapped gate, a wrong derivative) changes values at the 1e-3 level or
  more; ``1e-7`` sits safely between the two. The absolute ``1e-10`` forgives the rounding
  left in a value that a sum cancels to almost zero, where a relative error means nothing.
- ``rtol = RTOL`` with ``atol = SUBNORMAL_ATOL`` (4 times the smallest positive float64,
  about 2e-323), for values computed without cancellation whose small values matter: the
  sigmoid, whose tail ``sigma(a) ~ e^a`` falls to 1e-300 and below. The absolute 1e-10 would
  accept any value under 1e-10 there (the 7e-218 of a sigmoid that clips its input to
  [-500, 500], where the answer is 4e-322); this keeps 7 significant digits for every value
  down to the subnormal numbers, which carry fewer bits and may be off by a unit or two of
  their last place, whichever correct formula computed them.

``check_array`` never raises on a bad submission: it returns a ``Verdict`` whose message names
the problem precisely (not an array, wrong shape, wrong dtype, NaN, which values are off and by
how much). ``assert_all_close`` checks several arrays at once and raises ``AssertionError``
listing every wrong one; ``assert_close`` checks one. Both state the tolerance in what they
report, on failure and on success.
"""

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["Verdict", "check_array", "close", "tolerance", "assert_close", "assert_all_close",
           "RTOL", "ATOL", "SUBNORMAL_ATOL"]

RTOL, ATOL = 1e-7, 1e-10
SUBNORMAL_ATOL = 4 * np.finfo(np.float64).smallest_subnormal


@dataclass
class Verdict:
    """Result of a check: ``ok`` and a message for the student (empty when ``ok``)."""

    ok: bool
    message: str = ""

    def __bool__(self):
        return self.ok


def close(got, expected, rtol=RTOL, atol=ATOL):
    """The comparison rule: ``|got - expected| <= atol + rtol * |expected|``, element by element.

    Parameters
    ----------
    got, expected : float or ndarray, broadcastable
    rtol, atol : float
        Tolerances; see the module docstring.

    Returns
    -------
    bool or ndarray of bool, the broadcast shape
        False wherever ``got`` is NaN or infinite (and ``expected`` finite).
    """
    return np.abs(got - expected) <= atol + rtol * np.abs(expected)


def tolerance(rtol=RTOL, atol=ATOL):
    """The rule with its numbers, for messages: ``"|got - expected| <= 1e-10 + 1e-07 |expected|"``."""
    return f"|got - expected| <= {atol:.3g} + {rtol:.3g} |expected|"


def _describe(x):
    if x is None:
        return "None"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} items"
    return f"a {type(x).__name__}"


def check_array(name, got, expected, rtol=RTOL, atol=ATOL, show_values=True):
    """Compare ``got`` with the reference ``expected`` and explain any difference.

    Parameters
    ----------
    name : str
        What is being checked, as the student knows it (e.g. ``"gru_step(...) output"``).
    got : anything
        The student's value. Must be a numpy ndarray of floats.
    expected : ndarray
        The reference.
    rtol, atol : float
        Tolerances; see the module docstring.
    show_values : bool
        Whether the message may quote values (``False`` for hidden tests: it then says how many
        values are off, the largest error and where, but not what they are).

    Returns
    -------
    Verdict
    """
    expected = np.asarray(expected)
    if type(got) is not np.ndarray:  # noqa: E721 (subclasses are refused on purpose)
        return Verdict(False, f"{name}: expected a numpy array of shape {expected.shape}, got {_describe(got)}")
    if got.shape != expected.shape:
        return Verdict(False, f"{name}: wrong shape: expected {expected.shape}, got {got.shape}")
    if not np.issubdtype(got.dtype, np.floating):
        return Verdict(False, f"{name}: wrong dtype: expected floating point ({expected.dtype}), got {got.dtype}")
    if got.dtype != expected.dtype and np.finfo(got.dtype).eps > np.finfo(expected.dtype).eps:
        return Verdict(False, f"{name}: wrong dtype: expected {expected.dtype}, got {got.dtype} (less precise)")
    finite = np.isfinite(got)
    if not finite.all():
        idx = tuple(int(i) for i in np.argwhere(~finite)[0])
        return Verdict(False, f"{name}: {int((~finite).sum())} value(s) are NaN or infinite, the first at index {idx}")
    got64 = got.astype(np.float64)
    bad = ~close(got64, expected, rtol, atol)
    if not bad.any():
        return Verdict(True)
    err = np.abs(got64 - expected)
    idx = np.unravel_index(int(np.argmax(np.where(bad, err, -1.0))), err.shape)
    idx = tuple(int(i) for i in idx)
    values = f": got {got[idx]:.10g}, expected {expected[idx]:.10g}" if show_values else ""
    return Verdict(False, (
        f"{name}: {int(bad.sum())} of {bad.size} values are wrong; the largest error is "
        f"{err[idx]:.3g} at index {idx}{values} (allowed: {tolerance(rtol, atol)})"
    ))


def _check_number(name, got, expected, rtol, atol):
    """A float answer (a loss): any real number, or an array holding one float, is accepted."""
    if isinstance(got, np.ndarray) and got.size == 1 and np.issubdtype(got.dtype, np.floating):
        got = float(got.reshape(()))
    if not isinstance(got, numbers.Real) or isinstance(got, bool):
        return [f"{name}: expected a number, got {_describe(got)}"]
    if close(got, expected, rtol, atol):
        return []
    ratio = f", {got / expected:.3g} times the expected value" if expected and np.isfinite(got) else ""
    return [f"{name}: wrong value: got {got:.10g}, expected {expected:.10g}{ratio} (allowed: {tolerance(rtol, atol)})"]


def _problems(name, got, expected, rtol, atol):
    """Every problem of one entry of ``assert_all_close``, and the names of the arrays it checks."""
    if isinstance(name, tuple):  # a tuple of arrays, named one by one
        if not isinstance(got, (tuple, list)) or len(got) != len(name):
            return [f"({', '.join(name)}): expected a tuple of {len(name)} arrays, got {_describe(got)}"], list(name)
        problems = []
        for n, g, e in zip(name, got, expected):
            problems += _problems(n, g, e, rtol, atol)[0]
        return problems, list(name)
    if isinstance(expected, float):
        return _check_number(name, got, expected, rtol, atol), [name]
    verdict = check_array(name, got, expected, rtol, atol)
    return ([] if verdict.ok else [verdict.message]), [name]


def assert_all_close(checks, rtol=RTOL, atol=ATOL):
    """Compare several answers with their references; raise ``AssertionError`` listing every wrong one.

    Parameters
    ----------
    checks : dict
        ``{name: (got, expected)}``. ``expected`` is an ndarray (``got`` must then be an ndarray
        of its shape and a float dtype) or a float (``got`` must be a real number). A key that
        is a tuple of names, e.g. ``("dW_u", "dW_r", ..., "db_c")``, checks a tuple of that
        many arrays, each under its own name.
    rtol, atol : float
        The tolerance, the same for every entry; see the module docstring.

    Returns
    -------
    str
        What passed and the tolerance, for the check's message, e.g.
        ``"dX, dh_0: |got - expected| <= 1e-10 + 1e-07 |expected|"``.

    Raises
    ------
    AssertionError
        Naming every wrong answer, one a line, each with what is wrong and the tolerance.
    """
    problems, names = [], []
    for name, (got, expected) in checks.items():
        p, n = _problems(name, got, expected, rtol, atol)
        problems += p
        names += n
    if len(problems) == 1:
        raise AssertionError(problems[0])
    if problems:
        raise AssertionError(f"{len(problems)} of the {len(names)} answers are wrong:\n"
                             + "\n".join("  " + p for p in problems))
    return f"{', '.join(names)}: {tolerance(rtol, atol)}"


def assert_close(name, got, expected, rtol=RTOL, atol=ATOL):
    """``assert_all_close({name: (got, expected)}, rtol, atol)``: one answer."""
    return assert_all_close({name: (got, expected)}, rtol, atol)
