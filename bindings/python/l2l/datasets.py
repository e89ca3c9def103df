"""Data sets: labelled examples held by the library, with numpy copies on request.

    train = l2l.fashion_mnist("train")
    test = l2l.fashion_mnist("test")
    mean, std = l2l.standardize_splits(train, test)   # both by the training statistics
    x, y = test.inputs, test.labels                    # numpy copies: float32 [n, 784], int32 [n]

Every named set of the library (`load(name, split, directory)`: "fashion-mnist", "mnist",
"kmnist", "cifar10", "stl10"), the MTL2L paper's grey 28x28 CIFAR-10 (`Dataset.grey_crop`,
`modified_cifar10`), seeded splits, per-feature standardisation, and the synthetic families
(`binary_xor`, `sine_tasks`, `quadratic_tasks`) with the names, defaults and, for the same
seed, the same numbers as the C ABI and the Swift API:

    train, validation, test = l2l.datasets.cifar10("train", "/data").split(45000, 5000, 0, seed=1)
    grey = l2l.datasets.modified_cifar10("test", "/data")       # [10000, 784], example_shape (28, 28)
    tasks = l2l.datasets.sine_tasks(25, k=10, seed=3)            # x, y [25, 10, 1]; amplitude, phase [25]
    W, y = l2l.datasets.quadratic_tasks(100, dimension=10, seed=4)

Further 28x28 domains for multi-domain meta-training (MTL2L): scikit-learn's bundled
handwritten digits resized to 28x28 (`digits`), and Fashion-MNIST rotated and inverted
(`transformed_fashion_mnist`):

    fmnist = l2l.datasets.fashion_mnist("train", standardize=True)
    digits = l2l.datasets.digits("train", seed=0)                 # [1497, 784], standardised
    rotated = l2l.datasets.transformed_fashion_mnist("train", angle=90, invert=True)
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np

from . import _l2l
from ._common import _is_real, as_inputs, as_labels, as_path, as_targets, format_options
from ._l2l import InvalidArgumentError, ShapeError, StateError

PathLike = Union[str, "os.PathLike[str]"]

__all__ = [
    "Dataset", "NAMES", "load", "fashion_mnist", "mnist", "kmnist", "cifar10", "stl10", "modified_cifar10",
    "load_idx", "standardize_splits", "binary_xor", "sine_tasks", "quadratic_tasks",
    "digits", "transformed_fashion_mnist", "resize_images", "rotate_images",
]

#: The names `load` knows (the C ABI's l2l_dataset_load and Swift's DatasetCatalog.names).
NAMES = ("fashion-mnist", "mnist", "kmnist", "cifar10", "stl10")

#: Grey weights `Dataset.grey_crop` knows: "mtl2l" is 0.30 R + 0.59 G + 0.11 B (the MTL2L
#: paper's B.2 read as the usual luma), "mtl2l_as_printed" 0.30 R + 0.11 G + 0.59 B (its text
#: taken literally), "itu601" 0.299 R + 0.587 G + 0.114 B.
GREY_WEIGHTS = ("mtl2l", "mtl2l_as_printed", "itu601")


class Dataset:
    """A labelled classification data set: `len(d)` examples of `d.features` floats, each
    with a label in `range(d.classes)` — or a regression set, each with `d.classes` real
    targets (`is_regression`, `targets`). The data live in the library; `inputs` and
    `labels` are numpy copies.

    Make one with `Dataset.from_arrays`, `Dataset.load_idx`, `l2l.fashion_mnist` or the
    loaders of this module (`load`, `mnist`, `kmnist`, `cifar10`, `stl10`, `binary_xor`).
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
        `max(labels) + 1`.

        Real-valued `labels` (a float array [n, outputs], or [n] for one output) make a
        regression set instead, for a learner with objective="mse" (`classes` must then be
        None): `Dataset.from_arrays(x, np.sin(x))`."""
        x = as_inputs(inputs)
        if _is_real(labels):
            if classes is not None:
                raise InvalidArgumentError("from_arrays: a regression set (real-valued targets) takes no classes")
            return cls(_l2l.dataset_create_regression(x, as_targets(labels)))
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
        """An int32 copy of all labels, shape [len]. StateError for a regression set (see
        `targets`)."""
        if self.is_regression:
            raise StateError("Dataset.labels: a regression set has real-valued targets; read Dataset.targets")
        return self._handle.read(0, len(self), False, True)[1]

    @property
    def is_regression(self) -> bool:
        """Whether the targets are real values (made by `from_arrays` with float targets)."""
        return _l2l.dataset_is_regression(self._handle)

    @property
    def targets(self) -> np.ndarray:
        """A copy of the targets: float32 [len, outputs] for a regression set, the int32
        labels [len] otherwise."""
        if not self.is_regression:
            return self.labels
        return _l2l.dataset_read_values(self._handle, 0, len(self))

    def read(self, start: int = 0, count: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Copies of examples [start, start + count) as (inputs, labels), or (inputs,
        targets [count, outputs]) for a regression set."""
        if count is None:
            count = len(self) - start
        if self.is_regression:
            x = self._handle.read(int(start), int(count), True, False)[0]
            return x, _l2l.dataset_read_values(self._handle, int(start), int(count))
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

    # -- shapes, transforms, splits -------------------------------------------------

    @property
    def example_shape(self) -> Tuple[int, ...]:
        """The shape of one example before flattening: (3, 32, 32) for CIFAR-10, (28, 28)
        for the IDX sets, (features,) for a set made from a 2-D array."""
        return tuple(int(v) for v in self._handle.example_shape())

    def grey_crop(self, rows: int = 28, columns: int = 28, weights: str = "mtl2l") -> "Dataset":
        """A new data set of the MTL2L paper's "modified CIFAR-10" (its Appendix B.2): each
        [3, H, W] colour example made grey by `weights` (see `GREY_WEIGHTS`) and cut to its
        first `rows` rows and `columns` columns; `rows * columns` features, example shape
        (rows, columns), labels unchanged. Raises ShapeError unless the examples are
        [3, H, W] images at least that large."""
        options = format_options({"weights": weights})
        return Dataset(self._handle.grey_crop(int(rows), int(columns), options))

    def split(self, train: int, validation: int, test: int,
              seed: int = 0) -> Tuple[Optional["Dataset"], Optional["Dataset"], Optional["Dataset"]]:
        """Splits the examples at random, deterministically for `seed`, into new data sets of
        `train`, `validation` and `test` examples (which must sum to `len(self)`, else
        InvalidArgumentError). The parts are disjoint, cover every example and each keeps
        the original order; a part of 0 examples is None."""
        parts = self._handle.split(int(train), int(validation), int(test), int(seed))
        return tuple(None if p is None else Dataset(p) for p in parts)  # type: ignore[return-value]

    def feature_statistics(self) -> Tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation (population) of each input column: two float32
        arrays of `features` values."""
        mean, std = self._handle.feature_statistics()
        return mean, std

    def standardize_features(self, mean: Any, std: Any) -> "Dataset":
        """Maps input column j to (x - mean[j]) / std[j] in place and returns self; a column
        whose std is 0 is only centred. Use the training split's `feature_statistics()` for
        every split. Raises ShapeError unless both have `features` values."""
        self._handle.standardize_features(_vector(mean, "mean"), _vector(std, "std"))
        return self


def _vector(values: Any, what: str) -> np.ndarray:
    a = np.ascontiguousarray(values, dtype=np.float32)
    if a.ndim != 1:
        raise ShapeError(f"{what} must be a 1-D array, got shape {a.shape}")
    return a


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


# -- named data sets --------------------------------------------------------------------

def load(name: str, split: str = "train", directory: Optional[PathLike] = None) -> Dataset:
    """Split `split` ("train" or "test") of the data set called `name` (see `NAMES`), read
    from `directory` (the files directly or in a sub-folder named after the set:
    fashion-mnist, mnist, kmnist, cifar-10-batches-bin, stl10_binary), else from $L2L_DATA
    (and, for "fashion-mnist" only, Debian's /usr/share/datasets/fashion-mnist). Pixels are
    scaled to [0, 1] and flattened; `example_shape` keeps the image shape.

    Raises InvalidArgumentError for an unknown name or split, FileError if a file is
    missing, FormatError if one is truncated or corrupt.
    """
    path = None if directory is None else as_path(directory)
    return Dataset(_l2l.Dataset.load(str(name), str(split), path))


def mnist(split: str = "train", directory: Optional[PathLike] = None) -> Dataset:
    """MNIST (IDX files named as Fashion-MNIST's) from `directory` or $L2L_DATA/mnist:
    784 features in [0, 1], example shape (28, 28), 10 classes. See `load`."""
    return load("mnist", split, directory)


def kmnist(split: str = "train", directory: Optional[PathLike] = None) -> Dataset:
    """Kuzushiji-MNIST (IDX files named as Fashion-MNIST's) from `directory` or
    $L2L_DATA/kmnist: 784 features in [0, 1], example shape (28, 28), 10 classes. See `load`."""
    return load("kmnist", split, directory)


def cifar10(split: str = "train", directory: Optional[PathLike] = None) -> Dataset:
    """CIFAR-10's binary version (data_batch_1..5.bin or test_batch.bin) from `directory` or
    $L2L_DATA/cifar-10-batches-bin: 50000 / 10000 examples of 3072 features in [0, 1],
    channel-major, example shape (3, 32, 32), 10 classes. See `load`."""
    return load("cifar10", split, directory)


def stl10(split: str = "train", directory: Optional[PathLike] = None) -> Dataset:
    """STL-10's binary version (train_X.bin/train_y.bin or test_X.bin/test_y.bin) from
    `directory` or $L2L_DATA/stl10_binary: 5000 / 8000 examples of 27648 features in
    [0, 1], example shape (3, 96, 96) (read row-major from the column-major files), labels
    0-9. See `load`."""
    return load("stl10", split, directory)


def modified_cifar10(split: str = "train", directory: Optional[PathLike] = None, rows: int = 28,
                     columns: int = 28, weights: str = "mtl2l") -> Dataset:
    """The MTL2L paper's grey 28x28 CIFAR-10: `cifar10(split, directory).grey_crop(rows,
    columns, weights)`."""
    return cifar10(split, directory).grey_crop(rows, columns, weights)


# -- synthetic data and task families ---------------------------------------------------

def binary_xor(seed: int = 0, dimension: int = 10, samples: int = 200, noise_scale: float = 1.0,
               minimum_balance: float = 0.15, maximum_attempts: int = 1000,
               threshold_spread: float = 0.0) -> Dataset:
    """One random binary classification set of Bosc (2016), "Learning to Learn Neural
    Networks", drawn from `seed`: `samples` examples of `dimension` standardised features
    (random covariance A A^T, exponential noise of mean-`noise_scale` scale, the XOR of two
    random linear thresholds, draws whose minority class is below `minimum_balance`
    rejected), labels 0/1. The same seed gives the same set as C's
    l2l_dataset_synthetic(.., "binary_xor", ..) and Swift's BinaryXORDatasets.

    Raises InvalidArgumentError for a setting out of range, or when no draw reaches
    `minimum_balance` within `maximum_attempts`.
    """
    options = format_options({
        "dimension": int(dimension), "samples": int(samples), "noise_scale": float(noise_scale),
        "minimum_balance": float(minimum_balance), "maximum_attempts": int(maximum_attempts),
        "threshold_spread": float(threshold_spread),
    })
    return Dataset(_l2l.Dataset.synthetic("binary_xor", options, int(seed)))


def sine_tasks(tasks: int, k: int, seed: int = 0) -> Dict[str, np.ndarray]:
    """`tasks` few-shot sine-regression tasks y = A sin(x - phase) of MAML and Meta-SGD
    (A uniform in [0.1, 5], phase in [0, pi], x in [-5, 5]), each with `k` points, drawn in
    sequence from `seed` (the same numbers as C's l2l_sine_tasks and Swift's
    SineTask.sample(tasks:k:seed:)).

    Returns a dict of float32 arrays: "x" and "y" of shape [tasks, k, 1], "amplitude" and
    "phase" of shape [tasks]. With k = 2K, [:, :K] is a K-shot support set and [:, K:] its
    query set.
    """
    x, y, amplitude, phase = _l2l.sine_tasks(int(seed), int(tasks), int(k))
    return {"x": x, "y": y, "amplitude": amplitude, "phase": phase}


def quadratic_tasks(tasks: int, dimension: int = 10, seed: int = 0,
                    distribution: str = "normal") -> Tuple[np.ndarray, np.ndarray]:
    """`tasks` quadratic tasks f(theta) = |W theta - y|^2 of Andrychowicz et al. (2016),
    drawn in sequence from `seed` (the same numbers as C's l2l_quadratic_tasks and Swift's
    QuadraticTask.sample(tasks:dimension:distribution:seed:)). `distribution` is "normal"
    (standard normal, as the paper says) or "uniform" (in [0, 1), as DeepMind's code).

    Returns (W, y): float32 arrays of shapes [tasks, dimension, dimension] and
    [tasks, dimension].
    """
    options = format_options({"distribution": distribution})
    return _l2l.quadratic_tasks(int(seed), int(tasks), int(dimension), options)


# -- more 28x28 domains: scikit-learn's digits, transformed Fashion-MNIST ----------------

#: Examples of scikit-learn's bundled digits set (`sklearn.datasets.load_digits`).
DIGITS_EXAMPLES = 1797


def _interpolation_matrix(source: int, target: int) -> np.ndarray:
    """[target, source] weights of linear interpolation from `source` samples to `target`,
    the first and last samples of both grids aligned (align-corners)."""
    position = np.arange(target, dtype=np.float64) * ((source - 1) / (target - 1) if target > 1 else 0.0)
    low = np.minimum(np.floor(position).astype(np.int64), source - 1)
    high = np.minimum(low + 1, source - 1)
    frac = position - low
    weights = np.zeros((target, source), dtype=np.float64)
    np.add.at(weights, (np.arange(target), low), 1.0 - frac)
    np.add.at(weights, (np.arange(target), high), frac)
    return weights


def resize_images(images: Any, rows: int, columns: int) -> np.ndarray:
    """Bilinear resizing of `images` [n, h, w] to [n, rows, columns] (float32), corners
    aligned: output pixel (i, j) samples the input at (i (h-1)/(rows-1), j (w-1)/(columns-1)).
    ShapeError unless `images` is 3-D and the sizes are at least 1."""
    a = np.asarray(images, dtype=np.float64)
    if a.ndim != 3 or rows < 1 or columns < 1 or a.shape[1] < 1 or a.shape[2] < 1:
        raise ShapeError(f"resize_images: need images [n, h, w] and sizes >= 1, got shape {a.shape} "
                         f"to {rows}x{columns}")
    r = _interpolation_matrix(a.shape[1], int(rows))
    c = _interpolation_matrix(a.shape[2], int(columns))
    return (r @ a @ c.T).astype(np.float32)


def rotate_images(images: Any, angle: float, fill: float = 0.0) -> np.ndarray:
    """`images` [n, h, w] rotated counter-clockwise by `angle` degrees about their centre
    (bilinear sampling; pixels that come from outside the image get `fill`); float32.
    Multiples of 90 degrees are exact (numpy.rot90) on square images."""
    a = np.asarray(images, dtype=np.float32)
    if a.ndim != 3:
        raise ShapeError(f"rotate_images: need images [n, h, w], got shape {a.shape}")
    n, h, w = a.shape
    turns = float(angle) / 90.0
    if h == w and turns == round(turns):
        return np.ascontiguousarray(np.rot90(a, k=int(round(turns)) % 4, axes=(1, 2)))
    theta = np.deg2rad(float(angle))
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    # Output pixel (y, x) takes the input at the inverse rotation of its offset (y down).
    dy, dx = yy - cy, xx - cx
    sy = cy + np.cos(theta) * dy + np.sin(theta) * dx
    sx = cx - np.sin(theta) * dy + np.cos(theta) * dx
    y0, x0 = np.floor(sy).astype(np.int64), np.floor(sx).astype(np.int64)
    fy, fx = (sy - y0).astype(np.float32), (sx - x0).astype(np.float32)
    out = np.zeros_like(a)
    for oy, ox, weight in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        ys, xs = y0 + oy, x0 + ox
        inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
        values = np.where(inside, a[:, np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)], np.float32(fill))
        out += values * weight
    return out


def _digits_arrays() -> Tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError("l2l.datasets.digits needs scikit-learn (pip install scikit-learn; "
                          "scripts/setup.sh installs it)") from e
    bunch = load_digits()
    return np.asarray(bunch.images, dtype=np.float64) / 16.0, np.asarray(bunch.target, dtype=np.int32)


def digits(split: str = "train", test_examples: int = 300, seed: int = 0, size: int = 28,
           standardize: bool = True) -> Dataset:
    """scikit-learn's bundled handwritten digits (`sklearn.datasets.load_digits`: 1797 8x8
    images of 0-9, UCI's optical digits) as a 28x28 domain for the 784-input learners:
    pixels scaled to [0, 1], resized bilinearly to `size` x `size` (`resize_images`), and
    split at random from `seed` into "train" (1797 - `test_examples` examples) and "test"
    (`test_examples`), both keeping the original order (`Dataset.split`). With
    `standardize` both splits are standardised by the training split's mean and std, so
    the same seed gives the same numbers for either split. 10 classes; example shape
    (size, size). Needs scikit-learn (ImportError otherwise); InvalidArgumentError for an
    unknown split or `test_examples` outside 1..1796."""
    if split not in ("train", "test"):
        raise _l2l.InvalidArgumentError(f"digits: unknown split {split!r} (known: 'train', 'test')")
    if not 1 <= int(test_examples) < DIGITS_EXAMPLES:
        raise _l2l.InvalidArgumentError(
            f"digits: test_examples must be in 1..{DIGITS_EXAMPLES - 1}, got {test_examples}")
    images, labels = _digits_arrays()
    x = resize_images(images, int(size), int(size)).reshape(len(labels), -1)
    train, _, test = Dataset.from_arrays(x, labels, classes=10).split(
        DIGITS_EXAMPLES - int(test_examples), 0, int(test_examples), seed=int(seed))
    if standardize:
        standardize_splits(train, test)
    return train if split == "train" else test


def transformed_fashion_mnist(split: str = "train", angle: float = 90.0, invert: bool = True,
                              examples: Optional[int] = None, seed: int = 0,
                              directory: Optional[PathLike] = None, standardize: bool = True) -> Dataset:
    """Fashion-MNIST (see `fashion_mnist`) transformed into another domain: every image
    rotated counter-clockwise by `angle` degrees (`rotate_images`; exact for multiples of
    90) and, with `invert`, inverted (x -> 1 - x, so the background is white). `examples`
    keeps a random subset of that many examples drawn from `seed` (in their original order;
    None keeps all, and `seed` is then unused). With `standardize` the split is standardised
    by the mean and std of the *transformed full training split*, so train and test use the
    same numbers. 784 features, example shape (28, 28), 10 classes. InvalidArgumentError
    for `examples` outside 1..len(split); FileError / FormatError as `fashion_mnist`."""
    def transformed(which: str) -> Tuple[np.ndarray, np.ndarray]:
        data = fashion_mnist(which, directory)
        x = rotate_images(data.inputs.reshape(-1, 28, 28), angle)
        return (1.0 - x if invert else x).reshape(len(x), -1), data.labels

    x, labels = transformed(split)
    if examples is not None:
        if not 1 <= int(examples) <= len(labels):
            raise _l2l.InvalidArgumentError(
                f"transformed_fashion_mnist: examples must be in 1..{len(labels)}, got {examples}")
        keep = np.sort(np.random.default_rng(int(seed)).permutation(len(labels))[:int(examples)])
        x, labels = x[keep], labels[keep]
    if standardize:
        key = (float(angle), bool(invert), None if directory is None else os.fspath(directory),
               os.environ.get("L2L_DATA"))
        if key not in _transformed_statistics:
            full = x if split == "train" and examples is None else transformed("train")[0]
            _transformed_statistics[key] = (float(full.mean(dtype=np.float64)), float(full.std(dtype=np.float64)))
        mean, std = _transformed_statistics[key]
        x = (x - np.float32(mean)) / np.float32(std)
    return Dataset.from_arrays(x, labels, classes=10)


_transformed_statistics: dict = {}
