"""Train the models that chapter 16 (parallel scans) evaluates, and ship them into
``data/models/``.

Usage::

    python tools/train_parallel_models.py lm        # the five language models
    python tools/train_parallel_models.py copying   # minGRU on selective copying, 1 and 3 layers

``lm``: a GRU, an LSTM, minGRU in two and in three layers and minLSTM in two layers, each with
(within 1%) the 88,524 parameters of one GRU layer of 128 units, trained on *The Time Machine*
with the command line's defaults (``python -m rnnlib.charlm train``) but for the cell, the
layers, the hidden size, ``--dtype float32``, ``--steps 1000`` and ``--dropout 0``; the same
text, seed, batches, learning rate, window and clipping for all. Each is the same as::

    python -m rnnlib.charlm train --text time_machine --cell mingru --layers 3 --hidden 122 \\
        --dtype float32 --steps 1000 --dropout 0 --seed 0 --out model.npz
    python tools/ship_checkpoint.py model.npz data/models/time_machine_mingru3x122.npz

The script prints each run's wall time and its validation perplexity.

``copying``: the selective-copying task of Feng et al. (2024, Table 1), scaled down
(``COPYING``), learnt by a minGRU of one layer and by one of three layers
(``rnnlib.data.selective_copying``; ``train_copying``), trained with Adam through
``rnnlib.lm`` (an embedding, the layers, a readout, and a mask that keeps only the answer
positions' loss). The checkpoint holds the weights (float32), the task's settings, the training
history and the accuracy on a fixed test set.
"""

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from rnnlib import charlm, lm
from rnnlib.data import selective_copying
from rnnlib.losses import softmax_cross_entropy
from rnnlib.optim import Adam, clip_by_global_norm
from rnnlib.text import DATA_DIR

from ship_checkpoint import ship

#: What every language model shares: the command line's defaults, in float32, for 1000 steps,
#: without dropout (at this size none of the models overfits in 1000 steps, and dropout 0.4,
#: the default, slowed the minimal cells' learning more than the GRU's; data/README.md).
COMMON = charlm.Config(text="time_machine", dtype="float32", steps=1000, seed=0, dropout=0.0)
#: The shipped file of each language model: its cell, layers and hidden units per layer.
LMS = {"time_machine_gru1x128.npz": dict(cell="gru", layers=1, hidden=128),
       "time_machine_lstm1x108.npz": dict(cell="lstm", layers=1, hidden=108),
       "time_machine_mingru2x160.npz": dict(cell="mingru", layers=2, hidden=160),
       "time_machine_mingru3x122.npz": dict(cell="mingru", layers=3, hidden=122),
       "time_machine_minlstm2x128.npz": dict(cell="minlstm", layers=2, hidden=128)}
#: The parameter counts may differ from the GRU's by at most this fraction.
TOLERANCE = 0.01

#: The selective-copying task and its training (scaled down from the paper's T = 4096).
COPYING = dict(T=64, n_copy=8, n_symbols=8, hidden=64, embed=16, batch=64, steps=2500, lr=3e-3,
               clip=1.0, test_size=1000, seed=0)
#: The shipped file of each copying model, and its layers.
COPIERS = {"copying_mingru1.npz": 1, "copying_mingru3.npz": 3}


def parameter_count(cell, V, hidden, layers, embed=None):
    """The number of parameters of a language model (``rnnlib.lm.init_lm``)."""
    return sum(p.size for p in lm.init_lm(cell, V, hidden, embed, layers=layers).values())


