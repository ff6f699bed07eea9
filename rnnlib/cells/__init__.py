"""The recurrent cells, each described in one place.

One module per cell (``rnn``, ``gru``, ``mgu``, ``lstm``, ``mingru``, ``minlstm``) holds its step function (the
readable reference: one concatenation and one matrix product per gate, exactly as the
equations are written), its fast loops over a sequence (used by ``rnnlib.forward``,
``backward`` and ``infer``), its extras (the lectures' per-step code, a PyTorch twin, a
diagram), and the ``Cell`` that describes it, its weights' layout included. ``CELLS`` is the
registry that everything else reads; adding a cell means adding a module and a line here, or
calling ``register`` from outside rnnlib.

A step function has the signature that ``scan`` expects::

    y, state_next = step([x, state], weights)

with ``x`` (D, B) and the state ``h`` (H, B), or for the LSTM the pair ``(h, c)``; ``y`` is
the new hidden state. minGRU and minLSTM (Feng et al. 2024) read ``x`` alone in their gates
(their matrices are (H, D)): their loops are a parallel computation, one matrix product for
every step, then ``rnnlib.linear_recurrence``.
"""

from .cell import Cell, TorchTwin
from .gru import gru_step
from .layout import Bias, InputMatrix, Matrix, Weight
from .lstm import lstm_step
from .mgu import mgu_step
from .mingru import mingru_step
from .minlstm import minlstm_step
from .rnn import rnn_step
from . import gru, lstm, mgu, mingru, minlstm, rnn

__all__ = ["Cell", "TorchTwin", "Weight", "Matrix", "InputMatrix", "Bias", "CELLS", "get", "register", "sequential",
           "rnn_step", "gru_step", "mgu_step", "lstm_step", "mingru_step", "minlstm_step"]

#: Every cell, by name.
CELLS = {c.name: c for c in (rnn.CELL, gru.CELL, mgu.CELL, lstm.CELL, mingru.CELL, minlstm.CELL)}


def sequential():
    """The cells whose gates read the state (``Cell.reads_state``), by name: the RNN, GRU, MGU
    and LSTM, whose steps must run one after another. The book's chapters before the one on
    parallel scans compare these."""
    return {name: c for name, c in CELLS.items() if c.reads_state}


def get(cell):
    """The ``Cell`` called ``cell`` (case-insensitive); ``ValueError`` for an unknown name."""
    if isinstance(cell, Cell):
        return cell
    if not isinstance(cell, str) or cell.lower() not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(map(repr, CELLS))}; got {cell!r}")
    return CELLS[cell.lower()]


def register(cell):
    """Add ``cell`` (a ``Cell``) to ``CELLS`` under its name, which must be new and lower-case;
    return it. From then on every function that takes a cell's name takes this one."""
    if not isinstance(cell, Cell):
        raise ValueError(f"register takes a Cell; got {type(cell).__name__}")
    if cell.name != cell.name.lower() or cell.name in CELLS:
        raise ValueError(f"a new cell needs a new lower-case name; {cell.name!r} is taken or not lower-case")
    CELLS[cell.name] = cell
    return cell
