"""What each assignment's graded parts are tested on, and with what reference (instructor side).

Each part names the student's function, its points (the nbgrader grade cell it scores), and
its cases: inputs, the reference output computed here with ``rnnlib``, names for the pieces of
the output (for messages), tolerances and *oracles* (see ``rnngrade.harness``) that stand in for
the student's other graded functions, so that every part is judged on its own.

The seeds written here are *case numbers*: the hidden cases' inputs are drawn from a generator
derived from the course secret, the assignment, the part and the case number
(``rnngrade.secret.case_rng``), so that their sizes are the ones written here and their values
are known only to who holds the secret. Without a secret (``get(name)``) the case number is the
seed: the public defaults. The visible examples never depend on the secret. This file is never
copied into the sandbox and never shown in feedback: messages about hidden cases say what was
wrong (shape, dtype, how many values, the largest error and where) but not the inputs or
expected values.

Every graded part's hidden cases cover, between them: the typical operating range (standard
normal inputs, weights of deviation WEIGHT_SCALE), a batch of one
column (B = 1), a sequence of one step (T = 1) where there is a sequence, hidden size different
from input size (H != D) everywhere, and an *edges* case whose batch holds a zero column (zero
input and state) and a large one (inputs EDGE_SCALE times larger, which saturate the gates)
beside typical columns. The sigmoid's cases cover [-8, 8] evenly, 0, large magnitudes and the
subnormal tail. ``rnngrade.mutate`` checks that the cases catch what students get wrong: every
mutant of the solutions that is not equivalent to them must lose points.
"""

from dataclasses import dataclass, field
from functools import partial

import numpy as np

import rnnlib
from rnnlib.grading import ATOL, RTOL, SUBNORMAL_ATOL

from . import secret as course_secret

HARNESS_TOY_CELL = {"__harness__": "toy_cell"}


def _grad_names(cell):
    """Names of a cell's weight gradients, e.g. ``("dW_f", "dW_h", "db_f", "db_h")``."""
    return tuple("d" + n for n in rnnlib.CELLS[cell].weight_names)


@dataclass
class Case:
    """One call of the student's function and the reference answer."""

    label: str                      # for messages, e.g. "hidden case 2 (T=7, D=4, H=3, B=3)"
    args: tuple                     # positional arguments, plain arrays/tuples/lists
    expected: object                # what the function must return (same nesting)
    names: object                   # names of the pieces of ``expected`` (same nesting)
    hidden: bool = True
    oracles: dict = field(default_factory=dict)
    rtol: float = RTOL
    atol: float = ATOL
    forbid_warnings: bool = False


@dataclass
class Part:
    grade_id: str                   # the nbgrader grade cell this part scores
    points: int
    function: str                   # the student's function, by name
    cases: list


@dataclass
class Assignment:
    name: str
    notebook: str                   # notebook file name inside the assignment folder
    parts: list
    skip_cells: frozenset           # grade ids of provided cells not run when grading (timing, training)
    keep_in_rnnlib: frozenset       # rnnlib modules (or functions) left working in the grading copy
    stub_in_rnnlib: frozenset = frozenset()   # functions (or modules) emptied in it (see restricted)

    @property
    def total(self):
        return sum(p.points for p in self.parts)


#: The weights' standard deviation, as in the notebooks' ``problem``: with standard normal
#: inputs, pre-activations are of order 1, most gates neither saturated nor linear.
WEIGHT_SCALE = 0.5
#: How much larger the inputs of an edges case's large column are than typical ones.
EDGE_SCALE = 10.0


def _label(i, edges=False, **sizes):
    """``"hidden case 2 (H=5, D=3, B=1)"``: what the feedback calls hidden case ``i``."""
    label = f"hidden case {i} (" + ", ".join(f"{k}={v}" for k, v in sizes.items()) + ")"
    return label + (", a zero and a large batch column" if edges else "")


def _label_or_visible(i, sizes):
    return "the visible example" if i == 0 else _label(i, **sizes)


