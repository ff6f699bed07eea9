"""Sequence to sequence: an encoder-decoder with additive attention, its decoding (greedy and
beam search), the date-translation task, and a command line (``python -m rnnlib.seq2seq``).

- ``vocab``    character vocabularies with ``<pad>``, ``<bos>``, ``<eos>``, and masks
- ``model``    the encoder-decoder's parameters, forward and backward (teacher forcing)
- ``decode``   greedy decoding and beam search
- ``data``     the tasks (dates, reversal) and their batches, one source length each
- ``train``    training, translation, exact-match accuracy
- ``checkpoint``, ``plot``   checkpoints; attention heat maps
- ``__main__``  the command line: ``train`` and ``translate``
"""

from .model import Model, init_seq2seq, seq2seq_backward, seq2seq_forward, seq2seq_loss_and_grads
from .vocab import BOS, EOS, PAD, Vocab

__all__ = ["init_seq2seq", "seq2seq_forward", "seq2seq_backward", "seq2seq_loss_and_grads", "Model",
           "Vocab", "PAD", "BOS", "EOS"]

