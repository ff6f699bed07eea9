"""The cells timed against the lectures' code and against PyTorch.

The measurements that both the book's cost chapter and ``benchmarks/`` run, so that the two can
never disagree about what was timed. Each cell brings its own baselines (``rnnlib.cells.Cell``):
``lecture_step``, the lectures' per-step code as they wrote it (a concatenation and an
``np.dot`` per gate, no checks), and ``torch_twin``, the cell in PyTorch. A cell without one is
left out of that comparison and reported as such ("no twin"). rnnlib never imports PyTorch:
``against_torch`` takes the module as its ``torch`` argument (None where it is not installed).
"""

import time

import numpy as np

from .bptt import backward as backward_pass, forward, infer
from .cells import CELLS, get as get_cell
from .init import init_weights
from .interop import to_torch_layout
from .scan import scan
from .threads import limited, threads_for
from .timing import compare, sweep

__all__ = ["make_problem", "scan_vs_forward", "forward_sweep", "rnnlib_cases", "torch_cases", "twin_name",
           "against_torch", "TORCH_KINDS", "NO_TWIN"]

#: What ``against_torch`` times for each cell and library.
TORCH_KINDS = ("forward", "forward+backward", "inference")
#: How reports name a cell that has no PyTorch twin.
NO_TWIN = "no twin"


def make_problem(cell, T, D, H, B, seed=0, dtype=np.float64):
    """Weights (Xavier), inputs (standard normal) and initial state (zeros: ``h_0``, or the
    LSTM's ``(h_0, c_0)``) for timing ``cell`` at the given sizes."""
    rng = np.random.default_rng(seed)
    weights = init_weights(cell, D, H, seed=seed, scheme="xavier", dtype=dtype)
    return weights, rng.standard_normal((T, D, B)).astype(dtype), get_cell(cell).zero_state(H, B, dtype)


def scan_vs_forward(cells=None, T=256, D=128, H=16, B=1, repeat=15):
    """Time the lectures' per-step ``scan`` against ``rnnlib.forward`` for each cell.

    Parameters
    ----------
    cells : sequence of str, optional
        Default: every cell of ``rnnlib.CELLS`` that has a ``lecture_step``.

    Returns
    -------
    dict of (cell, "scan" | "forward") -> Timing
        All timings interleaved in one ``compare`` call.
    """
    cells = tuple(c for c in CELLS if CELLS[c].lecture_step) if cells is None else cells
    fns = {}
    for cell in cells:
        step = get_cell(cell).lecture_step
        if step is None:
            raise ValueError(f"the {cell} cell has no lecture_step to time against")
        w, X, h_0 = make_problem(cell, T, D, H, B)
        work = get_cell(cell).step_work(D, H, B)

        def lecture(step=step, w=w, X=X, h_0=h_0, work=work):   # the BLAS threads rnnlib's loops get
            with limited(work):
                return scan(step, X, w, h_0)

        fns[(cell, "scan")] = lecture
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
    cells = tuple(CELLS) if cells is None else cells
    sizes = {"T": 256, "D": 128, "H": 16, "B": 1, **(base or {})}

    def make(v):
        s = dict(sizes, **{param: v})
        fns = {}
        for cell in cells:
            w, X, h_0 = make_problem(cell, s["T"], s["D"], s["H"], s["B"])
            if backward:
                G = np.ones((s["T"], s["H"], s["B"]), X.dtype)
                fns[cell] = lambda c=cell, w=w, X=X, h_0=h_0, G=G: backward_pass(G, forward(c, w, X, h_0)[1])
            else:
                fns[cell] = lambda c=cell, w=w, X=X, h_0=h_0: forward(c, w, X, h_0)
        return fns

    return sweep(make, values, repeat=repeat)


def rnnlib_cases(cell, dtype, T, D, H, B):
    """rnnlib's forward, forward+backward (loss = the sum of all h_t) and inference, as
    callables on one problem of these sizes (``make_problem``; the vanilla RNN with tanh, as
    ``nn.RNN``); and the problem, as the keyword arguments of ``rnnlib.forward``."""
    w, X, state_0 = make_problem(cell, T, D, H, B, dtype=dtype)
    dhs = np.ones((T, H, B), dtype)
    run = dict(cell=cell, weights=w, X=X, h_0=state_0, activation="tanh")   # nn.RNN's tanh
    return {"forward": lambda: forward(**run),
            "forward+backward": lambda: backward_pass(dhs, forward(**run)[1]),
            "inference": lambda: infer(**run, return_sequence=True)}, run


def twin_name(cell):
    """What the cell is compared with in PyTorch: its twin's ``layer_name``, or ``NO_TWIN``."""
    twin = get_cell(cell).torch_twin
    return NO_TWIN if twin is None else twin.layer_name


