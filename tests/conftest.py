"""Shared fixtures and helpers for the test suite."""

import os

import numpy as np
import pytest


def pytest_configure(config):
    """Keep nbval's executions of the chapters for the book build (``executed.py``). It is
    registered as a plugin, not imported here, because a conftest's hooks see only the items
    of its own directory, and nbval's items are in ``book/``."""
    import executed

    if not config.pluginmanager.is_registered(executed):
        config.pluginmanager.register(executed, "rnn-course-executed-chapters")


def random_problem(cell, T=5, D=3, H=4, B=3, seed=0, scale=0.5):
    """Random weights, inputs, initial state and upstream gradient for a cell.

    Sizes default to T >= 4, H != D, B > 1 so that a transposed weight, a batch mix-up or
    an off-by-one in time cannot pass unnoticed. Weights are scaled so that the gates are
    neither saturated nor linear. The initial state is nonzero: ``h_0``, or for the LSTM the
    pair ``(h_0, c_0)`` (a zero ``c_0`` would hide a forget gate applied to the wrong term).
    """
    import rnnlib

    spec = rnnlib.CELLS[cell]
    rng = np.random.default_rng(seed)
    n = len(spec.weight_names)
    weights = tuple(scale * rng.standard_normal((H, H + D) if i < n // 2 else (H, 1)) for i in range(n))
    X = rng.standard_normal((T, D, B))
    state_0 = spec.pack_state([0.5 * rng.standard_normal((H, B)) for _ in spec.state_names])
    G = rng.standard_normal((T, H, B))
    return weights, X, state_0, G


def state_parts(state):
    """A state as a list of arrays: ``[h]``, or ``[h, c]`` for the LSTM's pair."""
    return list(state) if isinstance(state, tuple) else [state]


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


@pytest.fixture(scope="module")
def chromium_browser():
    """Headless Chromium, Playwright's ``Browser`` (``tests/browser.py``), for one test module.
    Where it cannot run, the tests that use it skip with the reason, or fail under
    ``RNN_COURSE_STRICT=1`` (CI)."""
    import browser

    reason = browser.unavailable()
    if reason is not None:
        if STRICT:
            pytest.fail(f"RNN_COURSE_STRICT=1 but the browser tests cannot run: {reason}")
        pytest.skip(f"browser test skipped: {reason}")
    with browser.chromium() as chromium:
        yield chromium


@pytest.fixture(scope="session")
def grading_report():
    """Lines for the report printed at the end of the run (grading times, attacks tried)."""
    return _REPORT


def pytest_terminal_summary(terminalreporter):
    if _REPORT:
        terminalreporter.section("grading report")
        for line in _REPORT:
            terminalreporter.write_line(line)
