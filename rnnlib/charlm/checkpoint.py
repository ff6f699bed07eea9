"""Checkpoints: a ``Model`` as a training run leaves it, written atomically to an .npz file and
read back, and where a run may write one (``check_out``)."""

import json
import os
import zipfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from ..cells import CELLS
from ..files import check_out_file, write_atomically
from ..lm import init_lm
from ..optim import Adam
from ..text import Vocab
from .config import Config

__all__ = ["Model", "CheckpointError", "save_checkpoint", "load_checkpoint", "best_path", "check_out", "FORMAT"]

FORMAT = "rnnlib.charlm/1"


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


def best_path(out):
    """Where the best validation checkpoint is kept beside ``out``: ``model.npz`` -> ``model.best.npz``."""
    out = Path(out)
    return out.with_name(out.stem + ".best" + out.suffix)


def check_out(out, text=None):
    """Check before training that ``out`` and ``best_path(out)`` can be written: an existing,
    writable folder; neither a folder itself, nor the text trained on, nor a file that is not an
    rnnlib.charlm checkpoint (an older checkpoint is replaced). Raises ``ValueError`` saying which."""
    is_text = lambda path: text is not None and path.is_file() and Path(text).exists() and path.samefile(text)
    if is_text(Path(out)):
        raise ValueError(f"--out {out}: {out} is the text to train on; it would be overwritten")
    check_out_file(out, "model.npz", _is_checkpoint, "rnnlib.charlm")
    out = Path(out)
    best = best_path(out)                        # written beside out: the same checks
    if is_text(best):
        raise ValueError(f"--out {out}: {best} is the text to train on; it would be overwritten")
    if best.is_dir():
        raise ValueError(f"--out {out}: {best} is a directory; give a file name, e.g. {out / 'model.npz'}")
    if best.exists() and not _is_checkpoint(best):
        raise ValueError(f"--out {out}: {best} exists and is not an rnnlib.charlm checkpoint; "
                         "it is not overwritten: choose another name")
    if best.exists() and not os.access(best, os.W_OK):
        raise ValueError(f"--out {out}: {best} exists and is not writable")


def _is_checkpoint(path):
    try:
        with zipfile.ZipFile(path) as z:
            return "meta.npy" in z.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


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
    write_atomically(path, lambda f: np.savez(f, **arrays), ".charlm-", ".npz.part")


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
