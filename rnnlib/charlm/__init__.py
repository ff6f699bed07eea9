"""Train a character-level language model on a shipped text, save it, and sample from it.

The library side of ``python -m rnnlib.charlm`` (the command line is in ``__main__``)::

    config = Config(cell="gru", hidden=128, steps=600, seed=0)
    run = train_charlm(config, out="model.npz")          # writes checkpoints as it goes
    model = load_checkpoint("model.npz")
    print(rnnlib.lm.sample(model.config.cell, model.params, model.vocab, "The ", 200))

Training is truncated backprop through time over the training split with Adam and gradient
clipping by global norm. Everything random comes from the seed: the initial weights, each
epoch's cut of the text (from ``(seed, epoch)``) and each step's dropout mask (from
``(seed, step)``). A checkpoint holds the weights, the
vocabulary, the configuration, the optimiser's moments and the position in the text, so a run
that resumes from one continues exactly as if it had not stopped.
"""

import json
import os
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from ..cells import CELLS
from ..lm import init_lm, lm_loss_and_grads, lm_perplexity
from ..optim import Adam, clip_by_global_norm
from ..text import TEXTS, Vocab, batches, load_text, split_text

__all__ = ["Config", "Model", "train_charlm", "epoch_batches", "dropout_rng", "load_checkpoint", "save_checkpoint",
           "CheckpointError"]