def _edges(*arrays):
    """Make a batch hold the edges, in place: in every array (batch in the last axis) column 0 is
    zero and column 1 is EDGE_SCALE times larger; the other columns stay typical."""
    for a in arrays:
        a[..., 0] = 0.0
        a[..., 1] *= EDGE_SCALE


def _sigmoid_oracle(*pre_activations):
    xs = np.concatenate([np.ravel(a) for a in pre_activations])
    return {"sigmoid": {"kind": "elementwise", "xs": xs, "ys": rnnlib.sigmoid(xs)}}


def _rand_weights(rng, n_mat, n_bias, H, D):
    """``n_mat`` matrices (H, H + D) and ``n_bias`` biases (H, 1), of deviation WEIGHT_SCALE."""
    return tuple(WEIGHT_SCALE * rng.standard_normal((H, H + D)) for _ in range(n_mat)) + \
        tuple(WEIGHT_SCALE * rng.standard_normal((H, 1)) for _ in range(n_bias))


# --------------------------------------------------------------------------- assignment 1

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
        Case(_label(1, shape=typical.shape) + ", inputs from -8 to 8", (typical,), rnnlib.sigmoid(typical),
             "sigmoid(a)", **strict),
        Case(_label(2, shape=big.shape) + ", large inputs", (big,), rnnlib.sigmoid(big), "sigmoid(a)", **strict),
        Case(_label(3, shape=tail.shape) + ", large negative inputs", (tail,), rnnlib.sigmoid(tail), "sigmoid(a)",
             **strict),
    ]
    return Part(gid, 2, "sigmoid", cases)


def _rnn_step_case(label, hidden, x, h, W, b):
    a = W @ np.concatenate([h, x]) + b
    y = rnnlib.rnn_step([x, h], (W, b))[0]
    return Case(label, ([x, h], (W, b)), (y, y), ("y", "h_next"), hidden, _sigmoid_oracle(a))


def _rnn_step_part(hidden):
    gid = "test_rnn_step"
    weights, X, h_0 = rnnlib.lecture_setup(seed=10)
    cases = [_rnn_step_case("the visible example", False, X[0], h_0, weights[0], weights[3])]
    for i, (seed, H, D, B, edges) in enumerate([(1202, 5, 3, 4, False), (1203, 7, 2, 1, False),
                                                 (1204, 4, 3, 3, True)], 1):
        rng = hidden(gid, seed)
        W, b = _rand_weights(rng, 1, 1, H, D)
        x, h = rng.standard_normal((D, B)), rng.standard_normal((H, B))
        if edges:
            _edges(x, h)
        cases.append(_rnn_step_case(_label(i, edges, H=H, D=D, B=B), True, x, h, W, b))
    return Part(gid, 3, "rnn_step", cases)


def _gru_step_case(label, hidden, x, h, weights):
    W_u, W_r, W_c, b_u, b_r, b_c = weights
    hx = np.concatenate([h, x])
    y = rnnlib.gru_step([x, h], weights)[0]
    return Case(label, ([x, h], weights), (y, y), ("y", "h_next"), hidden,
                _sigmoid_oracle(W_u @ hx + b_u, W_r @ hx + b_r))


def _gru_step_part(hidden):
    gid = "test_gru_step"
    weights, X, h_0 = rnnlib.lecture_setup(seed=10)
    cases = [_gru_step_case("the visible example (the lecture's step on X[1])", False, X[1], h_0, weights)]
    for i, (seed, H, D, B, edges) in enumerate([(1302, 4, 6, 3, False), (1303, 6, 2, 5, False),
                                                 (1304, 5, 3, 1, False), (1305, 3, 4, 3, True)], 1):
        rng = hidden(gid, seed)
        w = _rand_weights(rng, 3, 3, H, D)
        x, h = rng.standard_normal((D, B)), rng.standard_normal((H, B))
        if edges:
            _edges(x, h)
        cases.append(_gru_step_case(_label(i, edges, H=H, D=D, B=B), True, x, h, w))
    return Part(gid, 5, "gru_step", cases)


