"""Train the two encoder-decoders that chapter 14 compares on reversing strings, one with
attention and one without, and ship them into ``data/models/``.

Usage: ``python tools/train_reverse_models.py`` (about four minutes for the model with attention
and three for the other, on two cores; below).

Both runs are the command line's default run but for the task, the number of training strings
and the number of epochs, which are the same for both; they differ only in attention. Each is
the same as::

    python -m rnnlib.seq2seq train --task reverse --train-size 40000 --epochs 6 \\
        --out data/models/reverse_attention.npz
    python -m rnnlib.seq2seq train --task reverse --train-size 40000 --epochs 6 \\
        --no-attention --out data/models/reverse_summary.npz

a GRU encoder (bidirectional, 48 units each way) and decoder (64 units), embeddings of 16,
additive attention of 32 (or none: the decoder then reads the encoder's two final states at
every step), trained with Adam (learning rate 0.003, the gradient clipped to a global norm of 5)
for 6 epochs over 40,000 strings of 1 to 40 lowercase letters, in batches of 64 strings of one
length, seed 0. The checkpoints keep the settings, the vocabularies and the history (the loss
and the validation accuracy of every epoch, the test accuracy at the end).

The shipped checkpoints were made by one run of this script, on two cores that other work kept
partly busy (a load of about 2.5)::

    reverse_attention.npz: trained in 241 s; test accuracy 1.000 (1.000 on lengths 1-10,
        1.000 on lengths 31-40); validation accuracy by epoch 0.755 0.982 0.996 0.998 0.998 0.999
    reverse_summary.npz: trained in 167 s; test accuracy 0.200 (0.784 on lengths 1-10,
        0.000 on lengths 31-40); validation accuracy by epoch 0.135 0.169 0.185 0.187 0.192 0.197

(exact match, greedy, on the 1,000 test strings of the run's seed). An earlier run on a
busier machine took 480 s and 131 s and ended with test accuracies of 1.000 and 0.198. Two runs need not
agree in every digit: with two BLAS threads the matrix products' sums may be ordered
differently from one run to the next, and training carries such differences along (the first
epoch's loss of the model with attention came out 1.4619 in one run and 1.4539 in the other).
With ``OPENBLAS_NUM_THREADS=1`` two runs of that epoch agreed exactly.
"""

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from rnnlib.memory import keep_freed_memory
from rnnlib.seq2seq.checkpoint import save_checkpoint
from rnnlib.seq2seq.data import TASKS
from rnnlib.seq2seq.train import Config, accuracy, train_seq2seq
from rnnlib.text import DATA_DIR

#: What both runs share: the command line's defaults, on the reversal task, longer.
COMMON = Config(task="reverse", train_size=40000, epochs=6)
#: The shipped file of each model, and whether it attends.
MODELS = {"reverse_attention.npz": True, "reverse_summary.npz": False}
#: The test strings are also scored in two groups of lengths: short and long.
SHORT, LONG = (1, 10), (31, 40)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=DATA_DIR / "models", help="where to ship the checkpoints")
    args = parser.parse_args(argv)
    keep_freed_memory()                  # as the command line does: this process is ours
    task = TASKS[COMMON.task]
    test = task.pairs(COMMON.test_size, "test", COMMON.seed)
    sv, tv = task.vocabs
    for name, attention in MODELS.items():
        config = replace(COMMON, attention=attention)
        start = time.perf_counter()
        params, history = train_seq2seq(config, say=lambda line: print(line, file=sys.stderr, flush=True))
        seconds = time.perf_counter() - start
        save_checkpoint(args.dest / name, config, params, history)
        scored = []
        for lo, hi in (SHORT, LONG):
            group = [p for p in test if lo <= len(p[0]) <= hi]
            scored.append(f"{accuracy(config.cell, params, group, sv, tv, task.max_target + 1):.3f} "
                          f"on lengths {lo}-{hi}")
        print(f"{args.dest / name}: trained in {seconds:.0f} s; test accuracy "
              f"{history['test_accuracy']:.3f} ({', '.join(scored)}); validation accuracy by epoch "
              f"{' '.join(f'{a:.3f}' for a in history['valid_accuracy'])}", flush=True)


if __name__ == "__main__":
    main()
