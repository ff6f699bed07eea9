"""Checkpoints of a trained encoder-decoder: its parameters, its settings, its task's vocabularies
and lengths, and its history, written atomically to an .npz file and read back.

A checkpoint needs nothing else to translate: the vocabularies (``Vocab`` is rebuilt from its
characters) and the longest source and target are stored, not looked up in ``TASKS``. The
arrays are ``param/<name>``; ``meta`` is a JSON string::

    {"format": "rnnlib.seq2seq/1", "config": {...}, "source_chars": ..., "target_chars": ...,
     "max_source": 32, "max_target": 10, "history": {...}}
"""

import json
import os
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..files import check_out_file, write_atomically
from .data import TASKS
from .model import Model, init_seq2seq
from .train import Config
from .vocab import Vocab

__all__ = ["FORMAT", "Loaded", "CheckpointError", "save_checkpoint", "load_checkpoint", "check_out"]

FORMAT = "rnnlib.seq2seq/1"


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable or not an rnnlib.seq2seq one (one-line message)."""


@dataclass
class Loaded:
    """A checkpoint as ``load_checkpoint`` reads it.

    Attributes
    ----------
    config : Config
    params : dict of str -> ndarray
    src_vocab, tgt_vocab : Vocab
    max_source : int, the longest source the model was trained on
    max_target : int, the longest target (``<eos>`` not counted)
    history : dict, as ``train_seq2seq`` returns it
    """

    config: Config
    params: dict
    src_vocab: Vocab
    tgt_vocab: Vocab
    max_source: int
    max_target: int
    history: dict


def save_checkpoint(path, config, params, history):
    """Write a model to ``path`` (an .npz file), atomically: a temporary file in the same
    directory, renamed over ``path`` when complete, so that an interruption or a full disk never
    leaves half a file or a temporary file behind.

    Parameters
    ----------
    path : str or Path
    config : Config
        The settings it was trained with (its task gives the vocabularies and lengths stored).
    params : dict of str -> ndarray
    history : dict of JSON-serialisable values
    """
    task = TASKS[config.task]
    meta = {"format": FORMAT, "config": asdict(config), "source_chars": task.source_chars,
            "target_chars": task.target_chars, "max_source": task.max_source, "max_target": task.max_target,
            "history": history}
    arrays = {f"param/{k}": np.asarray(v) for k, v in params.items()}
    arrays["meta"] = np.array(json.dumps(meta))
    write_atomically(path, lambda f: np.savez(f, **arrays), ".seq2seq-", ".npz.part")


def load_checkpoint(path):
    """Read a checkpoint written by ``save_checkpoint``.

    Returns
    -------
    Loaded

    Raises
    ------
    CheckpointError
        Naming the file and what is wrong: missing, not an .npz, not an rnnlib.seq2seq checkpoint,
        or parameters that do not fit its settings.
    """
    if not os.path.isfile(path):
        raise CheckpointError(f"no checkpoint at {path}")
    if not zipfile.is_zipfile(path):                   # an .npz is a zip archive
        raise CheckpointError(f"{path} is not an rnnlib.seq2seq checkpoint (not an .npz file)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        if "meta" not in arrays:
            raise CheckpointError(f"{path} is not an rnnlib.seq2seq checkpoint (it holds no metadata)")
        meta = json.loads(str(arrays.pop("meta")))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            found = meta.get("format") if isinstance(meta, dict) else None
            raise CheckpointError(f"{path} is not an rnnlib.seq2seq checkpoint (its format is {found!r}, "
                                  f"not {FORMAT!r})")
        loaded = Loaded(Config(**meta["config"]), {k[6:]: v for k, v in arrays.items() if k.startswith("param/")},
                        Vocab(meta["source_chars"]), Vocab(meta["target_chars"]), int(meta["max_source"]),
                        int(meta["max_target"]), meta["history"])
    except CheckpointError:
        raise
    except Exception as exc:                     # a truncated zip, bad JSON, missing keys, bad settings ...
        raise CheckpointError(f"{path} is not a readable rnnlib.seq2seq checkpoint "
                              f"({type(exc).__name__}: {exc})") from None
    _check_params(loaded, path)
    return loaded


def _check_params(loaded, path):
    """The parameters must be the encoder-decoder its settings and vocabularies describe."""
    c, params = loaded.config, loaded.params
    try:
        Model.of(c.cell, params)
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    for name, vocab, side in (("E_src", loaded.src_vocab, "source"), ("E_tgt", loaded.tgt_vocab, "target")):
        if params[name].ndim != 2 or params[name].shape[1] != len(vocab):
            raise CheckpointError(f"{path}: {name} has shape {params[name].shape}, which does not fit the "
                                  f"{side} vocabulary of {len(vocab)} entries")
    want = init_seq2seq(c.cell, len(loaded.src_vocab), len(loaded.tgt_vocab), c.embed, c.hidden, c.dec_hidden,
                        c.attention_size, c.layers, c.attention)
    for k, w in want.items():
        got = params[k].shape if k in params else "missing"
        if got != w.shape:
            raise CheckpointError(f"{path}: parameter {k} should have shape {w.shape}; got {got}")
    if extra := sorted(set(params) - set(want)):
        raise CheckpointError(f"{path}: parameters {extra} are not part of the model its settings describe")


def check_out(out):
    """Check before training that a checkpoint can be written at ``out`` (``rnnlib.files.check_out_file``):
    an older rnnlib.seq2seq checkpoint is replaced, any other file is not. Raises ``ValueError``."""
    check_out_file(out, "dates.npz", _is_checkpoint, "rnnlib.seq2seq")


def _is_checkpoint(path):
    try:
        with np.load(path, allow_pickle=False) as z:
            return "meta" in z.files and json.loads(str(z["meta"])).get("format") == FORMAT
    except Exception:                            # not an npz, not JSON ...
        return False
