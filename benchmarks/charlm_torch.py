"""The character language model against a PyTorch twin: same results, and the speed of a step.

    python benchmarks/charlm_torch.py [--steps N] [--cells gru,lstm] [--only twin,throughput,charrnn]
                                                                           (make bench: every section)

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
   clipping, Adam; no dropout) at the command line's default size, float64 and float32, against
   PyTorch's fastest CPU path: ``nn.GRU`` / ``nn.LSTM`` with an ``nn.Linear`` output layer and
   ``cross_entropy``.
3. **char-rnn's model**: a 2-layer LSTM at char-rnn's default size (2 x 128, window 50, batch
   50, one-hot input, no dropout), rnnlib's training step against ``nn.LSTM(num_layers=2)``'s in
   characters per second, float64 and float32, on a quiet machine and with another process
   holding one core (as ``benchmarks/bench.py``'s section 7 makes it busy). First, once, a check
   that the two compute the same thing at that size: the same weights, one step's loss and
   gradients within 1e-10 in float64.

In sections 2 and 3 each library trains in its own process (``separate_processes``; in one
process, rnnlib's step ran up to 1.5x faster after PyTorch's steps), both with the threads
``rnnlib.threads`` chooses then, their steps interleaved, the medians compared. rnnlib's process
keeps the memory it frees (``rnnlib.memory.keep_freed_memory``), as the command line's does.

Writes ``benchmarks/reports/charlm.md``; ``--only`` replaces just its own sections there.
"""

import argparse
import contextlib
import functools
import itertools
import multiprocessing
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from rnnlib import CELLS, charlm, interop, lm, memory, text, threads, timing
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
    shape = (config.window, config.hidden, config.batch_size)
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


def default_size_steps(torch, side, dtype, cell):
    """One training step at a time of rnnlib's (``side`` "rnnlib") or PyTorch's ("pytorch")
    language model at the command line's default size (one layer, one-hot input, no dropout),
    from the same initial weights: forward, loss, backward, clipping, Adam, the state carried.
    PyTorch's is its fastest CPU path (``TorchTwin`` with ``fast``: ``nn.GRU`` / ``nn.LSTM``, an
    output layer, ``cross_entropy``)."""
    config = replace(charlm.Config(), cell=cell)
    (train, _, _), vocab, _ = charlm.read_corpus(config)
    batches = itertools.cycle(list(text.batches(train, config.batch_size, config.window)))
    params = lm.init_lm(cell, len(vocab), config.hidden, None, 0, dtype)
    if side == "rnnlib":
        values, adam = list(params.values()), Adam(config.lr)
        state = [lm.zero_state(cell, config.hidden, config.batch_size, dtype)]

        def step():
            _, grads, state[0] = lm.lm_loss_and_grads(cell, params, *next(batches), state[0])
            adam.step(values, clip_by_global_norm(list(grads.values()), config.clip)[0])
        return step
    twin = TorchTwin(torch, cell, params, torch.float32 if dtype == np.float32 else torch.float64, fast=True)
    opt, state = torch.optim.Adam(twin.params, lr=config.lr), [twin.zero_state(config.batch_size)]

    def step():
        state[0] = twin.step(opt, *next(batches), state[0], config.clip)[1]
    return step


def default_size_work(cell):
    """Multiply-adds of a step's products at the command line's default size (``rnnlib.threads``
    chooses the threads from it)."""
    config = replace(charlm.Config(), cell=cell)
    return CELLS[cell].step_work(len(charlm.read_corpus(config)[1]), config.hidden, config.batch_size)


#: char-rnn's defaults (Karpathy's train.lua): rnn_size, num_layers, seq_length, batch_size,
#: learning_rate, grad_clip; dropout 0.
CHARRNN = dict(H=128, layers=2, window=50, batch=50, lr=2e-3, clip=5.0)


