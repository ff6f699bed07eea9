"""The encoder-decoder against a PyTorch twin: the same training, and the speed of a step.

    python benchmarks/seq2seq_torch.py [--only twin,throughput,profile] [--repeat N]
                                                                    (make bench: every section)

1. **Twin run.** The command line's default run (``rnnlib.seq2seq.train.Config()``: the dates,
   the GRU, 3 epochs of 20,000 pairs) trained twice, by ``rnnlib.seq2seq.train.train_seq2seq``
   and by PyTorch autograd: the same pairs and batches (``data.batches`` from the same
   generator, ``default_rng([seed, 1])``, one source length per batch), the same initial
   parameters (``init_seq2seq``, copied into torch), the same optimiser (Adam, rnnlib's
   defaults: betas 0.9 and 0.999, eps 1e-8, as ``torch.optim.Adam``'s) and the same clipping
   (the global norm scaled down to ``clip`` when above it, as ``rnnlib.optim.clip_by_global_norm``
   does: not ``clip_grad_norm_``, which divides by the norm plus 1e-6), in float64. The twin
   is the model written in torch operations (``TorchTwin``), its cell our GRU's equations
   (``Cell.torch_twin.step``: PyTorch's ``nn.GRU`` is another GRU). After every epoch both are
   scored on the same validation pairs, greedy and exact match, the twin through rnnlib's
   decoder with its trained weights copied back; at the end, on the test pairs. The accuracies
   must agree within 1 point. First, once, a check that the two compute the same thing: from
   the initial parameters, the first batch's loss and every gradient within 1e-10 (relative).
2. **Throughput** in source characters per second of training steps (forward, loss, backward,
   clipping, Adam) at the default size, rnnlib against the twin and against PyTorch's fastest
   path for this model (``TorchFast``: ``nn.GRU(bidirectional=True)``, ``nn.GRUCell``,
   ``nn.Linear``, ``cross_entropy``: PyTorch's GRU, another GRU than ours of the same cost),
   float64 and float32, on a quiet machine, with another process holding one core, and on the
   quiet machine with both libraries held to one thread (what the threads' choice does). Each
   library trains in its own process (``charlm_torch.separate_processes``, its threads
   ``rnnlib.threads``' choice, rnnlib's process keeping the memory it frees), the rounds
   interleaved, the medians compared. A timed unit is one training step on each of 16 batches
   (the epoch's batches at 16 evenly spaced quantiles of the source length), since the batches'
   lengths, and so their work, differ.
3. **Profile** of rnnlib's training step (cProfile, in a process of its own as the command
   line's): the functions with the largest cumulative time per step.

Writes ``benchmarks/reports/seq2seq.md``; ``--only`` replaces just its own sections there.
"""

import argparse
import contextlib
import cProfile
import functools
import multiprocessing
import os
import pstats
import time
from pathlib import Path

import numpy as np

from charlm_torch import _torch, busy, separate_processes
from rnnlib import memory, threads, timing
from rnnlib.cells.rnn import TRAINED_ACTIVATION
from rnnlib.optim import Adam, clip_by_global_norm
from rnnlib.seq2seq.data import TASKS, batches
from rnnlib.seq2seq.model import Model, init_seq2seq, seq2seq_loss_and_grads
from rnnlib.seq2seq.train import Config, accuracy, train_seq2seq

REPORT = Path(__file__).resolve().parent / "reports" / "seq2seq.md"
#: Batches in a timed unit of section 2 (and in the profile of section 3).
BLOCK = 16


def _tensor_dtype(torch, dtype):
    return torch.float32 if np.dtype(dtype) == np.float32 else torch.float64


