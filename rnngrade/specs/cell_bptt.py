"""Assignments 2 to 4, backprop through time for one cell each (GRU, MGU, LSTM), from one table.

Each asks for the same three parts, for its cell, in the notebooks' per-step form:

- ``<cell>_step_forward(x, *state, weights) -> (*state_next, cache)``, where ``cache`` is the
  tuple the notebooks keep from a step (``Cell.cache_names``: the GRU's ``(x, h, u, r, c)``);
- ``<cell>_step_backward(*dstate_next, cache, weights) -> (dx, *dstate, dweights)``;
- ``<cell>_backward(dhs, caches, weights) -> (dweights, dX, dstate_0)``, the loop over time,
  whose calls of the student's step backward are answered by an oracle that also checks the
  carried gradients it is called with (``dh`` added to ``dhs[t]``; the LSTM's ``dc``).

The state, its parts and the cache's layout are read from the cell (``rnnlib.CELLS``). The
references are rnnlib's ``forward`` and ``backward``. Hidden cases cover a batch of one column,
a sequence of one step, H != D, and an edges case (``rnngrade.specs.cases``).
"""

import numpy as np

import rnnlib
from rnnlib.grading import step_backward, step_caches

from .cases import (EDGE_SCALE, case_rng, grad_names, hidden_rngs, label, label_or_visible, random_weights,
                    set_edges)
from .types import Assignment, Case, Part

#: assignment -> (cell, its case numbers' thousands, grade ids of provided cells not run when grading)
TABLE = {
    "gru_bptt": ("gru", 2000, frozenset({"gradcheck", "training"})),
    "mgu": ("mgu", 3000, frozenset({"gradcheck", "training"})),
    "lstm": ("lstm", 4000, frozenset({"gradcheck"})),
}
#: Each part's cases: the visible example (case 0, the notebook's seed 0 and sizes) and hidden
#: cases numbered thousands + 100 * part + i, of these sizes.
STEP_SIZES = [{}, dict(D=6, H=2, B=3), dict(D=4, H=5, B=1), dict(D=3, H=4, B=3, edges=True)]
STEP_BACKWARD_SIZES = [{}, dict(D=2, H=6, B=4), dict(D=5, H=3, B=1), dict(D=3, H=4, B=3, edges=True)]
LOOP_SIZES = [{}, dict(T=7, D=4, H=3, B=3), dict(T=1, D=2, H=4, B=2), dict(T=5, D=3, H=2, B=1),
              dict(T=3, D=3, H=4, B=3, edges=True)]


def _seeds(first, sizes):
    return [(0 if i == 0 else first + i, s) for i, s in enumerate(sizes)]


def _problem(cell, rng, T=4, D=3, H=5, B=2, edges=False):
    """The notebooks' ``problem`` drawn from ``rng``: random weights (in the cell's layout), X,
    the initial state's parts and an upstream gradient (T, H, B) for each part; with
    ``edges``, X and the initial state hold a zero and a large column (``set_edges``)."""
    spec = rnnlib.CELLS[cell]
    weights = random_weights(rng, cell, H, D)
    X = rng.standard_normal((T, D, B))
    state_0 = tuple(rng.standard_normal((H, B)) for _ in spec.state_names)
    if edges:
        set_edges(X, *state_0)
    return weights, X, state_0, tuple(rng.standard_normal((T, H, B)) for _ in spec.state_names)


def _step_forward_part(cell, hidden, first):
    spec = rnnlib.CELLS[cell]
    gid, cases = f"test_{cell}_step_forward", []
    # the cache's entries named by position (the new state and the cache's copy of it apart)
    cache_names = tuple(f"cache[{k}] {n}" for k, n in enumerate(spec.cache_names))
    for i, (seed, sizes) in enumerate(_seeds(first, STEP_SIZES)):
        weights, X, state_0, _ = _problem(cell, case_rng(hidden, gid, i, seed), **sizes)
        cache = step_caches(cell, weights, X, spec.pack_state(state_0))[0]
        hs, ref = rnnlib.forward(cell, weights, X, spec.pack_state(state_0))
        state_next = tuple(s[0] for s in spec.state_sequence(hs, ref.saved))
        cases.append(Case(label_or_visible(i, sizes), (X[0], *state_0, weights), state_next + (cache,),
                          tuple(f"{s}_next" for s in spec.state_names) + (cache_names,), hidden=i > 0))
    return Part(gid, 3, f"{cell}_step_forward", cases)


