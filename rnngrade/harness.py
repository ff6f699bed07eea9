"""Runs one submission's code in its own process and hands its results out as plain data.

This is the only grading code that runs next to a student's code, and it is trusted with
nothing: it holds no reference implementation, no expected outputs and no hidden tests; it
decides no points. The grader (``rnngrade.runner``) starts it, usually inside a sandbox, and
talks to it over two pipes:

1. The grader sends the student's code cells (stdin, one JSON line). The harness runs them in
   an IPython shell, in order, each under a time limit, and reports how each went.
2. It then writes ``{"ready": true}`` to the results pipe and, for every test case the grader
   sends, calls the student's function on the case's inputs and sends back what it returned,
   encoded as plain data (``rnngrade.wire``), with any warnings it raised.

Whatever the student's code does to this process (patching numpy, the builtins, IPython, this
module) it can change what is sent back, not how the grader judges it: the grader compares the
values with its own reference in its own process. Dependencies of a part on other graded parts
(the GRU step calls the student's ``sigmoid``) are served by *oracles*: stand-ins that answer
the calls the reference would make on this case's inputs with the reference's results, so that
a mistake in one part does not cost the points of another. A call the reference would not make
(the part itself is wrong) is answered by the student's own function, as in their notebook, and
noted.

A case whose first argument is a *driver* (``{"__harness__": "train_chunks"}``) is run by it: the
driver calls the student's function itself and returns what the grader compares
(``train_chunks``: several calls in a row, as a training loop would, steps of truncated
backprop through time, each from the state the step before returned; ``keeps_inputs``: one
call, and the arguments as it left them; ``counted_scan``: a scan with an operator of the
harness's, and how many times beyond a bound it called the operator).

Run as ``python harness.py <results-fd>``.
"""

import json
import os
import signal
import sys
import traceback
import warnings

import numpy as np

try:  # inside the package (the grader, in-cell checks) or as a script next to wire.py (sandbox)
    from . import wire
except ImportError:
    import wire


class CellTimeout(BaseException):
    """Raised inside student code when it exceeds its time limit (not an ``Exception``, so that
    a bare ``except Exception`` in the student's code does not swallow it)."""


def _on_alarm(signum, frame):
    raise CellTimeout("time limit exceeded")


def _time_limit(seconds):
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))


def _clear_limit():
    signal.setitimer(signal.ITIMER_REAL, 0.0)


def toy_cell(inputs, weights):
    """A simple cell for testing ``scan`` on its own: ``h' = tanh(W [h; x] + b)``, ``y = 2 h'``."""
    x, h = inputs
    W, b = weights
    h_next = np.tanh(W @ np.concatenate([h, x]) + b)
    return 2.0 * h_next, h_next


class Driver:
    """A harness function that runs a case by calling the student's function itself (see ``call``)."""

    def __init__(self, run):
        self.run = run

    def __call__(self, fn, *args):
        return self.run(fn, *args)


def train_chunks(train_step, cell, params, ids, T, state, lr, max_norms):
    """Truncated BPTT along B streams of character ids ``ids`` (N, B), one chunk of ``T`` steps
    after the other: ``train_step(cell, params, X_ids, Y_ids, state, lr, max_norm)`` on chunk
    ``k``, ``X_ids = ids[k T:(k + 1) T]`` and ``Y_ids`` the characters after them, with the
    ``k``-th of ``max_norms`` (one chunk for each), from the state the call before returned;
    ``train_step`` updates ``params`` (a dict of arrays) in place. Returns every call's loss,
    every call's state and the parameters' values at the end."""
    losses, states = [], []
    for k, max_norm in enumerate(max_norms):
        X_ids, Y_ids = ids[k * T:(k + 1) * T], ids[k * T + 1:(k + 1) * T + 1]
        out = train_step(cell, params, X_ids, Y_ids, state, lr, max_norm)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"train_step must return (loss, state); got {type(out).__name__}"
                            + (f" of {len(out)} items" if isinstance(out, (tuple, list)) else ""))
        loss, state = out
        losses.append(loss)
        states.append(state)
    return losses, states, list(params.values())


def keeps_inputs(fn, *args):
    """``fn(*args)``, and the arguments as the call left them: ``(answer, args)``, so that the
    grader sees whether the student's function changed the arrays passed to it."""
    return fn(*args), list(args)


# Associative operators on tuples of batched arrays (time first) for testing ``scan_inclusive``
# on its own: sums (commutative), products of 2x2 matrices and compositions of affine maps
# ``x -> x A + v`` of row vectors (neither commutative).
def scan_add(first, then):
    return tuple(first[k] + then[k] for k in range(len(first)))


def scan_matmul(first, then):
    (A,), (B,) = first, then
    return (A @ B,)


def scan_affine(first, then):
    (A1, v1), (A2, v2) = first, then
    return (A1 @ A2, v1 @ A2 + v2)


