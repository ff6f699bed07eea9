"""The character language model against a PyTorch twin: same results, and the speed of a step.

    python benchmarks/charlm_torch.py [--steps N] [--cells gru,lstm]      (also run by make bench)

1. **Twin run.** The same model trained twice, by ``rnnlib.charlm.train_charlm`` and by PyTorch
   autograd: the same text and batches (``rnnlib.text.batches``, sequential, state carried and
   detached), the same initial weights (``rnnlib.lm.init_lm``, copied into torch), the same
   optimiser (Adam, the same settings) and clipping (global norm), the same dropout masks
   (``rnnlib.lm.dropout_mask`` from the same per-step seeds), the same number of steps: the
   command line's default run, in float64. The twin is the cell's own (``Cell.torch_twin``): the
   LSTM's is ``torch.nn.LSTM`` (the same equations as ours); PyTorch has no GRU of our form
   (``nn.GRU`` applies the reset gate after the product), so the GRU twin is our equations
   written in torch, step by step. The two validation perplexities must agree
   within 5%: that checks the numpy training end to end (a wrong gradient anywhere would
   train differently).
2. **Throughput** in characters per second of one training step (forward, loss, backward,
   clipping, Adam; no dropout) at the command line's default size, float64 and float32, against PyTorch's
   fastest CPU path: ``nn.GRU`` / ``nn.LSTM`` with an ``nn.Linear`` output layer and
   ``cross_entropy``. numpy's BLAS and PyTorch run with the same number of threads
   (``torch.set_num_threads`` given what ``rnnlib.threads`` chooses: the idle cores). Steps are
   interleaved and the median taken.

Writes ``benchmarks/reports/charlm.md``.
"""

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from rnnlib import CELLS, charlm, lm, text, threads
from rnnlib.cells.rnn import TRAINED_ACTIVATION
from rnnlib.optim import Adam, clip_by_global_norm

REPORT = Path(__file__).resolve().parent / "reports"


def _torch():
    import torch

    # the BLAS threads rnnlib's products get at the default size, far above threads.PAYS
    torch.set_num_threads(threads.threads_for(threads.PAYS))
    return torch


class TorchTwin:
    """Our language model in PyTorch, from the same initial parameters (one-hot input).

    The cell is its PyTorch twin (``rnnlib.CELLS[cell].torch_twin``): its ``layer`` (``nn.LSTM``
    with our weights) where that computes our cell exactly, or with ``fast`` (PyTorch's fastest
    path, for timing: ``nn.GRU`` is another GRU); else its ``step``, our equations in torch
    operations, one step at a time (our GRU).
    """

    def __init__(self, torch, cell, params, dtype, fast=False):
        self.torch, self.spec = torch, CELLS[cell]
        t = lambda a: torch.tensor(a, dtype=dtype, requires_grad=True)
        self.V, self.H = params["W_y"].shape
        self.W_y, self.b_y = t(params["W_y"]), t(params["b_y"][:, 0])
        weights = tuple(params[k].astype(self.W_y.detach().numpy().dtype) for k in self.spec.weight_names)
        self.options = self.spec.loop_options(activation=TRAINED_ACTIVATION)
        twin = self.spec.torch_twin
        if fast or twin.exact:
            self.rnn = twin.layer(torch, weights, **self.options)
            for name, p in self.rnn.named_parameters():
                if name.startswith("bias_hh"):      # ours has one bias per gate: it is in bias_ih
                    p.requires_grad_(False)
            self.weights = [p for p in self.rnn.parameters() if p.requires_grad]
        else:
            self.rnn = None
            self.weights = [t(w) for w in weights]
        self.params = self.weights + [self.W_y, self.b_y]

    def forward(self, X_ids, state, keep=None):
        """Logits (T, B, V) and the final state (``zero_state``'s shapes); ``keep`` is the dropout
        multiplier (T, H, B) in numpy, or None."""
        torch = self.torch
        x = torch.nn.functional.one_hot(torch.as_tensor(X_ids), self.V).to(self.W_y.dtype)  # (T, B, V)
        if self.rnn is not None:
            hs, state = self.rnn(x, state)
        else:                                           # the twin's step, columns = the batch
            out = []
            for x_t in x:
                h, state = self.spec.torch_twin.step(torch, [x_t.T, state], self.weights, **self.options)
                out.append(h.T)
            hs = torch.stack(out)
        if keep is not None:
            hs = hs * torch.as_tensor(keep.transpose(0, 2, 1), dtype=hs.dtype)
        return hs @ self.W_y.T + self.b_y, state

    def zero_state(self, B):
        """Zeros shaped as the model carries its state: (H, B) parts for the step, (1, B, H)
        parts for PyTorch's modules (the LSTM's a pair)."""
        shape = (self.H, B) if self.rnn is None else (1, B, self.H)
        return self.spec.pack_state([self.torch.zeros(*shape, dtype=self.W_y.dtype) for _ in self.spec.state_names])

    def detach(self, state):
        return self.spec.pack_state([s.detach() for s in self.spec.unpack_state(state)])

    def step(self, opt, X, Y, state, clip, keep=None):
        torch = self.torch
        logits, state = self.forward(X, state, keep)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, self.V), torch.as_tensor(Y).reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, clip)
        opt.step()
        return loss.item(), self.detach(state)

    def perplexity(self, ids, streams=16):
        torch = self.torch
        n = (len(ids) - 1) // streams
        X = ids[:n * streams].reshape(streams, n).T
        Y = ids[1:n * streams + 1].reshape(streams, n).T
        with torch.no_grad():
            logits, _ = self.forward(X, self.zero_state(streams))
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, self.V), torch.as_tensor(Y).reshape(-1))
        return float(np.exp(loss.item()))


