"""Grade one submitted notebook: run its code in a separate process, judge the results here.

``grade_notebook(path, assignment)`` reads the notebook (as data, with ``rnngrade.notebook``: it
is never executed in this process), picks the code cells to run, starts the harness (``rnngrade.harness``) in a sandbox
(``rnngrade.sandbox``), sends it the cells and then the test cases of every graded part one at
a time, and judges each reply in this process with ``rnngrade.judge`` against the reference
computed by ``rnngrade.specs``. A crash or a hang costs the case it happened in (and the rest
of that part); the grader starts a fresh process for the remaining parts, a bounded number of
times. Nothing the submission does can raise an exception here: every failure becomes a
message and zero points for the parts concerned.
"""

import dataclasses
import json
import os
import pathlib
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from . import judge, restricted, sandbox, specs, wire
from .notebook import NotebookError, cell_source, nbgrader_meta, problems, read_notebook

HERE = pathlib.Path(__file__).parent

#: Bytes of results the grader reads from the process before it takes the process for broken.
MAX_REPLY_BYTES = 64 << 20
#: Seconds the grader waits for a cell's or a call's report beyond its time limit: the harness
#: stops the student's code at the limit itself and then reports, which takes a moment on a
#: loaded machine. A process silent past the margin is taken for crashed or hung.
REPORT_MARGIN = 5.0
#: Seconds a process gets to exit by itself after the last case, before it is killed.
EXIT_GRACE = 2.0
#: Seconds the grader waits for the thread that reads the process's output, after the kill.
DRAIN_TIMEOUT = 5.0
#: Characters of a cell's exception message kept in the notes.
NOTE_CHARS = 300


@dataclasses.dataclass
class PartResult:
    grade_id: str
    score: float
    max_score: float
    messages: list          # one line per failing case (empty when the part passed)
    hints: list = dataclasses.field(default_factory=list)   # the failing cases' hints, each once

    @property
    def passed(self):
        return self.score == self.max_score


@dataclasses.dataclass
class NotebookResult:
    parts: dict                          # grade_id -> PartResult
    log: list                            # what happened, for the instructor's log and feedback
    seconds: float = 0.0
    error: str = ""                      # set when the notebook could not be graded at all
    output: str = ""                     # the start of what the code printed (instructor's log only)

    @property
    def score(self):
        return sum(p.score for p in self.parts.values())


def code_cells(nb, assignment):
    """The cells to run: every code cell except autograder test cells and skipped provided cells.
    A cell whose nbgrader metadata is malformed runs as an ordinary cell."""
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = nbgrader_meta(cell)
        if meta.get("grade") and not meta.get("solution"):
            continue  # a test cell: the grader runs its own tests
        if meta.get("grade_id") in assignment.skip_cells:
            continue  # provided timing / training cells: not graded, only slow
        cells.append({"index": i, "source": cell_source(cell)})
    return cells


