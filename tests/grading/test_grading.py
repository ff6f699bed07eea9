"""The out-of-kernel grader on a full round trip, the way an instructor runs it.

A scratch course directory gets, for every assignment, the solved notebook, the blank release,
typical student mistakes, cheats, and broken submissions (unreadable files, notebooks malformed
inside); it has a course secret (so the hidden inputs are not the public ones), a due date for
one assignment with a late-submission plugin, and submissions on time and late. ``python -m
rnngrade all`` (the command behind ``make grade``) autogrades them, writes feedback and exports
the CSV; the tests then read the gradebook. Every expected score below is derived from which
part a submission breaks: the part's points are lost, the others kept.
"""

import copy
import csv
import datetime
import html
import json
import os
import re
import secrets
import shutil
import sys

import nbformat
import pytest

from grading_support import (ASSIGNMENTS, ATTENTION_MISTAKES, CHARLM_CLIP_EACH, CHARLM_CLIP_IN_PLACE,
                             CHARLM_NOT_DETACHED, SCAN_MISTAKES, add_cell, as_data, cell, data_cell, make_course, mutate, release,
                             replace_solution, rnngrade, scores, solved, submit)
from rnngrade import pipeline, runner
from rnngrade import secret as course_secret

pytestmark = pytest.mark.slow      # the whole instructor pipeline on many submissions, a minute or more

POINTS = {
    "forward_and_scan": {"test_sigmoid": 2, "test_rnn_step": 3, "test_gru_step": 5, "test_scan": 3},
    "gru_bptt": {"test_gru_step_forward": 3, "test_gru_step_backward": 6, "test_gru_backward": 5, "test_mse_loss": 2},
    "mgu": {"test_mgu_step_forward": 3, "test_mgu_step_backward": 6, "test_mgu_backward": 5},
    "lstm": {"test_lstm_step_forward": 3, "test_lstm_step_backward": 6, "test_lstm_backward": 5},
    "charlm": {"test_softmax_cross_entropy": 4, "test_clip_by_global_norm": 2, "test_sample_next": 3, "test_train_step": 4},
    "attention": {"test_attention_forward": 3, "test_attention_backward": 4, "test_decoder_step": 3, "test_beam_step": 3},
    "scan": {"test_combine": 2, "test_scan_inclusive": 3, "test_mingru_forward": 3, "test_mingru_backward": 4},
}

