"""The notebooks' visible checks catch what the grader catches on the visible example.

A student sees only the visible check cells before submitting; the grader later judges the same
visible example (and hidden cases) out of kernel. Here each mistake is put into a solved
notebook and the part's visible check is run the way a student runs it (the notebook's cells in
order, in one namespace); the grader's judgement of the visible example is computed in the same
namespace (``rnngrade.incell.run_case``, the grader's oracles and comparison). The two must
agree, and a backward check must list every wrong array, as the grader does, not only the first.
"""

import ast
import contextlib
import io
import re

import numpy as np
import pytest

import rnnlib
from grading_support import (ASSIGNMENTS, ATTENTION_MISTAKES, CHARLM_CLIP_EACH, CHARLM_CLIP_IN_PLACE,
                             CHARLM_NOT_DETACHED, SCAN_MISTAKES, cell, mutate, solved)
from rnngrade import incell, judge, specs
from rnnlib.gradcheck import WRONG

SIGMOID = "e = np.exp(-np.abs(a))\n    return np.where(a >= 0, 1.0, e) / (1.0 + e)"

# (assignment, solution cell, old, new, the test cell of the part it breaks)
MISTAKES = [
    ("forward_and_scan", "sigmoid", SIGMOID, "return 1 / (1 + np.exp(-np.clip(a, -500, 500)))", "test_sigmoid"),
    ("forward_and_scan", "sigmoid", SIGMOID, "return 0.5 * (1 + np.tanh(a / 2))", "test_sigmoid"),
    ("forward_and_scan", "sigmoid", SIGMOID, "with np.errstate(over='ignore'):\n        return 1 / (1 + np.exp(-a))",
     "test_sigmoid"),
    ("forward_and_scan", "sigmoid", SIGMOID, "return 1 / (1 + np.exp(-a))", "test_sigmoid"),
    ("forward_and_scan", "gru_step", "h_next = u * c + (1 - u) * h", "h_next = (1 - u) * c + u * h", "test_gru_step"),
    ("gru_bptt", "gru_step_backward", "* u * (1 - u)", "* sigmoid(u) * (1 - sigmoid(u))", "test_gru_step_backward"),
    ("gru_bptt", "gru_backward", "dhs[t] + dh", "dhs[t]", "test_gru_backward"),
    ("gru_bptt", "gru_backward", "reversed(range(len(caches)))", "reversed(range(1, len(caches)))",
     "test_gru_backward"),
    ("gru_bptt", "mse_loss", "loss = float(np.mean(diff ** 2))\n    dpred = 2 * diff / diff.size",
     "loss = float(np.sum(diff ** 2))\n    dpred = 2 * diff", "test_mse_loss"),
    ("mgu", "mgu_step_backward", "df = dh_next * (c - h) + d_fhx[:H] * h", "df = dh_next * (c - h)",
     "test_mgu_step_backward"),
    ("mgu", "mgu_backward", "dhs[t] + dh", "dhs[t]", "test_mgu_backward"),
    ("lstm", "lstm_step_backward", "da_f = dc_total * c * f", "da_f = dc_total * f", "test_lstm_step_backward"),
    ("lstm", "lstm_step_backward", "da_o = dh_next * tanh_c * o * (1 - o)", "da_o = dh_next * o * (1 - o)",
     "test_lstm_step_backward"),
    ("lstm", "lstm_backward", "lstm_step_backward(dhs[t] + dh, dc, caches[t], weights)",
     "lstm_step_backward(dhs[t], dc, caches[t], weights)", "test_lstm_backward"),
    ("charlm", "softmax_cross_entropy", "logits - logits.max(axis=-2, keepdims=True)", "logits",
     "test_softmax_cross_entropy"),
    ("charlm", "softmax_cross_entropy", "count = mask.sum()", "count = mask.size", "test_softmax_cross_entropy"),
    ("charlm", "softmax_cross_entropy", "log_p = shifted - np.log(np.exp(shifted).sum(axis=-2, keepdims=True))",
     "log_p = np.log(np.exp(shifted) / np.exp(shifted).sum(axis=-2, keepdims=True))", "test_softmax_cross_entropy"),
    ("charlm", "clip_by_global_norm", *CHARLM_CLIP_EACH, "test_clip_by_global_norm"),
    ("charlm", "sample_next", "index = min(int(np.sum(cdf <= u)), len(cdf) - 1)", "index = int(np.argmax(p))",
     "test_sample_next"),
    ("charlm", "sample_next", "p = np.exp(z - z.max())", "p = np.exp(z)", "test_sample_next"),
    ("charlm", "sample_next", "z = logits / temperature", "z = logits", "test_sample_next"),
    ("charlm", "train_step", "lm_forward(cell, params, X_ids, state)",
     "lm_forward(cell, params, X_ids, zero_state(cell, params['W_y'].shape[1], X_ids.shape[1]))", "test_train_step"),
    ("charlm", "train_step", *CHARLM_NOT_DETACHED, "test_train_step"),
    ("charlm", "train_step", "p -= lr * g", "p = p - lr * g", "test_train_step"),
]
# Found trying assignments 4 and 5 as a new student: a mistake that passed its own check, and
# mistakes in one part that made another part's check report a correct answer wrong (or crash)
SAMPLE_GUARD = "index = min(int(np.sum(cdf <= u)), len(cdf) - 1)"
MISTAKES += [
    ("forward_and_scan", "sigmoid", SIGMOID, "a = np.asarray(a, dtype=float)\n    return 1 / (1 + np.exp(-2 * a))",
     "test_sigmoid"),
    ("charlm", "sample_next", SAMPLE_GUARD, "index = int(np.sum(cdf <= u))", "test_sample_next"),
    ("charlm", "clip_by_global_norm", *CHARLM_CLIP_IN_PLACE, "test_clip_by_global_norm"),
    ("forward_and_scan", "rnn_step", "np.concatenate([h, x])", "np.concatenate([x, h])", "test_rnn_step"),
    ("gru_bptt", "gru_step_forward", "h_next = u * c + (1 - u) * h", "h_next = u * h + (1 - u) * c",
     "test_gru_step_forward"),
    ("mgu", "mgu_step_forward", "h_next = (1 - f) * h + f * c", "h_next = f * h + (1 - f) * c",
     "test_mgu_step_forward"),
    ("lstm", "lstm_step_forward", "c_next = f * c + i * g", "c_next = c + i * g", "test_lstm_step_forward"),
    ("lstm", "lstm_step_backward", "(da.sum(axis=1, keepdims=True) for da in", "(da.sum(axis=1) for da in",
     "test_lstm_step_backward"),
    ("charlm", "train_step", "clip_by_global_norm(list(grads.values()), max_norm)",
     "clip_by_global_norm(list(grads.values()), 1.0)", "test_train_step"),
]
# assignment 6: the typical mistakes of the attention, the decoder step and the beam step
MISTAKES += [("attention", solution_cell, old, new, grade_id) for _, solution_cell, old, new, grade_id in ATTENTION_MISTAKES]
# assignment 7: the typical mistakes of the operator, the scan, minGRU's forward and backward
MISTAKES += [("scan", solution_cell, old, new, grade_id) for _, solution_cell, old, new, grade_id in SCAN_MISTAKES]
MISTAKE_IDS = [f"{a}-{gid}-{i}" for i, (a, _, _, _, gid) in enumerate(MISTAKES)]
# backward mistakes that break one array only (the others' checks must list several)
ONE_WRONG_ARRAY = {("attention", "attention_backward", old, new, "test_attention_backward")
                   for name, _, old, new, _ in ATTENTION_MISTAKES if name.startswith("dHs-without")} | {
    ("scan", cell_id, old, new, gid) for name, cell_id, old, new, gid in SCAN_MISTAKES if name == "dh0-without-a"}


