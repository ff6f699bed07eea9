"""The grader's core, read as code: its scoring step.

(The runner's behaviour on real submissions, crashes, hangs and restarts included, is tested by
the round trips in test_grading.py and test_grading_security.py; private names and import
circles, for all the code, in tests/structure.)
"""

from rnngrade import runner, specs


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
                           messages=[f"case {i}: wrong value" for i in range(13)], hints=[])
    text = verdict_text(part)
    assert "case 5: wrong value" in text and "case 6: wrong value" not in text
    assert "and 7 more failures, not shown" in text
    part.messages = part.messages[:6]
    assert "more failures" not in verdict_text(part)


def test_a_cases_hints_are_the_parts_listed_once():
    """An oracle's hint that several cases of a part repeat is listed once, after the failures
    (found trying assignment 4: the same hint under every hidden case)."""
    from rnngrade.judge import Outcome
    from rnngrade.pipeline import verdict_text

    spec = specs.get("gru_bptt")
    part = spec.parts[2]
    hint = "check what is carried back"
    outcomes = {(p.grade_id, i): (True, "") for p in spec.parts for i in range(len(p.cases))}
    for i in range(1, 4):
        outcomes[part.grade_id, i] = Outcome(False, "dX: wrong shape", [hint])
    outcomes[part.grade_id, 4] = Outcome(False, "dh_0: wrong shape")
    result = runner.score(spec, outcomes)[part.grade_id]
    assert result.messages == [f"{part.cases[i].label}: {m}" for i, m in
                               ((1, "dX: wrong shape"), (2, "dX: wrong shape"), (3, "dX: wrong shape"),
                                (4, "dh_0: wrong shape"))]
    assert result.hints == [hint]
    text = verdict_text(result)
    assert text.count(hint) == 1 and text.rstrip().endswith(f"Hint: {hint}")
    assert outcomes[part.grade_id, 1] == (False, f"dX: wrong shape ({hint})")    # the case's own message


def test_a_cases_verdict_says_how_many_problems_it_leaves_out():
    """A case's verdict lists its first problems; when it cuts, it says how many more there were
    (found trying the course: the first four of eleven wrong gradients, and no word of the rest)."""
    from rnngrade import judge, wire

    part = specs.get("lstm").parts[1]          # the step backward: dx, dh, dc and eight weight gradients
    case = part.cases[1]
    dx, dh, dc, dweights = wire.decode(wire.encode(case.expected))
    everything_wrong = (dx + 1, dh + 1, dc + 1, tuple(d + 1 for d in dweights))
    ok, message = judge.judge(case, {"status": "ok", "decoded": everything_wrong, "log": []}, part.function)
    assert not ok
    shown = getattr(judge, "SHOWN_PROBLEMS", 4)
    assert message.count("values are wrong") == shown, message
    assert message.endswith(f"... and {11 - shown} more problems"), message
    one_more = (dx + 1, dh + 1, dc + 1, tuple(d + (1 if k < shown - 2 else 0) for k, d in enumerate(dweights)))
    _, message = judge.judge(case, {"status": "ok", "decoded": one_more, "log": []}, part.function)
    assert message.endswith("... and 1 more problem"), message
    exactly = (dx + 1, dh + 1, dc + 1, tuple(d + (1 if k < shown - 3 else 0) for k, d in enumerate(dweights)))
    _, message = judge.judge(case, {"status": "ok", "decoded": exactly, "log": []}, part.function)
    assert message.count("values are wrong") == shown and "more problem" not in message, message


def test_the_feedbacks_summary_says_how_many_notes_it_leaves_out():
    import pathlib

    from rnngrade import pipeline

    course = pipeline.Course(pathlib.Path(__file__).resolve().parents[2])
    spec = specs.get("mgu")
    parts = runner.score(spec, {(p.grade_id, i): (True, "") for p in spec.parts for i in range(len(p.cases))})
    result = runner.NotebookResult(parts, [f"note {i}" for i in range(13)])
    summary = pipeline.autograded_notebook(course, spec, result, None).cells[0].source
    shown = pipeline.SHOWN_NOTES
    assert f"note {shown - 1}" in summary and f"note {shown}" not in summary
    assert summary.endswith(f"- ... and {13 - shown} more notes, not shown"), summary
    result.log = result.log[:shown]
    assert "more notes" not in pipeline.autograded_notebook(course, spec, result, None).cells[0].source