class TorchTwin:
    """rnnlib's encoder-decoder (``rnnlib.seq2seq.model``) in torch operations: the same
    parameters (``self.p``, by the same names and shapes, in the column convention), the same
    equations; the cell is its twin's step (``Cell.torch_twin.step``), one time step at a time.

    Every batch holds sources of one length (``data.batches``), so the encoder runs them as one
    group and the attention has nothing to mask; a batch with padding in its sources is refused.
    """

    def __init__(self, torch, cell, params):
        self.torch, self.model = torch, Model.of(cell, params)
        self.spec = self.model.spec
        self.p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        self.params = list(self.p.values())
        self.options = self.spec.loop_options(activation=TRAINED_ACTIVATION)
        self.dtype = self.p["W_y"].dtype

    def _zero(self, H, B):
        return self.spec.pack_state([self.torch.zeros(H, B, dtype=self.dtype) for _ in self.spec.state_names])

    def _run(self, xs, weights, H, B):
        """A cell over the inputs ``xs`` (a list of (D, B) tensors) from the zero state: the
        outputs (a list) and the final state."""
        state, out = self._zero(H, B), []
        for x in xs:
            h, state = self.spec.torch_twin.step(self.torch, [x, state], weights, **self.options)
            out.append(h)
        return out, state

    def encode(self, src):
        """``Hs`` (T_src, 2H, B) and the summary ``[f_T; b_0]`` (2H, B)."""
        torch, p, m = self.torch, self.p, self.model
        T, B = src.shape
        xs = list(p["E_src"][:, src].unbind(1))                       # T tensors (D, B)
        for l in range(m.layers):
            (fw, bw) = ([p[f"{n}_enc{l}_{d}"] for n in self.spec.weight_names] for d in "fb")
            f_out, f_state = self._run(xs, fw, m.hidden, B)
            b_out, b_state = self._run(xs[::-1], bw, m.hidden, B)
            xs = [torch.cat([f, b]) for f, b in zip(f_out, b_out[::-1])]
        summary = torch.cat([self.spec.unpack_state(f_state)[0], self.spec.unpack_state(b_state)[0]])
        return torch.stack(xs), summary

    def logits(self, src, tgt_in):
        """Teacher-forced logits (T_tgt, V_tgt, B)."""
        torch, p, m = self.torch, self.p, self.model
        Hs, summary = self.encode(src)
        h = torch.tanh(p["W_s"] @ summary + p["b_s"])
        state = self.spec.pack_state((h,) + tuple(torch.zeros_like(h) for _ in self.spec.state_names[1:]))
        K = torch.matmul(p["U_a"], Hs) if m.attention else None      # (T_src, A, B): once per source
        Y = p["E_tgt"][:, tgt_in]                                     # (D, T_tgt, B)
        weights = [p[f"{n}_dec"] for n in self.spec.weight_names]
        hs = []
        for t in range(tgt_in.shape[0]):
            s = self.spec.unpack_state(state)[0]
            if m.attention:
                e = (p["v_a"].T @ torch.tanh(p["W_a"] @ s + K))[:, 0]  # (T_src, B)
                context = (torch.softmax(e, 0)[:, None] * Hs).sum(0)
            else:
                context = summary
            h, state = self.spec.torch_twin.step(torch, [torch.cat([Y[:, t], context]), state], weights,
                                                 **self.options)
            hs.append(h)
        return p["W_y"] @ torch.stack(hs) + p["b_y"]

    def loss(self, batch):
        """The mean cross-entropy per real target token of a batch (``data.batch``'s arrays, as
        tensors: ``tensors``)."""
        src, src_mask, tgt_in, tgt_out, tgt_mask = batch
        if not bool(src_mask.all()):
            raise ValueError("TorchTwin takes batches of one source length (data.batches makes them)")
        log_p = self.torch.log_softmax(self.logits(src, tgt_in), 1)
        picked = log_p.gather(1, tgt_out[:, None])[:, 0]
        return -(picked * tgt_mask).sum() / tgt_mask.sum()

    def numpy_params(self):
        return {k: v.detach().numpy().copy() for k, v in self.p.items()}

    def grads(self):
        return {k: v.grad.numpy() for k, v in self.p.items()}