def toy_cell(inputs, weights):
    """The harness's toy cell (``rnngrade.harness.toy_cell``), for the reference of ``scan``."""
    x, h = inputs
    W, b = weights
    h_next = np.tanh(W @ np.concatenate([h, x]) + b)
    return 2.0 * h_next, h_next


def _scan_part(hidden):
    gid = "test_scan"
    cases = []
    for i, (seed, T, D, H, B, edges) in enumerate([(1401, 6, 3, 4, 2, False), (1402, 1, 2, 3, 1, False),
                                                    (1403, 9, 5, 2, 3, False), (1404, 4, 3, 5, 3, True)], 1):
        rng = hidden(gid, seed)
        W, b = _rand_weights(rng, 1, 1, H, D)
        X, h_0 = rng.standard_normal((T, D, B)), rng.standard_normal((H, B))
        if edges:
            _edges(X, h_0)
        ys, h = [], h_0
        for x in X:
            y, h = toy_cell([x, h], (W, b))
            ys.append(y)
        cases.append(Case(_label(i, edges, T=T, D=D, H=H, B=B) + ", with a simple tanh cell",
                          (HARNESS_TOY_CELL, X, (W, b), h_0), (ys, h), ("ys", "h_T")))
    return Part(gid, 3, "scan", cases)


# --------------------------------------------------------------------------- assignments 2 and 3

def _case_rng(hidden, grade_id, i, seed):
    """Case ``i``'s generator: the visible example's (case 0) is the notebook's, seeded with ``seed``;
    a hidden case's derives from the course secret and its case number ``seed``."""
    return np.random.default_rng(seed) if i == 0 else hidden(grade_id, seed)


def _problem(cell, rng, T=4, D=3, H=5, B=2, edges=False):
    """The notebooks' ``problem`` drawn from ``rng``: random weights (WEIGHT_SCALE), X, h_0 and
    upstream gradients G; with ``edges``, X and h_0 hold a zero and a large column (``_edges``)."""
    n = rnnlib.CELLS[cell].n_matrices
    weights = _rand_weights(rng, n, n, H, D)
    X, h_0, G = rng.standard_normal((T, D, B)), rng.standard_normal((H, B)), rng.standard_normal((T, H, B))
    if edges:
        _edges(X, h_0)
    return weights, X, h_0, G


def _caches(cell, weights, X, h_0):
    """Per-step caches as the notebooks define them: ``(x, h)`` and the activations the cell
    saves (GRU ``(x, h, u, r, c)``, MGU ``(x, h, f, c)``)."""
    hs, cache = rnnlib.forward(cell, weights, X, h_0)
    prev = np.concatenate([h_0[None], hs[:-1]])
    gates = rnnlib.CELLS[cell].saved_names
    return hs, [(X[t], prev[t]) + tuple(cache.saved[g][t] for g in gates) for t in range(len(X))], cache


def _step_backward_ref(cell, weights, x, h, dh_next):
    _, cache = rnnlib.forward(cell, weights, x[None], h)
    dweights, dX, dh = rnnlib.backward(dh_next[None], cache)
    return dX[0], dh, tuple(dweights)


def _step_forward_part(cell, grade_id, points, function, seeds, hidden):
    cases = []
    for i, (seed, sizes) in enumerate(seeds):
        weights, X, h_0, _ = _problem(cell, _case_rng(hidden, grade_id, i, seed), **sizes)
        hs, caches, _ = _caches(cell, weights, X, h_0)
        names = ("x", "h") + rnnlib.CELLS[cell].saved_names
        label = _label_or_visible(i, sizes)
        cases.append(Case(label, (X[0], h_0, weights), (hs[0], caches[0]), ("h_next", names), hidden=i > 0))
    return Part(grade_id, points, function, cases)


def _step_backward_part(cell, grade_id, points, function, seeds, hidden):
    cases = []
    wnames = _grad_names(cell)
    for i, (seed, sizes) in enumerate(seeds):
        weights, X, h_0, G = _problem(cell, _case_rng(hidden, grade_id, i, seed), **sizes)
        _, caches, _ = _caches(cell, weights, X, h_0)
        expected = _step_backward_ref(cell, weights, X[0], h_0, G[0])
        label = _label_or_visible(i, sizes)
        cases.append(Case(label, (G[0], caches[0], weights), expected, ("dx", "dh", wnames), hidden=i > 0))
    return Part(grade_id, points, function, cases)