def counted_scan(scan, op, elems, reverse, max_calls):
    """``scan(fn, elems)`` (with ``reverse=True`` when ``reverse``), ``fn`` the operator ``op``
    counting its calls: ``(the scan's answer, how many calls beyond max_calls)``, so that the
    grader sees a loop of T calls where a scan takes O(log T)."""
    calls = [0]

    def fn(first, then):
        calls[0] += 1
        return op(first, then)

    out = scan(fn, elems, reverse=True) if reverse else scan(fn, elems)
    return out, max(0, calls[0] - max_calls)


HARNESS_FUNCTIONS = {"toy_cell": toy_cell, "train_chunks": Driver(train_chunks),
                     "keeps_inputs": Driver(keeps_inputs), "counted_scan": Driver(counted_scan),
                     "scan_add": scan_add, "scan_matmul": scan_matmul, "scan_affine": scan_affine}


FAILED = object()  # what _their_answer gives when the student's own function fails


def _their_answer(own, args):
    """``own(*args)``: the student's own function's answer, as in their notebook; ``FAILED`` if
    there is no such function or it raises (a time limit still stops it)."""
    if own is None:
        return FAILED
    try:
        return own(*args)
    except Exception:  # noqa: BLE001 (anything the student's code raises)
        return FAILED


class ElementwiseOracle:
    """Stands in for an elementwise function (the student's sigmoid) inside another part.

    Knows the function's value at the points the reference evaluates it on this case's inputs.
    Other points (the argument is wrong) get the student's own function's values, as in their
    notebook, or NaN if it fails (missing, raising, wrong shape); either way a note says so.
    ``xs`` and ``ys`` are 1-d arrays of the same length; ``own`` is the student's function or None.
    """

    def __init__(self, name, xs, ys, log, own=None):
        order = np.argsort(xs)
        self.name, self.xs, self.ys, self.log, self.own = name, xs[order], ys[order], log, own

    def _their_values(self, a):
        """The student's own function at ``a``, flattened; None if it fails or returns no array
        of ``a``'s shape."""
        theirs = _their_answer(self.own, (a,))
        if theirs is FAILED:
            return None
        try:
            theirs = np.asarray(theirs, dtype=np.float64)
        except Exception:  # noqa: BLE001 (an object of the student's that is no array of numbers)
            return None
        return theirs.ravel() if theirs.shape == a.shape else None

    def __call__(self, a, *args, **kwargs):
        a = np.asarray(a, dtype=np.float64)
        flat = a.ravel()
        j = np.clip(np.searchsorted(self.xs, flat), 1, len(self.xs) - 1)
        j = np.where(np.abs(self.xs[j - 1] - flat) <= np.abs(self.xs[j] - flat), j - 1, j)
        ok = np.abs(self.xs[j] - flat) <= 1e-9 * np.maximum(1.0, np.abs(self.xs[j]))
        other = np.nan
        if not ok.all():
            theirs = self._their_values(a)
            self.log.append(f"{self.name}:unexpected-input" + ("-nan" if theirs is None else ""))
            if theirs is not None:
                other = theirs
        out = np.where(ok, self.ys[j], other).reshape(a.shape)
        return out if out.ndim else float(out)


_DICT_VIEWS = (type({}.keys()), type({}.values()), type({}.items()))


def _at(obj, path):
    for k in path:
        obj = obj[k]
    return obj


class CallOracle:
    """Stands in for a whole function (the student's step backward inside their loop).

    Each entry matches a call by some arguments (exact), checks others (close), and answers
    with the reference result. A call that matches no entry, or matches with wrong values, gets
    the student's own function's answer, as in their notebook, or NaNs of the right shapes if it
    fails; either way a note says so. Entries address arguments by position; ``params``, the
    function's parameter names, puts keyword arguments in their places.
    """

    def __init__(self, name, entries, log, own=None, params=()):
        self.name, self.entries, self.log, self.own, self.params = name, entries, log, own, tuple(params)

    def _nan_like(self, obj):
        if isinstance(obj, np.ndarray):
            return np.full_like(obj, np.nan)
        if isinstance(obj, (tuple, list)):
            return type(obj)(self._nan_like(o) for o in obj)
        return obj

    def _theirs(self, code, args, like):
        """The student's own answer to a call the reference does not make (noted as ``code``),
        or NaNs shaped like ``like`` if their function fails."""
        theirs = _their_answer(self.own, args)
        self.log.append(f"{self.name}:{code}" + ("-nan" if theirs is FAILED else ""))
        return self._nan_like(like) if theirs is FAILED else theirs

    def _positional(self, args, kwargs):
        """``args`` followed by the keyword arguments in their parameters' places (None for a
        parameter skipped); None when a keyword names no parameter after the positional ones."""
        names = self.params[len(args):]
        if not set(kwargs) <= set(names):
            return None
        last = max(names.index(k) for k in kwargs)
        return args + tuple(kwargs.get(k) for k in names[:last + 1])

    def __call__(self, *args, **kwargs):
        if kwargs:
            bound = self._positional(args, kwargs)
            if bound is None:
                return self._theirs("no-match", args, self.entries[0]["result"])
            args = bound
        args = tuple(list(a) if isinstance(a, _DICT_VIEWS) else a for a in args)  # indexable like a list
        for entry in self.entries:
            try:
                if all(np.array_equal(np.asarray(_at(args, p)), v) for p, v in entry["match"]):
                    if all(np.allclose(np.asarray(_at(args, p), dtype=float), v, rtol=1e-9, atol=1e-12)
                           for p, v in entry["check"]):
                        return wire.decode(wire.encode(entry["result"]))  # a fresh copy
                    return self._theirs("wrong-input", args, entry["result"])
            except (IndexError, KeyError, TypeError, ValueError):
                continue
        return self._theirs("no-match", args, self.entries[0]["result"])