class TorchFast:
    """The same model as PyTorch users write it, PyTorch's fastest CPU path: ``nn.Embedding``,
    an ``nn.GRU(bidirectional=True)`` encoder, ``nn.Linear`` bridge and attention, an
    ``nn.GRUCell`` decoder, an ``nn.Linear`` read-out and ``cross_entropy``, batch in the rows.
    PyTorch's GRU applies its reset gate after the product (and has two biases): another GRU of
    the same cost, so this model is compared on time only (its own initial weights)."""

    def __init__(self, torch, config, V_src, V_tgt, dtype):
        nn, c = torch.nn, config
        if c.cell != "gru" or not c.attention:
            raise ValueError("TorchFast is the GRU model with attention")
        torch.manual_seed(c.seed)
        H2 = 2 * c.hidden
        self.torch, self.V = torch, V_tgt
        self.modules = dict(
            E_src=nn.Embedding(V_src, c.embed), E_tgt=nn.Embedding(V_tgt, c.embed),
            enc=nn.GRU(c.embed, c.hidden, num_layers=c.layers, bidirectional=True),
            bridge=nn.Linear(H2, c.dec_hidden), W_a=nn.Linear(c.dec_hidden, c.attention_size, bias=False),
            U_a=nn.Linear(H2, c.attention_size, bias=False), v_a=nn.Linear(c.attention_size, 1, bias=False),
            dec=nn.GRUCell(c.embed + H2, c.dec_hidden), out=nn.Linear(c.dec_hidden, V_tgt))
        for mod in self.modules.values():
            mod.to(dtype)
        self.params = [q for mod in self.modules.values() for q in mod.parameters()]

    def loss(self, batch):
        torch, M = self.torch, self.modules
        src, _, tgt_in, tgt_out, tgt_mask = batch          # one source length: nothing to pack or mask
        Hs, h_n = M["enc"](M["E_src"](src))                 # (T_src, B, 2H); h_n (2 layers, B, H)
        s = torch.tanh(M["bridge"](torch.cat([h_n[-2], h_n[-1]], 1)))
        K = M["U_a"](Hs)                                    # (T_src, B, A)
        Y, out = M["E_tgt"](tgt_in), []
        for y in Y:
            alpha = torch.softmax(M["v_a"](torch.tanh(M["W_a"](s) + K)), 0)     # (T_src, B, 1)
            s = M["dec"](torch.cat([y, (alpha * Hs).sum(0)], 1), s)
            out.append(s)
        nll = torch.nn.functional.cross_entropy(M["out"](torch.stack(out)).reshape(-1, self.V),
                                                tgt_out.reshape(-1), reduction="none")
        return (nll * tgt_mask.reshape(-1)).sum() / tgt_mask.sum()


def tensors(torch, batch, dtype):
    """A batch (``data.batch``'s arrays) as tensors: ids as int64, masks in ``dtype``."""
    src, src_mask, tgt_in, tgt_out, tgt_mask = batch
    ids = lambda a: torch.as_tensor(np.asarray(a, np.int64))
    return (ids(src), torch.as_tensor(src_mask, dtype=dtype), ids(tgt_in), ids(tgt_out),
            torch.as_tensor(tgt_mask, dtype=dtype))


def clip_global_norm(torch, params, clip):
    """``rnnlib.optim.clip_by_global_norm`` on the parameters' gradients, in place: all scaled
    by ``clip / norm`` when their global norm is above ``clip``."""
    grads = [q.grad for q in params]
    norm = float(torch.nn.utils.get_total_norm(grads))
    if norm > clip:
        torch._foreach_mul_(grads, clip / norm)


def torch_step(twin, opt, batch, clip):
    """One training step of a torch model: forward, loss, backward, clipping, Adam. Returns
    the loss."""
    loss = twin.loss(batch)
    opt.zero_grad()
    loss.backward()
    clip_global_norm(twin.torch, twin.params, clip)
    opt.step()
    return loss.item()


