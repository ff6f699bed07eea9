"""The grader's test cases run inside a notebook (the solutions' hidden test cells).

``check("gru_bptt", "test_gru_backward", globals())`` runs every case of that part in the
current kernel, with the same inputs, oracles and comparison as the out-of-kernel grader, and
raises ``AssertionError`` naming the failing cases. The solutions call it in their hidden test
blocks, so nbval proves that the solutions pass the hidden cases and stock ``nbgrader autograde``
keeps working; the verdict that counts is still computed outside the kernel (``rnngrade.runner``).

The hidden inputs derive from the course secret as in the grader (``rnngrade.secret``): the
environment's, else the file of the course the kernel runs in (the nearest folder at or above
its working directory with ``nbgrader_config.py``); without one, the public defaults, silently:
nbval compares what these cells print, so they print the verdict and nothing else.
"""

import os

from . import harness, judge, secret, specs, wire


def run_case(case, function, namespace):
    """Call ``namespace[function]`` on ``case`` as the harness would; return its reply dict."""
    oracles = {name: {k: wire.decode(wire.encode(v)) for k, v in spec.items()} for name, spec in case.oracles.items()}
    reply = harness.call(namespace, function, harness.resolve(wire.decode(wire.encode(case.args))), oracles)
    if reply["status"] == "ok":
        reply["decoded"] = wire.decode(reply["value"])
    return reply


def check(assignment, grade_id, namespace):
    """Run the hidden cases of part ``grade_id`` of ``assignment`` against ``namespace``."""
    spec = specs.get(assignment, secret=secret.load(secret.course_root(os.getcwd())))
    part = next((p for p in spec.parts if p.grade_id == grade_id), None)
    if part is None:
        raise ValueError(f"assignment {assignment!r} has no graded part {grade_id!r}")
    failures = []
    for case in part.cases:
        ok, message = judge.judge(case, run_case(case, part.function, namespace), part.function)
        if not ok:
            failures.append(f"{case.label}: {message}")
    if failures:
        raise AssertionError(f"{part.function}: " + "\n".join(failures))
    print(f"{part.function}: all {len(part.cases)} grading cases pass")