def twin_run(torch, config):
    """Train both and return their validation perplexities after ``config.steps`` steps."""
    ours = charlm.train_charlm(replace(config, eval_every=config.steps), progress=False)
    train_text, valid_text, _ = text.split_text(text.load_text(config.text))
    vocab = text.Vocab.from_text(train_text)
    train, valid = vocab.encode(train_text), vocab.encode(valid_text)
    params = lm.init_lm(config.cell, len(vocab), config.hidden, None, config.seed)
    twin = TorchTwin(torch, config.cell, params, torch.float64)
    opt = torch.optim.Adam(twin.params, lr=config.lr, eps=1e-8)
    state, step, epoch = twin.zero_state(config.batch_size), 0, 0
    shape = (config.num_steps, config.hidden, config.batch_size)
    while step < config.steps:
        for X, Y in charlm.epoch_batches(train, config, epoch):
            # the mask train_charlm draws at this step, from the same generator
            keep = lm.dropout_mask(charlm.dropout_rng(config, step), shape, config.dropout) if config.dropout else None
            _, state = twin.step(opt, X, Y, state, config.clip, keep)
            step += 1
            if step == config.steps:
                break
        epoch, state = epoch + 1, twin.zero_state(config.batch_size)
    return ours.history["valid_ppl"][-1], twin.perplexity(valid)


def throughput(torch, config, dtype, repeat=15):
    """Median characters per second of a training step: rnnlib, and PyTorch's fused cell."""
    vocab = text.Vocab.from_text(text.split_text(text.load_text(config.text))[0])
    ids = vocab.encode(text.load_text(config.text))
    X, Y = next(text.batches(ids, config.batch_size, config.num_steps))
    params = {k: v.astype(dtype) for k, v in lm.init_lm(config.cell, len(vocab), config.hidden, None, 0).items()}
    values, adam = list(params.values()), Adam(config.lr)
    state = lm.zero_state(config.cell, config.hidden, config.batch_size, dtype)

    def numpy_step():
        _, grads, _ = lm.lm_loss_and_grads(config.cell, params, X, Y, state)
        adam.step(values, clip_by_global_norm(list(grads.values()), config.clip)[0])

    twin = TorchTwin(torch, config.cell, params, torch.float32 if dtype == np.float32 else torch.float64, fast=True)
    opt = torch.optim.Adam(twin.params, lr=config.lr)
    t_state = twin.zero_state(config.batch_size)
    torch_step = lambda: twin.step(opt, X, Y, t_state, config.clip)
    times = {"rnnlib": [], "pytorch": []}
    for fn in (numpy_step, torch_step):
        fn()                                            # warm up
    for _ in range(repeat):
        for name, fn in (("rnnlib", numpy_step), ("pytorch", torch_step)):
            time.sleep(0.05)                            # let the other library's threads go idle
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    chars = config.batch_size * config.num_steps
    return {k: chars / float(np.median(v)) for k, v in times.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=charlm.Config().steps, help="twin run's steps (default: the CLI's)")
    ap.add_argument("--cells", default="gru,lstm")
    args = ap.parse_args()
    torch = _torch()
    lines = ["# The character language model against PyTorch", "",
             f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}.", ""]
    default = charlm.Config()
    lines += [f"## 1. Twin run ({args.steps} steps, H={default.hidden}, B={default.batch_size}, "
              f"T={default.num_steps}, dropout {default.dropout}, one-hot input, float64)", "",
              "| cell | rnnlib validation ppl | PyTorch twin | relative difference | within 5% |", "|---|---|---|---|---|"]
    for cell in args.cells.split(","):
        ours, theirs = twin_run(torch, replace(default, cell=cell, steps=args.steps))
        diff = abs(ours - theirs) / theirs
        lines.append(f"| {cell} | {ours:.3f} | {theirs:.3f} | {diff:.1e} | {'yes' if diff <= 0.05 else 'NO'} |")
        print(lines[-1], flush=True)
    lines += ["", f"## 2. Training throughput at the command line's default size (characters per second)", "",
              "| cell | dtype | rnnlib | PyTorch (nn.GRU / nn.LSTM) | rnnlib / PyTorch |", "|---|---|---|---|---|"]
    for cell in args.cells.split(","):
        for dtype in (np.float64, np.float32):
            r = throughput(torch, replace(default, cell=cell), dtype)
            lines.append(f"| {cell} | {np.dtype(dtype).name} | {r['rnnlib']:,.0f} | {r['pytorch']:,.0f} | "
                         f"{r['rnnlib'] / r['pytorch']:.2f} |")
            print(lines[-1], flush=True)
    REPORT.mkdir(exist_ok=True)
    (REPORT / "charlm.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {REPORT / 'charlm.md'}")


if __name__ == "__main__":
    main()
