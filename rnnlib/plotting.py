"""Figures for the book: schematic diagrams of the cells, drawn with matplotlib.

``draw_cell("gru")`` returns a figure showing how ``h_{t-1}`` and ``x_t`` flow through the
cell's gates to ``h_t``. Boxes are learned layers (a matrix product, a bias and a
nonlinearity); circles are element-wise operations.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

__all__ = ["draw_cell"]

# node name -> (x, y, kind, label); kind: "layer" (box), "op" (circle), "io" (plain text)
_LAYOUTS = {
    "rnn": {
        "nodes": {
            "h_in": (0.0, 2.0, "io", r"$h_{t-1}$"),
            "x": (2.0, 0.0, "io", r"$x_t$"),
            "g": (2.0, 2.0, "layer", r"$g(W_h[h, x] + b_h)$"),
            "h_out": (4.2, 2.0, "io", r"$h_t$"),
        },
        "edges": [("h_in", "g"), ("x", "g"), ("g", "h_out")],
    },
    "gru": {
        "nodes": {
            "h_in": (0.0, 3.0, "io", r"$h_{t-1}$"),
            "x": (2.9, 0.0, "io", r"$x_t$"),
            "r": (1.3, 1.2, "layer", r"$r = \sigma(W_r[h, x] + b_r)$"),
            "u": (4.6, 1.2, "layer", r"$u = \sigma(W_u[h, x] + b_u)$"),
            "rh": (0.8, 2.2, "op", r"$\times$"),
            "c": (2.9, 2.2, "layer", r"$c = \tanh(W_c[r h, x] + b_c)$"),
            "mix": (5.9, 3.0, "op", r"$+$"),
            "uc": (5.9, 2.2, "op", r"$u\,c$"),
            "keep": (4.6, 3.0, "op", r"$(1-u)h$"),
            "h_out": (7.0, 3.0, "io", r"$h_t$"),
        },
        "edges": [("h_in", "r"), ("x", "r"), ("h_in", "rh"), ("r", "rh"), ("rh", "c"), ("x", "c"),
                  ("x", "u"), ("h_in", "u"), ("c", "uc"), ("u", "uc"), ("u", "keep"),
                  ("h_in", "keep"), ("keep", "mix"), ("uc", "mix"), ("mix", "h_out")],
    },
    "mgu": {
        "nodes": {
            "h_in": (0.0, 3.0, "io", r"$h_{t-1}$"),
            "x": (2.9, 0.0, "io", r"$x_t$"),
            "f": (1.3, 1.2, "layer", r"$f = \sigma(W_f[h, x] + b_f)$"),
            "fh": (0.8, 2.2, "op", r"$\times$"),
            "c": (2.9, 2.2, "layer", r"$c = \tanh(W_h[f h, x] + b_h)$"),
            "fc": (5.9, 2.2, "op", r"$f\,c$"),
            "keep": (4.6, 3.0, "op", r"$(1-f)h$"),
            "mix": (5.9, 3.0, "op", r"$+$"),
            "h_out": (7.0, 3.0, "io", r"$h_t$"),
        },
        "edges": [("h_in", "f"), ("x", "f"), ("h_in", "fh"), ("f", "fh"), ("fh", "c"), ("x", "c"),
                  ("c", "fc"), ("f", "fc"), ("f", "keep"), ("h_in", "keep"), ("keep", "mix"),
                  ("fc", "mix"), ("mix", "h_out")],
    },
}


def draw_cell(cell, ax=None):
    """Draw a schematic of one step of ``cell`` ("rnn", "gru" or "mgu").

    Parameters
    ----------
    cell : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if cell not in _LAYOUTS:
        raise ValueError(f"cell must be one of {sorted(_LAYOUTS)}; got {cell!r}")
    layout = _LAYOUTS[cell]
    if ax is None:
        width = 5.5 if cell == "rnn" else 9.0
        _, ax = plt.subplots(figsize=(width, 3.2 if cell == "rnn" else 4.2))
    patches = {}
    for name, (x, y, kind, label) in layout["nodes"].items():
        if kind == "layer":
            w = 0.3 + 0.068 * len(label.replace("\\", "").replace("$", ""))
            p = FancyBboxPatch((x - w / 2, y - 0.22), w, 0.44, boxstyle="round,pad=0.05",
                               fc="#e8f0fb", ec="#2a5caa", lw=1.5, zorder=2)
        elif kind == "op":
            p = Circle((x, y), 0.34, fc="#fdf1e3", ec="#c0661b", lw=1.5, zorder=2)
        else:
            p = Circle((x, y), 0.28, fc="white", ec="none", zorder=2)
        ax.add_patch(p)
        patches[name] = p
        ax.text(x, y, label, ha="center", va="center", fontsize=9, zorder=3)
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
