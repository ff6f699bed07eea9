"""Timing helpers: repeat a callable, report median / min / max, compare and sweep.

Honest timing on a shared machine means: warm up first, repeat many times, report the
*median* (robust to the occasional slow run) with the spread, and compare alternatives by
*interleaving* their repeats so that a slow phase of the machine hits all of them alike.
The book's cost chapter and the benchmarks in ``benchmarks/`` use these functions.
"""

import os
import platform
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

__all__ = ["Timing", "time_call", "compare", "paired_ratios", "sweep", "fit_line", "machine_info", "peak_memory",
           "against_torch"]


@dataclass
class Timing:
    """Seconds per call: median, min, max over the repeats, and every repeat."""

    median: float
    min: float
    max: float
    times: list

    def __str__(self):
        return f"{self.median * 1e3:.3f} ms (min {self.min * 1e3:.3f}, max {self.max * 1e3:.3f}, n={len(self.times)})"


def _calibrate(fn, min_time):
    """How many calls make one repeat last at least ``min_time`` seconds."""
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - t0 >= min_time or number >= 1 << 20:
            return number
        number *= 2


def _summary(times):
    return Timing(float(np.median(times)), float(min(times)), float(max(times)), list(times))


def compare(fns, repeat=15, min_time=0.01, warmup=1):
    """Time several callables with interleaved repeats.

    Parameters
    ----------
    fns : dict of name -> callable
        Callables taking no arguments (any hashable names).
    repeat : int
        Rounds; in each round every callable runs once (as a block of ``number`` calls).
    min_time : float
        Each block lasts at least this long (``number`` is calibrated per callable).
    warmup : int
        Untimed calls of each callable first.

    Returns
    -------
    dict of str -> Timing
        Seconds per single call.
    """
    if not fns or repeat < 1:
        raise ValueError("need at least one callable and repeat >= 1")
    numbers = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        numbers[name] = _calibrate(fn, min_time)
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            n = numbers[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            times[name].append((time.perf_counter() - t0) / n)
    return {name: _summary(ts) for name, ts in times.items()}


def paired_ratios(a, b):
    """Round-by-round ratios ``a / b`` of two ``Timing`` results of one ``compare`` call (each
    round ran both, close together in time): a ``Timing`` of the ratios, whose spread shows
    how far the machine's slow and fast phases move the comparison."""
    return _summary([x / y for x, y in zip(a.times, b.times)])


def time_call(fn, repeat=15, min_time=0.01, warmup=1):
    """Time one callable; see ``compare``. Returns a ``Timing`` in seconds per call."""
    return compare({"fn": fn}, repeat, min_time, warmup)["fn"]


def sweep(make, values, repeat=9, min_time=0.01):
    """Time a family of callables over a parameter.

    All the callables at all the values are interleaved in one ``compare``: a slow phase of
    the machine then hits every point of the sweep alike, instead of bending the curve at
    whichever values happened to be timed during it.

    Parameters
    ----------
    make : callable
        ``make(value) -> dict of str -> callable``: the callables to compare at that value.
    values : sequence

    Returns
    -------
    dict of str -> list of Timing
        For each callable name, one Timing per value.
    """
    fns = {}
    for i, v in enumerate(values):
        for name, fn in make(v).items():
            fns[(name, i)] = fn
    timed = compare(fns, repeat, min_time)
    out = {}
    for (name, i), t in timed.items():
        out.setdefault(name, []).append(t)
    return out


def fit_line(values, timings):
    """Fit ``time = fixed + per_unit * value`` to the medians by least squares.

    "Linear in T" means this straight line, with a fixed cost for the work done once per call
    (checks, allocations, the input projection's set-up); a slope of 1 on log-log axes is the
    special case ``fixed = 0``.

    Parameters
    ----------
    values : sequence of numbers, at least two distinct
        The swept parameter (e.g. the sequence lengths).
    timings : sequence of Timing
        One per value, as returned by ``sweep``.

    Returns
    -------
    fixed, per_unit : float
        Seconds, and seconds per unit of ``value``.
    worst : float
        The largest relative distance of a median from the line,
        ``max |median - line| / median``.
    """
    x = np.asarray(values, dtype=float)
    y = np.array([t.median for t in timings])
    if x.shape != y.shape or len(np.unique(x)) < 2:
        raise ValueError(f"need one Timing per value and at least two distinct values; got "
                         f"{len(x)} values ({len(np.unique(x))} distinct) and {len(y)} timings")
    per_unit, fixed = np.polyfit(x, y, 1)
    worst = float(np.max(np.abs(y - (fixed + per_unit * x)) / y))
    return float(fixed), float(per_unit), worst


def peak_memory(fn):
    """Peak bytes allocated while ``fn()`` runs (numpy reports its buffers to ``tracemalloc``).

    Counts memory allocated during the call beyond what was allocated before it, including
    temporaries freed before it returns; not the interpreter's own overhead.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - before
    if not was_tracing:
        tracemalloc.stop()
    return peak


def machine_info():
    """A short description of the machine and the numerical stack, for reports.

    Returns
    -------
    dict of str -> str
    """
    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": str(os.cpu_count()),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["processor"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:
        info["blas"] = "unknown"
    return info


# ----------------------------------------------------------------------------- cases
# The measurements that both the book's cost chapter and benchmarks/ run, so that the two can
# never disagree about what was timed. The baseline is the lectures' own per-step code, kept
# here as they wrote it (a concatenation and an ``np.dot`` per gate, no checks): what is being
# measured against, not rnnlib's description of a cell (that is ``rnnlib.cells``). It lives in
# this module, not in ``lecture``, because the grader's copy of rnnlib empties ``timing``.


def _lecture_sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))   # overflow-free; same cost class as 1/(1+exp(-a))


def lecture_rnn_step(inputs, weights):
    """The lectures' per-step vanilla cell: a concatenation and an ``np.dot`` per step."""
    x, h = inputs
    W_h, b_h = weights[0], weights[-1] if len(weights) == 2 else weights[3]
    h = _lecture_sigmoid(np.dot(W_h, np.concatenate([h, x])) + b_h)
    return h, h


def lecture_gru_step(inputs, weights):
    """The lectures' per-step GRU: three concatenations and three ``np.dot`` per step."""
    x, h = inputs
    W_u, W_r, W_c, b_u, b_r, b_c = weights
    u = _lecture_sigmoid(np.dot(W_u, np.concatenate([h, x])) + b_u)
    r = _lecture_sigmoid(np.dot(W_r, np.concatenate([h, x])) + b_r)
    c = np.tanh(np.dot(W_c, np.concatenate([r * h, x])) + b_c)
    h = u * c + (1 - u) * h
    return h, h


def lecture_mgu_step(inputs, weights):
    """A per-step MGU in the lectures' style."""
    x, h = inputs
    W_f, W_h, b_f, b_h = weights
    f = _lecture_sigmoid(np.dot(W_f, np.concatenate([h, x])) + b_f)
    c = np.tanh(np.dot(W_h, np.concatenate([f * h, x])) + b_h)
    h = (1 - f) * h + f * c
    return h, h


def lecture_lstm_step(inputs, weights):
    """A per-step LSTM in the lectures' style: four concatenations and four ``np.dot``."""
    x, (h, c) = inputs
    W_i, W_f, W_o, W_c, b_i, b_f, b_o, b_c = weights
    i = _lecture_sigmoid(np.dot(W_i, np.concatenate([h, x])) + b_i)
    f = _lecture_sigmoid(np.dot(W_f, np.concatenate([h, x])) + b_f)
    o = _lecture_sigmoid(np.dot(W_o, np.concatenate([h, x])) + b_o)
    g = np.tanh(np.dot(W_c, np.concatenate([h, x])) + b_c)
    c = f * c + i * g
    h = o * np.tanh(c)
    return h, (h, c)


LECTURE_STEPS = {"rnn": lecture_rnn_step, "gru": lecture_gru_step, "mgu": lecture_mgu_step,
                 "lstm": lecture_lstm_step}


def make_problem(cell, T, D, H, B, seed=0, dtype=np.float64):
    """Weights, inputs and initial state (zeros: ``h_0``, or the LSTM's ``(h_0, c_0)``) for
    timing ``cell`` at the given sizes."""
    from .cells import get as get_cell
    from .init import init_weights

    rng = np.random.default_rng(seed)
    weights = init_weights(cell, D, H, seed=seed, scheme="xavier", dtype=dtype)
    spec = get_cell(cell)
    state_0 = spec.pack_state([np.zeros((H, B), dtype) for _ in spec.state_names])
    return weights, rng.standard_normal((T, D, B)).astype(dtype), state_0


def scan_vs_forward(cells=tuple(LECTURE_STEPS), T=256, D=128, H=16, B=1, repeat=15):
    """Time the lectures' per-step ``scan`` against ``rnnlib.forward`` for each cell.

    Returns
    -------
    dict of (cell, "scan" | "forward") -> Timing
        All timings interleaved in one ``compare`` call.
    """
    from .bptt import forward
    from .scan import scan

    fns = {}
    for cell in cells:
        w, X, h_0 = make_problem(cell, T, D, H, B)
        fns[(cell, "scan")] = lambda c=cell, w=w, X=X, h_0=h_0: scan(LECTURE_STEPS[c], X, w, h_0)
        fns[(cell, "forward")] = lambda c=cell, w=w, X=X, h_0=h_0: forward(c, w, X, h_0)
    return compare(fns, repeat=repeat)


def forward_sweep(param, values, cells=None, base=None, repeat=7, backward=False):
    """Time ``rnnlib.forward`` (and optionally ``backward``) while one size varies.

    Parameters
    ----------
    param : {"T", "H", "B", "D"}
    values : sequence of int
    cells : sequence of str, optional
        Default: every cell in ``rnnlib.CELLS``.
    base : dict, optional
        The other sizes; default the lectures' T=256, D=128, H=16, B=1.
    backward : bool
        Time forward + backward instead of forward alone.

    Returns
    -------
    dict of cell -> list of Timing, one per value.
    """
    from .bptt import backward as bptt_backward, forward
    from .cells import CELLS

    cells = tuple(CELLS) if cells is None else cells
    sizes = {"T": 256, "D": 128, "H": 16, "B": 1, **(base or {})}

    def make(v):
        s = dict(sizes, **{param: v})
        fns = {}
        for cell in cells:
            w, X, h_0 = make_problem(cell, s["T"], s["D"], s["H"], s["B"])
            if backward:
                G = np.ones((s["T"], s["H"], s["B"]), X.dtype)
                fns[cell] = lambda c=cell, w=w, X=X, h_0=h_0, G=G: bptt_backward(G, forward(c, w, X, h_0)[1])
            else:
                fns[cell] = lambda c=cell, w=w, X=X, h_0=h_0: forward(c, w, X, h_0)
        return fns

    return sweep(make, values, repeat=repeat)


# ----------------------------------------------------------------------------- against PyTorch

#: What each cell is compared with: a PyTorch module, or for the MGU, which PyTorch lacks, our
#: MGU written in PyTorch operations (``_torch_mgu``) and differentiated by autograd.
TORCH_MODULES = {"rnn": "RNN", "gru": "GRU", "mgu": "MGU (autograd)", "lstm": "LSTM"}


def _torch_mgu(torch, weights, tdtype):
    """Our MGU as a ``torch.nn.Module`` with our weights, written as a PyTorch user would write
    it: the input projections of all steps in one product each, then the loop over steps."""
    class MGU(torch.nn.Module):
        def __init__(self):
            super().__init__()
            W_f, W_h, b_f, b_h = (np.asarray(a) for a in weights)
            H = W_f.shape[0]
            P = lambda a: torch.nn.Parameter(torch.tensor(a, dtype=tdtype))
            self.W_f_hid, self.W_f_in, self.b_f = P(W_f[:, :H]), P(W_f[:, H:]), P(b_f[:, 0])
            self.W_h_hid, self.W_h_in, self.b_h = P(W_h[:, :H]), P(W_h[:, H:]), P(b_h[:, 0])

        def forward(self, x, h_0):                    # x (T, B, D), h_0 (1, B, H), as nn.GRU
            A_f = torch.addmm(self.b_f, x.flatten(0, 1), self.W_f_in.T).view(*x.shape[:2], -1)
            A_h = torch.addmm(self.b_h, x.flatten(0, 1), self.W_h_in.T).view(*x.shape[:2], -1)
            h, out = h_0[0], []
            for a_f, a_h in zip(A_f, A_h):
                f = torch.sigmoid(a_f + h @ self.W_f_hid.T)
                c = torch.tanh(a_h + (f * h) @ self.W_h_hid.T)
                h = h + f * (c - h)                   # (1 - f) h + f c
                out.append(h)
            return torch.stack(out), h[None]

    return MGU()


#: What ``against_torch`` times for each cell and library.
TORCH_KINDS = ("forward", "forward+backward", "inference")


def rnnlib_cases(cell, dtype, T, D, H, B):
    """rnnlib's forward, forward+backward (loss = the sum of all h_t) and inference, as
    callables on one problem of these sizes (``make_problem``; the vanilla RNN with tanh, as
    ``nn.RNN``); and the problem, as the keyword arguments of ``rnnlib.forward``."""
    from .bptt import backward, forward, infer

    w, X, state_0 = make_problem(cell, T, D, H, B, dtype=dtype)
    dhs = np.ones((T, H, B), dtype)
    run = dict(cell=cell, weights=w, X=X, h_0=state_0, activation="tanh")   # nn.RNN's tanh
    return {"forward": lambda: forward(**run),
            "forward+backward": lambda: backward(dhs, forward(**run)[1]),
            "inference": lambda: infer(**run, return_sequence=True)}, run


def _torch_cases(torch, cell, dtype, run, T, D, H, B):
    """The same three for PyTorch on the same inputs. ``nn.RNN``, ``nn.LSTM`` and the autograd
    MGU compute exactly our cells: they get our weights, and in float64 must give our states."""
    from . import interop
    from .bptt import forward

    tdtype = getattr(torch, np.dtype(dtype).name)
    if cell == "mgu":
        net = _torch_mgu(torch, run["weights"], tdtype)
    else:
        net = getattr(torch.nn, TORCH_MODULES[cell])(D, H).to(tdtype)
    tX = torch.tensor(interop.to_torch_layout(run["X"]), requires_grad=True)       # (T, B, D)
    th_0 = torch.zeros(1, B, H, dtype=tdtype)
    th_0 = (th_0, torch.zeros_like(th_0)) if cell == "lstm" else th_0
    to_torch = {"rnn": interop.rnn_to_torch, "lstm": interop.lstm_to_torch}.get(cell)
    if to_torch is not None:
        net.load_state_dict({k: torch.tensor(v) for k, v in to_torch(run["weights"]).items()})
    if cell != "gru":
        if dtype == np.float64:
            with torch.no_grad():
                theirs = net(tX, th_0)[0].numpy()
            if not np.allclose(theirs, interop.to_torch_layout(forward(**run)[0]), rtol=0, atol=1e-12):
                raise AssertionError(f"PyTorch's {TORCH_MODULES[cell]} and rnnlib's {cell} disagree")

    def forward_backward():                     # rnnlib's backward also returns dX: so does this
        net.zero_grad()
        tX.grad = None
        net(tX, th_0)[0].sum().backward()

    def inference():
        with torch.no_grad():
            return net(tX, th_0)

    return {"forward": lambda: net(tX, th_0), "forward+backward": forward_backward, "inference": inference}


def against_torch(dtypes=(np.float32, np.float64), cells=None, T=256, D=128, H=128, B=64, repeat=3,
                  extra=None, kinds=TORCH_KINDS):
    """Time rnnlib against PyTorch on the CPU: forward, forward+backward and inference.

    For each dtype, one ``compare`` call in which every round runs all of rnnlib's callables,
    pauses, then all of PyTorch's, and pauses: run alternately, call by call, PyTorch's forward
    came out up to 2x slower right after a numpy call. PyTorch gets as many threads as numpy's
    BLAS (``OPENBLAS_NUM_THREADS``, else every CPU). Each callable's first (calibrating) call
    is its warm-up.

    Parameters
    ----------
    dtypes : sequence of numpy float dtypes
    cells : sequence of str, optional
        Default: every cell that PyTorch has a counterpart for (``TORCH_MODULES``).
    T, D, H, B : int
    repeat : int
    extra : callable, optional
        ``extra(dtype) -> dict of name -> callable``: more callables to time in rnnlib's block
        (e.g. parts of a breakdown), reported under ``(dtype name, "extra", name)``.
    kinds : sequence of str
        Which of ``TORCH_KINDS`` to time.

    Returns
    -------
    timings : dict of tuple -> Timing
        ``(dtype name, cell, "rnnlib" | "torch", kind)`` for ``kind`` in ``kinds``; no
        "torch" entries when PyTorch is not installed.
    torch_info : dict or None
        PyTorch's ``"version"`` and ``"threads"``, or None without PyTorch.
    """
    import time

    try:
        import torch
    except ImportError:
        torch = None
    cells = tuple(TORCH_MODULES) if cells is None else cells
    if torch is not None:
        torch.manual_seed(0)
        torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count())))
    pause = lambda: time.sleep(0.15)            # let the other library's threads go idle
    timings = {}
    for dtype in dtypes:
        name = np.dtype(dtype).name
        ours, theirs = {}, {}
        for cell in cells:
            fns, run = rnnlib_cases(cell, dtype, T, D, H, B)
            ours.update({(name, cell, "rnnlib", k): fn for k, fn in fns.items() if k in kinds})
            if torch is not None:
                theirs.update({(name, cell, "torch", k): fn
                               for k, fn in _torch_cases(torch, cell, dtype, run, T, D, H, B).items() if k in kinds})
        ours.update({(name, "extra", k): fn for k, fn in (extra(dtype) if extra else {}).items()})
        timed = compare({**ours, "pause 1": pause, **theirs, "pause 2": pause}, repeat=repeat, warmup=0)
        timings.update({k: t for k, t in timed.items() if isinstance(k, tuple)})
    info = None if torch is None else {"version": torch.__version__, "threads": torch.get_num_threads()}
    return timings, info