@dataclass
class Config:
    """A training run's settings (all saved in the checkpoint).

    ``embed`` 0 means one-hot input; ``order`` is the partitioning of ``rnnlib.text.batches``;
    ``dropout`` applies to the hidden values the output layer reads (``rnnlib.lm.lm_forward``).
    """

    text: str = "time_machine"
    cell: str = "gru"
    hidden: int = 256
    embed: int = 0
    batch_size: int = 32
    num_steps: int = 64
    steps: int = 1000
    lr: float = 3e-3
    clip: float = 1.0
    dropout: float = 0.4
    order: str = "sequential"
    seed: int = 0
    eval_every: int = 100

    def check(self):
        """Raise a ``ValueError`` naming the first setting out of range."""
        if self.text not in TEXTS:
            raise ValueError(f"--text must be one of {sorted(TEXTS)}; got {self.text!r}")
        if self.cell not in CELLS:
            raise ValueError(f"--cell must be one of {sorted(CELLS)}; got {self.cell!r}")
        if self.order not in ("sequential", "random"):
            raise ValueError(f"--order must be 'sequential' or 'random'; got {self.order!r}")
        for name in ("hidden", "batch_size", "num_steps", "steps", "eval_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1; got {getattr(self, name)}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"--dropout must be in [0, 1); got {self.dropout}")
        if self.embed < 0 or self.lr <= 0 or self.clip <= 0:
            raise ValueError(f"need --embed >= 0, --lr > 0 and --clip > 0; got {self.embed}, {self.lr}, {self.clip}")
        return self


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
    """

    config: Config
    vocab: Vocab
    params: dict
    step: int = 0
    history: dict = field(default_factory=lambda: {"step": [], "loss": [], "valid_ppl": []})
    optimizer: Adam = None
    position: tuple = (0, 0)        # (epoch, batches done in it)
    state: tuple = None             # the carried state, as a tuple of (H, B) arrays


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not one of ours."""


def epoch_batches(ids, config, epoch):
    """The batches of pass ``epoch`` over ``ids``, cut as ``config`` says (random offset and
    order from ``(seed, epoch)``): what ``train_charlm`` reads, for a twin to read the same."""
    rng = np.random.default_rng([config.seed, 1, epoch])
    return batches(ids, config.batch_size, config.num_steps, config.order, rng)


def dropout_rng(config, step):
    """The generator of training step ``step``'s dropout mask: seeded by the run's seed and the
    step alone, so that a resumed run draws the masks it would have drawn."""
    return np.random.default_rng([config.seed, 2, step])


def train_charlm(config, out=None, resume=None, progress=True):
    """Train (or go on training) a character language model.

    Parameters
    ----------
    config : Config
        Ignored but for ``steps`` when resuming (the checkpoint's own settings hold).
    out : path or None
        Where to write the checkpoint, at every evaluation and at the end.
    resume : path or None
        A checkpoint to continue from, up to ``config.steps`` steps in all.
    progress : bool
        Show a tqdm progress bar with the training loss and the validation perplexity.

    Returns
    -------
    Model
    """
    from tqdm.auto import tqdm

    if resume is not None:
        model = load_checkpoint(resume)
        model.config.steps = config.steps
        config = model.config.check()
    else:
        config = Config(**asdict(config)).check()
        train_text = split_text(load_text(config.text))[0]
        vocab = Vocab.from_text(train_text)
        params = init_lm(config.cell, len(vocab), config.hidden, config.embed or None, config.seed)
        model = Model(config, vocab, params, optimizer=Adam(config.lr))
    train, valid, _ = (model.vocab.encode(s) for s in split_text(load_text(config.text)))
    values = list(model.params.values())
    is_sequential = config.order == "sequential"
    spec = CELLS[config.cell]
    fresh = lambda: spec.zero_state(config.hidden, config.batch_size)
    state = fresh() if model.state is None else spec.pack_state(model.state)
    epoch, done = model.position
    it = epoch_batches(train, config, epoch)
    for _ in range(done):
        next(it)
    losses = []
    bar = tqdm(total=config.steps, initial=model.step, disable=not progress, unit="step",
               desc=f"{config.cell} H={config.hidden}")
    while model.step < config.steps:
        try:
            X, Y = next(it)
        except StopIteration:                          # a new epoch cuts the text afresh
            epoch, done = epoch + 1, 0
            it, state = epoch_batches(train, config, epoch), fresh()
            continue
        if not is_sequential:
            state = fresh()                            # unrelated chunks: start each from zero
        loss, grads, state = lm_loss_and_grads(config.cell, model.params, X, Y, state,
                                               dropout=config.dropout, rng=dropout_rng(config, model.step))
        clipped, _ = clip_by_global_norm(list(grads.values()), config.clip)
        model.optimizer.step(values, clipped)
        model.step, done = model.step + 1, done + 1
        losses.append(loss)
        bar.update(1)
        if model.step % config.eval_every == 0 or model.step == config.steps:
            ppl = lm_perplexity(config.cell, model.params, valid)
            for key, v in (("step", model.step), ("loss", float(np.mean(losses))), ("valid_ppl", ppl)):
                model.history[key].append(v)
            losses = []
            bar.set_postfix(loss=f"{model.history['loss'][-1]:.3f}", valid_ppl=f"{ppl:.2f}")
            model.position, model.state = (epoch, done), spec.unpack_state(state)
            if out is not None:
                save_checkpoint(model, out)
    bar.close()
    return model


def save_checkpoint(model, path):
    """Write ``model`` to ``path`` (an .npz file), atomically: a crash never leaves half a file."""
    opt = model.optimizer
    arrays = {f"param/{k}": v for k, v in model.params.items()}
    for name, moments in (("m", opt.m), ("v", opt.v)):
        for k, a in zip(model.params, moments or []):
            arrays[f"adam_{name}/{k}"] = a
    for i, s in enumerate(model.state or ()):
        arrays[f"state/{i}"] = s
    meta = {"format": "rnnlib.charlm/1", "config": asdict(model.config), "vocab": model.vocab.chars,
            "step": model.step, "history": model.history, "position": list(model.position),
            "adam_t": opt.t}
    arrays["meta"] = np.array(json.dumps(meta))
    folder = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as f:
        np.savez(f, **arrays)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(f.name, 0o666 & ~umask)          # a temporary file is private (0600); a checkpoint is not
    os.replace(f.name, path)


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
        if meta.get("format") != "rnnlib.charlm/1":
            raise CheckpointError(f"{path} is not an rnnlib.charlm checkpoint")
        config = Config(**{f.name: meta["config"].get(f.name, f.default) for f in fields(Config)}).check()
        vocab = Vocab(meta["vocab"])
        params = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("param/")}
        opt = Adam(config.lr)
        if meta["adam_t"]:
            opt.m = [arrays[f"adam_m/{k}"] for k in params]
            opt.v = [arrays[f"adam_v/{k}"] for k in params]
            opt.t = meta["adam_t"]
        state = tuple(arrays[f"state/{i}"] for i in range(len(CELLS[config.cell].state_names))) \
            if "state/0" in arrays else None
        model = Model(config, vocab, params, meta["step"], meta["history"], opt, tuple(meta["position"]), state)
    except CheckpointError:
        raise
    except Exception as exc:                     # a truncated zip, bad JSON, missing keys ...
        raise CheckpointError(f"{path} is not a readable rnnlib.charlm checkpoint ({type(exc).__name__}: {exc})") from None
    _check_shapes(model, path)
    return model


def _check_shapes(model, path):
    want = init_lm(model.config.cell, len(model.vocab), model.config.hidden, model.config.embed or None)
    for k, w in want.items():
        if k not in model.params or model.params[k].shape != w.shape:
            got = model.params[k].shape if k in model.params else "missing"
            raise CheckpointError(f"{path}: parameter {k} should have shape {w.shape}; got {got}")
