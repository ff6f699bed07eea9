"""The verdict: compare what a submission's function returned with the reference (grader side).

Runs in the grader's own process on data decoded by ``rnngrade.wire`` (fresh numpy arrays), with
``rnnlib.grading.check_array`` for every array of floats; an array of integers (indices, token
ids) must be equal. For hidden cases the messages say what is wrong and where, never the inputs
or the expected values.
"""

import numbers
import re

import numpy as np

from rnnlib.grading import check_array, close, how_far

from .wire import Foreign


def _kind(x):
    if isinstance(x, Foreign):
        return f"an object that is not plain data ({x.what})"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} items"
    return f"a {type(x).__name__}"


def _names_of(names, n):
    if isinstance(names, (tuple, list)):
        return ", ".join(n_ if isinstance(n_, str) else "(" + _names_of(n_, len(n_)) + ")" for n_ in names)
    return str(names)


#: an integer array's values are quoted in full (visible cases) up to this size, else the first wrong one
SHOWN_INTEGERS = 20


def _integer_array(label, got, expected, show_values):
    """Problems of an answer that must be an array of integers equal to ``expected`` (indices,
    token ids: exact, any integer dtype; floats, even integral ones, are refused)."""
    if not isinstance(got, np.ndarray):
        return [f"{label}: expected a numpy array of integers of shape {expected.shape}, got {_kind(got)}"]
    if got.shape != expected.shape:
        return [f"{label}: wrong shape: expected {expected.shape}, got {got.shape}"]
    if not np.issubdtype(got.dtype, np.integer):
        return [f"{label}: wrong dtype: expected integers ({expected.dtype}), got {got.dtype}"]
    wrong = got != expected
    if not wrong.any():
        return []
    idx = tuple(int(i) for i in np.argwhere(wrong)[0])
    text = f"{label}: {int(wrong.sum())} of {wrong.size} values are wrong, the first at index {idx}"
    if show_values and expected.size <= SHOWN_INTEGERS:
        text += f": got {got.tolist()}, expected {expected.tolist()}"
    elif show_values:
        text += f": got {got[idx]}, expected {expected[idx]}"
    return [text]


def compare(got, expected, names, rtol, atol, show_values):
    """Return a list of problems (empty when ``got`` matches ``expected``)."""
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            what = "a tuple" if isinstance(expected, tuple) else "a list"
            label = _names_of(names, len(expected)) if isinstance(names, (tuple, list)) else names
            return [f"expected {what} of {len(expected)} items ({label}), got {_kind(got)}"]
        if not isinstance(names, (tuple, list)):
            names = [f"{names}[{i}]" for i in range(len(expected))]
        problems = []
        for g, e, n in zip(got, expected, names):
            problems += compare(g, e, n, rtol, atol, show_values)
        return problems
    label = names if isinstance(names, str) else "value"
    if isinstance(expected, int) and not isinstance(expected, bool):
        if isinstance(got, np.ndarray) and got.size == 1 and np.issubdtype(got.dtype, np.integer):
            got = int(got.reshape(()))          # a numpy integer (np.argmax's) crosses as an array
        if type(got) is not int:  # noqa: E721 (bool, float and other subclasses refused on purpose)
            return [f"{label}: expected an integer, got {_kind(got)}"]
        if got != expected:
            return [f"{label}: wrong value" + (f": got {got}, expected {expected}" if show_values else "")]
        return []
    if isinstance(expected, float):
        if isinstance(got, np.ndarray) and got.size == 1 and np.issubdtype(got.dtype, np.floating):
            got = float(got.reshape(()))
        if not isinstance(got, numbers.Real) or isinstance(got, bool):
            return [f"{label}: expected a number, got {_kind(got)}"]
        err = abs(got - expected)
        if not close(got, expected, rtol, atol):
            detail = f": got {got:.10g}, expected {expected:.10g}" if show_values else ""
            return [f"{label}: wrong value, error {err:.3g}{how_far(got, expected)}{detail}"]
        return []
    if isinstance(expected, np.ndarray) and np.issubdtype(expected.dtype, np.integer):
        return _integer_array(label, got, expected, show_values)
    if isinstance(got, np.ndarray) and isinstance(expected, np.ndarray):
        verdict = check_array(label, got, expected, rtol=rtol, atol=atol, show_values=show_values)
        return [] if verdict.ok else [verdict.message]
    return [check_array(label, got, expected, rtol=rtol, atol=atol, show_values=show_values).message]


