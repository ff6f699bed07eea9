"""Helpers for the grading tests: build submissions from the release and the solutions."""

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np

from rnngrade.mutate import solved_notebook

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ["forward_and_scan", "gru_bptt", "mgu", "lstm", "charlm", "attention", "scan"]


def release(name):
    return nbformat.read(ROOT / "assignments" / name / f"{name}.ipynb", as_version=4)


def solved(name):
    """The release with every solution cell filled in as a student would (markers removed)."""
    return solved_notebook(ROOT, name)


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def mutate(nb, grade_id, old, new):
    """A copy of ``nb`` with ``old`` replaced by ``new`` in cell ``grade_id`` (which must contain it)."""
    nb = copy.deepcopy(nb)
    c = cell(nb, grade_id)
    assert old in c.source, f"{old!r} not in {grade_id}"
    c.source = c.source.replace(old, new)
    return nb


def add_cell(nb, source, after="imports"):
    """A copy of ``nb`` with a new code cell (no nbgrader metadata) after cell ``after``."""
    nb = copy.deepcopy(nb)
    idx = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == after)
    nb.cells.insert(idx + 1, nbformat.v4.new_code_cell(source))
    return nb


def replace_solution(nb, grade_id, body):
    """Replace the student's region of solution cell ``grade_id`` with ``body`` (indented)."""
    nb = copy.deepcopy(nb)
    c = cell(nb, grade_id)
    lines = c.source.splitlines()
    start = next(i for i, l in enumerate(lines) if "### START CODE HERE ###" in l)
    end = next(i for i, l in enumerate(lines) if "### END CODE HERE ###" in l)
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    new = [indent + l for l in body.strip("\n").splitlines()]
    c.source = "\n".join(lines[: start + 1] + new + lines[end:])
    return nb


def as_data(nb):
    """``nb`` as plain JSON data (dicts and lists, sources as strings), free to be made malformed."""
    return json.loads(json.dumps(nb))


def data_cell(data, grade_id):
    """The cell ``grade_id`` of a notebook held as plain data (which may be malformed already)."""
    def gid(c):
        try:
            return c["metadata"]["nbgrader"]["grade_id"]
        except (TypeError, KeyError):
            return None
    return next(c for c in data["cells"] if gid(c) == grade_id)


def make_course(tmp):
    """A scratch course directory: configuration, solutions and release copied from the repo."""
    course = Path(tmp)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    shutil.copytree(ROOT / "assignments", course / "assignments")
    return course


def submit(course, student, name, nb=None, raw=None):
    dest = Path(course) / "submitted" / student / name
    dest.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        (dest / f"{name}.ipynb").write_bytes(raw)
    elif nb is not None:
        nbformat.write(nb, dest / f"{name}.ipynb")
    return dest


def rnngrade(course, *args, timeout=900):
    """Run the grader's command line in ``course``; return the completed process. A course secret
    in the environment is not passed on: the course's own (its .rnngrade_secret, if any) counts."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("RNNGRADE_SECRET", None)
    return subprocess.run([sys.executable, "-m", "rnngrade", *args, "--course", str(course)],
                          cwd=course, env=env, capture_output=True, text=True, timeout=timeout)


def scores(course):
    """{(assignment, student): {grade_id: score}} from the gradebook."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gb:
        for a in gb.assignments:
            for sub in a.submissions:
                out[a.name, sub.student.id] = {g.name: g.score for nb in sub.notebooks for g in nb.grades}
    return out


def arrays(obj):
    """The numpy arrays in nested tuples, lists and dicts, in a fixed order."""
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            yield from arrays(o)
    elif isinstance(obj, dict):
        for k in sorted(obj):
            yield from arrays(obj[k])


