"""Assignment 1, forward and scan: the sigmoid, the vanilla RNN's and the GRU's steps, and ``scan``.

Every graded part's hidden cases cover, between them: the typical operating range (standard
normal inputs, weights of deviation ``WEIGHT_SCALE``), a batch of one column (B = 1), a
sequence of one step (T = 1) for ``scan``, hidden size different from input size (H != D), and
an *edges* case whose batch holds a zero column and a large one (``rnngrade.specs.cases``). The
sigmoid's cases cover [-8, 8] evenly, 0, large magnitudes and the subnormal tail.
"""

import numpy as np

import rnnlib
from rnnlib.grading import SUBNORMAL_ATOL

from ..harness import toy_cell
from .cases import hidden_rngs, label, random_weights, set_edges, sigmoid_oracle
from .types import Assignment, Case, Part

NAME = "forward_and_scan"
HARNESS_TOY_CELL = {"__harness__": "toy_cell"}


# sigma(a) ~ e^a is a subnormal number at the negative end: a formula that overflows returns 0 instead
SIGMOID_TAIL = np.array([[-740.0, -730.0, -720.0], [-712.0, -705.0, -100.0], [100.0, 705.0, 740.0]])
# the typical range, evenly: one point in each interval of this width from -8 to 8
SIGMOID_STEP = 0.5


def _sigmoid_part(hidden, public):
    gid = "test_sigmoid"
    visible = np.array([[-1000.0, -740.0, -30.0, 0.0], [2.0, 30.0, 740.0, 1000.0]])
    rng = hidden(gid, 1101)
    starts = np.arange(-8.0, 8.0, SIGMOID_STEP)
    # and 0 itself, where the two branches of a stable formula meet; in an order drawn too
    typical = rng.permutation(np.append(starts + rng.uniform(0, SIGMOID_STEP, starts.size), 0.0)).reshape(3, 11)
    big = 300 * hidden(gid, 1102).standard_normal((7, 5))
    # with a secret, each point moves by less than 0.5 (the results stay subnormal at the negative end)
    tail = SIGMOID_TAIL if public else SIGMOID_TAIL + hidden(gid, 1103).uniform(-0.5, 0.5, SIGMOID_TAIL.shape)
    # the notebook's check: relative accuracy down to the subnormal tail (rnnlib.grading), no warning
    strict = dict(atol=SUBNORMAL_ATOL, forbid_warnings=True)
    cases = [
        Case("the visible example", (visible,), rnnlib.sigmoid(visible), "sigmoid(a)", hidden=False, **strict),
        Case(label(1, shape=typical.shape) + ", inputs from -8 to 8", (typical,), rnnlib.sigmoid(typical),
             "sigmoid(a)", **strict),
        Case(label(2, shape=big.shape) + ", large inputs", (big,), rnnlib.sigmoid(big), "sigmoid(a)", **strict),
        Case(label(3, shape=tail.shape) + ", large negative inputs", (tail,), rnnlib.sigmoid(tail), "sigmoid(a)",
             **strict),
    ]
    return Part(gid, 2, "sigmoid", cases)


def _rnn_step_case(label, hidden, x, h, W, b):
    a = W @ np.concatenate([h, x]) + b
    y = rnnlib.rnn_step([x, h], (W, b))[0]
    return Case(label, ([x, h], (W, b)), (y, y), ("y", "h_next"), hidden, sigmoid_oracle(a))


def _rnn_step_part(hidden):
    gid = "test_rnn_step"
    weights, X, h_0 = rnnlib.lecture_setup(seed=10)
    cases = [_rnn_step_case("the visible example", False, X[0], h_0, weights[0], weights[3])]
    for i, (seed, H, D, B, edges) in enumerate([(1202, 5, 3, 4, False), (1203, 7, 2, 1, False),
                                                 (1204, 4, 3, 3, True)], 1):
        rng = hidden(gid, seed)
        W, b = random_weights(rng, "rnn", H, D)
        x, h = rng.standard_normal((D, B)), rng.standard_normal((H, B))
        if edges:
            set_edges(x, h)
        cases.append(_rnn_step_case(label(i, edges, H=H, D=D, B=B), True, x, h, W, b))
    return Part(gid, 3, "rnn_step", cases)


def _gru_step_case(label, hidden, x, h, weights):
    W_u, W_r, W_c, b_u, b_r, b_c = weights
    hx = np.concatenate([h, x])
    y = rnnlib.gru_step([x, h], weights)[0]
    return Case(label, ([x, h], weights), (y, y), ("y", "h_next"), hidden,
                sigmoid_oracle(W_u @ hx + b_u, W_r @ hx + b_r))


def _gru_step_part(hidden):
    gid = "test_gru_step"
    weights, X, h_0 = rnnlib.lecture_setup(seed=10)
    cases = [_gru_step_case("the visible example (the lecture's step on X[1])", False, X[1], h_0, weights)]
    for i, (seed, H, D, B, edges) in enumerate([(1302, 4, 6, 3, False), (1303, 6, 2, 5, False),
                                                 (1304, 5, 3, 1, False), (1305, 3, 4, 3, True)], 1):
        rng = hidden(gid, seed)
        w = random_weights(rng, "gru", H, D)
        x, h = rng.standard_normal((D, B)), rng.standard_normal((H, B))
        if edges:
            set_edges(x, h)
        cases.append(_gru_step_case(label(i, edges, H=H, D=D, B=B), True, x, h, w))
    return Part(gid, 5, "gru_step", cases)


def _scan_part(hidden):
    gid = "test_scan"
    cases = []
    for i, (seed, T, D, H, B, edges) in enumerate([(1401, 6, 3, 4, 2, False), (1402, 1, 2, 3, 1, False),
                                                    (1403, 9, 5, 2, 3, False), (1404, 4, 3, 5, 3, True)], 1):
        rng = hidden(gid, seed)
        W, b = random_weights(rng, "rnn", H, D)
        X, h_0 = rng.standard_normal((T, D, B)), rng.standard_normal((H, B))
        if edges:
            set_edges(X, h_0)
        ys, h = [], h_0
        for x in X:
            y, h = toy_cell([x, h], (W, b))
            ys.append(y)
        cases.append(Case(label(i, edges, T=T, D=D, H=H, B=B) + ", with a simple tanh cell",
                          (HARNESS_TOY_CELL, X, (W, b), h_0), (ys, h), ("ys", "h_T")))
    return Part(gid, 3, "scan", cases)


def build(secret=None):
    hidden = hidden_rngs(secret, NAME)
    return Assignment(
        NAME, "forward_and_scan.ipynb",
        [_sigmoid_part(hidden, public=secret is None), _rnn_step_part(hidden), _gru_step_part(hidden),
         _scan_part(hidden)],
        skip_cells=frozenset({"timing"}), keep_in_rnnlib=frozenset())
