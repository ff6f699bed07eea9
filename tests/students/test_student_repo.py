"""The students' repository (``tools/student_repo.py``, ``make student-repo``).

It holds the course's material and nothing of the instructor's; a fresh clone passes its own
tests; the install its README gives for machines without make (plain ``pip``, run here exactly as
written, offline from the wheels that ``make`` downloads) is light; and in JupyterLab, started as
the README says, a student's first steps work in a real browser (headless Chromium, driven with
Playwright): open assignment 1, write a sigmoid with a realistic mistake, run the cells, and read
what the visible check says.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import student_repo  # noqa: E402  (tools/ is not a package)

pytestmark = pytest.mark.slow      # a students' install, their tests and JupyterLab in a browser

STRICT = os.environ.get("RNN_COURSE_STRICT") == "1"
# Where `make` keeps the students' install as wheels (tools/student_repo.py --download-wheels).
WHEELS = Path(sys.prefix) / "student-wheels"
# The realistic mistake planted in assignment 1's sigmoid: sigma(a) = (1 + tanh(a / 2)) / 2, with
# the halving of a forgotten. It never overflows, so the visible check's own comparison catches it.
MISTAKE = "return 0.5 * (1 + np.tanh(a))"


def _need(what, available):
    if not available:
        if STRICT:
            pytest.fail(f"{what} is missing (RNN_COURSE_STRICT=1: this test may not skip)")
        pytest.skip(f"{what} is missing")


def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def _files(directory):
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(directory).parts}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """The students' repository, written by the command that `make student-repo` runs."""
    _need("git", shutil.which("git") is not None)
    dest = tmp_path_factory.mktemp("students") / "rnn-course"
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "student_repo.py"), str(dest)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest


def _clone(repo, tmp_path_factory):
    dest = tmp_path_factory.mktemp("clone") / "rnn-course"
    subprocess.run(["git", "clone", "--quiet", str(repo), str(dest)], check=True, timeout=120)
    return dest


@pytest.fixture(scope="module")
def clone(repo, tmp_path_factory):
    """A fresh clone, for its own tests."""
    return _clone(repo, tmp_path_factory)


@pytest.fixture(scope="module")
def student_clone(repo, tmp_path_factory):
    """Another fresh clone, which a student installs and works in (while its own tests run in the first)."""
    return _clone(repo, tmp_path_factory)


def test_it_is_a_committed_git_repository_with_the_course_material(repo):
    assert _git(repo, "status", "--porcelain") == ""
    assert set(_git(repo, "ls-files").splitlines()) == _files(repo)
    # Everything of the course's book, assignments, rnnlib and data that git would commit, unchanged.
    course = _git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "--",
                  "book", "assignments", "rnnlib", "data", "_toc.yml", "LICENSE").splitlines()
    assert any(p.startswith("assignments/") for p in course) and any(p.startswith("book/") for p in course)
    for path in course:
        if (ROOT / path).is_file():
            assert (repo / path).read_bytes() == (ROOT / path).read_bytes(), path
    shipped_tests = {p.name for p in (repo / "tests").glob("*.py")}
    assert {"conftest.py", "test_cells.py", "test_bptt.py", "test_notebooks.py", "test_book_builds.py"} <= shipped_tests
    assert not shipped_tests & {"test_grading.py", "test_assignments.py", "test_book.py", "test_visible_checks.py"}
    assert not {"solutions", "rnngrade", "nbgrader_config.py", "benchmarks", "tools"} & {p.name for p in repo.iterdir()}