# (assignment, student, cell, old, new, the parts this mistake breaks)
MISTAKES = [
    ("forward_and_scan", "forgot-reset-gate", "gru_step", "np.concatenate([r * h, x])", "np.concatenate([h, x])", {"test_gru_step"}),
    ("forward_and_scan", "swapped-u", "gru_step", "h_next = u * c + (1 - u) * h", "h_next = (1 - u) * c + u * h", {"test_gru_step"}),
    ("forward_and_scan", "missing-bias", "rnn_step", "np.concatenate([h, x]) + b_h)", "np.concatenate([h, x]))", {"test_rnn_step"}),
    ("forward_and_scan", "off-by-one-scan", "scan", "for x in elems:", "for x in elems[1:]:", {"test_scan"}),
    ("forward_and_scan", "overflowing-sigmoid", "sigmoid", "e = np.exp(-np.abs(a))\n    return np.where(a >= 0, 1.0, e) / (1.0 + e)",
     "return 1 / (1 + np.exp(-a))", {"test_sigmoid"}),
    ("forward_and_scan", "sigmoid-threshold-1", "sigmoid", "np.where(a >= 0, 1.0, e)", "np.where(a >= 1, 1.0, e)", {"test_sigmoid"}),
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
    # assignment 5: the issue's typical mistakes first, then others
    ("charlm", "no-max-subtraction", "softmax_cross_entropy", "logits - logits.max(axis=-2, keepdims=True)", "logits",
     {"test_softmax_cross_entropy"}),
    ("charlm", "mean-over-masked-positions", "softmax_cross_entropy", "count = mask.sum()", "count = mask.size",
     {"test_softmax_cross_entropy"}),
    ("charlm", "state-from-zeros", "train_step", "lm_forward(cell, params, X_ids, state)",
     "lm_forward(cell, params, X_ids, zero_state(cell, params['W_y'].shape[1], X_ids.shape[1]))", {"test_train_step"}),
    ("charlm", "state-not-detached", "train_step", *CHARLM_NOT_DETACHED, {"test_train_step"}),
    ("charlm", "argmax-not-draw", "sample_next", "index = min(int(np.sum(cdf <= u)), len(cdf) - 1)",
     "index = int(np.argmax(p))", {"test_sample_next"}),
    ("charlm", "clip-each-array", "clip_by_global_norm", *CHARLM_CLIP_EACH, {"test_clip_by_global_norm"}),
    ("charlm", "log-of-softmax", "softmax_cross_entropy",
     "log_p = shifted - np.log(np.exp(shifted).sum(axis=-2, keepdims=True))",
     "log_p = np.log(np.exp(shifted) / np.exp(shifted).sum(axis=-2, keepdims=True))", {"test_softmax_cross_entropy"}),
    ("charlm", "sampling-overflows", "sample_next", "p = np.exp(z - z.max())", "p = np.exp(z)", {"test_sample_next"}),
    ("charlm", "no-temperature", "sample_next", "z = logits / temperature", "z = logits", {"test_sample_next"}),
    ("charlm", "state-not-returned", "train_step", "    state = cache.final_state\n", "", {"test_train_step"}),
    ("charlm", "update-not-clipped", "train_step", "zip(params.values(), clipped)", "zip(params.values(), grads.values())",
     {"test_train_step"}),
    ("charlm", "update-not-in-place", "train_step", "p -= lr * g", "p = p - lr * g", {"test_train_step"}),
    # found trying assignments 4 and 5 as a new student: each costs its own part only
    ("charlm", "clip-in-place", "clip_by_global_norm", *CHARLM_CLIP_IN_PLACE, {"test_clip_by_global_norm"}),
    ("charlm", "no-last-index-guard", "sample_next", "index = min(int(np.sum(cdf <= u)), len(cdf) - 1)",
     "index = int(np.sum(cdf <= u))", {"test_sample_next"}),
    ("lstm", "bias-gradient-shape", "lstm_step_backward", "(da.sum(axis=1, keepdims=True) for da in",
     "(da.sum(axis=1) for da in", {"test_lstm_step_backward"}),
    ("charlm", "fixed-max-norm", "train_step", "clip_by_global_norm(list(grads.values()), max_norm)",
     "clip_by_global_norm(list(grads.values()), 1.0)", {"test_train_step"}),
]
# assignment 6: the typical mistakes of the attention, the decoder step and the beam step
MISTAKES += [("attention", student, solution_cell, old, new, {grade_id})
             for student, solution_cell, old, new, grade_id in ATTENTION_MISTAKES]
# assignment 7: the typical mistakes of the operator, the scan, minGRU's forward and backward
MISTAKES += [("scan", student, solution_cell, old, new, {grade_id})
             for student, solution_cell, old, new, grade_id in SCAN_MISTAKES]

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
    "charlm": {
        "softmax_cross_entropy": "loss, dlogits = rnnlib.softmax_cross_entropy(logits, targets, mask)",
        "clip_by_global_norm": "clipped, norm = rnnlib.clip_by_global_norm(grads, max_norm)",
        "sample_next": "index = rnnlib.lm.next_char_id(logits, temperature, u=u)",
        "train_step": "loss, grads, state = rnnlib.lm.lm_loss_and_grads(cell, params, X_ids, Y_ids, state)\n"
                      "clipped, _ = rnnlib.clip_by_global_norm(list(grads.values()), max_norm)\n"
                      "for p, g in zip(params.values(), clipped):\n    p -= lr * g",
    },
    "attention": {
        "attention_forward": "context, alpha, ((_, _, _, _, a, _), _) = rnnlib.additive_attention(s, Hs, mask, weights)",
        "attention_backward": "ds, dHs, (dW_a, dU_a, dv_a) = rnnlib.additive_attention_backward(\n"
                              "    dcontext, rnnlib.additive_attention(s, Hs, alpha > 0, weights)[2])",
        "decoder_step": 'model = Model("gru", 1, params["E_tgt"].shape[0], 1, h.shape[0], True, 1, params["E_tgt"].shape[1])\n'
                        "logits, h_next, alpha, _ = rnnlib.seq2seq.model.decoder_step(model, params, y_prev, h, Hs, mask > 0)",
        "beam_step": "new_scores, tokens, parents, new_states = rnnlib.seq2seq.decode.beam_step(\n"
                     "    log_probs, scores, states, k, finished)",
    },
    "scan": {
        "combine": "a, b = rnnlib.recurrence.compose((a1, b1), (a2, b2))",
        "scan_inclusive": "out = rnnlib.associative_scan(fn, elems, reverse=reverse)",
        "mingru_forward": 'hs, ref = rnnlib.forward("mingru", weights, X, h_0)\nz, c = ref.saved["z"], ref.saved["c"]',
        "mingru_backward": '(dW_z, dW_h, db_z, db_h), dX, dh_0 = rnnlib.backward(dhs, rnnlib.forward("mingru", weights, X, h_0)[1])',
    },
}

