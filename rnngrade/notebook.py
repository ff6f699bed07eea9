"""Reading a submitted notebook as untrusted data, for the runner and the pipeline alike.

A submission is whatever file the student handed in. ``read_notebook`` accepts it only if it
is a version-4 Jupyter notebook at the top (an object with a list of cells) and raises
``NotebookError``, with a message for the student, otherwise. Below the top anything may still
be malformed; ``nbgrader_meta`` and ``cell_source`` read a cell without ever raising (a field
of the wrong type counts as absent), ``cell_outputs`` takes what the feedback may show of a
cell's outputs (text and pictures only), and ``problems`` says in plain words what was
malformed, for the student's feedback.
"""

import json
import pathlib
import re

import nbformat

MAX_NOTEBOOK_BYTES = 20 << 20
MAX_DEPTH = 64            # a notebook nests about 8 deep; the grader serialises it again, which
                          # fails near Python's recursion limit (about 1000 levels)
MAX_PROBLEMS = 8          # problems named one by one; the rest are counted
CELL_TYPES = ("code", "markdown", "raw")

# the nbgrader fields the grader reads, with the type each must have
NBGRADER_FIELDS = {"grade_id": str, "grade": bool, "solution": bool}


class NotebookError(ValueError):
    """The submitted file is not a gradable notebook (the message says why, for the student)."""


def kind(value):
    """What a JSON value is, in plain words ("a string", "a list", ...)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    for types, words in ((dict, "an object"), (list, "a list"), (str, "a string"), ((int, float), "a number")):
        if isinstance(value, types):
            return words
    return f"a {type(value).__name__}"


def _integer(text):
    """A JSON integer; beyond Python's limit on the digits ``int()`` reads (valid JSON all the
    same), a float (``inf`` past 308 digits)."""
    return int(text) if len(text) <= 4000 else float(text)


def _depth_exceeds(value, limit):
    """Whether ``value`` nests objects and lists more than ``limit`` deep (without recursion)."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, (dict, list)))
    return False


def _not_a_notebook(nb):
    """Why the parsed JSON ``nb`` is not a version-4 notebook at the top, or "" if it is one."""
    if not isinstance(nb, dict):
        return f"it is {kind(nb)}, expected an object with a list of cells"
    if "cells" not in nb:
        return "it has no list of cells"
    if not isinstance(nb["cells"], list):
        return f"its cells are {kind(nb['cells'])}, expected a list"
    if nb.get("nbformat") != 4:
        found = f"nbformat {nb['nbformat']!r}" if "nbformat" in nb else "no nbformat version"
        return f"it has {found[:40]}, expected nbformat 4 (save it again with a current Jupyter)"
    if _depth_exceeds(nb, MAX_DEPTH):
        return f"it is nested more than {MAX_DEPTH} levels deep"
    return ""


def read_notebook(path):
    """Parse the submitted notebook at ``path`` as untrusted data; return its dict or raise
    NotebookError saying what is wrong with the file."""
    path = pathlib.Path(path)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise NotebookError(f"{path.name} is not a regular file")
    if not path.exists():
        raise NotebookError(f"{path.name} is missing from the submission")
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path.name} is {size / 2**20:.0f} MiB; the limit is {MAX_NOTEBOOK_BYTES >> 20} MiB")
    data = path.read_bytes()
    if not data.strip():
        raise NotebookError(f"{path.name} is empty: expected a Jupyter notebook")
    try:  # utf-8-sig: tolerates the byte-order mark some editors add
        nb = json.loads(data.decode("utf-8-sig"), parse_int=_integer)
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise NotebookError(f"{path.name} is nested too deeply to be a notebook") from None
    why = _not_a_notebook(nb)
    if why:
        raise NotebookError(f"{path.name} is not a version-4 Jupyter notebook: {why}")
    return nb