def test_a_later_release_updates_a_clone_with_one_commit(repo, tmp_path):
    """Given a clone of the students' repository, the generator commits only what changed."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True, timeout=120)
    release = _git(clone, "rev-parse", "HEAD")
    student_repo.build(clone)
    assert _git(clone, "rev-parse", "HEAD") == release                   # nothing changed: no commit
    _git(clone, "rm", "--quiet", "README.md")
    (clone / "stray.txt").write_text("not the course's\n")
    _git(clone, "add", "stray.txt")
    _git(clone, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "--quiet", "-m", "drift")
    student_repo.build(clone)
    assert _git(clone, "rev-list", "--count", "HEAD") == "3\n"
    assert _git(clone, "diff", "--name-status", release.strip(), "HEAD") == ""   # back to the release
    assert _git(clone, "status", "--porcelain") == ""


def test_nothing_of_the_instructors_is_in_it(repo):
    assert student_repo.leaks(repo) == []


def test_the_leak_check_finds_each_kind_of_leak(repo, tmp_path):
    secrets = student_repo.secret_lines()
    # Every assignment has solution lines to look for, so the line check is not vacuous.
    for name in (p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()):
        assert any(where.startswith(f"solutions/{name}/") for where in secrets.values()), name
    line = next(line for line, where in secrets.items() if "gru_bptt" in where and "(solution)" in where)
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, ignore=shutil.ignore_patterns(".git"))
    with open(copy / "README.md", "a") as f:
        f.write(f"\n    {line}\n")
    (copy / "tests" / "test_extra.py").write_text("### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS\n")
    solved = next((ROOT / "solutions" / "mgu").glob("*.ipynb"))
    shutil.copy(solved, copy / "assignments" / "mgu" / "answers.ipynb")
    (copy / "rnnlib" / "extra.py").write_text("from rnngrade.incell import check\n")
    shutil.copy(ROOT / "rnngrade" / "specs" / "cell_bptt.py", copy / "cases.py")
    found = "\n".join(student_repo.leaks(copy))
    assert f"README.md: the line {line!r}" in found
    assert "tests/test_extra.py: the marker 'BEGIN HIDDEN TESTS'" in found
    assert "answers.ipynb: a copy of solutions/mgu/" in found and "answers.ipynb: the marker 'BEGIN SOLUTION'" in found
    assert "rnnlib/extra.py: the word 'rnngrade'" in found
    assert "cases.py: a copy of rnngrade/specs/cell_bptt.py" in found


@pytest.fixture(scope="module")
def own_tests(clone, tmp_path_factory):
    """The clone's own test command (that of its `make test` and CI script), with this environment's
    Python, started in the background: it runs beside the students' install, and the last test
    waits for it. PYTHONPATH puts the clone's rnnlib first, for the tests and the notebooks'
    kernels alike. One BLAS thread: beside the install, numpy's threads would wait on each other
    (rnnlib's training tests took 203 s instead of 18 s so on two busy cores).
    Yields the process and its directory (log.txt, report.xml)."""
    out = tmp_path_factory.mktemp("own-tests")
    env = dict(os.environ, PYTHONPATH=str(clone), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with open(out / "log.txt", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--basetemp={out / 'tmp'}",
                                 f"--junitxml={out / 'report.xml'}"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield proc, out
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _readme_commands(readme):
    """The commands of the README's first ``bash`` block under the heading "Without make"."""
    section = readme.split("### Without make", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def student_env(student_clone, own_tests, tmp_path_factory):
    """The student's clone installed by its README's commands for machines without make, run as written.

    pip works offline from ``WHEELS`` (``PIP_NO_INDEX``, ``PIP_FIND_LINKS``; the machine's pip
    configuration is ignored), so that the test needs no network and installs exactly the students'
    requirements. ``python3`` is the Python this environment was made from; nothing of this
    environment is on the path. (``own_tests`` is only started first, to run beside the install.)
    Returns the environment, the command that starts JupyterLab, and the seconds the install took.
    """
    _need(f"the students' install as wheels in {WHEELS} (`python tools/student_repo.py --download-wheels "
          f"{WHEELS}`; make does it)", WHEELS.is_dir())
    *install, lab = _readme_commands((student_clone / "README.md").read_text())
    assert lab.startswith("jupyter lab") and any(c.startswith("pip install") for c in install), install + [lab]
    home = tmp_path_factory.mktemp("home")
    path = [str(Path(sys.base_prefix) / "bin")] + [p for p in os.environ["PATH"].split(os.pathsep)
                                                   if not p.startswith(sys.prefix)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "PIP_"))}
    env.update(PATH=os.pathsep.join(path), HOME=str(home), PIP_NO_INDEX="1", PIP_FIND_LINKS=str(WHEELS),
               PIP_CONFIG_FILE=os.devnull, PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    t0 = time.perf_counter()
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(install)], cwd=student_clone, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return env, lab, time.perf_counter() - t0


