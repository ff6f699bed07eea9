"""Keeping the memory numpy frees, for a process that trains: ``keep_freed_memory``.

A training step makes and frees the same large temporaries over and over (each step's
activations, gates and gradients, about a megabyte each at char-rnn's size). glibc's allocator
serves an allocation this large from fresh pages that the kernel maps (``mmap``) and must zero
on first touch, and gives them back when it is freed; the next step pays for them again. Told
to serve allocations up to 32 MiB from its heap and to keep up to 1 GiB of freed memory there,
it hands the next step the same pages, already mapped. At char-rnn's size (a 2-layer LSTM of
128) that made a training step 1.3x-1.4x faster (``benchmarks/charlm_torch.py``); the cost is
that the process keeps up to that much freed memory instead of returning it to the system.

rnnlib never does this on import: it changes the whole process. The command line
(``python -m rnnlib.charlm``), which owns its process, does.
"""

import ctypes
import ctypes.util

__all__ = ["keep_freed_memory"]

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3     # mallopt's parameters, from glibc's malloc.h
MMAP_THRESHOLD = 32 << 20                       # glibc's largest allowed value (64-bit)
TRIM_THRESHOLD = 1 << 30


def keep_freed_memory():
    """Ask glibc's allocator to keep freed memory (see the module's docstring). Returns whether
    it could: False where the C library is not glibc's (nothing is changed there)."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
