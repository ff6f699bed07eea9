"""Mutation testing of the hidden cases: the grader must catch what students get wrong.

``rnngrade.mutate`` makes mutants of the solutions (an operator swapped, a term dropped, a
constant changed, an activation swapped, an index off by one, a loop reversed, ...) and grades
each with the real grader, in the sandbox where there is one, under a fresh course secret. Every
mutant must lose points, except those listed as equivalent (``rnngrade/equivalent_mutants.toml``),
each with its reason, which must not. The suite grades a seeded sample of each assignment's
mutants (SAMPLE per assignment, drawn from its cells in turn, with seed SEED), the mutant of the
sigmoid that first showed the hidden cases too weak, and every listed equivalent mutant;
``RNNGRADE_MUTANTS=all`` grades every mutant (about 1700: 7 to 17 minutes on two cores) and
``RNNGRADE_MUTANTS=<n>`` a sample of n per assignment. The grading report at the end of the run
prints each assignment's mutation score.
"""

import ast
import dataclasses
import os
import secrets

import pytest

from grading_support import ASSIGNMENTS, ROOT
from rnngrade import mutate, specs

SAMPLE = None if os.environ.get("RNNGRADE_MUTANTS") == "all" else int(os.environ.get("RNNGRADE_MUTANTS", "30"))
SEED = 0

# the mutant that the issue reported: wrong for every input in [0, 1), and full marks until the
# sigmoid's hidden cases covered the typical range
REPORTED = ("forward_and_scan", "sigmoid", "return np.where(a >= 1, 1.0, e) / (1.0 + e)")


def reported_mutant():
    assignment, cell, after = REPORTED
    return next(m for m in mutate.mutants(ROOT, assignment) if m.cell == cell and m.after == after)


@pytest.fixture(scope="module")
def made():
    return {a: mutate.mutants(ROOT, a) for a in ASSIGNMENTS}


def test_the_operators_on_a_small_function():
    """Every mutant of a small function, worked out by hand from the operators' definitions."""
    source = ("def f(a, xs):\n"
              "    ### BEGIN SOLUTION\n"
              "    y = a[:H] - 2 * np.tanh(a)\n"
              "    for x in xs:\n"
              "        y += x\n"
              "    ### END SOLUTION\n"
              "    return y\n")
    got = {(m.operator, m.after) for m in mutate.cell_mutants("a", "f", source)}
    line = "y = a[:H] - 2 * np.tanh(a)"
    want = {("op", "y = a[:H] + 2 * np.tanh(a)"), ("op", "y = a[:H] - 2 / np.tanh(a)"), ("op", "y -= x"),
            ("swap-operands", "y = 2 * np.tanh(a) - a[:H]"),
            ("drop-term", "y = a[:H]"), ("drop-term", "y = -(2 * np.tanh(a))"), ("drop-term", "y = a[:H] - 2"),
            ("drop-term", "y = a[:H] - np.tanh(a)"), ("drop-term", "y = x"),
            ("constant", "y = a[:H] - 0 * np.tanh(a)"), ("constant", "y = a[:H] - 1 * np.tanh(a)"),
            ("constant", "y = a[:H] - -1 * np.tanh(a)"),
            ("index", "y = a[:H + 1] - 2 * np.tanh(a)"), ("index", "y = a[:H - 1] - 2 * np.tanh(a)"),
            ("index", "y = a[H:] - 2 * np.tanh(a)"),
            ("loop", "for x in reversed(xs):"), ("loop", "for x in xs[1:]:"), ("loop", "for x in xs[:-1]:"),
            ("activation", "y = a[:H] - 2 * sigmoid(a)"), ("drop-call", "y = a[:H] - 2 * a"),
            ("drop-statement", "pass")}
    assert got == want, (sorted(got - want), sorted(want - got))
    # the three statements dropped are three mutants (the loop's header shown with its body)
    assert sum(m.operator == "drop-statement" for m in mutate.cell_mutants("a", "f", source)) == 3
    assert all(line not in m.source for m in mutate.cell_mutants("a", "f", source) if m.before == line)


def test_an_index_with_a_slice_is_swapped_without_parentheses():
    """swap-items on x[:, None]: the index (None, :) cannot be written in parentheses."""
    source = ("def f(x):\n"
              "    ### BEGIN SOLUTION\n"
              "    return x[:, None]\n"
              "    ### END SOLUTION\n")
    assert {m.after for m in mutate.cell_mutants("a", "f", source) if m.operator == "swap-items"} == {"return x[None, :]"}


