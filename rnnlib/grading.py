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
report, on failure and on success. ``assert_unchanged`` checks that a function left the arrays
passed to it as they were.

A part's check must judge that part alone, as the grader does: its inputs come from rnnlib's
reference, never from the student's other parts (``step_caches``, ``step_backward``: the
per-step caches and gradients in the notebooks' form), and where the checked function calls the
student's other parts, rnnlib's reference stands in for them during the check (``substituted``).
A mistake is then reported once, in its own part.
"""

import numbers
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .bptt import backward, forward
from .cells import get as get_cell
from .cells.loops import previous_states

__all__ = ["Verdict", "check_array", "close", "tolerance", "how_far", "assert_close", "assert_all_close",
           "assert_unchanged",
           "substituted", "step_caches", "step_backward", "after_updates", "RTOL", "ATOL", "SUBNORMAL_ATOL"]

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
    return [f"{name}: wrong value: got {got:.10g}, expected {expected:.10g}{how_far(got, expected)} "
            f"(allowed: {tolerance(rtol, atol)})"]


def how_far(got, expected):
    """``", 1.03 times the expected value"``, or for a ratio that rounds to 1, ``", off by 5e-07
    of the expected value"``; empty when the ratio says nothing (an expected 0, a NaN)."""
    if not expected or not np.isfinite(got):
        return ""
    ratio = got / expected
    if f"{ratio:.3g}" == "1":
        return f", off by {abs(ratio - 1):.2g} of the expected value"
    return f", {ratio:.3g} times the expected value"


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


def assert_unchanged(function, given, originals, names):
    """Raise ``AssertionError`` if ``function`` changed an array passed to it.

    ``given`` are the arrays it was called with (after the call), ``originals`` copies made before
    it, ``names`` their names; the message names every array changed and how many values.
    """
    changed = []
    for name, after, before in zip(names, given, originals):
        if np.shape(after) != np.shape(before):
            changed.append(f"{name} (its shape)")
        elif not np.array_equal(after, before, equal_nan=True):
            changed.append(f"{name} ({int(np.sum(after != before))} values)")
    if changed:
        raise AssertionError(f"{function} changed the arrays passed in: {', '.join(changed)}; "
                             "compute new arrays and leave the ones passed in as they were")
    return f"{', '.join(names)} unchanged"


@contextmanager
def substituted(namespace, **functions):
    """Within the block, each name in ``namespace`` (a notebook's ``globals()``) stands for the
    function given for it, rnnlib's reference; afterwards the names are as they were.

    A check of one part calls the student's function, which may call the student's other parts
    by name: with those names standing for the reference, a mistake in another part does not
    show here, as in the grader (whose oracles do the same)."""
    missing = object()
    saved = {name: namespace.get(name, missing) for name in functions}
    namespace.update(functions)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = old


def step_caches(cell, weights, X, state_0):
    """rnnlib's forward over ``X`` (T, D, B), as the notebooks' per-step caches: a list of T
    tuples laid out as ``Cell.cache_names`` says (the GRU's ``(x, h, u, r, c)``): ``x``, the
    state's parts as the step read them, the activations saved, and ``<part>_next``, a part of
    the state after the step. ``state_0`` is the state as the cell carries it."""
    spec = get_cell(cell)
    _, cache = forward(spec, weights, X, state_0)
    after = dict(zip(spec.state_names, spec.state_sequence(cache.hs, cache.saved)))
    before = {s: previous_states(s_0, after[s], 0, len(X)) for s, s_0 in zip(spec.state_names, cache.state_0)}

    def value(name, t):
        if name == "x":
            return X[t]
        if name in before:
            return before[name][t]
        if name.endswith("_next") and name[:-5] in after:
            return after[name[:-5]][t]
        return cache.saved[name][t]

    return [tuple(value(n, t) for n in spec.cache_names) for t in range(len(X))]


def step_backward(cell, *args):
    """rnnlib's gradients of one step in the notebooks' form: ``step_backward(cell, *dstate_next,
    cache, weights) -> (dx, *dstate, dweights)``, with ``cache`` as ``step_caches`` lays it out
    (its ``x`` and the state's parts are what the step read) and ``dstate_next`` the gradients
    of the state's parts after the step (the GRU's ``dh_next``; the LSTM's ``dh_next, dc_next``)."""
    spec = get_cell(cell)
    *dstate_next, cache, weights = args
    names = spec.cache_names
    x, state = cache[names.index("x")], [cache[names.index(s)] for s in spec.state_names]
    _, ref = forward(spec, weights, x[None], spec.pack_state(state))
    # a gradient on h' enters as dhs; the other parts' (the LSTM's dc') as dstate_T
    rest = spec.pack_state([np.zeros_like(dstate_next[0]), *dstate_next[1:]]) if len(state) > 1 else None
    dweights, dX, dstate = backward(np.asarray(dstate_next[0])[None], ref, rest)
    return (dX[0],) + spec.unpack_state(dstate) + (tuple(dweights),)


def after_updates(name, steps):
    """How a check names parameter ``name`` after ``steps`` training steps in a row, each updating
    it: ``"W_u after both updates"`` for two, ``"W_u after all 3 updates"``, ``"W_u after the
    update"``. The language model's check and its grader both name the parameters this way, so
    that a mistake reads the same in the notebook and in the feedback."""
    return f"{name} after " + {1: "the update", 2: "both updates"}.get(steps, f"all {steps} updates")