FIRST_PART = {"forward_and_scan": ("sigmoid", "test_sigmoid"), "gru_bptt": ("gru_step_forward", "test_gru_step_forward"),
              "mgu": ("mgu_step_forward", "test_mgu_step_forward"), "lstm": ("lstm_step_forward", "test_lstm_step_forward"),
              "charlm": ("softmax_cross_entropy", "test_softmax_cross_entropy"),
              "attention": ("attention_forward", "test_attention_forward"), "scan": ("combine", "test_combine")}
LOOPING_PART = {"forward_and_scan": ("gru_step", "test_gru_step"), "gru_bptt": ("gru_backward", "test_gru_backward"),
                "mgu": ("mgu_backward", "test_mgu_backward"), "lstm": ("lstm_backward", "test_lstm_backward"),
                "charlm": ("train_step", "test_train_step"), "attention": ("decoder_step", "test_decoder_step"),
                "scan": ("mingru_forward", "test_mingru_forward")}


def malformed(a):
    """Submissions malformed inside the notebook: {student: (plain data, the parts they lose)}.

    The grader runs what it can read, notes the rest, and so loses only the parts whose code it
    could not read.
    """
    solutions, (first, first_part), (looping, looping_part) = list(REFERENCE_CALLS[a]), FIRST_PART[a], LOOPING_PART[a]
    out = {}
    nb = as_data(solved(a))
    cells = [data_cell(nb, g) for g in (*solutions[:3], "imports", first_part, "intro")]
    cells[0]["metadata"]["nbgrader"] = "x"
    cells[1]["metadata"] = "x"
    cells[2]["metadata"]["nbgrader"]["solution"] = "yes"
    cells[3]["metadata"]["nbgrader"]["grade_id"] = [1, 2]
    cells[4]["metadata"]["nbgrader"] = [1, 2]
    cells[5]["metadata"]["nbgrader"] = 3
    out["bad-metadata"] = (nb, set())
    nb = as_data(solved(a))
    data_cell(nb, first)["source"] = 42
    data_cell(nb, looping)["source"] = ["def f():\n", 1]
    data_cell(nb, "imports")["outputs"] = "x"
    out["bad-source"] = (nb, {first_part, looping_part})
    nb = as_data(solved(a))
    last = data_cell(nb, solutions[-1])
    last["source"] = "# a lone surrogate: \ud800\n" + last["source"]
    nb["cells"][2:2] = [as_data(nbformat.v4.new_code_cell('raise RuntimeError("bad \\ud800 text")')),
                        as_data(nbformat.v4.new_code_cell("# a NUL: \x00\n"))]
    out["bad-unicode"] = (nb, set())
    nb = as_data(solved(a))
    nb["cells"][2:2] = [42, "x", None, [], {"source": "raise SystemExit(1)"},
                        {"cell_type": "python", "metadata": {}, "source": "import os\nos._exit(3)"}]
    out["bad-cells"] = (nb, set())
    return out


def _huge_number():
    text = json.dumps(dict(as_data(solved("mgu")), metadata={"n": "HUGE"}))
    return text.replace('"HUGE"', "1" * 5000).encode()  # valid JSON, beyond Python's int() digit limit


# Malformed files: their content is the same whatever the assignment, so one assignment suffices
BROKEN_FILES = {"empty-file": b"", "json-list": b"[]", "huge-number": _huge_number,
                "deeply-nested": b'{"cells": [], "nbformat": 4, "metadata": {"n": ' + b"[" * 500 + b"]" * 500 + b"}}"}
BROKEN_FILES_IN = "mgu"


