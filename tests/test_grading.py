"""The out-of-kernel grader on a full round trip, the way an instructor runs it.

A scratch course directory gets, for every assignment, the solved notebook, the blank release,
typical student mistakes, cheats and broken submissions. ``python -m rnngrade all`` (the command
behind ``make grade``) autogrades them, writes feedback and exports the CSV; the tests then read
the gradebook. Every expected score below is derived from which part a submission breaks: the
part's points are lost, the others kept.
"""

import copy
import csv
import json
import re

import pytest

from grading_support import (ASSIGNMENTS, add_cell, cell, make_course, mutate, release, replace_solution,
                             rnngrade, scores, solved, submit)

POINTS = {
    "forward_and_scan": {"test_sigmoid": 2, "test_rnn_step": 3, "test_gru_step": 5, "test_scan": 3},
    "gru_bptt": {"test_gru_step_forward": 3, "test_gru_step_backward": 6, "test_gru_backward": 5, "test_mse_loss": 2},
    "mgu": {"test_mgu_step_forward": 3, "test_mgu_step_backward": 6, "test_mgu_backward": 5},
    "lstm": {"test_lstm_step_forward": 3, "test_lstm_step_backward": 6, "test_lstm_backward": 5},
}

# (assignment, student, cell, old, new, the parts this mistake breaks)
MISTAKES = [
    ("forward_and_scan", "forgot-reset-gate", "gru_step", "np.concatenate([r * h, x])", "np.concatenate([h, x])", {"test_gru_step"}),
    ("forward_and_scan", "swapped-u", "gru_step", "h_next = u * c + (1 - u) * h", "h_next = (1 - u) * c + u * h", {"test_gru_step"}),
    ("forward_and_scan", "missing-bias", "rnn_step", "np.concatenate([h, x]) + b_h)", "np.concatenate([h, x]))", {"test_rnn_step"}),
    ("forward_and_scan", "off-by-one-scan", "scan", "for x in elems:", "for x in elems[1:]:", {"test_scan"}),
    ("forward_and_scan", "overflowing-sigmoid", "sigmoid", "e = np.exp(-np.abs(a))\n    return np.where(a >= 0, 1.0, e) / (1.0 + e)",
     "return 1 / (1 + np.exp(-a))", {"test_sigmoid"}),
    ("gru_bptt", "forgot-reset-gate", "gru_step_forward", "np.concatenate([r * h, x])", "np.concatenate([h, x])", {"test_gru_step_forward"}),
    ("gru_bptt", "sigmoid-grad-of-activation", "gru_step_backward", "* u * (1 - u)", "* sigmoid(u) * (1 - sigmoid(u))", {"test_gru_step_backward"}),
    ("gru_bptt", "off-by-one-bptt", "gru_backward", "reversed(range(len(caches)))", "reversed(range(1, len(caches)))", {"test_gru_backward"}),
    ("gru_bptt", "no-carry", "gru_backward", "dhs[t] + dh", "dhs[t]", {"test_gru_backward"}),
    ("gru_bptt", "summed-loss", "mse_loss", "loss = float(np.mean(diff ** 2))\n    dpred = 2 * diff / diff.size",
     "loss = float(np.sum(diff ** 2))\n    dpred = 2 * diff", {"test_mse_loss"}),
    ("mgu", "swapped-f", "mgu_step_forward", "h_next = (1 - f) * h + f * c", "h_next = f * h + (1 - f) * c", {"test_mgu_step_forward"}),
    ("mgu", "missing-bias", "mgu_step_forward", "np.concatenate([h, x]) + b_f)", "np.concatenate([h, x]))", {"test_mgu_step_forward"}),
    ("mgu", "one-gate-path", "mgu_step_backward", "df = dh_next * (c - h) + d_fhx[:H] * h", "df = dh_next * (c - h)", {"test_mgu_step_backward"}),
    ("mgu", "off-by-one-bptt", "mgu_backward", "reversed(range(len(caches)))", "reversed(range(len(caches) - 1))", {"test_mgu_backward"}),
    ("lstm", "forget-on-candidate", "lstm_step_forward", "c_next = f * c + i * g", "c_next = i * c + f * g", {"test_lstm_step_forward"}),
    ("lstm", "no-tanh-on-c", "lstm_step_forward", "h_next = o * np.tanh(c_next)", "h_next = o * c_next", {"test_lstm_step_forward"}),
    ("lstm", "swapped-i-f", "lstm_step_forward", "i = sigmoid(W_i @ hx + b_i)\n    f = sigmoid(W_f @ hx + b_f)",
     "i = sigmoid(W_f @ hx + b_f)\n    f = sigmoid(W_i @ hx + b_i)", {"test_lstm_step_forward"}),
    ("lstm", "dc-not-times-f", "lstm_step_backward", "dc = dc_total * f", "dc = dc_total", {"test_lstm_step_backward"}),
    ("lstm", "dc-not-carried", "lstm_backward", "lstm_step_backward(dhs[t] + dh, dc, caches[t], weights)",
     "lstm_step_backward(dhs[t] + dh, np.zeros_like(dc), caches[t], weights)", {"test_lstm_backward"}),
]

