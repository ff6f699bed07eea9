import numpy as np

from rnnlib.grading import assert_close, check_array

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
