"""Shrink a checkpoint of ``python -m rnnlib.charlm train`` for shipping in ``data/models/``.

Usage: ``python tools/ship_checkpoint.py model.npz data/models/time_machine_gru256.npz``

Keeps the configuration, the vocabulary, the step count and the training history; stores the
weights in float32 and drops Adam's moments and the carried state (the book samples from the
model and measures it; it does not resume it). A shipped checkpoint still loads with
``rnnlib.charlm.load_checkpoint`` (resuming it would restart Adam's moments).

Other tools import ``ship`` (``tools/train_depth_models.py``).
"""

import sys

import numpy as np

from rnnlib.charlm import Model, load_checkpoint, save_checkpoint
from rnnlib.optim import Adam


def slim(model):
    """``model`` as it is shipped: float32 weights, a fresh optimiser, no carried state."""
    return Model(model.config, model.vocab, {k: v.astype(np.float32) for k, v in model.params.items()},
                 model.step, model.history, Adam(model.config.lr), model.position, None, model.text_sha256,
                 model.test_ppl)


def ship(src, dest):
    """Write the slimmed checkpoint ``src`` to ``dest``; return the model as read from ``src``."""
    model = load_checkpoint(src)
    save_checkpoint(slim(model), dest)
    return model


def main(src, dest):
    model = ship(src, dest)
    print(f"{dest}: {model.config.cell} H={model.config.hidden}, step {model.step}, "
          f"validation perplexity {model.history['valid_ppl'][-1]:.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