def same_arguments(a, b, rtol=0.0):
    """Equal arguments, however nested in tuples, lists and dicts: arrays of one dtype and shape,
    equal (floats within ``rtol``, relative, when it is given)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if rtol and (a.dtype.kind == "f" or b.dtype.kind == "f"):
            return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=0)
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same_arguments(a[k], b[k], rtol) for k in a)
    if isinstance(a, (tuple, list)):
        return (isinstance(b, (tuple, list)) and len(a) == len(b)
                and all(same_arguments(x, y, rtol) for x, y in zip(a, b)))
    return a == b


def record_calls(fn, calls):
    """``fn``, appending a copy of the positional arguments of each call to ``calls``."""
    return lambda *args: calls.append(copy.deepcopy(args)) or fn(*args)


def assert_visible_checks_call_as_the_grader(name, ns, recording=record_calls, rtol=0.0):
    """The visible check cells of assignment ``name`` call the student's functions on exactly the
    arguments of the grader's visible examples (which the feedback shows), in the same order.

    ``ns`` is the solved notebook's namespace (its code cells run as the grader runs them);
    ``recording(fn, calls)`` wraps a function so that its calls are recorded (by default their
    positional arguments); ``rtol`` lets float arguments differ by rounding (see ``same_arguments``).
    Every visible case must also pass, judged as the grader judges it."""
    from rnngrade import incell, judge, specs

    spec = specs.get(name)
    tests = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release(name).cells
             if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}
    for part in spec.parts:
        in_notebook, in_grader = [], []
        original = ns[part.function]
        ns[part.function] = recording(original, in_notebook)
        exec(compile(tests[part.grade_id], part.grade_id, "exec"), ns)
        ns[part.function] = recording(original, in_grader)
        for case in part.cases:
            if not case.hidden:
                assert judge.judge(case, incell.run_case(case, part.function, ns), part.function) == (True, "")
        ns[part.function] = original
        assert len(in_notebook) == len(in_grader) > 0, part.function
        for a, b in zip(in_notebook, in_grader):
            assert same_arguments(a, b, rtol), part.function


PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import rnnlib
assert rnnlib.__file__.startswith(sys.argv[1]), rnnlib.__file__
{CALLS}
for name, call in calls.items():
    try:
        call()
        print(name, "works")
    except NotImplementedError as exc:
        assert "is part of the reference that this assignment asks you to write" in str(exc), exc
        print(name, "stubbed")
"""


