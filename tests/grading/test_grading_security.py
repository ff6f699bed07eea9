"""The adversarial suite: hostile submissions against every assignment, in the sandbox.

Honest submissions are graded first; then every attack in ``attacks.py`` is submitted for every
assignment and graded together with the honest ones again (two at a time, so an attack runs
beside an honest grading). The tests check that no attack gains a point, that no file outside
the submission changes, that no attack reaches the network, the gradebook, the solutions, the
grader's code or other processes, that nothing the attacks smuggle reaches the feedback, that
no process outlives its grading, and that the honest grades stay exactly as they were. A report
(attacks tried, points gained, breaches) is printed at the end of the run. The course has a
secret, in its file and (for the attacks' run) in the grader's environment, with a canary in it:
no attack may read it, and the hidden inputs it derives must not reach the feedback.

The suite needs the sandbox (bubblewrap): several attacks (``kill(-1)``, a fork bomb, filling
memory) would harm the machine without it, so it never runs unsandboxed.
"""

import hashlib
import os
import re
import secrets
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from attacks import ATTACKS
from grading_support import (ASSIGNMENTS, ROOT, arrays, make_course, mutate, release, rnngrade, scores, solved,
                             submit)

pytestmark = pytest.mark.slow      # the siege: every attack graded through the sandbox, minutes

STRICT = os.environ.get("RNN_COURSE_STRICT") == "1"
FUNCS = {"forward_and_scan": ["sigmoid", "rnn_step", "gru_step", "scan"],
         "gru_bptt": ["gru_step_forward", "gru_step_backward", "gru_backward", "mse_loss"],
         "mgu": ["mgu_step_forward", "mgu_step_backward", "mgu_backward"],
         "lstm": ["lstm_step_forward", "lstm_step_backward", "lstm_backward"],
         "charlm": ["softmax_cross_entropy", "clip_by_global_norm", "sample_next", "train_step"],
         "attention": ["attention_forward", "attention_backward", "decoder_step", "beam_step"],
         "scan": ["combine", "scan_inclusive", "mingru_forward", "mingru_backward"]}
PARTIAL = {"forward_and_scan": ("gru_step", "h_next = u * c + (1 - u) * h", "h_next = (1 - u) * c + u * h"),
           "gru_bptt": ("gru_backward", "dhs[t] + dh", "dhs[t]"),
           "mgu": ("mgu_step_backward", "df = dh_next * (c - h) + d_fhx[:H] * h", "df = dh_next * (c - h)"),
           "lstm": ("lstm_step_backward", "dc = dc_total * f", "dc = dc_total"),
           "charlm": ("softmax_cross_entropy", "count = mask.sum()", "count = mask.size"),
           "attention": ("attention_backward", "dHs = alpha[:, None] * dcontext + U_a.T @ dz", "dHs = U_a.T @ dz"),
           "scan": ("mingru_backward", "dh_0 = a[0] * g[0]", "dh_0 = g[0]")}
# one function of rnnlib's reference that each assignment asks for: its file, its name, a call of it
GRU_STEP = ("cells/gru.py", "gru_step", "rnnlib.gru_step([np.zeros((1, 1)), np.zeros((1, 1))], "
            "tuple(np.zeros((1, 2)) for _ in range(3)) + tuple(np.zeros((1, 1)) for _ in range(3)))")
REFERENCE = {"forward_and_scan": GRU_STEP, "gru_bptt": GRU_STEP, "mgu": GRU_STEP, "lstm": GRU_STEP,
             "charlm": ("losses.py", "softmax_cross_entropy",
                        "rnnlib.softmax_cross_entropy(np.zeros((2, 1)), np.zeros(1, int))"),
             "attention": ("attention.py", "additive_attention",
                           "rnnlib.additive_attention(np.zeros((1, 1)), np.zeros((1, 1, 1)), np.ones((1, 1)), "
                           "(np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1))))"),
             "scan": ("prefix_scan.py", "associative_scan", "rnnlib.associative_scan(lambda a, b: a + b, np.ones(3))")}
HONEST = ("honest", "honest-partial")

# Where each attack is submitted. An attack that tries to win points through something of the
# assignment (its graded functions, its test cells, its reference function) or looks for its
# hidden inputs runs against every assignment. The others meet the same grader code whatever the
# assignment: the sandbox, the files and processes, and for the attacks that stop the process
# (loops, exits, kills, exhaustion) the limits and restarts. Each of those runs against two
# assignments, in rotation, so that every assignment meets several. The stopping attacks are the
# slow ones: an endless loop in every graded function took 25 s to grade, each time.
NAMES_THE_ASSIGNMENT = ("{FUNCS}", "{GRADE_IDS}", "{REFERENCE}")
_GENERIC = [n for n, (cls, src) in ATTACKS.items()
            if cls == "stop" or (cls != "hidden" and not any(f in src for f in NAMES_THE_ASSIGNMENT))]