# Late submissions (in LATE_IN): the due date, and nbgrader's documented example of a late-submission
# plugin (one point per hour late, rounded), configured in the course's nbgrader_config.py
LATE_IN = "mgu"
DUE = "2025-03-01 12:00:00 UTC"
LATE_PLUGIN = """from nbgrader.plugins import BasePlugin


class SubMarks(BasePlugin):
    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return round(total_seconds_late / 3600, 0)
"""
LATE = {  # student: (timestamp.txt as nbgrader's exchange writes it, in UTC, seconds late, late penalty)
    "on-time": ("2025-03-01 11:59:59.500000 UTC", datetime.datetime(2025, 3, 1, 11, 59, 59, 500000), 0, 0.0),
    "late": ("2025-03-01 10:20:00.000000 America/New_York", datetime.datetime(2025, 3, 1, 15, 20), 12000, 3.0),
}


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
        for student, (_, lost) in malformed(a).items():
            exp[a, student] = {k: (0 if k in lost else v) for k, v in full.items()}
    for a, student, _, _, _, broken in MISTAKES:
        exp[a, student] = {k: (0 if k in broken else v) for k, v in POINTS[a].items()}
    for student in BROKEN_FILES:
        exp[BROKEN_FILES_IN, student] = {k: 0 for k in POINTS[BROKEN_FILES_IN]}
    exp[BROKEN_FILES_IN, "huge-number"] = dict(POINTS[BROKEN_FILES_IN])
    for student in LATE:
        exp[LATE_IN, student] = dict(POINTS[LATE_IN])
    exp[OUTPUTS_IN, "with-outputs"] = dict(POINTS[OUTPUTS_IN])
    return exp


# A solved notebook as a student hands it in after running it: outputs under its cells, some of
# which the feedback shows (text, pictures) and some it must not (HTML, JavaScript)
OUTPUTS_IN = "forward_and_scan"
SHOWN = {"sigmoid": "the student's own printout 6271", "test_sigmoid": "sigmoid: visible check passed 6272"}
NOT_SHOWN = "<script>alert('from the student')</script>"


def with_outputs(nb):
    nb = copy.deepcopy(nb)
    for grade_id, text in SHOWN.items():
        c = cell(nb, grade_id)
        c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text + "\n"),
                     nbformat.v4.new_output("display_data", data={"text/html": NOT_SHOWN,
                                                                  "application/javascript": NOT_SHOWN})]
        c.execution_count = 3
    return nb


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
        for student, (nb, _) in malformed(a).items():
            submit(course, student, a, raw=json.dumps(nb).encode())
    for student, content in BROKEN_FILES.items():
        submit(course, student, BROKEN_FILES_IN, raw=content() if callable(content) else content)
    for a, student, cell_id, old, new, _ in MISTAKES:
        submit(course, student, a, mutate(solved(a), cell_id, old, new))
    for student, (stamp, *_) in LATE.items():
        (submit(course, student, LATE_IN, solved(LATE_IN)) / "timestamp.txt").write_text(stamp + "\n")
    submit(course, "with-outputs", OUTPUTS_IN, with_outputs(solved(OUTPUTS_IN)))


def set_due_date(course, assignment, due):
    """The instructor's ``nbgrader db assignment add <assignment> --duedate=<due>``, in process."""
    from nbgrader.api import Gradebook

    with pytest.MonkeyPatch.context() as mp:  # a new gradebook runs `alembic` from PATH
        mp.setenv("PATH", f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}")
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            gb.update_or_create_assignment(assignment, duedate=due)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandbox_flag):
    course = make_course(tmp_path_factory.mktemp("course"))
    key = secrets.token_hex(16)
    (course / course_secret.FILE).write_text(key + "\n")
    set_due_date(course, LATE_IN, DUE)
    (course / "late.py").write_text(LATE_PLUGIN)
    with open(course / "nbgrader_config.py", "a") as f:
        f.write('\nc.AssignLatePenalties.plugin_class = "late.SubMarks"\n')
    submissions(course)
    report = course / "report.json"
    proc = rnngrade(course, "all", *sandbox_flag, "--jobs", "2", "--cell-timeout", "3", "--case-timeout", "3",
                    "--notebook-timeout", "120", "--report", str(report))
    proc.secret = key
    return course, proc, json.loads(report.read_text()) if report.exists() else []


def test_broken_submissions_do_not_fail_the_run(graded):
    """Broken submissions are the students' problem: recorded, and the run exits 0."""
    _, proc, _ = graded
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert not re.search(r"^ERROR", proc.stdout + proc.stderr, re.M), proc.stdout[-4000:] + proc.stderr[-4000:]


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
    course, proc, _ = graded
    stdout = proc.stdout
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


