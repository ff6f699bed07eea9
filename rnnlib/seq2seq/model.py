"""An encoder-decoder with additive attention, any cell, forward and backward by hand.

The encoder reads the source, the decoder writes the target one token at a time::

    Hs, (f_T, b_0)  = encoder(E_src[:, src])          bidirectional layers (rnnlib.deep_forward):
                                                       Hs (T_src, 2H, B), the top layer's final states
    s_0     = tanh(W_s [f_T; b_0] + b_s)               the decoder's first state (H_dec, B); an LSTM's
                                                       c_0 is zero
    for t = 0 .. T_tgt - 1:
        c_t    = attention(s_t, Hs, mask)              (2H, B): rnnlib.attention
        s_t+1  = cell([E_tgt[:, y_t]; c_t], s_t)       the previous token's embedding joined with c_t
        z_t    = W_y s_t+1 + b_y                       logits (V_tgt, B)

In training the decoder reads the target itself, shifted right (``y_0`` = ``<bos>``): teacher
forcing. The loss is the masked softmax cross-entropy of ``rnnlib.losses``.

Without attention (``attention=False`` in ``init_seq2seq``, the model of Cho et al. 2014 and
d2l's ``Seq2SeqDecoder``), ``c_t`` is the same summary ``[f_T; b_0]`` at every step: everything
the decoder knows of the source must pass through those ``2H`` numbers.

**Padding.** A batch's sources may differ in length (``src_mask``, 1 on the real positions,
padding at the end). The encoder runs each length's columns as their own group, so no cell ever
reads a pad (PyTorch's packed sequences do the same), the backward direction starts at each
source's last real character, and the final states are those after the real characters.
Attention gives the padded positions weight 0. Batches of one length (``rnnlib.seq2seq.data``
makes them) run as one group.

Parameters are a dict, as the language model's: ``E_src`` (D, V_src), ``E_tgt`` (D, V_tgt); the
encoder's ``<w>_enc<l>_f`` and ``<w>_enc<l>_b`` for each weight name ``w`` of the cell and each
layer ``l``; ``W_s`` (H_dec, 2H), ``b_s`` (H_dec, 1); with attention ``W_a`` (A, H_dec), ``U_a``
(A, 2H), ``v_a`` (A, 1); the decoder's ``<w>_dec`` (reading D + 2H inputs); ``W_y`` (V_tgt,
H_dec), ``b_y`` (V_tgt, 1). Every size is read off these shapes.
"""

from dataclasses import dataclass

import numpy as np

from .. import attention as att
from .._checks import check_ids
from ..bptt import backward, forward
from ..cells import get as get_cell
from ..cells.layout import glorot
from ..cells.rnn import TRAINED_ACTIVATION
from ..deep import deep_backward, deep_forward
from ..init import init_readout, init_weights
from ..losses import readout_backward, readout_forward, softmax_cross_entropy
from ..threads import limited

__all__ = ["init_seq2seq", "encode", "encode_backward", "decoder_step", "decoder_step_backward",
           "initial_state", "seq2seq_forward", "seq2seq_backward", "seq2seq_loss_and_grads", "Model"]


@dataclass(frozen=True)
class Model:
    """A model's cell and its sizes, all read off the parameters (``Model.of``)."""

    cell: str
    layers: int
    embed: int          # D
    hidden: int         # H, each direction of the encoder
    dec_hidden: int     # H_dec
    attention: bool
    V_src: int
    V_tgt: int

    @classmethod
    def of(cls, cell, params):
        spec = get_cell(cell)
        first = spec.weight_names[0]
        layers = 0
        while f"{first}_enc{layers}_f" in params:
            layers += 1
        missing = [n for n in ("E_src", "E_tgt", "W_s", "b_s", "W_y", "b_y", f"{first}_dec") if n not in params]
        if layers == 0 or missing:
            raise ValueError(f"params is not an encoder-decoder of {spec.name} cells: it lacks "
                             f"{missing or [first + '_enc0_f']} (rnnlib.seq2seq.init_seq2seq makes one)")
        D, V_src = params["E_src"].shape
        return cls(spec.name, layers, D, params["W_s"].shape[1] // 2, params["W_s"].shape[0],
                   "W_a" in params, V_src, params["E_tgt"].shape[1])

    @property
    def spec(self):
        """The cell (``rnnlib.cells.Cell``)."""
        return get_cell(self.cell)

    def step_work(self, B):
        """Multiply-adds of one decoder step's cell over ``B`` columns: what decides the BLAS
        threads of a whole pass (``rnnlib.threads``; the loops inside choose their own)."""
        return self.spec.step_work(self.embed + 2 * self.hidden, self.dec_hidden, B)

    def encoder_layers(self, params):
        names = self.spec.weight_names
        return [tuple(tuple(params[f"{w}_enc{l}_{d}"] for w in names) for d in "fb") for l in range(self.layers)]

    def decoder_weights(self, params):
        return tuple(params[f"{w}_dec"] for w in self.spec.weight_names)


