"""A command-line training run's settings: ``Config``, each with its help and choices, and
which of them a resumed run may change."""

from dataclasses import dataclass, field, fields

import numpy as np

from ..cells import CELLS
from ..text import TEXTS

__all__ = ["Config", "flag", "DTYPES", "MODEL_SETTINGS", "DATA_SETTINGS", "RUN_SETTINGS", "learning_rate"]

DTYPES = ("float64", "float32")


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
                raise ValueError(f"--{flag(f.name)} must be one of {', '.join(choices)}; got {getattr(self, f.name)!r}")
        for name in ("layers", "hidden", "batch_size", "window", "steps", "eval_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{flag(name)} must be at least 1; got {getattr(self, name)}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"--dropout must be in [0, 1); got {self.dropout}")
        for name in ("embed", "decay_after", "seed"):
            if getattr(self, name) < 0:
                raise ValueError(f"--{flag(name)} must be >= 0; got {getattr(self, name)}")
        for name in ("lr", "clip", "valid_fraction", "test_fraction"):
            if not 0 < getattr(self, name) < np.inf:
                raise ValueError(f"--{flag(name)} must be a number > 0; got {getattr(self, name)}")
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


def flag(name):
    """A setting's command-line option, without its dashes: ``batch_size`` -> ``batch-size``."""
    return name.replace("_", "-")


#: Settings a resumed run must keep: they make the model (its weights' shapes and dtype) ...
MODEL_SETTINGS = ("cell", "layers", "hidden", "embed", "dtype")
#: ... or the exact continuation (the batches, the splits, the place in the text).
DATA_SETTINGS = ("text", "encoding", "batch_size", "window", "order", "valid_fraction", "test_fraction", "seed")
#: Settings a resumed run may change.
RUN_SETTINGS = ("steps", "lr", "lr_decay", "decay_after", "clip", "dropout", "eval_every")


def learning_rate(config, epoch):
    """The learning rate during pass ``epoch`` (from 0): ``lr * lr_decay ** k``, with ``k`` the
    passes completed that were at least the ``decay_after``-th (char-rnn decays the rate at the
    end of each such pass), so the first pass always runs at ``lr``."""
    return config.lr * config.lr_decay ** max(0, epoch - max(config.decay_after, 1) + 1)