class CharRNN:
    """char-rnn's model trained by rnnlib: a stack of LSTMs (``rnnlib.lm``, one-hot input), loss
    and gradients by ``lm_loss_and_grads``, clipping by global norm, Adam; the state carried from
    step to step (detached: ``lm_loss_and_grads`` returns plain arrays)."""

    def __init__(self, params, H, B, layers, lr, clip):
        self.params, self.values, self.adam, self.clip = params, list(params.values()), Adam(lr), clip
        self.state = lm.zero_state("lstm", H, B, params["W_y"].dtype, layers=layers)

    def loss_and_grads(self, X, Y):
        loss, grads, self.state = lm.lm_loss_and_grads("lstm", self.params, X, Y, self.state)
        return loss, grads

    def step(self, X, Y):
        _, grads = self.loss_and_grads(X, Y)
        self.adam.step(self.values, clip_by_global_norm(list(grads.values()), self.clip)[0])


class TorchCharRNN:
    """The same model as PyTorch users write it: ``nn.LSTM(V, H, num_layers)`` (both its biases
    trained, as usual), ``nn.Linear``, ``cross_entropy``, ``clip_grad_norm_``, ``optim.Adam``;
    its initial weights are ``params`` (``rnnlib.interop.stack_to_torch``), the state carried
    and detached."""

    def __init__(self, torch, params, layers, lr, clip):
        self.torch, self.clip = torch, clip
        self.dtype = torch.float32 if params["W_y"].dtype == np.float32 else torch.float64
        self.V, H = params["W_y"].shape
        stack = [tuple(params[f"{n}_l{l}"] for n in CELLS["lstm"].weight_names) for l in range(layers)]
        tensors = lambda d: {k: torch.tensor(v) for k, v in d.items()}
        self.lstm = torch.nn.LSTM(self.V, H, num_layers=layers, dtype=self.dtype)
        self.lstm.load_state_dict(tensors(interop.stack_to_torch("lstm", stack)))
        self.out = torch.nn.Linear(H, self.V, dtype=self.dtype)
        self.out.load_state_dict(tensors({"weight": params["W_y"], "bias": params["b_y"][:, 0]}))
        self.params = list(self.lstm.parameters()) + list(self.out.parameters())
        self.opt, self.state = torch.optim.Adam(self.params, lr=lr), None     # None: nn.LSTM's zero state

    def loss_and_grads(self, X, Y):
        F = self.torch.nn.functional
        hs, state = self.lstm(F.one_hot(self.torch.as_tensor(X), self.V).to(self.dtype), self.state)
        loss = F.cross_entropy(self.out(hs).reshape(-1, self.V), self.torch.as_tensor(Y).reshape(-1))
        self.opt.zero_grad()
        loss.backward()
        self.state = tuple(s.detach() for s in state)
        return loss.item()

    def step(self, X, Y):
        self.loss_and_grads(X, Y)
        self.torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        self.opt.step()


def charrnn_corpus():
    """The training text of ``time_machine`` in char-rnn's batches (sequential, as char-rnn reads
    it), and its vocabulary's size (the one-hot inputs)."""
    c = CHARRNN
    (train, _, _), vocab, _ = charlm.read_corpus(charlm.Config(batch_size=c["batch"], window=c["window"]))
    return list(text.batches(train, c["batch"], c["window"])), len(vocab)


def charrnn_model(torch, side, dtype, V, seed=0):
    """rnnlib's (``side`` "rnnlib") or PyTorch's ("pytorch") char-rnn, from ``init_lm``'s weights."""
    c = CHARRNN
    params = lm.init_lm("lstm", V, c["H"], None, seed, dtype, layers=c["layers"])
    if side == "rnnlib":
        return CharRNN(params, c["H"], c["batch"], c["layers"], c["lr"], c["clip"])
    return TorchCharRNN(torch, params, c["layers"], c["lr"], c["clip"])


