"""How many threads rnnlib's matrix products use: more than one only where that pays.

Nothing here needs a student's attention: rnnlib chooses for itself. To choose yourself, set
``OPENBLAS_NUM_THREADS`` before starting Python, or use ``threadpoolctl.threadpool_limits``;
rnnlib never uses more threads than that.

numpy's OpenBLAS starts a thread per core, splits every large matrix product among them and
waits for the slowest. On a quiet machine that makes a large batch's products up to twice as
fast. When another process holds a core, the thread that shares that core runs at half speed
and the others wait for it, hundreds of times a second: with one of two cores busy, the GRU's
forward+backward at T=128, D=H=256, B=64 took 2.4 times as long with two threads as with one,
and at B=1, H=16 (products far too small to split) 3.5 times (``benchmarks/bench.py``, section 7).

So rnnlib's loops and read-out run inside ``limited(work)``, with ``work`` the multiply-adds
(one multiplication and one addition) of one step's matrix products (``threads_for``):

- below ``PAYS`` multiply-adds, one thread: splitting so small a product costs more than it
  saves, even on a quiet machine;
- above it, one thread per core that other processes leave idle (``idle_cores``: measured from
  ``/proc/stat``, with this process's own time taken out; without ``/proc/stat``, every core);
- never more than the user allows (``OPENBLAS_NUM_THREADS``, ``threadpoolctl``).

A product's last bits can depend on how many threads split it (at some sizes, such as D=65): on
a busy machine rnnlib's numbers can differ from a quiet machine's in their last bits, as they
can between two machines. (Splitting the batch into parts, one Python thread each, would keep
the bits but was slower both quiet and busy: only one Python thread runs Python code at a time,
and the parts waited for each other between numpy calls.)
"""

import contextlib
import math
import os
import time

from threadpoolctl import ThreadpoolController

__all__ = ["PAYS", "SLACK", "limited", "threads_for", "allowed_threads", "usable_cores", "reading", "idle_between",
           "idle_cores"]

#: From about this many multiply-adds per step two threads beat one on a quiet machine (the GRU
#: at D=128, H=32, B=64, with 0.98 million: 1.2 times as fast); below it they never did
#: (benchmarks/bench.py, section 7, times one and two threads on either side).
PAYS = 500_000
#: A core that other processes keep busy for less than this fraction of the time counts as idle.
SLACK = 0.5
#: Shortest interval over which the idle cores are measured: /proc/stat counts in 10 ms ticks.
INTERVAL = 0.05

_controller = None


def _blas():
    """threadpoolctl's handle on numpy's BLAS, made once (finding the libraries takes ~1 ms)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


@contextlib.contextmanager
def limited(work):
    """Run the block with ``threads_for(work)`` BLAS threads; the user's setting comes back after.
    Yields the number of threads."""
    n = threads_for(work)
    with _blas().limit(limits=n):
        yield n


def threads_for(work):
    """BLAS threads for products of ``work`` multiply-adds per step: 1 below ``PAYS``, else the
    idle cores (at least one), never more than the user allows."""
    allowed = allowed_threads()
    if work < PAYS or allowed == 1:
        return 1
    return max(1, min(allowed, math.floor(idle_cores() + SLACK)))


def allowed_threads():
    """The BLAS threads the user allows now (OpenBLAS's own default: one per core)."""
    return min((lib.num_threads for lib in _blas().lib_controllers), default=1)


def usable_cores():
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def reading():
    """(wall seconds, CPU seconds all processes have used, CPU seconds this process has used), or
    None where ``/proc/stat`` cannot be read: two readings give ``idle_between`` them."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal: busy is all but idle and iowait (steal is a
    # virtual machine's core that the host gave to someone else: not ours to use either)
    busy = sum(ticks) - ticks[3] - ticks[4]
    return time.monotonic(), busy / os.sysconf("SC_CLK_TCK"), time.process_time()


def idle_between(first, last):
    """How many of this process's cores other processes left idle between two ``reading``s: the
    CPU time all processes used, less this process's own, over the wall time (None where either
    reading is None or they are not ``INTERVAL`` apart)."""
    if first is None or last is None or last[0] - first[0] < INTERVAL:
        return None
    others = max(0.0, (last[1] - first[1]) - (last[2] - first[2])) / (last[0] - first[0])
    return max(0.0, min(float(usable_cores()), os.cpu_count() - others))


_last = reading()
_idle = None


def idle_cores():
    """How many of this process's cores other processes left idle lately (a float):
    ``idle_between`` this call and the previous one, or the last value for a call less than
    ``INTERVAL`` after it. The first call waits for a short sample. Without ``/proc/stat``,
    every core counts as idle."""
    global _last, _idle
    if _last is None:
        return float(usable_cores())
    if _idle is None and time.monotonic() - _last[0] < INTERVAL:
        time.sleep(INTERVAL - (time.monotonic() - _last[0]))
    now = reading()
    idle = idle_between(_last, now)
    if idle is not None:
        _idle, _last = idle, now
    return float(usable_cores()) if _idle is None else _idle
