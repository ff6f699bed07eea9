"""Train a character-level language model on any text, save it, and sample from it.

The library side of ``python -m rnnlib.charlm`` (the command line is in ``__main__``)::

    config = Config(text="my_notes.txt", cell="lstm", layers=2, hidden=128, steps=600)
    run = train_charlm(config, out="model.npz")          # writes checkpoints as it goes
    model = load_checkpoint("model.npz")
    print(rnnlib.lm.sample(model.config.cell, model.params, model.vocab, "The ", 200))

Training is truncated backprop through time over the training split with Adam, gradient
clipping by global norm and, if asked, learning-rate decay by epoch (char-rnn's
``learning_rate_decay`` after ``learning_rate_decay_after``). Everything random comes from the
seed: the initial weights, each epoch's cut of the text (from ``(seed, epoch)``) and each
step's dropout masks (from ``(seed, step)``). A checkpoint holds the weights, the vocabulary,
the configuration, the optimiser's moments, the position in the text and the text's
fingerprint, so that a run that resumes from one continues exactly as if it had not stopped,
and sampling never needs the text.
"""

import contextlib
import hashlib
import json
import os
import signal
import sys
import tempfile
import threading
import zipfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from ..cells import CELLS
from ..lm import init_lm, lm_loss_and_grads, lm_perplexity
from ..optim import Adam, clip_by_global_norm
from ..text import TEXTS, EncodingError, Vocab, batches, load_text, split_text

__all__ = ["Config", "Model", "train_charlm", "epoch_batches", "dropout_rng", "load_checkpoint", "save_checkpoint",
           "CheckpointError", "Interrupted", "best_path", "check_out", "read_corpus", "learning_rate",
           "MODEL_SETTINGS", "RUN_SETTINGS"]

FORMAT = "rnnlib.charlm/1"
DTYPES = ("float64", "float32")
#: Perplexity reads the held-out text in at most this many streams side by side.
STREAMS = 16
#: A training loss this many times that of uniform guessing (log V nats) means the run diverged.
DIVERGED = 20