def init_seq2seq(cell, V_src, V_tgt, embed=32, hidden=64, dec_hidden=None, attention_size=None, layers=1,
                 attention=True, seed=0, dtype=np.float64):
    """Initial parameters of an encoder-decoder.

    Parameters
    ----------
    cell : {"rnn", "gru", "mgu", "lstm", "mingru", "minlstm"}
        The cell of the encoder and the decoder.
    V_src, V_tgt : int
        The two vocabularies' sizes (``len(Vocab)``).
    embed : int
        D, both embeddings' size.
    hidden : int
        H, each encoder direction's; the encoder's outputs have 2H rows.
    dec_hidden : int, optional
        H_dec (default 2H).
    attention_size : int, optional
        A, the attention's inner size (default H_dec).
    layers : int
        Bidirectional encoder layers.
    attention : bool
        False for the model without attention (the summary at every step).

    Returns
    -------
    dict of str -> ndarray (the names are the module docstring's)
    """
    for name, v in (("V_src", V_src), ("V_tgt", V_tgt), ("embed", embed), ("hidden", hidden), ("layers", layers)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer; got {v!r}")
    spec = get_cell(cell)
    H_dec = 2 * hidden if dec_hidden is None else dec_hidden
    A = H_dec if attention_size is None else attention_size
    rng = np.random.default_rng([seed, 23])
    params = {"E_src": rng.standard_normal((embed, V_src)), "E_tgt": rng.standard_normal((embed, V_tgt))}
    for l in range(layers):
        for d in "fb":
            w = init_weights(spec, embed if l == 0 else 2 * hidden, hidden, int(rng.integers(2**31)))
            params.update({f"{n}_enc{l}_{d}": v for n, v in zip(spec.weight_names, w)})
    params["W_s"], params["b_s"] = glorot((H_dec, 2 * hidden), rng), np.zeros((H_dec, 1))
    if attention:
        params.update(W_a=glorot((A, H_dec), rng), U_a=glorot((A, 2 * hidden), rng), v_a=glorot((A, 1), rng))
    w = init_weights(spec, embed + 2 * hidden, H_dec, int(rng.integers(2**31)))
    params.update({f"{n}_dec": v for n, v in zip(spec.weight_names, w)})
    params["W_y"], params["b_y"] = init_readout(H_dec, V_tgt, int(rng.integers(2**31)))
    return {k: v.astype(dtype) for k, v in params.items()}


def _lengths(mask):
    """The lengths of a prefix mask (T, B): ones, then zeros."""
    mask = np.asarray(mask)
    lengths = mask.sum(axis=0).astype(int)
    if mask.ndim != 2 or not np.array_equal(mask, np.arange(mask.shape[0])[:, None] < lengths):
        raise ValueError("src_mask must be (T_src, B), each column ones then zeros (padding at the end)")
    if (lengths == 0).any():
        raise ValueError(f"source column {int(np.argmin(lengths))} is empty: every source needs a character")
    return lengths


def encode(model, params, src, src_mask):
    """The encoder over a batch of sources.

    Parameters
    ----------
    model : Model
    params : dict
    src : int ndarray (T_src, B)
    src_mask : ndarray (T_src, B), 1 on the real positions (padding at the end)

    Returns
    -------
    Hs : ndarray (T_src, 2H, B)
        The top layer's outputs, zero on the padding.
    summary : ndarray (2H, B)
        ``[f_T; b_0]``: the top layer's forward state after the last real character, and its
        backward state after the first.
    cache : for ``encode_backward``
    """
    lengths = _lengths(src_mask)
    E = params["E_src"]
    layers = model.encoder_layers(params)
    T, B = src.shape
    Hs = np.zeros((T, 2 * model.hidden, B), E.dtype)
    summary = np.empty((2 * model.hidden, B), E.dtype)
    spec, groups = model.spec, []
    for n in np.unique(lengths):                          # one group per source length
        cols = np.flatnonzero(lengths == n)
        Y, cache = deep_forward(model.cell, layers, E[:, src[:n, cols]].transpose(1, 0, 2),
                                bidirectional=True, activation=TRAINED_ACTIVATION)
        Hs[:n, :, cols] = Y
        summary[:, cols] = np.concatenate([spec.unpack_state(s)[0] for s in cache.final_states[-1]])
        groups.append((n, cols, cache))
    return Hs, summary, (src, groups)


def encode_backward(model, params, dHs, dsummary, cache, grads):
    """``encode``'s backward: adds the encoder's and ``E_src``'s gradients into ``grads``."""
    src, groups = cache
    spec = model.spec
    H = model.hidden
    dE = grads["E_src"]
    for n, cols, c in groups:
        # the summary's gradient enters the top layer's final states (an LSTM's c gets none)
        zero = np.zeros((H, len(cols)), dHs.dtype)
        d_final = tuple(spec.pack_state((dsummary[k * H:(k + 1) * H, cols],) + (zero,) * (len(spec.state_names) - 1))
                        for k in range(2))
        dlayers, dX, _ = deep_backward(dHs[:n, :, cols], c, [None] * (model.layers - 1) + [d_final])
        for l, pair in enumerate(dlayers):
            for d, dw in zip("fb", pair):
                for name, g in zip(spec.weight_names, dw):
                    grads[f"{name}_enc{l}_{d}"] += g
        np.add.at(dE.T, src[:n, cols].ravel(), dX.transpose(0, 2, 1).reshape(-1, dX.shape[1]))


def initial_state(model, params, summary):
    """The decoder's first state from the summary (2H, B): ``h = tanh(W_s summary + b_s)``, an
    LSTM's ``c`` zero."""
    h = np.tanh(params["W_s"] @ summary + params["b_s"])
    spec = model.spec
    return spec.pack_state((h,) + tuple(np.zeros_like(h) for _ in spec.state_names[1:]))


def decoder_step(model, params, y_prev, state, Hs, mask, summary=None, K=None):
    """One step of the decoder: attend, read, write.

    Parameters
    ----------
    model : Model
    params : dict
    y_prev : int ndarray (B,)
        The previous token of each column (``<bos>`` first).
    state : the decoder's state, (H_dec, B), or an LSTM's pair
    Hs : ndarray (T_src, 2H, B)
    mask : bool ndarray (T_src, B)
    summary : ndarray (2H, B)
        The context of a model without attention (ignored with attention).
    K : ndarray (T_src, A, B), optional
        The attention's keys ``U_a Hs`` (``rnnlib.attention.keys``), computed once per source.

    Returns
    -------
    logits : ndarray (V_tgt, B)
    state : the new state
    alpha : ndarray (T_src, B), or None without attention
    cache : for ``decoder_step_backward``
    """
    spec = model.spec
    s = spec.unpack_state(state)[0]
    if model.attention:
        if K is None:
            K = att.keys(Hs, params["U_a"])
        context, alpha, a_cache = att.attend(s, K, Hs, mask, params["W_a"], params["v_a"])
    else:
        context, alpha, a_cache = summary, None, None
    x = np.concatenate([params["E_tgt"][:, y_prev], context])             # (D + 2H, B)
    hs, c_cache = forward(spec, model.decoder_weights(params), x[None], state, TRAINED_ACTIVATION)
    logits, r_cache = readout_forward(hs[0], params["W_y"], params["b_y"])
    return logits, c_cache.final_state, alpha, (y_prev, a_cache, c_cache, r_cache)


def decoder_step_backward(model, params, dlogits, dstate, cache, grads):
    """One step's backward. ``dstate``: the gradient of the state this step wrote (None: none).

    Adds the step's weight gradients into ``grads``; returns the gradient of the state it read,
    the gradient of its context (for a model without attention, the summary's share), and the
    attention's key gradient ``dK`` (T_src, A, B) and direct ``dHs`` (None without attention).
    """
    y_prev, a_cache, c_cache, r_cache = cache
    spec = model.spec
    dh, dW_y, db_y = readout_backward(dlogits, r_cache)
    grads["W_y"] += dW_y
    grads["b_y"] += db_y
    dw, dx, dstate_prev = backward(dh[None], c_cache, dstate)
    for name, g in zip(spec.weight_names, dw):
        grads[f"{name}_dec"] += g
    D = model.embed
    np.add.at(grads["E_tgt"].T, y_prev, dx[0, :D].T)
    dcontext = dx[0, D:]
    if not model.attention:
        return dstate_prev, dcontext, None, None
    ds, dK, dHs, dW_a, dv_a = att.attend_backward(dcontext, a_cache)
    grads["W_a"] += dW_a
    grads["v_a"] += dv_a
    parts = spec.unpack_state(dstate_prev)
    return spec.pack_state((parts[0] + ds,) + tuple(parts[1:])), None, dK, dHs


def seq2seq_forward(cell, params, src, src_mask, tgt_in):
    """The whole model, teacher-forced.

    Parameters
    ----------
    cell : str
    params : dict
    src : int ndarray (T_src, B)
    src_mask : ndarray (T_src, B)
    tgt_in : int ndarray (T_tgt, B)
        The decoder's inputs: ``<bos>`` then the target without its ``<eos>``.

    Returns
    -------
    logits : ndarray (T_tgt, V_tgt, B)
    alphas : ndarray (T_tgt, T_src, B), or None without attention
    cache : for ``seq2seq_backward``
    """
    model = Model.of(cell, params)
    src = check_ids(src, model.V_src, "src", "source ids", "E_src.shape[1]")
    tgt_in = check_ids(tgt_in, model.V_tgt, "tgt_in", "target ids", "E_tgt.shape[1]")
    if src.shape[1] != tgt_in.shape[1]:
        raise ValueError(f"src has {src.shape[1]} columns and tgt_in {tgt_in.shape[1]}: one per example in both")
    # the attention's products too run on the threads that pay, not on every core (a core
    # another process holds would make them wait: rnnlib.threads)
    with limited(model.step_work(src.shape[1])):
        Hs, summary, enc_cache = encode(model, params, src, src_mask)
        mask = np.asarray(src_mask).astype(bool)
        K = att.keys(Hs, params["U_a"]) if model.attention else None
        state = initial_state(model, params, summary)
        logits, alphas, steps = [], [], []
        for y in tgt_in:
            z, state, alpha, c = decoder_step(model, params, y, state, Hs, mask, summary, K)
            logits.append(z)
            alphas.append(alpha)
            steps.append(c)
    alphas = np.stack(alphas) if model.attention else None
    return np.stack(logits), alphas, (model, summary, Hs, enc_cache, steps)


def seq2seq_backward(dlogits, params, cache):
    """Gradients of every parameter (a dict like ``params``) from ``dlogits`` (T_tgt, V_tgt, B)."""
    model, summary, Hs, enc_cache, steps = cache
    with limited(model.step_work(Hs.shape[2])):          # as in seq2seq_forward
        return _backward(model, params, dlogits, summary, Hs, enc_cache, steps)


def _backward(model, params, dlogits, summary, Hs, enc_cache, steps):
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dHs, dsummary = np.zeros_like(Hs), np.zeros_like(summary)
    dK = np.zeros((Hs.shape[0], params["U_a"].shape[0], Hs.shape[2]), Hs.dtype) if model.attention else None
    dstate = None
    for t in reversed(range(len(steps))):
        dstate, dcontext, dK_t, dHs_t = decoder_step_backward(model, params, dlogits[t], dstate, steps[t], grads)
        if model.attention:
            dK += dK_t
            dHs += dHs_t
        else:
            dsummary += dcontext
    # the first state: h = tanh(W_s summary + b_s)
    h0 = np.tanh(params["W_s"] @ summary + params["b_s"])
    dpre = model.spec.unpack_state(dstate)[0] * (1 - h0 * h0)
    grads["W_s"] += dpre @ summary.T
    grads["b_s"] += dpre.sum(axis=1, keepdims=True)
    dsummary += params["W_s"].T @ dpre
    if model.attention:
        dHs_k, dU_a = att.keys_backward(dK, Hs, params["U_a"])
        dHs += dHs_k
        grads["U_a"] += dU_a
    encode_backward(model, params, dHs, dsummary, enc_cache, grads)
    return grads


def seq2seq_loss_and_grads(cell, params, src, src_mask, tgt_in, tgt_out, tgt_mask):
    """The mean cross-entropy per real target token, and every parameter's gradient.

    ``src``/``src_mask`` (T_src, B); ``tgt_in`` (T_tgt, B) the decoder's inputs (``<bos>`` first),
    ``tgt_out`` (T_tgt, B) the tokens it should write (``<eos>`` last), ``tgt_mask`` (T_tgt, B)
    1 where ``tgt_out`` is real. Returns ``(loss, grads, alphas)``.
    """
    logits, alphas, cache = seq2seq_forward(cell, params, src, src_mask, tgt_in)
    loss, dlogits = softmax_cross_entropy(logits, tgt_out, tgt_mask)
    return loss, seq2seq_backward(dlogits, params, cache), alphas

