"""Mutation testing of the hidden cases: does the grader catch what students get wrong?

A *mutant* is a solved submission with one small change in one solution region (the code
between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of ``solutions/<a>/<a>.ipynb``): an
operator swapped, a term dropped, a constant changed, an activation swapped, an index off by
one, a loop reversed (``OPERATORS`` lists them all). The mutants are made with Python's ``ast``
and written back into the cell's text, so the rest of the cell (comments included) stays as it
is. Each mutant is graded by the real grader: ``rnngrade.runner.grade_notebook``, the call that
``python -m rnngrade autograde`` makes for every submission (out of kernel, in the sandbox
unless told otherwise), on the release filled in with the solutions as a student would hand it
in. A mutant is *killed* when it loses points. One that scores full marks is a *survivor*:
either the hidden cases miss a mistake a student could make (then ``rnngrade/specs/`` needs a
better case), or it computes the same thing as the solution, an *equivalent* mutant (``a >= 0``
-> ``a > 0`` in the sigmoid, whose two branches agree at 0). Equivalent mutants are listed,
each with the reason why no case can kill it, in ``equivalent_mutants.toml`` next to this
module. The *mutation score* is the share of the other mutants that are killed; it must be 100%.

A mutant's id, ``<assignment>/<cell>/<operator>/<8 hex digits>``, hashes the mutated lines
before and after the change: it stays the same while those lines do, whatever else changes in
the notebook, and a listed mutant whose line changed shows up as stale.

Command line (in the course directory)::

    python -m rnngrade.mutate [ASSIGNMENT ...] [--sample N] [--seed S] [--jobs J] [--no-sandbox]
    python -m rnngrade.mutate --list mgu            # the mutants, without grading them

It grades every mutant (or a sample of N per assignment), prints the mutation score of each
assignment and every survivor as an entry for the list of equivalent mutants (to be added only
with a reason, after checking that no input can tell it from the solution), and exits 1 if a
mutant survived or the list is out of date. The test suite grades a seeded sample
(``tests/grading/test_grading_mutants.py``; ``RNNGRADE_MUTANTS=all`` grades every mutant).
"""

import argparse
import ast
import concurrent.futures
import copy
import dataclasses
import hashlib
import os
import pathlib
import queue
import random
import re
import sys
import tempfile
import time
import tomllib

import nbformat

import rnnlib

from . import runner, sandbox, specs
from . import secret as course_secret

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
EQUIVALENTS_FILE = pathlib.Path(__file__).with_name("equivalent_mutants.toml")

#: What each operator does, in the order in which they are tried (of two mutants with the same
#: text, the first operator's is kept).
OPERATORS = {
    "op": "an arithmetic operator swapped (+ -, * /, @ to *, ** to *) or a comparison changed",
    "swap-operands": "the operands of -, /, @ or ** swapped",
    "drop-term": "a term of a sum or a factor of a product dropped, a minus sign dropped, "
                 "an accumulation (+=) turned into an assignment",
    "constant": "a number changed to 0, 1, 0.5, -1 or 2 (an integer to 0, 1, -1 or 2), a boolean flipped",
    "index": "an index or a slice bound off by one, or a slice's halves swapped ([:H] and [H:])",
    "loop": "a loop's order reversed or un-reversed, or its first or last element skipped",
    "range": "a range() starting one later or ending one earlier",
    "activation": "sigmoid and np.tanh swapped",
    "drop-call": "a call of one argument dropped (np.tanh(a) to a)",
    "drop-transpose": "a transpose (.T) dropped",
    "swap-items": "two neighbouring arguments, list or tuple items, or assignment targets swapped",
    "swap-name": "a gate or state of the cell used in place of another (u for r, c for c_next)",
    "drop-statement": "a statement replaced by pass",
}

FLOAT_CONSTANTS = (0.0, 1.0, 0.5, -1.0, 2.0)
INT_CONSTANTS = (0, 1, -1, 2)
OP_SWAPS = {ast.Add: [ast.Sub], ast.Sub: [ast.Add], ast.Mult: [ast.Div], ast.Div: [ast.Mult],
            ast.MatMult: [ast.Mult], ast.Pow: [ast.Mult]}