def _grade_id(c):
    return c.metadata.get("nbgrader", {}).get("grade_id")


def _is_check(c):
    md = c.metadata.get("nbgrader", {})
    return bool(md.get("grade")) and not md.get("solution")


def run_visible_check(nb, grade_id):
    """Run ``nb`` as a student would up to the check cell ``grade_id``: the code cells before it
    that are not checks, then the check. Returns (namespace, what it printed, the exception's
    text or None)."""
    ns = {}
    for c in nb.cells:
        if c.cell_type == "code" and _grade_id(c) != grade_id and not _is_check(c):
            exec(compile(c.source, _grade_id(c) or "cell", "exec"), ns)
        if _grade_id(c) == grade_id:
            break
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(cell(nb, grade_id).source, grade_id, "exec"), ns)
    except Exception as exc:  # noqa: BLE001 (a failing check: AssertionError, or a warning made an error)
        return ns, out.getvalue(), f"{type(exc).__name__}: {exc}"
    return ns, out.getvalue(), None


def grader_verdict(assignment, grade_id, ns):
    """The grader's verdict on a part, in ``ns``: (ok, the first failing case, every problem in it).
    The visible example comes first."""
    part = next(p for p in specs.get(assignment).parts if p.grade_id == grade_id)
    for case in part.cases:
        reply = incell.run_case(case, part.function, ns)
        ok, message = judge.judge(case, reply, part.function)
        if not ok:
            return False, case, [message] if reply["status"] != "ok" else judge.compare(
                reply["decoded"], case.expected, case.names, case.rtol, case.atol, show_values=True)
    return True, None, []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_right_solution_passes_every_visible_check(assignment):
    nb = solved(assignment)
    for part in specs.get(assignment).parts:
        ns, printed, error = run_visible_check(nb, part.grade_id)
        assert error is None, (part.grade_id, error)
        assert "visible check passed" in printed
        assert grader_verdict(assignment, part.grade_id, ns)[0]


