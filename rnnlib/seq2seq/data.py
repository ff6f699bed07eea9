"""The tasks an encoder-decoder learns here, and their batches.

- ``dates``: a human-written date to ISO 8601 (``rnnlib.dates``), split by date.
- ``reverse``: a string of letters to the same string reversed, of any length from 1 to
  ``max_len``. Its output depends on every input position in turn, and on the far end of the
  input first: the task on which a fixed-size summary fails as the input grows (the chapter's
  measurement).

A batch holds examples whose sources have one length (bucketing), so that the encoder runs as
one group (``rnnlib.seq2seq.model``); its targets are padded to the longest. ``batch`` turns
pairs into the arrays the model reads.
"""

from dataclasses import dataclass

import numpy as np

from .. import dates
from .vocab import Vocab

__all__ = ["Task", "TASKS", "batch", "batches"]


@dataclass(frozen=True)
class Task:
    """A task: its two vocabularies, its longest source, its longest target (``<eos>`` not
    counted), and ``pairs(n, split, seed)``."""

    name: str
    source_chars: str
    target_chars: str
    max_source: int
    max_target: int
    pairs: object

    @property
    def vocabs(self):
        return Vocab(self.source_chars), Vocab(self.target_chars)


LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: the reversal task's longest string
REVERSE_MAX = 40


def reverse_pairs(n, split="train", seed=0, max_len=REVERSE_MAX):
    """``n`` pairs (string, reversed string) of lowercase letters, lengths uniform in 1..``max_len``.
    The splits differ by seed only (strings of more than a few letters almost never repeat)."""
    rng = np.random.default_rng([seed, ("train", "valid", "test").index(split)])
    lengths = rng.integers(1, max_len + 1, size=n)
    words = ["".join(LETTERS[i] for i in rng.integers(len(LETTERS), size=k)) for k in lengths]
    return [(w, w[::-1]) for w in words]


TASKS = {
    "dates": Task("dates", dates.SOURCE_CHARS, dates.TARGET_CHARS, 32, dates.ISO_LENGTH, dates.date_pairs),
    "reverse": Task("reverse", LETTERS, LETTERS, REVERSE_MAX, REVERSE_MAX, reverse_pairs),
}


def batch(pairs, src_vocab, tgt_vocab):
    """The arrays of a list of ``(source, target)`` pairs.

    Returns
    -------
    src, src_mask : (T_src, B)
    tgt_in : (T_tgt, B)
        ``<bos>`` then the target: what the decoder reads (teacher forcing).
    tgt_out : (T_tgt, B)
        The target then ``<eos>``: what it should write.
    tgt_mask : (T_tgt, B)
        1 where ``tgt_out`` is real.
    """
    src, src_mask = src_vocab.encode([s for s, _ in pairs])
    tgt_in, _ = tgt_vocab.encode([t for _, t in pairs], bos=True)
    tgt_out, tgt_mask = tgt_vocab.encode([t for _, t in pairs], eos=True)
    return src, src_mask, tgt_in, tgt_out, tgt_mask


def batches(pairs, src_vocab, tgt_vocab, batch_size, rng):
    """One pass over ``pairs`` in batches of one source length each (bucketing), in random order.

    Every length's examples are shuffled and cut into batches of ``batch_size`` (the last of a
    length may be smaller); the batches of all lengths are then shuffled together.
    """
    by_length = {}
    for p in pairs:
        by_length.setdefault(len(p[0]), []).append(p)
    cut = []
    for n in sorted(by_length):
        group = by_length[n]
        order = rng.permutation(len(group))
        cut += [[group[i] for i in order[j:j + batch_size]] for j in range(0, len(group), batch_size)]
    for i in rng.permutation(len(cut)):
        yield batch(cut[i], src_vocab, tgt_vocab)