COMPARE_SWAPS = {ast.GtE: [ast.Gt, ast.LtE], ast.Gt: [ast.GtE, ast.Lt], ast.LtE: [ast.Lt, ast.GtE],
                 ast.Lt: [ast.LtE, ast.Gt], ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq]}
NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.MatMult, ast.Pow)


class MutationError(RuntimeError):
    """The mutation run cannot be trusted (the solution itself loses points, the list of
    equivalent mutants is malformed, a mutant is not valid Python)."""


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One mutant of one solution cell."""

    id: str                 # "<assignment>/<cell>/<operator>/<8 hex digits>"
    assignment: str
    cell: str               # the solution cell's grade id, e.g. "gru_step_backward"
    part: str               # the grade id of the part that grades the cell's function ("" if none)
    operator: str           # a key of OPERATORS
    before: str             # the mutated lines, as in the solution (stripped)
    after: str              # the same lines in the mutant
    source: str             # the mutant's whole cell, without the solution markers


@dataclasses.dataclass
class Outcome:
    """How the grader scored one mutant."""

    mutant: Mutant
    lost: dict              # grade id -> points lost (empty: the mutant survived)

    @property
    def killed(self):
        return bool(self.lost)

    @property
    def killed_elsewhere(self):
        """Lost points, but not in the part of the function it mutates."""
        return self.killed and self.mutant.part not in self.lost


@dataclasses.dataclass
class Report:
    """The mutation run of one assignment."""

    assignment: str
    generated: int                  # mutants made from the solutions
    outcomes: list                  # Outcome of every graded mutant that is not listed as equivalent
    equivalent: list                # Outcome of every listed equivalent mutant (graded: it must survive)
    stale: list                     # listed ids that name no mutant (or one whose line is not ``after``)
    seconds: float

    @property
    def killed(self):
        return sum(o.killed for o in self.outcomes)

    @property
    def survivors(self):
        return [o.mutant for o in self.outcomes if not o.killed]

    @property
    def not_equivalent(self):
        """Listed as equivalent, yet the grader takes points off: the listing is wrong."""
        return [o for o in self.equivalent if o.killed]

    @property
    def score(self):
        """The share of graded non-equivalent mutants killed (1.0 when none was graded)."""
        return self.killed / len(self.outcomes) if self.outcomes else 1.0

    @property
    def ok(self):
        return not self.survivors and not self.not_equivalent and not self.stale

    def summary(self):
        """One line: the mutation score and what was graded."""
        graded = len(self.outcomes) + len(self.equivalent)
        of = "every mutant" if graded == self.generated else f"a sample of {graded} of {self.generated} mutants"
        line = (f"{self.assignment}: {self.killed}/{len(self.outcomes)} non-equivalent mutants killed "
                f"({100 * self.score:.0f}%), {len(self.equivalent)} listed as equivalent; {of}, {self.seconds:.0f} s")
        elsewhere = sum(o.killed_elsewhere for o in self.outcomes)
        if elsewhere:
            line += f"; {elsewhere} killed only outside the part they mutate"
        if self.not_equivalent:
            line += f"; {len(self.not_equivalent)} listed as equivalent lose points"
        if self.stale:
            line += f"; {len(self.stale)} stale entries in {EQUIVALENTS_FILE.name}"
        return line


# --------------------------------------------------------------------------- notebooks

def solution_sources(root, assignment):
    """{grade id: source} of the solution cells of ``solutions/<a>/<notebook>``, markers included."""
    spec = specs.get(assignment)
    nb = nbformat.read(pathlib.Path(root) / "solutions" / assignment / spec.notebook, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def strip_markers(source):
    """A solution cell as a student would write it: the BEGIN/END SOLUTION lines removed."""
    return re.sub(rf"^[ \t]*({BEGIN}|{END})[ \t]*\n", "", source, flags=re.M)


def solved_notebook(root, assignment, replace=None):
    """The release of ``assignment`` with every solution cell filled in from the solutions (as a
    student would hand it in), or from ``replace`` ({grade id: source}) for the cells it names."""
    spec = specs.get(assignment)
    answers = {gid: strip_markers(src) for gid, src in solution_sources(root, assignment).items()}
    answers.update(replace or {})
    nb = nbformat.read(pathlib.Path(root) / "assignments" / assignment / spec.notebook, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = answers[meta["grade_id"]]
    return nb


# --------------------------------------------------------------------------- making mutants

def _regions(source):
    """The line ranges (1-based, exclusive of the marker lines) between BEGIN and END SOLUTION."""
    out, start = [], None
    for n, line in enumerate(source.splitlines(), 1):
        if line.strip() == BEGIN:
            start = n
        elif line.strip() == END and start is not None:
            out.append((start, n))
            start = None
    return out


def _plus(node, k):
    """``node + k`` (``node - |k|`` for negative k), or the constant itself moved by k."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return ast.Constant(node.value + k)
    return ast.BinOp(copy.deepcopy(node), ast.Add() if k > 0 else ast.Sub(), ast.Constant(abs(k)))


