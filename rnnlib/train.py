"""Training a cell with a linear read-out on a sequence task.

A model is a list of arrays: the cell's weights (lectures' order) followed by the read-out
``W_y, b_y``. One step of training::

    loss, grads = loss_and_grads(cell, params, X, Y)
    grads, norm = clip_by_global_norm(grads, clip)
    optimizer.step(params, grads)

``train`` wraps this in a loop with a tqdm progress bar and returns the learning curves.
Everything random (weights, batches) comes from the seed, so a run is reproducible.
"""

from dataclasses import dataclass, field

import numpy as np

from .cells import get as get_cell
from .cells.rnn import TRAINED_ACTIVATION
from .bptt import backward, forward
from .data import TASKS
from .init import init_readout, init_weights
from .losses import mse, readout_backward, readout_forward
from .optim import SGD, Adam, clip_by_global_norm

__all__ = ["init_model", "predict", "evaluate", "loss_and_grads", "train", "TrainResult"]


def init_model(cell, D, H, O, seed=0, scheme="orthogonal"):
    """Initial parameters ``[*cell weights, W_y, b_y]`` (see ``rnnlib.init``)."""
    return list(init_weights(cell, D, H, seed, scheme)) + list(init_readout(H, O, seed + 1))


def _run(cell, params, X, last_only, activation):
    spec = get_cell(cell)
    weights = tuple(params[:len(spec.layout)])
    state_0 = spec.zero_state(spec.sizes(weights)[1], X.shape[2])
    hs, cache = forward(cell, weights, X, state_0, activation)
    y, ro_cache = readout_forward(hs[-1] if last_only else hs, *params[len(weights):])
    return y, hs, cache, ro_cache


def predict(cell, params, X, at_every_step=False, activation=TRAINED_ACTIVATION):
    """Model output: the read-out of the last state, shape (O, B), or of every state,
    shape (T, O, B) when ``at_every_step``."""
    return _run(cell, params, X, not at_every_step, activation)[0]


def evaluate(cell, params, X, Y, activation=TRAINED_ACTIVATION):
    """Mean squared error of the model on ``(X, Y)`` (no gradients)."""
    return mse(predict(cell, params, X, Y.ndim == 3, activation), Y)[0]


def loss_and_grads(cell, params, X, Y, activation=TRAINED_ACTIVATION):
    """Mean squared error of the model on one batch, and its gradient for every parameter.

    Parameters
    ----------
    cell : {"rnn", "gru", "mgu", "lstm", "mingru", "minlstm"}
    params : list of ndarray
        ``[*cell weights, W_y, b_y]``.
    X : ndarray, shape (T, D, B)
    Y : ndarray, shape (O, B) (target for the last step) or (T, O, B) (a target per step)
    activation : str
        The vanilla RNN's nonlinearity: tanh by default for training
        (``rnnlib.cells.rnn.TRAINED_ACTIVATION``); the other cells have none.

    Returns
    -------
    loss : float
    grads : list of ndarray, the shapes of ``params``
    """
    last_only = Y.ndim == 2
    y, hs, cache, ro_cache = _run(cell, params, X, last_only, activation)
    if not np.isfinite(y).all():
        raise FloatingPointError("the model's output is not finite: the weights have diverged")
    loss, dy = mse(y, Y)
    dh, dW_y, db_y = readout_backward(dy, ro_cache)
    if last_only:
        dhs = np.zeros_like(hs)
        dhs[-1] = dh
    else:
        dhs = dh
    dweights, _, _ = backward(dhs, cache)
    return loss, list(dweights) + [dW_y, db_y]


@dataclass
class TrainResult:
    """What ``train`` returns.

    Attributes
    ----------
    params : list of ndarray
        The trained parameters ``[*cell weights, W_y, b_y]``.
    history : dict of str -> list
        ``"step"``, ``"loss"`` (training batch), ``"grad_norm"`` (before clipping), and
        ``"eval_step"``, ``"eval_loss"`` on a fixed held-out batch, and ``"diverged_at"``
        (the step at which the loss or the gradient became infinite) when a run blew up.
    """

    params: list
    history: dict = field(default_factory=dict)


def train(cell, task="adding", T=30, hidden_size=32, steps=500, batch_size=32, lr=1e-2,
          clip=1.0, seed=0, optimizer="adam", eval_every=25, eval_size=256,
          activation=TRAINED_ACTIVATION, progress=True):
    """Train a cell with a linear read-out on a synthetic task.

    Parameters
    ----------
    cell : {"rnn", "gru", "mgu", "lstm", "mingru", "minlstm"}
    task : {"adding", "sine"} or callable
        A task ``task(T, B, rng) -> (X, Y)`` from ``rnnlib.data``.
    T : int
        Sequence length.
    hidden_size : int
    steps : int
        Number of optimiser steps, one fresh batch each.
    batch_size : int
    lr : float
    clip : float or None
        Maximum global gradient norm (None: no clipping).
    seed : int
        Seeds the weights, the training batches and the held-out batch.
    optimizer : {"adam", "sgd"}
    eval_every : int
        Evaluate on the held-out batch every this many steps (and after the last).
    eval_size : int
        Size of the held-out batch.
    activation : str
        The vanilla RNN's nonlinearity.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    TrainResult
    """
    from tqdm.auto import tqdm

    task_fn = TASKS[task] if isinstance(task, str) else task
    if not callable(task_fn):
        raise ValueError(f"task must be one of {sorted(TASKS)} or a callable; got {task!r}")
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd'; got {optimizer!r}")
    rng = np.random.default_rng(seed)
    X_eval, Y_eval = task_fn(T, eval_size, np.random.default_rng([seed, 1]))
    D, O = X_eval.shape[1], Y_eval.shape[-2]
    params = init_model(cell, D, hidden_size, O, seed)
    opt = Adam(lr) if optimizer == "adam" else SGD(lr)
    hist = {"step": [], "loss": [], "grad_norm": [], "eval_step": [], "eval_loss": []}
    bar = tqdm(range(1, steps + 1), desc=f"{cell} T={T}", disable=not progress, leave=False)
    for step in bar:
        X, Y = task_fn(T, batch_size, rng)
        with np.errstate(over="ignore", invalid="ignore"):   # divergence is detected below
            try:
                loss, grads = loss_and_grads(cell, params, X, Y, activation)
                grads, norm = clip_by_global_norm(grads, clip)
            except FloatingPointError:
                loss = norm = float("inf")
        if not (np.isfinite(loss) and np.isfinite(norm)):
            hist["diverged_at"] = step        # the run blew up: stop, keep what was learned
            break
        opt.step(params, grads)
        hist["step"].append(step)
        hist["loss"].append(loss)
        hist["grad_norm"].append(norm)
        if step % eval_every == 0 or step == steps:
            with np.errstate(over="ignore", invalid="ignore"):
                eval_loss = evaluate(cell, params, X_eval, Y_eval, activation)
            hist["eval_step"].append(step)
            hist["eval_loss"].append(eval_loss)
            bar.set_postfix(eval_mse=f"{eval_loss:.4f}")
    return TrainResult(params, hist)
