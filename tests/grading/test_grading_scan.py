"""Assignment 7, parallel scans, on the grader's side: what its hidden cases guarantee, that its
visible examples are the notebook's, the count of the scan's calls, the oracle that stands in for
the student's scan inside minGRU's forward and backward, and the grading copy of rnnlib.

The round trip (the solution, the typical mistakes each losing its part's points, cheats and
broken submissions, through ``python -m rnngrade all``) is in test_grading.py, the visible checks
against the grader in test_visible_checks.py, and the attacks in test_grading_security.py, beside
the other assignments. Everything here runs in this process (one probe of the grading copy in a
subprocess): about two seconds.
"""

import copy
import math

import numpy as np
import pytest

import rnnlib
from grading_support import SCAN_LOOP, assert_visible_checks_call_as_the_grader, mutate, probe_grading_copy, solved
from rnngrade import harness, incell, judge, runner, specs
from rnngrade.specs import scan as spec_module
from rnnlib.recurrence import compose

SECRETS = [None, "one secret"]


def parts(secret=None):
    return {p.function: p for p in specs.get("scan", secret=secret).parts}


def hidden(part):
    return [c for c in part.cases if c.hidden]


def namespace(nb):
    """The notebook's code run as the grader runs it: every code cell but the checks and the skipped cells."""
    ns = {"__name__": "__main__"}
    for c in runner.code_cells(nb, specs.get("scan")):
        exec(compile(c["source"], f"cell {c['index']}", "exec"), ns)
    return ns


def outcomes(ns, function, secret=None):
    part = parts(secret)[function]
    return [judge.judge(case, incell.run_case(case, function, ns), function) for case in part.cases]


# --------------------------------------------------------------------------- the hidden cases

@pytest.mark.parametrize("secret", SECRETS)
def test_scan_cases_cover_lengths_operators_reverse_and_the_count(secret):
    """Lengths 1, 2, odd and even, a power of two, long ones where a loop's T - 1 calls exceed the
    bound; every operator forward and reverse; two operators that are not commutative; each case
    judged on the number of calls too."""
    seen = set()
    for c in parts(secret)["scan_inclusive"].cases:
        driver, op, elems, reverse, bound = c.args
        T = len(elems[0])
        assert driver == {"__harness__": "counted_scan"} and bound == spec_module.max_calls(T)
        assert c.expected[1] == 0 and len(c.expected[0]) == len(elems)
        seen.add((op["__harness__"], T, reverse))
    hidden_lengths = {T for c in hidden(parts(secret)["scan_inclusive"]) for T in [len(c.args[2][0])]}
    assert {1, 2} <= hidden_lengths and any(T % 2 for T in hidden_lengths if T > 1)
    assert any(T & (T - 1) == 0 and T > 2 for T in hidden_lengths)
    assert [T for T in hidden_lengths if T - 1 > spec_module.max_calls(T)], "no case where a loop's calls show"
    for op in spec_module.OPERATORS:
        assert {r for o, _, r in seen if o == op} == {False, True}, op
    # not commutative: the scan with the operands swapped is another answer
    for c in hidden(parts(secret)["scan_inclusive"]):
        _, op, elems, reverse, _ = c.args
        fn = spec_module.OPERATORS[op["__harness__"]]
        if op["__harness__"] != "scan_add" and len(elems[0]) > 1:
            swapped = rnnlib.associative_scan(lambda p, q: fn(q, p), elems, reverse=reverse)
            assert not all(np.allclose(s, e) for s, e in zip(swapped, c.expected[0])), c.label


def test_the_bound_on_calls_lets_both_scans_through_and_stops_a_loop():
    for T in range(1, 300):
        depth_blelloch = 2 * int(math.floor(math.log2(T)))
        assert max(depth_blelloch, math.ceil(math.log2(T))) <= spec_module.max_calls(T)
    assert [T for T in range(2, 1000) if T - 1 > spec_module.max_calls(T)] == list(range(24, 1000))


