"""Shared fixtures and helpers for the test suite."""

import os

import numpy as np
import pytest


def random_problem(cell, T=5, D=3, H=4, B=3, seed=0, scale=0.5):
    """Random weights, inputs, initial state and upstream gradient for a cell.

    Sizes default to T >= 4, H != D, B > 1 so that a transposed weight, a batch mix-up or
    an off-by-one in time cannot pass unnoticed. Weights are scaled so that the gates are
    neither saturated nor linear.
    """
    import rnnlib

    rng = np.random.default_rng(seed)
    n = len(rnnlib.weight_names(cell))
    weights = tuple(scale * rng.standard_normal((H, H + D) if i < n // 2 else (H, 1)) for i in range(n))
    X = rng.standard_normal((T, D, B))
    h_0 = 0.5 * rng.standard_normal((H, B))
    G = rng.standard_normal((T, H, B))
    return weights, X, h_0, G


@pytest.fixture
def problem():
    return random_problem


STRICT = os.environ.get("RNN_COURSE_STRICT") == "1"
_REPORT = []


@pytest.fixture(scope="session")
def sandbox_flag():
    """``[]`` when bubblewrap works here; otherwise ``["--no-sandbox"]`` (CI, strict: a failure)."""
    from rnngrade import sandbox

    try:
        sandbox.check_available()
        return []
    except sandbox.SandboxUnavailable as exc:
        if STRICT:
            pytest.fail(f"RNN_COURSE_STRICT=1 but the grading sandbox is unavailable: {exc}")
        return ["--no-sandbox"]


@pytest.fixture(scope="session")
def grading_report():
    """Lines for the report printed at the end of the run (grading times, attacks tried)."""
    return _REPORT


def pytest_terminal_summary(terminalreporter):
    if _REPORT:
        terminalreporter.section("grading report")
        for line in _REPORT:
            terminalreporter.write_line(line)