def rnnlib_step(config, params, values, opt, batch):
    """One training step as ``train_seq2seq`` takes it. Returns the loss."""
    loss, grads, _ = seq2seq_loss_and_grads(config.cell, params, *batch)
    opt.step(values, clip_by_global_norm([grads[k] for k in params], config.clip)[0])
    return loss


def task_data(config):
    task = TASKS[config.task]
    sv, tv = task.vocabs
    return task, sv, tv


def gradient_check(torch, config):
    """From the initial parameters, the first training batch's loss and gradients by rnnlib and
    by the twin (float64): the loss's relative difference, and the largest of every parameter's
    max |ours - theirs| / max |theirs| (with its name)."""
    task, sv, tv = task_data(config)
    batch = next(batches(task.pairs(config.train_size, "train", config.seed), sv, tv, config.batch_size,
                         np.random.default_rng([config.seed, 1])))
    params = init_seq2seq(config.cell, len(sv), len(tv), config.embed, config.hidden, config.dec_hidden,
                          config.attention_size, config.layers, config.attention, config.seed)
    loss, grads, _ = seq2seq_loss_and_grads(config.cell, params, *batch)
    twin = TorchTwin(torch, config.cell, params)
    their = twin.loss(tensors(torch, batch, torch.float64))
    their.backward()
    theirs = twin.grads()
    worst = max((np.abs(grads[k] - theirs[k]).max() / np.abs(theirs[k]).max(), k) for k in params)
    return abs(loss - their.item()) / abs(their.item()), float(worst[0]), worst[1], batch[0].shape


def twin_run(torch, config):
    """Train rnnlib and the twin by ``config``; their histories (per epoch ``loss``,
    ``valid_accuracy``; ``test_accuracy``; ``seconds``: the training steps' time), and the
    largest relative difference of their trained parameters."""
    start = time.perf_counter()
    params, ours = train_seq2seq(config, say=lambda line: print("  rnnlib", line, flush=True))
    ours["seconds"] = time.perf_counter() - start                    # with its validation
    task, sv, tv = task_data(config)
    train = task.pairs(config.train_size, "train", config.seed)
    valid = task.pairs(config.valid_size, "valid", config.seed)
    max_len = task.max_target + 1
    twin = TorchTwin(torch, config.cell, init_seq2seq(config.cell, len(sv), len(tv), config.embed, config.hidden,
                                                     config.dec_hidden, config.attention_size, config.layers,
                                                     config.attention, config.seed))
    opt = torch.optim.Adam(twin.params, lr=config.lr, betas=(0.9, 0.999), eps=1e-8)
    rng = np.random.default_rng([config.seed, 1])                    # train_seq2seq's, for every epoch
    theirs = {"loss": [], "valid_accuracy": []}
    start = time.perf_counter()
    for epoch in range(config.epochs):
        losses, weights = [], []
        for b in batches(train, sv, tv, config.batch_size, rng):
            losses.append(torch_step(twin, opt, tensors(torch, b, torch.float64), config.clip))
            weights.append(b[4].sum())
        theirs["loss"].append(float(np.average(losses, weights=weights)))
        theirs["valid_accuracy"].append(accuracy(config.cell, twin.numpy_params(), valid, sv, tv, max_len))
        print(f"  twin   epoch {epoch + 1}/{config.epochs}: loss {theirs['loss'][-1]:.4f}, "
              f"validation accuracy {theirs['valid_accuracy'][-1]:.3f}", flush=True)
    test = task.pairs(config.test_size, "test", config.seed)
    theirs["test_accuracy"] = accuracy(config.cell, twin.numpy_params(), test, sv, tv, max_len)
    theirs["seconds"] = time.perf_counter() - start
    final = twin.numpy_params()
    drift = max(np.abs(params[k] - final[k]).max() / np.abs(final[k]).max() for k in params)
    return ours, theirs, float(drift)


