"""Train the two GRU language models that chapter 13 compares, one layer against two with
(almost) the same number of parameters, and ship them into ``data/models/``.

Usage: ``python tools/train_depth_models.py`` (about two to three minutes per model on two
cores).

Both runs are the command line's default run (``python -m rnnlib.charlm train``) but for the
layers, the hidden size, the precision and the number of steps, which are the same for both:
the same text, seed, learning rate, window, batch, dropout and clipping. Each is the same as::

    python -m rnnlib.charlm train --text time_machine --cell gru --layers 2 --hidden 158 \\
        --dtype float32 --steps 2000 --seed 0 --out model.npz
    python tools/ship_checkpoint.py model.npz data/models/time_machine_gru2x158.npz

(and ``--layers 1 --hidden 256`` for the other). Float32 trains about twice as fast as float64;
the shipped weights are float32 either way (``ship_checkpoint.ship``).
"""

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rnnlib import charlm, lm
from rnnlib.text import DATA_DIR

from ship_checkpoint import ship

#: What both runs share: the command line's defaults, in float32, for 2000 steps.
COMMON = charlm.Config(text="time_machine", cell="gru", dtype="float32", steps=2000, seed=0)
#: The shipped file of each model, and its layers and hidden units per layer.
MODELS = {"time_machine_gru1x256.npz": dict(layers=1, hidden=256),
          "time_machine_gru2x158.npz": dict(layers=2, hidden=158)}
#: The parameter counts may differ by at most this fraction (158 units is the closest to 1x256).
TOLERANCE = 0.01


def parameter_count(config, V):
    """The number of parameters of ``config``'s model over a vocabulary of ``V`` ids."""
    params = lm.init_lm(config.cell, V, config.hidden, config.embed or None, layers=config.layers)
    return sum(p.size for p in params.values())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=DATA_DIR / "models", help="where to ship the checkpoints")
    args = parser.parse_args(argv)
    configs = {name: replace(COMMON, **sizes) for name, sizes in MODELS.items()}
    V = len(charlm.read_corpus(COMMON)[1])
    counts = {name: parameter_count(c, V) for name, c in configs.items()}
    if max(counts.values()) > (1 + TOLERANCE) * min(counts.values()):
        sys.exit(f"the parameter counts differ by more than {TOLERANCE:.0%}: {counts}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, config in configs.items():
            t0 = time.perf_counter()
            charlm.train_charlm(config, out=Path(tmp) / name)
            seconds = time.perf_counter() - t0
            model = ship(Path(tmp) / name, args.dest / name)
            print(f"{args.dest / name}: {config.layers} x {config.hidden}, {counts[name]:,} parameters, "
                  f"{model.step} steps in {seconds:.0f} s, validation perplexity "
                  f"{model.history['valid_ppl'][-1]:.3f}", flush=True)


if __name__ == "__main__":
    main()