PATCH_CHECKS = """
import numpy as np
import rnnlib.grading
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
rnnlib.grading.check_array = lambda *a, **k: rnnlib.grading.Verdict(True)
rnnlib.grading.assert_close = lambda *a, **k: None
assert_close = rnnlib.grading.assert_close
"""

# each part written as a call of rnnlib's reference
REFERENCE_CALLS = {
    "forward_and_scan": {
        "sigmoid": "return rnnlib.sigmoid(a)",
        "rnn_step": "h_next = rnnlib.rnn_step([x, h], weights)[0]",
        "gru_step": "h_next = rnnlib.gru_step([x, h], weights)[0]",
        "scan": "return rnnlib.scan(fn, elems, weights, h_0)",
    },
    "gru_bptt": {
        "gru_step_forward": 'hs, ref = rnnlib.forward("gru", weights, x[None], h)\nh_next = hs[0]\nu, r, c = (ref.saved[k][0] for k in "urc")',
        "gru_step_backward": 'dw, dX, dh = rnnlib.backward(dh_next[None], rnnlib.forward("gru", weights, x[None], h)[1])\n'
                             'dx = dX[0]\ndW_u, dW_r, dW_c, db_u, db_r, db_c = dw',
        "gru_backward": 'X = np.stack([c[0] for c in caches])\nreturn rnnlib.backward(dhs, rnnlib.forward("gru", weights, X, caches[0][1])[1])',
        "mse_loss": "loss, dpred = rnnlib.mse(pred, y)",
    },
    "mgu": {
        "mgu_step_forward": 'hs, ref = rnnlib.forward("mgu", weights, x[None], h)\nh_next = hs[0]\nf, c = (ref.saved[k][0] for k in "fc")',
        "mgu_step_backward": 'dw, dX, dh = rnnlib.backward(dh_next[None], rnnlib.forward("mgu", weights, x[None], h)[1])\n'
                             'dx = dX[0]\ndW_f, dW_h, db_f, db_h = dw',
        "mgu_backward": 'X = np.stack([c[0] for c in caches])\nreturn rnnlib.backward(dhs, rnnlib.forward("mgu", weights, X, caches[0][1])[1])',
    },
    "lstm": {
        "lstm_step_forward": 'hs, ref = rnnlib.forward("lstm", weights, x[None], (h, c))\nh_next, c_next = hs[0], ref.saved["c"][0]\n'
                             'i, f, o, g = (ref.saved[k][0] for k in "ifog")',
        "lstm_step_backward": 'dw, dX, (dh, dc) = rnnlib.backward(dh_next[None], rnnlib.forward("lstm", weights, x[None], (h, c))[1], '
                              '(np.zeros_like(dh_next), dc_next))\ndx = dX[0]\ndW_i, dW_f, dW_o, dW_c, db_i, db_f, db_o, db_c = dw',
        "lstm_backward": 'X = np.stack([c[0] for c in caches])\n'
                         'return rnnlib.backward(dhs, rnnlib.forward("lstm", weights, X, (caches[0][1], caches[0][2]))[1])',
    },
}

FIRST_PART = {"forward_and_scan": ("sigmoid", "test_sigmoid"), "gru_bptt": ("gru_step_forward", "test_gru_step_forward"),
              "mgu": ("mgu_step_forward", "test_mgu_step_forward"), "lstm": ("lstm_step_forward", "test_lstm_step_forward")}
LOOPING_PART = {"forward_and_scan": ("gru_step", "test_gru_step"), "gru_bptt": ("gru_backward", "test_gru_backward"),
                "mgu": ("mgu_backward", "test_mgu_backward"), "lstm": ("lstm_backward", "test_lstm_backward")}


def expected_scores():
    """{(assignment, student): {grade_id: points}} for every submission made below."""
    exp = {}
    for a in ASSIGNMENTS:
        full = dict(POINTS[a])
        zero = {k: 0 for k in full}
        exp[a, "solved"] = full
        exp[a, "blank"] = zero
        for student in ("deleted-tests", "edited-tests", "exception-cell", "endless-cell", "exit-cell"):
            exp[a, student] = full
        exp[a, "invalid-json"] = exp[a, "missing-notebook"] = exp[a, "not-a-notebook"] = zero
        exp[a, "calls-reference"] = zero
        exp[a, "patched-checks"] = dict(zero, **{FIRST_PART[a][1]: full[FIRST_PART[a][1]]})
        exp[a, "endless-function"] = dict(full, **{LOOPING_PART[a][1]: 0})
    for a, student, _, _, _, broken in MISTAKES:
        exp[a, student] = {k: (0 if k in broken else v) for k, v in POINTS[a].items()}
    return exp