def test_log_and_feedback_say_what_was_malformed(graded):
    course, proc, _ = graded
    said = {  # student: what the log and the summary at the top of the feedback say
        "bad-metadata": [r"cell \d+: its nbgrader metadata is a string, expected an object",
                         r"cell \d+: its metadata is a string, expected an object",
                         r"cell \d+: its nbgrader solution is a string, expected true or false",
                         r"cell \d+: its nbgrader grade_id is a list, expected a string",
                         r"cell \d+: its nbgrader metadata is a list, expected an object",
                         r"cell \d+: its nbgrader metadata is a number, expected an object"],
        "bad-source": [r"cell \d+: its source is a number, expected text",
                       r"cell \d+: its source is a list with items that are not strings, expected text",
                       r"cell \d+: its outputs are a string, expected a list"],
        "bad-unicode": [r"cell \d+: its source has characters that are not valid Unicode",
                        r"cell 3 raised RuntimeError: bad .{1,6} text"],
        "bad-cells": [r"cell 3: it is a number, expected an object", r"cell 5: it is null, expected an object",
                      r"cell 7: it has no cell_type, expected code, markdown or raw",
                      r"cell 8: its cell_type is 'python', expected code, markdown or raw"],
    }
    expected = expected_scores()
    for a in ASSIGNMENTS:
        for student, patterns in said.items():
            log = (course / "grading_logs" / a / f"{student}.txt").read_text()
            summary = html.unescape((course / "feedback" / student / a / f"{a}.html").read_text())
            for pattern in patterns:
                assert re.search(pattern, log), (a, student, pattern, log[:2000])
                assert re.search(pattern, summary), (a, student, pattern)
            earned, total = sum(expected[a, student].values()), sum(POINTS[a].values())
            assert f"WARNING {a} {student}: {earned}/{total} points" in proc.stdout
        log = (course / "grading_logs" / a / "bad-cells.txt").read_text()
        assert "SystemExit" not in log and "stopped the process" not in log  # cells not run
    said = {"empty-file": "is empty: expected a Jupyter notebook",
            "json-list": "is not a version-4 Jupyter notebook: it is a list, expected an object",
            "deeply-nested": "is not a version-4 Jupyter notebook: it is nested more than 64 levels deep"}
    for student, text in said.items():
        log = (course / "grading_logs" / BROKEN_FILES_IN / f"{student}.txt").read_text()
        summary = html.unescape((course / "feedback" / student / BROKEN_FILES_IN / f"{BROKEN_FILES_IN}.html").read_text())
        assert text in log and text in summary, (student, log[:1000])
        assert f"WARNING {BROKEN_FILES_IN} {student}: 0/14 points" in proc.stdout


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


def test_feedback_shows_the_students_own_outputs_but_no_html_or_script(graded):
    """Under the student's own cells, what their notebook showed; under a graded test cell only
    the grader's verdict: a saved output there ("visible check passed", stale or forged) would
    stand beside the verdict as if it were one."""
    course, _, _ = graded
    html = (course / "feedback" / "with-outputs" / OUTPUTS_IN / f"{OUTPUTS_IN}.html").read_text()
    assert SHOWN["sigmoid"] in html
    assert SHOWN["test_sigmoid"] not in html
    assert "[grader] test_sigmoid: 2 / 2 points" in html
    assert "from the student" not in html            # its HTML and JavaScript outputs are left out


def test_a_parts_hint_appears_once_however_many_cases_repeat_it(graded):
    """The oracles' hint (here: the gradient carried back is wrong) is the part's, not a case's."""
    course, _, _ = graded
    html = (course / "feedback" / "no-carry" / "gru_bptt" / "gru_bptt.html").read_text()
    verdict = html[html.index("[grader] test_gru_backward"):]
    verdict = verdict[:verdict.index("[grader]", 10)] if "[grader]" in verdict[10:] else verdict
    assert verdict.count("hidden case") >= 3
    assert verdict.count("Hint:") == 1 and verdict.count("check what is carried back") == 1, verdict[:3000]


def test_a_hint_is_shown_only_where_its_mistake_is_plausible(graded):
    """A clipping with a fixed max_norm puts train_step off the reference's path from the first
    chunk on; the next chunk's logits differ because of it, and the loss's hint (is the forward
    pass run with the parameters the step before left?) would blame code that is right."""
    course, _, _ = graded
    text = html.unescape((course / "feedback" / "fixed-max-norm" / "charlm" / "charlm.html").read_text())
    verdict = text[text.index("[grader] test_train_step"):]
    assert verdict.count("Hint:") == 1 and "with another max_norm than the one passed in" in verdict, verdict[:3000]
    assert "the logits your code passed to softmax_cross_entropy" not in verdict


def test_the_export_has_every_parts_points(graded):
    """grades_by_part.csv beside grades.csv: a row per assignment and student, a column per part."""
    course, _, _ = graded
    rows = list(csv.DictReader(open(course / "grades_by_part.csv")))
    header = list(rows[0])
    assert header[:3] == ["assignment", "student_id", "submitted"]
    assert header[3:] == [gid for a in ASSIGNMENTS for gid in POINTS[a]]
    got = {(r["assignment"], r["student_id"]): {k: float(v) for k, v in r.items() if k in POINTS[r["assignment"]]}
           for r in rows if r["submitted"] == "yes"}
    assert got == expected_scores()
    assert all(v == "" for r in rows for k, v in r.items() if k not in POINTS[r["assignment"]] and k in header[3:])


