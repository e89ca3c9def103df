"""The extra 28x28 domains of l2l.datasets for multi-domain meta-training: scikit-learn's
digits resized to 28x28, and Fashion-MNIST rotated and inverted (on small IDX files written
here), with the resizing and rotation they use checked against independent references."""

import struct

import numpy as np
import pytest

import l2l
from l2l import datasets


# -- resizing and rotation -------------------------------------------------------------

def test_resize_keeps_linear_images_and_corners():
    # Bilinear interpolation reproduces a linear function exactly, corners aligned.
    i, j = np.meshgrid(np.arange(8.0), np.arange(5.0), indexing="ij")
    image = (0.3 * i - 0.7 * j + 2.0)[None]
    out = datasets.resize_images(image, 28, 12)
    I, J = np.meshgrid(np.arange(28.0) * 7 / 27, np.arange(12.0) * 4 / 11, indexing="ij")
    np.testing.assert_allclose(out[0], 0.3 * I - 0.7 * J + 2.0, rtol=0, atol=1e-5)
    assert out.shape == (1, 28, 12) and out.dtype == np.float32


def test_resize_matches_scipy_zoom_on_digits():
    ndimage = pytest.importorskip("scipy.ndimage")
    images = np.random.default_rng(0).random((3, 8, 8))
    reference = np.stack([ndimage.zoom(im, 3.5, order=1, mode="nearest", grid_mode=False) for im in images])
    np.testing.assert_allclose(datasets.resize_images(images, 28, 28), reference, atol=1e-5)


def test_rotation_is_counter_clockwise_and_exact_for_quarter_turns():
    images = np.random.default_rng(1).random((2, 28, 28)).astype(np.float32)
    quarter = datasets.rotate_images(images, 90)
    np.testing.assert_array_equal(quarter, np.rot90(images, 1, axes=(1, 2)))
    # A top-right pixel goes to the top-left under a counter-clockwise quarter turn.
    dot = np.zeros((1, 28, 28), np.float32)
    dot[0, 0, 27] = 1
    assert datasets.rotate_images(dot, 90)[0, 0, 0] == 1
    # The general (bilinear) path agrees with the exact quarter turn.
    np.testing.assert_allclose(datasets.rotate_images(images, 90 + 1e-7), quarter, atol=1e-4)
    np.testing.assert_array_equal(datasets.rotate_images(images, 360), images)
    # Pixels that come from outside get `fill`: the corners after 45 degrees.
    assert datasets.rotate_images(images, 45, fill=-5.0)[0, 0, 0] == -5.0
    with pytest.raises(l2l.ShapeError):
        datasets.rotate_images(images[0], 90)
    with pytest.raises(l2l.ShapeError):
        datasets.resize_images(images[0], 28, 28)


# -- scikit-learn's digits -------------------------------------------------------------

def test_digits_splits_resizing_and_standardisation():
    sk = pytest.importorskip("sklearn.datasets")
    ndimage = pytest.importorskip("scipy.ndimage")
    train, test = datasets.digits("train", seed=3), datasets.digits("test", seed=3)
    assert train.shape == (1497, 784) and test.shape == (300, 784)
    assert train.classes == test.classes == 10
    bunch = sk.load_digits()
    # Together the splits hold every example once.
    counts = np.bincount(np.concatenate([train.labels, test.labels]), minlength=10)
    np.testing.assert_array_equal(counts, np.bincount(bunch.target, minlength=10))
    # Unstandardised, each example is a digit in [0, 1] resized by scipy, with its label.
    reference = ndimage.zoom(bunch.images / 16.0, (1, 3.5, 3.5), order=1, mode="nearest", grid_mode=False)
    reference = reference.reshape(len(bunch.images), -1)
    raw_train = datasets.digits("train", seed=3, standardize=False).inputs.astype(np.float64)
    raw_test = datasets.digits("test", seed=3, standardize=False).inputs.astype(np.float64)
    for k in range(0, 300, 30):
        distance = np.abs(reference - raw_test[k]).max(axis=1)
        nearest = int(np.argmin(distance))
        assert distance[nearest] < 1e-5 and bunch.target[nearest] == test.labels[k]
    # Both splits standardised by the training split's mean and std.
    mean, std = raw_train.mean(), raw_train.std()
    np.testing.assert_allclose(train.inputs, (raw_train - mean) / std, atol=1e-4)
    np.testing.assert_allclose(test.inputs, (raw_test - mean) / std, atol=1e-4)
    # Seeded: the same seed, the same split; another seed, another split.
    np.testing.assert_array_equal(datasets.digits("test", seed=3).inputs, test.inputs)
    assert not np.array_equal(datasets.digits("test", seed=4).labels, test.labels)


def test_digits_errors():
    pytest.importorskip("sklearn.datasets")
    with pytest.raises(l2l.InvalidArgumentError):
        datasets.digits("validation")
    with pytest.raises(l2l.InvalidArgumentError):
        datasets.digits("test", test_examples=0)
    with pytest.raises(l2l.InvalidArgumentError):
        datasets.digits("test", test_examples=1797)


# -- transformed Fashion-MNIST ---------------------------------------------------------

def write_idx(path, array):
    a = np.ascontiguousarray(array, dtype=np.uint8)
    path.write_bytes(struct.pack(">BBBB", 0, 0, 0x08, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes())


@pytest.fixture
def fashion_dir(tmp_path):
    """Fashion-MNIST's four files with 6 training and 4 test images; returns (dir, arrays)."""
    rng = np.random.default_rng(2)
    arrays = {}
    for split, prefix, n in (("train", "train", 6), ("test", "t10k", 4)):
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", x)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", y)
        arrays[split] = (x, y)
    return tmp_path, arrays


def test_transformed_fashion_mnist(fashion_dir):
    directory, arrays = fashion_dir
    # numpy reference: rotate a quarter turn, invert, standardise by the transformed train split.
    expected = {s: 1.0 - np.rot90(x / 255.0, 1, axes=(1, 2)).reshape(len(x), -1) for s, (x, _) in arrays.items()}
    mean, std = expected["train"].mean(), expected["train"].std()
    for split in ("test", "train"):
        d = datasets.transformed_fashion_mnist(split, angle=90, invert=True, directory=directory)
        assert d.shape == (len(arrays[split][1]), 784) and d.classes == 10
        np.testing.assert_array_equal(d.labels, arrays[split][1])
        np.testing.assert_allclose(d.inputs, (expected[split] - mean) / std, atol=1e-5)
    plain = datasets.transformed_fashion_mnist("test", angle=0, invert=False, directory=directory, standardize=False)
    np.testing.assert_allclose(plain.inputs, arrays["test"][0].reshape(4, -1) / 255.0, atol=1e-6)
    # A seeded subset, in the original order.
    full = datasets.transformed_fashion_mnist("train", directory=directory)
    part = datasets.transformed_fashion_mnist("train", examples=3, seed=5, directory=directory)
    again = datasets.transformed_fashion_mnist("train", examples=3, seed=5, directory=directory)
    np.testing.assert_array_equal(part.inputs, again.inputs)
    rows = [int(np.flatnonzero((full.inputs == row).all(axis=1))[0]) for row in part.inputs]
    assert len(part) == 3 and rows == sorted(rows) and len(set(rows)) == 3
    np.testing.assert_array_equal(part.labels, full.labels[rows])
    with pytest.raises(l2l.InvalidArgumentError):
        datasets.transformed_fashion_mnist("train", examples=7, directory=directory)
    with pytest.raises(l2l.FileError):
        datasets.transformed_fashion_mnist("train", directory=directory / "missing")
