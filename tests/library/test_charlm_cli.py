"""``python -m rnnlib.charlm``: train, resume, sample, and one-line errors."""

import contextlib
import platform
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest

from rnnlib import charlm
from rnnlib.charlm.__main__ import main

TINY = charlm.Config(cell="gru", hidden=8, batch_size=4, window=8, steps=12, eval_every=4, seed=3)


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
    r = _run("train", "--cell", "lstm", "--hidden", "8", "--batch-size", "4", "--window", "8",
             "--steps", "3", "--eval-every", "3", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    assert f"step 3: validation perplexity" in r.stdout and out.exists()
    model = charlm.load_checkpoint(out)
    assert model.config.cell == "lstm" and model.params["W_y"].shape == (len(model.vocab), 8)
    a = _run("sample", str(out), "--prime", "The ", "--length", "30", "--temperature", "0.8", "--seed", "1")
    b = _run("sample", str(out), "--prime", "The ", "--length", "30", "--temperature", "0.8", "--seed", "1")
    assert a.returncode == 0 and a.stdout == b.stdout and a.stdout.startswith("The ")
    assert len(a.stdout.rstrip("\n")) == 34


@pytest.mark.parametrize("cell", ["mingru", "minlstm"])
def test_the_parallel_cells_train_resume_and_sample_from_the_command_line(own_text, tmp_path, cell):
    """minGRU and minLSTM run in parallel mode (one product for all steps, then the recurrence);
    stacked, they train, resume exactly, and sample like any cell."""
    out = tmp_path / "m.npz"
    args = ("--text", str(own_text), "--cell", cell, "--layers", "2", "--hidden", "8", "--batch-size", "4",
            "--window", "8", "--eval-every", "3", "--seed", "2", "--quiet")
    r = _run("train", *args, "--steps", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    r = _run("train", "--resume", str(out), "--steps", "6", "--quiet")
    assert r.returncode == 0, r.stderr
    whole = charlm.train_charlm(charlm.Config(text=str(own_text), cell=cell, layers=2, hidden=8, batch_size=4,
                                              window=8, steps=6, eval_every=3, seed=2), progress=False)
    model = charlm.load_checkpoint(out)
    assert model.config.cell == cell and model.step == 6
    assert model.params["W_h_l1"].shape == (8, 8)              # (H, D): the layer above reads H
    for k in whole.params:
        np.testing.assert_allclose(model.params[k], whole.params[k], rtol=1e-12, atol=1e-15)
    a = _run("sample", str(out), "--prime", "the ", "--length", "20", "--seed", "1")
    assert a.returncode == 0 and a.stdout.startswith("the ") and len(a.stdout.rstrip("\n")) == 24


@pytest.mark.parametrize("args, message", [
    (["sample", "{ckpt}", "--temperature", "-0.5"], "--temperature must be a number >= 0; got -0.5"),
    (["sample", "{ckpt}", "--temperature", "inf"], "--temperature must be a number >= 0; got inf"),
    (["sample", "{ckpt}", "--seed", "-1"], "--seed must be >= 0; got -1"),
    (["train", "--lr", "inf"], "--lr must be a number > 0; got inf"),
    (["train", "--embed", "-1"], "--embed must be >= 0; got -1"),
    (["train", "--hidden", "100000"], "needs about"),
    (["train", "--out", ""], "--out must name a file"),
    (["sample", "{dir}/missing.npz"], "no checkpoint at"),
    (["sample", "{dir}/corrupt.npz"], "is not an rnnlib.charlm checkpoint"),
    (["sample", "{ckpt}", "--prime", "Th@#"], "--prime has characters the model never saw: '#@'"),
    (["sample", "{ckpt}", "--length", "-1"], "--length must be >= 0"),
    (["train", "--cell", "transformer"], "--cell must be one of rnn, gru, mgu, lstm, mingru, minlstm; got 'transformer'"),
    (["train", "--hidden", "0"], "--hidden must be at least 1"),
])
def test_bad_arguments_get_one_line_and_no_traceback(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)                   # where a mistaken run would write model.npz
    ckpt = tmp_path / "m.npz"
    charlm.train_charlm(replace(TINY, steps=1), out=ckpt, progress=False)
    (tmp_path / "corrupt.npz").write_bytes(ckpt.read_bytes()[:100])          # a truncated download
    code = main([a.format(ckpt=ckpt, dir=tmp_path) for a in args])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.npz", "m.best.npz", "m.npz"]     # nothing written


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


# ---------------------------------------------------------------- a text of one's own, as a char-rnn user

SMALL = ["--cell", "lstm", "--layers", "2", "--hidden", "8", "--batch-size", "4", "--window", "8", "--quiet"]


@pytest.fixture
def own_text(tmp_path):
    """A text that is not shipped: 60 lines of made-up prose, in a folder of its own."""
    rng = np.random.default_rng(0)
    words = "the quick brown fox jumps over a lazy dog while seven wizards hex jovial gnomes".split()
    path = tmp_path / "texts" / "mine.txt"
    path.parent.mkdir()
    path.write_text("\n".join(" ".join(rng.choice(words, 10)) for _ in range(60)) + "\n", encoding="utf-8")
    return path


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_trains_samples_and_resumes_on_ones_own_text(own_text, tmp_path):
    out = tmp_path / "run" / "m.npz"
    out.parent.mkdir()
    r = _run("train", "--text", str(own_text), *SMALL, "--dtype", "float32", "--lr-decay", "0.9", "--decay-after", "1",
             "--steps", "12", "--eval-every", "4", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert re.search(r"step 12: validation perplexity \d+\.\d+, test perplexity \d+\.\d+; wrote ", r.stdout), r.stdout
    assert _files(out.parent) == ["m.best.npz", "m.npz"]                   # the best beside the last, no temp file
    model = charlm.load_checkpoint(out)
    assert model.config.layers == 2 and model.config.text == str(own_text) and model.params["W_y"].dtype == np.float32
    assert f"test perplexity {model.test_ppl:.3f}" in r.stdout                 # printed, and kept with the model
    assert set(model.vocab.chars[1:]) == set(own_text.read_text()) - {"\n"} | {"\n"} & set(model.vocab.chars)
    # sampling needs the checkpoint alone; resuming needs the same text, named again if it moved
    moved = own_text.rename(tmp_path / "moved.txt")
    a = _run("sample", str(out), "--prime", "the ", "--length", "20")
    assert a.returncode == 0 and a.stdout.startswith("the ") and len(a.stdout.rstrip("\n")) == 24
    lost = _run("train", "--resume", str(out), "--steps", "16", "--quiet")
    assert lost.returncode == 2 and "which is not there any more; give the same text's new place with --text" in lost.stderr
    r = _run("train", "--resume", str(out), "--steps", "16", "--text", str(moved), "--quiet")
    assert r.returncode == 0 and "wrote " + str(out) in r.stdout, r.stderr      # --out defaults to the resumed file
    assert charlm.load_checkpoint(out).step == 16
    other = tmp_path / "other.txt"
    other.write_text(moved.read_text().replace("fox", "cat"))
    r = _run("train", "--resume", str(out), "--steps", "20", "--text", str(other), "--quiet")
    assert r.returncode == 2 and "is not the text" in r.stderr and charlm.load_checkpoint(out).step == 16


def test_learning_rate_decays_by_epoch_as_char_rnn_decays_it():
    config = charlm.Config(lr=0.1, lr_decay=0.5, decay_after=2)
    assert [charlm.learning_rate(config, e) for e in range(5)] == [0.1, 0.1, 0.05, 0.025, 0.0125]
    at_once = charlm.Config(lr=1.0, lr_decay=0.5, decay_after=0)          # the first pass still at lr
    assert [charlm.learning_rate(at_once, e) for e in range(3)] == [1.0, 0.5, 0.25]


def test_resume_refuses_a_new_model_and_says_what_it_changes(own_text, tmp_path):
    out = tmp_path / "m.npz"
    assert _run("train", "--text", str(own_text), *SMALL, "--steps", "4", "--out", str(out)).returncode == 0
    before = out.read_bytes()
    for args, message in ((["--cell", "gru"], "--cell gru differs from the checkpoint's lstm: resuming keeps the model"),
                          (["--hidden", "64"], "--hidden 64 differs from the checkpoint's 8"),
                          (["--layers", "3"], "--layers 3 differs"), (["--dtype", "float32"], "--dtype float32 differs"),
                          (["--embed", "4"], "--embed 4 differs"),
                          (["--window", "16"], "resuming keeps the batches and splits")):
        r = _run("train", "--resume", str(out), *args, "--steps", "8")
        assert r.returncode == 2 and r.stderr.startswith("error: ") and message in r.stderr, (args, r.stderr)
        assert r.stderr.count("\n") == 1 and out.read_bytes() == before
    r = _run("train", "--resume", str(out), "--steps", "6", "--lr", "0.01", "--eval-every", "2", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "lr 0.003 -> 0.01" in r.stderr and "steps 4 -> 6" in r.stderr and "eval-every 100 -> 2" in r.stderr
    assert charlm.load_checkpoint(out).config.lr == 0.01


def test_resume_with_nothing_to_do_says_so_and_writes_nothing(own_text, tmp_path):
    out = tmp_path / "m.npz"
    assert _run("train", "--text", str(own_text), *SMALL, "--steps", "4", "--out", str(out)).returncode == 0
    before = (out.read_bytes(), _files(tmp_path))
    for steps in ("4", "3"):
        r = _run("train", "--resume", str(out), "--steps", steps)
        assert r.returncode == 0 and "nothing to do: " in r.stderr and "wrote" not in r.stdout, r
        assert (out.read_bytes(), _files(tmp_path)) == before


@pytest.mark.parametrize("case", ["latin-1", "binary", "one line", "too short", "missing", "out missing", "out a folder"])
def test_bad_input_is_refused_before_training_with_one_line(own_text, tmp_path, case):
    """Each gets one line that names the file and what to do, exit status 2, and leaves nothing behind."""
    folder = tmp_path / "work"
    folder.mkdir()
    text, out, extra = folder / "t.txt", "m.npz", []
    if case == "latin-1":
        text.write_bytes("café au lait\n".encode("latin-1") * 400)
        message = "t.txt is not utf-8 text: byte 0xe9 at position 3 cannot be decoded; if it is in another " \
                  "encoding, say which with --encoding (e.g. --encoding latin-1)"
    elif case == "binary":
        text.write_bytes(bytes(range(256)) * 40)
        message = "t.txt looks like a binary file"
    elif case == "one line":                       # trains: the splits are cut at spaces when no line ends
        text.write_text(" ".join(["lorem ipsum dolor"] * 400))
        message = None
    elif case == "too short":
        text.write_text("a few words\n" * 20)
        message = "t.txt: 240 characters are too few: its "
    elif case == "missing":
        text = folder / "nowhere.txt"
        message = "no text"
    elif case == "out missing":
        text, out = own_text, "no/such/dir/m.npz"
        message = "--out no/such/dir/m.npz: the directory no/such/dir does not exist"
    else:
        text, out = own_text, "."
        message = "--out . is a directory; give a file name"
    before = _files(folder)
    r = subprocess.run([sys.executable, "-m", "rnnlib.charlm", "train", "--text", str(text), *SMALL, "--steps", "2",
                        "--out", out, *extra], capture_output=True, text=True, cwd=folder)
    if message is None:
        assert r.returncode == 0, r.stderr
        return
    assert r.returncode == 2 and r.stderr.startswith("error: ") and message in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert _files(folder) == before


def _training_past_its_first_checkpoint(text, out):
    """A long training run in the background, once its first evaluation has written ``out``."""
    proc = subprocess.Popen([sys.executable, "-m", "rnnlib.charlm", "train", "--text", str(text), *SMALL,
                             "--steps", "1000000", "--eval-every", "20", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not out.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    return proc


def test_ctrl_c_saves_the_current_step_and_exits_130(own_text, tmp_path):
    """SIGINT between two evaluations: the step it stopped at is saved and named; nothing else is left."""
    out = tmp_path / "m.npz"
    proc = _training_past_its_first_checkpoint(own_text, out)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    said, last = err.strip("\n").split("\n")
    assert said == "stopping after this step, to save it (Ctrl-C again to stop at once)"
    step = int(re.fullmatch(r"interrupted at step (\d+); saved step \1 to (.+)", last).group(1))
    model = charlm.load_checkpoint(out)
    assert model.step == step >= 20 and model.history["step"][-1] <= step
    assert _files(tmp_path) == sorted(["m.npz", "m.best.npz", "texts"])


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    model = charlm.train_charlm(replace(TINY, steps=1), progress=False)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        charlm.save_checkpoint(model, tmp_path / "m.npz")
    monkeypatch.undo()
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(OSError):
        charlm.save_checkpoint(model, tmp_path / "folder.npz")
    assert _files(tmp_path) == ["folder.npz"]


def test_every_option_says_what_it_does_and_lists_its_choices():
    r = _run("train", "--help")
    assert r.returncode == 0
    flat = " ".join(r.stdout.split())
    for f in charlm.Config.__dataclass_fields__.values():
        entry = flat.split(f"--{f.name.replace('_', '-')} ", 1)[1].split(" ", 1)[1]     # after the metavar
        assert not entry.startswith("(default"), f.name              # a description before the default
    assert "one of rnn, gru, mgu, lstm" in flat and "one of float64, float32" in flat
    assert "--cell rnn|gru|mgu|lstm" in flat
    assert "truncated backprop through time" in flat and "char-rnn's seq_length" in flat


def test_an_interrupted_run_resumed_is_the_uninterrupted_run_history_too(tmp_path, monkeypatch):
    """Stopped at step 6, between the evaluations at 4 and 8, then resumed to 12: the weights and the
    history (whose loss at step 8 averages steps 5 to 8, across the interruption) are those of one run."""
    whole = charlm.train_charlm(TINY, out=tmp_path / "a.npz", progress=False)

    class StopAfter:                                 # the stop request train_charlm polls once per step
        def __init__(self, polls):
            self.polls = polls

        def __bool__(self):
            self.polls -= 1
            return self.polls < 0

        def __getitem__(self, i):
            return signal.SIGTERM

    monkeypatch.setattr(charlm, "_stop_requests", lambda: contextlib.nullcontext(StopAfter(6)))
    with pytest.raises(charlm.Interrupted) as stopped:
        charlm.train_charlm(TINY, out=tmp_path / "b.npz", progress=False)
    assert stopped.value.model.step == 6 and stopped.value.signum == signal.SIGTERM
    monkeypatch.undo()
    resumed = charlm.train_charlm({}, out=tmp_path / "b.npz", resume=tmp_path / "b.npz", progress=False)
    assert resumed.history == whole.history
    for k in whole.params:
        np.testing.assert_array_equal(resumed.params[k], whole.params[k])


def test_sigterm_saves_too_and_exits_143(own_text, tmp_path):
    out = tmp_path / "m.npz"
    proc = _training_past_its_first_checkpoint(own_text, out)
    proc.terminate()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "saved step" in err.splitlines()[-1], err


@pytest.mark.parametrize("case", ["the text itself", "not a checkpoint", "best is a folder"])
def test_out_never_overwrites_what_is_not_a_checkpoint(own_text, tmp_path, case):
    out = {"the text itself": own_text, "not a checkpoint": tmp_path / "notes.npz",
           "best is a folder": tmp_path / "m.npz"}[case]
    if case == "not a checkpoint":
        out.write_text("my notes\n")
    if case == "best is a folder":
        charlm.best_path(out).mkdir()
    before = out.read_bytes() if out.is_file() else None
    r = _run("train", "--text", str(own_text), *SMALL, "--steps", "2", "--out", str(out))
    message = {"the text itself": "is the text to train on; it would be overwritten",
               "not a checkpoint": "exists and is not an rnnlib.charlm checkpoint; it is not overwritten",
               "best is a folder": "m.best.npz is a directory"}[case]
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert (out.read_bytes() if out.is_file() else None) == before


def test_a_diverging_run_stops_with_one_line_and_saves_nothing_of_it(own_text, tmp_path):
    r = _run("train", "--text", str(own_text), *SMALL, "--lr", "1e300", "--steps", "30", "--out", str(tmp_path / "m.npz"))
    assert r.returncode == 2 and r.stderr.startswith("error: training diverged at step ") and r.stderr.count("\n") == 1
    assert not (tmp_path / "m.npz").exists()


def test_other_encodings_and_sampling_without_a_prime(tmp_path):
    """A UTF-16 file, as --encoding says (it holds NUL bytes, but not NUL characters); a model of
    a text without 'The ' samples by default from a first character of its own vocabulary."""
    text = tmp_path / "u16.txt"
    text.write_text("Привет, мир. Это проверка.\n" * 200, encoding="utf-16")
    out = tmp_path / "m.npz"
    r = _run("train", "--text", str(text), "--encoding", "utf-16", *SMALL, "--steps", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    r = _run("sample", str(out), "--length", "25", "--seed", "2")
    assert r.returncode == 0 and len(r.stdout.rstrip("\n")) == 25, r.stderr
    assert set(r.stdout.rstrip("\n")) <= set(charlm.load_checkpoint(out).vocab.chars)
    r = _run("train", "--text", str(text), *SMALL, "--steps", "2", "--out", str(out))      # not UTF-8
    assert r.returncode == 2 and "say which with --encoding" in r.stderr


def test_the_command_line_keeps_freed_memory_for_its_training_steps(monkeypatch, tmp_path):
    """rnnlib.memory tells glibc's allocator to keep freed memory (a step's temporaries then reuse
    mapped pages); the command line asks for it in its own process."""
    from rnnlib.charlm import __main__ as cli

    probe = "import rnnlib.memory as m; print(m.keep_freed_memory())"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() in ("True", "False"), r.stderr
    if sys.platform == "linux" and "glibc" in " ".join(platform.libc_ver()):
        assert r.stdout.strip() == "True"
    asked = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: asked.append(True))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["sample", "missing.npz"]) == 2 and asked == [True]
