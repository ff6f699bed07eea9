"""Training an encoder-decoder on a task, and measuring it: exact-match accuracy, translation.

``train_seq2seq(config)`` draws the task's pairs (training, validation and test, each from its
own split), trains with Adam and gradient clipping on bucketed batches, and evaluates the
validation accuracy after every epoch. Accuracy is exact match: a target counts only if every
character and the ``<eos>`` are right.
"""

from dataclasses import asdict, dataclass, fields

import numpy as np

from ..cells import CELLS
from ..optim import Adam, clip_by_global_norm
from .data import TASKS, batches
from .decode import beam_search, greedy_decode
from .model import init_seq2seq, seq2seq_loss_and_grads

__all__ = ["Config", "train_seq2seq", "decode_texts", "translate", "accuracy"]


@dataclass(frozen=True)
class Config:
    """A training run's settings (the command line's options, with their defaults)."""

    task: str = "dates"
    cell: str = "gru"
    layers: int = 1
    embed: int = 16
    hidden: int = 48
    dec_hidden: int = 64
    attention_size: int = 32
    attention: bool = True
    train_size: int = 20000
    valid_size: int = 1000
    test_size: int = 1000
    batch_size: int = 64
    epochs: int = 3
    lr: float = 3e-3
    clip: float = 5.0
    seed: int = 0

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {sorted(TASKS)}; got {self.task!r}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}; got {self.cell!r}")
        if not isinstance(self.attention, bool):
            raise ValueError(f"attention must be True or False; got {self.attention!r}")
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type in (int, "int"):
                least = 0 if f.name == "seed" else 1
                if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
                    raise ValueError(f"{f.name} must be an integer >= {least}; got {v!r}")
            if f.type in (float, "float"):
                if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not (np.isfinite(v) and v > 0):
                    raise ValueError(f"{f.name} must be a positive finite number; got {v!r}")

    def as_dict(self):
        return asdict(self)


def decode_texts(cell, params, texts, src_vocab, max_len, beam=1, length_norm=0.0):
    """The tokens each of ``texts`` translates to, and their attention.

    Greedy for ``beam=1`` (all texts at once), else beam search, one text at a time. Returns a
    list of ``(tokens, alphas)``: the ids written before ``<eos>``, and ``alphas``
    (rows, len(text)), a row per token written and one for ``<eos>`` (none if ``max_len``
    came first), or None for a model without attention.
    """
    if beam == 1:
        src, mask = src_vocab.encode(texts)
        tokens, alphas = greedy_decode(cell, params, src, mask, max_len)
        return [(t, None if a is None else a[:, :len(x)]) for t, a, x in zip(tokens, alphas, texts)]
    found = []
    for text in texts:
        best = beam_search(cell, params, src_vocab.encode([text])[0][:, 0], beam, max_len, length_norm)[0]
        found.append((best.tokens, best.alphas))
    return found


def translate(cell, params, texts, src_vocab, tgt_vocab, max_len, beam=1, length_norm=0.0):
    """Translate strings (``decode_texts``): a list of ``(output string, alphas)``."""
    found = decode_texts(cell, params, texts, src_vocab, max_len, beam, length_norm)
    return [(tgt_vocab.decode(tokens), alphas) for tokens, alphas in found]


def accuracy(cell, params, pairs, src_vocab, tgt_vocab, max_len, beam=1, length_norm=0.0):
    """The fraction of ``pairs`` whose target is written exactly."""
    outputs = translate(cell, params, [s for s, _ in pairs], src_vocab, tgt_vocab, max_len, beam, length_norm)
    return float(np.mean([o == t for (o, _), (_, t) in zip(outputs, pairs)]))


def train_seq2seq(config, say=print, params=None):
    """Train a model by ``config`` (a ``Config``).

    Returns ``(params, history)``: ``history`` holds ``loss`` (per epoch, the mean training
    cross-entropy per target token), ``valid_accuracy`` (per epoch) and ``test_accuracy`` (at
    the end, greedy).
    """
    task = TASKS[config.task]
    sv, tv = task.vocabs
    train = task.pairs(config.train_size, "train", config.seed)
    valid = task.pairs(config.valid_size, "valid", config.seed)
    if params is None:
        params = init_seq2seq(config.cell, len(sv), len(tv), config.embed, config.hidden, config.dec_hidden,
                              config.attention_size, config.layers, config.attention, config.seed)
    values, opt = list(params.values()), Adam(config.lr)
    rng = np.random.default_rng([config.seed, 1])
    history = {"loss": [], "valid_accuracy": []}
    max_len = task.max_target + 1
    for epoch in range(config.epochs):
        losses, weights = [], []
        for b in batches(train, sv, tv, config.batch_size, rng):
            loss, grads, _ = seq2seq_loss_and_grads(config.cell, params, *b)
            if not np.isfinite(loss):
                raise ValueError(f"the training loss became {loss} in epoch {epoch + 1}: the learning rate "
                                 f"{config.lr} is too high for this model; lower --lr")
            opt.step(values, clip_by_global_norm([grads[k] for k in params], config.clip)[0])
            losses.append(loss)
            weights.append(b[4].sum())
        history["loss"].append(float(np.average(losses, weights=weights)))
        history["valid_accuracy"].append(accuracy(config.cell, params, valid, sv, tv, max_len))
        say(f"epoch {epoch + 1}/{config.epochs}: loss {history['loss'][-1]:.4f}, "
            f"validation accuracy {history['valid_accuracy'][-1]:.3f}")
    test = task.pairs(config.test_size, "test", config.seed)
    history["test_accuracy"] = accuracy(config.cell, params, test, sv, tv, max_len)
    return params, history

