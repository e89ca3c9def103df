"""Helpers shared by the pure-Python layer: option texts and array conversion."""

from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np

from ._l2l import InvalidArgumentError

# What would split a key=value pair in the options text (commas are a value's own: lists).
_SEPARATORS = set(";= \t\n\r")


def format_options(options: Mapping[str, Any]) -> str:
    """The C ABI's option text ("key=value; ...") for `options`, skipping None values.

    Lists and tuples become comma-separated, booleans 1/0; a string may hold a list already
    written with commas ("0.5,0.5", as the `options` of a loaded optimiser give it back).
    Values that would change the text's structure (';', whitespace, '=') are rejected rather
    than passed on.
    """
    return "; ".join(f"{key}={option_value(key, value)}" for key, value in options.items() if value is not None)


def option_value(key: str, value: Any) -> str:
    """The text of one option's value, as format_options writes it."""
    if isinstance(value, bool) or isinstance(value, np.bool_):
        text = "1" if value else "0"
    elif isinstance(value, (list, tuple, np.ndarray)):
        text = ",".join(_scalar(key, v) for v in value)
    else:
        text = _scalar(key, value)
    if not text:
        raise InvalidArgumentError(f"option {key} is empty")
    return text


def _scalar(key: str, value: Any) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        if not value or _SEPARATORS.intersection(value):
            raise InvalidArgumentError(f"option {key}={value!r} must be a single word")
        return value
    raise InvalidArgumentError(f"option {key}: unsupported value {value!r} of type {type(value).__name__}")


def as_inputs(x: Any) -> np.ndarray:
    """Any array-like of real numbers as a C-contiguous float32 array (copied only if
    needed). Complex values are refused (their imaginary part would be dropped silently)."""
    if np.iscomplexobj(x):
        raise InvalidArgumentError("complex values are not accepted (take .real or abs() explicitly)")
    return np.ascontiguousarray(x, dtype=np.float32)


def as_labels(y: Any) -> np.ndarray:
    """Integer class labels as a C-contiguous int32 array; non-integers are rejected."""
    a = np.asarray(y)
    if a.dtype.kind not in "iu":
        if a.size == 0:
            a = a.astype(np.int32)
        else:
            raise InvalidArgumentError(f"labels must be integers, got dtype {a.dtype}")
    if a.dtype.itemsize > 4 or a.dtype == np.uint32:
        if a.size and (a.min() < np.iinfo(np.int32).min or a.max() > np.iinfo(np.int32).max):
            raise InvalidArgumentError("labels do not fit in int32")
    return np.ascontiguousarray(a, dtype=np.int32)


def _is_real(targets: Any) -> bool:
    """Whether `targets` hold real values (regression) rather than integer labels."""
    return np.asarray(targets).dtype.kind == "f"


def as_targets(y: Any) -> np.ndarray:
    """Real regression targets as a C-contiguous float32 [n, outputs] array; a 1-D [n] array
    is one output per example."""
    a = np.ascontiguousarray(y, dtype=np.float32)
    return a.reshape(-1, 1) if a.ndim == 1 else a


def as_path(path: "str | os.PathLike[str]") -> bytes:
    """A file system path as the bytes the C library opens. A NUL byte is refused: C would
    read the path only up to it (`"a.st\\x00ignored"` would open `a.st`)."""
    encoded = os.fsencode(path)
    if b"\0" in encoded:
        raise InvalidArgumentError(f"path {path!r} contains a NUL byte")
    return encoded
