"""The copy of rnnlib that a submission sees while it is graded: the reference taken out.

A student's notebook imports ``rnnlib`` for helpers (the lecture's set-up, data, optimisers,
the checking helpers). While grading, the package it finds is a copy in which every function
and method that implements what the assignment asks for has its body replaced by an error that
says why. The source of the reference is not in the copy, so neither calling it
(``rnnlib.gru_step``), nor reloading it, nor reading it from disk gives the answer: a submission
that merely calls rnnlib for the part it is asked to write earns nothing for that part.

What stays working is decided name by name, the most specific rule winning. A rule names a
module (``"bptt"``, ``"cells"``: the package and its modules) or a function or method
(``"optim.clip_by_global_norm"``, ``"optim.SGD.step"``). By default the modules in
``ALWAYS_KEPT`` are kept and every other module is stubbed (activations, cells, scan, BPTT,
losses, training, timing, interop, language models); an assignment adds rules of its own:
``keep`` for what it provides to the student (``activations`` for the BPTT assignments; the
cells, BPTT and ``lm.lm_forward`` for the language model's training step) and ``stub`` for what
it asks for inside a module that is otherwise kept (``optim.clip_by_global_norm``).
"""

import ast
import pathlib

import rnnlib

#: modules that hold no part of any assignment's answer, unless an assignment stubs a function of
#: theirs (a package's ``__init__`` is kept too: ``rnnlib.cells``'s registry only names the cells'
#: functions)
ALWAYS_KEPT = frozenset({"_checks", "data", "init", "optim", "gradcheck", "lecture", "grading",
                         "plotting", "cells.cell", "cells.layout", "text", "ngram", "threads"})


def _specificity(name, rules):
    """How specific the most specific rule that covers ``name`` is (its number of dotted parts);
    0 when none does. A rule covers itself and every name below it (``"cells"`` covers
    ``"cells.gru"`` and ``"cells.gru.gru_step"``)."""
    return max((rule.count(".") + 1 for rule in rules if name == rule or name.startswith(rule + ".")), default=0)


def is_kept(name, keep=frozenset(), stub=frozenset()):
    """Whether the function, method or module ``name`` (dotted, below ``rnnlib``: ``"lm.sample"``)
    keeps its body in the grading copy: the most specific of the rules in ``ALWAYS_KEPT | keep``
    and in ``stub`` decides; a tie, or no rule at all, stubs."""
    return _specificity(name, ALWAYS_KEPT | keep) > _specificity(name, stub)


class _Stub(ast.NodeTransformer):
    """Empties the functions and methods of one module that ``is_kept`` does not keep; records
    whether it emptied any."""

    def __init__(self, module, keep, stub):
        self.module, self.keep, self.stub, self.stack, self.changed = module, keep, stub, [], False

    def visit_ClassDef(self, node):
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()
        return node

    def visit_FunctionDef(self, node):
        qualified = ".".join([self.module, *self.stack, node.name])
        if is_kept(qualified, self.keep, self.stub):
            return node
        doc = ast.get_docstring(node, clean=False)
        message = (f"rnnlib.{qualified} is part of the reference that this assignment asks you to write; "
                   f"it is not available while your work is graded")
        raise_ = ast.parse(f"raise NotImplementedError({message!r})").body[0]
        node.body = ([ast.Expr(ast.Constant(doc))] if doc is not None else []) + [raise_]
        self.changed = True
        return node

    visit_AsyncFunctionDef = visit_FunctionDef


def build(dest, keep=frozenset(), stub=frozenset()):
    """Write the grading copy of rnnlib to ``dest/rnnlib``; return that path.

    ``keep`` and ``stub`` are the assignment's rules (see the module's docstring): sets of dotted
    names below ``rnnlib``, modules or functions.
    """
    src = pathlib.Path(rnnlib.__file__).parent
    out = pathlib.Path(dest) / "rnnlib"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        module = ".".join(rel.with_suffix("").parts)           # e.g. "bptt", "cells.gru"
        text = path.read_text()
        if path.stem != "__init__":
            stubber = _Stub(module, keep, stub)
            tree = stubber.visit(ast.parse(text))
            if stubber.changed:
                text = (f'"""Grading copy of rnnlib.{module}: the bodies of what the assignment asks for '
                        f'removed (see rnngrade.restricted)."""\n' + ast.unparse(ast.fix_missing_locations(tree)))
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return out