def _name_groups():
    """Names that stand for one cell's gates and states (rnnlib.CELLS): the states, their next
    values (``h_next``), and the activations the cell saves (``u``, ``r``, ``c``)."""
    groups = []
    for cell in rnnlib.CELLS.values():
        names = cell.state_names + tuple(f"{s}_next" for s in cell.state_names) + cell.saved_names
        groups.append(frozenset(names))
    return groups


def _first_bindings(func):
    """{name: line where it is first bound in ``func``} (its parameters: the ``def`` line)."""
    bound = {a.arg: func.lineno for a in func.args.args + func.args.kwonlyargs}
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound[node.id] = min(bound.get(node.id, node.lineno), node.lineno)
    return bound


class _Candidates:
    """The replacements (operator, node, new node) for the nodes of a cell inside its regions."""

    def __init__(self, tree, regions):
        self.parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        self.groups = _name_groups()
        self.bindings = {}      # function -> _first_bindings(function)
        self.found = []
        for node in ast.walk(tree):
            if hasattr(node, "lineno") and any(a < node.lineno and node.end_lineno < b for a, b in regions):
                self.visit(node)

    def add(self, operator, node, new):
        self.found.append((operator, node, new))

    def visit(self, node):
        parent = self.parents.get(node)
        if isinstance(node, (ast.BinOp, ast.AugAssign)):
            self.binop(node)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1:
            for new_op in COMPARE_SWAPS.get(type(node.ops[0]), []):
                self.add("op", node, ast.Compare(node.left, [new_op()], node.comparators))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            if isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float):
                self.constant(node, -node.operand.value)
            self.add("drop-term", node, node.operand)
        elif isinstance(node, ast.Constant) and not (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.USub)):
            if type(node.value) is bool:
                self.add("constant", node, ast.Constant(not node.value))
            elif type(node.value) in (int, float):
                self.constant(node, node.value)
        elif isinstance(node, ast.Subscript):
            self.index(node)
        elif isinstance(node, ast.Call):
            self.call(node)
        elif isinstance(node, ast.Attribute) and node.attr == "T":
            self.add("drop-transpose", node, node.value)
        elif isinstance(node, (ast.List, ast.Tuple)):
            self.swaps(node, node.elts, lambda elts: type(node)(elts, node.ctx))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            self.name(node)
        if isinstance(node, ast.For):
            self.loop(node)
        if isinstance(node, ast.stmt):
            self.add("drop-statement", node, ast.Pass())

    def binop(self, node):
        op = type(node.op)
        aug = isinstance(node, ast.AugAssign)
        make = ((lambda o: ast.AugAssign(node.target, o, node.value)) if aug
                else (lambda o: ast.BinOp(node.left, o, node.right)))
        for new_op in OP_SWAPS.get(op, []):
            self.add("op", node, make(new_op()))
        if aug:
            if op in (ast.Add, ast.Sub, ast.Mult, ast.Div):
                self.add("drop-term", node, ast.Assign([node.target], node.value))
            return
        if op in NON_COMMUTATIVE:
            self.add("swap-operands", node, ast.BinOp(node.right, node.op, node.left))
        if op in (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow):
            self.add("drop-term", node, node.left)
        if op in (ast.Add, ast.Mult):
            self.add("drop-term", node, node.right)
        elif op is ast.Sub:
            self.add("drop-term", node, ast.UnaryOp(ast.USub(), node.right))

    def constant(self, node, value):
        choices = INT_CONSTANTS if type(value) is int else FLOAT_CONSTANTS
        for new in choices:
            if new != value:
                self.add("constant", node, ast.Constant(new))

    def index(self, node):
        sl = node.slice
        make = lambda s: ast.Subscript(node.value, s, node.ctx)
        if isinstance(sl, ast.Slice):
            if sl.step is not None:
                return
            for bound in ("lower", "upper"):
                b = getattr(sl, bound)
                if b is not None:
                    for k in (1, -1):
                        self.add("index", node, make(ast.Slice(**{**{"lower": sl.lower, "upper": sl.upper},
                                                                   bound: _plus(b, k)})))
            if (sl.lower is None) != (sl.upper is None):
                self.add("index", node, make(ast.Slice(sl.upper, sl.lower)))
        elif not isinstance(sl, ast.Tuple) and not (isinstance(sl, ast.Constant) and sl.value is None):
            for k in (1, -1):
                self.add("index", node, make(_plus(sl, k)))

    def call(self, node):
        func = node.func
        if isinstance(func, ast.Name) and func.id == "sigmoid":
            self.add("activation", node, ast.Call(ast.Attribute(ast.Name("np"), "tanh"), node.args, node.keywords))
        if isinstance(func, ast.Attribute) and func.attr == "tanh" and isinstance(func.value, ast.Name):
            self.add("activation", node, ast.Call(ast.Name("sigmoid"), node.args, node.keywords))
        if isinstance(func, ast.Name) and func.id == "range" and 1 <= len(node.args) <= 2 and not node.keywords:
            start, stop = (node.args if len(node.args) == 2 else (None, node.args[0]))
            self.add("range", node, ast.Call(func, [_plus(start, 1) if start else ast.Constant(1), stop], []))
            self.add("range", node, ast.Call(func, ([start] if start else []) + [_plus(stop, -1)], []))
        if len(node.args) == 1 and not isinstance(node.args[0], ast.Starred):
            self.add("drop-call", node, node.args[0])
        self.swaps(node, node.args, lambda args: ast.Call(func, args, node.keywords))

    def swaps(self, node, items, make):
        for i in range(len(items) - 1):
            if any(isinstance(x, ast.Starred) for x in items[i:i + 2]):
                continue
            swapped = list(items)
            swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
            self.add("swap-items", node, make(swapped))

    def loop(self, node):
        it = node.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "reversed" and len(it.args) == 1:
            self.add("loop", it, it.args[0])
        elif isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range":
            self.add("loop", it, ast.Call(ast.Name("reversed"), [it], []))
        elif isinstance(it, (ast.Name, ast.Attribute, ast.Subscript)):
            self.add("loop", it, ast.Call(ast.Name("reversed"), [it], []))
            self.add("loop", it, ast.Subscript(it, ast.Slice(ast.Constant(1), None)))
            self.add("loop", it, ast.Subscript(it, ast.Slice(None, ast.UnaryOp(ast.USub(), ast.Constant(1)))))

    def name(self, node):
        """swap-name: the gates and states of the cell whose names the function uses most."""
        func = node
        while func is not None and not isinstance(func, ast.FunctionDef):
            func = self.parents.get(func)
        if func is None:
            return
        if func not in self.bindings:
            self.bindings[func] = _first_bindings(func)
        bound = self.bindings[func]
        group = max(self.groups, key=lambda g: len(g & bound.keys()))
        if node.id not in group:
            return
        for other in sorted(group & bound.keys()):
            if other != node.id and bound[other] < node.lineno:  # bound before this line
                self.add("swap-name", node, ast.Name(other, ast.Load()))