def torch_cases(torch, cell, run):
    """The three of ``rnnlib_cases`` for the cell's PyTorch twin on the same inputs (``run``,
    as ``rnnlib_cases`` returns it). A twin that is ``exact`` gets our weights, and in float64
    must give our states to 1e-12 (else ``AssertionError``)."""
    spec = get_cell(cell)
    weights, X = run["weights"], run["X"]
    options = spec.loop_options(activation=run["activation"])
    net = spec.torch_twin.layer(torch, weights, **options)
    tX = torch.tensor(to_torch_layout(X), requires_grad=True)       # (T, B, D)
    th_0 = tuple(torch.tensor(s.T[None].copy()) for s in spec.unpack_state(run["h_0"]))   # (1, B, H) each
    th_0 = th_0[0] if len(th_0) == 1 else th_0
    if spec.torch_twin.exact and X.dtype == np.float64:
        with torch.no_grad():
            theirs = net(tX, th_0)[0].numpy()
        if not np.allclose(theirs, to_torch_layout(forward(**run)[0]), rtol=0, atol=1e-12):
            raise AssertionError(f"PyTorch's {spec.torch_twin.layer_name} and rnnlib's {cell} disagree")

    def forward_backward():                     # rnnlib's backward also returns dX: so does this
        net.zero_grad()
        tX.grad = None
        net(tX, th_0)[0].sum().backward()

    def inference():
        with torch.no_grad():
            return net(tX, th_0)

    return {"forward": lambda: net(tX, th_0), "forward+backward": forward_backward, "inference": inference}


def against_torch(dtypes=(np.float32, np.float64), cells=None, T=256, D=128, H=128, B=64, repeat=3,
                  extra=None, kinds=TORCH_KINDS, torch=None):
    """Time rnnlib against PyTorch on the CPU: forward, forward+backward and inference.

    For each dtype, one ``compare`` call in which every round runs all of rnnlib's callables,
    pauses, then all of PyTorch's, and pauses: run alternately, call by call, PyTorch's forward
    came out up to 2x slower right after a numpy call. PyTorch gets the threads that numpy's
    BLAS gets for rnnlib's products at these sizes (``rnnlib.threads``: the idle cores). Each
    callable's first (calibrating) call is its warm-up.

    Parameters
    ----------
    dtypes : sequence of numpy float dtypes
    cells : sequence of str, optional
        Default: every cell of ``rnnlib.CELLS``; those without a twin are timed on rnnlib's side
        only (``twin_name`` says "no twin").
    T, D, H, B : int
    repeat : int
    extra : callable, optional
        ``extra(dtype) -> dict of name -> callable``: more callables to time in rnnlib's block
        (e.g. parts of a breakdown), reported under ``(dtype name, "extra", name)``.
    kinds : sequence of str
        Which of ``TORCH_KINDS`` to time.
    torch : module, optional
        PyTorch, imported by the caller (rnnlib never imports it); None times rnnlib alone.

    Returns
    -------
    timings : dict of tuple -> Timing
        ``(dtype name, cell, "rnnlib" | "torch", kind)`` for ``kind`` in ``kinds``; "torch"
        entries for the cells with a twin, when ``torch`` is given.
    torch_info : dict or None
        PyTorch's ``"version"`` and ``"threads"``, and ``"twins"``: each cell's ``twin_name``;
        None without PyTorch.
    """
    cells = tuple(CELLS) if cells is None else tuple(cells)
    if torch is not None:
        torch.manual_seed(0)
        torch.set_num_threads(threads_for(max(get_cell(c).step_work(D, H, B) for c in cells)))
    pause = lambda: time.sleep(0.15)            # let the other library's threads go idle
    timings = {}
    for dtype in dtypes:
        name = np.dtype(dtype).name
        ours, theirs = {}, {}
        for cell in cells:
            fns, run = rnnlib_cases(cell, dtype, T, D, H, B)
            ours.update({(name, cell, "rnnlib", k): fn for k, fn in fns.items() if k in kinds})
            if torch is not None and get_cell(cell).torch_twin is not None:
                theirs.update({(name, cell, "torch", k): fn
                               for k, fn in torch_cases(torch, cell, run).items() if k in kinds})
        ours.update({(name, "extra", k): fn for k, fn in (extra(dtype) if extra else {}).items()})
        timed = compare({**ours, "pause 1": pause, **theirs, "pause 2": pause}, repeat=repeat, warmup=0)
        timings.update({k: t for k, t in timed.items() if isinstance(k, tuple)})
    info = None if torch is None else {"version": torch.__version__, "threads": torch.get_num_threads(),
                                       "twins": {cell: twin_name(cell) for cell in cells}}
    return timings, info
