"""Train a character-level language model on any text, save it, and sample from it.

The library side of ``python -m rnnlib.charlm`` (the command line is in ``__main__``)::

    config = Config(text="my_notes.txt", cell="lstm", layers=2, hidden=128, steps=600)
    run = train_charlm(config, out="model.npz")          # writes checkpoints as it goes
    model = load_checkpoint("model.npz")
    print(rnnlib.lm.sample(model.config.cell, model.params, model.vocab, "The ", 200))

Modules: ``config`` (the settings), ``checkpoint`` (writing and reading a run), and here the
training itself. Training is truncated backprop through time over the training split with Adam, gradient
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
import os
import signal
import sys
import threading
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..cells import CELLS
from ..lm import init_lm, lm_loss_and_grads, lm_perplexity
from ..optim import Adam, clip_by_global_norm
from ..text import TEXTS, EncodingError, Vocab, batches, load_text, split_text
from .checkpoint import CheckpointError, Model, best_path, check_out, load_checkpoint, save_checkpoint
from .config import DATA_SETTINGS, MODEL_SETTINGS, RUN_SETTINGS, Config, learning_rate, flag

__all__ = ["Config", "Model", "train_charlm", "epoch_batches", "dropout_rng", "load_checkpoint", "save_checkpoint",
           "CheckpointError", "Interrupted", "best_path", "check_out", "read_corpus", "learning_rate",
           "MODEL_SETTINGS", "RUN_SETTINGS"]

#: Perplexity reads the held-out text in at most this many streams side by side.
STREAMS = 16
#: A training loss this many times that of uniform guessing (log V nats) means the run diverged.
DIVERGED = 20


class Interrupted(KeyboardInterrupt):
    """Training stopped by Ctrl-C (SIGINT) or SIGTERM (``signum``) after a whole step; ``model``
    is as saved to ``saved_to``."""

    def __init__(self, model, saved_to, signum=signal.SIGINT):
        super().__init__(f"interrupted at step {model.step}")
        self.model, self.saved_to, self.signum = model, saved_to, signum


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
            raise ValueError(f"--{flag(name)} {value} differs from the checkpoint's {getattr(old, name)}: "
                             f"resuming keeps {what}; change only {', '.join('--' + flag(n) for n in RUN_SETTINGS)}")
        said.append(f"{flag(name)} {getattr(old, name)} -> {value}")
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