def _step_backward_part(cell, hidden, first):
    spec = rnnlib.CELLS[cell]
    gid, cases = f"test_{cell}_step_backward", []
    for i, (seed, sizes) in enumerate(_seeds(first, STEP_BACKWARD_SIZES)):
        weights, X, state_0, G = _problem(cell, case_rng(hidden, gid, i, seed), **sizes)
        cache = step_caches(cell, weights, X, spec.pack_state(state_0))[0]
        dstate_next = tuple(g[0] for g in G)
        cases.append(Case(label_or_visible(i, sizes), (*dstate_next, cache, weights),
                          step_backward(cell, *dstate_next, cache, weights),
                          ("dx",) + tuple(f"d{s}" for s in spec.state_names) + (grad_names(cell),), hidden=i > 0))
    return Part(gid, 6, f"{cell}_step_backward", cases)


def _backward_part(cell, hidden, first):
    """The loop over time, with the student's step backward answered by an oracle that also
    checks the carried gradients it is called with: ``dh`` (added to ``dhs[t]``) and the other
    parts' (the LSTM's ``dc``)."""
    spec = rnnlib.CELLS[cell]
    k = len(spec.state_names)
    gid, cases = f"test_{cell}_backward", []
    for i, (seed, sizes) in enumerate(_seeds(first, LOOP_SIZES)):
        weights, X, state_0, (G, *_) = _problem(cell, case_rng(hidden, gid, i, seed), **sizes)
        caches = step_caches(cell, weights, X, spec.pack_state(state_0))
        dweights, dX, dstate_0 = rnnlib.backward(G, rnnlib.forward(cell, weights, X, spec.pack_state(state_0))[1])
        entries, carried = [], tuple(np.zeros_like(s) for s in state_0)
        for t in reversed(range(len(X))):
            g = G[t] + carried[0]
            *result, dw_t = step_backward(cell, g, *carried[1:], caches[t], weights)
            entries.append({"match": [[[k, 0], caches[t][0]], [[k, 1], caches[t][1]]],
                            "check": [[[0], g]] + [[[j], carried[j]] for j in range(1, k)],
                            "result": (*result, dw_t)})
            carried = tuple(result[1:])
        names = spec.pack_state([f"d{s}_0" for s in spec.state_names])
        cases.append(Case(label_or_visible(i, sizes), (G, caches, weights), (tuple(dweights), dX, dstate_0),
                          (grad_names(cell), "dX", names), hidden=i > 0,
                          oracles={f"{cell}_step_backward": {"kind": "calls", "entries": entries}}))
    return Part(gid, 5, f"{cell}_backward", cases)


def _mse_part(hidden):
    gid = "test_mse_loss"
    cases = []
    for i, (seed, shape, edge) in enumerate([(2401, (1, 32), False), (2402, (1, 5), False),
                                               (2403, (2, 7), False), (2404, (3, 4), True)], 1):
        rng = hidden(gid, seed)
        pred, y = rng.standard_normal(shape), rng.standard_normal(shape)
        if edge:  # a column of exact predictions (zero errors) and a large one
            y[:, 0] = pred[:, 0]
            pred[:, 1] *= EDGE_SCALE
            y[:, 1] *= EDGE_SCALE
        loss, grad = rnnlib.mse(pred, y)
        text = label(i, shape=shape) + (", exact predictions in a column and large values in another" if edge else "")
        cases.append(Case(text, (pred, y), (loss, grad), ("loss", "dpred")))
    return Part(gid, 2, "mse_loss", cases)


#: parts an assignment has beyond its cell's three
EXTRA_PARTS = {"gru_bptt": [_mse_part]}


def build(name, secret=None):
    """The spec of the cell assignment ``name`` (a key of ``TABLE``)."""
    cell, thousands, skip = TABLE[name]
    hidden = hidden_rngs(secret, name)
    parts = [_step_forward_part(cell, hidden, thousands + 100), _step_backward_part(cell, hidden, thousands + 200),
             _backward_part(cell, hidden, thousands + 300)]
    return Assignment(name, f"{name}.ipynb", parts + [extra(hidden) for extra in EXTRA_PARTS.get(name, [])],
                      skip_cells=skip, keep_in_rnnlib=frozenset({"activations"}))