@pytest.mark.parametrize("mistake", MISTAKES, ids=MISTAKE_IDS)
def test_the_visible_check_fails_where_the_grader_fails(mistake):
    assignment, solution_cell, old, new, grade_id = mistake
    ns, printed, error = run_visible_check(mutate(solved(assignment), solution_cell, old, new), grade_id)
    grader_ok, case, problems = grader_verdict(assignment, grade_id, ns)
    assert not grader_ok, f"the grader passes {new!r}"
    assert error is not None, f"the visible check passed ({printed.strip()}); the grader's {case.label}: {problems}"


@pytest.mark.parametrize("mistake", MISTAKES, ids=MISTAKE_IDS)
def test_a_mistake_is_reported_in_its_own_part_only(mistake):
    """Every other part's visible check passes, and the grader gives every other part its points:
    a check takes its inputs from rnnlib's reference, and rnnlib's reference stands in for the
    student's other parts that the checked function calls, as the grader's oracles do."""
    assignment, solution_cell, old, new, grade_id = mistake
    nb = mutate(solved(assignment), solution_cell, old, new)
    for part in specs.get(assignment).parts:
        ns, printed, error = run_visible_check(nb, part.grade_id)
        grader_ok, case, problems = grader_verdict(assignment, part.grade_id, ns)
        if part.grade_id == grade_id:
            assert error is not None and not grader_ok
        else:
            assert error is None, f"a mistake in {grade_id} makes {part.grade_id}'s visible check fail: {error}"
            assert grader_ok, f"a mistake in {grade_id} costs {part.grade_id} in the grader: {case.label}: {problems}"


def test_the_sampling_check_exercises_the_guard_for_the_last_index():
    """The check's example for a u just below 1 has a cumulative sum that, rounded, ends below u:
    the answer, the last index, comes from the guard alone (without it the index is V)."""
    ns, printed, error = run_visible_check(solved("charlm"), "test_sample_next")
    assert error is None, error
    logits, temperature, u = ns["edge"], ns["edge_temperature"], ns["edge_u"]
    z = logits / temperature
    p = np.exp(z - z.max())
    cdf = np.cumsum(p / p.sum())
    assert u == np.nextafter(1.0, 0.0) and cdf[-1] < u and int(np.sum(cdf <= u)) == len(logits)
    assert rnnlib.lm.next_char_id(logits, temperature, u=u) == len(logits) - 1


def test_a_clipping_that_changes_the_arrays_passed_in_is_told_so():
    """The check's message names the real fault (not a wrong norm, computed from arrays the
    student's function had changed), and the grader takes the part's points on it."""
    nb = mutate(solved("charlm"), "clip_by_global_norm", *CHARLM_CLIP_IN_PLACE)
    ns, _, error = run_visible_check(nb, "test_clip_by_global_norm")
    assert error is not None and "changed the arrays passed in" in error and "norm" not in error.split(":")[0], error
    ok, case, problems = grader_verdict("charlm", "test_clip_by_global_norm", ns)
    assert not ok and case.hidden and "must not change" in " ".join(problems), (case.label, problems)


def test_an_update_with_the_unclipped_gradients_fails_its_check_whatever_the_clipping_does():
    """Updating with the gradients before clipping is part 4's mistake: its check and the grader
    catch it even when the student's own clipping (wrongly) scales the arrays in place, which
    would make the unclipped gradients the clipped ones."""
    nb = mutate(mutate(solved("charlm"), "clip_by_global_norm", *CHARLM_CLIP_IN_PLACE), "train_step",
                "for p, g in zip(params.values(), clipped):", "for p, g in zip(params.values(), grads.values()):")
    ns, _, error = run_visible_check(nb, "test_train_step")
    assert error is not None and "after both updates" in error, error
    assert not grader_verdict("charlm", "test_train_step", ns)[0]