def submissions(course):
    for a in ASSIGNMENTS:
        good, blank = solved(a), release(a)
        submit(course, "solved", a, good)
        submit(course, "blank", a, blank)
        no_tests = good.copy()
        no_tests.cells = [c for c in good.cells if not c.metadata.get("nbgrader", {}).get("grade")
                          or c.metadata["nbgrader"].get("solution")]
        submit(course, "deleted-tests", a, no_tests)
        edited = solved(a)
        for c in edited.cells:
            if c.metadata.get("nbgrader", {}).get("grade"):
                c.source = "print('all tests passed')"
        submit(course, "edited-tests", a, edited)
        submit(course, "exception-cell", a, add_cell(good, "raise RuntimeError('boom')"))
        submit(course, "endless-cell", a, add_cell(good, "while True:\n    pass"))
        submit(course, "exit-cell", a, add_cell(good, "import os\nos._exit(3)"))
        fn_cell, _ = LOOPING_PART[a]
        submit(course, "endless-function", a, mutate(good, fn_cell, "### START CODE HERE ###",
                                                     "### START CODE HERE ###\n    while True:\n        pass"))
        submit(course, "invalid-json", a, raw=b'{"cells": [')
        submit(course, "not-a-notebook", a, raw=b'{"hello": "world"}')
        (submit(course, "missing-notebook", a) / "notes.txt").write_text("forgot the notebook")
        cheat = blank
        for cell_id, body in REFERENCE_CALLS[a].items():
            cheat = replace_solution(cheat, cell_id, body)
        submit(course, "calls-reference", a, cheat)
        first_cell, _ = FIRST_PART[a]
        half = copy.deepcopy(blank)
        cell(half, first_cell).source = cell(good, first_cell).source
        submit(course, "patched-checks", a, add_cell(half, PATCH_CHECKS))
    for a, student, cell_id, old, new, _ in MISTAKES:
        submit(course, student, a, mutate(solved(a), cell_id, old, new))


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandbox_flag):
    course = make_course(tmp_path_factory.mktemp("course"))
    submissions(course)
    report = course / "report.json"
    proc = rnngrade(course, "all", *sandbox_flag, "--jobs", "2", "--cell-timeout", "3", "--case-timeout", "3",
                    "--notebook-timeout", "120", "--report", str(report))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return course, proc.stdout, json.loads(report.read_text())


def test_every_submission_scores_what_it_solved(graded, grading_report):
    course, _, report = graded
    got = scores(course)
    wrong = {k: (got.get(k), v) for k, v in expected_scores().items() if got.get(k) != v}
    assert not wrong, f"(assignment, student): (got, expected): {wrong}"
    by = {}
    for row in report:
        by.setdefault(row["assignment"], []).append(row["seconds"])
    for a, secs in sorted(by.items()):
        secs.sort()
        grading_report.append(f"autograde time per submission, {a}: median {secs[len(secs) // 2]:.2f} s, "
                              f"max {secs[-1]:.2f} s over {len(secs)} submissions (timeouts in tests: 3 s)")


def test_log_names_what_went_wrong(graded):
    course, stdout, _ = graded
    for a in ASSIGNMENTS:
        log = {s: (course / "grading_logs" / a / f"{s}.txt").read_text() for s in
               ("invalid-json", "missing-notebook", "not-a-notebook", "deleted-tests", "edited-tests",
                "exception-cell", "endless-cell", "exit-cell", "endless-function")}
        assert "not valid JSON: Expecting value at line 1" in log["invalid-json"]
        assert "missing from the submission" in log["missing-notebook"]
        assert "not a version-4 Jupyter notebook" in log["not-a-notebook"]
        assert "was deleted" in log["deleted-tests"]
        assert "was edited" in log["edited-tests"]
        assert "raised RuntimeError: boom" in log["exception-cell"]
        assert "ran out of time" in log["endless-cell"]
        assert "stopped the process running the notebook" in log["exit-cell"]
        assert "ran out of time on this case" in log["endless-function"]
        assert f"{a} invalid-json: 0/" in stdout


def test_feedback_names_failing_checks_and_hides_hidden_tests(graded):
    course, _, _ = graded
    for a, student, _, _, _, broken in MISTAKES:
        html = (course / "feedback" / student / a / f"{a}.html").read_text()
        for gid in broken:
            assert re.search(rf"\[grader\] {gid}: 0 / \d+ points", html), (a, student, gid)
        for gid in set(POINTS[a]) - broken:
            assert f"[grader] {gid}: {POINTS[a][gid]} / {POINTS[a][gid]} points: every case passed" in html
        assert "HIDDEN TESTS" not in html and "rnngrade" not in html and "incell" not in html
        assert "hidden case" in html  # hidden cases are named, not shown


def test_export_has_every_student(graded):
    course, _, _ = graded
    rows = list(csv.DictReader(open(course / "grades.csv")))
    students = {s for (_, s) in expected_scores()}
    assert {r["student_id"] for r in rows} == students
    assert len(rows) == len(students) * len(ASSIGNMENTS)
    solved_rows = [r for r in rows if r["student_id"] == "solved"]
    assert all(float(r["score"]) == float(r["max_score"]) > 0 for r in solved_rows)
