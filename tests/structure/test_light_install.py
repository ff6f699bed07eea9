"""The command line's light install, as the README gives it: ``pip install .`` (not editable) in a
fresh virtual environment, then ``python -m rnnlib.charlm`` run from elsewhere on a text of one's
own. It brings rnnlib's four requirements and what they need, nothing of the course's tools, and
carries the shipped texts and models inside the package.

pip works offline from the wheels that ``make`` keeps for the students' install (they hold these
requirements too), with the machine's pip configuration ignored.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WHEELS = Path(sys.prefix) / "student-wheels"
STRICT = os.environ.get("RNN_COURSE_STRICT") == "1"
# What the course's other extras bring and the light install must not.
HEAVY = {"torch", "jupyterlab", "ipykernel", "notebook", "nbgrader", "jupyter-book", "pytest", "nbval", "playwright"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def light(tmp_path_factory):
    if not WHEELS.is_dir():
        if STRICT:
            pytest.fail(f"the wheels in {WHEELS} are missing (make keeps them; RNN_COURSE_STRICT=1: no skipping)")
        pytest.skip(f"the wheels in {WHEELS} are missing (make keeps them)")
    base = tmp_path_factory.mktemp("light")
    source = base / "rnn-course"
    source.mkdir()
    for name in ("rnnlib", "rnngrade", "data"):        # what pyproject.toml packages, without the build caches
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_"))}
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(WHEELS), PIP_CONFIG_FILE=os.devnull, PIP_NO_CACHE_DIR="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    venv = base / "env"
    subprocess.run([str(Path(sys.base_prefix) / "bin" / "python3"), "-m", "venv", str(venv)], check=True, env=env)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "."], cwd=source, env=env,
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    shutil.rmtree(source)                             # the installed package must stand alone
    work = base / "work"
    work.mkdir()
    return venv / "bin" / "python", work, env


def _python(light, code):
    python, work, env = light
    return subprocess.run([str(python), "-c", code], cwd=work, env=env, capture_output=True, text=True, check=True).stdout


def test_it_brings_rnnlibs_requirements_and_nothing_of_the_courses_tools(light):
    names = set(_python(light, "import importlib.metadata as m; print('\\n'.join(d.metadata['Name'].lower() "
                                "for d in m.distributions()))").split())
    assert not HEAVY & names, HEAVY & names
    required = _python(light, "import importlib.metadata as m; print('\\n'.join(r for r in m.requires('rnnlib') "
                              "if 'extra ==' not in r))").split("\n")
    assert sorted(r.split(">")[0].split("=")[0].strip() for r in required if r) == \
        ["matplotlib", "numpy", "threadpoolctl", "tqdm"]
    where = _python(light, "import rnnlib.text as t; print(t.DATA_DIR); print(t.load_text('time_machine')[:16])")
    assert "site-packages/rnnlib/data" in where and "The Time Machine" in where


def test_the_command_line_trains_samples_and_resumes_on_ones_own_text(light):
    python, work, env = light
    (work / "notes.txt").write_text("\n".join(f"line {i}: the cat sat on the mat, and the dog did not."
                                              for i in range(200)) + "\n")
    run = lambda *args: subprocess.run([str(python), "-m", "rnnlib.charlm", *args], cwd=work, env=env,
                                       capture_output=True, text=True, timeout=300)
    r = run("train", "--text", "notes.txt", "--cell", "lstm", "--layers", "2", "--hidden", "16", "--window", "16",
            "--batch-size", "8", "--steps", "6", "--eval-every", "3", "--quiet")
    assert r.returncode == 0 and "test perplexity" in r.stdout and (work / "model.npz").is_file(), r.stderr
    r = run("sample", "model.npz", "--prime", "the ", "--length", "30", "--temperature", "0.8")
    assert r.returncode == 0 and r.stdout.startswith("the "), r.stderr
    r = run("train", "--resume", "model.npz", "--steps", "9", "--quiet")
    assert r.returncode == 0 and "wrote model.npz" in r.stdout, r.stderr
    r = run("sample", str(Path(_python(light, "import rnnlib.text as t; print(t.DATA_DIR)").strip())
                          / "models" / "time_machine_gru256.npz"), "--prime", "The ", "--length", "20")
    assert r.returncode == 0 and r.stdout.startswith("The "), r.stderr


def test_the_date_translator_runs_from_the_installed_package(light):
    python, work, env = light
    models = Path(_python(light, "import rnnlib.text as t; print(t.DATA_DIR)").strip()) / "models"
    r = subprocess.run([str(python), "-m", "rnnlib.seq2seq", "translate", str(models / "dates.npz"),
                        "the 3rd of march 1987", "3/4/21", "--beam", "4", "--attention", "a.png"],
                       cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.split() == ["1987-03-03", "2021-04-03"], r.stderr
    assert (work / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