def timing_block(config):
    """The batches of a timed unit: the first epoch's (the training's generator), ``BLOCK`` of
    them at evenly spaced quantiles of their source length."""
    task, sv, tv = task_data(config)
    epoch = list(batches(task.pairs(config.train_size, "train", config.seed), sv, tv, config.batch_size,
                         np.random.default_rng([config.seed, 1])))
    order = np.argsort([b[0].shape[0] for b in epoch], kind="stable")
    return [epoch[i] for i in order[np.linspace(0, len(epoch) - 1, BLOCK).round().astype(int)]]


def block_steps(torch, side, dtype, fast=False):
    """One training step on each of ``timing_block``'s batches, by rnnlib (``side`` "rnnlib") or
    by PyTorch ("pytorch": the twin, or with ``fast`` ``TorchFast``), from ``init_seq2seq``'s
    parameters in ``dtype`` (the twin's; ``TorchFast`` has its own), the optimiser's state
    carried from call to call."""
    config = Config()
    _, sv, tv = task_data(config)
    block = timing_block(config)
    params = init_seq2seq(config.cell, len(sv), len(tv), config.embed, config.hidden, config.dec_hidden,
                          config.attention_size, config.layers, config.attention, config.seed, dtype)
    if side == "rnnlib":
        values, opt = list(params.values()), Adam(config.lr)

        def run():
            for b in block:
                rnnlib_step(config, params, values, opt, b)
        return run
    tdtype = _tensor_dtype(torch, dtype)
    twin = TorchFast(torch, config, len(sv), len(tv), tdtype) if fast else TorchTwin(torch, config.cell, params)
    opt, block = torch.optim.Adam(twin.params, lr=config.lr), [tensors(torch, b, tdtype) for b in block]

    def run():
        for b in block:
            torch_step(twin, opt, b, config.clip)
    return run


def block_chars(config):
    """The source characters of a timed unit, and its batches' mean source length."""
    block = timing_block(config)
    return int(sum(b[1].sum() for b in block)), float(np.mean([b[0].shape[0] for b in block]))


def decoder_work(config):
    """Multiply-adds of a decoder step's products at the default size, the largest of the
    model's (``rnnlib.threads`` chooses the threads from it)."""
    _, sv, tv = task_data(config)
    m = Model.of(config.cell, init_seq2seq(config.cell, len(sv), len(tv), config.embed, config.hidden,
                                           config.dec_hidden, config.attention_size, config.layers,
                                           config.attention, config.seed))
    return m.spec.step_work(m.embed + 2 * m.hidden, m.dec_hidden, config.batch_size)


SPEED_COLUMNS = ("machine | PyTorch side | other processes' load (cores) | dtype | threads (both) | "
                 "rnnlib ms/step | PyTorch ms/step | rnnlib source chars/s | PyTorch source chars/s | "
                 "rnnlib / PyTorch (rounds' range) | at least as fast")
TWINS = {False: "twin (our GRU, autograd)", True: "nn.GRU + nn.GRUCell (another GRU)"}


def speed_row(state, fast, dtype, work, chars, repeat):
    """A row of the table (``SPEED_COLUMNS``) and rnnlib's speed over PyTorch's. A quiet row
    measured while other processes kept half a core or more busy is measured again (twice at
    most); its load column says how quiet it was."""
    for _ in range(3):
        t, n, load = separate_processes(functools.partial(block_steps, fast=fast), dtype, work, repeat)
        if state != "quiet" or load < 0.5:
            break
    ours, theirs = t["rnnlib"].median, t["pytorch"].median
    r = timing.paired_ratios(t["pytorch"], t["rnnlib"])         # their time / ours = our chars/s / theirs
    return (f"| {state} | {TWINS[fast]} | {load:.1f} | {np.dtype(dtype).name} | {n} | {ours / BLOCK * 1e3:.1f} | "
            f"{theirs / BLOCK * 1e3:.1f} | {chars / ours:,.0f} | {chars / theirs:,.0f} | "
            f"{theirs / ours:.2f} ({r.min:.2f}-{r.max:.2f}) | {'yes' if theirs >= ours else 'NO'} |"), theirs / ours


