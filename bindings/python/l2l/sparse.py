"""Pruned learners: magnitude pruning, and a sparse `.safetensors` export that keeps only
the surviving weights.

    removed = l2l.sparse.prune_by_magnitude(net, 0.5)       # zero the smallest half of each tensor
    size = l2l.sparse.save_sparse(net, "net.sparse.safetensors")
    l2l.sparse.load_sparse("net.sparse.safetensors", fresh)  # `fresh`: same architecture

The file holds, for each parameter tensor `name`, `name.mask` (uint8: one bit per weight of
the row-major tensor, 1 where it is non-zero, numpy's `packbits` order) and `name.values`
(float32, the non-zero values in order), with the tensor's shape in the metadata
(`name.shape`, e.g. "32,784"). A learner costs 1 bit per weight plus 4 bytes per surviving
weight (a dense 25 450-weight MLP: 3.1 KiB more than its 99.4 KiB of floats); loading puts
every value back bit for bit and zeros elsewhere.
"""
import json
import os
import struct
from typing import Dict, List, Tuple, Union

import numpy as np

from . import _l2l
from .learners import Learner

PathLike = Union[str, "os.PathLike[str]"]

_DTYPES = {"U8": np.uint8, "F32": np.float32}
_NAMES = {np.dtype(np.uint8): "U8", np.dtype(np.float32): "F32"}


def prune_by_magnitude(learner: Learner, fraction: float) -> np.ndarray:
    """Sets the `fraction` of weights with the smallest |value| in each parameter tensor to
    zero (one-shot magnitude pruning, layer by layer) and returns the keep-mask over the flat
    parameter vector (float32, 1 = kept). Ties at the cut are broken by position."""
    if not 0 <= fraction <= 1:
        raise _l2l.InvalidArgumentError(f"prune_by_magnitude: fraction {fraction} is not in [0, 1]")
    flat = learner.flat_parameters()
    mask = np.ones_like(flat)
    for info in learner.param_info():
        part = flat[info.offset:info.offset + info.count]
        cut = int(round(fraction * info.count))
        mask[info.offset + np.argsort(np.abs(part), kind="stable")[:cut]] = 0
    learner.set_flat_parameters(flat * mask)
    return mask


def _write(path: PathLike, tensors: Dict[str, np.ndarray], metadata: Dict[str, str]) -> None:
    header: Dict[str, object] = {"__metadata__": metadata}
    offset = 0
    for name, array in tensors.items():
        header[name] = {"dtype": _NAMES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for array in tensors.values():
            f.write(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes())


def _read(path: PathLike) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise _l2l.FormatError(f"{path}: not a .safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        raise _l2l.FormatError(f"{path}: unreadable header ({e})") from None
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(data[8 + n + start:8 + n + end], dtype=dtype).reshape(entry["shape"])
    return tensors, metadata


def save_sparse(learner: Learner, path: PathLike) -> int:
    """Writes `learner`'s non-zero weights (a bit mask and the values per tensor, see the
    module docstring) to `path` and returns the file's size in bytes."""
    tensors: Dict[str, np.ndarray] = {}
    metadata = {"format": "l2l-sparse-1"}
    for name, value in learner.parameters():
        flat = value.reshape(-1)
        tensors[name + ".mask"] = np.packbits(flat != 0)
        tensors[name + ".values"] = flat[flat != 0].astype(np.float32)
        metadata[name + ".shape"] = ",".join(str(d) for d in value.shape)
    _write(path, tensors, metadata)
    return os.path.getsize(path)


def load_sparse(path: PathLike, learner: Learner) -> None:
    """Replaces `learner`'s parameters with those stored by `save_sparse` (zeros where no
    value is stored). FormatError if the file is not such an export; ShapeError if its
    tensors are not the learner's."""
    tensors, metadata = _read(path)
    if metadata.get("format") != "l2l-sparse-1":
        raise _l2l.FormatError(f"{path}: not an l2l sparse export")
    values: List[np.ndarray] = []
    for info in learner.param_info():
        shape = metadata.get(info.name + ".shape")
        if shape is None or tuple(int(d) for d in shape.split(",") if d) != info.shape:
            raise _l2l.ShapeError(f"{path}: {info.name} is stored with shape {shape}, the learner's is {info.shape}")
        dense = np.zeros(info.count, np.float32)
        kept = np.unpackbits(tensors[info.name + ".mask"], count=info.count).astype(bool)
        dense[kept] = tensors[info.name + ".values"]
        values.append(dense.reshape(info.shape))
    learner.set_parameters(values)
