"""Text as numbers: the shipped texts, a character vocabulary, splits and minibatches.

The pipeline of a character language model::

    text = load_text("time_machine")                   # a str, shipped in data/
    train, valid, test = split_text(text)              # contiguous, disjoint pieces
    vocab = Vocab.from_text(train)                     # characters seen in training
    ids = vocab.encode(train)                          # int array, shape (N,)
    for X, Y in batches(ids, batch_size=32, num_steps=64, order="sequential", rng=rng):
        ...                                            # X, Y: (T, B) ints, Y = X shifted by one

Batches are time first, batch in the columns, as everywhere in rnnlib.
"""

from pathlib import Path

import numpy as np

__all__ = ["TEXTS", "load_text", "EncodingError", "Vocab", "split_text", "batches", "UNKNOWN"]

def _data_dir():
    """The shipped data: ``data/`` beside ``rnnlib/`` in a clone of the repository, or the copy a
    ``pip install .`` puts inside the package (``rnnlib/data``; pyproject.toml maps it)."""
    here = Path(__file__).resolve().parent
    beside = here.parent / "data"
    return beside if (beside / "README.md").is_file() else here / "data"


DATA_DIR = _data_dir()

#: The shipped texts, by name: the file in ``data/`` (their source and licence: data/README.md).
TEXTS = {"time_machine": "time_machine.txt"}

#: What an unknown character decodes to: U+FFFD, the replacement character.
UNKNOWN = "\ufffd"


class EncodingError(ValueError):
    """A text file that its encoding cannot decode."""


def load_text(name, encoding="utf-8"):
    """A shipped text by name, or any text file by path, as a str (no download ever).

    Parameters
    ----------
    name : str or path
        A key of ``TEXTS``, e.g. ``"time_machine"`` (H. G. Wells, 1895; 179,693 characters), or
        the path of a text file.
    encoding : str
        The file's encoding (shipped texts are UTF-8).

    Raises ``ValueError`` naming the file: missing, binary, not in ``encoding`` (an
    ``EncodingError``), or empty.
    """
    if str(name) in TEXTS:
        return (DATA_DIR / TEXTS[str(name)]).read_text(encoding="utf-8")
    if not str(name):
        raise ValueError(f"no text named: give a text file or a shipped text ({', '.join(sorted(TEXTS))})")
    path = Path(name)
    if not path.is_file():
        raise ValueError(f"no text {str(name)!r}: not a shipped text ({', '.join(sorted(TEXTS))}) "
                         f"and not a file" + (" (it is a directory)" if path.is_dir() else ""))
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r} (try utf-8, latin-1 or cp1252)") from None
    except UnicodeDecodeError as exc:
        if b"\0" in data:
            raise EncodingError(f"{path} looks like a binary file (it holds NUL bytes), not {encoding} text, "
                                "or like text in an encoding such as UTF-16") from None
        raise EncodingError(f"{path} is not {encoding} text: byte 0x{data[exc.start]:02x} at position "
                            f"{exc.start} cannot be decoded") from None
    if not text:
        raise ValueError(f"{path} is empty")
    if "\0" in text:                    # decoded as it says (UTF-16 text has none): not text
        raise ValueError(f"{path} looks like a binary file (it holds NUL characters), not {encoding} text")
    return text


