"""How close the cells come to the machine's arithmetic limit.

The limit is the rate at which this machine multiplies large matrices: a single big GEMM keeps
every core busy on arithmetic with little waiting for memory, so no other computation does
more floating-point operations (FLOPs) per second. A cell's training step does only a few kinds
of matrix products and element-wise work around them; its *achieved rate* is the FLOPs of its
products divided by its time, and the fraction of the large-GEMM rate says how much of the
machine it uses.

FLOPs, for the cell's matrices (``Cell.layout``: ``G`` matrices of shape (H, H + D), with
RNN 1, MGU 2, GRU 3, LSTM 4) over ``T`` steps and ``B`` sequences::

    forward   2 B G H (H + D) T          [W_hid | W_in] times [h; x] at every step
                                         (2 B T times the numbers in the matrices)
    backward  2 x the forward            the weight gradients (as much as the forward), and
                                         the gradients of the inputs and of the carried state
    training  3 x the forward

The element-wise work (gates, states) is O(G H B T), a factor H smaller, and is not counted.
"""

import numpy as np

from .bptt import forward
from .cells import get as get_cell
from .cells.gradients import input_weights
from .cells.layout import Bias, Matrix
from .cells.loops import project, transposed
from .comparisons import make_problem, rnnlib_cases
from .threads import limited
from .timing import compare

__all__ = ["forward_flops", "training_flops", "gemm_rate", "training_rate", "breakdown", "PARTS"]


def forward_flops(cell, T, D, H, B):
    """FLOPs of the forward pass's matrix products: ``2 B T`` times the numbers in the cell's
    matrices, ``2 B G H (H + D) T`` for ``G`` matrices (H, H + D)."""
    return 2 * B * T * sum(int(np.prod(w.shape(D, H))) for w in get_cell(cell).matrices)


def training_flops(cell, T, D, H, B):
    """FLOPs of forward + backward: three times the forward's (see the module's docstring)."""
    return 3 * forward_flops(cell, T, D, H, B)


def gemm_rate(dtype=np.float64, n=2048, repeat=5):
    """FLOP/s of one large product ``(n, n) @ (n, n)`` (``2 n^3`` FLOPs): the machine's limit
    for this dtype, on the BLAS threads rnnlib's large products get (``rnnlib.threads``: the
    idle cores). Returns the median's rate."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n)).astype(dtype) for _ in range(2))
    out = np.empty((n, n), dtype)
    with limited(n * n):                   # n^2 multiply-adds per column of the product
        t = compare({"gemm": lambda: np.dot(a, b, out)}, repeat=repeat, min_time=0.05)["gemm"]
    return 2 * n ** 3 / t.median


def _training_call(cell, T, D, H, B, dtype):
    """Forward + backward with dL/dh_t = 1: what the cost chapter's PyTorch table times."""
    return rnnlib_cases(cell, dtype, T, D, H, B)[0]["forward+backward"]


def training_rate(cells, T, D, H, B, dtype=np.float64, repeat=5):
    """Achieved FLOP/s of each cell's forward + backward (median of interleaved repeats)."""
    fns = {cell: _training_call(cell, T, D, H, B, dtype) for cell in cells}
    timed = compare(fns, repeat=repeat, min_time=0.02)
    return {cell: training_flops(cell, T, D, H, B) / timed[cell].median for cell in cells}


#: The parts of ``breakdown``, in the order they add up to the whole.
PARTS = ("input products", "recurrent products", "element-wise", "per-step overhead")


def _parts(cell, T, D, H, B, dtype):
    """Callables that do one part each of a cell's forward + backward, with its real shapes."""
    spec = get_cell(cell)
    w, X, state_0 = make_problem(cell, T, D, H, B, dtype=dtype)
    _, cache = forward(cell, w, X, state_0, "tanh")
    rng = np.random.default_rng(1)
    dA = rng.standard_normal((T, spec.n_matrices * H, B)).astype(dtype)
    gates = spec.backward_loop(np.ones_like(cache.hs), cache)[1]      # what the matrices read
    W_in = input_weights(spec.layout, w, H)
    b = np.concatenate([W for W, kind in zip(w, spec.layout) if isinstance(kind, Bias)])
    G_hid = sum(isinstance(kind, Matrix) for kind in spec.layout)     # the matrices that read h
    W_hid = rng.standard_normal((G_hid * H, H)).astype(dtype)
    W_hid_T = transposed(W_hid)
    h, p, dh = np.ones((H, B), dtype), np.empty((G_hid * H, B), dtype), np.empty((H, B), dtype)
    dA_t = rng.standard_normal((G_hid * H, B)).astype(dtype)

    def recurrent():
        # the recurrent arithmetic in its fewest calls: one (G H, H) (H, B) product per step
        # forward, and its transpose per step backward
        for _ in range(T):
            W_hid.dot(h, p)
        for _ in range(T):
            W_hid_T.dot(dA_t, dh)

    tiny = _training_call(cell, T, 2, 2, 1, dtype)   # the same calls on 2 x 1 arrays: their cost
    return {"whole": _training_call(cell, T, D, H, B, dtype),                         # is overhead
            "input products": lambda: (project(W_in, X, b), spec.gradients(cache, dA, gates)),
            "recurrent products": recurrent, "per-step overhead": tiny}


def breakdown(cell, T, D, H, B, dtype=np.float64, repeat=5):
    """Where a cell's forward + backward time goes, in seconds per call.

    Measured, each part alone, with interleaved repeats (medians):

    - ``"input products"``: the products over all steps at once, with the real shapes: the
      input projection before the loop, and the weight and input gradients after it;
    - ``"recurrent products"``: the per-step products, as one (G H, H) (H, B) product per
      step forward and its transpose per step backward (the fewest calls that do that
      arithmetic; the GRU and the MGU split it in two, which costs a little more);
    - ``"per-step overhead"``: the same forward + backward with D = H = 2, B = 1, where the
      arithmetic is nothing and every numpy call costs only its overhead (not H = 1: there
      some of numpy's products take a slower path, and the "overhead" came out 40% larger).

    And by difference: ``"element-wise"`` = whole - the three, the gates' and states'
    element-wise arithmetic (with whatever the measured parts miss). The parts overlap a
    little (each product timing includes its calls' overhead, which the per-step overhead
    counts too), so at small sizes the difference can come out slightly negative.

    Returns
    -------
    dict of str -> float
        ``"whole"`` and every name in ``PARTS``.
    """
    with limited(get_cell(cell).step_work(D, H, B)):     # the parts on the loops' threads
        timed = compare(_parts(cell, T, D, H, B, dtype), repeat=repeat, min_time=0.02)
    out = {k: t.median for k, t in timed.items()}
    out["element-wise"] = out["whole"] - sum(out[k] for k in PARTS if k != "element-wise")
    return {k: out[k] for k in ("whole",) + PARTS}