#: Expressions that bind tighter than any operator: one of them never needs parentheses.
ATOMS = (ast.Name, ast.Attribute, ast.Subscript, ast.Call, ast.List, ast.Tuple, ast.ListComp, ast.GeneratorExp)


def _atom(node):
    if isinstance(node, ast.Constant):
        return not (isinstance(node.value, (int, float)) and node.value < 0)
    return isinstance(node, ATOMS)


def _parses(source):
    try:
        ast.parse(source)
        return True
    except SyntaxError:
        return False


def _parses_as(a, b):
    """Whether source ``a`` is valid and parses to the same tree as ``b``."""
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError:
        return False


def _splice(source, node, new):
    """``source`` with the text of ``node`` replaced by ``new`` (an AST node), in parentheses
    only where they are needed (so that one program has one text); returns the new source and
    the 1-based line range that the replacement occupies in it."""
    data = source.encode()  # ast's column offsets count UTF-8 bytes
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    a = starts[node.lineno - 1] + node.col_offset
    b = starts[node.end_lineno - 1] + node.end_col_offset
    with_text = lambda t: (data[:a] + t.encode() + data[b:]).decode()
    text = ast.unparse(ast.fix_missing_locations(new))
    if isinstance(new, ast.Tuple):  # unparsed in parentheses, which assignment targets do without
        texts = [text[1:-1], text]  # (and an index with a slice, x[:, None], cannot have)
    elif isinstance(new, ast.expr) and not _atom(new):
        texts = [text, f"({text})"]
    else:
        texts = [text]
    texts = [t for t in texts if _parses(with_text(t))] or texts[-1:]
    text = next(t for t in texts if t == texts[-1] or _parses_as(with_text(t), with_text(texts[-1])))
    return with_text(text), (node.lineno, node.lineno + text.count("\n"))