def _setting(default, help, choices=None):
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class Config:
    """A training run's settings (all saved in the checkpoint). Each field's ``metadata`` holds
    the help the command line shows and, where there are few, its choices."""

    text: str = _setting("time_machine", "the text to learn: a UTF-8 text file (see --encoding), or the name "
                         f"of a shipped text ({', '.join(sorted(TEXTS))})")
    encoding: str = _setting("utf-8", "the text file's encoding, e.g. latin-1 or cp1252")
    cell: str = _setting("gru", "the recurrent cell", tuple(CELLS))
    layers: int = _setting(1, "layers stacked, each reading the outputs of the one below (char-rnn: 2)")
    hidden: int = _setting(256, "hidden units per layer")
    embed: int = _setting(0, "embedding size; 0 feeds each character one-hot")
    dtype: str = _setting("float64", "floating-point precision; float32 is about twice as fast", DTYPES)
    batch_size: int = _setting(32, "streams of text read side by side in each step")
    window: int = _setting(64, "characters per step and stream: how far back the gradient reaches "
                           "(truncated backprop through time; char-rnn's seq_length)")
    steps: int = _setting(1000, "total optimiser steps to reach (when resuming too)")
    lr: float = _setting(3e-3, "Adam's learning rate")
    lr_decay: float = _setting(1.0, "multiply the learning rate by this after each epoch from --decay-after "
                               "on (char-rnn: 0.97); 1 keeps it constant")
    decay_after: int = _setting(10, "epochs (passes over the training text) before the decay starts")
    clip: float = _setting(1.0, "clip the gradients' global norm to this")
    dropout: float = _setting(0.4, "dropout between layers and before the output layer, in [0, 1)")
    order: str = _setting("sequential", "how batches cut the text: sequential streams carry the state from "
                          "step to step; random chunks start from zero", ("sequential", "random"))
    valid_fraction: float = _setting(0.05, "the part of the text held out for validation (after the training part)")
    test_fraction: float = _setting(0.05, "the part held out for the final test (the text's end)")
    seed: int = _setting(0, "seed of everything random: weights, batches, dropout")
    eval_every: int = _setting(100, "steps between evaluations (validation perplexity and a checkpoint)")

    def check(self):
        """Raise a ``ValueError`` naming the first setting out of range."""
        if not self.text:
            raise ValueError(f"--text must name a text file or a shipped text ({', '.join(sorted(TEXTS))})")
        for f in fields(self):
            choices = f.metadata["choices"]
            if choices and getattr(self, f.name) not in choices:
                raise ValueError(f"--{_flag(f.name)} must be one of {', '.join(choices)}; got {getattr(self, f.name)!r}")
        for name in ("layers", "hidden", "batch_size", "window", "steps", "eval_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{_flag(name)} must be at least 1; got {getattr(self, name)}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"--dropout must be in [0, 1); got {self.dropout}")
        for name in ("embed", "decay_after", "seed"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{_flag(name)} must be >= 0; got {getattr(self, name)}")
        for name in ("lr", "clip", "valid_fraction", "test_fraction"):
            if not 0 < getattr(self, name) < np.inf:
                raise ValueError(f"--{_flag(name)} must be a number > 0; got {getattr(self, name)}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"--lr-decay must be in (0, 1]; got {self.lr_decay}")
        if not self.valid_fraction + self.test_fraction < 0.5:
            raise ValueError(f"--valid-fraction + --test-fraction must leave most of the text for training "
                             f"(below 0.5); got {self.valid_fraction} + {self.test_fraction}")
        return self

    @property
    def fractions(self):
        """The (train, validation, test) fractions of ``rnnlib.text.split_text``."""
        return 1 - self.valid_fraction - self.test_fraction, self.valid_fraction, self.test_fraction


def _flag(name):
    return name.replace("_", "-")


#: Settings a resumed run must keep: they make the model (its weights' shapes and dtype) ...
MODEL_SETTINGS = ("cell", "layers", "hidden", "embed", "dtype")
#: ... or the exact continuation (the batches, the splits, the place in the text).
DATA_SETTINGS = ("text", "encoding", "batch_size", "window", "order", "valid_fraction", "test_fraction", "seed")
#: Settings a resumed run may change.
RUN_SETTINGS = ("steps", "lr", "lr_decay", "decay_after", "clip", "dropout", "eval_every")


@dataclass
class Model:
    """A trained model as a checkpoint holds it.

    Attributes
    ----------
    config : Config
    vocab : rnnlib.text.Vocab
    params : dict of str -> ndarray (``rnnlib.lm.param_names`` order)
    step : int, optimiser steps taken
    history : dict of str -> list: ``step``, ``loss`` (training nats per character, each the
        mean since the previous evaluation), ``valid_ppl``
    optimizer : Adam
    position : (epoch, batches done in it)
    state : list, per layer a tuple of (H, B) arrays: the carried state
    text_sha256 : str, the fingerprint of the text trained on (None in older checkpoints)
    test_ppl : float or None, the test perplexity at the end of training
    pending_losses : list of float, the training losses since the last evaluation (a run
        interrupted between two evaluations goes on with them)
    """

    config: Config
    vocab: Vocab
    params: dict
    step: int = 0
    history: dict = field(default_factory=lambda: {"step": [], "loss": [], "valid_ppl": []})
    optimizer: Adam = None
    position: tuple = (0, 0)
    state: list = None
    text_sha256: str = None
    test_ppl: float = None
    pending_losses: list = field(default_factory=list)

    @property
    def best(self):
        """``(step, validation perplexity)`` of the best evaluation so far, or None."""
        h = self.history
        if not h["valid_ppl"]:
            return None
        k = int(np.argmin(h["valid_ppl"]))
        return h["step"][k], h["valid_ppl"][k]


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not one of ours."""


class Interrupted(KeyboardInterrupt):
    """Training stopped by Ctrl-C (SIGINT) or SIGTERM (``signum``) after a whole step; ``model``
    is as saved to ``saved_to``."""

    def __init__(self, model, saved_to, signum=signal.SIGINT):
        super().__init__(f"interrupted at step {model.step}")
        self.model, self.saved_to, self.signum = model, saved_to, signum


def best_path(out):
    """Where the best validation checkpoint is kept beside ``out``: ``model.npz`` -> ``model.best.npz``."""
    out = Path(out)
    return out.with_name(out.stem + ".best" + out.suffix)


def check_out(out, text=None):
    """Check before training that ``out`` and ``best_path(out)`` can be written: an existing,
    writable folder; neither a folder itself, nor the text trained on, nor a file that is not an
    rnnlib.charlm checkpoint (an older checkpoint is replaced). Raises ``ValueError`` saying which."""
    if not str(out):
        raise ValueError("--out must name a file, e.g. model.npz")
    out = Path(out)
    folder = out.parent
    if out.is_dir():
        raise ValueError(f"--out {out} is a directory; give a file name, e.g. {out / 'model.npz'}")
    if not folder.is_dir():
        raise ValueError(f"--out {out}: the directory {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out}: the directory {folder} is not writable")
    for path in (out, best_path(out)):
        if path.is_dir():
            raise ValueError(f"--out {out}: {path} is a directory; give a file name, e.g. {out / 'model.npz'}")
        if text is not None and path.exists() and Path(text).exists() and path.samefile(text):
            raise ValueError(f"--out {out}: {path} is the text to train on; it would be overwritten")
        if path.exists() and not _is_checkpoint(path):
            raise ValueError(f"--out {out}: {path} exists and is not an rnnlib.charlm checkpoint; "
                             "it is not overwritten: choose another name")
        if path.exists() and not os.access(path, os.W_OK):
            raise ValueError(f"--out {out}: {path} exists and is not writable")


def _is_checkpoint(path):
    try:
        with zipfile.ZipFile(path) as z:
            return "meta.npy" in z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def read_corpus(config):
    """The text's train, validation and test ids, its vocabulary (from the training part) and its
    fingerprint; ``ValueError`` naming the file and what to do, before any training, if the text
    cannot be read or is too short for one batch of training and one window per held-out part."""
    try:
        text = load_text(config.text, config.encoding)
    except EncodingError as exc:
        raise ValueError(f"{exc}; if it is in another encoding, say which with --encoding "
                         "(e.g. --encoding latin-1)") from None
    pieces = split_text(text, config.fractions)
    need = (config.batch_size * config.window + 1, config.window + 1, config.window + 1)
    for name, piece, n in zip(("training", "validation", "test"), pieces, need):
        if len(piece) < n:
            raise ValueError(
                f"{config.text}: {len(text):,} characters are too few: its {name} part has {len(piece):,}, "
                f"and needs at least {n:,} (" + ("--batch-size x --window + 1" if name == "training" else
                                                 "--window + 1") + "); use a longer text, a smaller --window"
                + (" or --batch-size" if name == "training" else f" or a larger --{name[:5]}-fraction"))
    vocab = Vocab.from_text(pieces[0])
    return [vocab.encode(p) for p in pieces], vocab, hashlib.sha256(text.encode("utf-8")).hexdigest()


def memory_needed(config, V):
    """Bytes a training step needs, roughly: the parameters five times over (the weights, their
    gradients, the clipped gradients and Adam's two moments) and what each layer's forward pass
    keeps for the backward pass (its states, saved gates and pre-activation gradients), plus the
    logits and their gradient. A rough count, to refuse before training what cannot fit."""
    spec = CELLS[config.cell]
    D = config.embed or V
    n = sum(spec.parameter_count(D if l == 0 else config.hidden, config.hidden) for l in range(config.layers))
    n += V * config.hidden + V + config.embed * V
    kept = len(spec.state_names) + len(spec.saved_names) + spec.n_matrices + 2
    numbers = 5 * n + config.window * config.batch_size * (config.layers * kept * config.hidden + 3 * V)
    return numbers * np.dtype(config.dtype).itemsize


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def epoch_batches(ids, config, epoch):
    """The batches of pass ``epoch`` over ``ids``, cut as ``config`` says (random offset and
    order from ``(seed, epoch)``): what ``train_charlm`` reads, for a twin to read the same."""
    rng = np.random.default_rng([config.seed, 1, epoch])
    return batches(ids, config.batch_size, config.window, config.order, rng)


def dropout_rng(config, step):
    """The generator of training step ``step``'s dropout masks: seeded by the run's seed and the
    step alone, so that a resumed run draws the masks it would have drawn."""
    return np.random.default_rng([config.seed, 2, step])


def learning_rate(config, epoch):
    """The learning rate during pass ``epoch`` (from 0): ``lr * lr_decay ** k``, with ``k`` the
    passes completed that were at least the ``decay_after``-th (char-rnn decays the rate at the
    end of each such pass), so the first pass always runs at ``lr``."""
    return config.lr * config.lr_decay ** max(0, epoch - max(config.decay_after, 1) + 1)


def _perplexity(config, params, ids):
    streams = min(STREAMS, (len(ids) - 1) // config.window)
    return lm_perplexity(config.cell, params, ids, streams=streams)


def resumed_config(model, changes):
    """The checkpoint's configuration with ``changes`` (a dict of settings the user gave) applied.

    Returns the new ``Config`` and a list of ``"lr 0.003 -> 0.01"`` lines. Raises ``ValueError``
    for a change to a setting that makes the model or the run's data (``MODEL_SETTINGS``,
    ``DATA_SETTINGS``); the text may be named again, as long as it is the same text.
    """
    old = model.config
    said = []
    for name, value in changes.items():
        if name == "text" or value == getattr(old, name):
            continue
        if name in MODEL_SETTINGS + DATA_SETTINGS:
            what = "the model" if name in MODEL_SETTINGS else "the batches and splits"
            raise ValueError(f"--{_flag(name)} {value} differs from the checkpoint's {getattr(old, name)}: "
                             f"resuming keeps {what}; change only {', '.join('--' + _flag(n) for n in RUN_SETTINGS)}")
        said.append(f"{_flag(name)} {getattr(old, name)} -> {value}")
    config = Config(**{**asdict(old), **{k: v for k, v in changes.items() if k in RUN_SETTINGS}}).check()
    if "text" in changes:
        config.text = changes["text"]          # the same text, perhaps at another path: checked on reading
    return config, said


@contextlib.contextmanager
def _stop_requests():
    """Turn the first Ctrl-C (SIGINT) or SIGTERM into a request to stop after the current step,
    so that no step is half done when the checkpoint is written; a second one stops at once."""
    asked = []
    if threading.current_thread() is not threading.main_thread():
        yield asked
        return

    def ask(signum, frame):
        if asked:
            raise KeyboardInterrupt
        asked.append(signum)
        print("\nstopping after this step, to save it (Ctrl-C again to stop at once)", file=sys.stderr, flush=True)

    before = {s: signal.signal(s, ask) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield asked
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def train_charlm(config, out=None, resume=None, progress=True, say=None):
    """Train (or go on training) a character language model.

    Parameters
    ----------
    config : Config, or with ``resume`` the settings to change: a dict (``RUN_SETTINGS``, and
        ``text`` to read the same text from another path), a whole Config that differs from the
        checkpoint's only in those, or None
    out : path or None
        Where to write the checkpoint, at every evaluation, at the end and when interrupted;
        the best evaluation's is kept at ``best_path(out)``.
    resume : path or None
        A checkpoint to continue from, up to ``steps`` steps in all.
    progress : bool
        Show a tqdm progress bar with the training loss and the validation perplexity.
    say : callable or None
        Called with each line worth telling the user (what a resumed run changed).

    Returns
    -------
    Model, with ``test_ppl`` set (the checkpoint's, if there was nothing to do). Raises
    ``Interrupted`` after saving, on Ctrl-C or SIGTERM.
    """
    from tqdm.auto import tqdm

    say = say or (lambda line: None)
    if resume is not None:
        model = load_checkpoint(resume)
        changes = asdict(config) if isinstance(config, Config) else dict(config or {})
        config, said = resumed_config(model, changes)
        if model.step >= config.steps:
            say(f"nothing to do: {resume} is at step {model.step}, and --steps is {config.steps}; "
                "give a larger --steps to train on")
            return model
    else:
        config = Config(**asdict(config)).check()
        if config.text not in TEXTS:                   # a file: kept by its full path, to resume from anywhere
            config.text = str(Path(config.text).resolve())
    if out is not None:
        check_out(out, config.text)
    if resume is not None and "text" not in changes and not (config.text in TEXTS or Path(config.text).is_file()):
        raise ValueError(f"{resume} was trained on {config.text}, which is not there any more; "
                         "give the same text's new place with --text")
    (train, valid, test), vocab, fingerprint = read_corpus(config)
    needed, have = memory_needed(config, len(vocab)), _physical_memory()
    if have and needed > have:
        raise ValueError(f"this model ({config.layers} x {config.hidden} {config.cell}, --embed {config.embed}, "
                         f"--batch-size {config.batch_size}, --window {config.window}) needs about "
                         f"{needed / 2**30:.1f} GiB to train, more than this machine's {have / 2**30:.1f} GiB")
    if resume is None:
        dtype = np.dtype(config.dtype)
        params = init_lm(config.cell, len(vocab), config.hidden, config.embed or None, config.seed, dtype,
                         config.layers)
        model = Model(config, vocab, params, optimizer=Adam(config.lr), text_sha256=fingerprint)
    else:
        if model.text_sha256 not in (None, fingerprint):
            raise ValueError(f"{config.text} is not the text {resume} was trained on (their SHA-256 differ)")
        if vocab.chars != model.vocab.chars:
            raise ValueError(f"{config.text} gives another vocabulary than {resume}'s: not the same text")
        model.config, model.text_sha256 = config, fingerprint
        say(f"resuming {resume} at step {model.step}" + "".join(f"; {line}" for line in said))
    values = list(model.params.values())
    spec = CELLS[config.cell]
    dtype = values[0].dtype
    fresh = lambda: [spec.zero_state(config.hidden, config.batch_size, dtype) for _ in range(config.layers)]
    pack = lambda states: states[0] if config.layers == 1 else states
    state = fresh() if model.state is None else [spec.pack_state(s) for s in model.state]
    epoch, done = model.position
    it = epoch_batches(train, config, epoch)
    for _ in range(done):
        next(it)
    losses = list(model.pending_losses)               # since the last evaluation, before an interruption
    bar = tqdm(total=config.steps, initial=model.step, disable=not progress, unit="step",
               desc=f"{config.cell} {config.layers}x{config.hidden}")

    def keep(where):
        model.position, model.pending_losses = (epoch, done), list(losses)
        model.state = [spec.unpack_state(s) for s in state]
        if out is not None:
            save_checkpoint(model, where)

    with _stop_requests() as asked:
        while model.step < config.steps:
            if asked:
                bar.close()
                keep(out)
                raise Interrupted(model, out, asked[0])
            try:
                X, Y = next(it)
            except StopIteration:                          # a new epoch cuts the text afresh
                epoch, done = epoch + 1, 0
                it, state = epoch_batches(train, config, epoch), fresh()
                continue
            if config.order == "random":
                state = fresh()                            # unrelated chunks: start each from zero
            model.optimizer.lr = learning_rate(config, epoch)
            with np.errstate(over="ignore", invalid="ignore"):     # a diverging run is stopped below
                loss, grads, carried = lm_loss_and_grads(config.cell, model.params, X, Y, pack(state),
                                                         dropout=config.dropout, rng=dropout_rng(config, model.step))
            if not loss < DIVERGED * np.log(len(vocab)):       # also catches nan
                raise ValueError(f"training diverged at step {model.step + 1}: the loss is {loss:.3g} nats per "
                                 f"character; nothing of this step was saved; try a lower --lr (it is "
                                 f"{model.optimizer.lr:g})")
            state = [carried] if config.layers == 1 else carried
            clipped, _ = clip_by_global_norm(list(grads.values()), config.clip)
            model.optimizer.step(values, clipped)
            model.step, done = model.step + 1, done + 1
            losses.append(loss)
            bar.update(1)
            if model.step % config.eval_every == 0 or model.step == config.steps:
                ppl = _perplexity(config, model.params, valid)
                for key, v in (("step", model.step), ("loss", float(np.mean(losses))), ("valid_ppl", ppl)):
                    model.history[key].append(v)
                losses = []
                bar.set_postfix(loss=f"{model.history['loss'][-1]:.3f}", valid_ppl=f"{ppl:.2f}")
                if model.step == config.steps:             # the end: the test text, once, saved with the rest
                    model.test_ppl = _perplexity(config, model.params, test)
                keep(out)
                if out is not None and model.best[0] == model.step:
                    save_checkpoint(model, best_path(out))
    bar.close()
    return model


def save_checkpoint(model, path):
    """Write ``model`` to ``path`` (an .npz file), atomically: an interruption or a full disk
    never leaves half a file or a temporary file behind."""
    opt = model.optimizer
    arrays = {f"param/{k}": v for k, v in model.params.items()}
    for name, moments in (("m", opt.m), ("v", opt.v)):
        for k, a in zip(model.params, moments or []):
            arrays[f"adam_{name}/{k}"] = a
    for l, parts in enumerate(model.state or ()):
        for i, s in enumerate(parts):
            arrays[f"state/{l}/{i}"] = s
    meta = {"format": FORMAT, "config": asdict(model.config), "vocab": model.vocab.chars,
            "step": model.step, "history": model.history, "position": list(model.position),
            "adam_t": opt.t, "text_sha256": model.text_sha256, "test_ppl": model.test_ppl,
            "pending_losses": model.pending_losses}
    arrays["meta"] = np.array(json.dumps(meta))
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".charlm-", suffix=".npz.part")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)      # a temporary file is private (0600); a checkpoint is not
        os.replace(temporary, path)
    except BaseException:                        # Ctrl-C, a full disk, a directory at path ...
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def load_checkpoint(path):
    """Read a checkpoint written by ``save_checkpoint``; a ``CheckpointError`` says what is wrong."""
    if not os.path.isfile(path):
        raise CheckpointError(f"no checkpoint at {path}")
    if not zipfile.is_zipfile(path):                   # an .npz is a zip archive
        raise CheckpointError(f"{path} is not an rnnlib.charlm checkpoint (not an .npz file)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays.pop("meta")))
        if meta.get("format") != FORMAT:
            raise CheckpointError(f"{path} is not an rnnlib.charlm checkpoint")
        saved = dict(meta["config"])
        if "num_steps" in saved:                       # what --window was called before
            saved["window"] = saved.pop("num_steps")
        config = Config(**{f.name: saved.get(f.name, f.default) for f in fields(Config)}).check()
        vocab = Vocab(meta["vocab"])
        params = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("param/")}
        opt = Adam(config.lr)
        if meta["adam_t"]:
            opt.m = [arrays[f"adam_m/{k}"] for k in params]
            opt.v = [arrays[f"adam_v/{k}"] for k in params]
            opt.t = meta["adam_t"]
        parts = range(len(CELLS[config.cell].state_names))
        if "state/0" in arrays:                        # a one-layer checkpoint of the first format
            state = [tuple(arrays[f"state/{i}"] for i in parts)]
        elif "state/0/0" in arrays:
            state = [tuple(arrays[f"state/{l}/{i}"] for i in parts) for l in range(config.layers)]
        else:
            state = None
        model = Model(config, vocab, params, meta["step"], meta["history"], opt, tuple(meta["position"]), state,
                      meta.get("text_sha256"), meta.get("test_ppl"), meta.get("pending_losses", []))
    except CheckpointError:
        raise
    except Exception as exc:                     # a truncated zip, bad JSON, missing keys ...
        raise CheckpointError(f"{path} is not a readable rnnlib.charlm checkpoint ({type(exc).__name__}: {exc})") from None
    _check_shapes(model, path)
    return model


def _check_shapes(model, path):
    c = model.config
    want = init_lm(c.cell, len(model.vocab), c.hidden, c.embed or None, layers=c.layers)
    for k, w in want.items():
        if k not in model.params or model.params[k].shape != w.shape:
            got = model.params[k].shape if k in model.params else "missing"
            raise CheckpointError(f"{path}: parameter {k} should have shape {w.shape}; got {got}")