def _backward_part(cell, grade_id, points, function, step_function, seeds, hidden):
    cases = []
    wnames = _grad_names(cell)
    for i, (seed, sizes) in enumerate(seeds):
        weights, X, h_0, G = _problem(cell, _case_rng(hidden, grade_id, i, seed), **sizes)
        _, caches, cache = _caches(cell, weights, X, h_0)
        dweights, dX, dh_0 = rnnlib.backward(G, cache)
        entries, carry = [], np.zeros_like(h_0)
        for t in reversed(range(len(X))):
            g = G[t] + carry
            dx_t, carry, dw_t = _step_backward_ref(cell, weights, X[t], caches[t][1], g)
            entries.append({"match": [[[1, 0], X[t]], [[1, 1], caches[t][1]]], "check": [[[0], g]],
                            "result": (dx_t, carry, dw_t)})
        label = _label_or_visible(i, sizes)
        cases.append(Case(label, (G, caches, weights), (tuple(dweights), dX, dh_0), (wnames, "dX", "dh_0"),
                          hidden=i > 0, oracles={step_function: {"kind": "calls", "entries": entries}}))
    return Part(grade_id, points, function, cases)


def _mse_part(hidden):
    gid = "test_mse_loss"
    cases = []
    for i, (seed, shape, edges) in enumerate([(2401, (1, 32), False), (2402, (1, 5), False),
                                              (2403, (2, 7), False), (2404, (3, 4), True)], 1):
        rng = hidden(gid, seed)
        pred, y = rng.standard_normal(shape), rng.standard_normal(shape)
        if edges:  # a column of exact predictions (zero errors) and a large one
            y[:, 0] = pred[:, 0]
            pred[:, 1] *= EDGE_SCALE
            y[:, 1] *= EDGE_SCALE
        loss, grad = rnnlib.mse(pred, y)
        label = _label(i, shape=shape) + (", exact predictions in a column and large values in another" if edges else "")
        cases.append(Case(label, (pred, y), (loss, grad), ("loss", "dpred")))
    return Part(gid, 2, "mse_loss", cases)


def _hidden(secret, assignment):
    """``hidden(part, case)``: the generator of a hidden case of ``assignment`` (see ``rnngrade.secret``)."""
    return partial(course_secret.case_rng, secret, assignment)


def forward_and_scan(secret=None):
    hidden = _hidden(secret, "forward_and_scan")
    return Assignment(
        "forward_and_scan", "forward_and_scan.ipynb",
        [_sigmoid_part(hidden, public=secret is None), _rnn_step_part(hidden), _gru_step_part(hidden),
         _scan_part(hidden)],
        skip_cells=frozenset({"timing"}), keep_in_rnnlib=frozenset())


def gru_bptt(secret=None):
    hidden = _hidden(secret, "gru_bptt")
    step = [(0, {}), (2101, dict(D=6, H=2, B=3)), (2102, dict(D=4, H=5, B=1)),
            (2103, dict(D=3, H=4, B=3, edges=True))]
    back = [(0, {}), (2201, dict(D=2, H=6, B=4)), (2202, dict(D=5, H=3, B=1)),
            (2203, dict(D=3, H=4, B=3, edges=True))]
    loop = [(0, {}), (2301, dict(T=7, D=4, H=3, B=3)), (2302, dict(T=1, D=2, H=4, B=2)),
            (2303, dict(T=5, D=3, H=2, B=1)), (2304, dict(T=3, D=3, H=4, B=3, edges=True))]
    return Assignment(
        "gru_bptt", "gru_bptt.ipynb",
        [_step_forward_part("gru", "test_gru_step_forward", 3, "gru_step_forward", step, hidden),
         _step_backward_part("gru", "test_gru_step_backward", 6, "gru_step_backward", back, hidden),
         _backward_part("gru", "test_gru_backward", 5, "gru_backward", "gru_step_backward", loop, hidden),
         _mse_part(hidden)],
        skip_cells=frozenset({"gradcheck", "training"}), keep_in_rnnlib=frozenset({"activations"}))


