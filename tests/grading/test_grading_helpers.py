import numpy as np

from rnngrade import judge
from rnnlib.grading import (ATOL, RTOL, SUBNORMAL_ATOL, assert_all_close, assert_close, check_array, close, how_far,
                            tolerance)

import pytest


def test_precise_messages():
    e = np.arange(6.0).reshape(3, 2)
    assert check_array("y", e.copy(), e).ok
    assert "got None" in check_array("y", None, e).message
    assert "got a list" in check_array("y", e.tolist(), e).message
    assert "wrong shape: expected (3, 2), got (2, 3)" in check_array("y", e.T.copy(), e).message
    assert "wrong dtype" in check_array("y", e.astype(int), e).message
    assert "wrong dtype: expected float64, got float32" in check_array("y", e.astype(np.float32), e).message
    bad = e.copy()
    bad[2, 1] = np.nan
    assert "NaN or infinite, the first at index (2, 1)" in check_array("y", bad, e).message
    off = e.copy()
    off[1, 0] += 0.5
    off[2, 1] += 1e-3
    msg = check_array("y", off, e).message
    assert "2 of 6 values are wrong" in msg and "largest error is 0.5 at index (1, 0)" in msg


def test_subclasses_that_lie_are_refused():
    class Agreeable(np.ndarray):
        def __eq__(self, other):
            return True

    e = np.ones(3)
    assert not check_array("y", np.zeros(3).view(Agreeable), e).ok


def test_tolerance_is_tight_but_forgives_rounding():
    e = np.linspace(-1, 1, 10)
    assert check_array("y", e * (1 + 1e-12), e).ok
    assert not check_array("y", e * (1 + 1e-5), e).ok
    with pytest.raises(AssertionError, match="values are wrong"):
        assert_close("y", e + 1e-3, e)


def test_hidden_messages_say_where_but_not_what():
    e = np.array([[1.0, 2.0], [3.0, 4.0]])
    bad = e.copy()
    bad[1, 0] = 3.123456789
    shown = check_array("y", bad, e).message
    hidden = check_array("y", bad, e, show_values=False).message
    assert "got 3.123456789, expected 3" in shown
    assert "1 of 4 values are wrong" in hidden and "at index (1, 0)" in hidden
    assert "3.12" not in hidden and "expected 3" not in hidden


def test_all_close_lists_every_wrong_answer_with_the_tolerance():
    e = np.linspace(-1, 1, 6).reshape(2, 3)
    checks = {"dx": (e + 1e-3, e), "dh": (e.copy(), e), ("dW", "db"): ((e.T.copy(), 2 * e), (e.T.copy(), e)),
              "loss": (8.0, 1.0)}
    with pytest.raises(AssertionError) as info:
        assert_all_close(checks)
    lines = str(info.value).splitlines()
    assert lines[0] == "3 of the 5 answers are wrong:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["dx", "db", "loss"]
    assert all(line.endswith(f"(allowed: {tolerance()})") for line in lines[1:])
    assert "got 8, expected 1, 8 times the expected value" in lines[3]
    passed = assert_all_close({"dh": (e.copy(), e), ("dW", "db"): ((e.T.copy(), e), (e.T.copy(), e))})
    assert passed == "dh, dW, db: |got - expected| <= 1e-10 + 1e-07 |expected|"


def test_a_number_off_by_a_hair_is_not_called_1_times_the_expected_value():
    """A ratio that rounds to 1 says how far off it is instead, in the notebooks and the grader."""
    with pytest.raises(AssertionError) as info:
        assert_all_close({"loss": (2.000004, 2.0)})
    assert "off by 2e-06 of the expected value" in str(info.value) and "1 times" not in str(info.value)
    assert how_far(2.06, 2.0) == ", 1.03 times the expected value" and how_far(1.0, 0.0) == ""
    problems = judge.compare(2.000004, 2.0, "loss", RTOL, ATOL, show_values=False)
    assert problems == ["loss: wrong value, error 4e-06, off by 2e-06 of the expected value"], problems


def test_all_close_names_a_tuple_of_the_wrong_length_and_a_non_number():
    e = np.ones((2, 1))
    with pytest.raises(AssertionError, match=r"^\(dW, db\): expected a tuple of 2 arrays, got a list of 1 items$"):
        assert_all_close({("dW", "db"): ([e], (e, e))})
    with pytest.raises(AssertionError, match=r"^loss: expected a number, got an array of shape \(2, 1\)"):
        assert_all_close({"loss": (e, 1.0)})
    assert assert_all_close({"loss": (np.array([0.5]), 0.5)})  # an array holding one float, as the grader accepts


