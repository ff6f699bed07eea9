"""``python -m rnnlib.seq2seq``: train, translate, attention heat maps, one-line errors; and its
checkpoints (``rnnlib.seq2seq.checkpoint``)."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest

from rnnlib.seq2seq import init_seq2seq
from rnnlib.seq2seq.__main__ import HELP, main
from rnnlib.seq2seq import __main__ as cli
from rnnlib.seq2seq.checkpoint import FORMAT, CheckpointError, load_checkpoint, save_checkpoint
from rnnlib.seq2seq.data import TASKS
from rnnlib.seq2seq.train import Config

ROOT = Path(__file__).resolve().parents[2]
#: a small model that learns the shape of an ISO date in a few seconds (the exact dates it gets
#: wrong more often than not)
SMALL = ["--train-size", "3000", "--epochs", "3", "--lr", "0.01", "--hidden", "16", "--dec-hidden", "32",
         "--embed", "16", "--attention-size", "16", "--valid-size", "50", "--test-size", "50"]
ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
TEXTS = ["the 3rd of march 1987", "3/4/21", "Tuesday, March 3, 1987", "17.11.2043"]
PNG = b"\x89PNG\r\n\x1a\n"


def _run(*args, cwd, stdin=None, timeout=120):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "rnnlib.seq2seq", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, input=stdin, timeout=timeout)


def _files(folder):
    return sorted(p.name for p in Path(folder).iterdir())


def _tiny_config(**changes):
    return Config(**dict(dict(hidden=4, dec_hidden=6, embed=3, attention_size=5), **changes))


def _tiny_params(config, V_src=None, V_tgt=None):
    sv, tv = TASKS[config.task].vocabs
    return init_seq2seq(config.cell, V_src or len(sv), V_tgt or len(tv), config.embed, config.hidden,
                        config.dec_hidden, config.attention_size, config.layers, config.attention, config.seed)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One model trained from the command line, for every test of this module: (checkpoint, run)."""
    folder = tmp_path_factory.mktemp("trained")
    run = _run("train", "--task", "dates", *SMALL, "--out", "dates.npz", cwd=folder)
    return folder / "dates.npz", run


@pytest.fixture
def work(trained, tmp_path):
    """A folder of its own holding a copy of the trained checkpoint."""
    shutil.copy(trained[0], tmp_path / "dates.npz")
    return tmp_path


@pytest.fixture
def untrained(tmp_path):
    """A folder holding an untrained dates checkpoint (its initial weights): enough for what is
    checked before translating."""
    config = _tiny_config()
    save_checkpoint(tmp_path / "dates.npz", config, _tiny_params(config), {})
    return tmp_path


@pytest.mark.slow
def test_train_writes_the_checkpoint_and_prints_the_test_accuracy(trained):
    path, run = trained
    assert run.returncode == 0, run.stderr
    assert re.fullmatch(r"test accuracy (\d\.\d{3}) \(50 dates of the test split, greedy\); wrote dates\.npz\n",
                        run.stdout), run.stdout
    assert re.findall(r"epoch (\d)/3: loss \d+\.\d+, validation accuracy \d\.\d{3}", run.stderr) == ["1", "2", "3"]
    assert _files(path.parent) == ["dates.npz"]                       # no temporary file left
    model = load_checkpoint(path)
    assert model.config == Config(train_size=3000, epochs=3, lr=0.01, hidden=16, dec_hidden=32, embed=16,
                                  attention_size=16, valid_size=50, test_size=50)
    assert f"test accuracy {model.history['test_accuracy']:.3f}" in run.stdout
    assert len(model.history["loss"]) == 3 and (model.max_source, model.max_target) == (32, 10)


@pytest.mark.slow
@pytest.mark.parametrize("beam", [[], ["--beam", "3"], ["--beam", "3", "--length-norm", "1"]])
def test_translate_prints_one_iso_date_per_input_in_order(work, beam):
    r = _run("translate", "dates.npz", *TEXTS, *beam, cwd=work)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    lines = r.stdout.split("\n")
    assert len(lines) == len(TEXTS) + 1 and lines[-1] == ""
    assert all(ISO.fullmatch(line) for line in lines[:-1]), lines
    alone = _run("translate", "dates.npz", *beam, TEXTS[2], cwd=work)       # the same alone, and after the options
    assert alone.returncode == 0 and alone.stdout == lines[2] + "\n", alone.stderr
    assert _files(work) == ["dates.npz"]