TARGETS = {n: ((ASSIGNMENTS[_GENERIC.index(n) % len(ASSIGNMENTS)],
                ASSIGNMENTS[(_GENERIC.index(n) + 3) % len(ASSIGNMENTS)]) if n in _GENERIC else tuple(ASSIGNMENTS))
           for n in ATTACKS}


def _tree_hash(paths, exclude=()):
    h = hashlib.sha256()
    for top in paths:
        top = Path(top)
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for f in files:
            if any(part in exclude for part in f.parts):
                continue
            h.update(str(f).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _sandbox_processes():
    out = subprocess.run(["ps", "-eo", "uid=,pid=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.split() and 61000 <= int(line.split()[0]) < 61100]


class Listener:
    """A TCP server on 127.0.0.1 that records every connection (none may arrive)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.hits, self.stop = [], False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                conn, addr = self.sock.accept()
                self.hits.append(addr)
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def siege(tmp_path_factory):
    from rnngrade import sandbox

    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as exc:
        if STRICT:
            pytest.fail(f"the adversarial suite needs the sandbox: {exc}")
        pytest.skip(f"the adversarial suite needs the sandbox, which is unavailable here: {exc}")
    course = make_course(tmp_path_factory.mktemp("siege"))
    token = secrets.token_hex(6)
    (course / ".rnngrade_secret").write_text(f"CANARY-file-{token}\n")  # the honest grades' secret
    for a in ASSIGNMENTS:
        submit(course, "honest", a, solved(a))
        submit(course, "honest-partial", a, mutate(solved(a), *PARTIAL[a]))
    limits = ["--cell-timeout", "3", "--case-timeout", "3", "--notebook-timeout", "90", "--jobs", "2"]
    first = rnngrade(course, "autograde", *limits)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    before = scores(course)

    protected = [course / "solutions", course / "assignments", course / "nbgrader_config.py",
                 *(course / "submitted" / s for s in HONEST), ROOT / "rnnlib", ROOT / "rnngrade",
                 ROOT / "solutions", ROOT / "assignments"]
    hash_before = _tree_hash(protected, exclude={"__pycache__"})
    listener = Listener()
    for a in ASSIGNMENTS:
        grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in release(a).cells
                     if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")]
        for name, (_, src) in ATTACKS.items():
            if a not in TARGETS[name]:
                continue
            code = (src.replace("{FUNCS}", repr(FUNCS[a])).replace("{GRADE_IDS}", repr(grade_ids))
                    .replace("{REFERENCE}", repr(REFERENCE[a]))
                    .replace("{COURSE}", str(course)).replace("{ROOT}", str(ROOT))
                    .replace("{PORT}", str(listener.port)).replace("{TOKEN}", token))
            nb = release(a)
            from nbformat.v4 import new_code_cell
            nb.cells.append(new_code_cell(code + "\nprint('ATTACK-' + 'DONE')"))
            submit(course, f"attack-{name}", a, nb)
    # another secret, in the environment (which takes precedence): honest grades must not change
    env_canary = dict(os.environ, RNNGRADE_CANARY="CANARY-" + token, RNNGRADE_SECRET=f"CANARY-env-{token}")
    proc = subprocess.run([*rnngrade_cmd(course), "all", *limits], cwd=course, env=env_canary,
                          capture_output=True, text=True, timeout=1200)
    listener.close()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dict(course=course, token=token, secret=env_canary["RNNGRADE_SECRET"], before=before,
                after=scores(course), listener=listener,
                hash_before=hash_before, hash_after=_tree_hash(protected, exclude={"__pycache__"}),
                leftovers=_sandbox_processes(), stdout=proc.stdout)


def rnngrade_cmd(course):
    import sys
    return [sys.executable, "-m", "rnngrade", "--course", str(course)]


def _breaches(siege, name, a):
    course, token = siege["course"], siege["token"]
    student = f"attack-{name}"
    found = []
    log = (course / "grading_logs" / a / f"{student}.txt").read_text(errors="replace")
    found += sorted(set(re.findall(r"LEAK:[^\s'\"]*", log)))
    hidden = _hidden_numbers(a, siege["secret"])
    for path in (course / "feedback" / student / a / f"{a}.html", course / "autograded" / student / a / f"{a}.ipynb"):
        text = path.read_text(errors="replace") if path.exists() else ""
        shown = set(re.findall(r"\d+\.\d{6,}", text))
        if shown & hidden:
            found.append(f"hidden inputs in {path.name}: {sorted(shown & hidden)[:3]}")
        if "CANARY" in text:
            found.append(f"canary in {path.name}")
    return found


_HIDDEN = {}


def _hidden_numbers(a, secret=None):
    """The hidden cases' input values under the course ``secret``, written as a repr of them would
    show them (8 decimals)."""
    if (a, secret) not in _HIDDEN:
        import numpy as np
        from rnngrade import specs

        values = set()
        for part in specs.get(a, secret=secret).parts:
            for case in part.cases:
                if case.hidden:
                    for arr in arrays(case.args):
                        for v in np.abs(arr.ravel()[:50]):
                            text = f"{v:.8f}".rstrip("0")
                            if len(text.split(".")[1]) >= 6:
                                values.add(text)
        _HIDDEN[a, secret] = values
    return _HIDDEN[a, secret]


def test_report(siege, grading_report):
    """The report printed at the end: every attack was graded in every assignment it targets
    (``TARGETS``), and in sum they gained no point, breached nothing, reached no network and left
    no process behind (the tests below say which attack did what, when one does)."""
    grading_report.append(f"{'attack':26s} {'class':7s} {'assignments':>11s} {'points gained':>13s}  breaches")
    total, all_breaches = 0.0, []
    for name, (cls, _) in ATTACKS.items():
        graded = [siege["after"].get((a, f"attack-{name}")) for a in TARGETS[name]]
        assert all(g is not None for g in graded), f"{name}: not graded in every assignment it targets"
        gained = sum(sum(g.values()) for g in graded)
        breaches = [f"{a}: {b}" for a in TARGETS[name] for b in _breaches(siege, name, a)]
        grading_report.append(f"{name:26s} {cls:7s} {len(TARGETS[name]):11d} {gained:13g}  "
                              f"{', '.join(breaches) or 'none'}")
        total, all_breaches = total + gained, all_breaches + breaches
    gradings = sum(len(t) for t in TARGETS.values())
    grading_report.append(f"{len(ATTACKS)} attacks, {gradings} gradings over {len(ASSIGNMENTS)} assignments; network "
                          f"connections received: {len(siege['listener'].hits)}; sandbox processes left: "
                          f"{len(siege['leftovers'])}")
    assert (total, all_breaches, len(siege["listener"].hits), len(siege["leftovers"])) == (0, [], 0, 0)


def test_every_attack_runs_and_every_assignment_meets_most_of_them():
    """The rotation: each attack against at least two assignments, those that try to win points
    through the assignment or look for its hidden inputs against all, and every assignment
    against all but a few of the others."""
    assert all(len(set(t)) >= 2 for t in TARGETS.values())
    assert all(TARGETS[n] == tuple(ASSIGNMENTS) for n, (cls, src) in ATTACKS.items()
               if cls == "hidden" or (cls != "stop" and any(f in src for f in NAMES_THE_ASSIGNMENT)))
    met = {a: sum(a in t for t in TARGETS.values()) for a in ASSIGNMENTS}
    assert min(met.values()) >= len(ATTACKS) - len(_GENERIC) + 2, met


# attacks that end normally when contained (the others loop, exit, kill or exhaust on purpose)
RUN_TO_THE_END = {n for n, (cls, _) in ATTACKS.items() if cls in ("points", "hidden", "files")} - {
    "patch-builtins", "patch-sys-modules", "ipython-machinery", "exfiltrate-hidden-inputs"}


# where an attack's marker says it was tried: its cell's end, except for forge-records, which
# the grader may stop as soon as it reads the forged records (a race with the cell's last line)
TRIED_MARKER = {name: "ATTACK-FORGING" if name == "forge-records" else "ATTACK-DONE" for name in RUN_TO_THE_END}


@pytest.mark.parametrize("name", sorted(RUN_TO_THE_END))
def test_attack_really_ran(siege, name):
    """The attack's code ran (to its end, or for forge-records up to the forging) in the sandbox:
    it was tried, not cut short."""
    for a in TARGETS[name]:
        log = (siege["course"] / "grading_logs" / a / f"attack-{name}.txt").read_text(errors="replace")
        assert TRIED_MARKER[name] in log, f"{a}: {name} did not run: {log[-500:]}"


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_gains_nothing_and_reaches_nothing(siege, name):
    for a in TARGETS[name]:
        got = siege["after"].get((a, f"attack-{name}"))
        assert got is not None, f"{a}: attack-{name} has no grade (the gradebook must keep every grade)"
        assert sum(got.values()) == 0, f"{a}: {name} gained points: {got}"
        assert not _breaches(siege, name, a), f"{a}: {name}: {_breaches(siege, name, a)}"


def test_honest_grades_unchanged(siege):
    for a in ASSIGNMENTS:
        for s in HONEST:
            assert siege["after"][a, s] == siege["before"][a, s], (a, s)
        assert sum(siege["after"][a, "honest"].values()) > sum(siege["after"][a, "honest-partial"].values()) > 0


def test_no_file_outside_the_submission_changed(siege):
    course, token = siege["course"], siege["token"]
    assert siege["hash_after"] == siege["hash_before"], "solutions, release, configuration, honest submissions or grader code changed"
    stray = [p for top in (course, ROOT, Path("/tmp"), Path("/var/tmp")) for p in top.glob(f"*{token}*")]
    assert not stray, f"files created by attacks: {stray}"
    assert not list(course.glob("flood*")) and not (ROOT / "flood").exists()
    students = {s for (_, s) in siege["after"]}
    assert students == set(HONEST) | {f"attack-{n}" for n in ATTACKS}, "the gradebook gained or lost students"


def test_no_network_and_no_process_left(siege):
    assert siege["listener"].hits == [], "an attack connected to the test's TCP listener"
    assert siege["leftovers"] == [], f"processes outlived their grading: {siege['leftovers'][:5]}"


def test_output_kept_for_the_log_is_bounded(siege):
    for a in TARGETS["output-flood"]:
        size = (siege["course"] / "grading_logs" / a / "attack-output-flood.txt").stat().st_size
        assert size < 200_000, f"{a}: the grader kept {size} bytes of a flood"


def test_the_suite_detects_breaches_when_there_is_no_sandbox(tmp_path):
    """Negative control: without the sandbox the harmless attacks do breach, and the checks
    above see it (so they can fail). The verdict stays out of the kernel even then: patching
    numpy still gains nothing."""
    import sys

    course = make_course(tmp_path)
    (course / ".rnngrade_secret").write_text("the instructor's\n")
    listener = Listener()
    a = "mgu"
    submit(course, "honest", a, solved(a))

    def attack_and_grade(*names):
        for name in names:
            code = (ATTACKS[name][1].replace("{FUNCS}", repr(FUNCS[a])).replace("{COURSE}", str(course))
                    .replace("{REFERENCE}", repr(REFERENCE[a]))
                    .replace("{ROOT}", str(ROOT)).replace("{PORT}", str(listener.port)).replace("{TOKEN}", "negative"))
            nb = release(a)
            from nbformat.v4 import new_code_cell
            nb.cells.append(new_code_cell(code))
            submit(course, f"attack-{name}", a, nb)
        students = [arg for n in names for arg in ("--student", f"attack-{n}")]
        proc = subprocess.run([sys.executable, "-m", "rnngrade", "--course", str(course), "autograde", a,
                               "--no-sandbox", "--jobs", "1", "--cell-timeout", "10", *students],
                              cwd=course, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "WARNING: grading WITHOUT the sandbox" in proc.stderr
        return {n: (course / "grading_logs" / a / f"attack-{n}.txt").read_text() for n in names}

    logs = attack_and_grade("read-solutions", "reference-by-path", "network", "patch-numpy", "read-grader")
    listener.close()
    got = scores(course)
    assert sum(got[a, "attack-read-solutions"].values()) == 14, "unsandboxed, reading the solutions works"
    assert "LEAK:solutions" in logs["read-solutions"] and "LEAK:reference" in logs["reference-by-path"]
    assert f"LEAK:secret {course}/.rnngrade_secret" in logs["read-grader"], "unsandboxed, the secret can be read"
    assert sum(got[a, "attack-patch-numpy"].values()) == 0, "patching numpy never gains a point"
    assert listener.hits, "unsandboxed, the network attack reaches the listener"
    logs = attack_and_grade("tamper-gradebook")
    assert "LEAK:gradebook" in logs["tamper-gradebook"]
    assert scores(course)[a, "attack-read-solutions"]["test_mgu_backward"] == 1000, "unsandboxed, the gradebook can be rewritten"


def test_hidden_input_detector_sees_a_repr_of_hidden_inputs():
    import numpy as np
    from rnngrade import specs

    case = next(c for c in specs.get("mgu").parts[0].cases if c.hidden)
    text = repr(case.args)
    shown = set(re.findall(r"\d+\.\d{6,}", text))
    assert shown & _hidden_numbers("mgu"), "a printed hidden input must be detected"
    assert not set(re.findall(r"\d+\.\d{6,}", repr(np.random.default_rng(0).standard_normal(20)))) & _hidden_numbers("mgu")


def test_honest_submissions_score_exactly_as_without_the_sandbox(siege):
    from rnngrade import runner, sandbox, specs

    for a in ASSIGNMENTS:
        spec = specs.get(a)
        for nb in (solved(a), mutate(solved(a), *PARTIAL[a]), release(a)):
            with_box = runner.grade_cells(nb, spec, use_sandbox=True)
            without = runner.grade_cells(nb, spec, use_sandbox=False)
            assert with_box.parts == without.parts, a
