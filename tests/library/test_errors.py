"""Every error path of the public API, with the message it must give."""

import re

import numpy as np
import pytest

import rnnlib


def _raises(match, fn, *args, **kw):
    with pytest.raises(ValueError, match=match):
        fn(*args, **kw)


@pytest.fixture
def lecture():
    weights, X, h_0 = rnnlib.lecture_setup()
    return list(weights), X, h_0


def test_wrong_weight_shape_names_expected_and_actual(lecture):
    weights, X, h_0 = lecture
    weights[0] = weights[0][:, :140]
    _raises(re.escape("W_u has shape (16, 140), expected (16, 144) = (H, H + D) with H = 16, D = 128"),
            rnnlib.gru_step, [X[1], h_0], tuple(weights))
    _raises(re.escape("W_u has shape (16, 140), expected (16, 144)"), rnnlib.forward, "gru", tuple(weights), X, h_0)


def test_wrong_bias_shape(lecture):
    weights, X, h_0 = lecture
    weights[5] = weights[5].ravel()
    _raises(r"b_c must be 2-D with shape \(H, 1\); got shape \(16,\)", rnnlib.gru_step, [X[1], h_0], tuple(weights))
    weights[5] = np.zeros((1, 16))
    _raises(re.escape("b_c has shape (1, 16), expected (16, 1) = (H, 1)"), rnnlib.gru_step, [X[1], h_0], tuple(weights))


def test_wrong_tuple_lengths(lecture):
    weights, X, h_0 = lecture
    _raises(r"gru weights must be the 6-tuple \(W_u, W_r, W_c, b_u, b_r, b_c\); got 4 items",
            rnnlib.gru_step, [X[1], h_0], tuple(weights[:4]))
    _raises(r"mgu weights must be the 4-tuple \(W_f, W_h, b_f, b_h\); got 6 items",
            rnnlib.mgu_step, [X[1], h_0], tuple(weights))
    _raises(r"rnn weights must be \(W_h, b_h\) or the lecture's 6-tuple .* got 3 items",
            rnnlib.rnn_step, [X[1], h_0], tuple(weights[:3]))
    _raises(r"a step function takes inputs \[x, h\]", rnnlib.gru_step, [X[1]], tuple(weights))


def test_x_and_h_shapes(lecture):
    weights, X, h_0 = lecture
    _raises(re.escape("x must be 2-D with shape (D, B); got shape (128,)"), rnnlib.gru_step, [X[1, :, 0], h_0], tuple(weights))
    _raises(re.escape("x has shape (128, 2) and h has shape (16, 1): their batch sizes B (second axis) differ"),
            rnnlib.gru_step, [np.zeros((128, 2)), h_0], tuple(weights))
    # the wrong D shows up as a weight that does not fit
    _raises(re.escape("W_u has shape (16, 144), expected (16, 116) = (H, H + D) with H = 16, D = 100"),
            rnnlib.gru_step, [np.zeros((100, 1)), h_0], tuple(weights))


def test_sequence_shapes(lecture):
    weights, X, h_0 = lecture
    _raises(re.escape("X must be 3-D with shape (T, D, B); got shape (256, 128)"), rnnlib.forward, "gru", tuple(weights), X[..., 0], h_0)
    _raises(re.escape("X has shape (256, 128, 1) = (T, D, B) and h_0 has shape (16, 3) = (H, B): their batch sizes B differ"),
            rnnlib.forward, "gru", tuple(weights), X, np.zeros((16, 3)))
    _raises("X has T = 0 time steps", rnnlib.forward, "gru", tuple(weights), X[:0], h_0)
    _raises("cell must be one of 'rnn', 'gru', 'mgu', 'lstm', 'mingru', 'minlstm'; got 'peephole'",
            rnnlib.forward, "peephole", tuple(weights), X, h_0)
    _raises("activation must be 'sigmoid' or 'tanh'; got 'relu'", rnnlib.forward, "rnn", tuple(weights), X, h_0, "relu")
    _raises("X must hold numbers; got dtype <U1", rnnlib.forward, "gru", tuple(weights), np.full((2, 128, 1), "a"), h_0)


def test_lstm_weights_and_state_are_checked(problem):
    weights, X, state_0, _ = problem("lstm")           # H = 4, D = 3, B = 3
    h_0, c_0 = state_0
    gru_weights = problem("gru")[0]
    _raises(re.escape("lstm weights must be the 8-tuple (W_i, W_f, W_o, W_c, b_i, b_f, b_o, b_c); got 6 items"),
            rnnlib.forward, "lstm", gru_weights, X, state_0)
    _raises(re.escape("lstm weights must be the 8-tuple"), rnnlib.lstm_step, [X[0], state_0], gru_weights)
    bare = re.escape("the lstm state is the pair (h_0, c_0), each of shape (H, B); got one array of shape (4, 3) "
                     "(is c_0 missing?)")
    _raises(bare, rnnlib.forward, "lstm", weights, X, h_0)
    _raises(bare, rnnlib.infer, "lstm", weights, X, h_0)
    _raises(re.escape("the lstm state is the pair (h, c), each of shape (H, B); got one array of shape (4, 3)"),
            rnnlib.lstm_step, [X[0], h_0], weights)
    _raises(re.escape("c_0 has shape (4, 2), expected (4, 3) = (H, B), the shape of h_0"),
            rnnlib.forward, "lstm", weights, X, (h_0, c_0[:, :2]))
    _raises(re.escape("c has shape (3, 3), expected (4, 3) = (H, B), the shape of h"),
            rnnlib.lstm_step, [X[0], (h_0, c_0[:3])], weights)
    _raises(re.escape("the lstm state is the pair (h_0, c_0), each of shape (H, B); got 3 items"),
            rnnlib.forward, "lstm", weights, X, (h_0, c_0, c_0))
    _raises(re.escape("the gru state is one array h_0 of shape (H, B); got a tuple of 2 items"),
            rnnlib.forward, "gru", gru_weights, X, state_0)
    _raises(re.escape("a step function takes inputs [x, (h, c)]: x of shape (D, B), h of shape (H, B) and c of shape (H, B)"),
            rnnlib.lstm_step, [X[0]], weights)


