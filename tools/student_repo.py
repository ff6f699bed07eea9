"""Write the repository that students clone: the book, the assignments and rnnlib, without the
solutions, the hidden tests or the grader (``make student-repo DEST=<dir>``).

Usage::

    python tools/student_repo.py DEST                   # create DEST as a git repository, or update it
    python tools/student_repo.py --download-wheels DIR  # the students' install as wheels (for the tests)

DEST holds, taken from the course as it is when this runs:

- ``book/``, ``assignments/``, ``rnnlib/``, ``data/``, ``_toc.yml``, ``LICENSE``: whatever is there
  that git would commit (tracked or new, minus what .gitignore ignores);
- rnnlib's tests: ``tests/conftest.py`` and every ``tests/library/test_*.py`` that imports
  nothing beyond what the students' install provides (``STUDENT_IMPORTS``), side by side in
  the students' ``tests/``;
- ``pyproject.toml``, generated from the course's: the package rnnlib only, and the extras
  ``student`` (JupyterLab), ``book`` and ``test``;
- ``_config.yml``, generated from the course's: the chapters are rendered from their committed
  outputs, not executed (the course's own CI executes every one);
- from ``tools/student_template/``: the students' README, Makefile, .gitignore, CI script
  (``.ci/run``) and two more tests (the released notebooks run up to their first exercise; the
  book builds).

A new DEST becomes a git repository with one commit; an existing one (a clone of the students'
repository) gets its files replaced and a new commit, ready to push. Before committing, ``leaks``
checks DEST and refuses to commit if anything of the instructor's is in it.
"""

import argparse
import ast
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "tools" / "student_template"
SHIPPED = ("book", "assignments", "rnnlib", "data", "_toc.yml", "LICENSE")
EXTRAS = ("student", "book", "test")     # the course's extras that the students' pyproject keeps
# What a shipped test may import: the standard library, what the students' install provides
# (rnnlib and its dependencies, pytest from the ``test`` extra), conftest.py, which ships, and
# PyTorch, which students do not install: the tests that compare with it skip without it.
STUDENT_IMPORTS = {"rnnlib", "numpy", "matplotlib", "tqdm", "threadpoolctl", "pytest", "conftest", "torch"}
# The course's directories that never ship, and the markers of nbgrader's source regions.
INSTRUCTOR_ONLY = ("solutions", "rnngrade")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
REGIONS = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS).*?### END (SOLUTION|HIDDEN TESTS)", re.S)


def shipped_tests(root=ROOT):
    """The files of ``tests/`` that ship: conftest.py and the tests of rnnlib (``tests/library/``)
    that import only ``STUDENT_IMPORTS`` or the standard library (anywhere in the file: one test
    that imports rnngrade in a function keeps its whole file home)."""
    shipped = [root / "tests" / "conftest.py"]
    for path in sorted((root / "tests" / "library").glob("test_*.py")):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
        if imported <= STUDENT_IMPORTS | set(sys.stdlib_module_names):
            shipped.append(path)
    return shipped


def _toml_key(key):
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)   # a JSON string is a TOML basic string
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) as TOML: expected str, bool or list")


def _toml(table, path=()):
    """TOML text for a table of tables, strings, booleans and lists of them (all pyproject needs)."""
    values = [(k, v) for k, v in table.items() if not isinstance(v, dict)]
    out = [f"[{'.'.join(_toml_key(k) for k in path)}]"] if path and values else []
    if values:
        out += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in values] + [""]
    for key, value in table.items():
        if isinstance(value, dict):
            out += _toml(value, path + (key,))
    return out