def test_the_check_and_the_grader_name_the_parameters_after_the_updates_alike():
    """Found trying assignment 5: the notebook's check said "W_u after both updates" where the
    grader said "W_u after the updates" of the same parameter on the same example."""
    from rnnlib.grading import after_updates

    nb = mutate(solved("charlm"), "train_step", "p -= lr * g", "p -= 0.5 * lr * g")
    ns, _, error = run_visible_check(nb, "test_train_step")
    ok, case, problems = grader_verdict("charlm", "test_train_step", ns)
    assert not ok and not case.hidden and error is not None

    def updated(lines):
        return {line.strip().partition(": ")[0] for line in lines if "update" in line.strip().partition(": ")[0]}

    assert updated(problems) == updated(error.splitlines()) == {after_updates(name, 2) for name in ns["params"]}
    assert after_updates("W_u", 2) == "W_u after both updates"


STEP_FORWARD_MISTAKES = [m for m in MISTAKES if m[4] in ("test_lstm_step_forward", "test_gru_step_forward")]


@pytest.mark.parametrize("mistake", STEP_FORWARD_MISTAKES, ids=lambda m: m[4])
def test_a_step_forward_check_names_each_wrong_array_once(mistake):
    """The new state and the cache's copy of it are named apart (``c_next`` and ``cache: c_next``)."""
    assignment, solution_cell, old, new, grade_id = mistake
    _, _, error = run_visible_check(mutate(solved(assignment), solution_cell, old, new), grade_id)
    names = [line.strip().partition(": ")[0] for line in error.partition(":")[2].splitlines() if line.strip()]
    assert "c_next" in names or "h_next" in names, error
    assert len(names) == len(set(names)), error


def _names(problems):
    """The arrays that a list of problems (one line each, 'name: what is wrong') is about."""
    return {m.group(1) for line in problems for m in [re.match(r"\s*(\w+): ", line)] if m}


@pytest.mark.parametrize("mistake", [m for m in MISTAKES if "backward" in m[4]],
                         ids=[i for i, m in zip(MISTAKE_IDS, MISTAKES) if "backward" in m[4]])
def test_a_backward_check_lists_every_wrong_array_as_the_grader_does(mistake):
    assignment, solution_cell, old, new, grade_id = mistake
    ns, _, error = run_visible_check(mutate(solved(assignment), solution_cell, old, new), grade_id)
    _, case, problems = grader_verdict(assignment, grade_id, ns)
    assert not case.hidden, f"the grader passes the visible example; its {case.label}: {problems}"
    wrong = _names(problems)
    if mistake in ONE_WRONG_ARRAY:
        assert len(wrong) == 1, f"this mistake should break one array; the grader lists {problems}"
    else:
        assert len(wrong) >= 2, f"this mistake should break several arrays; the grader lists {problems}"
    assert _names(error.partition(": ")[2].splitlines()) == wrong, error


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_cells_the_grader_skips_are_in_the_notebook(assignment):
    spec = specs.get(assignment)
    assert spec.skip_cells <= {_grade_id(c) for c in solved(assignment).cells}


# The ungraded gradient checks (the cell assignments' and the language model's): a part's mistake
# shows in the rows of its own part only, and no answer stops the check

GRADIENT_ROW = re.compile(r"^\s*d(\w+) +(relative error|wrong shape|wrong dtype|not an array|missing)")


def _gradient_check_blocks(printed):
    """[(title, {gradient: ok?})] from what a gradient-check cell printed: a block's title is the
    text printed before its rows; a row is ok when it ends with "ok"."""
    blocks = []
    for line in printed.splitlines():
        row = GRADIENT_ROW.match(line)
        if row:
            blocks[-1][1][row.group(1)] = line.rstrip().endswith("ok")
        elif not blocks or blocks[-1][1]:
            blocks.append((line, {}))
        else:
            blocks[-1] = (blocks[-1][0] + "\n" + line, {})
    return blocks


GRADCHECKED = [m for m in MISTAKES if m[0] in ("gru_bptt", "mgu", "lstm", "charlm", "attention", "scan")]