def test_the_export_tells_a_missing_submission_from_a_score_of_zero(graded):
    """grades.csv (nbgrader's) gives an assignment a student did not submit a score of 0, as it
    does a blank submission; grades_by_part.csv has the same rows and says which were submitted:
    "no" and no points at all (empty cells, left out of a part's mean) for a missing one."""
    course, _, _ = graded
    nbgrader_rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(open(course / "grades.csv"))}
    rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(open(course / "grades_by_part.csv"))}
    assert set(rows) == set(nbgrader_rows)
    order = lambda f: [(r["assignment"], r["student_id"]) for r in csv.DictReader(open(course / f))]  # noqa: E731
    assert order("grades.csv") == order("grades_by_part.csv") == sorted(rows)          # both files sorted
    submitted = set(expected_scores())
    assert {k for k, r in rows.items() if r["submitted"] == "yes"} == submitted
    assert {k for k, r in rows.items() if r["submitted"] == "no"} == set(rows) - submitted
    # the late students submitted the late assignment only: elsewhere grades.csv says 0, as for a blank notebook
    missing, blank = ("lstm", "late"), ("lstm", "blank")
    assert missing not in submitted and blank in submitted
    assert float(nbgrader_rows[missing]["score"]) == float(nbgrader_rows[blank]["score"]) == 0
    assert rows[missing]["submitted"] == "no" and all(rows[missing][gid] == "" for gid in POINTS["lstm"])
    assert rows[blank]["submitted"] == "yes" and all(rows[blank][gid] == "0" for gid in POINTS["lstm"])


def test_export_has_every_student(graded):
    """Broken submissions graded beside honest ones: everyone has a row with what they earned."""
    course, _, _ = graded
    rows = list(csv.DictReader(open(course / "grades.csv")))
    students = {s for (_, s) in expected_scores()}
    assert {r["student_id"] for r in rows} == students
    assert len(rows) == len(students) * len(ASSIGNMENTS)
    solved_rows = [r for r in rows if r["student_id"] == "solved"]
    assert all(float(r["score"]) == float(r["max_score"]) > 0 for r in solved_rows)
    got = {(r["assignment"], r["student_id"]): float(r["score"]) for r in rows}
    penalty = {(LATE_IN, s): p for s, (*_, p) in LATE.items()}
    exp = {k: sum(v.values()) - penalty.get(k, 0) for k, v in expected_scores().items()}
    wrong = {k: (got.get(k), v) for k, v in exp.items() if got.get(k) != v}
    assert not wrong, f"(assignment, student): (exported, expected): {wrong}"


def test_hidden_inputs_come_from_the_secret_which_reaches_no_output(graded):
    """The course has a secret: no warning, every log says so (by a fingerprint), and the secret
    is nowhere in what the grader writes or prints."""
    course, proc, report = graded
    fingerprint = course_secret.fingerprint(proc.secret)
    assert "no course secret" not in proc.stdout + proc.stderr
    assert {row["hidden_inputs"] for row in report} == {f"derived from the course secret (fingerprint {fingerprint})"}
    logs = sorted((course / "grading_logs").rglob("*.txt"))
    assert logs and all(f"hidden inputs: derived from the course secret (fingerprint {fingerprint})\n"
                        in p.read_text(errors="replace") for p in logs)
    outputs = [course / "gradebook.db", course / "grades.csv", course / "report.json",
               *(p for top in ("feedback", "autograded", "grading_logs") for p in (course / top).rglob("*") if p.is_file())]
    assert len(outputs) > 100
    leaks = [p for p in outputs if proc.secret.encode() in p.read_bytes()]
    assert not leaks and proc.secret not in proc.stdout + proc.stderr, leaks[:5]


