"""The data-set catalogue from Python: MNIST/KMNIST/CIFAR-10/STL-10 on small files written
here, the grey 28x28 transform, seeded splits, per-feature standardisation, and the
synthetic families (same seed, same arrays; pinned values shared with the Swift tests)."""

import gzip
import os
import struct

import numpy as np
import pytest

import l2l
from l2l import datasets


# -- files in the real layouts ---------------------------------------------------------

def write_idx(path, array, compress=False):
    a = np.ascontiguousarray(array, dtype=np.uint8)
    data = struct.pack(">BBBB", 0, 0, 0x08, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(data)


def cifar_images(n, seed=0):
    """n images [n, 3, 32, 32] of uint8 and labels."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, size=n).astype(np.uint8)


def write_cifar(path, images, labels):
    records = np.concatenate([labels[:, None], images.reshape(len(labels), -1)], axis=1).astype(np.uint8)
    path.write_bytes(records.tobytes())


@pytest.fixture
def data_dir(tmp_path):
    """A directory with MNIST (train), KMNIST (test), CIFAR-10 (test) and STL-10 (train) in
    their sub-folders; returns (directory, expected values)."""
    rng = np.random.default_rng(7)
    expected = {}
    mnist_x = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    mnist_y = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    (tmp_path / "mnist").mkdir()
    write_idx(tmp_path / "mnist" / "train-images-idx3-ubyte", mnist_x)
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", mnist_y, compress=True)
    expected["mnist"] = (mnist_x, mnist_y)

    kmnist_x = rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    kmnist_y = np.array([9, 0, 2, 6], dtype=np.uint8)
    (tmp_path / "kmnist").mkdir()
    write_idx(tmp_path / "kmnist" / "t10k-images-idx3-ubyte.gz", kmnist_x, compress=True)
    write_idx(tmp_path / "kmnist" / "t10k-labels-idx1-ubyte", kmnist_y)
    expected["kmnist"] = (kmnist_x, kmnist_y)

    images, labels = cifar_images(4, seed=1)
    (tmp_path / "cifar-10-batches-bin").mkdir()
    write_cifar(tmp_path / "cifar-10-batches-bin" / "test_batch.bin", images, labels)
    expected["cifar10"] = (images, labels)

    stl = rng.integers(0, 256, size=(2, 3, 96, 96), dtype=np.uint8)   # [n, c, row, column]
    stl_labels = np.array([10, 1], dtype=np.uint8)                    # the file's 1..10
    (tmp_path / "stl10_binary").mkdir()
    # MATLAB order: each channel column-major, i.e. the bytes of [n, c, column, row].
    (tmp_path / "stl10_binary" / "train_X.bin").write_bytes(np.ascontiguousarray(stl.transpose(0, 1, 3, 2)).tobytes())
    (tmp_path / "stl10_binary" / "train_y.bin").write_bytes(stl_labels.tobytes())
    expected["stl10"] = (stl, stl_labels)
    return tmp_path, expected


# -- named sets ---------------------------------------------------------------------------

def test_mnist_and_kmnist_read_idx_files_by_name(data_dir):
    directory, expected = data_dir
    x, y = expected["mnist"]
    d = datasets.mnist("train", directory)
    assert len(d) == 5 and d.features == 784 and d.classes == 10
    assert d.example_shape == (28, 28)
    np.testing.assert_array_equal(d.inputs, (x.reshape(5, -1) / np.float32(255)).astype(np.float32))
    np.testing.assert_array_equal(d.labels, y.astype(np.int32))
    # The folder itself, and the generic loader, give the same set.
    np.testing.assert_array_equal(datasets.load("mnist", "train", directory / "mnist").inputs, d.inputs)

    x, y = expected["kmnist"]
    k = datasets.kmnist("test", str(directory))
    np.testing.assert_array_equal(k.labels, y.astype(np.int32))
    np.testing.assert_array_equal(k.inputs[2], x[2].ravel().astype(np.float32) / np.float32(255))


def test_default_directory_is_l2l_data(data_dir, monkeypatch):
    directory, expected = data_dir
    monkeypatch.setenv("L2L_DATA", str(directory))
    assert len(datasets.kmnist("test")) == 4
    assert len(datasets.cifar10("test")) == 4
    assert len(datasets.load("stl10")) == 2            # split defaults to "train"
    monkeypatch.delenv("L2L_DATA")
    with pytest.raises(l2l.FileError, match="L2L_DATA"):
        datasets.mnist("train")


def test_cifar10_is_channel_major_record_by_record(data_dir):
    directory, expected = data_dir
    images, labels = expected["cifar10"]
    d = datasets.cifar10("test", directory)
    assert d.shape == (4, 3072) and d.example_shape == (3, 32, 32) and d.classes == 10
    np.testing.assert_array_equal(d.labels, labels.astype(np.int32))
    np.testing.assert_array_equal(d.inputs.reshape(4, 3, 32, 32), images.astype(np.float32) / np.float32(255))


def test_stl10_column_major_files_are_read_row_major(data_dir):
    directory, expected = data_dir
    stl, labels = expected["stl10"]
    d = datasets.stl10("train", directory / "stl10_binary")
    assert d.shape == (2, 27648) and d.example_shape == (3, 96, 96)
    np.testing.assert_array_equal(d.labels, [9, 0])
    np.testing.assert_array_equal(d.inputs.reshape(2, 3, 96, 96), stl.astype(np.float32) / np.float32(255))


def test_loading_errors_map_to_exception_classes(data_dir, tmp_path):
    directory, expected = data_dir
    with pytest.raises(l2l.InvalidArgumentError) as e:
        datasets.load("cifar100", "train", directory)
    assert isinstance(e.value, ValueError) and e.value.function == "l2l_dataset_load"
    for name in datasets.NAMES:
        assert name in str(e.value)
    with pytest.raises(l2l.InvalidArgumentError, match="split"):
        datasets.cifar10("validation", directory)
    with pytest.raises(l2l.FileError) as missing:
        datasets.cifar10("train", directory)   # data_batch_1.bin is not there
    assert isinstance(missing.value, OSError) and "data_batch_1.bin" in str(missing.value)
    with pytest.raises(l2l.FileError):
        datasets.stl10("test", directory)

    # Truncated and corrupt files: FormatError.
    images, labels = expected["cifar10"]
    cut = tmp_path / "cut"
    cut.mkdir()
    records = (directory / "cifar-10-batches-bin" / "test_batch.bin").read_bytes()
    (cut / "test_batch.bin").write_bytes(records[:-1])
    with pytest.raises(l2l.FormatError, match="truncated"):
        datasets.cifar10("test", cut)
    bad = bytearray(records)
    bad[3073] = 11
    (cut / "test_batch.bin").write_bytes(bytes(bad))
    with pytest.raises(l2l.FormatError, match="label 11"):
        datasets.cifar10("test", cut)
    (cut / "train_X.bin").write_bytes(bytes(27648 * 2))
    (cut / "train_y.bin").write_bytes(bytes([1, 2, 3]))
    with pytest.raises(l2l.FormatError):
        datasets.stl10("train", cut)
    (cut / "train-images-idx3-ubyte").write_bytes((directory / "mnist" / "train-images-idx3-ubyte").read_bytes()[:-7])
    (cut / "train-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(l2l.FormatError):
        datasets.mnist("train", cut)


# -- grey crop ----------------------------------------------------------------------------

WEIGHTS = {"mtl2l": (0.30, 0.59, 0.11), "mtl2l_as_printed": (0.30, 0.11, 0.59), "itu601": (0.299, 0.587, 0.114)}


@pytest.mark.parametrize("weights", sorted(WEIGHTS))
def test_grey_crop_weights_the_channels_and_keeps_the_top_left_corner(data_dir, weights):
    directory, expected = data_dir
    images, labels = expected["cifar10"]
    grey = datasets.cifar10("test", directory).grey_crop(28, 28, weights=weights)
    assert grey.shape == (4, 784) and grey.example_shape == (28, 28) and grey.classes == 10
    np.testing.assert_array_equal(grey.labels, labels.astype(np.int32))
    x = images.astype(np.float64) / 255
    r, g, b = WEIGHTS[weights]
    want = (r * x[:, 0] + g * x[:, 1] + b * x[:, 2])[:, :28, :28].reshape(4, 784)
    np.testing.assert_allclose(grey.inputs, want, atol=1e-6, rtol=0)


def test_grey_crop_defaults_and_modified_cifar10(data_dir):
    directory, _ = data_dir
    colour = datasets.cifar10("test", directory)
    default = colour.grey_crop()
    np.testing.assert_array_equal(default.inputs, colour.grey_crop(28, 28, "mtl2l").inputs)
    np.testing.assert_array_equal(datasets.modified_cifar10("test", directory).inputs, default.inputs)
    assert colour.grey_crop(rows=3, columns=32).example_shape == (3, 32)
    assert len(colour) == 4 and colour.example_shape == (3, 32, 32)   # unchanged


def test_grey_crop_errors(data_dir):
    directory, _ = data_dir
    colour = datasets.cifar10("test", directory)
    with pytest.raises(l2l.ShapeError):
        colour.grey_crop(33, 28)
    with pytest.raises(l2l.ShapeError):
        colour.grey_crop().grey_crop()                     # already grey: [28, 28]
    with pytest.raises(l2l.ShapeError):
        l2l.Dataset.from_arrays(np.zeros((2, 3072)), [0, 1]).grey_crop()
    with pytest.raises(l2l.InvalidArgumentError, match="weights"):
        colour.grey_crop(weights="rgb")
    with pytest.raises(l2l.InvalidArgumentError):
        colour.grey_crop(weights="mtl2l; rows=3")
    with pytest.raises(l2l.InvalidArgumentError):
        colour.grey_crop(rows=-1)


# -- splits and per-feature statistics ----------------------------------------------------

def indexed(n=20):
    """Example i has label i and inputs (i, -i), so every part can be traced back."""
    i = np.arange(n)
    return l2l.Dataset.from_arrays(np.stack([i, -i], axis=1), i, classes=n)


def test_split_is_a_seeded_ordered_partition():
    d = indexed()
    train, validation, test = d.split(12, 5, 3, seed=4)
    parts = [p.labels for p in (train, validation, test)]
    assert [len(p) for p in parts] == [12, 5, 3]
    assert sorted(np.concatenate(parts).tolist()) == list(range(20))
    for p in parts:
        assert np.all(np.diff(p) > 0)                    # the original order
    assert parts[0].tolist() != list(range(12))          # at random
    np.testing.assert_array_equal(train.inputs[:, 0], parts[0].astype(np.float32))
    np.testing.assert_array_equal(train.inputs[:, 1], -parts[0].astype(np.float32))
    assert train.classes == 20 and train.example_shape == (2,)
    # Same seed, same parts; the default seed is 0.
    again = d.split(12, 5, 3, seed=4)
    for a, b in zip(again, (train, validation, test)):
        np.testing.assert_array_equal(a.labels, b.labels)
    for a, b in zip(d.split(12, 5, 3), d.split(12, 5, 3, seed=0)):
        np.testing.assert_array_equal(a.labels, b.labels)
    assert d.split(12, 5, 3, seed=5)[0].labels.tolist() != parts[0].tolist()


def test_split_empty_parts_are_none_and_bad_counts_raise():
    d = indexed()
    train, validation, test = d.split(15, 0, 5, seed=1)
    assert validation is None and len(train) == 15 and len(test) == 5
    whole, none1, none2 = d.split(20, 0, 0)
    assert none1 is None and none2 is None and whole.labels.tolist() == list(range(20))
    with pytest.raises(l2l.InvalidArgumentError):
        d.split(15, 5, 5)                                 # 25 > 20
    with pytest.raises(l2l.InvalidArgumentError):
        d.split(10, 5, 4)                                 # 19 < 20
    with pytest.raises(l2l.InvalidArgumentError):
        d.split(22, -1, -1)


def test_feature_statistics_and_standardize_features_round_trip(rng):
    x = rng.normal(size=(50, 6)) * np.array([1, 2, 3, 4, 5, 6]) + np.array([0, -1, 2, 10, 0.5, 3])
    x[:, 4] = 0.25                                        # a constant column
    d = l2l.Dataset.from_arrays(x, rng.integers(0, 3, size=50))
    mean, std = d.feature_statistics()
    assert mean.dtype == np.float32 and std.dtype == np.float32 and mean.shape == (6,) and std.shape == (6,)
    x32 = x.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(mean, x32.mean(axis=0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(std, x32.std(axis=0), rtol=1e-5, atol=1e-6)
    assert std[4] == 0
    assert d.standardize_features(mean, std) is d
    z = d.inputs
    safe = np.where(std > 0, std, 1).astype(np.float64)
    np.testing.assert_allclose(z, (x32 - mean.astype(np.float64)) / safe, rtol=1e-5, atol=1e-5)
    m2, s2 = d.feature_statistics()
    np.testing.assert_allclose(m2, 0, atol=1e-5)
    np.testing.assert_allclose(s2, [1, 1, 1, 1, 0, 1], atol=1e-5)
    # Any sequence of numbers is accepted and converted.
    d.standardize_features([0.0] * 6, [1] * 6)


def test_standardize_features_errors():
    d = indexed(5)
    before = d.inputs
    with pytest.raises(l2l.ShapeError):
        d.standardize_features(np.zeros(3, np.float32), np.ones(3, np.float32))
    with pytest.raises(l2l.ShapeError):
        d.standardize_features(np.zeros(2, np.float32), np.ones(3, np.float32))
    with pytest.raises(l2l.ShapeError):
        d.standardize_features(np.zeros((1, 2)), np.ones((1, 2)))
    with pytest.raises(l2l.InvalidArgumentError):
        d.standardize_features([np.nan, 0], [1, 1])
    with pytest.raises(l2l.InvalidArgumentError):
        d.standardize_features([0, 0], [1, -1])
    np.testing.assert_array_equal(d.inputs, before)


def test_example_shape_of_a_set_made_from_arrays():
    assert l2l.Dataset.from_arrays(np.zeros((3, 7)), [0, 1, 2]).example_shape == (7,)


# -- synthetic data -----------------------------------------------------------------------

def test_binary_xor_is_seeded_standardised_and_balanced():
    d = datasets.binary_xor(seed=3)
    assert d.shape == (200, 10) and d.classes == 2 and d.example_shape == (10,)
    y = d.labels
    assert set(np.unique(y)) <= {0, 1} and 0.15 <= y.mean() <= 0.85
    mean, std = d.feature_statistics()
    np.testing.assert_allclose(mean, 0, atol=1e-5)
    np.testing.assert_allclose(std, 1, atol=1e-4)
    # The defaults are the library's: the explicit defaults and the C default (no options).
    again = datasets.binary_xor(seed=3, dimension=10, samples=200, noise_scale=1.0, minimum_balance=0.15,
                                maximum_attempts=1000, threshold_spread=0.0)
    c_default = l2l.Dataset(l2l._l2l.Dataset.synthetic("binary_xor", None, 3))
    for other in (again, c_default):
        np.testing.assert_array_equal(other.inputs, d.inputs)
        np.testing.assert_array_equal(other.labels, d.labels)
    assert not np.array_equal(datasets.binary_xor(seed=4).inputs, d.inputs)


def test_binary_xor_matches_the_swift_values_and_checks_options():
    small = datasets.binary_xor(seed=3, dimension=3, samples=8)
    # The same numbers DatasetCatalogTests.swift pins for the Swift API.
    np.testing.assert_array_equal(small.inputs[0], np.array([-0.3960832953453064, -0.7033321261405945,
                                                             0.7743836045265198], dtype=np.float32))
    np.testing.assert_array_equal(small.labels, [1, 1, 1, 1, 0, 1, 0, 1])
    balanced = datasets.binary_xor(seed=1, dimension=2, samples=20, minimum_balance=0.5, maximum_attempts=5000)
    assert balanced.labels.sum() == 10
    with pytest.raises(l2l.InvalidArgumentError):
        datasets.binary_xor(dimension=0)
    with pytest.raises(l2l.InvalidArgumentError):
        datasets.binary_xor(noise_scale=-1)
    with pytest.raises(l2l.InvalidArgumentError, match="balance"):
        datasets.binary_xor(samples=3, minimum_balance=0.5, maximum_attempts=20)
    with pytest.raises(TypeError):
        datasets.binary_xor(count=3)                       # not an option of the family
    with pytest.raises(l2l.InvalidArgumentError, match="unknown option"):
        l2l._l2l.Dataset.synthetic("binary_xor", "count=3", 0)
    with pytest.raises(l2l.InvalidArgumentError, match="binary_xor"):
        l2l._l2l.Dataset.synthetic("sine", None, 0)


def test_sine_tasks_shapes_formula_and_seeding():
    t = datasets.sine_tasks(30, 6, seed=11)
    assert set(t) == {"x", "y", "amplitude", "phase"}
    assert t["x"].shape == (30, 6, 1) and t["y"].shape == (30, 6, 1)
    assert t["amplitude"].shape == (30,) and t["phase"].shape == (30,)
    assert all(v.dtype == np.float32 for v in t.values())
    a, p = t["amplitude"].astype(np.float64), t["phase"].astype(np.float64)
    assert np.all((a >= 0.1) & (a <= 5)) and np.all((p >= 0) & (p <= np.pi + 1e-6))
    assert np.all(np.abs(t["x"]) <= 5)
    want = a[:, None, None] * np.sin(t["x"].astype(np.float64) - p[:, None, None])
    np.testing.assert_allclose(t["y"], want, atol=1e-5, rtol=0)
    # Same seed, same arrays; drawn in sequence, so fewer tasks are a prefix.
    again = datasets.sine_tasks(30, 6, seed=11)
    for key in t:
        np.testing.assert_array_equal(again[key], t[key])
    first = datasets.sine_tasks(4, 6, seed=11)
    np.testing.assert_array_equal(first["x"], t["x"][:4])
    np.testing.assert_array_equal(first["phase"], t["phase"][:4])
    assert not np.array_equal(datasets.sine_tasks(30, 6, seed=12)["x"], t["x"])
    np.testing.assert_array_equal(datasets.sine_tasks(3, 2)["x"], datasets.sine_tasks(3, 2, seed=0)["x"])
    assert datasets.sine_tasks(0, 5)["x"].shape == (0, 5, 1)


def test_sine_tasks_match_the_swift_values_and_check_sizes():
    t = datasets.sine_tasks(3, 4, seed=1)
    np.testing.assert_array_equal(t["amplitude"], np.array([4.4622697830200195, 2.4304065704345703,
                                                            3.8123695850372314], dtype=np.float32))
    np.testing.assert_array_equal(t["phase"], np.array([2.810734748840332, 2.061208724975586,
                                                        0.1148056834936142], dtype=np.float32))
    np.testing.assert_array_equal(t["x"][2, :, 0], np.array([-3.5662734508514404, -4.4614152908325195,
                                                             -2.5223679542541504, 1.6327357292175293],
                                                            dtype=np.float32))
    with pytest.raises(l2l.InvalidArgumentError) as e:
        datasets.sine_tasks(-1, 5)
    assert e.value.function == "l2l_sine_tasks"
    with pytest.raises(l2l.InvalidArgumentError):
        datasets.sine_tasks(2, -5)
    with pytest.raises(l2l.ShapeError):
        datasets.sine_tasks(1 << 20, 1 << 12)


def test_quadratic_tasks_shapes_distributions_and_seeding():
    w, y = datasets.quadratic_tasks(50)
    assert w.shape == (50, 10, 10) and y.shape == (50, 10) and w.dtype == np.float32 and y.dtype == np.float32
    values = np.concatenate([w.ravel(), y.ravel()]).astype(np.float64)
    assert abs(values.mean()) < 0.07 and abs(values.var() - 1) < 0.12       # standard normal, 5500 values
    w0, y0 = datasets.quadratic_tasks(50, dimension=10, seed=0, distribution="normal")
    np.testing.assert_array_equal(w0, w)
    np.testing.assert_array_equal(y0, y)
    w3, y3 = datasets.quadratic_tasks(3)
    np.testing.assert_array_equal(w3, w[:3])
    np.testing.assert_array_equal(y3, y[:3])
    assert not np.array_equal(datasets.quadratic_tasks(50, seed=1)[0], w)
    wu, yu = datasets.quadratic_tasks(20, dimension=4, seed=2, distribution="uniform")
    assert wu.shape == (20, 4, 4) and np.all((wu >= 0) & (wu < 1)) and np.all((yu >= 0) & (yu < 1))
    assert abs(wu.mean() - 0.5) < 0.06


def test_quadratic_tasks_match_the_swift_values_and_check_arguments():
    w, y = datasets.quadratic_tasks(2, dimension=3, seed=2)
    np.testing.assert_array_equal(w[1, 0], np.array([-0.5923407077789307, -2.535184144973755,
                                                     1.8921277523040771], dtype=np.float32))
    np.testing.assert_array_equal(y[1], np.array([-1.2546755075454712, 2.817000150680542,
                                                  -1.16343092918396], dtype=np.float32))
    wu, _ = datasets.quadratic_tasks(1, dimension=2, seed=2, distribution="uniform")
    np.testing.assert_array_equal(wu[0].ravel(), np.array([0.42544734477996826, 0.4972800612449646,
                                                           0.974919319152832, 0.3994991183280945], dtype=np.float32))
    with pytest.raises(l2l.InvalidArgumentError, match="distribution"):
        datasets.quadratic_tasks(2, distribution="cauchy")
    with pytest.raises(l2l.InvalidArgumentError):
        datasets.quadratic_tasks(2, dimension=0)
    with pytest.raises(l2l.InvalidArgumentError):
        datasets.quadratic_tasks(2, dimension=20000)
    with pytest.raises(l2l.InvalidArgumentError):
        datasets.quadratic_tasks(-2)
    with pytest.raises(l2l.ShapeError):
        datasets.quadratic_tasks(1 << 20, dimension=100)
