"""Data sets: labelled examples held by the library, with numpy copies on request.

    train = l2l.fashion_mnist("train")
    test = l2l.fashion_mnist("test")
    mean, std = l2l.standardize_splits(train, test)   # both by the training statistics
    x, y = test.inputs, test.labels                    # numpy copies: float32 [n, 784], int32 [n]
"""

from __future__ import annotations

import os
from typing import Any, Optional, Tuple, Union

import numpy as np

from . import _l2l
from ._common import as_inputs, as_labels, as_path

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["Dataset", "fashion_mnist", "load_idx", "standardize_splits"]


class Dataset:
    """A labelled classification data set: `len(d)` examples of `d.features` floats, each
    with a label in `range(d.classes)`. The data live in the library; `inputs` and
    `labels` are numpy copies.

    Make one with `Dataset.from_arrays`, `Dataset.load_idx` or `l2l.fashion_mnist`.
    """

    __slots__ = ("_handle",)

    def __init__(self, handle: _l2l.Dataset):
        if not isinstance(handle, _l2l.Dataset):
            raise TypeError("use Dataset.from_arrays, Dataset.load_idx or l2l.fashion_mnist to make a Dataset")
        self._handle = handle

    # -- construction ---------------------------------------------------------------

    @classmethod
    def from_arrays(cls, inputs: Any, labels: Any, classes: Optional[int] = None) -> "Dataset":
        """A data set copied from `inputs` ([n, features], any real dtype; converted to
        float32) and integer `labels` ([n], in `range(classes)`). `classes` defaults to
        `max(labels) + 1`."""
        x = as_inputs(inputs)
        y = as_labels(labels)
        if classes is None:
            classes = int(y.max()) + 1 if y.size else 1
        return cls(_l2l.Dataset.create(x, y, int(classes)))

    @classmethod
    def load_idx(cls, images: PathLike, labels: PathLike) -> "Dataset":
        """Loads an IDX images file (uint8, scaled to [0, 1], flattened) and an IDX labels
        file, each gzipped or raw. Raises FileError if one is missing, FormatError if one is
        truncated or corrupt."""
        return cls(_l2l.Dataset.load_idx(as_path(images), as_path(labels)))

    # -- sizes ----------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._handle.info()[0])

    @property
    def features(self) -> int:
        """Features (input floats) per example."""
        return int(self._handle.info()[1])

    @property
    def classes(self) -> int:
        """Number of classes; labels lie in `range(classes)`."""
        return int(self._handle.info()[2])

    @property
    def shape(self) -> Tuple[int, int]:
        """(examples, features) of `inputs`."""
        n, f, _ = self._handle.info()
        return int(n), int(f)

    def __repr__(self) -> str:
        n, f, c = self._handle.info()
        return f"<l2l.Dataset {n} examples x {f} features, {c} classes>"

    # -- contents -------------------------------------------------------------------

    @property
    def inputs(self) -> np.ndarray:
        """A float32 copy of all inputs, shape [len, features]."""
        return self._handle.read(0, len(self), True, False)[0]

    @property
    def labels(self) -> np.ndarray:
        """An int32 copy of all labels, shape [len]."""
        return self._handle.read(0, len(self), False, True)[1]

    def read(self, start: int = 0, count: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Copies of examples [start, start + count) as (inputs, labels)."""
        if count is None:
            count = len(self) - start
        x, y = self._handle.read(int(start), int(count), True, True)
        return x, y

    def statistics(self) -> Tuple[float, float]:
        """Mean and standard deviation over all input values."""
        mean, std = self._handle.statistics()
        return float(mean), float(std)

    def standardize(self, mean: float, std: float) -> "Dataset":
        """Maps every input x to (x - mean) / std in place and returns self. Use the training
        split's statistics for every split (see `standardize_splits`)."""
        self._handle.standardize(float(mean), float(std))
        return self


def load_idx(images: PathLike, labels: PathLike) -> Dataset:
    """`Dataset.load_idx(images, labels)`."""
    return Dataset.load_idx(images, labels)


def standardize_splits(train: Dataset, *others: Dataset) -> Tuple[float, float]:
    """Standardises `train` and every other split in place by the training set's mean and
    standard deviation; returns (mean, std)."""
    mean, std = train.statistics()
    for d in (train, *others):
        d.standardize(mean, std)
    return mean, std


_train_statistics: dict = {}


def fashion_mnist(split: str = "train", directory: Optional[PathLike] = None,
                  standardize: Union[bool, Tuple[float, float]] = False) -> Dataset:
    """Fashion-MNIST's "train" (60000) or "test" (10000) split: 784 features in [0, 1],
    10 classes.

    `directory` holds the IDX files (gzipped or raw); None means $L2L_DATA, else Debian's
    /usr/share/datasets/fashion-mnist. `standardize`: False keeps pixels in [0, 1]; True
    standardises by the *training* split's mean and std (loading it once to compute them
    when `split` is "test"); a (mean, std) pair uses those values.
    """
    path = None if directory is None else as_path(directory)
    data = Dataset(_l2l.Dataset.load("fashion-mnist", split, path))
    if standardize is True:
        key = path if path is not None else os.environ.get("L2L_DATA")
        if split == "train":
            _train_statistics[key] = data.statistics()
        elif key not in _train_statistics:
            _train_statistics[key] = Dataset(_l2l.Dataset.load("fashion-mnist", "train", path)).statistics()
        data.standardize(*_train_statistics[key])
    elif standardize is not False and standardize is not None:
        mean, std = standardize
        data.standardize(mean, std)
    return data