def test_non_finite_inputs_are_reported(lecture):
    weights, X, h_0 = lecture
    X = X.copy()
    X[3, 7, 0] = np.nan
    _raises(re.escape("X contains 1 non-finite value(s) (NaN or inf), the first at index (3, 7, 0): nan"),
            rnnlib.forward, "gru", tuple(weights), X, h_0)
    _raises(re.escape("x contains 1 non-finite value(s)"), rnnlib.gru_step, [X[3], h_0], tuple(weights))
    weights[4] = weights[4].copy()
    weights[4][2, 0] = np.inf
    _raises(re.escape("b_r contains 1 non-finite value(s) (NaN or inf), the first at index (2, 0): inf"),
            rnnlib.gru_step, [X[0], h_0], tuple(weights))


def test_backward_checks_its_inputs(problem):
    weights, X, h_0, G = problem("mgu")
    _, cache = rnnlib.forward("mgu", weights, X, h_0)
    _raises(re.escape("dhs has shape (5, 4, 2), expected (5, 4, 3) = (T, H, B), the shape of hs"), rnnlib.backward, G[..., :2], cache)
    bad = G.copy()
    bad[0, 0, 0] = np.inf
    _raises("dhs contains 1 non-finite value", rnnlib.backward, bad, cache)
    _raises("cache must be the Cache returned by rnnlib.forward; got tuple", rnnlib.backward, G, (1, 2))


def test_other_public_functions(lecture):
    _raises("fn must be a step function", rnnlib.scan, None, [], (), None)
    _raises("elems must be an iterable sequence", rnnlib.scan, rnnlib.gru_step, 3, (), None)
    _raises(re.escape("pred has shape (2, 3) but target has shape (3, 2); they must match"), rnnlib.mse, np.zeros((2, 3)), np.zeros((3, 2)))
    _raises("pred contains 1 non-finite", rnnlib.mse, np.array([np.nan]), np.zeros(1))
    _raises(re.escape("targets must have shape (3,); got (4,)"), rnnlib.softmax_cross_entropy, np.zeros((2, 3)), np.zeros(4, int))
    _raises(re.escape("targets must be integers in [0, 2) (V = logits.shape[-2]); got dtype int64, range [0, 5]"),
            rnnlib.softmax_cross_entropy, np.zeros((2, 3)), np.array([0, 1, 5]))
    _raises(re.escape("h has shape (4, 2), expected (H, B) or (T, H, B) with H = 3 = W_y.shape[1]"),
            rnnlib.readout_forward, np.zeros((4, 2)), np.zeros((1, 3)), np.zeros((1, 1)))
    _raises("x must be a float ndarray", rnnlib.numerical_gradient, lambda v: 0.0, [1.0])
    _raises(re.escape("the arrays have different shapes: (2,) and (3,)"), rnnlib.relative_error, np.zeros(2), np.zeros(3))
    _raises("scheme must be 'orthogonal', 'xavier' or 'normal'; got 'he'", rnnlib.init_weights, "gru", 2, 3, scheme="he")
    _raises("H must be a positive integer; got 0", rnnlib.init_weights, "gru", 2, 0)
    _raises("T must be a positive integer; got -1", rnnlib.lecture_setup, T=-1)
    _raises("T must be an integer >= 2; got 1", rnnlib.adding_problem, 1, 3, np.random.default_rng())
    _raises(re.escape("gradient 0 has shape (2,), expected (3,)"), rnnlib.Adam().step, [np.zeros(3)], [np.zeros(2)])
    _raises("1 parameters but 2 gradients", rnnlib.SGD().step, [np.zeros(3)], [np.zeros(3)] * 2)
    _raises("task must be one of", rnnlib.train, "gru", task=3, progress=False)
    _raises("optimizer must be 'adam' or 'sgd'", rnnlib.train, "gru", optimizer="rmsprop", progress=False)


def test_infer_checks_its_inputs(lecture):
    weights, X, h_0 = lecture
    with pytest.raises(ValueError, match=r"chunk must be a positive integer, got 0"):
        rnnlib.infer("gru", weights, X, h_0, chunk=0)
    with pytest.raises(ValueError, match=r"W_u has shape \(16, 140\), expected \(16, 144\)"):
        rnnlib.infer("gru", (weights[0][:, :140], *weights[1:]), X, h_0)
