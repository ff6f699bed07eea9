"""The recurrent cells, each described in one place.

One module per cell (``rnn``, ``gru``, ``mgu``, ``lstm``) holds its step function (the
readable reference: one concatenation and one matrix product per gate, exactly as the
equations are written), its fast loops over a sequence (used by ``rnnlib.forward``,
``backward`` and ``infer``), and the ``Cell`` that describes it. ``CELLS`` is the registry
that everything else reads; adding a cell means adding a module and a line here.

A step function has the signature that ``scan`` expects::

    y, state_next = step([x, state], weights)

with ``x`` (D, B) and the state ``h`` (H, B), or for the LSTM the pair ``(h, c)``; ``y`` is
the new hidden state.
"""

from .cell import Cell
from .gru import gru_step
from .lstm import lstm_step
from .mgu import mgu_step
from .rnn import rnn_step
from . import gru, lstm, mgu, rnn

__all__ = ["Cell", "CELLS", "get", "rnn_step", "gru_step", "mgu_step", "lstm_step"]

#: Every cell, by name.
CELLS = {c.name: c for c in (rnn.CELL, gru.CELL, mgu.CELL, lstm.CELL)}


def get(cell):
    """The ``Cell`` called ``cell`` (case-insensitive); ``ValueError`` for an unknown name."""
    if isinstance(cell, Cell):
        return cell
    if not isinstance(cell, str) or cell.lower() not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(map(repr, CELLS))}; got {cell!r}")
    return CELLS[cell.lower()]
