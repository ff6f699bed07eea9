"""Assignment 7, parallel scans: its graded parts and their cases.

The parts:

- ``combine(first, then) -> (a, b)``, the associative operator of the linear recurrence
  ``h_t = a_t h_{t-1} + b_t``: the pairs ``(a, b)`` are the affine maps ``h -> a h + b``, and
  ``combine`` is ``then`` after ``first``, ``(a_1 a_2, a_2 b_1 + b_2)``, element by element on
  batched arrays; against ``rnnlib.recurrence.compose``. Random arrays of several shapes (a
  batch of slices (n, H, B), one slice (H, B), n = 1), so that every other order of the operands
  and every other term is wrong.
- ``scan_inclusive(fn, elems, reverse=False) -> out``, an inclusive scan of a tuple of arrays
  along axis 0 under an associative ``fn`` on tuples of batched slices, with
  ``jax.lax.associative_scan``'s meaning (``reverse``: the scan of the reversed sequence, reversed
  back); against ``rnnlib.associative_scan``. The grader calls it through the harness's
  ``counted_scan`` driver with an operator of the harness's (sums, products of 2x2 matrices,
  compositions of affine maps of 2-vectors: the last two not commutative), and judges the
  answer and the number of calls of ``fn``: at most ``max_calls(T)``, O(log T), where a loop
  that combines one element at a time makes T - 1. Lengths 1, 2, odd, even, powers of two and
  not, 100 and 200 (where a loop's calls exceed the bound), forward and reverse.
- ``mingru_forward(weights, X, h_0) -> (hs, cache)``, minGRU over a sequence: every step's gate
  and candidate in one product, then the recurrence with ``a = 1 - z``, ``b = z c`` (``h_0``
  folded into the first step) by the student's own scan; against ``rnnlib.forward("mingru")``.
  The cache is ``(X, h_0, z, c, hs)``, a layout fixed for part 4. The student's
  ``scan_inclusive`` is answered by an oracle: its call ``scan_inclusive(fn, (a, b))`` forward
  in time with the reference's ``a`` and ``b`` gets the reference's scan, whatever ``fn`` (so
  that parts 1 and 2 cost part 3 nothing); a call with other pairs, or with ``reverse=True``, is
  answered by the student's own scan and noted.
- ``mingru_backward(dhs, cache, weights) -> ((dW_z, dW_h, db_z, db_h), dX, dh_0)``, against
  ``rnnlib.backward``, on the reference's cache in part 3's layout (so that this part is judged
  alone). The oracle answers ``scan_inclusive(fn, (a_next, dhs), reverse=True)``, ``a_next`` the
  next step's ``1 - z`` (its last entry, which multiplies nothing, 0, 1 or ``a_0`` as
  ``np.roll`` leaves it), with the reference's scan.

In both, ``combine``, which the student's code passes to their scan, is their own function
behind an oracle that answers every call with it: the name is defined even where their cell
could not be read, and the calls their own scan makes of it (after a call the reference does
not make) are noted with the scan's note.

The cells' sizes and names are minGRU's own (``rnnlib.CELLS["mingru"]``). Every minGRU case
has H != D and an initial state that is not zero; between them: B = 1, T = 1, a long sequence,
and an edges case (a zero and a large batch column, ``rnngrade.specs.cases``).

Hidden cases' inputs derive from the course secret (``rnngrade.secret.case_rng``) and their case
numbers below; the visible examples (case 0) are the notebook's, from their fixed seeds.
"""

import math

import numpy as np

import rnnlib
from rnnlib.recurrence import compose

from ..harness import scan_add, scan_affine, scan_matmul
from .cases import case_rng, grad_names, hidden_rngs, label, random_weights, set_edges
from .types import Assignment, Case, Part

