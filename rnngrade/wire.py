"""Plain-data encoding between the grader and the process that runs a submission.

Only JSON crosses the boundary: numbers, strings, lists and dicts, with numpy arrays written as
``{"__nd__": [dtype, shape, base64 of the raw little-endian bytes]}``, tuples as
``{"__tuple__": [...]}``. The grader decodes what comes back with ``decode`` into fresh numpy
arrays of its own, so nothing the submission's objects claim about themselves (a shape that
equals anything, a comparison that always agrees) survives the crossing.

This module is copied into the sandbox next to the harness; it imports nothing but the standard
library and numpy.
"""

import base64
import json

import numpy as np

#: dtypes allowed to cross (anything else is reported, not decoded)
_DTYPES = {"float64", "float32", "float16", "int64", "int32", "bool", "complex128"}
MAX_ELEMENTS = 2_000_000


class WireError(ValueError):
    """Data that cannot be decoded (wrong form, unknown dtype, too large)."""


def encode(obj):
    """Turn arrays, tuples, lists, dicts and scalars into JSON-able plain data.

    Objects that are not one of these (including subclasses of ndarray) become
    ``{"__object__": "<type name>"}`` so that the other side can say what it got.
    """
    if type(obj) is np.ndarray:  # noqa: E721 (exact type on purpose)
        arr = np.ascontiguousarray(obj)
        if arr.dtype.name not in _DTYPES:
            return {"__object__": f"ndarray of dtype {arr.dtype}"}
        return {"__nd__": [arr.dtype.name, list(arr.shape),
                           base64.b64encode(arr.astype(arr.dtype.newbyteorder("<")).tobytes()).decode()]}
    if type(obj) is tuple:
        return {"__tuple__": [encode(o) for o in obj]}
    if type(obj) is list:
        return [encode(o) for o in obj]
    if type(obj) is dict:
        return {"__dict__": [[str(k), encode(v)] for k, v in obj.items()]}
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if isinstance(obj, np.generic) and type(obj).__module__ == "numpy":
        return encode(np.asarray(obj))
    return {"__object__": type(obj).__name__}


class Foreign:
    """Stands for an object the submission returned that is not plain data."""

    def __init__(self, what):
        self.what = what

    def __repr__(self):
        return f"<{self.what}>"


def decode(data, _depth=0):
    """Inverse of ``encode``; raises ``WireError`` on anything malformed."""
    if _depth > 50:
        raise WireError("nested too deeply")
    if isinstance(data, list):
        return [decode(d, _depth + 1) for d in data]
    if isinstance(data, dict):
        if set(data) == {"__nd__"}:
            try:
                dtype, shape, b64 = data["__nd__"]
                shape = tuple(int(s) for s in shape)
            except (TypeError, ValueError) as exc:
                raise WireError(f"malformed array: {exc}") from None
            if dtype not in _DTYPES or any(s < 0 for s in shape) or int(np.prod(shape)) > MAX_ELEMENTS:
                raise WireError(f"array of dtype {dtype!r} and shape {shape} refused")
            raw = base64.b64decode(b64, validate=True)
            arr = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
            if arr.size != int(np.prod(shape)):
                raise WireError("array data does not match its shape")
            return arr.reshape(shape).astype(dtype)  # a fresh, native, writable copy
        if set(data) == {"__tuple__"}:
            return tuple(decode(d, _depth + 1) for d in data["__tuple__"])
        if set(data) == {"__dict__"}:
            return {str(k): decode(v, _depth + 1) for k, v in data["__dict__"]}
        if set(data) == {"__object__"}:
            return Foreign(str(data["__object__"])[:200])
        raise WireError(f"unexpected keys {sorted(data)[:5]}")
    if data is None or type(data) in (bool, int, float, str):
        return data
    raise WireError(f"unexpected {type(data).__name__}")


def dumps(obj):
    return json.dumps(obj, allow_nan=True, separators=(",", ":"))
