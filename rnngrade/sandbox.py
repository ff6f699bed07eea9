"""Starting the harness: inside a bubblewrap sandbox, or (explicitly asked for) without one.

Inside the sandbox (Linux, Debian package ``bubblewrap``), the submission's process sees:

- read-only: ``/usr`` (and the ``/lib``, ``/bin`` links), the Python installation and the
  virtual environment, and ``/grading`` (the harness and the grading copy of rnnlib; see
  ``rnngrade.restricted``);
- writable: only ``/tmp``, an in-memory file system of limited size that is its scratch space
  (holding a copy of the submitted notebook) and disappears with it;
- nothing else: not the course directory (gradebook, ``solutions/``, the release, the
  configuration, other submissions, the grader's specs), no network (own network namespace),
  no other process (own PID namespace), no environment variables but a few set here.

When the grader runs as root, the process also drops to an unprivileged user id of its own
(``setpriv``), so that the limit on the number of processes applies to it. Limits (``Limits``)
are set with ``setrlimit`` on the sandbox's process: address space (memory), processes, CPU
time, file size, core dumps; the grader adds wall-clock limits per cell, per case and per
notebook, and caps the output it keeps.

Without bubblewrap there is no isolation at all: the student's code runs with the grader's
rights. The grader refuses to do that unless told ``--no-sandbox`` and then warns loudly.
"""

import dataclasses
import os
import resource
import shutil
import sys

SANDBOX_UID = 61000  # + worker slot: an unused user id for the sandboxed process (as root)


@dataclasses.dataclass
class Limits:
    """Resource limits for one submission's process."""

    cell_timeout: float = 60.0          # seconds per code cell of the notebook
    case_timeout: float = 10.0          # seconds per call of a graded function
    notebook_timeout: float = 600.0     # seconds for the whole submission
    memory: int = 2 << 30               # bytes of address space
    processes: int = 64                 # processes and threads (as root: of the sandbox's own uid)
    file_size: int = 64 << 20           # bytes per file written
    scratch: int = 128 << 20            # bytes of the /tmp file system in the sandbox
    output: int = 64 << 10              # bytes of stdout/stderr kept for the log (the rest is discarded)
    restarts: int = 2                   # fresh processes after a crash or a hang, before giving up


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or does not work here."""


def bwrap_path():
    return shutil.which("bwrap")


def check_available():
    """Raise ``SandboxUnavailable`` with the reason, unless a sandboxed ``true`` runs."""
    import subprocess

    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed; on Debian/Ubuntu: "
                                 "sudo apt-get install bubblewrap")
    proc = subprocess.run([bwrap, *_base_args(), "/usr/bin/true"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SandboxUnavailable(f"bubblewrap does not work here: {proc.stderr.strip()[:300]}")


def _base_args():
    args = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--clearenv",
            "--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    if os.geteuid() != 0:
        args += ["--unshare-user"]
    return args + ["--proc", "/proc", "--dev", "/dev"]


def _python_roots():
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    return sorted(r for r in roots if not r.startswith("/usr"))


def command(jobdir, results_fd, env, limits, slot=0, sandbox=True, submission=None):
    """The argv that runs the harness in ``jobdir`` (with or without the sandbox).

    ``submission``: ``(fd, name)`` of an open copy of the submitted notebook, which bubblewrap
    writes to ``/tmp/<name>`` (the sandbox's scratch space) before the harness starts.
    """
    python = [sys.executable, "-s", "-B"]
    if not sandbox:
        return python + [os.path.join(jobdir, "harness.py"), str(results_fd)]
    # /tmp first: the Python installation or the environment may live below it (a clone in /tmp)
    args = [bwrap_path(), *_base_args(), "--perms", "1777", "--size", str(limits.scratch), "--tmpfs", "/tmp"]
    made = {"/tmp"}
    for root in _python_roots():
        # parents created by bwrap are private (0700) unless told; the process runs as another uid
        parts = root.strip("/").split("/")[:-1]
        for k in range(1, len(parts) + 1):
            parent = "/" + "/".join(parts[:k])
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", parent]
        args += ["--ro-bind", root, root]
    args += ["--ro-bind", jobdir, "/grading", "--chdir", "/tmp"]
    if submission is not None:
        args += ["--perms", "0666", "--file", str(submission[0]), f"/tmp/{submission[1]}"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    if os.geteuid() == 0:
        uid = str(SANDBOX_UID + slot)
        args += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]
    return args + python + ["/grading/harness.py", str(results_fd)]


def _count_processes(uid):
    n = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                n += os.stat(f"/proc/{pid}").st_uid == uid
            except OSError:
                pass
    return n


def preexec(limits, sandbox=True):
    """A function for ``subprocess.Popen(preexec_fn=...)`` that sets the resource limits."""
    # Without the uid switch the process limit counts all of this user's processes.
    nproc = limits.processes if (sandbox and os.geteuid() == 0) else \
        _count_processes(os.geteuid()) + limits.processes
    cpu = int(limits.notebook_timeout) + 5

    def apply():
        for res, value in ((resource.RLIMIT_AS, limits.memory), (resource.RLIMIT_NPROC, nproc),
                           (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, limits.file_size),
                           (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(res, (value, value))
    return apply
