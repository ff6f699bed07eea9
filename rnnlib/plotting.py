"""Figures for the book: schematic diagrams of the cells, drawn with matplotlib, and two helpers
for the chapters' plots.

``draw_cell("gru")`` returns a figure showing how ``h_{t-1}`` and ``x_t`` flow through the
cell's gates to ``h_t``. Boxes are learned layers (a matrix product, a bias and a
nonlinearity); circles are element-wise operations. ``label_levels`` names horizontal
reference lines in the margin beside the axes, where no line runs through the names, and
``plain_log_axis`` labels a logarithmic axis with plain numbers (5, 10, 20, not 2×10¹).
"""

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

from .cells import CELLS, get as get_cell

__all__ = ["draw_cell", "label_levels", "plain_log_axis"]

# A cell's diagram is its own (``Cell.diagram``), a dict: "nodes", node name -> (x, y, kind,
# label), kind "layer" (box), "op" (circle), "io" (plain text) or "stack" (a plain box: vectors
# stacked into one); "edges", (from, to) pairs. Optional: "size", the figure size in inches;
# "scale", the size of text and shapes relative to the other diagrams (default 1).


def draw_cell(cell, ax=None):
    """Draw a schematic of one step of ``cell`` (a name in ``rnnlib.CELLS`` whose ``Cell`` has a
    ``diagram``: every registered cell of rnnlib).

    Parameters
    ----------
    cell : str or Cell
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    layout = get_cell(cell).diagram
    if layout is None:
        drawn = [name for name, c in CELLS.items() if c.diagram is not None]
        raise ValueError(f"the {get_cell(cell).name} cell has no diagram; these have: {', '.join(drawn)}")
    if ax is None:
        _, ax = plt.subplots(figsize=layout.get("size", (9.0, 4.2)))
    patches = {}
    k = layout.get("scale", 1.0)
    for name, (x, y, kind, label) in layout["nodes"].items():
        w = k * (0.3 + 0.068 * len(label.replace("\\", "").replace("$", "")))
        if kind == "layer":
            p = FancyBboxPatch((x - w / 2, y - 0.22 * k), w, 0.44 * k, boxstyle=f"round,pad={0.05 * k}",
                               fc="#e8f0fb", ec="#2a5caa", lw=1.5, zorder=2)
        elif kind == "stack":
            p = FancyBboxPatch((x - w / 2, y - 0.2 * k), w, 0.4 * k, boxstyle=f"round,pad={0.04 * k}",
                               fc="white", ec="#888888", lw=1.0, zorder=2)
        elif kind == "op":
            p = Circle((x, y), 0.34 * k, fc="#fdf1e3", ec="#c0661b", lw=1.5, zorder=2)
        else:
            p = Circle((x, y), 0.28 * k, fc="white", ec="none", zorder=2)
        ax.add_patch(p)
        patches[name] = p
        ax.text(x, y, label, ha="center", va="center", fontsize=9 * k, zorder=3)
    for a, b in layout["edges"]:
        ax.add_patch(FancyArrowPatch(posA=layout["nodes"][a][:2], posB=layout["nodes"][b][:2],
                                     patchA=patches[a], patchB=patches[b], arrowstyle="-|>",
                                     mutation_scale=12, color="#555555", lw=1.1, zorder=1,
                                     connectionstyle="arc3,rad=0.0"))
    xs = [v[0] for v in layout["nodes"].values()]
    ys = [v[1] for v in layout["nodes"].values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    ax.set_aspect("equal")
    ax.set_xlabel("data flows left to right: previous state in, new state out")
    ax.set_ylabel("input enters from below")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.figure.tight_layout()
    return ax.figure


def label_levels(ax, levels, gap=9, **text):
    """Name horizontal lines (``ax.axhline``) in the margin right of the axes.

    ``levels`` maps a name to its line's height (data coordinates). The names stand just outside
    the axes, where the lines do not run, each at its line's height, or pushed apart to ``gap``
    points from its neighbour where two lines are closer than that. ``text`` goes to ``ax.text``.
    """
    ax.figure.canvas.draw()                                        # the axes' final transform
    to_points = ax.transData.transform
    from_points = ax.transData.inverted().transform
    ys = sorted((to_points((0, y))[1], name) for name, y in levels.items())
    step = gap * ax.figure.dpi / 72
    placed = []
    for y, name in ys:
        y = max(y, placed[-1][0] + step) if placed else y
        placed.append((y, name))
    for y, name in placed:
        ax.text(1.01, from_points((0, y))[1], name, transform=ax.get_yaxis_transform(), va="center",
                **{"fontsize": 8, "color": "gray", **text})


def plain_log_axis(axis, ticks):
    """Label a logarithmic ``axis`` (``ax.yaxis``) at ``ticks`` with plain numbers, and no minor labels."""
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_formatter(NullFormatter())