@pytest.mark.slow
def test_translate_reads_stdin_when_no_text_is_given(work):
    r = _run("translate", "dates.npz", cwd=work, stdin="\n".join(TEXTS) + "\n\n  \n")        # blank lines at the end
    assert r.returncode == 0, r.stderr
    assert r.stdout == _run("translate", "dates.npz", *TEXTS, cwd=work).stdout
    assert len(r.stdout.splitlines()) == len(TEXTS)


@pytest.mark.slow
@pytest.mark.parametrize("beam", ["1", "2"])
def test_attention_heat_maps_are_written_to_a_png(work, beam):
    r = _run("translate", "dates.npz", *TEXTS[:2], "--beam", beam, "--attention", "maps/att.png", cwd=work)
    assert r.returncode == 2 and "the directory maps does not exist" in r.stderr          # checked first
    assert r.stdout == ""
    (work / "maps").mkdir()
    r = _run("translate", "dates.npz", *TEXTS[:2], "--beam", beam, "--attention", "maps/att.png", cwd=work)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 2 and r.stderr == "wrote the attention of 2 inputs to maps/att.png\n"
    assert (work / "maps" / "att.png").read_bytes()[:8] == PNG
    assert _files(work / "maps") == ["att.png"]


def test_plot_attention_labels_the_source_and_the_output():
    from matplotlib.figure import Figure

    from rnnlib.seq2seq.plot import plot_attention

    ax = Figure().subplots()
    image = plot_attention(ax, np.full((3, 4), 0.25), "3 ma", "12")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["3", "␣", "m", "a"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "2", "<eos>"]
    assert image.get_clim() == (0, 1)
    with pytest.raises(ValueError, match="one row per output character"):
        plot_attention(ax, np.ones((5, 4)), "3 ma", "12")


def _no_attention_checkpoint(folder):
    config = _tiny_config(attention=False)
    save_checkpoint(folder / "plain.npz", config, _tiny_params(config), {"loss": []})


def _wrong_format(folder):
    np.savez(folder / "other.npz", meta=np.array(json.dumps({"format": "rnnlib.charlm/1"})))


@pytest.mark.parametrize("args, stdin, message", [
    (["dates.npz", "3 märz 1987"], None, "input 1 '3 märz 1987' has characters outside the model's source "
                                         "vocabulary: 'äz'"),
    (["dates.npz", "3/4/21", "3/4/21 ?!"], None, "input 2 '3/4/21 ?!' has characters outside the model's source "
                                                 "vocabulary: '?!'"),
    (["dates.npz", "3/4/21", ""], None, "input 2 is empty"),
    (["dates.npz", "   "], None, "input 1 is only whitespace"),
    (["dates.npz", "3 March 1987, 3 March 1987, 3 March 1987"], None, "has 40 characters; the model reads at most 32"),
    (["dates.npz"], "3/4/21\n\n3/4/22\n", "line 2 is empty"),
    (["dates.npz"], "\n\n", "no input: give TEXT arguments, or lines on stdin"),
    (["missing.npz", "3/4/21"], None, "no checkpoint at missing.npz"),
    (["notes.npz", "3/4/21"], None, "notes.npz is not an rnnlib.seq2seq checkpoint (not an .npz file)"),
    (["truncated.npz", "3/4/21"], None, "truncated.npz is not "),
    (["other.npz", "3/4/21"], None, "other.npz is not an rnnlib.seq2seq checkpoint (its format is 'rnnlib.charlm/1'"),
    (["dates.npz", "3/4/21", "--beam", "0"], None, "--beam must be at least 1; got 0"),
    (["dates.npz", "3/4/21", "--beam", "two"], None, "argument --beam: invalid int value: 'two'"),
    (["dates.npz", "3/4/21", "--length-norm", "-1"], None, "--length-norm must be a number >= 0; got -1.0"),
    (["dates.npz", "3/4/21", "--length-norm", "nan"], None, "--length-norm must be a number >= 0; got nan"),
    (["dates.npz", "3/4/21", "--attention", "no/such/dir/a.png"], None, "the directory no/such/dir does not exist"),
    (["dates.npz", "3/4/21", "--attention", "a.txt"], None, "--attention a.txt: give an image file name ending in"),
    (["dates.npz", "3/4/21", "--attention", "."], None, "--attention .: give an image file name"),
    (["plain.npz", "3/4/21", "--attention", "a.png"], None, "--attention a.png: the model has no attention"),
    (["dates.npz", "3/4/21", "--attention", "a.png", "3/4/2x"], None, "input 2 '3/4/2x' has characters"),
    (["dates.npz", "3/4/21", "--bem", "3"], None, "unrecognized arguments: --bem 3 (see python -m rnnlib.seq2seq"),
])
def test_bad_input_gets_one_line_exit_2_and_writes_nothing(untrained, args, stdin, message):
    work = untrained
    (work / "notes.npz").write_text("my notes\n")
    (work / "truncated.npz").write_bytes((work / "dates.npz").read_bytes()[:300])
    _wrong_format(work)
    _no_attention_checkpoint(work)
    before = _files(work)
    r = _run("translate", *args, cwd=work, stdin=stdin)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and message in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stdout == "" and _files(work) == before


