"""The course secret: the hidden cases' inputs derive from it, the visible examples never do.

The seeds in ``rnngrade/specs/`` are case numbers; with a secret, the grader derives each hidden
case's generator from (secret, assignment, part, case number), so that reading the repository
does not tell the hidden inputs. Without one it uses the public defaults and says so. The full
round trip under a secret (and that the secret reaches no output) is in ``test_grading.py``; that
no attack in the sandbox can read it, in ``test_grading_security.py``.
"""

import hashlib
import hmac
import os
import secrets
import warnings

import nbformat
import numpy as np
import pytest

from grading_support import ASSIGNMENTS, arrays, solved
from rnngrade import __main__, incell, judge, pipeline, runner, secret, specs

# sha256 of every case's input arrays (label, dtype, shape, bytes) without a secret: the public
# defaults must not change by accident (a change of the hidden cases updates them on purpose)
PUBLIC_DIGESTS = {"forward_and_scan": "c07712fd463b2b0d", "gru_bptt": "46e1452afb455b3a",
                  "mgu": "9af8a91cc70926de", "lstm": "60834b20fdfd70bd", "charlm": "dcdc728d7cfa5d7d",
                  "attention": "fdbc2a304b071491", "scan": "74a50535c973d901"}


def inputs_digest(spec):
    h = hashlib.sha256()
    for part in spec.parts:
        for case in part.cases:
            for arr in arrays(case.args):
                h.update(f"{case.label}|{arr.dtype}|{arr.shape}|".encode())
                h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


@pytest.fixture
def no_secret(monkeypatch):
    monkeypatch.delenv(secret.ENV, raising=False)


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_without_a_secret_the_inputs_are_the_public_defaults(a):
    assert inputs_digest(specs.get(a, secret=None)) == PUBLIC_DIGESTS[a]
    assert inputs_digest(specs.get(a)) == PUBLIC_DIGESTS[a]


def whole_numbers(x):
    """Whether an array holds whole numbers only: ids, indices, masks of 0 and 1. They take few values,
    and a case's sizes may fix them (a mask without padding, the first step's scores of 0), so two
    secrets may draw the same."""
    return x.dtype.kind in "biu" or (x.dtype.kind == "f" and np.array_equal(x, np.round(x)))


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_a_secret_changes_every_hidden_input_and_no_size_or_visible_example(a):
    """Every hidden array of real numbers differs between secrets; arrays of whole numbers (ids,
    masks) may not, but a hidden case's inputs as a whole do. The visible examples and every size
    stay."""
    public, one, two = (specs.get(a, secret=s) for s in (None, "one secret", "another secret"))
    assert inputs_digest(specs.get(a, secret="one secret")) == inputs_digest(one)  # deterministic
    hidden = 0
    for p0, p1, p2 in zip(public.parts, one.parts, two.parts, strict=True):
        for c0, c1, c2 in zip(p0.cases, p1.cases, p2.cases, strict=True):
            assert c0.label == c1.label == c2.label and c0.hidden == c1.hidden == c2.hidden
            for x0, x1, x2 in zip(arrays((c0.args, c0.expected)), arrays((c1.args, c1.expected)),
                                  arrays((c2.args, c2.expected)), strict=True):
                assert x0.shape == x1.shape == x2.shape, (p0.grade_id, c0.label)
            inputs = list(zip(arrays(c0.args), arrays(c1.args), arrays(c2.args), strict=True))
            for x0, x1, x2 in inputs:
                if c0.hidden and not whole_numbers(x0):
                    assert not np.array_equal(x1, x2) and not np.array_equal(x0, x1), (p0.grade_id, c0.label)
                elif not c0.hidden:
                    assert np.array_equal(x0, x1) and np.array_equal(x0, x2), (p0.grade_id, c0.label)
            if c0.hidden:   # ids and masks may coincide, the inputs as a whole may not
                assert not all(np.array_equal(x1, x2) for _, x1, x2 in inputs), (p0.grade_id, c0.label)
                assert not all(np.array_equal(x0, x1) for x0, x1, _ in inputs), (p0.grade_id, c0.label)
            hidden += c0.hidden
    assert hidden >= 2 * len(public.parts)


def test_the_derivation_is_the_documented_one():
    """HMAC-SHA256 of "assignment/part/case" keyed by the secret seeds numpy's default generator;
    without a secret the case number is the seed (the README and rnngrade.secret say so)."""
    key = hmac.digest(b"s3cret", b"mgu/test_mgu_backward/3301", "sha256")
    want = np.random.default_rng(int.from_bytes(key, "little")).standard_normal(8)
    assert np.array_equal(secret.case_rng("s3cret", "mgu", "test_mgu_backward", 3301).standard_normal(8), want)
    assert np.array_equal(secret.case_rng(None, "mgu", "test_mgu_backward", 3301).standard_normal(8),
                          np.random.default_rng(3301).standard_normal(8))
    assert not np.array_equal(secret.case_rng("s3cret", "mgu", "test_mgu_step_backward", 3301).standard_normal(8), want)