def test_late_submissions_are_recorded_and_penalised_as_nbgrader_does(graded):
    """timestamp.txt becomes the submission's timestamp, nbgrader computes how late it is from
    the due date, and the configured late-submission plugin's penalty comes off the score."""
    from nbgrader.api import Gradebook

    course, _, report = graded
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        got = {sub.student.id: (sub.timestamp, sub.total_seconds_late, sub.late_submission_penalty)
               for sub in gb.find_assignment(LATE_IN).submissions}
    assert {s: got[s] for s in LATE} == {s: (ts, late, penalty) for s, (_, ts, late, penalty) in LATE.items()}
    others = {s: v for s, v in got.items() if s not in LATE}
    assert others and all(v == (None, 0, 0.0) for v in others.values()), others
    rows = {r["student_id"]: r for r in csv.DictReader(open(course / "grades.csv")) if r["assignment"] == LATE_IN}
    assert (rows["late"]["timestamp"], rows["late"]["raw_score"], rows["late"]["late_submission_penalty"],
            rows["late"]["score"]) == ("2025-03-01 15:20:00", "14.0", "3.0", "11.0")
    assert rows["late"]["duedate"] == "2025-03-01 12:00:00"
    late = {row["student"]: (row["seconds_late"], row["late_penalty"]) for row in report if row["assignment"] == LATE_IN}
    assert late["late"] == (12000, 3.0) and late["on-time"] == (0, None) and late["solved"] == (0, None)
    assert "12000 s after the due date; late penalty: 3" in (course / "grading_logs" / LATE_IN / "late.txt").read_text()
    feedback = {s: html.unescape((course / "feedback" / s / LATE_IN / f"{LATE_IN}.html").read_text()) for s in LATE}
    assert "Late submission penalty (Score: -3.0)" in feedback["late"] and "Score: 11.0 / 14.0" in feedback["late"]
    assert "Submitted 3.3 hours after the due date: a late penalty of 3 points." in feedback["late"]
    assert "Late submission penalty" not in feedback["on-time"] and "due date" not in feedback["on-time"]


def test_the_late_penalty_follows_the_course_configuration(graded, tmp_path, monkeypatch):
    """nbgrader's own penalty method, set in nbgrader_config.py: 'zero' takes the whole score."""
    course = tmp_path / "course"
    shutil.copytree(graded[0], course, ignore=shutil.ignore_patterns("feedback", "autograded", "grading_logs"))
    config = (course / "nbgrader_config.py").read_text().replace('c.AssignLatePenalties.plugin_class = "late.SubMarks"',
                                                                 'c.LateSubmissionPlugin.penalty_method = "zero"')
    (course / "nbgrader_config.py").write_text(config)
    monkeypatch.setenv("PATH", os.environ["PATH"])  # pipeline.Course puts the environment's bin/ first
    pipeline.autograde(pipeline.Course(course), LATE_IN, list(LATE), use_sandbox=False)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert {s: gb.find_submission(LATE_IN, s).late_submission_penalty for s in LATE} == {"on-time": 0.0, "late": 14.0}


def test_a_grader_error_names_the_student_and_spares_the_others(graded, tmp_path, monkeypatch, caplog):
    """A failure on the grader's side while grading one submission is logged with the student's
    name; the others are recorded, the student's previous grade is kept, and autograde raises
    GraderError at the end (``python -m rnngrade`` then exits 1, after feedback and export)."""
    course = tmp_path / "course"
    shutil.copytree(graded[0], course, ignore=shutil.ignore_patterns("feedback", "autograded", "grading_logs"))
    submit(course, "late-and-broken", "mgu", raw=b"[]")
    grade_notebook = runner.grade_notebook

    def failing_for_solved(path, *args, **kwargs):
        if path.parent.parent.name == "solved":
            raise OSError("No space left on device")
        return grade_notebook(path, *args, **kwargs)

    monkeypatch.setattr(runner, "grade_notebook", failing_for_solved)
    monkeypatch.setenv("PATH", os.environ["PATH"])  # pipeline.Course puts the environment's bin/ first
    with pytest.raises(pipeline.GraderError, match=r"1 submission\(s\) of mgu .*solved: OSError"):
        pipeline.autograde(pipeline.Course(course), "mgu", ["solved", "late-and-broken"], use_sandbox=False)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "mgu solved: not graded because of an error in the grader: OSError('No space left on device')"]
    got = scores(course)
    assert got["mgu", "solved"] == POINTS["mgu"] and got["mgu", "late-and-broken"] == {k: 0 for k in POINTS["mgu"]}
    assert "error in the grader" in (course / "grading_logs" / "mgu" / "solved.txt").read_text()
    assert (course / "autograded" / "late-and-broken" / "mgu" / "mgu.ipynb").exists()


# one feedback page per assignment, of a submission with a mistake (one part lost)
FEEDBACK_PAGES = {"forward_and_scan": "missing-bias", "gru_bptt": "no-carry", "mgu": "missing-bias",
                  "lstm": "dc-not-carried", "attention": "no-jacobian-subtraction"}

