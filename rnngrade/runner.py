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

MAX_REPLY_BYTES = 64 << 20
HERE = pathlib.Path(__file__).parent


@dataclasses.dataclass
class PartResult:
    grade_id: str
    score: float
    max_score: float
    messages: list          # one line per failing case (empty when the part passed)

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

    cell_reports = None

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
        self.drain.join(timeout=5)
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
            what = "ran out of time" if rep["status"] == "timeout" else f"raised {str(rep.get('message'))[:300]}"
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
        restricted.build(jobdir, keep=assignment.keep_in_rnnlib)
        for root, dirs, files in os.walk(jobdir):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
    return jobdir


def grade_cells(nb, assignment, limits=None, use_sandbox=True, slot=0, workdir=None, filename="submission.ipynb"):
    """Run the notebook's cells and every graded part's cases; return a NotebookResult."""
    limits = limits or sandbox.Limits()
    start = time.monotonic()
    deadline_all = start + limits.notebook_timeout
    cells = code_cells(nb, assignment)
    log = problems(nb)
    owned = workdir is None
    jobdir = workdir or prepare_jobdir(assignment)

    outcomes = {}   # (grade_id, case index) -> (ok, message)
    pending = [(part, i, case) for part in assignment.parts for i, case in enumerate(part.cases)]
    failed_parts = set()
    starts = 0
    output = ""
    try:
        while pending:
            if starts > limits.restarts:
                for part, i, case in pending:
                    outcomes[part.grade_id, i] = (False, "not run: your code's process crashed or hung too often")
                break
            starts += 1
            child = _Child(jobdir, limits, use_sandbox, slot, nb, filename)
            child.cell_reports = []
            try:
                ready = None
                if child.send({"cells": cells, "cell_timeout": limits.cell_timeout}):
                    # each cell reports when it ends: a cell gets its time limit plus a margin
                    while True:
                        msg = child.receive(("ready", "cell"), min(deadline_all, time.monotonic()
                                                                   + limits.cell_timeout + 5))
                        if msg is None or "ready" in msg:
                            ready = msg
                            break
                if starts == 1:
                    log += _describe_cells(child.cell_reports, nb["cells"])
                if not ready:
                    done = {r.get("cell") for r in child.cell_reports}
                    culprit = next((c for c in cells if c["index"] not in done), None)
                    if culprit is not None and time.monotonic() < deadline_all and starts <= limits.restarts:
                        # that cell killed or hung the process: run the notebook again without it
                        log.append(f"cell {culprit['index'] + 1} stopped the process running the notebook "
                                   f"(exit, crash or a hang that ignored the time limit); graded without it")
                        cells = [c for c in cells if c is not culprit]
                        continue
                    why = "ran out of time" if time.monotonic() >= deadline_all else "stopped before its cells finished"
                    log.append(f"the process running the notebook {why}")
                    for part, i, case in pending:
                        outcomes[part.grade_id, i] = (False, "not run: the notebook's code did not finish "
                                                      "(see the notes at the top)")
                    pending = []
                    break
                while pending:
                    part, i, case = pending[0]
                    if part.grade_id in failed_parts:
                        outcomes[part.grade_id, i] = (False, "not run (an earlier case of this part ran out of time or crashed)")
                        pending.pop(0)
                        continue
                    if time.monotonic() >= deadline_all:
                        break
                    msg = {"id": f"{part.grade_id}/{i}", "function": part.function,
                           "args": wire.encode(case.args), "timeout": limits.case_timeout,
                           "oracles": {k: {kk: wire.encode(vv) for kk, vv in v.items()}
                                       for k, v in case.oracles.items()}}
                    reply = None
                    if child.send(msg):
                        got = child.receive(("result",), min(deadline_all, time.monotonic() + limits.case_timeout + 5))
                        reply = got["result"] if got and isinstance(got.get("result"), dict) else None
                    if reply is not None and reply.get("id") != msg["id"]:
                        reply = None
                    pending.pop(0)
                    if reply is not None and reply.get("status") == "ok":
                        try:
                            reply["decoded"] = wire.decode(reply.get("value"))
                        except (wire.WireError, ValueError, TypeError, RecursionError) as exc:
                            reply = {"status": "bad", "message": str(exc)}
                    outcomes[part.grade_id, i] = judge.judge(case, reply, part.function)
                    if reply is None or reply.get("status") == "timeout":
                        failed_parts.add(part.grade_id)
                    if reply is None:  # crashed or hung: a fresh process for what remains
                        log.append(f"{part.function}: the process stopped during a test case "
                                   f"(crash, endless loop or limit); restarted for the remaining parts")
                        break
                else:
                    if child.send({"done": True}):
                        try:
                            child.proc.wait(timeout=2)
                        except subprocess.TimeoutExpired:
                            pass
            finally:
                child.kill()
                if len(output) < limits.output:
                    output += bytes(child.output).decode("utf-8", errors="replace")[: limits.output - len(output)]
            if time.monotonic() >= deadline_all and pending:
                log.append(f"the notebook ran out of time ({limits.notebook_timeout:.0f} s in all)")
                for part, i, case in pending:
                    outcomes[part.grade_id, i] = (False, "not run: out of time")
                pending = []
    finally:
        if owned:
            shutil.rmtree(jobdir, ignore_errors=True)

    parts = {}
    for part in assignment.parts:
        msgs = []
        for i, case in enumerate(part.cases):
            ok, message = outcomes.get((part.grade_id, i), (False, "not run"))
            if not ok:
                msgs.append(f"{case.label}: {message}")
        parts[part.grade_id] = PartResult(part.grade_id, 0.0 if msgs else float(part.points), float(part.points), msgs)
    return NotebookResult(parts, log, time.monotonic() - start, output=output)


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
