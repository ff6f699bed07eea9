"""``rnnlib.data.selective_copying`` generates what its docstring says."""

import numpy as np
import pytest

from rnnlib.data import selective_copying


@pytest.mark.parametrize("T, B, n_copy, n_symbols", [(12, 5, 3, 4), (64, 32, 8, 8), (2, 1, 1, 1)])
def test_the_symbols_appear_in_order_and_only_the_answers_count(T, B, n_copy, n_symbols):
    X, Y, mask = selective_copying(T, B, n_copy, n_symbols, np.random.default_rng(1))
    assert X.shape == Y.shape == mask.shape == (T, B)
    assert np.issubdtype(X.dtype, np.integer) and np.issubdtype(Y.dtype, np.integer)
    context = T - n_copy
    marker = n_symbols + 1
    assert (X[context:] == marker).all()                              # the markers ask for the answer
    assert ((X[:context] >= 0) & (X[:context] <= n_symbols)).all()    # no marker in the context
    assert (mask[:context] == 0).all() and (mask[context:] == 1).all()
    assert (Y[:context] == 0).all()
    for b in range(B):
        symbols = X[:context, b][X[:context, b] > 0]                  # the context's symbols, in order
        assert len(symbols) == n_copy
        np.testing.assert_array_equal(Y[context:, b], symbols)        # copied in order
    assert ((Y[context:] >= 1) & (Y[context:] <= n_symbols)).all()


def test_the_positions_and_symbols_vary_and_a_seed_repeats_them():
    X1, Y1, _ = selective_copying(40, 200, 4, 6, np.random.default_rng(7))
    X2, Y2, _ = selective_copying(40, 200, 4, 6, np.random.default_rng(7))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)
    first = (X1[:36] > 0).argmax(axis=0)                              # where the first symbol stands
    assert len(set(first)) > 10                                       # scattered, not at fixed places
    assert set(np.unique(Y1[36:])) == set(range(1, 7))                # every symbol is drawn


@pytest.mark.parametrize("args, message", [((5, 2, 3, 4), "at least 2 n_copy"), ((10, 2, 0, 4), "n_copy"),
                                           ((10, 2, 2, 0), "n_symbols"), ((10, 0, 2, 2), "B")])
def test_bad_sizes_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        selective_copying(*args, np.random.default_rng(0))
