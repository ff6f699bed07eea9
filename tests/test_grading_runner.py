"""The grader's core, read as code: its scoring step, and rnngrade's private names kept private.

(The runner's behaviour on real submissions, crashes, hangs and restarts included, is tested by
the round trips in test_grading.py and test_grading_security.py.)
"""

import ast
from pathlib import Path

from grading_support import ROOT
from rnngrade import runner, specs

SOURCES = sorted(p for d in ("rnngrade", "tests", "benchmarks", "tools") for p in (ROOT / d).glob("*.py"))


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def private_uses(path):
    """Where ``path`` reads a private name (one underscore) of a module of rnngrade other than
    itself: ``from rnngrade.runner import _x``, ``runner._x``."""
    tree = ast.parse(Path(path).read_text())
    package = "rnngrade" if path.parent.name == "rnngrade" else None
    modules, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(filter(None, [package, base]))
            if base.split(".")[0] == "rnngrade":
                found += [f"{path.name}:{node.lineno}: from {base} import {a.name}" for a in node.names if _private(a.name)]
                modules |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name.split(".")[0] for a in node.names if a.name.split(".")[0] == "rnngrade"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            while isinstance(owner, ast.Attribute):
                owner = owner.value
            if isinstance(owner, ast.Name) and owner.id in modules:
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_private_names_stay_in_their_module():
    assert len(SOURCES) > 20
    found = [use for path in SOURCES for use in private_uses(path)]
    assert not found, "private names used outside their module:\n" + "\n".join(found)


def test_the_check_finds_private_uses(tmp_path):
    """The check above can fail: each way of reaching a private name is found."""
    (tmp_path / "rnngrade").mkdir()
    path = tmp_path / "rnngrade" / "example.py"
    path.write_text("from . import runner\nfrom .judge import _notes\nimport rnngrade.wire as w\n"
                    "runner._Child\nw._DTYPES\nprint(runner.__doc__, self._x)\n")
    assert private_uses(path) == ["example.py:2: from rnngrade.judge import _notes",
                                  "example.py:4: runner._Child", "example.py:5: w._DTYPES"]


def test_a_part_scores_its_points_only_when_every_case_passed():
    """Step 3 of ``grade_cells``: all or nothing per part; a case without an outcome was not run."""
    spec = specs.get("mgu")
    first, second, third = spec.parts
    outcomes = {(p.grade_id, i): (True, "") for p in spec.parts for i in range(len(p.cases))}
    outcomes[second.grade_id, 1] = (False, "dh: wrong shape")
    del outcomes[third.grade_id, len(third.cases) - 1]
    parts = runner.score(spec, outcomes)
    assert [(p.score, p.max_score) for p in parts.values()] == [(first.points, first.points), (0, second.points),
                                                               (0, third.points)]
    assert parts[second.grade_id].messages == [f"{second.cases[1].label}: dh: wrong shape"]
    assert parts[third.grade_id].messages == [f"{third.cases[-1].label}: not run"]


def test_a_verdict_says_how_many_failures_it_leaves_out():
    """The feedback lists the first failures of a part; a longer list must say that it was cut
    (a student read six failures and could not tell that seven more had been left out)."""
    from types import SimpleNamespace

    from rnngrade.pipeline import verdict_text

    part = SimpleNamespace(passed=False, grade_id="test_x", score=0, max_score=3,
                           messages=[f"case {i}: wrong value" for i in range(13)])
    text = verdict_text(part)
    assert "case 5: wrong value" in text and "case 6: wrong value" not in text
    assert "and 7 more failures, not shown" in text
    part.messages = part.messages[:6]
    assert "more failures" not in verdict_text(part)