def resolve(obj):
    """Replace ``{"__harness__": name}`` placeholders with the harness's functions."""
    if isinstance(obj, dict) and set(obj) == {"__harness__"}:
        return HARNESS_FUNCTIONS[obj["__harness__"]]
    if isinstance(obj, list):
        return [resolve(o) for o in obj]
    if isinstance(obj, tuple):
        return tuple(resolve(o) for o in obj)
    return obj


def call(ns, function, args, oracles, timeout=None):
    """Call ``ns[function](*args)`` with the oracles standing in for the names they replace; when
    ``args[0]`` is a ``Driver``, ``args[0](ns[function], *args[1:])`` instead.

    Returns the reply for the grader: ``status`` ("ok", "missing", "error", "timeout"), the
    returned ``value`` encoded as plain data, the ``warnings`` raised and the oracles' notes
    (``log``). The namespace is restored afterwards. Used by the harness (in the sandbox, with a
    time limit) and by ``rnngrade.incell`` (in a notebook's kernel).
    """
    log, saved = [], {}
    fn = ns.get(function)
    if not callable(fn):
        return {"status": "missing", "log": []}
    try:
        for name, spec in oracles.items():
            saved[name] = ns.get(name, saved)
            own = saved[name] if callable(saved[name]) else None
            ns[name] = (ElementwiseOracle(name, spec["xs"], spec["ys"], log, own) if spec["kind"] == "elementwise"
                        else CallOracle(name, spec["entries"], log, own, spec.get("params", ())))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
                if timeout:
                    _time_limit(timeout)
                try:
                    value = args[0](fn, *args[1:]) if args and isinstance(args[0], Driver) else fn(*args)
                finally:
                    if timeout:
                        _clear_limit()
        return {"status": "ok", "value": wire.encode(value), "log": log[:5],
                "warnings": [f"{w.category.__name__}: {w.message}"[:300] for w in caught][:5]}
    except BaseException as exc:  # noqa: BLE001 (anything the student's code raises)
        if timeout:
            _clear_limit()
        return {"status": "timeout" if isinstance(exc, CellTimeout) else "error", "message": _short(exc),
                "log": log[:5]}
    finally:
        for name, old in saved.items():
            if old is saved:
                ns.pop(name, None)
            else:
                ns[name] = old


def _short(exc):
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text if len(text) <= 500 else text[:500] + " ..."


def main():
    # past the file-size limit, a write fails (EFBIG) instead of killing the process
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    out = os.fdopen(int(sys.argv[1]), "wb", buffering=0)
    inp = os.fdopen(0, "rb", buffering=0)
    readline = inp.readline
    dumps, encode, decode = wire.dumps, wire.encode, wire.decode

    def send(msg):
        out.write((dumps(msg) + "\n").encode())

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    ns = shell.user_ns

    job = json.loads(readline())
    for cell in job["cells"]:
        status, message = "ok", ""
        try:
            _time_limit(job["cell_timeout"])
            result = shell.run_cell(cell["source"], store_history=False)
            _clear_limit()
            err = result.error_before_exec or result.error_in_exec
            if err is not None:
                status = "timeout" if isinstance(err, CellTimeout) else "error"
                message = _short(err)
        except BaseException as exc:  # noqa: BLE001 (anything the student's code raises)
            _clear_limit()
            status, message = "error", _short(exc)
        send({"cell": cell["index"], "status": status, "message": message})

    send({"ready": True})
    while True:
        line = readline()
        if not line:
            return
        case = json.loads(line)
        if case.get("done"):
            return
        try:
            args = resolve(decode(case["args"]))
            oracles = {name: {k: decode(v) for k, v in spec.items()}
                       for name, spec in case.get("oracles", {}).items()}
            reply = call(ns, case["function"], args, oracles, case["timeout"])
        except BaseException as exc:  # noqa: BLE001 (a malformed case, or a patched decoder)
            reply = {"status": "error", "message": _short(exc), "log": []}
        reply["id"] = case["id"]
        send({"result": reply})


if __name__ == "__main__":
    try:
        main()
    except Exception:  # a broken harness is reported on stderr; the grader sees the missing results
        traceback.print_exc()
        sys.exit(1)