def mgu(secret=None):
    hidden = _hidden(secret, "mgu")
    step = [(0, {}), (3101, dict(D=6, H=2, B=3)), (3102, dict(D=4, H=5, B=1)),
            (3103, dict(D=3, H=4, B=3, edges=True))]
    back = [(0, {}), (3201, dict(D=2, H=6, B=4)), (3202, dict(D=5, H=3, B=1)),
            (3203, dict(D=3, H=4, B=3, edges=True))]
    loop = [(0, {}), (3301, dict(T=7, D=4, H=3, B=3)), (3302, dict(T=1, D=2, H=4, B=2)),
            (3303, dict(T=5, D=3, H=2, B=1)), (3304, dict(T=3, D=3, H=4, B=3, edges=True))]
    return Assignment(
        "mgu", "mgu.ipynb",
        [_step_forward_part("mgu", "test_mgu_step_forward", 3, "mgu_step_forward", step, hidden),
         _step_backward_part("mgu", "test_mgu_step_backward", 6, "mgu_step_backward", back, hidden),
         _backward_part("mgu", "test_mgu_backward", 5, "mgu_backward", "mgu_step_backward", loop, hidden)],
        skip_cells=frozenset({"gradcheck", "training"}), keep_in_rnnlib=frozenset({"activations"}))


# --------------------------------------------------------------------------- assignment 4

LSTM_CACHE = ("x", "h", "c", "i", "f", "o", "g", "c_next")


def _lstm_problem(rng, T=4, D=3, H=5, B=2, edges=False):
    """The notebook's ``problem`` drawn from ``rng``: weights (WEIGHT_SCALE), X, h_0, c_0, and
    upstream gradients G for the hidden states and G_c for one cell state; with ``edges``, X, h_0
    and c_0 hold a zero and a large column (``_edges``)."""
    weights = _rand_weights(rng, 4, 4, H, D)
    X, h_0, c_0 = rng.standard_normal((T, D, B)), rng.standard_normal((H, B)), rng.standard_normal((H, B))
    if edges:
        _edges(X, h_0, c_0)
    return weights, X, h_0, c_0, rng.standard_normal((T, H, B)), rng.standard_normal((T, H, B))


def _lstm_caches(weights, X, h_0, c_0):
    """Per-step caches as the notebook defines them: ``(x, h, c, i, f, o, g, c_next)``."""
    hs, cache = rnnlib.forward("lstm", weights, X, (h_0, c_0))
    s = cache.saved
    h_prev, c_prev = np.concatenate([h_0[None], hs[:-1]]), np.concatenate([c_0[None], s["c"][:-1]])
    return hs, cache, [(X[t], h_prev[t], c_prev[t], s["i"][t], s["f"][t], s["o"][t], s["g"][t], s["c"][t])
                       for t in range(len(X))]


def _lstm_step_backward_ref(weights, x, h, c, dh_next, dc_next):
    _, cache = rnnlib.forward("lstm", weights, x[None], (h, c))
    dweights, dX, (dh, dc) = rnnlib.backward(dh_next[None], cache, (np.zeros_like(dh_next), dc_next))
    return dX[0], dh, dc, tuple(dweights)


def _lstm_step_forward_part(seeds, hidden):
    gid = "test_lstm_step_forward"
    cases = []
    for i, (seed, sizes) in enumerate(seeds):
        weights, X, h_0, c_0, _, _ = _lstm_problem(_case_rng(hidden, gid, i, seed), **sizes)
        hs, cache, caches = _lstm_caches(weights, X, h_0, c_0)
        cases.append(Case(_label_or_visible(i, sizes), (X[0], h_0, c_0, weights),
                          (hs[0], cache.saved["c"][0], caches[0]), ("h_next", "c_next", LSTM_CACHE), hidden=i > 0))
    return Part(gid, 3, "lstm_step_forward", cases)