@pytest.mark.parametrize("secret", SECRETS)
def test_mingru_cases_cover_the_sizes(secret):
    for function in ("mingru_forward", "mingru_backward"):
        sizes = []
        for c in parts(secret)[function].cases:
            weights, X, h_0 = c.args if function == "mingru_forward" else (c.args[2], c.args[1][0], c.args[1][1])
            (T, D, B), H = X.shape, h_0.shape[0]
            assert H != D and np.abs(h_0).min(axis=0).max() > 0, c.label   # h_0 matters
            assert [w.shape for w in weights] == list(rnnlib.CELLS["mingru"].shapes(D, H))
            sizes.append((T, B))
        assert min(T for T, _ in sizes) == 1 and min(B for _, B in sizes) == 1 and max(T for T, _ in sizes) > 20
        edges = [c for c in hidden(parts(secret)[function]) if "a zero and a large batch column" in c.label]
        assert len(edges) == 1


@pytest.mark.parametrize("secret", SECRETS)
def test_combine_cases_tell_every_order_of_the_operands(secret):
    for c in parts(secret)["combine"].cases:
        (a1, b1), (a2, b2) = c.args
        for wrong in (compose((a2, b2), (a1, b1)), (a1 * a2, a1 * b2 + b1), (a1 * a2, b1 + b2)):
            assert not np.allclose(wrong[1], c.expected[1]), c.label
    assert {c.args[0][0].ndim for c in hidden(parts(secret)["combine"])} == {2, 3}


def test_the_harness_operators_are_associative_and_not_commutative():
    rng = np.random.default_rng(0)
    for op in spec_module.OPERATORS:
        p, q, r = (spec_module.scan_elems(rng, op, 1) for _ in range(3))
        fn = spec_module.OPERATORS[op]
        for x, y in zip(fn(fn(p, q), r), fn(p, fn(q, r))):
            assert np.allclose(x, y)
        assert (op == "scan_add") == all(np.allclose(x, y) for x, y in zip(fn(p, q), fn(q, p)))


def test_the_visible_examples_are_the_notebooks():
    """The visible check cells call the student's functions on exactly the arguments of the
    grader's visible examples (which the feedback shows), in the same order; the scan with a
    counting operator of its own (compared: elems and reverse)."""
    def recording(fn, calls):
        def record(*args, **kwargs):
            if fn.__name__ == "scan_inclusive":  # the operator is a function: compare what it scans
                calls.append((copy.deepcopy(args[1]), kwargs.get("reverse", False)))
            else:
                calls.append(copy.deepcopy(args))
            return fn(*args, **kwargs)
        return record

    assert_visible_checks_call_as_the_grader("scan", namespace(solved("scan")), recording)


# --------------------------------------------------------------------------- the count of calls

HILLIS_STEELE = """    out = tuple(x[::-1] for x in elems) if reverse else tuple(elems)
    d = 1
    while d < T:
        later = fn(tuple(s[:T - d] for s in out), tuple(s[d:] for s in out))
        out = tuple(np.concatenate([s[:d], l]) for s, l in zip(out, later))
        d *= 2
    if reverse:
        out = tuple(s[::-1] for s in out)
"""


def test_hillis_and_steele_pass_and_a_loop_is_told_it_calls_too_often():
    """Another right scan (Hillis and Steele's) gets the points; a loop over the elements gets right
    values and loses the part where T - 1 calls exceed the bound, and only there."""
    region = SCAN_LOOP[0]
    ns = namespace(mutate(solved("scan"), "scan_inclusive", region, HILLIS_STEELE))
    assert all(ok for ok, _ in outcomes(ns, "scan_inclusive"))
    ns = namespace(mutate(solved("scan"), "scan_inclusive", *SCAN_LOOP))
    part = parts()["scan_inclusive"]
    for case, (ok, message) in zip(part.cases, outcomes(ns, "scan_inclusive")):
        T = len(case.args[2][0])
        assert ok == (T - 1 <= spec_module.max_calls(T)), (case.label, message)
        if not ok:
            assert message.startswith(f"the number of calls of fn beyond the {spec_module.max_calls(T)} allowed"), message
            assert "out[" not in message


def test_the_driver_counts_every_call_and_reports_the_excess():
    calls = []

    def scan(fn, elems, reverse=False):
        calls.append(reverse)
        out = elems
        for _ in range(5):
            out = fn(out, out)
        return out

    out, excess = harness.counted_scan(scan, harness.scan_add, (np.ones((2, 1)),), True, 3)
    assert excess == 2 and calls == [True] and np.array_equal(out[0], 32 * np.ones((2, 1)))
    assert harness.counted_scan(scan, harness.scan_add, (np.ones((2, 1)),), False, 9)[1] == 0 and calls[-1] is False