NAME = "scan"
CELL = "mingru"
WEIGHT_NAMES = rnnlib.CELLS[CELL].weight_names
#: the harness's operators, by the name the grader sends
OPERATORS = {"scan_add": scan_add, "scan_matmul": scan_matmul, "scan_affine": scan_affine}
#: what the feedback calls each operator's examples
OPERATOR_TITLES = {"scan_add": "sums", "scan_matmul": "2x2 matrix products", "scan_affine": "affine maps (A, v)"}
#: the cache's entries, named by position
CACHE_NAMES = ("cache[0] X", "cache[1] h_0", "cache[2] z", "cache[3] c", "cache[4] hs")
#: the scan_inclusive oracle's notes (rnngrade.judge), by code
SCAN_NOTES = {
    "wrong-input": "your code called scan_inclusive with other arguments than the reference's calls (forward: "
                   "scan_inclusive(combine, (a, b)) with a = 1 - z, b = z * c and b[0] = a[0] * h_0 + b[0]; backward: "
                   "scan_inclusive(combine, (a_next, dhs), reverse=True) with a_next[t] = a[t + 1]), so your own "
                   "scan_inclusive answered",
    "no-match": "your code called scan_inclusive with elems that are not a tuple of arrays (forward: "
                "scan_inclusive(combine, (a, b)); backward: scan_inclusive(combine, (a_next, dhs), reverse=True))",
}
#: the oracle's last entry: any other call whose elems are a tuple of arrays (a recursive scan's
#: own calls among them) is answered by the student's own scan, with the same note
OTHER_CALLS = {"match": [], "check": [[[1, 0, 0], np.nan]]}
#: the student's ``combine``, which minGRU's passes hand to their scan: always their own (the
#: oracle of the scan answers the reference's calls without calling it), and defined even where
#: their cell could not be read, so that a lost part 1 costs parts 3 and 4 nothing
COMBINE = {"kind": "calls", "entries": [{"match": [[[0], np.nan]], "check": [], "result": (np.nan, np.nan)}],
           "notes": {"no-match": SCAN_NOTES["wrong-input"]}, "params": ["first", "then"]}


def max_calls(T):
    """How many calls of ``fn`` a scan of length T may make: ``4 ceil(log2 T) + 2``, O(log T). The
    work-efficient scan makes about ``2 log2 T``, Hillis and Steele's ``ceil(log2 T)``; a loop
    over the elements makes ``T - 1``, more than this from T = 24 on."""
    return 4 * math.ceil(math.log2(T)) + 2 if T > 1 else 2


def _rng(grade_id, i, seed, secret):
    return case_rng(hidden_rngs(secret, NAME), grade_id, i, seed)


# --------------------------------------------------------------------------- combine

def combine_problem(rng, shape=(4, 3, 2)):
    """The notebook's ``combine_problem`` drawn from ``rng``: two pairs ``(a, b)`` of arrays of ``shape``."""
    return tuple(tuple(rng.standard_normal(shape) for _ in "ab") for _ in "12")


COMBINE_SEED = 1


def _combine_part(secret):
    gid = "test_combine"
    cases = []
    for i, (seed, shape) in enumerate([(COMBINE_SEED, (4, 3, 2)), (7101, (5, 3, 2)), (7102, (1, 4, 1)),
                                       (7103, (3, 2, 6)), (7104, (4, 3))]):
        first, then = combine_problem(_rng(gid, i, seed, secret), shape)
        what = "the visible example" if i == 0 else label(i, shape=shape) + (", one slice (H, B)" if len(shape) == 2
                                                                             else "")
        cases.append(Case(what, (first, then), compose(first, then), ("a", "b"), hidden=i > 0))
    return Part(gid, 2, "combine", cases)


# --------------------------------------------------------------------------- scan_inclusive

def scan_elems(rng, op, T):
    """Elements of length T for the harness's operator ``op``: sums of 3-vectors; 2x2 matrices
    whose products neither grow nor shrink much over hundreds of steps (a rotation times a
    factor near 1, plus noise); affine maps ``(A, v)``, such matrices and row 2-vectors."""
    def matrices():
        angle = rng.uniform(0.0, 2 * np.pi, T)
        c, s = np.cos(angle), np.sin(angle)
        rotation = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
        return rotation * rng.uniform(0.9, 1.1, (T, 1, 1)) + 0.3 * rng.standard_normal((T, 2, 2))

    if op == "scan_add":
        return (rng.standard_normal((T, 3)),)
    if op == "scan_matmul":
        return (matrices(),)
    return matrices(), rng.standard_normal((T, 1, 2))