def probe_grading_copy(tmp_path, name, calls):
    """Build the grader's copy of rnnlib for assignment ``name`` in ``tmp_path`` and try calls on it
    in a fresh process: ``calls`` is Python source (with ``np`` and ``rnnlib`` imported) that defines
    ``calls``, a dict of name -> callable. Returns {name: "works" or "stubbed"}."""
    from rnngrade import restricted, specs

    spec = specs.get(name)
    restricted.build(tmp_path, keep=spec.keep_in_rnnlib, stub=spec.stub_in_rnnlib)
    out = subprocess.run([sys.executable, "-c", PROBE.replace("{CALLS}", calls), str(tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    return dict(line.split() for line in out.stdout.splitlines())


# Assignment 5's clipping of each gradient by its own norm, where the global norm is asked; (old,
# new) for ``mutate`` on the solution cell ``clip_by_global_norm``.
CHARLM_CLIP_EACH = ("    if norm > max_norm:\n        clipped = [g * (max_norm / norm) for g in grads]\n"
                    "    else:\n        clipped = [g.copy() for g in grads]",
                    "    clipped = [g * min(1.0, max_norm / np.sqrt(np.sum(g * g))) for g in grads]")

# Assignment 5's clipping that scales the arrays passed in, in place (right values, inputs changed);
# (old, new) for ``mutate`` on the solution cell ``clip_by_global_norm``.
CHARLM_CLIP_IN_PLACE = ("clipped = [g * (max_norm / norm) for g in grads]",
                        "for g in grads:                  # the arrays passed in, scaled in place\n"
                        "            g *= max_norm / norm\n        clipped = grads")

# Assignment 5's training step with the carried state not detached: the gradient on a chunk's
# initial state goes on into the chunk before (the numpy picture of a missing ``h.detach()``).
# (old, new) for ``mutate`` on the solution cell ``train_step``.
CHARLM_NOT_DETACHED = ("    grads, _ = lm_backward(dlogits, cache)          # the gradient on the carried state is dropped\n",
                       """    grads, dstate_0 = lm_backward(dlogits, cache)
    before = globals().get("previous_cache")
    if before is not None and np.array_equal(np.asarray(state), np.asarray(before.final_state)):
        dweights, _, _ = rnnlib.backward(np.zeros_like(before.cell_cache.hs), before.cell_cache, dstate_0)
        for name, d in zip(rnnlib.CELLS[cell].weight_names, dweights):
            grads[name] = grads[name] + d
    globals()["previous_cache"] = cache
""")

# Assignment 6's softmax over every position, the pads' scores included, the pads zeroed afterwards:
# the largest score subtracted may be a pad's, far above the real ones, whose exponentials then all
# underflow. (old, new) for ``mutate`` on the solution cell ``attention_forward``.
ATTENTION_MAX_OVER_PADS = ("    e = np.where(mask, e, -np.inf)           # a pad's score: -inf, whose exponential is exactly 0\n"
                           "    w = np.exp(e - e.max(axis=0))            # each column's largest real score subtracted\n",
                           "    w = np.exp(e - e.max(axis=0)) * mask     # the largest score of all subtracted, the pads zeroed\n")

# Assignment 6's decoder step that returns the weights of the new state: it attends again, with
# h_next as the query. (old, new) for ``mutate`` on the solution cell ``decoder_step``.
ATTENTION_QUERY_H_NEXT = ('    logits = params["W_y"] @ h_next + params["b_y"]\n',
                          "    _, alpha, _ = attention_forward(h_next, Hs, mask, weights)     # the new state's weights\n"
                          '    logits = params["W_y"] @ h_next + params["b_y"]\n')

# Assignment 6's beam step that keeps the best candidate of each parent, then the k best of those.
# (old, new) for ``mutate`` on the solution cell ``beam_step``.
ATTENTION_BEAM_PER_PARENT = ('    best = np.argsort(-candidates, kind="stable")[:k]          # the best first; ties in (parent, token) order\n',
                             "    each = candidates.reshape(n, V).argmax(axis=1) + V * np.arange(n)     # each parent's best\n"
                             '    best = each[np.argsort(-candidates[each], kind="stable")][:k]\n')

# Assignment 6's padding masked after the softmax: a softmax over every position, then the pads'
# weights set to 0 without renormalising (a column's real weights sum to less than 1).
# (old, new) for ``mutate`` on the solution cell ``attention_forward``.
ATTENTION_MASK_AFTER_SOFTMAX = ("    e = np.where(mask, e, -np.inf)           # a pad's score: -inf, whose exponential is exactly 0\n"
                                "    w = np.exp(e - e.max(axis=0))            # each column's largest real score subtracted\n"
                                "    alpha = w / w.sum(axis=0)\n",
                                "    w = np.exp(e - e.max(axis=0))\n"
                                "    alpha = w / w.sum(axis=0) * mask         # the pads' weights zeroed after the softmax\n")

# Assignment 6's context summed over the batch too: every column's context is the sum of all the
# columns' (broadcast back to (H_enc, B)), or an (H_enc,) vector (axis -1 summed as well).
# (old, new) for ``mutate`` on the solution cell ``attention_forward``.
ATTENTION_CONTEXT = "    context = (alpha[:, None] * Hs).sum(axis=0)\n"
ATTENTION_CONTEXT_OVER_THE_BATCH = (
    ATTENTION_CONTEXT,
    '    context = np.einsum("tb,thb->h", alpha, Hs)[:, None] * np.ones(Hs.shape[2])   # summed over b, broadcast\n')
ATTENTION_CONTEXT_AXIS_MINUS_1 = (ATTENTION_CONTEXT, "    context = (alpha[:, None] * Hs).sum(axis=(0, -1))\n")

# Assignment 6's beam step that ignores ``finished``: a finished hypothesis is extended like the
# others (the two lines of the solution that handle ``finished``, dropped). (old, new) for
# ``mutate`` on the solution cell ``beam_step``.
ATTENTION_BEAM_FINISHED = ("    only_eos = np.where(np.arange(V)[:, None] == EOS, 0.0, -np.inf)     # (V, 1): <eos> at no cost, nothing else\n"
                           "    log_probs = np.where(finished, only_eos, log_probs)                   # a finished column's one candidate: itself\n")
ATTENTION_BEAM_FINISHED_EXTENDED = (ATTENTION_BEAM_FINISHED, "")
# ... and one that keeps a finished hypothesis's own log-probability of <eos> (its score changes)
ATTENTION_BEAM_FINISHED_PAYS_EOS = (
    ATTENTION_BEAM_FINISHED,
    "    log_probs = np.where(finished & (np.arange(V)[:, None] != EOS), -np.inf, log_probs)\n")

# Assignment 6's typical mistakes, (name, solution cell, old, new, the test cell of the part it
# breaks), shared by the round trip (test_grading.py) and the visible checks (test_visible_checks.py)
ATTENTION_MISTAKES = [
    ("mask-ignored", "attention_forward",
     "    e = np.where(mask, e, -np.inf)           # a pad's score: -inf, whose exponential is exactly 0\n", "",
     "test_attention_forward"),
    ("softmax-over-the-batch", "attention_forward",
     "w = np.exp(e - e.max(axis=0))            # each column's largest real score subtracted\n    alpha = w / w.sum(axis=0)",
     "w = np.exp(e - e.max(axis=1, keepdims=True))\n    alpha = w / w.sum(axis=1, keepdims=True)", "test_attention_forward"),
    ("no-max-subtraction", "attention_forward", "w = np.exp(e - e.max(axis=0))", "w = np.exp(e)",
     "test_attention_forward"),
    ("max-over-the-pads", "attention_forward", *ATTENTION_MAX_OVER_PADS, "test_attention_forward"),
    ("no-jacobian-subtraction", "attention_backward", "de = alpha * (dalpha - (alpha * dalpha).sum(axis=0))",
     "de = alpha * dalpha", "test_attention_backward"),
    ("dHs-without-the-value-path", "attention_backward", "dHs = alpha[:, None] * dcontext + U_a.T @ dz",
     "dHs = U_a.T @ dz", "test_attention_backward"),
    ("dHs-without-the-key-path", "attention_backward", "dHs = alpha[:, None] * dcontext + U_a.T @ dz",
     "dHs = alpha[:, None] * dcontext", "test_attention_backward"),
    ("query-h-next", "decoder_step", *ATTENTION_QUERY_H_NEXT, "test_decoder_step"),
    ("context-before-embedding", "decoder_step", 'np.concatenate([params["E_tgt"][:, y_prev], context])',
     'np.concatenate([context, params["E_tgt"][:, y_prev]])', "test_decoder_step"),
    ("readout-from-h", "decoder_step", 'params["W_y"] @ h_next', 'params["W_y"] @ h', "test_decoder_step"),
    ("top-k-per-parent", "beam_step", *ATTENTION_BEAM_PER_PARENT, "test_beam_step"),
    ("scores-not-added", "beam_step", "(scores + log_probs).T.ravel()", "log_probs.T.ravel()", "test_beam_step"),
    ("divmod-swapped", "beam_step", "parents, tokens = np.divmod(best, V)", "tokens, parents = np.divmod(best, V)",
     "test_beam_step"),
    ("states-not-reordered", "beam_step", "new_states = states[:, parents]", "new_states = states", "test_beam_step"),
    ("ascending-order", "beam_step", 'np.argsort(-candidates, kind="stable")[:k]',
     'np.argsort(candidates, kind="stable")[-k:]', "test_beam_step"),
    ("ties-reversed", "beam_step", 'np.argsort(-candidates, kind="stable")[:k]',
     'np.argsort(candidates, kind="stable")[::-1][:k]', "test_beam_step"),
    # the typical mistakes
    ("mask-after-softmax", "attention_forward", *ATTENTION_MASK_AFTER_SOFTMAX, "test_attention_forward"),
    ("context-summed-over-the-batch", "attention_forward", *ATTENTION_CONTEXT_OVER_THE_BATCH, "test_attention_forward"),
    ("context-summed-over-axis-minus-1", "attention_forward", *ATTENTION_CONTEXT_AXIS_MINUS_1, "test_attention_forward"),
    ("scores-times-probabilities", "beam_step", "(scores + log_probs).T.ravel()",
     "(scores * np.exp(log_probs)).T.ravel()", "test_beam_step"),
    ("scores-times-log-probs", "beam_step", "(scores + log_probs).T.ravel()", "(scores * log_probs).T.ravel()",
     "test_beam_step"),
    ("finished-extended", "beam_step", *ATTENTION_BEAM_FINISHED_EXTENDED, "test_beam_step"),
    ("finished-pays-eos-again", "beam_step", *ATTENTION_BEAM_FINISHED_PAYS_EOS, "test_beam_step"),
]

# Assignment 7's scan that shifts its input by one, zeros first (the identity of + only), and runs
# Hillis and Steele's rounds on it: an exclusive scan where the inclusive one is asked. (old, new)
# for ``mutate`` on the solution cell ``scan_inclusive``: the student's whole region.
SCAN_REGION = """    def interleave(first, odd, even):           # out_0, then out_1, out_2, ... from the odd and the even
        s = np.empty((T,) + odd.shape[1:], odd.dtype)
        s[0], s[1::2], s[2::2] = first, odd, even
        return s

    if reverse:                                 # scan the reversed input, then put it back in order
        out = tuple(s[::-1] for s in scan_inclusive(fn, tuple(x[::-1] for x in elems)))
    elif T == 1:
        out = elems
    else:
        # p_j = e_2j ∘ e_2j+1: T // 2 pairs (an odd length's last element waits for the even step)
        pairs = fn(tuple(x[:-1:2] for x in elems), tuple(x[1::2] for x in elems))
        odd = scan_inclusive(fn, pairs)         # out_1, out_3, ...: the scan of the pairs
        # out_2j = out_2j-1 ∘ e_2j for j >= 1: (T - 1) // 2 of them
        even = fn(tuple(s[:(T - 1) // 2] for s in odd), tuple(x[2::2] for x in elems))
        out = tuple(interleave(x[0], o, e) for x, o, e in zip(elems, odd, even))
"""
SCAN_EXCLUSIVE = (SCAN_REGION, """    elems = tuple(x[::-1] for x in elems) if reverse else tuple(elems)
    out = tuple(np.concatenate([np.zeros_like(x[:1]), x[:-1]]) for x in elems)   # e_-1 = 0: the prefixes before i
    d = 1
    while d < T:
        later = fn(tuple(s[:T - d] for s in out), tuple(s[d:] for s in out))
        out = tuple(np.concatenate([s[:d], l]) for s, l in zip(out, later))
        d *= 2
    if reverse:
        out = tuple(s[::-1] for s in out)
""")
# ... one that loops over the elements, one call of fn each: right values, T - 1 calls
SCAN_LOOP = (SCAN_REGION, """    order = range(T - 1, -1, -1) if reverse else range(T)
    prefix, out = None, [None] * T
    for i in order:
        e = tuple(x[i:i + 1] for x in elems)
        prefix = e if prefix is None else fn(prefix, e)      # reverse: the later on the left
        out[i] = prefix
    out = tuple(np.concatenate([o[k] for o in out]) for k in range(len(elems)))
""")
# ... one that builds its output from the pairs alone: at an odd length the last element, which has
# no neighbour, is dropped (and at every odd length inside the recursion)
SCAN_LAST_DROPPED = ("        s = np.empty((T,) + odd.shape[1:], odd.dtype)\n"
                     "        s[0], s[1::2], s[2::2] = first, odd, even\n",
                     "        s = np.empty((2 * len(odd),) + odd.shape[1:], odd.dtype)      # two for each pair\n"
                     "        s[0], s[1::2], s[2::2] = first, odd, even[:len(odd) - 1]\n")

# Assignment 7's typical mistakes, (name, solution cell, old, new, the test cell of the part it
# breaks), shared by the round trip (test_grading.py) and the visible checks (test_visible_checks.py)
SCAN_MISTAKES = [
    # the issue's
    ("operands-in-the-wrong-order", "combine", "b = a2 * b1 + b2", "b = a1 * b2 + b1", "test_combine"),
    ("last-element-dropped", "scan_inclusive", *SCAN_LAST_DROPPED, "test_scan_inclusive"),
    ("exclusive-scan", "scan_inclusive", *SCAN_EXCLUSIVE, "test_scan_inclusive"),
    ("h0-ignored", "mingru_forward", "    b[0] = a[0] * h_0 + b[0]                     # h_0 folded into the first step\n",
     "", "test_mingru_forward"),
    ("backward-forward-in-time", "mingru_backward", "scan_inclusive(combine, (a_next, dhs), reverse=True)",
     "scan_inclusive(combine, (a_next, dhs))", "test_mingru_backward"),
    # others
    ("b-not-scaled", "combine", "b = a2 * b1 + b2", "b = b1 + b2", "test_combine"),
    ("reverse-input-only", "scan_inclusive",
     "out = tuple(s[::-1] for s in scan_inclusive(fn, tuple(x[::-1] for x in elems)))",
     "out = scan_inclusive(fn, tuple(x[::-1] for x in elems))", "test_scan_inclusive"),
    ("scan-operands-swapped", "scan_inclusive", "pairs = fn(tuple(x[:-1:2] for x in elems), tuple(x[1::2] for x in elems))",
     "pairs = fn(tuple(x[1::2] for x in elems), tuple(x[:-1:2] for x in elems))", "test_scan_inclusive"),
    ("a-loop-of-T-calls", "scan_inclusive", *SCAN_LOOP, "test_scan_inclusive"),
    ("gate-and-keep-swapped", "mingru_forward", "a, b = 1 - z, z * c", "a, b = z, (1 - z) * c", "test_mingru_forward"),
    ("tanh-on-the-candidate", "mingru_forward", "z, c = rnnlib.sigmoid(A[:, :H]), A[:, H:]",
     "z, c = rnnlib.sigmoid(A[:, :H]), np.tanh(A[:, H:])", "test_mingru_forward"),
    ("states-before-each-step", "mingru_forward", "_, hs = scan_inclusive(combine, (a, b))",
     "_, hs = scan_inclusive(combine, (a, b))\n    hs = np.concatenate([h_0[None], hs[:-1]])", "test_mingru_forward"),
    ("gate-gradient-without-h-prev", "mingru_backward", "du = g * (c - h_prev) * z * (1 - z)", "du = g * c * z * (1 - z)",
     "test_mingru_backward"),
    ("db-summed-over-time-only", "mingru_backward", 'db = np.einsum("tib->i", dA)[:, None]', 'db = np.einsum("tib->ib", dA)',
     "test_mingru_backward"),
    ("a-not-shifted", "mingru_backward", "scan_inclusive(combine, (a_next, dhs), reverse=True)",
     "scan_inclusive(combine, (a, dhs), reverse=True)", "test_mingru_backward"),
    ("dh0-without-a", "mingru_backward", "dh_0 = a[0] * g[0]", "dh_0 = g[0]", "test_mingru_backward"),
]
