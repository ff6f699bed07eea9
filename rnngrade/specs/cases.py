"""How the hidden cases are drawn and named, for every assignment's spec.

The seeds written in the spec modules are *case numbers*: a hidden case's inputs are drawn from
a generator derived from the course secret, the assignment, the part and the case number
(``rnngrade.secret.case_rng``), so that their sizes are the ones written there and their values
are known only to who holds the secret. Without a secret the case number is the seed: the
public defaults. The visible examples (case 0) never depend on the secret: they are the
notebooks', drawn from ``numpy.random.default_rng(seed)``.
"""

from functools import partial

import numpy as np

import rnnlib

from .. import secret as course_secret

__all__ = ["WEIGHT_SCALE", "EDGE_SCALE", "hidden_rngs", "case_rng", "label", "label_or_visible", "set_edges",
           "random_weights", "grad_names", "sigmoid_oracle"]

#: The weights' standard deviation, as in the notebooks' ``problem``: with standard normal
#: inputs, pre-activations are of order 1, most gates neither saturated nor linear.
WEIGHT_SCALE = 0.5
#: How much larger the inputs of an edges case's large column are than typical ones.
EDGE_SCALE = 10.0


def hidden_rngs(secret, assignment):
    """``hidden(part, case)``: the generator of a hidden case of ``assignment`` (see ``rnngrade.secret``)."""
    return partial(course_secret.case_rng, secret, assignment)


def case_rng(hidden, grade_id, i, seed):
    """Case ``i``'s generator: the visible example's (case 0) is the notebook's, seeded with ``seed``;
    a hidden case's derives from the course secret and its case number ``seed``."""
    return np.random.default_rng(seed) if i == 0 else hidden(grade_id, seed)


def label(i, edges=False, **sizes):
    """``"hidden case 2 (H=5, D=3, B=1)"``: what the feedback calls hidden case ``i``."""
    text = f"hidden case {i} (" + ", ".join(f"{k}={v}" for k, v in sizes.items()) + ")"
    return text + (", a zero and a large batch column" if edges else "")


def label_or_visible(i, sizes):
    return "the visible example" if i == 0 else label(i, **sizes)


def set_edges(*arrays):
    """Make a batch hold the edges, in place: in every array (batch in the last axis) column 0 is
    zero and column 1 is EDGE_SCALE times larger; the other columns stay typical."""
    for a in arrays:
        a[..., 0] = 0.0
        a[..., 1] *= EDGE_SCALE


def random_weights(rng, cell, H, D):
    """A weight tuple of ``cell`` in its own layout (``Cell.layout``), standard normal entries
    of deviation WEIGHT_SCALE, drawn in the tuple's order."""
    return tuple(WEIGHT_SCALE * rng.standard_normal(shape) for shape in rnnlib.CELLS[cell].shapes(D, H))


def grad_names(cell):
    """Names of a cell's weight gradients, e.g. ``("dW_f", "dW_h", "db_f", "db_h")``."""
    return tuple("d" + n for n in rnnlib.CELLS[cell].weight_names)


def sigmoid_oracle(*pre_activations):
    """An oracle that answers the student's ``sigmoid`` on these pre-activations with rnnlib's."""
    xs = np.concatenate([np.ravel(a) for a in pre_activations])
    return {"sigmoid": {"kind": "elementwise", "xs": xs, "ys": rnnlib.sigmoid(xs)}}