def charrnn_check(torch):
    """Whether the two compute the same thing at this size: from the same weights and the zero
    state, one step's loss and every gradient (PyTorch's ``bias_hh``, the second bias we do not
    have, left out: its gradient is ``bias_ih``'s), in float64. Returns the largest relative
    differences (of the loss, and of a gradient: max |ours - theirs| / max |theirs|)."""
    data, V = charrnn_corpus()
    ours, theirs = (charrnn_model(torch, side, np.float64, V) for side in ("rnnlib", "pytorch"))
    loss, grads = ours.loss_and_grads(*data[0])
    their_loss = theirs.loss_and_grads(*data[0])
    layers = [tuple(grads[f"{n}_l{l}"] for n in CELLS["lstm"].weight_names) for l in range(CHARRNN["layers"])]
    mine = {**{"lstm." + k: v for k, v in interop.stack_to_torch("lstm", layers).items() if "bias_hh" not in k},
            "out.weight": grads["W_y"], "out.bias": grads["b_y"][:, 0]}
    named = {f"{m}.{k}": p.grad.numpy() for m in ("lstm", "out") for k, p in getattr(theirs, m).named_parameters()}
    worst = max(np.abs(v - named[k]).max() / np.abs(named[k]).max() for k, v in mine.items())
    return abs(loss - their_loss) / abs(their_loss), float(worst)


@contextlib.contextmanager
def busy(state):
    """With ``state == "busy"``, another process holding one core for the block: the spinner
    ``benchmarks/bench.py`` starts for its busy machine (section 7)."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if state == "busy" else None
    try:
        time.sleep(0.5)
        yield
    finally:
        if spinner:
            spinner.kill()
            spinner.wait()


def charrnn_steps(torch, side, dtype):
    """One training step at a time of rnnlib's or PyTorch's char-rnn (``charrnn_model``) on
    char-rnn's batches, over and over."""
    data, V = charrnn_corpus()
    model, batches = charrnn_model(torch, side, dtype, V), itertools.cycle(data)
    return lambda: model.step(*next(batches))


def _trainer(conn, steps, side, dtype, n):
    """A process that trains one side's model, ``steps(torch, side, dtype)``'s step (PyTorch's on
    ``n`` threads): each True it receives is one training step; it answers every message with the
    CPU seconds it has used, and stops at None."""
    torch = _torch() if side == "pytorch" else None
    if torch:
        torch.set_num_threads(n)
    else:
        memory.keep_freed_memory()               # as the command line does in its own process
    step = steps(torch, side, np.dtype(dtype))
    for message in iter(conn.recv, None):
        if message:
            step()
        conn.send(time.process_time())


def separate_processes(steps, dtype, work, repeat):
    """Seconds per training step of rnnlib and of PyTorch, each in its own process as a user
    trains (in one process, rnnlib's step ran up to 1.5x faster after PyTorch's steps than
    before them, most likely through the memory allocator they share), with
    ``rnnlib.timing.compare``: three untimed steps each, then ``repeat`` rounds of one step of
    either, each after a pause of 0.2 s, as ``benchmarks/bench.py`` (section 7) pauses
    (OpenBLAS's idle threads spin for 0.1 s after a step; with 0.05 s, PyTorch's float32 step
    took twice its time alone). ``steps(torch, side, dtype)`` builds a side's model in its
    process and returns its step (a module-level function, or a ``functools.partial`` of one);
    ``work``, the multiply-adds of a step's products, sets the threads (``rnnlib.threads``'
    choice now, PyTorch given the same). Also returns those threads and the cores other
    processes kept busy meanwhile."""
    threads.idle_cores()                           # a fresh sample of the idle cores: not the last row's trainers
    time.sleep(0.5)
    n = threads.threads_for(work)
    spawn, conns, trainers = multiprocessing.get_context("spawn"), {}, []
    for side in ("rnnlib", "pytorch"):
        conns[side], theirs = spawn.Pipe()
        trainers.append(spawn.Process(target=_trainer, args=(theirs, steps, side, np.dtype(dtype).name, n),
                                      daemon=True))
        trainers[-1].start()
    ask = lambda side, step=True: (conns[side].send(step), conns[side].recv())[1]
    try:
        cpu = sum(ask(side, False) for side in conns)      # waits for both models to be built
        first = threads.reading()
        pause = lambda: time.sleep(0.2)
        fns = {"pause 0": pause, "rnnlib": lambda: ask("rnnlib"), "pause 1": pause, "pytorch": lambda: ask("pytorch")}
        t = timing.compare(fns, repeat=repeat, min_time=0, warmup=3, budget=None)
        last, cpu = threads.reading(), sum(ask(side, False) for side in conns) - cpu
    finally:
        for conn, trainer in zip(conns.values(), trainers):
            with contextlib.suppress(OSError):     # a trainer that failed has closed its end
                conn.send(None)
            trainer.join()
    others = (last[1] - first[1]) - (last[2] - first[2]) - cpu          # all processes' CPU time less ours
    return t, n, max(0.0, others / (last[0] - first[0]))