@pytest.mark.parametrize("args, message", [
    (["--out", "no/such/dir/m.npz"], "--out no/such/dir/m.npz: the directory no/such/dir does not exist"),
    (["--out", "."], "--out . is a directory; give a file name"),
    (["--out", "notes.txt"], "--out notes.txt exists and is not an rnnlib.seq2seq checkpoint; it is not overwritten"),
    (["--hidden", "0"], "--hidden must be an integer >= 1; got 0"),
    (["--dec-hidden", "-3"], "--dec-hidden must be an integer >= 1; got -3"),
    (["--lr", "inf"], "--lr must be a positive finite number; got inf"),
    (["--cell", "transformer"], "--cell must be one of"),
    (["--task", "sorting"], "--task must be one of"),
    (["--seed", "-1"], "--seed must be an integer >= 0; got -1"),
    (["--epochs", "1.5"], "argument --epochs: invalid int value: '1.5'"),
])
def test_bad_training_settings_fail_before_training(tmp_path, args, message):
    (tmp_path / "notes.txt").write_text("my notes\n")
    started = time.monotonic()
    r = _run("train", "--train-size", "1000000", "--epochs", "100", *args, cwd=tmp_path, timeout=60)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and message in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert _files(tmp_path) == ["notes.txt"] and time.monotonic() - started < 30


def test_every_setting_is_an_option_that_says_what_it_does():
    assert set(HELP) == {f.name for f in fields(Config)}
    r = _run("train", "--help", cwd=ROOT)
    assert r.returncode == 0
    flat = " ".join(r.stdout.split())
    for f in fields(Config):
        option = "--no-attention" if f.name == "attention" else f"--{f.name.replace('_', '-')}"
        assert option in flat, option
    assert "--cell rnn|gru|mgu|lstm" in flat and "one of dates, reverse" in flat
    r = _run("translate", "--help", cwd=ROOT)
    assert r.returncode == 0 and "--beam K" in r.stdout and "--attention FILE.png" in r.stdout


def test_an_untrained_model_translates_too(untrained):
    """The whole path, fast: one line per input (the characters of the target side), any beam."""
    for beam in ("1", "2"):
        r = _run("translate", "dates.npz", "--beam", beam, *TEXTS, cwd=untrained)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert re.fullmatch(r"([0-9-]*\n){4}", r.stdout), r.stdout