def test_a_gate_is_swapped_for_the_cells_other_gates_and_states():
    """swap-name: in a function whose names are a cell's gates and states (rnnlib.CELLS; here the
    GRU's u, r and h), each gate or state read is replaced by each other one bound before it."""
    source = ("def f(x, h, u, r):\n"
              "    ### BEGIN SOLUTION\n"
              "    c = u * h\n"
              "    return c + r\n"
              "    ### END SOLUTION\n")
    got = {m.after for m in mutate.cell_mutants("a", "f", source) if m.operator == "swap-name"}
    assert got == {"c = h * h", "c = r * h", "c = u * u", "c = u * r",
                   "return h + r", "return u + r", "return r + r", "return c + h", "return c + u", "return c + c"}


def test_mutants_are_single_changes_inside_the_solution_regions(made):
    """Each mutant changes one solution region of one cell, is valid Python, has a unique id, and
    every operator and every solution cell of every assignment has mutants."""
    operators = set()
    for a in ASSIGNMENTS:
        solutions = mutate.solution_sources(ROOT, a)
        ids = [m.id for m in made[a]]
        assert len(ids) == len(set(ids))
        assert {m.cell for m in made[a]} == set(solutions)
        for m in made[a]:
            original = mutate.strip_markers(solutions[m.cell]).splitlines()
            mutant = m.source.splitlines()
            ast.parse(m.source)
            head = next(i for i, (x, y) in enumerate(zip(original + [None], mutant + [None])) if x != y)
            tail = next(i for i, (x, y) in enumerate(zip(original[::-1], mutant[::-1])) if x != y)
            region = [i for i, line in enumerate(original) if "### START CODE HERE" in line or "### END CODE HERE" in line]
            assert region[0] < head and len(original) - tail - 1 < region[1], m.id
            operators.add(m.operator)
    assert operators == set(mutate.OPERATORS)


def test_the_equivalent_mutants_are_listed_with_their_reasons(made):
    listed = mutate.equivalents()
    assert listed
    by_id = {m.id: m for ms in made.values() for m in ms}
    for k, entry in listed.items():
        assert k in by_id, f"{k} is listed as equivalent but is no mutant (its line changed?)"
        assert by_id[k].after == entry.after, k
        assert len(entry.reason) > 20 and "TODO" not in entry.reason, k


def test_a_malformed_list_of_equivalent_mutants_is_refused(tmp_path):
    bad = tmp_path / "equivalent.toml"
    bad.write_text('[[mutant]]\nid = "a/b/op/12345678"\nafter = "x"\n')
    with pytest.raises(mutate.MutationError, match=r"mutant 1 must have the keys id, after and reason .*got \['after', 'id'\]"):
        mutate.equivalents(bad)


def test_a_mutant_the_cases_miss_survives(sandbox_flag):
    """The negative control: with the sigmoid's visible example as its only case, the reported
    mutant scores full marks and is reported as a survivor; with the hidden cases it loses points."""
    spec = specs.get("forward_and_scan")
    weak = dataclasses.replace(spec, parts=[dataclasses.replace(p, cases=[c for c in p.cases if not c.hidden])
                                            for p in spec.parts])
    mutant = reported_mutant()
    kw = dict(n=0, use_sandbox=not sandbox_flag, listed={}, always={mutant.id})
    missed = mutate.run(ROOT, "forward_and_scan", spec=weak, **kw)
    assert missed.survivors == [mutant] and missed.score == 0.0 and not missed.ok
    caught = mutate.run(ROOT, "forward_and_scan", spec=spec, **kw)
    assert [o.lost for o in caught.outcomes] == [{"test_sigmoid": 2.0}] and caught.ok


@pytest.mark.slow
@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_every_mutant_loses_points_unless_it_is_equivalent(a, sandbox_flag, grading_report):
    key = secrets.token_hex(16)
    always = {reported_mutant().id} if a == REPORTED[0] else set()
    report = mutate.run(ROOT, a, SAMPLE, SEED, key, use_sandbox=not sandbox_flag, always=always)
    grading_report.append("mutation score, " + report.summary() + (", WITHOUT the sandbox" if sandbox_flag else ""))
    assert always <= {o.mutant.id for o in report.outcomes}
    problems = ([f"survived (a missing hidden case, or an equivalent mutant to list):\n{mutate.toml_entry(m)}"
                 for m in report.survivors]
                + [f"listed as equivalent, yet loses points in {sorted(o.lost)}: {o.mutant.id}" for o in report.not_equivalent]
                + [f"stale entry in {mutate.EQUIVALENTS_FILE.name}: {k}" for k in report.stale])
    assert not problems, f"course secret {key!r}:\n" + "\n".join(problems)
