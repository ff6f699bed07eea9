"""Train the date translator that the book and ``python -m rnnlib.seq2seq translate`` use, and
ship it as ``data/models/dates.npz``.

Usage: ``python tools/train_dates_model.py`` (about 25 seconds on two cores, one of them busy).

The run is the command line's default run, the same as::

    python -m rnnlib.seq2seq train --task dates --out data/models/dates.npz

a GRU encoder (bidirectional, 48 units each way) and decoder (64 units) with additive attention
(32), embeddings of 16, trained for 3 epochs on 20,000 dates of the training split, in batches
of 64 dates of one source length. The checkpoint keeps the settings, the vocabularies and the
history (the loss and the validation accuracy of every epoch, the test accuracy at the end).
"""

import argparse
import sys
import time
from pathlib import Path

from rnnlib.seq2seq.checkpoint import save_checkpoint
from rnnlib.seq2seq.train import Config, train_seq2seq
from rnnlib.text import DATA_DIR

CONFIG = Config(task="dates")


def train_and_ship(config, name, doc, argv=None):
    """Train ``config``'s model and write it to ``data/models/<name>`` (or ``--dest``)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=DATA_DIR / "models" / name, help="the file to write")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    params, history = train_seq2seq(config, say=lambda line: print(line, file=sys.stderr))
    save_checkpoint(args.dest, config, params, history)
    print(f"{args.dest}: test accuracy {history['test_accuracy']:.4f} (greedy), trained in "
          f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    train_and_ship(CONFIG, "dates.npz", __doc__)