class _Child:
    """One harness process and its pipes."""

    def __init__(self, jobdir, limits, use_sandbox, slot, notebook=None, filename="submission.ipynb"):
        self.limits = limits
        r, w = os.pipe()
        env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "IPYTHONDIR": "/tmp/.ipython",
               "MPLCONFIGDIR": "/tmp/.matplotlib", "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
        self.scratch = None
        if not use_sandbox:
            self.scratch = tempfile.mkdtemp(prefix="grading-scratch-")
            env.update(HOME=self.scratch, IPYTHONDIR=f"{self.scratch}/.ipython",
                       MPLCONFIGDIR=f"{self.scratch}/.matplotlib", TMPDIR=self.scratch)
        # the scratch copy of the submission: the only file of it the code can see and change
        copy = tempfile.TemporaryFile()
        copy.write(json.dumps(notebook if notebook is not None else {}).encode())
        copy.flush()
        copy.seek(0)
        if self.scratch:
            with open(os.path.join(self.scratch, filename), "wb") as f:
                shutil.copyfileobj(copy, f)
            copy.seek(0)
        fds = (w,) if self.scratch else (w, copy.fileno())
        argv = sandbox.command(jobdir, w, env, limits, slot=slot, sandbox=use_sandbox,
                               submission=None if self.scratch else (copy.fileno(), filename))
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=fds, env=env, cwd=self.scratch or "/", start_new_session=True,
            preexec_fn=sandbox.preexec(limits, use_sandbox))
        os.close(w)
        copy.close()
        self.results = r
        os.set_blocking(r, False)
        self.cell_reports = []   # the harness's reports of the cells, as they arrive
        self.buffer = b""
        self.output = bytearray()
        self.drain = threading.Thread(target=self._drain, daemon=True)
        self.drain.start()

    def _drain(self):
        cap = self.limits.output
        while True:
            chunk = self.proc.stdout.read1(65536) if hasattr(self.proc.stdout, "read1") else self.proc.stdout.read(65536)
            if not chunk:
                return
            if len(self.output) < cap:
                self.output += chunk[: cap - len(self.output)]

    def send(self, msg):
        try:
            self.proc.stdin.write((wire.dumps(msg) + "\n").encode())
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def receive(self, want, deadline):
        """The next message with one of the keys ``want`` (anything else is skipped); None on
        timeout, end of stream or a reply too large."""
        sel = selectors.DefaultSelector()
        sel.register(self.results, selectors.EVENT_READ)
        try:
            while True:
                while b"\n" in self.buffer:
                    line, self.buffer = self.buffer.split(b"\n", 1)
                    try:
                        msg = json.loads(line)
                    except (ValueError, RecursionError):
                        continue  # not the harness's: ignore
                    if isinstance(msg, dict) and "cell" in msg and "cell" in want:
                        self.cell_reports.append(msg)
                    if isinstance(msg, dict) and any(k in msg for k in want):
                        return msg
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(timeout=left):
                    return None
                try:
                    chunk = os.read(self.results, 1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    return None
                self.buffer += chunk
                if len(self.buffer) > MAX_REPLY_BYTES:
                    return None
        finally:
            sel.close()

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        self.proc.wait()
        for f in (self.proc.stdin,):
            try:
                f.close()
            except OSError:
                pass
        self.drain.join(timeout=DRAIN_TIMEOUT)
        os.close(self.results)
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _describe_cells(reports, nb_cells):
    lines = []
    for rep in reports:
        if rep.get("status") in ("error", "timeout"):
            idx = rep.get("cell")
            where = f"cell {idx + 1}" if isinstance(idx, int) else "a cell"
            known = isinstance(idx, int) and 0 <= idx < len(nb_cells)
            gid = nbgrader_meta(nb_cells[idx]).get("grade_id", "") if known else ""
            what = "ran out of time" if rep["status"] == "timeout" else f"raised {str(rep.get('message'))[:NOTE_CHARS]}"
            lines.append(f"{where}{f' ({gid})' if gid else ''} {what}")
    return lines


_BUILD_LOCK = threading.Lock()


def prepare_jobdir(assignment, dest=None):
    """A directory with the harness and the grading copy of rnnlib, readable by the sandbox's
    user; mounted read-only at /grading. One can serve every submission of an assignment."""
    with _BUILD_LOCK:  # ast.parse is not safe in concurrent threads on CPython 3.11
        jobdir = dest or tempfile.mkdtemp(prefix="grading-job-")
        shutil.copy(HERE / "harness.py", jobdir)
        shutil.copy(HERE / "wire.py", jobdir)
        restricted.build(jobdir, keep=assignment.keep_in_rnnlib, stub=assignment.stub_in_rnnlib)
        for root, dirs, files in os.walk(jobdir):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
    return jobdir


@dataclasses.dataclass
class _Grading:
    """One notebook's grading in progress, carried from one harness process to the next."""

    cells: list                     # the code cells to run (a cell that stops the process is dropped)
    pending: list                   # (part, case index, case) not judged yet, in the spec's order
    deadline: float                 # time.monotonic() by which the whole notebook must be graded
    log: list                       # notes for the instructor's log and the feedback
    outcomes: dict = dataclasses.field(default_factory=dict)   # (grade id, case index) -> (ok, message)
    failed_parts: set = dataclasses.field(default_factory=set)  # parts whose process crashed or hung
    output: str = ""                # the start of what the code printed

    def fail_pending(self, message):
        """Every case not judged yet fails with ``message``."""
        for part, i, _ in self.pending:
            self.outcomes[part.grade_id, i] = (False, message)
        self.pending = []

    def keep_output(self, child, limit):
        """Add what ``child`` printed, up to ``limit`` characters in all."""
        if len(self.output) < limit:
            self.output += bytes(child.output).decode("utf-8", errors="replace")[: limit - len(self.output)]


def grade_cells(nb, assignment, limits=None, use_sandbox=True, slot=0, workdir=None, filename="submission.ipynb"):
    """Grade a notebook held as data: run its code, call every graded part's cases, score the parts.

    The steps, in a harness process of their own (``rnngrade.harness``, in the sandbox unless
    ``use_sandbox`` is false; ``workdir`` is a job directory from ``prepare_jobdir``, made and
    removed here if None):

    1. ``run_cells``: the process runs the code cells that ``code_cells`` picks, in order, each
       under ``limits.cell_timeout``. A cell that raises is noted and the rest run on. A cell that
       stops the process (an exit, a crash, a hang past its limit) is dropped and the notebook
       runs again in a fresh process without it.
    2. ``run_cases``: the same process calls the student's function on every case of every part,
       in the spec's order, each call under ``limits.case_timeout``; each reply is decoded and
       judged in this process (``judge.judge``). A call that crashes or hangs the process fails its
       case and the rest of its part; a fresh process (step 1 again) takes the other parts.
    3. ``score``: a part earns its points when every one of its cases passed, else none.

    Bounds: at most ``1 + limits.restarts`` processes, ``limits.notebook_timeout`` seconds in all;
    a case not run by then fails, saying why. ``filename`` is the name the submission's scratch
    copy has in the process. Nothing the submission does makes this raise. Returns a
    NotebookResult: the parts by grade id, the notes (the first process's cell errors, dropped
    cells, restarts), the time taken and the start of the output.
    """
    limits = limits or sandbox.Limits()
    start = time.monotonic()
    grading = _Grading(cells=code_cells(nb, assignment), deadline=start + limits.notebook_timeout, log=problems(nb),
                       pending=[(part, i, case) for part in assignment.parts for i, case in enumerate(part.cases)])
    owned = workdir is None
    jobdir = workdir or prepare_jobdir(assignment)
    try:
        for attempt in range(1 + limits.restarts):
            if not grading.pending:
                break
            child = _Child(jobdir, limits, use_sandbox, slot, nb, filename)
            try:
                ready = run_cells(child, grading.cells, limits, grading.deadline)
                if attempt == 0:
                    grading.log += _describe_cells(child.cell_reports, nb["cells"])
                if not ready:
                    if _drop_culprit(grading, child.cell_reports, retry=attempt < limits.restarts):
                        continue
                    why = "ran out of time" if time.monotonic() >= grading.deadline else "stopped before its cells finished"
                    grading.log.append(f"the process running the notebook {why}")
                    grading.fail_pending("not run: the notebook's code did not finish (see the notes at the top)")
                    break
                run_cases(child, grading, limits)
            finally:
                child.kill()
                grading.keep_output(child, limits.output)
            if grading.pending and time.monotonic() >= grading.deadline:
                grading.log.append(f"the notebook ran out of time ({limits.notebook_timeout:.0f} s in all)")
                grading.fail_pending("not run: out of time")
        grading.fail_pending("not run: your code's process crashed or hung too often")
    finally:
        if owned:
            shutil.rmtree(jobdir, ignore_errors=True)
    return NotebookResult(score(assignment, grading.outcomes), grading.log, time.monotonic() - start,
                          output=grading.output)


def run_cells(child, cells, limits, deadline):
    """Step 1: send the code ``cells`` to the harness in ``child`` and wait until it is ready for
    the cases. The harness reports each cell as it ends, so each cell gets its own time limit plus
    REPORT_MARGIN, and none gets past ``deadline``. Returns whether the process became ready; the
    cells' reports are in ``child.cell_reports``."""
    if not child.send({"cells": cells, "cell_timeout": limits.cell_timeout}):
        return False
    while True:
        msg = child.receive(("ready", "cell"), min(deadline, time.monotonic() + limits.cell_timeout + REPORT_MARGIN))
        if msg is None or "ready" in msg:
            return msg is not None


def _drop_culprit(grading, reports, retry):
    """After a process stopped while running the cells: drop the first cell that did not report
    (it killed or hung the process) so that the notebook runs again without it. Only when there
    is such a cell, time is left and ``retry`` allows another process; returns whether it did."""
    done = {r.get("cell") for r in reports}
    culprit = next((c for c in grading.cells if c["index"] not in done), None)
    if culprit is None or time.monotonic() >= grading.deadline or not retry:
        return False
    grading.log.append(f"cell {culprit['index'] + 1} stopped the process running the notebook "
                       f"(exit, crash or a hang that ignored the time limit); graded without it")
    grading.cells = [c for c in grading.cells if c is not culprit]
    return True


def run_cases(child, grading, limits):
    """Step 2: call the student's function on each pending case in ``child`` and judge the reply.

    Cases are taken in order from ``grading.pending`` and their verdicts put in
    ``grading.outcomes``. A part whose call crashed the process or ran out of time loses its
    remaining cases unrun. Returns when every case is judged (after telling the harness it is
    done and giving it EXIT_GRACE to exit), at the deadline, or as soon as the process stops
    answering (then noted; the caller starts a fresh process for what is left).
    """
    while grading.pending:
        part, i, case = grading.pending[0]
        if part.grade_id in grading.failed_parts:
            grading.outcomes[part.grade_id, i] = (False, "not run (an earlier case of this part ran out of time or crashed)")
            grading.pending.pop(0)
            continue
        if time.monotonic() >= grading.deadline:
            return
        reply = call_case(child, f"{part.grade_id}/{i}", part.function, case, limits, grading.deadline)
        grading.pending.pop(0)
        grading.outcomes[part.grade_id, i] = judge.judge(case, reply, part.function)
        if reply is None or reply.get("status") == "timeout":
            grading.failed_parts.add(part.grade_id)
        if reply is None:
            grading.log.append(f"{part.function}: the process stopped during a test case "
                               f"(crash, endless loop or limit); restarted for the remaining parts")
            return
    if child.send({"done": True}):
        try:
            child.proc.wait(timeout=EXIT_GRACE)
        except subprocess.TimeoutExpired:
            pass


def call_case(child, case_id, function, case, limits, deadline):
    """One call of the student's ``function`` on ``case`` in ``child``: the reply (a dict; with
    ``decoded``, the value as the grader's own data, when its status is "ok"; status "bad" when
    the value cannot be decoded), or None if no reply with this ``case_id`` came within the
    call's time limit plus REPORT_MARGIN (and before ``deadline``)."""
    msg = {"id": case_id, "function": function, "args": wire.encode(case.args), "timeout": limits.case_timeout,
           "oracles": {k: {kk: wire.encode(vv) for kk, vv in v.items()} for k, v in case.oracles.items()}}
    if not child.send(msg):
        return None
    got = child.receive(("result",), min(deadline, time.monotonic() + limits.case_timeout + REPORT_MARGIN))
    reply = got["result"] if got and isinstance(got.get("result"), dict) else None
    if reply is None or reply.get("id") != case_id:
        return None
    if reply.get("status") == "ok":
        try:
            reply["decoded"] = wire.decode(reply.get("value"))
        except (wire.WireError, ValueError, TypeError, RecursionError) as exc:
            reply = {"status": "bad", "message": str(exc)}
    return reply


def score(assignment, outcomes):
    """Step 3: {grade id: PartResult} from the cases' ``outcomes`` ({(grade id, case index): (ok,
    message)}). A part earns its points when every one of its cases passed; a case without an
    outcome counts as not run."""
    parts = {}
    for part in assignment.parts:
        msgs, hints = [], []
        for i, case in enumerate(part.cases):
            outcome = outcomes.get((part.grade_id, i), (False, "not run"))
            if not outcome[0]:
                # an Outcome's hints are listed once for the part, not under every case
                msgs.append(f"{case.label}: {getattr(outcome, 'problems', outcome[1])}")
                hints += [h for h in getattr(outcome, "notes", []) if h not in hints]
        parts[part.grade_id] = PartResult(part.grade_id, 0.0 if msgs else float(part.points), float(part.points),
                                          msgs, hints)
    return parts


def grade_notebook(path, assignment, limits=None, use_sandbox=True, slot=0, workdir=None):
    """Grade the notebook file at ``path``; never raises for a bad submission."""
    if isinstance(assignment, str):
        assignment = specs.get(assignment)
    start = time.monotonic()
    try:
        nb = read_notebook(path)
    except NotebookError as exc:
        parts = {p.grade_id: PartResult(p.grade_id, 0.0, float(p.points), [f"not graded: {exc}"])
                 for p in assignment.parts}
        return NotebookResult(parts, [str(exc)], time.monotonic() - start, error=str(exc))
    return grade_cells(nb, assignment, limits, use_sandbox, slot, workdir, pathlib.Path(path).name)