# --------------------------------------------------------------------------- the oracle for the scan

def test_a_wrong_operator_or_scan_costs_the_forward_and_backward_nothing():
    for cell, old, new in [("combine", "b = a2 * b1 + b2", "b = a1 * b2 + b1"),
                           ("scan_inclusive", "    if reverse:", "    raise ValueError()\n    if reverse:")]:
        ns = namespace(mutate(solved("scan"), cell, old, new))
        assert all(ok for ok, _ in outcomes(ns, "mingru_forward") + outcomes(ns, "mingru_backward")), cell


def test_without_a_combine_the_forward_and_backward_keep_their_points():
    """A combine cell the grader could not read (nothing defines the name) costs part 1 only: the
    grader's stand-in for combine defines it, and the oracle of the scan never calls it."""
    ns = namespace(solved("scan"))
    del ns["combine"]
    assert all(ok for ok, _ in outcomes(ns, "mingru_forward") + outcomes(ns, "mingru_backward"))
    assert "combine" not in ns


def test_a_call_with_other_pairs_is_answered_by_the_students_own_scan_and_noted():
    """h_0 not folded in: the pairs differ, the student's own (right) scan answers, the states are
    wrong, and the hint names the pairs (once, for the first call and the scan's own recursive calls)."""
    nb = mutate(solved("scan"), "mingru_forward", "    b[0] = a[0] * h_0 + b[0]", "    pass")
    got = outcomes(namespace(nb), "mingru_forward")
    assert not any(ok for ok, _ in got)
    assert all(o.notes == [spec_module.SCAN_NOTES["wrong-input"]] for o in got), got


def test_a_reverse_scan_in_the_forward_is_not_answered_by_the_reference():
    nb = mutate(solved("scan"), "mingru_forward", "scan_inclusive(combine, (a, b))",
                "scan_inclusive(combine, (a, b), reverse=True)")
    for case, (ok, _) in zip(parts()["mingru_forward"].cases, outcomes(namespace(nb), "mingru_forward")):
        assert ok == (case.args[1].shape[0] == 1), case.label      # one step reads the same both ways


@pytest.mark.parametrize("last", ["np.ones_like(a[:1])", "a[:1]"])
def test_the_backwards_scan_may_put_anything_after_the_last_step(last):
    """The last step's coefficient multiplies nothing: 0, 1, or a_0 as np.roll leaves it."""
    nb = mutate(solved("scan"), "mingru_backward", "np.concatenate([a[1:], np.zeros_like(a[:1])])",
                f"np.concatenate([a[1:], {last}])")
    nb = mutate(nb, "scan_inclusive", "    if reverse:", "    raise ValueError()\n    if reverse:")
    assert all(ok for ok, _ in outcomes(namespace(nb), "mingru_backward"))


# --------------------------------------------------------------------------- the grading copy of rnnlib

CALLS = """
import rnnlib, rnnlib.recurrence
w = tuple(np.zeros(s) for s in rnnlib.CELLS["mingru"].shapes(2, 3))
calls = {
    "sigmoid": lambda: rnnlib.sigmoid(np.zeros(2)),
    "associative_scan": lambda: rnnlib.associative_scan(lambda a, b: a + b, np.ones(3)),
    "linear_recurrence": lambda: rnnlib.linear_recurrence(np.ones((2, 1, 1)), np.ones((2, 1, 1))),
    "linear_recurrence_backward": lambda: rnnlib.linear_recurrence_backward(
        np.ones((2, 1, 1)), np.ones((2, 1, 1)), np.ones((2, 1, 1))),
    "compose": lambda: rnnlib.recurrence.compose((1.0, 1.0), (1.0, 1.0)),
    "mingru_step": lambda: rnnlib.mingru_step([np.zeros((2, 1)), np.zeros((3, 1))], w),
    "forward": lambda: rnnlib.forward("mingru", w, np.zeros((2, 2, 1)), np.zeros((3, 1))),
}
"""


def test_the_grading_copy_keeps_the_sigmoid_and_nothing_the_assignment_asks_for(tmp_path):
    got = probe_grading_copy(tmp_path, "scan", CALLS)
    assert len(got) == 7 and {k for k, v in got.items() if v == "works"} == {"sigmoid"}, got