def section_twin(torch, args):
    config, start, first = Config(), time.perf_counter(), threads.reading()
    d_loss, d_grad, name, shape = gradient_check(torch, config)
    ok = "yes" if max(d_loss, d_grad) <= 1e-10 else "NO"
    print(f"gradient check: loss {d_loss:.1e}, gradients {d_grad:.1e} ({name}): {ok}", flush=True)
    ours, theirs, drift = twin_run(torch, config)
    last = threads.reading()
    load = max(0.0, (last[1] - first[1]) - (last[2] - first[2])) / (last[0] - first[0])
    lines = [f"## 1. Twin run (the default `Config()`: {config.task}, {config.cell}, {config.layers} layer, "
             f"embed {config.embed}, hidden {config.hidden}, decoder {config.dec_hidden}, attention "
             f"{config.attention_size}; {config.train_size:,} pairs, batch {config.batch_size}, {config.epochs} "
             f"epochs, Adam lr {config.lr}, clipping at global norm {config.clip}; float64)", "",
             f"Same computation (the initial parameters, the first batch, {shape[1]} sources of {shape[0]} "
             f"characters): the loss differs by {d_loss:.1e} (relative), the gradients by at most {d_grad:.1e} "
             f"(max |difference| / max |PyTorch's|, each parameter; the largest: `{name}`); within 1e-10: {ok}.", "",
             "| after | rnnlib training loss | twin's | rnnlib validation accuracy | twin's | difference (points) "
             "| within 1 point |", "|---|---|---|---|---|---|---|"]
    def row(what, a, b, la="-", lb="-"):
        diff = abs(a - b) * 100
        return f"| {what} | {la} | {lb} | {a:.3f} | {b:.3f} | {diff:.1f} | {'yes' if diff <= 1 else 'NO'} |"
    for e in range(config.epochs):
        lines.append(row(f"epoch {e + 1}", ours["valid_accuracy"][e], theirs["valid_accuracy"][e],
                         f"{ours['loss'][e]:.5f}", f"{theirs['loss'][e]:.5f}"))
    lines.append(row(f"the end: test accuracy ({config.test_size:,} pairs)", ours["test_accuracy"],
                     theirs["test_accuracy"]))
    lines += ["", f"Accuracy is exact match, greedy, on {config.valid_size:,} validation dates after each epoch; the "
              "twin is scored through rnnlib's decoder with its trained weights copied back. The trained parameters "
              f"differ by at most {drift:.1e} (relative, each parameter). The twin is the model in torch "
              "operations, the GRU our equations (`Cell.torch_twin.step`), differentiated by autograd; "
              "Adam `torch.optim.Adam` (betas 0.9, 0.999, eps 1e-8, rnnlib's defaults); clipping rnnlib's "
              f"(scaled by clip / norm when the norm is above it); PyTorch on {torch.get_num_threads()} "
              f"thread{'s' if torch.get_num_threads() > 1 else ''}. Training with its validation took "
              f"{ours['seconds']:.0f} s (rnnlib) and {theirs['seconds']:.0f} s (the twin), in one process, other "
              f"processes' load {load:.1f} cores (section 2 measures the speed); this section "
              f"{time.perf_counter() - start:.0f} s."]
    print("\n".join(lines), flush=True)
    return lines


