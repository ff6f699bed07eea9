"""``python -m rnnlib.charlm``: train, resume, sample, and one-line errors."""

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from rnnlib import charlm
from rnnlib.charlm.__main__ import main

TINY = charlm.Config(cell="gru", hidden=8, batch_size=4, num_steps=8, steps=12, eval_every=4, seed=3)


def _run(*args):
    return subprocess.run([sys.executable, "-m", "rnnlib.charlm", *args], capture_output=True, text=True)


def test_resuming_continues_exactly_as_an_uninterrupted_run(tmp_path):
    """12 steps in one go, and 4 + 8 through a checkpoint, give the same weights to the last bit:
    the checkpoint holds the weights, Adam's moments, the carried state and the place in the text."""
    whole = charlm.train_charlm(TINY, out=tmp_path / "a.npz", progress=False)
    charlm.train_charlm(replace(TINY, steps=4), out=tmp_path / "b.npz", progress=False)
    resumed = charlm.train_charlm(TINY, out=tmp_path / "b.npz", resume=tmp_path / "b.npz", progress=False)
    assert resumed.step == whole.step == 12
    for k in whole.params:
        np.testing.assert_array_equal(resumed.params[k], whole.params[k])
    assert resumed.history == charlm.load_checkpoint(tmp_path / "a.npz").history == whole.history
    assert len(whole.history["valid_ppl"]) == 3


def test_train_then_sample_from_the_command_line(tmp_path):
    out = tmp_path / "m.npz"
    r = _run("train", "--cell", "lstm", "--hidden", "8", "--batch-size", "4", "--num-steps", "8",
             "--steps", "3", "--eval-every", "3", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    assert f"step 3: validation perplexity" in r.stdout and out.exists()
    model = charlm.load_checkpoint(out)
    assert model.config.cell == "lstm" and model.params["W_y"].shape == (len(model.vocab), 8)
    a = _run("sample", str(out), "--prime", "The ", "--length", "30", "--temperature", "0.8", "--seed", "1")
    b = _run("sample", str(out), "--prime", "The ", "--length", "30", "--temperature", "0.8", "--seed", "1")
    assert a.returncode == 0 and a.stdout == b.stdout and a.stdout.startswith("The ")
    assert len(a.stdout.rstrip("\n")) == 34


@pytest.mark.parametrize("args, message", [
    (["sample", "{ckpt}", "--temperature", "-0.5"], "--temperature must be >= 0; got -0.5"),
    (["sample", "{dir}/missing.npz"], "no checkpoint at"),
    (["sample", "{dir}/corrupt.npz"], "is not an rnnlib.charlm checkpoint"),
    (["sample", "{ckpt}", "--prime", "Th@#"], "--prime has characters the model never saw: '#@'"),
    (["sample", "{ckpt}", "--length", "-1"], "--length must be >= 0"),
    (["train", "--cell", "transformer"], "--cell must be one of ['gru', 'lstm', 'mgu', 'rnn']"),
    (["train", "--hidden", "0"], "--hidden must be at least 1"),
])
def test_bad_arguments_get_one_line_and_no_traceback(tmp_path, capsys, args, message):
    ckpt = tmp_path / "m.npz"
    charlm.train_charlm(replace(TINY, steps=1), out=ckpt, progress=False)
    (tmp_path / "corrupt.npz").write_bytes(ckpt.read_bytes()[:100])          # a truncated download
    code = main([a.format(ckpt=ckpt, dir=tmp_path) for a in args])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_the_shipped_checkpoint_is_the_default_run():
    """data/models/ holds what data/README.md and the book say: the command line's default run,
    complete, with the validation perplexity its history records. Tolerance 0.5%: the shipped
    weights are rounded to float32 (about 1e-7 relative each)."""
    from rnnlib import lm, text

    model = charlm.load_checkpoint(text.DATA_DIR / "models" / "time_machine_gru256.npz")
    assert model.config == charlm.Config() and model.step == charlm.Config().steps
    valid = model.vocab.encode(text.split_text(text.load_text("time_machine"))[1])
    params = {k: v.astype(np.float64) for k, v in model.params.items()}
    assert lm.lm_perplexity(model.config.cell, params, valid) == pytest.approx(model.history["valid_ppl"][-1], rel=5e-3)