def student_pyproject(root=ROOT):
    """The course's pyproject.toml for the students' repository: rnnlib only, the extras ``EXTRAS``,
    pytest on ``tests/``."""
    config = tomllib.loads((root / "pyproject.toml").read_text())
    extras = config["project"]["optional-dependencies"]
    config["project"]["optional-dependencies"] = {name: extras[name] for name in EXTRAS}
    setuptools = config["tool"]["setuptools"]
    setuptools["packages"] = [p for p in setuptools["packages"] if p.split(".")[0] == "rnnlib"]
    data = {k: v for k, v in setuptools.pop("package-data", {}).items() if k.split(".")[0] == "rnnlib"}
    if data:
        setuptools["package-data"] = data
    config["tool"]["pytest"]["ini_options"] = {"testpaths": ["tests"], "addopts": "-ra"}
    return "# rnnlib and the students' tools (make lab, make test, make book).\n\n" + "\n".join(_toml(config))


def student_config(root=ROOT):
    """The course's _config.yml for the students' repository: the chapters are not executed."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    return ("# jupyter-book 1.x configuration (`make book`). The chapters are rendered from the outputs they\n"
            "# are committed with; to re-run one, open it in JupyterLab.\n"
            + yaml.safe_dump(config, sort_keys=False))


def student_requirements(root=ROOT):
    """What ``pip install -e '.[student]'`` installs, and what it builds rnnlib with."""
    config = tomllib.loads((root / "pyproject.toml").read_text())
    return (config["build-system"]["requires"] + config["project"]["dependencies"]
            + config["project"]["optional-dependencies"]["student"])


def _git_files(root, *paths):
    """The files under ``paths`` that git would commit: tracked or new, minus what .gitignore ignores."""
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "--cached", "--others", "--exclude-standard", "-z",
                             "--", *paths], check=True, capture_output=True).stdout.decode()
    return sorted({p for p in listed.split("\0") if p and (root / p).is_file()})


def write_tree(dest, root=ROOT):
    """Write the students' files into the empty directory ``dest``."""
    files = {name: root / name for name in _git_files(root, *SHIPPED)}
    files |= {f"tests/{p.name}": p for p in shipped_tests(root)}
    for name in _git_files(TEMPLATE, "."):
        if name in files:
            raise FileExistsError(f"{name}: both the course and {TEMPLATE} have it; rename one")
        files[name] = TEMPLATE / name
    for name, source in files.items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / name)
    (dest / "pyproject.toml").write_text(student_pyproject(root))
    (dest / "_config.yml").write_text(student_config(root))


def _text_lines(path):
    """The stripped lines of a text file; for a notebook, of every string in it (sources and
    outputs). ``None`` for a file that is not UTF-8 text."""
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        return None
    if path.suffix == ".ipynb":
        strings, stack = [], [json.loads(text)]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack += item.values()
            elif isinstance(item, list):
                stack += item
            elif isinstance(item, str):
                strings.append(item)
        text = "\n".join(strings)
    return {line.strip() for line in text.splitlines()} - {""}


def secret_lines(root=ROOT):
    """``{line: where}``: the lines of the solutions' solution regions and hidden tests that are
    not public. Public: every line of a solution notebook outside those regions (a bare
    ``return h_next, h_next``), and, for solution lines only, every line of rnnlib and of the book,
    which ship by design (the book derives the forward steps that assignment 1 asks for, and
    rnnlib is the reference, which the grader takes away while it grades)."""
    solution, hidden, outside = {}, {}, set()
    for path in sorted((root / "solutions").glob("*/*.ipynb")):
        where = path.relative_to(root).as_posix()
        for cell in nbformat.read(path, as_version=4).cells:
            for kind, found in (("SOLUTION", solution), ("HIDDEN TESTS", hidden)):
                for region in re.findall(rf"### BEGIN {kind}(.*?)### END {kind}", cell.source, flags=re.S):
                    for line in region.splitlines()[1:]:
                        if line.strip():
                            found.setdefault(line.strip(), f"{where} ({kind.lower()})")
            outside |= {line.strip() for line in REGIONS.sub("", cell.source).splitlines()}
    public = set(outside)
    for path in [*(root / "rnnlib").rglob("*.py"), *(root / "book").rglob("*")]:
        if path.is_file():
            public |= _text_lines(path) or set()
    return ({line: w for line, w in solution.items() if line not in public}
            | {line: w for line, w in hidden.items() if line not in outside})


