"""The checkpoints of chapter 16 (``tools/train_parallel_models.py``) are what data/README.md and
the chapter say: five language models that differ only in their cell, layers and hidden size,
with the GRU's parameter count within 1%, each recording the validation perplexity a fresh
evaluation gives; and two selective-copying minGRUs (one layer, three) whose recorded test
accuracy a fresh evaluation gives, the three layers well above the one."""

import json
from dataclasses import replace

import numpy as np
import pytest

from rnnlib import charlm, lm, text
from rnnlib.data import selective_copying

MODELS = {"time_machine_gru1x128.npz": ("gru", 1, 128), "time_machine_lstm1x108.npz": ("lstm", 1, 108),
          "time_machine_mingru2x160.npz": ("mingru", 2, 160), "time_machine_mingru3x122.npz": ("mingru", 3, 122),
          "time_machine_minlstm2x128.npz": ("minlstm", 2, 128)}
#: What every run shares (data/README.md): the command line's defaults, in float32, 1000 steps,
#: no dropout.
SHARED = charlm.Config(dtype="float32", steps=1000, seed=0, dropout=0.0)
TOLERANCE = 0.01
COPIERS = {"copying_mingru1.npz": 1, "copying_mingru3.npz": 3}


def _load(name):
    return charlm.load_checkpoint(text.DATA_DIR / "models" / name)


def test_the_language_models_differ_only_in_their_cell_and_shape_and_have_as_many_parameters():
    counts = {}
    for name, (cell, layers, hidden) in MODELS.items():
        model = _load(name)
        assert model.config == replace(SHARED, cell=cell, layers=layers, hidden=hidden)
        assert model.step == SHARED.steps and model.history["step"][-1] == SHARED.steps
        assert all(v.dtype == np.float32 for v in model.params.values())
        counts[name] = sum(v.size for v in model.params.values())
    gru = counts["time_machine_gru1x128.npz"]
    assert all(abs(n / gru - 1) <= TOLERANCE for n in counts.values()), counts


@pytest.mark.parametrize("name", MODELS)
def test_the_recorded_validation_perplexity_is_a_fresh_evaluations(name):
    """Tolerance 0.5%: the shipped weights are float32, evaluated here in float64."""
    model = _load(name)
    c = model.config
    valid = text.split_text(text.load_text(c.text), c.fractions)[1]
    params = {k: v.astype(np.float64) for k, v in model.params.items()}
    ppl = lm.lm_perplexity(c.cell, params, model.vocab.encode(valid))
    assert ppl == pytest.approx(model.history["valid_ppl"][-1], rel=5e-3)


def _copier(name):
    with np.load(text.DATA_DIR / "models" / name) as f:
        meta = json.loads(str(f["meta"]))
        return {k: f[k].astype(np.float64) for k in f.files if k != "meta"}, meta


def test_the_copiers_record_what_a_fresh_evaluation_gives_and_depth_helps():
    acc = {}
    for name, layers in COPIERS.items():
        params, meta = _copier(name)
        assert meta["layers"] == layers and lm.count_layers("mingru", params) == layers
        X, Y, mask = selective_copying(meta["T"], meta["test_size"], meta["n_copy"], meta["n_symbols"],
                                       np.random.default_rng([meta["seed"], 999]))
        state = lm.zero_state("mingru", meta["hidden"], X.shape[1], layers=layers)
        logits, _ = lm.lm_forward("mingru", params, X, state)
        acc[layers] = float((logits.argmax(axis=1) == Y)[mask == 1].mean())
        assert acc[layers] == pytest.approx(meta["history"]["test_accuracy"][-1], abs=5e-3)
    assert acc[3] > acc[1] + 0.2, acc
