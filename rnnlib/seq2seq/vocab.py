"""A character vocabulary for one side of a sequence-to-sequence task, with padding and masks.

Ids 0, 1 and 2 are the specials: ``<pad>`` fills a short sequence up to the batch's length,
``<bos>`` is the decoder's first input, ``<eos>`` ends every target. The characters follow, in
sorted order, so a vocabulary is rebuilt exactly from its characters (a checkpoint stores only
those).

A batch of strings becomes ids (T, B), time first and one column per string as everywhere in
rnnlib, and a mask (T, B), 1 where a position is real. Padding runs at the end of each column.
"""

import numpy as np

__all__ = ["Vocab", "PAD", "BOS", "EOS", "SPECIALS"]

SPECIALS = ("<pad>", "<bos>", "<eos>")
PAD, BOS, EOS = range(len(SPECIALS))


class Vocab:
    """The specials then ``chars``, sorted.

    Parameters
    ----------
    chars : iterable of str
        Every character the side may hold (any order, repeats allowed: a text works).
    """

    def __init__(self, chars):
        self.chars = "".join(sorted(set(chars)))
        if not self.chars:
            raise ValueError("a vocabulary needs at least one character")
        self.itos = SPECIALS + tuple(self.chars)
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def __eq__(self, other):
        return isinstance(other, Vocab) and other.chars == self.chars

    def unknown(self, text):
        """The characters of ``text`` outside the vocabulary, in order of first appearance."""
        return "".join(dict.fromkeys(c for c in text if c not in self.stoi or c in SPECIALS))

    def encode(self, texts, bos=False, eos=False, length=None):
        """Ids and mask of a batch of strings.

        Parameters
        ----------
        texts : list of str
        bos, eos : bool
            Put ``<bos>`` before / ``<eos>`` after every string.
        length : int, optional
            The padded length T (default: the longest string's, with its specials).

        Returns
        -------
        ids : int ndarray, shape (T, B)
            ``<pad>`` after each string's end.
        mask : ndarray, shape (T, B)
            1.0 where a position is real (its specials included), 0.0 on padding.
        """
        if isinstance(texts, str) or not len(texts):
            raise ValueError("texts must be a non-empty list of strings")
        for text in texts:
            bad = self.unknown(text)
            if bad:
                raise ValueError(f"{text!r} holds characters outside the vocabulary: {bad!r}; "
                                 f"the vocabulary is {self.chars!r}")
        rows = [[BOS] * bos + [self.stoi[c] for c in text] + [EOS] * eos for text in texts]
        T = max(map(len, rows)) if length is None else length
        if max(map(len, rows)) > T:
            raise ValueError(f"a string needs {max(map(len, rows))} positions, more than length = {T}")
        ids = np.full((T, len(rows)), PAD, dtype=np.int64)
        mask = np.zeros((T, len(rows)))
        for b, row in enumerate(rows):
            ids[:len(row), b] = row
            mask[:len(row), b] = 1.0
        return ids, mask

    def decode(self, ids):
        """The string of a sequence of ids: characters up to the first ``<eos>``, specials dropped."""
        out = []
        for i in ids:
            if i == EOS:
                break
            if i >= len(SPECIALS):
                out.append(self.itos[i])
        return "".join(out)