class Vocab:
    """A character vocabulary: id 0 is the unknown character, then the known ones, sorted.

    Parameters
    ----------
    chars : iterable of str
        The known characters (each of length 1).

    Attributes
    ----------
    chars : str
        Every id's character, ``chars[0] == UNKNOWN``.
    """

    def __init__(self, chars):
        known = sorted(set(chars) - {UNKNOWN})
        if any(len(c) != 1 for c in known):
            raise ValueError("a vocabulary holds single characters")
        self.chars = UNKNOWN + "".join(known)
        self._index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text):
        """The vocabulary of the characters in ``text`` (build it from the training split only)."""
        return cls(set(text))

    def __len__(self):
        return len(self.chars)

    def __repr__(self):
        return f"Vocab({len(self)} characters: {self.chars[1:]!r} and unknown)"

    def unknown_in(self, text):
        """The characters of ``text`` outside the vocabulary, sorted."""
        return sorted(set(text) - set(self.chars[1:]))

    def encode(self, text, strict=False):
        """Character ids of ``text``, int64 array of shape (len(text),).

        Unknown characters become id 0, or with ``strict`` raise a ``ValueError`` naming them.
        """
        if strict and (missing := self.unknown_in(text)):
            raise ValueError(f"characters outside the vocabulary: {''.join(missing)!r}")
        index = self._index
        return np.fromiter((index.get(c, 0) for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids):
        """The text of character ids (any integer array-like, read in order)."""
        ids = np.asarray(ids).ravel()
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must be in [0, {len(self)}); got range [{ids.min()}, {ids.max()}]")
        return "".join(self.chars[i] for i in ids)


#: How far ``split_text`` moves a cut forward to reach a line break or a space.
SHIFT = 1000


def split_text(text, fractions=(0.9, 0.05, 0.05)):
    """Cut a text into train, validation and test pieces, in that order, without overlap.

    Each piece is contiguous (a model sees no sentence of the held-out text while training),
    and each cut is moved forward to the next line break, or where there is none within
    ``SHIFT`` characters (a text in long lines) to the next space, so that no word is split
    across pieces.

    Parameters
    ----------
    text : str
    fractions : three floats summing to 1

    Returns
    -------
    train, valid, test : str
        ``train + valid + test == text``.
    """
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three positive numbers summing to 1; got {fractions}")
    cuts = []
    for f in np.cumsum(fractions)[:2]:
        at = int(f * len(text))
        ends = (text.find(sep, at, at + SHIFT) for sep in ("\n", " "))
        cuts.append(next((end + 1 for end in ends if end >= 0), at))
    return text[:cuts[0]], text[cuts[0]:cuts[1]], text[cuts[1]:]


def batches(ids, batch_size, num_steps, order="sequential", rng=None):
    """Minibatches for truncated backprop through time, in one pass over ``ids``.

    Both of d2l.ai's partitionings (Zhang et al., *Dive into Deep Learning*, section 9.3):

    - ``"sequential"``: the text is cut into ``batch_size`` streams laid side by side; batch
      ``k`` holds the ``k``-th chunk of every stream, so column ``b`` of one batch continues
      column ``b`` of the batch before. The model carries its state from one batch to the next
      (and detaches it: no gradient crosses a chunk boundary).
    - ``"random"``: the text is cut into chunks of ``num_steps`` that are dealt out in random
      order; neighbouring batches are unrelated, so the state starts from zero in each.

    Both start at a random offset in ``[0, num_steps)``, so that different epochs cut the text
    at different places.

    Parameters
    ----------
    ids : int ndarray, shape (N,)
    batch_size, num_steps : int >= 1
    order : {"sequential", "random"}
    rng : numpy.random.Generator, or None for offset 0 and (random order) a fixed shuffle

    Yields
    ------
    X, Y : int ndarray, each shape (num_steps, batch_size)
        Inputs and targets: ``Y[t, b]`` is the character after ``X[t, b]`` in the text.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D integer array; got dtype {ids.dtype}, shape {ids.shape}")
    for name, v in (("batch_size", batch_size), ("num_steps", num_steps)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer; got {v!r}")
    if order not in ("sequential", "random"):
        raise ValueError(f"order must be 'sequential' or 'random'; got {order!r}")
    rng = np.random.default_rng(0) if rng is None else rng
    offset = int(rng.integers(num_steps)) if len(ids) > batch_size * num_steps + num_steps else 0
    if order == "sequential":
        length = (len(ids) - offset - 1) // batch_size             # characters per stream
        n_batches = length // num_steps
        if n_batches < 1:
            raise ValueError(f"{len(ids)} characters are too few for one batch of {batch_size} x {num_steps}")
        used = batch_size * length
        Xs = ids[offset:offset + used].reshape(batch_size, length).T        # (length, B)
        Ys = ids[offset + 1:offset + 1 + used].reshape(batch_size, length).T
        for k in range(n_batches):
            t = slice(k * num_steps, (k + 1) * num_steps)
            yield Xs[t], Ys[t]
    else:
        n_chunks = (len(ids) - offset - 1) // num_steps
        if n_chunks < batch_size:
            raise ValueError(f"{len(ids)} characters are too few for one batch of {batch_size} x {num_steps}")
        starts = offset + num_steps * rng.permutation(n_chunks)
        steps = np.arange(num_steps)[:, None]
        for k in range(n_chunks // batch_size):
            s = starts[k * batch_size:(k + 1) * batch_size]
            yield ids[s + steps], ids[s + steps + 1]