def _lines(source, first, last):
    return " / ".join(line.strip() for line in source.splitlines()[first - 1:last])


def cell_mutants(assignment, grade_id, source, part=""):
    """Every distinct mutant of one solution cell (``source`` with its markers; ``part``: the grade
    id of the part that grades it), in a fixed order."""
    tree = ast.parse(source)
    regions = _regions(source)
    seen, ids, out = {source}, set(), []
    order = list(OPERATORS)
    for operator, node, new in sorted(_Candidates(tree, regions).found, key=lambda c: order.index(c[0])):
        mutated, (first, last) = _splice(source, node, new)
        if mutated in seen:  # the same text (so the same program) as the solution or an earlier mutant
            continue
        seen.add(mutated)
        try:
            compile(mutated, f"<{assignment}/{grade_id}>", "exec")
        except SyntaxError as exc:
            raise MutationError(f"{operator} made invalid Python of {grade_id} in {assignment}: {exc}") from None
        before, after = _lines(source, node.lineno, node.end_lineno), _lines(mutated, first, last)
        digest = hashlib.sha256(f"{before}\n=>\n{after}".encode()).hexdigest()[:8]
        mid, k = f"{assignment}/{grade_id}/{operator}/{digest}", 1
        while mid in ids:  # the same line, mutated the same way, twice in one cell
            k += 1
            mid = f"{assignment}/{grade_id}/{operator}/{digest}-{k}"
        ids.add(mid)
        out.append(Mutant(mid, assignment, grade_id, part, operator, before, after, strip_markers(mutated)))
    return out


def mutants(root, assignment):
    """Every mutant of every solution cell of ``assignment``, each with the graded part of the
    function its cell defines."""
    parts = {p.function: p.grade_id for p in specs.get(assignment).parts}
    out = []
    for gid, src in solution_sources(root, assignment).items():
        defined = [node.name for node in ast.parse(src).body if isinstance(node, ast.FunctionDef)]
        out += cell_mutants(assignment, gid, src, next((parts[f] for f in defined if f in parts), ""))
    return out


