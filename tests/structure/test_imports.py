"""The code read as code: no import circle in rnnlib or rnngrade, and every private name (one
underscore) used only in its own module."""

import ast
from pathlib import Path

from grading_support import ROOT

PACKAGES = ("rnnlib", "rnngrade")
SOURCES = sorted(p for d in (*PACKAGES, "tests", "benchmarks", "tools") for p in (ROOT / d).rglob("*.py"))


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def _module(path, root):
    """``rnnlib.cells.gru`` for ``root/rnnlib/cells/gru.py``; a package is its ``__init__``'s name."""
    parts = Path(path).relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(path):
    """The dotted package a file of rnnlib or rnngrade is in (``rnnlib.cells``), else None."""
    parts = Path(path).parent.parts
    starts = [i for i, part in enumerate(parts) if part in PACKAGES]
    return ".".join(parts[starts[-1]:]) if starts else None


def _imported(node, package):
    """The dotted module an ``ImportFrom`` reads from, relative imports resolved."""
    base = node.module or ""
    if node.level:
        above = (package or "").split(".")
        base = ".".join(filter(None, [*above[:len(above) - node.level + 1], base]))
    return base


def private_uses(path):
    """Where ``path`` reads a private name (one underscore) of a module of rnnlib or rnngrade
    other than itself: ``from rnngrade.runner import _x``, ``from .bptt import _x``, ``runner._x``."""
    tree = ast.parse(Path(path).read_text())
    package = _package(path)
    modules, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = _imported(node, package)
            if base.split(".")[0] in PACKAGES:
                found += [f"{path.name}:{node.lineno}: from {base} import {a.name}"
                          for a in node.names if _private(a.name)]
                modules |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name.split(".")[0] for a in node.names if a.name.split(".")[0] in PACKAGES}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            while isinstance(owner, ast.Attribute):
                owner = owner.value
            if isinstance(owner, ast.Name) and owner.id in modules:
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def import_graph(root):
    """module -> the modules of rnnlib and rnngrade it imports (anywhere in the file), from the
    files under ``root``. ``from a.b import c`` reads ``a.b.c`` when that is a module, else ``a.b``."""
    files = {_module(p, root): p for d in PACKAGES for p in (Path(root) / d).rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = _package(path)
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = _imported(node, package)
                for alias in node.names:
                    target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    if target in files and target != name:
                        edges.add(target)
            elif isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in files and a.name != name}
        graph[name] = edges
    return graph


def circles(graph):
    """Every import circle, each as a list of modules (first and last the same), one per circle."""
    found, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return found


def test_no_import_circle():
    graph = import_graph(ROOT)
    assert {"rnnlib.cells.gru", "rnngrade.specs.charlm"} <= set(graph)
    assert not circles(graph), "import circles:\n" + "\n".join(" -> ".join(c) for c in circles(graph))


def test_the_circle_check_finds_a_circle(tmp_path):
    """The check above can fail: the circle that specs.py and specs_charlm.py once made, and one
    through a package's ``__init__``."""
    (tmp_path / "rnngrade").mkdir()
    (tmp_path / "rnngrade" / "__init__.py").write_text("")
    (tmp_path / "rnngrade" / "specs.py").write_text("from .specs_charlm import charlm\n")
    (tmp_path / "rnngrade" / "specs_charlm.py").write_text("def f():\n    from .specs import Case\n")
    (tmp_path / "rnnlib" / "cells").mkdir(parents=True)
    (tmp_path / "rnnlib" / "__init__.py").write_text("from .bptt import forward\n")
    (tmp_path / "rnnlib" / "bptt.py").write_text("from .cells import get\n")
    (tmp_path / "rnnlib" / "cells" / "__init__.py").write_text("from . import gru\n")
    (tmp_path / "rnnlib" / "cells" / "gru.py").write_text("from .. import bptt\n")
    found = {tuple(c) for c in circles(import_graph(tmp_path))}
    assert found == {("rnngrade.specs", "rnngrade.specs_charlm", "rnngrade.specs"),
                     ("rnnlib.bptt", "rnnlib.cells", "rnnlib.cells.gru", "rnnlib.bptt")}, found


def test_private_names_stay_in_their_module():
    assert len(SOURCES) > 60 and any(p.parent.name == "cells" for p in SOURCES)
    found = [use for path in SOURCES for use in private_uses(path)]
    assert not found, "private names used outside their module:\n" + "\n".join(found)


def test_the_private_check_finds_private_uses(tmp_path):
    """The check above can fail: each way of reaching a private name is found, in rnngrade and in
    rnnlib's subpackages."""
    (tmp_path / "rnngrade").mkdir()
    path = tmp_path / "rnngrade" / "example.py"
    path.write_text("from . import runner\nfrom .judge import _notes\nimport rnngrade.wire as w\n"
                    "runner._Child\nw._DTYPES\nprint(runner.__doc__, self._x)\n")
    assert private_uses(path) == ["example.py:2: from rnngrade.judge import _notes",
                                  "example.py:4: runner._Child", "example.py:5: w._DTYPES"]
    (tmp_path / "rnnlib" / "cells").mkdir(parents=True)
    path = tmp_path / "rnnlib" / "cells" / "example.py"
    path.write_text("from ..bptt import _prepare\nfrom . import loops\nloops._x\nfrom .cell import Cell\n")
    assert private_uses(path) == ["example.py:1: from rnnlib.bptt import _prepare", "example.py:3: loops._x"]
