"""What a grading spec is made of: an assignment's parts, and each part's cases."""

from dataclasses import dataclass, field

from rnnlib.grading import ATOL, RTOL

__all__ = ["Case", "Part", "Assignment"]


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