def test_the_notebooks_and_the_grader_compare_by_the_same_rule():
    """The grader's judge (arrays and numbers) and the notebooks' checks agree with the rule written
    out, on both sides of the tolerance, for the default and for the sigmoid's."""
    from rnngrade import judge

    def notebook_passes(got, expected, rtol, atol):
        try:
            assert_all_close({"v": (got, expected)}, rtol, atol)
            return True
        except AssertionError:
            return False

    for rtol, atol in [(RTOL, ATOL), (RTOL, SUBNORMAL_ATOL)]:
        for expected in [0.0, 4e-322, 1e-300, 0.3, -2.0]:
            allowed = atol + rtol * abs(expected)
            for got in [expected + 0.5 * allowed, expected - 0.9 * allowed, expected + 2 * allowed, np.nan]:
                right = abs(got - expected) <= allowed  # False for NaN
                assert bool(close(got, expected, rtol, atol)) == right
                assert notebook_passes(got, expected, rtol, atol) == right
                assert notebook_passes(np.array([got]), np.array([expected]), rtol, atol) == right
                assert (judge.compare(got, expected, "v", rtol, atol, True) == []) == right
                assert (judge.compare(np.array([got]), np.array([expected]), "v", rtol, atol, True) == []) == right


def test_the_sigmoid_tolerance_is_relative_down_to_the_subnormal_tail():
    """Right formulas pass, whichever way they round a subnormal result; a clipped input, a formula
    built on exp(-a) with its overflow silenced, and 0.5 (1 + tanh(a / 2)) do not, though all
    three pass the default tolerance."""
    import math

    import rnnlib

    a = np.concatenate([np.linspace(-760, -600, 4001), np.linspace(-40, 40, 801), [-1000.0, 1000.0]])
    want = rnnlib.sigmoid(a)
    right = {
        "exp(-logaddexp(0, -a))": lambda a: np.exp(-np.logaddexp(0, -a)),
        "math.exp, one value at a time": lambda a: np.array(
            [math.exp(x) / (1 + math.exp(x)) if x < 0 else 1 / (1 + math.exp(-x)) for x in a]),
    }
    with np.errstate(over="ignore"):
        wrong = {
            "clipped": 1 / (1 + np.exp(-np.clip(a, -500, 500))),
            "overflow silenced": 1 / (1 + np.exp(-a)),
            "tanh": 0.5 * (1 + np.tanh(a / 2)),
        }
    for name, f in right.items():
        verdict = check_array(name, f(a), want, atol=SUBNORMAL_ATOL)
        assert verdict.ok, verdict.message
    for name, got in wrong.items():
        assert check_array(name, got, want).ok
        assert not check_array(name, got, want, atol=SUBNORMAL_ATOL).ok


def _rnn_step_namespace(sigmoid, bias=True):
    """A student's namespace for assignment 1's ``rnn_step`` (with or without the bias) and
    the ``sigmoid`` given (None: not defined)."""
    def rnn_step(inputs, weights):
        x, h = inputs
        W_h, b_h = weights
        h_next = ns["sigmoid"](W_h @ np.concatenate([h, x]) + (b_h if bias else 0))
        return h_next, h_next

    ns = {"rnn_step": rnn_step}
    if sigmoid is not None:
        ns["sigmoid"] = sigmoid
    return ns


def _visible_rnn_step_verdict(ns):
    from rnngrade import incell, judge, specs

    part = next(p for p in specs.get("forward_and_scan").parts if p.function == "rnn_step")
    case = part.cases[0]
    assert not case.hidden
    return case, judge.judge(case, incell.run_case(case, "rnn_step", ns), "rnn_step")


def test_an_inner_call_the_reference_does_not_make_gets_the_students_own_answer():
    """A missing bias before the student's sigmoid: the grader's oracle does not know that
    argument, so the student's own sigmoid answers, and the verdict quotes the same values as the
    notebook's check (check_array on what their code computes) and says in plain words which
    argument differs; no NaN."""
    import rnnlib

    case, (ok, message) = _visible_rnn_step_verdict(_rnn_step_namespace(rnnlib.sigmoid, bias=False))
    (x, h), (W, b) = case.args
    theirs = rnnlib.sigmoid(W @ np.concatenate([h, x]))
    notebook = check_array("y", theirs, case.expected[0]).message
    assert not ok
    assert message.startswith(notebook + "; h_next: "), (message, notebook)
    assert "the argument your code passed to sigmoid differs from the reference's" in message
    assert "NaN" not in message


def test_an_inner_call_gets_nan_only_when_the_students_own_function_fails_and_says_so():
    """No sigmoid, one that raises, one that returns no array: NaN stands in, and the verdict says why."""
    def raises(a):
        raise NotImplementedError()

    for sigmoid in (None, raises, lambda a: "not an array"):
        _, (ok, message) = _visible_rnn_step_verdict(_rnn_step_namespace(sigmoid, bias=False))
        assert not ok
        assert "are NaN or infinite" in message and "your own sigmoid could not answer there" in message, message


def test_a_wrong_sigmoid_costs_the_sigmoid_part_only():
    """The oracle still answers the reference's own calls: a right rnn_step on a wrong sigmoid passes."""
    _, (ok, message) = _visible_rnn_step_verdict(_rnn_step_namespace(np.tanh))
    assert ok, message
