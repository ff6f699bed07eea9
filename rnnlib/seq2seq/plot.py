"""Heat maps of attention: which source characters the decoder read while writing each output
character.

``plot_attention`` draws one translation on a given Axes; ``save_attention`` writes several to
an image file, one above the other. Neither needs a display: ``save_attention`` draws on a
``matplotlib.figure.Figure`` of its own, never through pyplot.
"""

import os

import numpy as np
from matplotlib.figure import Figure

from ..files import write_atomically

__all__ = ["plot_attention", "save_attention", "SPACE"]

#: how a space is shown among the tick labels
SPACE = "␣"
CMAP = "Blues"
INCH_PER_CHAR = 0.22


def _rows(alphas, output):
    """The row labels: the output's characters (or labels), then ``<eos>`` if a row is left for it."""
    labels = list(output)
    if alphas.ndim != 2 or len(alphas) not in (len(labels), len(labels) + 1):
        raise ValueError(f"alphas has shape {alphas.shape}: expected one row per output character "
                         f"({len(labels)}), and one for <eos> if it was written")
    return labels + ["<eos>"] * (len(alphas) - len(labels))


def plot_attention(ax, alphas, source, output):
    """Draw the attention of one translation as a heat map.

    Parameters
    ----------
    ax : matplotlib Axes
    alphas : array (len(output) + 1, len(source))
        Row ``i`` the attention while writing output character ``i``, the last row ``<eos>``'s
        (a translation stopped at its length limit has no ``<eos>`` row).
    source : str
        Its characters label the columns (a space shown as ``␣``).
    output : str or list of str
        Its characters (or the given labels) label the rows.

    Returns
    -------
    matplotlib.image.AxesImage
    """
    alphas = np.asarray(alphas, dtype=float)
    rows = _rows(alphas, output)
    if alphas.shape[1] != len(source):
        raise ValueError(f"alphas has {alphas.shape[1]} columns for a source of {len(source)} characters")
    image = ax.imshow(alphas, cmap=CMAP, vmin=0, vmax=1, aspect="equal", interpolation="nearest")
    ax.set_xticks(range(len(source)), [SPACE if c == " " else c for c in source], fontsize=8)
    ax.set_yticks(range(len(rows)), [SPACE if c == " " else c for c in rows], fontsize=8)
    ax.xaxis.tick_top()                          # read the source above, as it is written
    ax.tick_params(length=0, pad=2)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return image


def save_attention(path, items):
    """Write the heat maps of several translations to an image file, one subplot each, in a column.

    Parameters
    ----------
    path : str or Path
        The image's format is its extension's (``.png``, ``.pdf``, ``.svg`` ...). Written
        atomically: a temporary file in the same directory, renamed when complete.
    items : list of (source, output, alphas)
        As ``plot_attention`` takes them.
    """
    if not items:
        raise ValueError("save_attention needs at least one (source, output, alphas)")
    width = max(len(source) for source, _, _ in items)
    heights = [len(_rows(np.asarray(alphas), output)) for _, output, alphas in items]
    fig = Figure(figsize=(1.0 + INCH_PER_CHAR * width, 0.3 + sum(INCH_PER_CHAR * h + 0.45 for h in heights)),
                 layout="constrained")
    axes = fig.subplots(len(items), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, (source, output, alphas) in zip(axes, items):
        plot_attention(ax, alphas, source, output)
    suffix = os.path.splitext(str(path))[1]
    write_atomically(path, lambda f: fig.savefig(f, format=suffix[1:] or None, dpi=150), ".attention-",
                     suffix + ".part")