HOW = ("Each library trains in its own process, as a user trains (`charlm_torch.separate_processes`; "
       "rnnlib's keeps the memory it frees, as the command line does). A timed unit is one training step "
       "(forward, loss, backward, clipping, Adam) on each of {block} batches, the first epoch's at evenly "
       "spaced quantiles of the source length (mean {mean:.1f} characters, {chars:,} source characters in "
       "all); ms/step is the unit's time over {block}. Medians of {repeat} interleaved rounds, one unit of "
       "each side, 0.2 s pause before each, after 3 untimed units each. Other processes' load: the cores "
       "busy while the row was measured, the trainers' and this process's own time taken out (a quiet row "
       "measured at a load of 0.5 or more is measured again, twice at most). The ratio "
       "is of the medians; in brackets the range of the rounds' ratios. Threads: what `rnnlib.threads` "
       "chose for rnnlib's largest products (the decoder's; it chooses for each call), given to "
       "`torch.set_num_threads`. Busy: another process spinning on one core (as in `benchmarks/bench.py`, "
       "section 7). Quiet, one thread: both libraries held to one thread (`OPENBLAS_NUM_THREADS=1`, "
       "`torch.set_num_threads(1)`), to show what the threads' choice does at this size. The twin is section 1's model (our GRU in torch operations, autograd); nn.GRU + "
       "nn.GRUCell is the same model as PyTorch users write it, with PyTorch's GRU, which applies the "
       "reset gate after the product (the same cost, other numbers).")


@contextlib.contextmanager
def one_thread():
    """Processes started in the block run numpy's BLAS on one thread (``OPENBLAS_NUM_THREADS``,
    which ``rnnlib.threads`` never exceeds)."""
    before = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = before


#: Section 2's machines: how each is made, and whether rnnlib chooses its threads (else one).
MACHINES = {"quiet": (lambda: busy("quiet"), True), "busy": (lambda: busy("busy"), True),
            "quiet, one thread": (one_thread, False)}


def section_throughput(torch, args):
    config, start = Config(), time.perf_counter()
    chars, mean = block_chars(config)
    lengths = [b[0].shape[0] for b in timing_block(config)]
    work = decoder_work(config)
    lines = [f"## 2. Training throughput at the default size (batch {config.batch_size}, {config.task}: sources of "
             f"{min(lengths)}-{max(lengths)} characters, targets of {timing_block(config)[0][2].shape[0]} tokens)", "",
             "| " + SPEED_COLUMNS + " |", "|---" * (SPEED_COLUMNS.count("|") + 1) + "|"]
    print("\n".join(lines), flush=True)
    ratios = {}
    for state, (make, chosen) in MACHINES.items():
        with make():
            for dtype in (np.float64, np.float32):
                for fast in (False, True):
                    row, ratio = speed_row(state, fast, dtype, work if chosen else 0, chars, args.repeat)
                    if chosen:
                        ratios[state, np.dtype(dtype).name, fast] = ratio
                    lines.append(row)
                    print(row, flush=True)
    verdict = []
    for fast in (False, True):
        rows = [r for (_, _, f), r in ratios.items() if f == fast]
        verdict.append(f"{sum(r >= 1 for r in rows)} of {len(rows)} rows against the "
                       f"{'twin' if not fast else 'nn.GRU model'} (ratios {min(rows):.2f}-{max(rows):.2f})")
    slower = any(r < 1 for r in ratios.values())
    lines += ["", f"With the threads rnnlib chooses (quiet and busy), rnnlib is at least as fast in {verdict[0]}, "
              f"and in {verdict[1]}."
              + (" Where it is slower, section 3 shows where its step spends its time." if slower else ""),
              "", HOW.format(block=BLOCK, mean=mean, chars=chars, repeat=args.repeat) +
              f" This section took {time.perf_counter() - start:.0f} s."]
    return lines