FEEDBACK_PAGE_REPORT = r"""() => {
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.parentElement.closest('pre, code, script, style, mjx-container') && /\$[^$]+\$|\\\(|\\\[/.test(n.textContent)) {
      raw.push(n.textContent.trim().slice(0, 80));
    }
  }
  const cut = Array.from(document.querySelectorAll('#notebook-container *')).filter(e =>
    !e.closest('mjx-container') && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible');
  return {
    parts: Array.from(document.querySelectorAll('#toc li')).map(li => li.innerText.trim()),
    typeset: document.querySelectorAll('mjx-container').length,
    raw_math: raw,
    cut_off: cut.map(e => `${e.tagName}: ${e.textContent.slice(0, 80)}`),
    page_width: document.documentElement.scrollWidth,
    verdicts: Array.from(document.querySelectorAll('div.output_text pre')).map(e => e.textContent),
  };
}"""


def _release_parts(a):
    """[(grade_id, heading)] of the release's graded cells, in order: the markdown heading each is
    under, as a reader sees it (no "(N points)", no backticks)."""
    parts, heading = [], None
    for c in release(a).cells:
        if c.cell_type == "markdown":
            heading = next((m.group(1) for m in reversed(list(re.finditer(r"^#+ (.+)$", c.source, re.M)))), heading)
        elif c.metadata.get("nbgrader", {}).get("grade"):
            parts.append((c.metadata["nbgrader"]["grade_id"], re.sub(r" \(\d+ points\)$", "", heading).replace("`", "")))
    return parts


def test_feedback_pages_in_chromium(graded, chromium_browser):
    """A student's feedback page, opened from disk without a network in a window 1000 pixels
    wide: the summary names every part by its heading with its score; MathJax (inlined in the
    page) typesets every formula of the notebook's text and leaves no raw TeX; nothing is cut
    off or scrolls sideways, and each grader's verdict is there in full."""
    from browser import chromium_page, load

    course = graded[0]
    expected = expected_scores()
    for a, student in FEEDBACK_PAGES.items():
        page_file = course / "feedback" / student / a / f"{a}.html"
        with chromium_page(chromium_browser, width=1000, height=800) as (page, problems):
            load(page, page_file.as_uri())
            report = page.evaluate(FEEDBACK_PAGE_REPORT)
        assert problems == [], (a, problems)
        assert report["parts"] == [f"{name} (Score: {float(expected[a, student][gid])} / {float(POINTS[a][gid])})"
                                   for gid, name in _release_parts(a)], (a, report["parts"])
        formulas = sum(len(re.findall(r"\$\$.+?\$\$|\$[^$]+\$", c.source, re.S)) for c in release(a).cells
                       if c.cell_type == "markdown")
        assert formulas > 0 and report["typeset"] == formulas, (a, report["typeset"], formulas)
        assert report["raw_math"] == [], (a, report["raw_math"])
        assert report["cut_off"] == [] and report["page_width"] <= 1000, (a, report["cut_off"], report["page_width"])
        autograded = nbformat.read(course / "autograded" / student / a / f"{a}.ipynb", as_version=4)
        verdicts = [o.text for c in autograded.cells for o in c.get("outputs", []) if o.get("name") == "stdout"]
        assert len(verdicts) == len(POINTS[a]) and report["verdicts"] == verdicts, a


def test_feedback_says_in_plain_words_which_inner_argument_differs(graded):
    """Where the student's code calls another graded function with an argument the reference does
    not pass (a missing bias before sigmoid, a gradient not carried back into the step backward,
    the new state as the attention's query),
    the verdict says so in words, with the values the student's own notebook shows: no NaN."""
    course = graded[0]
    said = {("forward_and_scan", "missing-bias", "test_rnn_step"):
            "the argument your code passed to sigmoid differs from the reference's",
            ("gru_bptt", "no-carry", "test_gru_backward"):
            "the gradient your code passed to gru_step_backward at one of the steps differs from the reference's",
            ("lstm", "dc-not-carried", "test_lstm_backward"):
            "the gradient your code passed to lstm_step_backward at one of the steps differs from the reference's",
            ("attention", "query-h-next", "test_decoder_step"):
            "the query your code passed to attention_forward differs from the reference's"}
    for (a, student, gid), words in said.items():
        autograded = nbformat.read(course / "autograded" / student / a / f"{a}.ipynb", as_version=4)
        verdict = next(o.text for c in autograded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid
                       for o in c.outputs)
        assert words in verdict and "NaN" not in verdict, (a, student, verdict)
