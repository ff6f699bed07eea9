"""Checking a student's array against a reference, with feedback that says what is wrong.

``check_array`` never raises on a bad submission: it returns a ``Verdict`` whose message names
the problem precisely (not an array, wrong shape, wrong dtype, NaN, which values are off and by
how much). ``assert_close`` raises ``AssertionError`` with that message, for visible tests.

Default tolerances are for float64 work: ``|got - expected| <= atol + rtol * |expected|`` with
``rtol = 1e-7``, ``atol = 1e-10``. A correct implementation differs from the reference only in
the order of its floating-point operations, i.e. by a few units of rounding (about 1e-16
relative per operation, growing at most linearly over a few hundred time steps), while every
real mistake (a missing term, a swapped gate, a wrong derivative) changes values at the
1e-3 level or more. ``1e-7`` sits safely between the two.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["Verdict", "check_array", "assert_close", "RTOL", "ATOL"]

RTOL, ATOL = 1e-7, 1e-10


@dataclass
class Verdict:
    """Result of a check: ``ok`` and a message for the student (empty when ``ok``)."""

    ok: bool
    message: str = ""

    def __bool__(self):
        return self.ok


def _describe(x):
    if x is None:
        return "None"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
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
    err = np.abs(got.astype(np.float64) - expected)
    bad = err > atol + rtol * np.abs(expected)
    if not bad.any():
        return Verdict(True)
    idx = np.unravel_index(int(np.argmax(np.where(bad, err, -1.0))), err.shape)
    idx = tuple(int(i) for i in idx)
    values = f": got {got[idx]:.10g}, expected {expected[idx]:.10g}" if show_values else ""
    return Verdict(False, (
        f"{name}: {int(bad.sum())} of {bad.size} values are wrong; the largest error is "
        f"{err[idx]:.3g} at index {idx}{values} "
        f"(allowed: |got - expected| <= {atol:g} + {rtol:g} * |expected|)"
    ))


def assert_close(name, got, expected, rtol=RTOL, atol=ATOL):
    """``check_array``, raising ``AssertionError`` with its message when the check fails."""
    verdict = check_array(name, got, expected, rtol, atol)
    if not verdict.ok:
        raise AssertionError(verdict.message)