def _profiled(steps):
    """In a process of its own (as the command line's: it keeps the memory it frees): the
    seconds per rnnlib training step (the median of 5 timed units, after one untimed), then
    cProfile over ``steps`` steps. Returns the rows (cumulative and own seconds per step, calls
    per step, the function) of every function but this file's, by cumulative time; the step's
    time without and with the profiler; other processes' load (cores) meanwhile."""
    memory.keep_freed_memory()
    first = threads.reading()
    run = block_steps(None, "rnnlib", np.float64)
    run()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) / BLOCK)
    units = max(1, steps // BLOCK)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(units):
        run()
    prof.disable()
    profiled = (time.perf_counter() - t0) / (units * BLOCK)
    last = threads.reading()
    load = max(0.0, (last[1] - first[1]) - (last[2] - first[2])) / (last[0] - first[0])
    per = units * BLOCK
    rows = []
    for (file, line, func), (cc, nc, tt, ct, _) in pstats.Stats(prof).stats.items():
        if Path(file).name == Path(__file__).name:
            continue                                  # the benchmark's own loop
        where = func if file == "~" else f"{Path(file).parent.name}/{Path(file).name}:{line}({func})"
        rows.append((ct / per, tt / per, nc / per, where))
    rows.sort(reverse=True)
    return rows, float(np.median(times)), profiled, load


def section_profile(torch, args):
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        rows, plain, profiled, load = pool.apply(_profiled, (args.profile_steps,))
    top = args.profile_top
    lines = ["## 3. Where rnnlib's training step spends its time (cProfile, float64)", "",
             f"{args.profile_steps // BLOCK * BLOCK} training steps on section 2's batches, in a process of its "
             f"own (keeping the memory it frees), other processes' load {load:.1f} cores. A step took "
             f"{plain * 1e3:.1f} ms without the profiler (the median of 5 units of {BLOCK} steps) and "
             f"{profiled * 1e3:.1f} ms with it (cProfile's cost per call inflates the many small calls). Per "
             f"step, the {top} functions of largest cumulative time (the time in them and in what they call):", "",
             "| function | cumulative ms/step | own ms/step | calls/step |", "|---|---|---|---|"]
    lines += [f"| `{where}` | {ct * 1e3:.2f} | {tt * 1e3:.2f} | {nc:.1f} |" for ct, tt, nc, where in rows[:top]]
    lines += ["", "And the functions of largest own time (in the function itself, not in what it calls):", "",
              "| function | own ms/step | cumulative ms/step | calls/step |", "|---|---|---|---|"]
    lines += [f"| `{where}` | {tt * 1e3:.2f} | {ct * 1e3:.2f} | {nc:.1f} |"
              for ct, tt, nc, where in sorted(rows, key=lambda r: -r[1])[:top]]
    lines += ["", f"This section took {time.perf_counter() - start:.0f} s."]
    print("\n".join(lines), flush=True)
    return lines


SECTIONS = {"twin": section_twin, "throughput": section_throughput, "profile": section_profile}


def write_report(header, sections):
    """The report: the header, then the sections by their numbers; those not run this time (with
    ``--only``) kept from the report already there."""
    old = REPORT.read_text().split("\n## ")[1:] if REPORT.exists() else []
    parts = {part.split(".", 1)[0]: "## " + part.rstrip("\n") for part in old}
    parts.update({lines[0][3:].split(".", 1)[0]: "\n".join(lines) for lines in sections})
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(header) + "\n\n" + "\n\n".join(parts[k] for k in sorted(parts)) + "\n")
    print(f"wrote {REPORT}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help=f"the sections to run (default: all of {', '.join(SECTIONS)})")
    ap.add_argument("--repeat", type=int, default=21, help="section 2's timed rounds")
    ap.add_argument("--profile-steps", type=int, default=10 * BLOCK, help="section 3's profiled steps")
    ap.add_argument("--profile-top", type=int, default=20, help="section 3's rows")
    args = ap.parse_args()
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)}: choose from {', '.join(SECTIONS)}")
    torch = _torch()
    header = ["# The encoder-decoder against PyTorch", "",
              f"PyTorch {torch.__version__}; numpy {np.__version__}; {threads.usable_cores()} cores. "
              "`python benchmarks/seq2seq_torch.py` "
              "writes this report (`--only twin,throughput,profile` rewrites those sections)."]
    write_report(header, [SECTIONS[name](torch, args) for name in args.only.split(",")])


if __name__ == "__main__":
    main()