def scan_examples():
    """The notebook's examples, ``{label: (operator name, elems, reverse)}``."""
    rng = np.random.default_rng(7)
    matrices = scan_elems(rng, "scan_matmul", 7)
    affine = scan_elems(rng, "scan_affine", 6)
    sums = scan_elems(rng, "scan_add", 37)
    pair = scan_elems(rng, "scan_affine", 2)
    return {"2x2 matrix products, T = 7": ("scan_matmul", matrices, False),
            "2x2 matrix products, T = 7, reverse=True": ("scan_matmul", matrices, True),
            "affine maps (A, v), T = 6": ("scan_affine", affine, False),
            "sums, T = 37": ("scan_add", sums, False),
            "affine maps (A, v), T = 2, reverse=True": ("scan_affine", pair, True)}


def scan_names(elems, T):
    """The pieces of a scan's answer as the feedback names them: ``out[k]`` for each array, and
    the calls beyond the bound."""
    return (tuple(f"out[{k}]" for k in range(len(elems))),
            f"the number of calls of fn beyond the {max_calls(T)} allowed for T = {T} (a loop makes {T - 1})")


def _scan_case(label_, op, elems, reverse, hidden):
    T = len(elems[0])
    expected = rnnlib.associative_scan(OPERATORS[op], elems, reverse=reverse)
    args = ({"__harness__": "counted_scan"}, {"__harness__": op}, elems, reverse, max_calls(T))
    return Case(label_, args, (expected, 0), scan_names(elems, T), hidden=hidden)


def _scan_part(secret):
    gid = "test_scan_inclusive"
    cases = [_scan_case(f"the visible example ({name})", op, elems, reverse, False)
             for name, (op, elems, reverse) in scan_examples().items()]
    for i, (seed, op, T, reverse) in enumerate([
            (7201, "scan_matmul", 1, False), (7202, "scan_matmul", 2, False), (7203, "scan_matmul", 5, True),
            (7204, "scan_matmul", 8, False), (7205, "scan_matmul", 13, True), (7206, "scan_matmul", 100, False),
            (7207, "scan_affine", 3, False), (7208, "scan_affine", 11, True), (7209, "scan_affine", 64, False),
            (7210, "scan_add", 9, False), (7211, "scan_add", 1, True), (7212, "scan_add", 200, True)], 1):
        elems = scan_elems(_rng(gid, i, seed, secret), op, T)
        what = f"hidden case {i} ({OPERATOR_TITLES[op]}, T={T}" + (", reverse=True)" if reverse else ")")
        cases.append(_scan_case(what, op, elems, reverse, True))
    return Part(gid, 3, "scan_inclusive", cases)


# --------------------------------------------------------------------------- minGRU

def mingru_problem(rng, T=6, D=3, H=4, B=3, edges=False):
    """The notebook's ``mingru_problem`` drawn from ``rng``: weights in minGRU's layout, X (T, D, B),
    h_0 (H, B) and an upstream gradient dhs (T, H, B); with ``edges``, X and h_0 hold a zero and
    a large column (``set_edges``)."""
    weights = random_weights(rng, CELL, H, D)
    X, h_0 = rng.standard_normal((T, D, B)), rng.standard_normal((H, B))
    if edges:
        set_edges(X, h_0)
    return weights, X, h_0, rng.standard_normal((T, H, B))


def reference_forward(weights, X, h_0):
    """rnnlib's minGRU over X, its cache laid out as part 3's: ``(hs, (X, h_0, z, c, hs))``."""
    hs, cache = rnnlib.forward(CELL, weights, X, h_0)
    return hs, (X, h_0, cache.saved["z"], cache.saved["c"], hs)


def recurrence_pairs(weights, X, h_0):
    """The pairs ``(a, b)`` of the forward's recurrence, ``h_0`` folded into the first."""
    _, (_, _, z, c, _) = reference_forward(weights, X, h_0)
    a, b = 1.0 - z, z * c
    b[0] += a[0] * h_0
    return a, b


#: the notebook's seeds: part 3's example, part 4's
FORWARD_SEED, BACKWARD_SEED = 3, 4
#: (case number, sizes) of the hidden cases, forward and backward
FORWARD_SIZES = [(7301, dict(T=7, D=3, H=5, B=2)), (7302, dict(T=1, D=4, H=3, B=3)),
                 (7303, dict(T=37, D=2, H=4, B=1)), (7304, dict(T=5, D=3, H=4, B=3, edges=True))]