def _valid_text(text):
    """``text`` with lone surrogates (valid in JSON, not in UTF-8) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def nbgrader_meta(cell):
    """The nbgrader fields the grader reads (``grade_id``, ``grade``, ``solution``) of ``cell``.

    Never raises: a cell, metadata or nbgrader entry that is not an object gives ``{}``, and a
    field of the wrong type is left out, as if absent (``problems`` names it).
    """
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    if not isinstance(nbgrader, dict):
        return {}
    return {k: v for k, v in nbgrader.items() if k in NBGRADER_FIELDS and isinstance(v, NBGRADER_FIELDS[k])}


def _raw_source(cell):
    src = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    return src


def cell_source(cell):
    """The source text of ``cell``; "" when it is not a string or a list of strings. Never raises."""
    src = _raw_source(cell)
    return _valid_text(src) if isinstance(src, str) else ""


#: What of a cell's outputs the feedback shows: text (streams, text/plain results and errors) and
#: PNG pictures; never HTML or JavaScript, which the student's notebook could fill with anything.
SHOWN_OUTPUT_CHARS = 5000
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")


def _text(value):
    text = "".join(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else value
    if not isinstance(text, str):
        return None
    text = _valid_text(text)
    return text if len(text) <= SHOWN_OUTPUT_CHARS else text[:SHOWN_OUTPUT_CHARS] + "\n... (cut)\n"


def cell_outputs(cell):
    """The outputs of ``cell`` that the feedback may show, as fresh nbformat outputs: streams,
    results and displays as their ``text/plain`` (and a ``image/png`` of valid base64), errors as
    their name, value and traceback text; each text cut at SHOWN_OUTPUT_CHARS. Anything else,
    and anything malformed, is left out. Never raises."""
    outputs = cell.get("outputs") if isinstance(cell, dict) else None
    shown = []
    for out in outputs if isinstance(outputs, list) else []:
        kind = out.get("output_type") if isinstance(out, dict) else None
        if kind == "stream" and out.get("name") in ("stdout", "stderr") and _text(out.get("text")) is not None:
            shown.append(nbformat.v4.new_output("stream", name=out["name"], text=_text(out["text"])))
        elif kind in ("execute_result", "display_data") and isinstance(out.get("data"), dict):
            data = {}
            if _text(out["data"].get("text/plain")) is not None:
                data["text/plain"] = _text(out["data"]["text/plain"])
            png = out["data"].get("image/png")
            if isinstance(png, str) and len(png) < (4 << 20) and _BASE64.match(png):
                data["image/png"] = png
            if data:
                shown.append(nbformat.v4.new_output("display_data", data=data))
        elif kind == "error":
            tb = out.get("traceback")
            lines = [t for t in (_text(x) for x in tb) if t is not None] if isinstance(tb, list) else []
            shown.append(nbformat.v4.new_output("error", ename=_text(out.get("ename")) or "Error",
                                                evalue=_text(out.get("evalue")) or "", traceback=lines[-20:]))
    return shown


def _cell_problems(cell):
    """What is malformed in one cell, as phrases completing "cell N: ..."."""
    if not isinstance(cell, dict):
        return [f"it is {kind(cell)}, expected an object (the cell was ignored)"]
    out = []
    ctype = cell.get("cell_type")
    if ctype not in CELL_TYPES:
        shown = "it has no cell_type" if "cell_type" not in cell else (
            f"its cell_type is {ctype!r}"[:60] if isinstance(ctype, str) else f"its cell_type is {kind(ctype)}")
        out.append(f"{shown}, expected code, markdown or raw (the cell was not run)")
    meta = cell.get("metadata", {})
    nbgrader = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    if not isinstance(meta, dict):
        out.append(f"its metadata is {kind(meta)}, expected an object (ignored)")
    elif not isinstance(nbgrader, dict):
        out.append(f"its nbgrader metadata is {kind(nbgrader)}, expected an object (ignored: "
                   f"the cell counts as an ordinary cell)")
    else:
        for field, types in NBGRADER_FIELDS.items():
            if field in nbgrader and not isinstance(nbgrader[field], types):
                expected = "a string" if types is str else "true or false"
                out.append(f"its nbgrader {field} is {kind(nbgrader[field])}, expected {expected} (ignored)")
    src = _raw_source(cell)
    if not isinstance(src, str):
        what = "a list with items that are not strings" if isinstance(src, list) else kind(src)
        out.append(f"its source is {what}, expected text: a string or a list of strings "
                   f"(the cell counts as empty)")
    elif _valid_text(src) is not src:
        out.append("its source has characters that are not valid Unicode (lone surrogates), "
                   "replaced by \N{REPLACEMENT CHARACTER}")
    if ctype == "code" and "outputs" in cell and not isinstance(cell["outputs"], list):
        out.append(f"its outputs are {kind(cell['outputs'])}, expected a list (ignored)")
    return out


def problems(nb):
    """Plain-words notes on every malformed cell of ``nb`` (a dict that ``read_notebook``
    accepted), for the log and the feedback; empty for a well-formed notebook."""
    found = [f"cell {i + 1}: {p}" for i, cell in enumerate(nb["cells"]) for p in _cell_problems(cell)]
    if len(found) > MAX_PROBLEMS:
        found[MAX_PROBLEMS - 1:] = [f"and {len(found) - MAX_PROBLEMS + 1} more problems with cells"]
    return found