# --------------------------------------------------------------------------- equivalent mutants

@dataclasses.dataclass(frozen=True)
class Equivalent:
    id: str
    after: str              # the mutated lines, for the reader (checked against the mutant)
    reason: str


def equivalents(path=EQUIVALENTS_FILE):
    """{id: Equivalent} from the list of equivalent mutants (a TOML file of ``[[mutant]]`` tables
    with ``id``, ``after`` and ``reason``); MutationError naming the entry if one is malformed."""
    try:
        data = tomllib.loads(pathlib.Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MutationError(f"{path}: cannot be read as TOML ({exc})") from None
    out = {}
    for n, entry in enumerate(data.get("mutant", []), 1):
        missing = [k for k in ("id", "after", "reason") if not isinstance(entry.get(k), str) or not entry[k].strip()]
        if missing or set(entry) - {"id", "after", "reason"}:
            raise MutationError(f"{path}: mutant {n} must have the keys id, after and reason (text, not empty); "
                                f"got {sorted(entry)}")
        if entry["id"] in out:
            raise MutationError(f"{path}: mutant {n}: {entry['id']} is listed twice")
        out[entry["id"]] = Equivalent(entry["id"], entry["after"], entry["reason"].strip())
    return out


def toml_entry(mutant, reason="TODO: why no input can tell it from the solution"):
    """The mutant as an entry of the list of equivalent mutants."""
    q = lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return (f"[[mutant]]\nid = {q(mutant.id)}\n# before: {mutant.before}\nafter = {q(mutant.after)}\n"
            f"reason = {q(reason)}\n")


# --------------------------------------------------------------------------- grading

def sample(candidates, n, seed, assignment):
    """``n`` of the ``candidates``, drawn with ``seed``: shuffled within each cell and taken from
    the cells in turn, so that every graded part is represented (all of them if ``n`` is None)."""
    if n is None or n >= len(candidates):
        return list(candidates)
    rng = random.Random(f"{seed}/{assignment}")
    by_cell = {}
    for m in candidates:
        by_cell.setdefault(m.cell, []).append(m)
    for ms in by_cell.values():
        rng.shuffle(ms)
    picked, queues = [], list(by_cell.values())
    while len(picked) < n:
        for q in queues:
            if q and len(picked) < n:
                picked.append(q.pop())
    return picked


def grade(nbs, spec, use_sandbox=True, jobs=2):
    """Grade notebooks with the real grader and its time limits, ``jobs`` at a time; ``nbs`` is a
    list of notebooks, the result a list of ``runner.NotebookResult`` in the same order."""
    jobs = max(1, jobs)
    slots = queue.Queue()
    for s in range(jobs):
        slots.put(s)
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        jobdir = os.path.join(tmp, "job")  # what the sandbox sees at /grading: not the submissions
        os.mkdir(jobdir)
        runner.prepare_jobdir(spec, dest=jobdir)

        def one(i, nb):
            folder = pathlib.Path(tmp, "submitted", str(i))
            folder.mkdir(parents=True)
            path = folder / spec.notebook
            nbformat.write(nb, path)
            slot = slots.get()
            try:
                return runner.grade_notebook(path, spec, use_sandbox=use_sandbox, slot=slot, workdir=jobdir)
            finally:
                slots.put(slot)

        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(one, range(len(nbs)), nbs))


