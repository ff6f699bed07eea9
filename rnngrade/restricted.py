"""The copy of rnnlib that a submission sees while it is graded: the reference taken out.

A student's notebook imports ``rnnlib`` for helpers (the lecture's set-up, data, optimisers,
the checking helpers). While grading, the package it finds is a copy in which every function
and method of the modules that implement what the assignments ask for (activations, cells,
scan, BPTT, losses, training, timing, interop) has its body replaced by an error that says why.
The source of the reference is not in the copy, so neither calling it (``rnnlib.gru_step``),
nor reloading it, nor reading it from disk gives the answer: a submission that merely calls
rnnlib for the part it is asked to write earns nothing for that part. Modules an assignment
provides to the student (``keep``, e.g. ``activations`` for the BPTT assignments) stay whole.
"""

import ast
import pathlib

import rnnlib

#: modules that hold no part of any assignment's answer (a package's ``__init__`` is kept too:
#: ``rnnlib.cells``'s registry only names the cells' functions)
ALWAYS_KEPT = frozenset({"_checks", "data", "init", "optim", "gradcheck", "lecture", "grading",
                         "plotting", "cells.cell"})


class _Stub(ast.NodeTransformer):
    def __init__(self, module):
        self.module, self.stack = module, []

    def visit_ClassDef(self, node):
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()
        return node

    def visit_FunctionDef(self, node):
        name = ".".join(["rnnlib", self.module, *self.stack, node.name])
        doc = ast.get_docstring(node, clean=False)
        message = (f"{name} is part of the reference that this assignment asks you to write; "
                   f"it is not available while your work is graded")
        raise_ = ast.parse(f"raise NotImplementedError({message!r})").body[0]
        node.body = ([ast.Expr(ast.Constant(doc))] if doc is not None else []) + [raise_]
        return node

    visit_AsyncFunctionDef = visit_FunctionDef


def build(dest, keep=frozenset()):
    """Write the grading copy of rnnlib to ``dest/rnnlib``; return that path."""
    src = pathlib.Path(rnnlib.__file__).parent
    out = pathlib.Path(dest) / "rnnlib"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        module = ".".join(rel.with_suffix("").parts)           # e.g. "bptt", "cells.gru"
        text = path.read_text()
        if path.stem != "__init__" and module not in ALWAYS_KEPT and module not in keep:
            tree = _Stub(module).visit(ast.parse(text))
            text = (f'"""Grading copy of rnnlib.{module}: function bodies removed '
                    f'(see rnngrade.restricted)."""\n' + ast.unparse(ast.fix_missing_locations(tree)))
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return out