#: The columns of the rows ``speed_row`` writes.
SPEED_COLUMNS = ("other processes' load (cores) | dtype | threads (both) | rnnlib ms/step | PyTorch ms/step | "
                 "rnnlib chars/s | PyTorch chars/s | rnnlib / PyTorch (rounds' range) | at least as fast")


def speed_row(steps, dtype, work, chars, repeat):
    """``separate_processes``'s measurement as a row's cells (``SPEED_COLUMNS``)."""
    t, n, load = separate_processes(steps, dtype, work, repeat)
    ours, theirs = t["rnnlib"].median, t["pytorch"].median
    r = timing.paired_ratios(t["pytorch"], t["rnnlib"])         # their time / ours = our chars/s / theirs
    return (f"{load:.1f} | {np.dtype(dtype).name} | {n} | {ours * 1e3:.1f} | {theirs * 1e3:.1f} | "
            f"{chars / ours:,.0f} | {chars / theirs:,.0f} | {theirs / ours:.2f} ({r.min:.2f}-{r.max:.2f}) | "
            f"{'yes' if theirs >= ours else 'NO'} |")


#: How sections 2 and 3 say they were measured.
HOW = ("Each library trains in its own process, as a user trains: in one process rnnlib's step ran up to 1.5x "
       "faster after PyTorch's steps than before them, most likely through the memory allocator they share. "
       "Medians of {repeat} interleaved rounds, one step of each, 0.2 s pause before each step (OpenBLAS's "
       "threads spin for about 0.1 s after a step), after 3 untimed steps each. Other processes' load: the "
       "cores busy while the row was measured, the two trainers' and this process's own time taken out. The "
       "ratio is of the medians; in brackets the range of the rounds' ratios. Threads: what `rnnlib.threads` "
       "chose for rnnlib's products (it chooses for each call), given to `torch.set_num_threads`.")


def section_twin(torch, args):
    default = charlm.Config()
    lines = [f"## 1. Twin run ({args.steps} steps, H={default.hidden}, B={default.batch_size}, "
             f"T={default.window}, dropout {default.dropout}, one-hot input, float64)", "",
             "| cell | rnnlib validation ppl | PyTorch twin | relative difference | within 5% |",
             "|---|---|---|---|---|"]
    for cell in args.cells.split(","):
        ours, theirs = twin_run(torch, replace(default, cell=cell, steps=args.steps))
        diff = abs(ours - theirs) / theirs
        lines.append(f"| {cell} | {ours:.3f} | {theirs:.3f} | {diff:.1e} | {'yes' if diff <= 0.05 else 'NO'} |")
        print(lines[-1], flush=True)
    return lines