@pytest.mark.slow
def test_train_without_attention_and_its_default_out(tmp_path):
    r = _run("train", "--task", "reverse", "--no-attention", "--cell", "lstm", "--train-size", "40", "--epochs", "1",
             "--hidden", "4", "--dec-hidden", "6", "--embed", "3", "--valid-size", "5", "--test-size", "5", "--quiet",
             cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.endswith("(5 strings of the test split, greedy); wrote reverse.npz\n")
    model = load_checkpoint(tmp_path / "reverse.npz")
    assert not model.config.attention and "W_a" not in model.params and model.config.cell == "lstm"
    r = _run("translate", "reverse.npz", "abc", "--beam", "2", cwd=tmp_path)
    assert r.returncode == 0 and re.fullmatch(r"[a-z]*\n", r.stdout), r.stderr


def test_ctrl_c_exits_130_with_one_line(monkeypatch, capsys, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "train_seq2seq", interrupted)
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: None)        # not in pytest's own process
    assert main(["train", "--out", "m.npz"]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("interrupted") and _files(tmp_path) == []


# ---------------------------------------------------------------- checkpoints, in-process


def test_a_checkpoint_round_trips(tmp_path):
    config = _tiny_config(cell="lstm", layers=2, seed=4)
    params = _tiny_params(config)
    history = {"loss": [2.5, 1.25], "valid_accuracy": [0.0, 0.5], "test_accuracy": 0.75}
    save_checkpoint(tmp_path / "m.npz", config, params, history)
    assert _files(tmp_path) == ["m.npz"]
    model = load_checkpoint(tmp_path / "m.npz")
    assert model.config == config and model.history == history
    assert model.params.keys() == params.keys()
    for k in params:
        np.testing.assert_array_equal(model.params[k], params[k])
    task = TASKS["dates"]
    assert (model.src_vocab, model.tgt_vocab) == task.vocabs
    assert (model.max_source, model.max_target) == (task.max_source, task.max_target)
    with zipfile.ZipFile(tmp_path / "m.npz") as z:
        assert json.loads(str(np.load(tmp_path / "m.npz")["meta"]))["format"] == FORMAT == "rnnlib.seq2seq/1"
        assert "meta.npy" in z.namelist()


@pytest.mark.parametrize("case, message", [
    ("missing", "no checkpoint at"),
    ("text", "is not an rnnlib.seq2seq checkpoint (not an .npz file)"),
    ("truncated", "is not an rnnlib.seq2seq checkpoint (not an .npz file)"),
    ("corrupted", "is not a readable rnnlib.seq2seq checkpoint (BadZipFile: "),
    ("no metadata", "is not an rnnlib.seq2seq checkpoint (it holds no metadata)"),
    ("wrong format", "is not an rnnlib.seq2seq checkpoint (its format is 'rnnlib.charlm/1'"),
    ("bad settings", "is not a readable rnnlib.seq2seq checkpoint (ValueError: hidden must be an integer >= 1"),
    ("another cell", "params is not an encoder-decoder of lstm cells"),
    ("another vocabulary", "E_src has shape (3, 20), which does not fit the source vocabulary"),
    ("another size", "parameter W_u_enc0_f should have shape"),
])
def test_a_bad_checkpoint_is_a_checkpoint_error_naming_the_file(tmp_path, case, message):
    config = _tiny_config()
    path = tmp_path / "m.npz"
    save_checkpoint(path, config, _tiny_params(config), {})
    if case == "missing":
        path = tmp_path / "nowhere.npz"
    elif case == "text":
        path.write_text("not a checkpoint\n")
    elif case == "truncated":
        path.write_bytes(path.read_bytes()[:-200])
    elif case == "corrupted":                    # the zip's directory intact, an array's bytes not
        data = bytearray(path.read_bytes())
        data[200:210] = bytes(10)
        path.write_bytes(bytes(data))
    elif case == "no metadata":
        np.savez(path, W=np.zeros(3))
    elif case == "wrong format":
        _wrong_format(tmp_path)
        path = tmp_path / "other.npz"
    elif case == "bad settings":
        with np.load(path) as z:
            arrays = dict(z)
        meta = json.loads(str(arrays["meta"]))
        meta["config"]["hidden"] = 0
        arrays["meta"] = np.array(json.dumps(meta))
        np.savez(path, **arrays)
    elif case == "another cell":
        save_checkpoint(path, replace(config, cell="lstm"), _tiny_params(config), {})
    elif case == "another vocabulary":
        save_checkpoint(path, config, _tiny_params(config, V_src=20), {})
    else:
        save_checkpoint(path, config, _tiny_params(replace(config, hidden=5)), {})
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    assert message in str(error.value) and str(path) in str(error.value) and "\n" not in str(error.value)


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    config = _tiny_config()
    params = _tiny_params(config)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path / "m.npz", config, params, {})
    monkeypatch.undo()
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(OSError):
        save_checkpoint(tmp_path / "folder.npz", config, params, {})
    assert _files(tmp_path) == ["folder.npz"]