def run(root, assignment, n=None, seed=0, secret=None, use_sandbox=True, jobs=2, listed=None, spec=None,
        always=()):
    """Grade the mutants of ``assignment`` and return a Report.

    Graded: ``n`` mutants (every mutant if ``n`` is None), those whose ids are in ``always`` and
    a ``sample`` of the others, and every mutant ``listed`` as equivalent ({id: Equivalent};
    default: ``equivalents()``). ``spec``: the grader's spec (default: ``specs.get`` with
    ``secret``). Raises MutationError if the solved notebook itself does not score full marks.
    """
    start = time.monotonic()
    spec = spec or specs.get(assignment, secret=secret)
    listed = equivalents() if listed is None else listed
    made = mutants(root, assignment)
    by_id = {m.id: m for m in made}
    mine = {k: v for k, v in listed.items() if k.split("/", 1)[0] == assignment}
    stale = sorted(k for k, v in mine.items() if k not in by_id or by_id[k].after != v.after)
    equivalent = [m for m in made if m.id in mine and m.id not in stale]
    others = [m for m in made if m.id not in mine]
    chosen = [m for m in others if m.id in always]
    chosen += sample([m for m in others if m.id not in always], None if n is None else max(0, n - len(chosen)),
                     seed, assignment)
    todo = [None] + equivalent + chosen
    results = grade([solved_notebook(root, assignment, None if m is None else {m.cell: m.source}) for m in todo],
                    spec, use_sandbox, jobs)
    baseline = results[0]
    if baseline.score != spec.total:
        lost = {k: p.messages for k, p in baseline.parts.items() if not p.passed}
        raise MutationError(f"the solved notebook of {assignment} scores {baseline.score:g}/{spec.total:g} "
                            f"(lost: {lost}; notes: {baseline.log}): its mutants cannot be judged")
    outcomes = [Outcome(m, {k: p.max_score - p.score for k, p in r.parts.items() if not p.passed})
                for m, r in zip(todo[1:], results[1:])]
    return Report(assignment, len(made), outcomes[len(equivalent):], outcomes[:len(equivalent)], stale,
                  time.monotonic() - start)


# --------------------------------------------------------------------------- command line

def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m rnngrade.mutate", description=(
        "Mutation testing of the grader's hidden cases: grade mutants of the solutions with the real "
        "grader and report the share that lose points (see rnngrade/mutate.py)."))
    p.add_argument("assignments", nargs="*", help="assignment names (default: all with a grading spec)")
    p.add_argument("--course", default=os.getcwd(), help="the course directory (default: here)")
    p.add_argument("--sample", type=int, help="grade N mutants per assignment (default: all)")
    p.add_argument("--seed", type=int, default=0, help="the seed of the sample (default: 0)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants graded in parallel")
    p.add_argument("--no-sandbox", action="store_true", help="grade without bubblewrap (the mutants are "
                   "the course's own code, but run them sandboxed where you can)")
    p.add_argument("--list", action="store_true", help="print the mutants and do not grade them")
    args = p.parse_args(argv)
    unknown = sorted(set(args.assignments) - set(specs.ASSIGNMENTS))
    if unknown:
        p.error(f"no grading spec for {', '.join(unknown)}; expected one of {', '.join(sorted(specs.ASSIGNMENTS))}")
    names = args.assignments or sorted(specs.ASSIGNMENTS)
    if args.list:
        for name in names:
            for m in mutants(args.course, name):
                print(f"{m.id}\n    {m.before}\n -> {m.after}")
        return 0
    if not args.no_sandbox:
        try:
            sandbox.check_available()
        except sandbox.SandboxUnavailable as exc:
            print(f"ERROR: {exc}; pass --no-sandbox to grade the mutants without it", file=sys.stderr)
            return 2
    secret = course_secret.load(args.course)
    print(f"hidden inputs: {'the public defaults' if secret is None else 'from the course secret'}", flush=True)
    status = 0
    for name in names:
        report = run(args.course, name, args.sample, args.seed, secret, not args.no_sandbox, args.jobs)
        print(report.summary(), flush=True)
        for m in report.survivors:
            print(f"SURVIVED (a missing hidden case, or an equivalent mutant to list with its reason):\n"
                  f"{toml_entry(m)}", flush=True)
        for o in report.not_equivalent:
            print(f"LISTED AS EQUIVALENT BUT LOSES POINTS in {sorted(o.lost)}: {o.mutant.id}", flush=True)
        for k in report.stale:
            print(f"STALE in {EQUIVALENTS_FILE.name} (no such mutant, or its line changed): {k}", flush=True)
        status |= not report.ok
    return status


if __name__ == "__main__":
    sys.exit(main())