# Everything the submission's process sends is untrusted and may try to smuggle hidden inputs
# into the feedback; only these fixed texts, chosen by code, reach it. The notes come from the
# oracles (``rnngrade.harness``): a call of another graded function that the reference does not
# make is answered by the student's own function, as in their notebook, so that the verdict
# quotes the values their notebook shows; "-nan" when their function failed and NaN stood in.
_NOTES = {
    "unexpected-input": "the argument your code passed to {name} differs from the reference's: "
                        "a missing, extra or wrong term in what it computes before calling {name}",
    "wrong-input": "the gradient your code passed to {name} at one of the steps differs from the "
                   "reference's: check what is carried back from the step after it",
    "no-match": "your code called {name} with a cache that belongs to no step of the sequence",
}
_NAN = ("; your own {name} could not answer there (it is missing, raised an exception or returned no array "
        "of that shape), so the grader used NaN")


def _note(name, code, texts=None):
    """The fixed text for an oracle's note ``code`` on function ``name``, or None if unknown: the
    oracle's own text for the code (``texts``, from its spec's ``notes``), else the general one."""
    base, nan, rest = code.partition("-nan")
    if base not in _NOTES or rest:
        return None
    return ((texts or {}).get(base) or _NOTES[base].format(name=name)) + (_NAN.format(name=name) if nan else "")


_FP_WARNING = re.compile(r"^RuntimeWarning: (overflow|underflow|invalid value|divide by zero) encountered in \w+$")
_EXC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,80}")


#: the notes that may be knock-ons: an input computed from what came before (the logits, the
#: gradients, the carried gradient) differs from the reference's
KNOCK_ON = "wrong-input"


def _notes(reply, oracles):
    """The fixed texts for the oracles' notes in ``reply``: an oracle's own (its spec's ``notes``,
    by code) or the general one, in the order of the calls.

    A note is a hint only where its mistake is plausible. The notes come in the order of the
    calls, and up to the first one the run followed the reference's path; from there on the
    student's own functions answered, so every later input computed from earlier results differs
    from the reference's whatever the code does with it: a later ``wrong-input`` (train_step's
    logits after a clipping with the wrong max_norm) of another function is a knock-on of the first
    mistake, and left out. A later note on an argument that nothing computes (another max_norm,
    targets or cache) is a mistake of its own, and a later note of a function already noted adds
    to its hint (its own function could not answer): both are kept."""
    out, noted = [], set()
    for note in (reply.get("log") or [])[:5]:
        name, _, code = str(note).partition(":")
        text = _note(name, code, oracles[name].get("notes")) if name in oracles else None
        if text is None:
            continue
        knock_on = noted and name not in noted and code.partition("-nan")[0] == KNOCK_ON
        if not knock_on and text not in out:
            out.append(text)
            noted.add(name)
    return out


def _exception(message, hidden):
    """The exception's type, and its message only where the inputs are public."""
    message = str(message)
    kind = _EXC_NAME.match(message)
    kind = kind.group(0) if kind else "an exception"
    if hidden:
        return f"{kind} (the message is not shown for hidden cases; see the visible example)"
    return message[:500]


class Outcome(tuple):
    """``(ok, message)``, as a case's verdict is used everywhere, with its parts kept apart for a
    part's feedback: ``problems``, what was wrong, and ``notes``, the oracles' hints, which the
    feedback shows once for the part however many cases repeat them."""

    def __new__(cls, ok, problems="", notes=()):
        message = problems + (" (" + "; ".join(notes) + ")" if notes else "")
        self = super().__new__(cls, (ok, message))
        self.problems, self.notes = problems, list(notes)
        return self


#: a case's verdict lists its first problems (one a wrong array or value) and says how many it leaves out
SHOWN_PROBLEMS = 4


def _listed(problems):
    """The first SHOWN_PROBLEMS of ``problems``, and how many more there were, in one line."""
    text = "; ".join(problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    return text + (f"; ... and {more} more problem{'s' if more > 1 else ''}" if more > 0 else "")


def judge(case, reply, function=None):
    """The ``Outcome`` ``(ok, message)`` of one case, from the harness's reply (a dict) or None if none came."""
    if reply is None:
        return Outcome(False, "no result (the process running your code stopped or ran out of time before this case)")
    status = reply.get("status")
    if status == "missing":
        return Outcome(False, f"{function or 'the function'} is not defined (or not a function)")
    if status == "timeout":
        return Outcome(False, "your function ran out of time on this case (an endless loop?)")
    notes = _notes(reply, case.oracles)
    if status == "error":
        return Outcome(False, f"your function raised {_exception(reply.get('message', ''), case.hidden)}", notes)
    if status != "ok":
        return Outcome(False, "no valid result came back for this case")
    problems = compare(reply.get("decoded"), case.expected, case.names, case.rtol, case.atol,
                       show_values=not case.hidden)
    if case.forbid_warnings and reply.get("warnings"):
        first = str(reply["warnings"][0])
        problems.append(f"it raised a warning ({first})" if _FP_WARNING.match(first) else "it raised a warning")
    if problems:
        return Outcome(False, _listed(problems), notes)
    return Outcome(True)