def train_lms(dest):
    configs = {name: replace(COMMON, **model) for name, model in LMS.items()}
    V = len(charlm.read_corpus(COMMON)[1])
    counts = {name: parameter_count(c.cell, V, c.hidden, c.layers) for name, c in configs.items()}
    reference = counts["time_machine_gru1x128.npz"]
    if any(abs(n / reference - 1) > TOLERANCE for n in counts.values()):
        sys.exit(f"the parameter counts differ by more than {TOLERANCE:.0%}: {counts}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, config in configs.items():
            t0 = time.perf_counter()
            charlm.train_charlm(config, out=Path(tmp) / name, progress=False)
            seconds = time.perf_counter() - t0
            model = ship(Path(tmp) / name, dest / name)
            print(f"{dest / name}: {config.cell} {config.layers} x {config.hidden}, {counts[name]:,} "
                  f"parameters, {model.step} steps in {seconds:.0f} s, validation perplexity "
                  f"{model.history['valid_ppl'][-1]:.3f}", flush=True)


def copying_loss(params, layers, X, Y, mask, grads=True):
    """The masked loss (and gradients) of a copying model on one batch."""
    state = lm.zero_state("mingru", params["W_y"].shape[1], X.shape[1], params["W_y"].dtype, layers)
    if grads:
        return lm.lm_loss_and_grads("mingru", params, X, Y, state, mask)[:2]
    logits, _ = lm.lm_forward("mingru", params, X, state)
    return softmax_cross_entropy(logits, Y, mask)[0], logits


def copying_accuracy(params, layers, X, Y, mask):
    """The share of answer tokens predicted right, and of sequences copied whole."""
    _, logits = copying_loss(params, layers, X, Y, mask, grads=False)
    right = (logits.argmax(axis=1) == Y) | (mask == 0)
    token = float(right[mask == 1].mean())
    return token, float(right.all(axis=0).mean())


def train_copying(layers, c=COPYING, log=print):
    """Train a minGRU of ``layers`` layers on selective copying; the params and a history."""
    rng = np.random.default_rng([c["seed"], layers])
    V = c["n_symbols"] + 2
    params = lm.init_lm("mingru", V, c["hidden"], c["embed"], seed=c["seed"], layers=layers)
    values = list(params.values())
    opt = Adam(c["lr"])
    test = selective_copying(c["T"], c["test_size"], c["n_copy"], c["n_symbols"],
                             np.random.default_rng([c["seed"], 999]))
    history = {"step": [], "loss": [], "test_accuracy": []}
    losses = []
    for step in range(1, c["steps"] + 1):
        X, Y, mask = selective_copying(c["T"], c["batch"], c["n_copy"], c["n_symbols"], rng)
        loss, grads = copying_loss(params, layers, X, Y, mask)
        clipped, _ = clip_by_global_norm(list(grads.values()), c["clip"])
        opt.step(values, clipped)
        losses.append(loss)
        if step % 100 == 0 or step == c["steps"]:
            acc = copying_accuracy(params, layers, *test)[0]
            for k, v in (("step", step), ("loss", float(np.mean(losses))), ("test_accuracy", acc)):
                history[k].append(v)
            losses = []
            log(f"  {layers} layer(s), step {step}: loss {history['loss'][-1]:.3f}, accuracy {acc:.3f}")
    return params, history


def save_copier(path, params, layers, history, seconds):
    meta = dict(COPYING, layers=layers, seconds=round(seconds, 1), history=history)
    np.savez(path, meta=np.array(json.dumps(meta)),
             **{k: v.astype(np.float32) for k, v in params.items()})


def load_copier(path):
    """``(params, meta)`` of a shipped copying model (float64 weights)."""
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
        return {k: f[k].astype(np.float64) for k in f.files if k != "meta"}, meta


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("lm", "copying"))
    parser.add_argument("--dest", type=Path, default=DATA_DIR / "models", help="where to ship the checkpoints")
    args = parser.parse_args(argv)
    if args.what == "lm":
        train_lms(args.dest)
        return
    for name, layers in COPIERS.items():
        t0 = time.perf_counter()
        params, history = train_copying(layers)
        seconds = time.perf_counter() - t0
        save_copier(args.dest / name, params, layers, history, seconds)
        print(f"{args.dest / name}: {layers} layer(s), {seconds:.0f} s, test accuracy "
              f"{history['test_accuracy'][-1]:.3f}", flush=True)


if __name__ == "__main__":
    main()