def solved_namespace(a):
    """The solved notebook's code cells run in a fresh namespace (the grader's choice of cells)."""
    ns = {"__name__": "__main__"}
    for cell in runner.code_cells(solved(a), specs.get(a)):
        exec(compile(cell["source"], f"<{a} cell {cell['index']}>", "exec"), ns)
    return ns


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_the_solutions_pass_every_case_under_random_secrets(a):
    ns = solved_namespace(a)
    for s in [secrets.token_hex(16) for _ in range(3)]:
        for part in specs.get(a, secret=s).parts:
            for case in part.cases:
                ok, message = judge.judge(case, incell.run_case(case, part.function, ns), part.function)
                assert ok, f"secret {s}: {part.grade_id}, {case.label}: {message}"


def test_the_secret_comes_from_the_environment_or_the_course_file(tmp_path, monkeypatch, no_secret):
    assert secret.load(tmp_path) is None
    (tmp_path / secret.FILE).write_text("  from-the-file \n")
    assert secret.load(tmp_path) == "from-the-file"
    monkeypatch.setenv(secret.ENV, "from-the-environment")
    assert secret.load(tmp_path) == "from-the-environment"
    monkeypatch.setenv(secret.ENV, "")
    assert secret.load(tmp_path) == "from-the-file"
    (tmp_path / secret.FILE).write_text("\n")
    with pytest.raises(secret.SecretError, match=r"\.rnngrade_secret is empty: expected one line, .*token_hex"):
        secret.load(tmp_path)


def test_in_a_notebook_the_checks_use_the_course_secret_and_say_nothing_of_it(tmp_path, monkeypatch, capsys,
                                                                                no_secret):
    """``incell.check`` (the solutions' hidden test cells) finds the secret of the course it runs in
    (the nearest folder above with nbgrader_config.py) and prints only its verdict, with or
    without a secret: nbval compares the notebooks' outputs."""
    ns = solved_namespace("mgu")
    seen = []
    step = ns["mgu_step_forward"]
    ns["mgu_step_forward"] = lambda x, h, weights: seen.append(x) or step(x, h, weights)
    (tmp_path / "nbgrader_config.py").write_text("")
    (tmp_path / "solutions" / "mgu").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "solutions" / "mgu")
    for s in (None, "the course's secret"):
        if s:
            (tmp_path / secret.FILE).write_text(s)
        seen.clear()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            incell.check("mgu", "test_mgu_step_forward", ns)
        want = [c.args[0] for c in specs.get("mgu", secret=s).parts[0].cases]
        assert capsys.readouterr() == (f"mgu_step_forward: all {len(want)} grading cases pass\n", "")
        assert not caught
        assert len(seen) == len(want) and all(np.array_equal(x, w) for x, w in zip(seen, want))


def test_the_command_line_warns_once_without_a_secret(tmp_path, monkeypatch, capsys, no_secret):
    monkeypatch.setenv("PATH", os.environ["PATH"])  # pipeline.Course puts the environment's bin/ first
    (tmp_path / "nbgrader_config.py").write_text("")
    got = []
    monkeypatch.setattr(pipeline, "autograde", lambda course, name, *a, **k: got.append(course.secret) or {})
    monkeypatch.setattr(pipeline, "export", lambda course, to: None)
    assert __main__.main(["all", "--no-sandbox", "--course", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert err.count("no course secret") == 1, err
    assert ("WARNING: no course secret (RNNGRADE_SECRET or .rnngrade_secret): the hidden cases' inputs are the "
            "public defaults, which anyone who reads the repository can compute") in err
    assert got == [None] * len(ASSIGNMENTS)
    (tmp_path / secret.FILE).write_text("kept by the instructor\n")
    assert __main__.main(["autograde", "mgu", "--no-sandbox", "--course", str(tmp_path)]) == 0
    assert "secret" not in capsys.readouterr().err and got[-1] == "kept by the instructor"
    (tmp_path / secret.FILE).write_text("")
    assert __main__.main(["autograde", "mgu", "--no-sandbox", "--course", str(tmp_path)]) == 2
    assert ".rnngrade_secret is empty" in capsys.readouterr().err


def test_the_submissions_process_gets_no_environment_variable_of_the_grader(monkeypatch, sandbox_flag):
    """Not the secret, nor anything else: its environment is the few variables the runner sets."""
    monkeypatch.setenv(secret.ENV, "never-in-the-sandbox")
    nb = solved("mgu")
    nb.cells.append(nbformat.v4.new_code_cell("import os\nprint('ENV', sorted(os.environ.items()))"))
    result = runner.grade_cells(nb, specs.get("mgu"), use_sandbox=not sandbox_flag)
    assert "ENV [" in result.output and "never-in-the-sandbox" not in result.output
    assert secret.ENV not in result.output
