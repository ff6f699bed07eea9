"""rnnlib: the reference implementation behind the RNN course.

Pure numpy, column-vector convention (``x_t`` is (D, B), ``h_t`` is (H, B), ``X`` is
(T, D, B), weights (H, H + D) acting on ``[h; x]``). Modules, one idea each:

- ``activations``  stable sigmoid, tanh, derivatives
- ``cells``        the vanilla RNN, GRU, MGU, LSTM, minGRU and minLSTM, each described in one place (``CELLS``):
                   its weights' layout, its step ``cell([x, state], weights) -> (y, state)``,
                   its fast loops, the lectures' per-step code and a PyTorch twin
- ``scan``         unroll a step function over a sequence (the lectures' ``scan``)
- ``prefix_scan``  ``associative_scan``: every prefix under an associative operator, in log T rounds
- ``recurrence``   ``linear_recurrence`` h_t = a_t h_{t-1} + b_t by a loop, a scan or in log space,
                   and its backward pass (minGRU's and minLSTM's parallel mode)
- ``lecture``      the lectures' seed-10 set-up and published numbers
- ``bptt``         sequence forward and backward (backprop through time)
- ``deep``         stacked and bidirectional layers of any cell, dropout between layers
- ``attention``    additive (Bahdanau) attention over an encoder's outputs, with a mask
- ``dates``, ``seq2seq``   human-written dates paired with ISO 8601; an encoder-decoder with
                   attention, greedy and beam-search decoding, its command line
- ``losses``       linear read-out, MSE, softmax cross-entropy
- ``gradcheck``    numerical gradients and relative errors
- ``init``, ``optim``, ``train``, ``data``   initialisation, optimisers, training, tasks (the adding
                   problem, selective copying)
- ``text``, ``lm``, ``ngram``, ``charlm``   language modelling: text to ids, the character
                   model (truncated BPTT, perplexity, sampling), n-gram baselines, the command line
- ``timing``       honest timing helpers
- ``memory``       keeping freed memory in a process that trains (the command line's)
- ``threads``      how many BLAS threads the loops' products use: more than one only where it pays
- ``comparisons``  the cells timed against the lectures' code and against PyTorch
- ``roofline``     FLOPs, the large-GEMM rate and where the time goes
- ``interop``      PyTorch's layout and state dicts (stacks too), and the row-vector form
- ``grading``      array checks with precise feedback
"""

from .activations import sigmoid, sigmoid_grad_from_output, tanh, tanh_grad_from_output
from .bptt import Cache, backward, forward, infer, weight_names
from .cells import CELLS, gru_step, lstm_step, mgu_step, mingru_step, minlstm_step, rnn_step
from .prefix_scan import associative_scan
from .recurrence import linear_recurrence, linear_recurrence_backward
from .attention import additive_attention, additive_attention_backward
from .deep import DeepCache, deep_backward, deep_forward
from .data import ADDING_BASELINE_MSE, adding_problem, noisy_sine, selective_copying
from .gradcheck import check_gradients, numerical_gradient, relative_error
from .init import init_readout, init_weights
from .lecture import LECTURE_GRU_X1, lecture_setup
from .losses import mse, readout_backward, readout_forward, softmax_cross_entropy
from .optim import SGD, Adam, clip_by_global_norm, clip_elementwise
from .scan import scan
from .train import evaluate, init_model, loss_and_grads, predict, train
from . import comparisons, grading, interop, lm, ngram, text, timing  # noqa: F401  (modules used by name: rnnlib.lm...)

__version__ = "0.1.0"

__all__ = [
    "sigmoid", "tanh", "sigmoid_grad_from_output", "tanh_grad_from_output",
    "rnn_step", "gru_step", "mgu_step", "lstm_step", "mingru_step", "minlstm_step", "CELLS", "scan",
    "associative_scan", "linear_recurrence", "linear_recurrence_backward",
    "lecture_setup", "LECTURE_GRU_X1",
    "forward", "backward", "infer", "Cache", "weight_names",
    "deep_forward", "deep_backward", "DeepCache",
    "additive_attention", "additive_attention_backward",
    "readout_forward", "readout_backward", "mse", "softmax_cross_entropy",
    "numerical_gradient", "relative_error", "check_gradients",
    "init_weights", "init_readout", "SGD", "Adam", "clip_by_global_norm", "clip_elementwise",
    "init_model", "predict", "evaluate", "loss_and_grads", "train",
    "adding_problem", "noisy_sine", "selective_copying", "ADDING_BASELINE_MSE",
]