BACKWARD_SIZES = [(7401, dict(T=6, D=4, H=3, B=2)), (7402, dict(T=1, D=2, H=5, B=3)),
                  (7403, dict(T=29, D=3, H=2, B=1)), (7404, dict(T=4, D=3, H=4, B=3, edges=True))]


def _forward_case(i, label_, weights, X, h_0):
    a, b = recurrence_pairs(weights, X, h_0)
    result = rnnlib.associative_scan(compose, (a, b))
    entries = [  # a reverse scan is answered by the student's own; the forward one with (a, b) by the reference
        {"match": [[[2], True]], "check": [[[2], False]], "result": result},
        {"match": [], "check": [[[1, 0], a], [[1, 1], b]], "result": result},
        dict(OTHER_CALLS, result=result)]
    oracles = {"scan_inclusive": {"kind": "calls", "entries": entries, "notes": SCAN_NOTES,
                                  "params": ["fn", "elems", "reverse"]}, "combine": COMBINE}
    return Case(label_, (weights, X, h_0), reference_forward(weights, X, h_0), ("hs", CACHE_NAMES),
                hidden=i > 0, oracles=oracles)


def _forward_part(secret):
    gid = "test_mingru_forward"
    weights, X, h_0, _ = mingru_problem(np.random.default_rng(FORWARD_SEED))
    cases = [_forward_case(0, "the visible example", weights, X, h_0)]
    for i, (seed, sizes) in enumerate(FORWARD_SIZES, 1):
        weights, X, h_0, _ = mingru_problem(_rng(gid, i, seed, secret), **sizes)
        cases.append(_forward_case(i, label(i, **sizes), weights, X, h_0))
    return Part(gid, 3, "mingru_forward", cases)


def next_steps(a, last):
    """``a_next[t] = a[t + 1]``, and ``last`` after the last step."""
    return np.concatenate([a[1:], last[None]])


def _backward_case(i, label_, weights, X, h_0, dhs):
    _, cache = reference_forward(weights, X, h_0)
    a = 1.0 - cache[2]
    entries = []
    for last in (np.zeros_like(a[0]), np.ones_like(a[0]), a[0]):        # what the last step's a_next may be
        a_next = next_steps(a, last)
        entries.append({"match": [[[2], True], [[1, 0, -1], last]], "check": [[[1, 0], a_next], [[1, 1], dhs]],
                        "result": rnnlib.associative_scan(compose, (a_next, dhs), reverse=True)})
    entries.append(dict(OTHER_CALLS, result=entries[0]["result"]))
    oracles = {"scan_inclusive": {"kind": "calls", "entries": entries, "notes": SCAN_NOTES,
                                  "params": ["fn", "elems", "reverse"]}, "combine": COMBINE}
    dweights, dX, dh_0 = rnnlib.backward(dhs, rnnlib.forward(CELL, weights, X, h_0)[1])
    return Case(label_, (dhs, cache, weights), (tuple(dweights), dX, dh_0), (grad_names(CELL), "dX", "dh_0"),
                hidden=i > 0, oracles=oracles)


def _backward_part(secret):
    gid = "test_mingru_backward"
    weights, X, h_0, dhs = mingru_problem(np.random.default_rng(BACKWARD_SEED))
    cases = [_backward_case(0, "the visible example", weights, X, h_0, dhs)]
    for i, (seed, sizes) in enumerate(BACKWARD_SIZES, 1):
        cases.append(_backward_case(i, label(i, **sizes), *mingru_problem(_rng(gid, i, seed, secret), **sizes)))
    return Part(gid, 4, "mingru_backward", cases)


def build(secret=None):
    return Assignment(
        NAME, "scan.ipynb",
        [_combine_part(secret), _scan_part(secret), _forward_part(secret), _backward_part(secret)],
        skip_cells=frozenset({"gradcheck", "work_depth"}),
        # rnnlib's sigmoid stays; its scans, recurrences and cells (the answers) go with every
        # module not kept
        keep_in_rnnlib=frozenset({"activations"}))