@pytest.mark.parametrize("mistake", GRADCHECKED, ids=[i for i, m in zip(MISTAKE_IDS, MISTAKES) if m in GRADCHECKED])
def test_a_gradient_check_blames_only_the_part_that_is_wrong(mistake):
    """Found trying assignment 4: a wrong step forward (part 1) made part 4's gradient check mark
    the backward pass's gradients, and a bias gradient of the wrong shape (part 2) crashed it inside
    the loop of part 3. Each block of a gradient check says which function it checks; a mistake
    marks rows only in its own function's block (a wrong backward marks some there), and nothing
    raises."""
    assignment, solution_cell, old, new, grade_id = mistake
    function = grade_id.removeprefix("test_")
    _, printed, error = run_visible_check(mutate(solved(assignment), solution_cell, old, new), "gradcheck")
    assert error is None, f"{error}\n{printed}"
    blocks = [(title, rows) for title, rows in _gradient_check_blocks(printed) if "bias bug" not in title]
    assert blocks and all(rows for _, rows in blocks), printed
    for title, rows in blocks:
        wrong = [name for name, ok in rows.items() if not ok]
        if function not in title:
            assert not wrong, f"a mistake in {function} marks {wrong} under {title!r}:\n{printed}"
        elif "backward" in function:
            assert wrong, f"the check of {function} does not see its mistake:\n{printed}"


@pytest.mark.parametrize("assignment", ["gru_bptt", "mgu", "lstm", "charlm", "attention", "scan"])
def test_the_gradient_checks_mark_a_wrong_gradient_alike(assignment):
    """One mark for a gradient that does not agree, in every notebook: rnnlib.gradcheck's, which
    the notebooks' checks print (found trying the course: "WRONG" in one, "<-- look at this
    gradient" in another)."""
    src = cell(solved(assignment), "gradcheck").source
    assert "gradient_report(" in src and "WRONG" not in src and "look at this" not in src, src


# The MGU's ungraded gradient check (part 4) and why it is there (its text and part 5)

MGU_DF = "df = dh_next * (c - h) + d_fhx[:H] * h"  # the gate's two paths: mixing h and c, and through c
FORGETS_GATE_THROUGH_CANDIDATE = ("mgu_step_backward", MGU_DF, "df = dh_next * (c - h)")
WRONG_MGU_BACKWARDS = {
    "forgets the gate's path through the candidate": FORGETS_GATE_THROUGH_CANDIDATE,
    "forgets the gate's mixing path": ("mgu_step_backward", MGU_DF, "df = d_fhx[:H] * h"),
    "no gradient carried back": ("mgu_backward", "dhs[t] + dh", "dhs[t]"),
}


def test_the_mgu_gradient_check_passes_a_right_backward_and_flags_the_planted_bug():
    _, printed, error = run_visible_check(solved("mgu"), "gradcheck")
    assert error is None, error
    (_, step), (planted_title, planted), (_, loop) = _gradient_check_blocks(printed)
    assert step == dict.fromkeys(["W_f", "W_h", "b_f", "b_h", "x", "h"], True)
    assert "bias bug" in planted_title and planted == dict(step, b_h=False)
    assert re.search(r"\bdb_h +relative error \S+ +" + re.escape(WRONG) + "$", printed, re.M), printed
    assert loop == dict.fromkeys(["W_f", "W_h", "b_f", "b_h", "X", "h_0"], True)


@pytest.mark.parametrize("mistake", list(WRONG_MGU_BACKWARDS), ids=list(WRONG_MGU_BACKWARDS))
def test_the_mgu_gradient_check_fails_on_a_wrong_backward(mistake):
    _, printed, error = run_visible_check(mutate(solved("mgu"), *WRONG_MGU_BACKWARDS[mistake]), "gradcheck")
    assert error is None, error
    (_, step), _, (_, loop) = _gradient_check_blocks(printed)
    assert not all(step.values()) if WRONG_MGU_BACKWARDS[mistake][0] == "mgu_step_backward" else not all(loop.values())


def _train_mgu(nb):
    """The MGU notebook's ``train_mgu`` (part 5) and the student's backward, without running the cell's runs."""
    ns, _, error = run_visible_check(nb, "gradcheck")
    assert error is None, error
    tree = ast.parse(cell(nb, "training").source)
    exec(compile(ast.Module([n for n in tree.body if isinstance(n, ast.FunctionDef)], []), "training", "exec"), ns)
    return ns["train_mgu"](ns["mgu_backward"])


def test_a_wrong_mgu_backward_trains_better_than_the_right_one():
    """Part 4's text: training cannot tell a right gradient from a wrong one; forgetting the gate's
    path through the candidate even gives a lower held-out error in part 5 than the right backward."""
    right = _train_mgu(solved("mgu"))
    wrong = _train_mgu(mutate(solved("mgu"), *FORGETS_GATE_THROUGH_CANDIDATE))
    assert wrong < right < rnnlib.ADDING_BASELINE_MSE / 10
