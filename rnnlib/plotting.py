"""Figures for the book: schematic diagrams of the cells, drawn with matplotlib.

``draw_cell("gru")`` returns a figure showing how ``h_{t-1}`` and ``x_t`` flow through the
cell's gates to ``h_t``. Boxes are learned layers (a matrix product, a bias and a
nonlinearity); circles are element-wise operations.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

__all__ = ["draw_cell"]

# node name -> (x, y, kind, label); kind: "layer" (box), "op" (circle), "io" (plain text),
# "stack" (a plain box: vectors stacked into one). Optional: "size", the figure size in inches;
# "scale", the size of text and shapes relative to the other diagrams (default 1)
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
    # The LSTM: the cell state runs along the top (c_{t-1} -> times f -> plus i g -> c_t); all
    # four layers read the same stacked vector [h_{t-1}; x_t], drawn once on the left.
    "lstm": {
        "nodes": {
            "c_in": (0.0, 3.95, "io", r"$c_{t-1}$"),
            "h_in": (-1.0, 1.65, "io", r"$h_{t-1}$"),
            "x": (0.8, 0.0, "io", r"$x_t$"),
            "hx": (0.8, 1.65, "stack", r"$[h_{t-1}; x_t]$"),
            "f": (3.9, 2.85, "layer", r"$f = \sigma(W_f[h, x] + b_f)$"),
            "i": (3.9, 2.05, "layer", r"$i = \sigma(W_i[h, x] + b_i)$"),
            "g": (3.9, 1.25, "layer", r"$g = \tanh(W_c[h, x] + b_c)$"),
            "o": (3.9, 0.45, "layer", r"$o = \sigma(W_o[h, x] + b_o)$"),
            "fc": (3.9, 3.95, "op", r"$f\,c$"),
            "ig": (6.3, 1.65, "op", r"$i\,g$"),
            "add": (6.3, 3.95, "op", r"$+$"),
            "c_out": (8.9, 3.95, "io", r"$c_t$"),
            "tanh": (7.7, 2.7, "op", r"$\tanh$"),
            "oh": (7.7, 0.45, "op", r"$\times$"),
            "h_out": (8.9, 0.45, "io", r"$h_t$"),
        },
        "edges": [("c_in", "fc"), ("f", "fc"), ("fc", "add"), ("i", "ig"), ("g", "ig"),
                  ("ig", "add"), ("add", "c_out"), ("add", "tanh"), ("tanh", "oh"), ("o", "oh"),
                  ("oh", "h_out"), ("h_in", "hx"), ("x", "hx"), ("hx", "f"), ("hx", "i"),
                  ("hx", "g"), ("hx", "o")],
        "size": (9.0, 4.8),
        "scale": 1.25,
    },
}


def draw_cell(cell, ax=None):
    """Draw a schematic of one step of ``cell`` ("rnn", "gru", "mgu" or "lstm").

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
        default = (5.5, 3.2) if cell == "rnn" else (9.0, 4.2)
        _, ax = plt.subplots(figsize=layout.get("size", default))
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
