"""Shared helpers for the tests of rnnlib, and the registration of the instructor's plugins.

This file also ships, unchanged, with the students' copy of rnnlib's tests
(``tools/student_repo.py``), which has none of the instructor's plugins.
"""

import importlib
from pathlib import Path

import numpy as np
import pytest

# Registered as plugins, not imported here, because a conftest's hooks see only the items of its
# own directory (nbval's items are in book/): executed.py keeps nbval's executions of the
# chapters for the book build; grading_fixtures.py has the grader's fixtures and the report.
INSTRUCTOR_PLUGINS = ("executed", "grading_fixtures")


def pytest_configure(config):
    for name in INSTRUCTOR_PLUGINS:
        if (Path(__file__).parent / f"{name}.py").is_file():
            plugin = importlib.import_module(name)
            if not config.pluginmanager.is_registered(plugin):
                config.pluginmanager.register(plugin, f"rnn-course-{name}")


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
    weights = tuple(scale * rng.standard_normal(shape) for shape in spec.shapes(D, H))
    X = rng.standard_normal((T, D, B))
    state_0 = spec.pack_state([0.5 * rng.standard_normal((H, B)) for _ in spec.state_names])
    G = rng.standard_normal((T, H, B))
    return weights, X, state_0, G


@pytest.fixture
def problem():
    return random_problem
