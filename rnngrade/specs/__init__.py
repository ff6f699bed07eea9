"""What each assignment's graded parts are tested on, and with what reference (instructor side).

One module per assignment: ``forward_and_scan``, ``gru_bptt``, ``mgu``, ``lstm`` (those three
built by ``cell_bptt`` from one table), ``charlm``, ``attention`` and ``scan``; the types they are made of in ``types``,
and how hidden cases are drawn and named in ``cases``. ``get(name)`` builds one.

Each part names the student's function, its points (the nbgrader grade cell it scores), and
its cases: inputs, the reference output computed here with ``rnnlib``, names for the pieces of
the output (for messages), tolerances and *oracles* (see ``rnngrade.harness``) that stand in for
the student's other graded functions, so that every part is judged on its own.

The seeds written in the modules are *case numbers*: the hidden cases' inputs are drawn from a generator
derived from the course secret, the assignment, the part and the case number
(``rnngrade.secret.case_rng``), so that their sizes are the ones written there and their values
are known only to who holds the secret. Without a secret (``get(name)``) the case number is the
seed: the public defaults. The visible examples never depend on the secret. This file is never
copied into the sandbox and never shown in feedback: messages about hidden cases say what was
wrong (shape, dtype, how many values, the largest error and where) but not the inputs or
expected values.

Every graded part's hidden cases cover, between them: the typical operating range (standard
normal inputs, weights of deviation ``cases.WEIGHT_SCALE``), a batch of one column (B = 1), a
sequence of one step (T = 1) where there is a sequence, hidden size different from input size
(H != D) everywhere, and an *edges* case whose batch holds a zero column (zero input and state)
and a large one (inputs ``cases.EDGE_SCALE`` times larger, which saturate the gates) beside
typical columns. ``rnngrade.mutate`` checks that the cases catch what students get wrong: every
mutant of the solutions that is not equivalent to them must lose points.
"""

from . import attention, charlm, forward_and_scan, gru_bptt, lstm, mgu, scan
from .types import Assignment, Case, Part

__all__ = ["ASSIGNMENTS", "get", "Assignment", "Case", "Part"]

#: Every assignment's builder, ``builder(secret) -> Assignment``, by name.
ASSIGNMENTS = {m.NAME: m.build for m in (forward_and_scan, gru_bptt, mgu, lstm, charlm, attention, scan)}


def get(name, secret=None):
    """The spec of assignment ``name``, its hidden inputs derived from the course ``secret`` (None:
    the public defaults; see ``rnngrade.secret``). Built on demand: the references take milliseconds."""
    try:
        builder = ASSIGNMENTS[name]
    except KeyError:
        raise ValueError(f"no grading spec for assignment {name!r}; known: {sorted(ASSIGNMENTS)}") from None
    return builder(secret)
