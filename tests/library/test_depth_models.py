"""The checkpoints of one GRU layer against two (``tools/train_depth_models.py``) are what
data/README.md and chapter 13 say: the two runs differ only in their layers and hidden size,
have the same number of parameters within 1%, are complete, and record the validation
perplexity that a fresh evaluation gives."""

from dataclasses import replace

import numpy as np
import pytest

from rnnlib import charlm, lm, text

MODELS = {"time_machine_gru1x256.npz": (1, 256), "time_machine_gru2x158.npz": (2, 158)}
#: What both runs share (data/README.md): the command line's defaults, in float32, 2000 steps.
SHARED = charlm.Config(dtype="float32", steps=2000, seed=0)
#: How far the parameter counts may differ (data/README.md, chapter 13).
TOLERANCE = 0.01


def _load(name):
    return charlm.load_checkpoint(text.DATA_DIR / "models" / name)


def test_the_two_runs_differ_only_in_their_shape_and_have_as_many_parameters():
    counts = {}
    for name, (layers, hidden) in MODELS.items():
        model = _load(name)
        assert model.config == replace(SHARED, layers=layers, hidden=hidden)
        assert model.step == SHARED.steps and model.history["step"][-1] == SHARED.steps
        assert all(v.dtype == np.float32 for v in model.params.values())
        counts[name] = sum(v.size for v in model.params.values())
        fresh = lm.init_lm("gru", len(model.vocab), hidden, layers=layers)
        assert counts[name] == sum(v.size for v in fresh.values())
    assert max(counts.values()) <= (1 + TOLERANCE) * min(counts.values()), counts


@pytest.mark.parametrize("name", MODELS)
def test_the_recorded_validation_perplexity_is_a_fresh_evaluations(name):
    """Tolerance 0.5%: the shipped weights are float32, evaluated here in float64."""
    model = _load(name)
    c = model.config
    valid = text.split_text(text.load_text(c.text), c.fractions)[1]
    params = {k: v.astype(np.float64) for k, v in model.params.items()}
    ppl = lm.lm_perplexity(c.cell, params, model.vocab.encode(valid))
    assert ppl == pytest.approx(model.history["valid_ppl"][-1], rel=5e-3)