def test_the_students_install_is_light(student_clone, student_env, grading_report):
    env, _, seconds = student_env
    python = student_clone / ".venv" / "bin" / "python"
    names = subprocess.run([str(python), "-c", "import importlib.metadata as m; "
                            "print('\\n'.join(sorted(d.metadata['Name'].lower() for d in m.distributions())))"],
                           env=env, capture_output=True, text=True, check=True).stdout.split()
    assert {"rnnlib", "numpy", "matplotlib", "jupyterlab", "ipykernel"} <= set(names)
    assert not {"torch", "nbgrader", "jupyter-book", "pytest", "nbval"} & set(names)
    where = subprocess.run([str(python), "-c", "import rnnlib; print(rnnlib.__file__)"], env=env, cwd=env["HOME"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(student_clone), where
    size = sum(p.stat().st_size for p in (student_clone / ".venv").rglob("*") if p.is_file() and not p.is_symlink())
    grading_report.append(f"students' install (pip install -e '.[student]'): {len(names)} packages, "
                          f"{size / 2**20:.0f} MiB, {seconds:.0f} s from local wheels")


@pytest.fixture
def lab(student_clone, student_env, tmp_path):
    """JupyterLab, started with the README's command in the students' environment; its base URL and token."""
    env, command, _ = student_env
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = os.urandom(16).hex()
    flags = (f"--no-browser --port={port} --IdentityProvider.token={token} --ServerApp.allow_root=True "
             "--LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        server = subprocess.Popen(["bash", "-c", f"source .venv/bin/activate && exec {command} {flags}"],
                                  cwd=student_clone, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, f"JupyterLab exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"JupyterLab did not answer in 120 s:\n{log.read_text()[-3000:]}"
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError:
                time.sleep(0.5)
        yield base, token, log
    finally:
        os.killpg(server.pid, signal.SIGTERM)          # the server and the kernels it started
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _kernels(base, token):
    """The server's kernels and what each is doing (``idle``, ``busy``, ``starting`` ...)."""
    with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=10) as answer:
        return [(k["name"], k["execution_state"]) for k in json.load(answer)]


def _wait_for_idle_kernel(base, token, seconds):
    deadline = time.monotonic() + seconds
    while not (kernels := _kernels(base, token)) or any(state != "idle" for _, state in kernels):
        assert time.monotonic() < deadline, f"no idle kernel after {seconds} s: {kernels}"
        time.sleep(0.5)


def test_a_student_runs_assignment_1_in_jupyterlab(student_clone, lab, chromium_browser, tmp_path):
    base, token, log = lab
    nb = nbformat.read(student_clone / "assignments" / "forward_and_scan" / "forward_and_scan.ipynb", as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}
    stub = "# YOUR CODE HERE\n    raise NotImplementedError()"
    assert stub in cells["sigmoid"], cells["sigmoid"]
    planted = cells["sigmoid"].replace(stub, MISTAKE)
    # What the visible check says about this mistake, computed here from the notebook's own cells.
    namespace = {}
    exec(cells["imports"], namespace)
    exec(planted, namespace)
    with pytest.raises(AssertionError) as caught:
        exec(cells["test_sigmoid"], namespace)
    expected = str(caught.value)
    assert expected.startswith("sigmoid(a): ") and "values are wrong" in expected, expected

    page = chromium_browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        # The README: `jupyter lab assignments/` shows assignments/, so assignment 1 is at its top.
        page.goto(f"{base}/lab/tree/forward_and_scan/forward_and_scan.ipynb?token={token}")
        cell = page.locator(".jp-CodeCell", has_text="def sigmoid(a):").first
        cell.wait_for(timeout=120_000)
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        tabs = page.locator(".lm-TabBar-tab").evaluate_all("tabs => tabs.map(t => t.title)")
        assert "Run" in menus and "Nbgrader" not in menus, menus          # nbgrader's instructor tools
        assert not [t for t in tabs if "Create Assignment" in t or "Formgrader" in t], tabs
        editor = cell.locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(planted)                                   # as pasted: no auto-indent
        assert editor.inner_text() == planted
        # Beside the clone's own tests both cores are busy: the kernel may take a while to start,
        # and Run All waits for it. The bounds are generous; a pass takes about ten seconds.
        _wait_for_idle_kernel(base, token, seconds=240)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        error = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
                             has_text="AssertionError").first
        error.wait_for(timeout=240_000)
        shown = " ".join(error.inner_text().split())
        assert f"AssertionError: {' '.join(expected.split())}" in shown, shown
        assert f"File {student_clone}/rnnlib/grading.py" in shown, shown          # the clone's rnnlib, in the students' kernel
    except Exception:
        page.screenshot(path=tmp_path / "jupyterlab.png")
        prompts = page.locator(".jp-InputPrompt").all_inner_texts()
        print(f"screenshot: {tmp_path / 'jupyterlab.png'}\nkernels: {_kernels(base, token)}\n"
              f"input prompts: {prompts}\nJupyterLab's log:\n{log.read_text()[-3000:]}")
        raise
    finally:
        page.close()


def test_a_fresh_clone_passes_its_own_tests(clone, own_tests):
    """rnnlib's tests, every assignment up to its first exercise, the book build: all ran and passed."""
    proc, out = own_tests
    proc.wait(timeout=900)
    assert proc.returncode == 0, (out / "log.txt").read_text()[-5000:]
    report = (out / "report.xml").read_text()
    ran = set(re.findall(r'classname="tests\.(\w+)"', report))
    assert ran == {p.stem for p in (clone / "tests").glob("test_*.py")}, ran
    notebooks = re.findall(r'name="test_runs_up_to_its_first_exercise\[(\w+)\]"', report)
    assert sorted(notebooks) == sorted(p.stem for p in (clone / "assignments").glob("*/*.ipynb"))