def leaks(repo, root=ROOT):
    """Everything of the instructor's in ``repo``, as ``"path: what"`` lines (empty when clean).

    Looks for: a path through ``solutions/`` or ``rnngrade/``; a file identical to one of theirs;
    nbgrader's region markers and the word "rnngrade" anywhere (binary files included); any line
    of ``secret_lines``; the course secret, if there is one.
    """
    digests = {hashlib.sha256(p.read_bytes()).hexdigest(): p.relative_to(root).as_posix()
               for name in INSTRUCTOR_ONLY for p in (root / name).rglob("*") if p.is_file()}
    secrets = secret_lines(root)
    secret_file = root / ".rnngrade_secret"
    course_secret = secret_file.read_bytes().strip() if secret_file.is_file() else None
    found = []
    for path in sorted(p for p in repo.rglob("*") if p.is_file() and ".git" not in p.relative_to(repo).parts):
        name = path.relative_to(repo).as_posix()
        data = path.read_bytes()
        if set(path.relative_to(repo).parts) & set(INSTRUCTOR_ONLY):
            found.append(f"{name}: a path of the instructor's")
        if hashlib.sha256(data).hexdigest() in digests:
            found.append(f"{name}: a copy of {digests[hashlib.sha256(data).hexdigest()]}")
        found += [f"{name}: the marker {m!r}" for m in MARKERS if m.encode() in data]
        if b"rnngrade" in data.lower():
            found.append(f"{name}: the word 'rnngrade'")
        if course_secret and course_secret in data:
            found.append(f"{name}: the course secret")
        found += [f"{name}: the line {line!r} of {secrets[line]}" for line in sorted((_text_lines(path) or set()) & secrets.keys())]
    return found


def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def build(dest, root=ROOT):
    """Create or update the students' repository at ``dest`` and commit; return the commit's hash."""
    dest = Path(dest).resolve()
    if (dest / ".git").is_dir():
        for path in dest.iterdir():
            if path.is_dir() and path.name != ".git":
                shutil.rmtree(path)
            elif path.is_file():
                path.unlink()
    elif dest.exists() and any(dest.iterdir()):
        raise SystemExit(f"{dest} exists and is neither empty nor a git repository: give a new directory or a clone of the students' repository")
    else:
        dest.mkdir(parents=True, exist_ok=True)
        _git(dest, "init", "--quiet", "--initial-branch=main")
    write_tree(dest, root)
    found = leaks(dest, root)
    if found:
        raise SystemExit("the students' repository would leak (nothing committed):\n  " + "\n  ".join(found))
    _git(dest, "add", "--all")
    if _git(dest, "status", "--porcelain"):
        source = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        origin = f" (course commit {source.stdout.strip()})" if source.returncode == 0 else ""
        identity = [] if _git_identity(dest) else ["-c", "user.name=rnn-course", "-c", "user.email=rnn-course@localhost"]
        subprocess.run(["git", "-C", str(dest), *identity, "commit", "--quiet", "-m",
                        f"The course for students: book, assignments, rnnlib{origin}"], check=True)
    return _git(dest, "rev-parse", "HEAD").strip()


def _git_identity(repo):
    return subprocess.run(["git", "-C", str(repo), "config", "user.email"], capture_output=True).returncode == 0


def download_wheels(directory, root=ROOT):
    """Download the wheels of the students' install (``student_requirements``) into ``directory``."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(directory),
                    *student_requirements(root)], check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", nargs="?", help="the students' repository: a new directory, or a clone to update")
    parser.add_argument("--download-wheels", metavar="DIR", help="download the students' install as wheels into DIR")
    args = parser.parse_args(argv)
    if args.download_wheels:
        download_wheels(args.download_wheels)
    if args.dest:
        commit = build(args.dest)
        print(f"{args.dest}: the students' repository, at commit {commit[:12]}; push it where students clone it")
    elif not args.download_wheels:
        parser.error("give DEST, --download-wheels DIR, or both")


if __name__ == "__main__":
    main()
