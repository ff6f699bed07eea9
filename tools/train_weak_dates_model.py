"""Train a deliberately under-trained date translator for the decoding chapter (chapter 15), and
ship it as ``data/models/dates_small.npz``.

Usage: ``python tools/train_weak_dates_model.py`` (about 20 seconds on two cores).

The shipped translator, ``data/models/dates.npz`` (``tools/train_dates_model.py``), writes
every test date right by greedy decoding, so no search can improve on it. This one is the same
model, trained for less: the command line's default run but for the number of training dates
and epochs, the same as::

    python -m rnnlib.seq2seq train --task dates --train-size 9000 --epochs 1 \\
        --out data/models/dates_small.npz

a GRU encoder (bidirectional, 48 units each way) and decoder (64 units) with additive attention
(32), embeddings of 16, trained for one epoch on 9,000 dates of the training split (instead of
three epochs on 20,000), in batches of 64 dates of one source length, with seed 0. Its outputs
have the right form but some of their digits are wrong, and its next-character distributions
are less sure of themselves: where beam search and greedy decoding part.

Measured when it was made (two cores, one of them busy with other work): trained in 21 s;
greedy exact-match accuracy 0.697 on the 1,000 validation dates and 0.720 on the 1,000 test
dates (seed 0); beam search on the same test dates, 0.742 with a beam of 2 and 0.744 with 3,
5 or 10 (chapter 15 measures this afresh). The checkpoint keeps the settings, the
vocabularies and the greedy history.
"""

from rnnlib.seq2seq.train import Config

from train_dates_model import train_and_ship

CONFIG = Config(task="dates", train_size=9000, epochs=1)

if __name__ == "__main__":
    train_and_ship(CONFIG, "dates_small.npz", __doc__)