def _lstm_step_backward_part(seeds, hidden):
    gid = "test_lstm_step_backward"
    cases = []
    for i, (seed, sizes) in enumerate(seeds):
        weights, X, h_0, c_0, G, G_c = _lstm_problem(_case_rng(hidden, gid, i, seed), **sizes)
        _, _, caches = _lstm_caches(weights, X, h_0, c_0)
        expected = _lstm_step_backward_ref(weights, X[0], h_0, c_0, G[0], G_c[0])
        cases.append(Case(_label_or_visible(i, sizes), (G[0], G_c[0], caches[0], weights), expected,
                          ("dx", "dh", "dc", _grad_names("lstm")), hidden=i > 0))
    return Part(gid, 6, "lstm_step_backward", cases)


def _lstm_backward_part(seeds, hidden):
    """The loop over time, with the student's step backward answered by an oracle that also
    checks the carried gradients ``dh`` (added to ``dhs[t]``) and ``dc`` it is called with."""
    gid = "test_lstm_backward"
    cases = []
    for i, (seed, sizes) in enumerate(seeds):
        weights, X, h_0, c_0, G, _ = _lstm_problem(_case_rng(hidden, gid, i, seed), **sizes)
        _, cache, caches = _lstm_caches(weights, X, h_0, c_0)
        dweights, dX, (dh_0, dc_0) = rnnlib.backward(G, cache)
        entries, dh, dc = [], np.zeros_like(h_0), np.zeros_like(c_0)
        for t in reversed(range(len(X))):
            x, h, c = caches[t][:3]
            g = G[t] + dh
            dx_t, dh, dc_next, dw_t = _lstm_step_backward_ref(weights, x, h, c, g, dc)
            entries.append({"match": [[[2, 0], x], [[2, 1], h]], "check": [[[0], g], [[1], dc]],
                            "result": (dx_t, dh, dc_next, dw_t)})
            dc = dc_next
        cases.append(Case(_label_or_visible(i, sizes), (G, caches, weights), (tuple(dweights), dX, (dh_0, dc_0)),
                          (_grad_names("lstm"), "dX", ("dh_0", "dc_0")), hidden=i > 0,
                          oracles={"lstm_step_backward": {"kind": "calls", "entries": entries}}))
    return Part(gid, 5, "lstm_backward", cases)


def lstm(secret=None):
    hidden = _hidden(secret, "lstm")
    step = [(0, {}), (4101, dict(D=6, H=2, B=3)), (4102, dict(D=4, H=5, B=1)),
            (4103, dict(D=3, H=4, B=3, edges=True))]
    back = [(0, {}), (4201, dict(D=2, H=6, B=4)), (4202, dict(D=5, H=3, B=1)),
            (4203, dict(D=3, H=4, B=3, edges=True))]
    loop = [(0, {}), (4301, dict(T=7, D=4, H=3, B=3)), (4302, dict(T=1, D=2, H=4, B=2)),
            (4303, dict(T=5, D=3, H=2, B=1)), (4304, dict(T=3, D=3, H=4, B=3, edges=True))]
    return Assignment(
        "lstm", "lstm.ipynb",
        [_lstm_step_forward_part(step, hidden), _lstm_step_backward_part(back, hidden),
         _lstm_backward_part(loop, hidden)],
        skip_cells=frozenset({"gradcheck"}), keep_in_rnnlib=frozenset({"activations"}))


# --------------------------------------------------------------------------- assignment 5

from .specs_charlm import charlm  # noqa: E402 (it builds on the classes above)

ASSIGNMENTS = {"forward_and_scan": forward_and_scan, "gru_bptt": gru_bptt, "mgu": mgu, "lstm": lstm,
               "charlm": charlm}


def get(name, secret=None):
    """The spec of assignment ``name``, its hidden inputs derived from the course ``secret`` (None:
    the public defaults; see ``rnngrade.secret``). Built on demand: the references take milliseconds."""
    try:
        builder = ASSIGNMENTS[name]
    except KeyError:
        raise ValueError(f"no grading spec for assignment {name!r}; known: {sorted(ASSIGNMENTS)}") from None
    return builder(secret)
