"""Character n-gram models: the baselines a recurrent language model has to beat.

An order-n model predicts a character from the n - 1 before it, by counting. Counts alone give
zero probability to every context-character pair the training text never showed, and a single
zero makes the held-out perplexity infinite, so the estimate is smoothed: each order is
interpolated with the order below it, down to the uniform distribution::

    P_1(c)     = (N(c) + alpha / V) / (N + alpha)
    P_n(c | s) = (N(s, c) + alpha * P_{n-1}(c | s')) / (N(s) + alpha)

where ``s`` is the context of n - 1 characters, ``s'`` its last n - 2, and ``N`` counts in the
training text. A context seen often trusts its own counts; a rare one leans on the shorter
context. (This is additive smoothing with a Dirichlet prior centred on the lower order, MacKay
and Peto 1995.) ``alpha`` is chosen on the validation text, never on the test text.
"""

import numpy as np

__all__ = ["NGram", "fit_alpha"]


def _codes(ids, n, V):
    """For every position p >= n - 1, the integer code of ids[p - n + 1 : p + 1] in base V."""
    code = np.zeros(len(ids) - n + 1, dtype=np.int64)
    for j in range(n):
        code = code * V + ids[j:len(ids) - n + 1 + j]
    return code


class NGram:
    """A smoothed character n-gram model.

    Parameters
    ----------
    order : int >= 1
        1 predicts from nothing (character frequencies), 2 from the previous character, ...
    V : int
        Vocabulary size.
    alpha : float > 0
        Strength of the pull towards the lower order.
    """

    def __init__(self, order, V, alpha=1.0):
        if not (isinstance(order, int) and order >= 1) or V < 1 or alpha <= 0:
            raise ValueError(f"need order >= 1, V >= 1 and alpha > 0; got {order}, {V}, {alpha}")
        self.order, self.V, self.alpha = order, V, alpha
        self.joint = self.context = None

    def fit(self, ids):
        """Count every k-gram, k = 1 .. order, in the training ids (int array (N,))."""
        ids = np.asarray(ids, dtype=np.int64)
        self.joint, self.context = [], []
        for k in range(1, self.order + 1):
            codes = _codes(ids, k, self.V)
            self.joint.append(np.unique(codes, return_counts=True))          # N(s, c)
            self.context.append(np.unique(codes // self.V, return_counts=True))  # N(s) = sum_c N(s, c)
        return self

    @staticmethod
    def _lookup(table, codes):
        keys, n = table
        at = np.minimum(np.searchsorted(keys, codes), len(keys) - 1)
        return np.where(keys[at] == codes, n[at], 0)

    def prob(self, ids):
        """``P(ids[p] | the order - 1 before it)`` for every p >= order - 1: float array."""
        if self.joint is None:
            raise ValueError("fit the model on training ids first")
        ids = np.asarray(ids, dtype=np.int64)
        n = self.order
        p = np.full(len(ids) - n + 1, 1.0 / self.V)
        for k in range(1, n + 1):
            codes = _codes(ids[n - k:], k, self.V)            # each position's last k characters
            joint = self._lookup(self.joint[k - 1], codes)
            context = self._lookup(self.context[k - 1], codes // self.V)
            p = (joint + self.alpha * p) / (context + self.alpha)
        return p

    def perplexity(self, ids):
        """``exp(mean -log P)`` over the held-out ids, each predicted from its own context."""
        return float(np.exp(-np.mean(np.log(self.prob(ids)))))


def fit_alpha(order, V, train_ids, valid_ids, alphas=np.geomspace(0.01, 100, 41)):
    """The model of this order whose ``alpha`` (from ``alphas``) gives the lowest validation
    perplexity: ``(model, validation perplexity)``."""
    model = NGram(order, V).fit(train_ids)
    best = None
    for a in alphas:
        model.alpha = float(a)
        ppl = model.perplexity(valid_ids)
        if best is None or ppl < best[1]:
            best = (float(a), ppl)
    model.alpha = best[0]
    return model, best[1]
