"""Beam search against greedy decoding on every test date, with the shipped under-trained date model
(data/models/dates_small.npz, where the two differ; tools/train_weak_dates_model.py).

A beam may in principle prune the greedy output's prefix; on these test dates it never ends with
a less probable output. Tolerance: the two scores are sums of about a dozen float64
log-probabilities computed in different orders: 1e-9.
"""

import numpy as np

from rnnlib.seq2seq import BOS, EOS, PAD, seq2seq_forward
from rnnlib.seq2seq.checkpoint import load_checkpoint
from rnnlib.seq2seq.data import TASKS
from rnnlib.seq2seq.decode import beam_search, greedy_decode, log_softmax
from rnnlib.text import DATA_DIR


def scores(cell, params, src, src_mask, outputs):
    """The teacher-forced log-probability of writing each column's ``outputs`` then <eos>."""
    T, B = max(map(len, outputs)) + 1, len(outputs)
    tgt_out = np.full((T, B), PAD)
    for b, o in enumerate(outputs):
        tgt_out[:len(o) + 1, b] = o + [EOS]
    tgt_in = np.vstack([np.full((1, B), BOS), tgt_out[:-1]])
    logits, _, _ = seq2seq_forward(cell, params, src, src_mask, tgt_in)
    log_p = np.stack([log_softmax(z) for z in logits])                  # (T, V, B)
    picked = np.take_along_axis(log_p, tgt_out[:, None, :], axis=1)[:, 0]
    return (picked * (np.arange(T)[:, None] <= np.array([len(o) for o in outputs]))).sum(axis=0)


def test_the_beam_never_ends_less_probable_than_greedy_on_the_test_dates():
    m = load_checkpoint(DATA_DIR / "models" / "dates_small.npz")
    c = m.config
    test = TASKS[c.task].pairs(c.test_size, "test", c.seed)
    src, src_mask = m.src_vocab.encode([s for s, _ in test])
    greedy, _ = greedy_decode(c.cell, m.params, src, src_mask, m.max_target + 1)
    assert all(len(g) <= m.max_target for g in greedy)                # every greedy output ended
    greedy_scores = scores(c.cell, m.params, src, src_mask, greedy)
    lengths = src_mask.sum(axis=0).astype(int)
    beam = np.array([beam_search(c.cell, m.params, src[:n, b], 4, m.max_target + 1)[0].score
                     for b, n in enumerate(lengths)])
    assert (beam >= greedy_scores - 1e-9).all(), np.flatnonzero(beam < greedy_scores - 1e-9)
    assert (beam > greedy_scores + 1e-9).sum() >= 10                 # and the search does matter here