def section_throughput(torch, args):
    config, start = charlm.Config(), time.perf_counter()
    chars = config.batch_size * config.window
    lines = [f"## 2. Training throughput at the command line's default size (H={config.hidden}, "
             f"B={config.batch_size}, T={config.window}, one-hot input, no dropout; {chars} characters per "
             "training step), against PyTorch's fastest CPU path (nn.GRU / nn.LSTM)", "",
             "| cell | " + SPEED_COLUMNS + " |", "|---" * (SPEED_COLUMNS.count("|") + 2) + "|"]
    print("\n".join(lines), flush=True)
    for cell in args.cells.split(","):
        for dtype in (np.float64, np.float32):
            lines.append(f"| {cell} | " + speed_row(functools.partial(default_size_steps, cell=cell), dtype,
                                                   default_size_work(cell), chars, args.repeat))
            print(lines[-1], flush=True)
    lines += ["", HOW.format(repeat=args.repeat) + " nn.GRU is another GRU than ours (it applies the reset gate "
              f"after the product). This section took {time.perf_counter() - start:.0f} s."]
    return lines


def section_charrnn(torch, args):
    """Section 3: the check, then quiet and busy, float64 and float32."""
    c, start = CHARRNN, time.perf_counter()
    chars = c["window"] * c["batch"]
    d_loss, d_grad = charrnn_check(torch)
    ok = "yes" if max(d_loss, d_grad) <= 1e-10 else "NO"
    lines = [f"## 3. char-rnn's default size: a {c['layers']}-layer LSTM ({c['layers']} x {c['H']}, window "
             f"{c['window']}, batch {c['batch']}, one-hot input, no dropout; Adam lr {c['lr']}, clipping at global "
             f"norm {c['clip']}): {chars} characters per training step", "",
             f"Same computation (float64, the same initial weights, one step from the zero state): the loss "
             f"differs by {d_loss:.1e} (relative), the gradients by at most {d_grad:.1e} (max |difference| / "
             f"max |PyTorch's|, each parameter); within 1e-10: {ok}.", "",
             "| machine | " + SPEED_COLUMNS + " |", "|---" * (SPEED_COLUMNS.count("|") + 2) + "|"]
    print("\n".join(lines), flush=True)
    work = CELLS["lstm"].step_work(charrnn_corpus()[1], c["H"], c["batch"])
    for state in ("quiet", "busy"):
        with busy(state):
            for dtype in (np.float64, np.float32):
                lines.append(f"| {state} | " + speed_row(charrnn_steps, dtype, work, chars, args.repeat))
                print(lines[-1], flush=True)
    lines += ["", HOW.format(repeat=args.repeat) + " Busy: another process spinning on one core (as in "
              "`benchmarks/bench.py`, section 7; its load about 1, quiet about 0). This section took "
              f"{time.perf_counter() - start:.0f} s."]
    return lines


SECTIONS = {"twin": section_twin, "throughput": section_throughput, "charrnn": section_charrnn}


def write_report(header, sections):
    """The report: the header, then the sections by their numbers; those not run this time (with
    ``--only``) kept from the report already there."""
    path = REPORT / "charlm.md"
    old = path.read_text().split("\n## ")[1:] if path.exists() else []
    parts = {part.split(".", 1)[0]: "## " + part.rstrip("\n") for part in old}
    parts.update({lines[0][3:].split(".", 1)[0]: "\n".join(lines) for lines in sections})
    REPORT.mkdir(exist_ok=True)
    path.write_text("\n".join(header) + "\n\n" + "\n\n".join(parts[k] for k in sorted(parts)) + "\n")
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=charlm.Config().steps, help="twin run's steps (default: the CLI's)")
    ap.add_argument("--cells", default="gru,lstm", help="the cells of sections 1 and 2")
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help=f"the sections to run (default: all of {', '.join(SECTIONS)})")
    ap.add_argument("--repeat", type=int, default=21, help="sections 2 and 3's timed rounds")
    args = ap.parse_args()
    torch = _torch()
    header = ["# The character language model against PyTorch", "",
              f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads in section 1; sections 2 and 3 "
              f"say their own); numpy {np.__version__}; {threads.usable_cores()} cores."]
    write_report(header, [SECTIONS[name](torch, args) for name in args.only.split(",")])


if __name__ == "__main__":
    main()
