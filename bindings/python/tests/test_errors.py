"""Every C status the bindings can trigger maps to its exception class, which is also an
l2l.Error and names the C function in its message."""

import gzip
import struct

import numpy as np
import pytest

import l2l
from conftest import blobs, ctrl_c_after


def expect(cls, function, call, *args, **kwargs):
    with pytest.raises(cls) as info:
        call(*args, **kwargs)
    e = info.value
    assert isinstance(e, l2l.Error)
    assert function in str(e) and e.function == function
    assert str(e).startswith(function + ":")
    return e


def idx_bytes(array, type_code=0x08):
    """An IDX file: magic 0x0000TTNN, big-endian uint32 dimensions, then the data."""
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def idx_files(tmp_path):
    images = np.arange(4 * 3 * 2, dtype=np.uint8).reshape(4, 3, 2) * 10
    labels = np.array([3, 0, 9, 1], dtype=np.uint8)
    img, lab = tmp_path / "images.idx", tmp_path / "labels.idx.gz"
    img.write_bytes(idx_bytes(images))
    lab.write_bytes(gzip.compress(idx_bytes(labels)))
    return img, lab, images, labels


def test_valid_idx_files_load(idx_files):
    img, lab, images, labels = idx_files
    d = l2l.load_idx(img, lab)
    assert len(d) == 4 and d.features == 6 and d.classes == 10
    np.testing.assert_allclose(d.inputs, images.reshape(4, 6) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(d.labels, labels)


def test_unknown_option_is_invalid_argument():
    e = expect(l2l.InvalidArgumentError, "l2l_optimizer_create", l2l.Optimizer, "sgd", lr=0.1, bogus=1)
    assert isinstance(e, ValueError) and "bogus" in str(e)
    assert e.status == l2l._l2l.STATUS["ERR_INVALID_ARGUMENT"]
    assert e.detail and "bogus" in e.detail
    expect(l2l.InvalidArgumentError, "l2l_learner_create", l2l.Learner, "mlp", "sizes=5,3; depth=2")
    expect(l2l.InvalidArgumentError, "l2l_learner_create", l2l.MLP, [5, 3], activation="swish")
    expect(l2l.InvalidArgumentError, "l2l_learner_create", l2l.Learner, "resnet1000", "")
    expect(l2l.InvalidArgumentError, "l2l_dataset_create", l2l.Dataset.from_arrays,
           np.zeros((2, 3)), [0, 5], classes=3)
    expect(l2l.InvalidArgumentError, "l2l_dataset_load", l2l.fashion_mnist, "validation")
    with pytest.raises(l2l.InvalidArgumentError):  # rejected before it can inject options
        l2l.MLP([5, 3], activation="relu; init=he")


def test_wrong_feature_count_is_shape_error(small_mlp):
    e = expect(l2l.ShapeError, "l2l_learner_forward", small_mlp.forward, np.zeros((2, 4)))
    assert isinstance(e, ValueError)
    expect(l2l.ShapeError, "l2l_learner_loss_grad", small_mlp.loss_and_grad, np.zeros((2, 6)), [0, 1])
    expect(l2l.ShapeError, "l2l_learner_set_params", small_mlp.set_flat_parameters, np.zeros(38))
    d = l2l.Dataset.from_arrays(np.zeros((3, 4)), [0, 1, 2], 3)
    expect(l2l.ShapeError, "l2l_learner_evaluate", small_mlp.evaluate, d)
    expect(l2l.ShapeError, "l2l_dataset_read", d.read, 2, 5)


def test_nan_input_is_non_finite(small_mlp):
    x = np.ones((3, 5))
    x[1, 2] = np.nan
    e = expect(l2l.NonFiniteError, "l2l_learner_forward", small_mlp.forward, x)
    assert isinstance(e, ArithmeticError) and isinstance(e, ValueError)
    expect(l2l.NonFiniteError, "l2l_learner_loss_grad", small_mlp.loss_and_grad, x, [0, 1, 2])
    before = small_mlp.flat_parameters()
    bad = before.copy()
    bad[7] = np.inf
    expect(l2l.NonFiniteError, "l2l_learner_set_params", small_mlp.set_flat_parameters, bad)
    np.testing.assert_array_equal(small_mlp.flat_parameters(), before)  # nothing changed
    expect(l2l.NonFiniteError, "l2l_dataset_create", l2l.Dataset.from_arrays, x, [0, 1, 2], 3)


def test_missing_file_is_file_error(tmp_path, idx_files):
    img, lab, _, _ = idx_files
    e = expect(l2l.FileError, "l2l_dataset_load_idx", l2l.load_idx, tmp_path / "missing.idx", lab)
    assert isinstance(e, OSError) and "missing.idx" in str(e)
    expect(l2l.FileError, "l2l_dataset_load", l2l.fashion_mnist, "test", directory=tmp_path / "nowhere")


@pytest.mark.parametrize("damage", ["truncated", "bad magic", "truncated gzip", "count mismatch", "header only"])
def test_corrupt_idx_file_is_format_error(tmp_path, idx_files, damage):
    img, lab, images, labels = idx_files
    data = img.read_bytes()
    bad = tmp_path / "bad.idx"
    if damage == "truncated":
        bad.write_bytes(data[:-5])
    elif damage == "bad magic":
        bad.write_bytes(b"\x12\x34" + data[2:])
    elif damage == "truncated gzip":
        bad = tmp_path / "bad.idx.gz"
        bad.write_bytes(gzip.compress(data)[:-12])
    elif damage == "count mismatch":
        bad.write_bytes(idx_bytes(images[:3]))
    else:
        bad.write_bytes(data[:6])
    e = expect(l2l.FormatError, "l2l_dataset_load_idx", l2l.load_idx, bad, lab)
    assert isinstance(e, ValueError)


def test_step_before_gradient_is_state_error(small_mlp):
    e = expect(l2l.StateError, "l2l_optimizer_step", l2l.SGD(0.1).step, small_mlp)
    assert isinstance(e, RuntimeError)
    expect(l2l.StateError, "l2l_learner_get_grads", small_mlp.flat_gradients)
    small_mlp.loss_and_grad(np.ones((2, 5)), [0, 1])
    small_mlp.set_flat_parameters(small_mlp.flat_parameters())  # forgets the gradient
    expect(l2l.StateError, "l2l_optimizer_step", l2l.SGD(0.1).step, small_mlp)


def synthetic():
    x, y = blobs(n=200, features=8, classes=3, seed=1)
    return l2l.Dataset.from_arrays(x, y, 3)


def test_callback_cancel_is_cancelled_error():
    net, data = l2l.MLP([8, 6, 3], seed=0), synthetic()
    calls = []

    def stop_at_5(step, total, loss):
        calls.append((step, total, loss))
        return step == 5

    before = net.flat_parameters()
    e = expect(l2l.CancelledError, "l2l_train", l2l.train, net, l2l.SGD(0.1), data,
               steps=50, batch_size=16, callback=stop_at_5)
    assert [c[0] for c in calls] == [1, 2, 3, 4, 5] and all(c[1] == 50 for c in calls)
    assert len(e.losses) == 5 and np.array_equal(e.losses, np.float32([c[2] for c in calls]))
    assert not np.array_equal(net.flat_parameters(), before)  # the five steps are kept


def test_callback_exception_propagates_and_cancels():
    net, data = l2l.MLP([8, 6, 3], seed=0), synthetic()

    class Boom(Exception):
        pass

    def boom(step, total, loss):
        if step == 3:
            raise Boom("from the callback")

    with pytest.raises(Boom, match="from the callback"):
        l2l.train(net, l2l.SGD(0.1), data, steps=50, batch_size=16, callback=boom)


def test_using_a_learner_inside_its_training_is_state_error():
    net, data = l2l.MLP([8, 6, 3], seed=0), synthetic()

    def peek(step, total, loss):
        net.flat_parameters()

    e = expect(l2l.StateError, "l2l_learner_get_params", l2l.train, net, l2l.SGD(0.1), data,
               steps=5, callback=peek)
    assert "in use" in str(e)
    net.flat_parameters()  # usable again afterwards


def test_ctrl_c_cancels_training_and_raises_keyboard_interrupt():
    # No Python callback at all: the shim's trampoline checks for signals after each step.
    net, data = l2l.MLP([8, 6, 3], seed=0), synthetic()
    batches = l2l.Batches(data, batch_size=8, seed=0)
    opt = l2l.SGD(0.01)
    before = net.flat_parameters()
    with ctrl_c_after(0.3), pytest.raises(KeyboardInterrupt):
        l2l._l2l.train(net._handle, opt._handle, batches._handle, 10**9, None, None)
    assert not np.array_equal(net.flat_parameters(), before)
    net.forward(np.zeros((1, 8)))  # handles are free again


def test_diverging_loss_is_non_finite():
    x, y = blobs(n=64, features=8, classes=3, seed=2)
    net, data = l2l.MLP([8, 6, 3], seed=0), l2l.Dataset.from_arrays(x * 1e3, y, 3)
    e = expect(l2l.NonFiniteError, "l2l_train", l2l.train, net, l2l.SGD(lr=1e30), data, steps=100, batch_size=16)
    assert len(e.losses) < 100 and np.all(np.isfinite(net.flat_parameters()))


def test_every_status_maps_to_its_class():
    table = {
        1: l2l.InvalidArgumentError, 2: l2l.ShapeError, 3: l2l.NonFiniteError, 4: l2l.FileError,
        5: l2l.FormatError, 6: l2l.BufferTooSmallError, 7: l2l.CancelledError, 8: l2l.StateError,
        9: l2l.InternalError,
    }
    l2l._l2l._check(0, "l2l_anything")  # OK raises nothing
    for status, cls in table.items():
        with pytest.raises(cls) as info:
            l2l._l2l._check(status, "l2l_some_function")
        assert type(info.value) is cls and info.value.status == status
        assert str(info.value).startswith("l2l_some_function: ")
    with pytest.raises(l2l.Error) as info:
        l2l._l2l._check(42, "l2l_future")
    assert type(info.value) is l2l.Error
    assert l2l._l2l.status_string(7) == "cancelled"


def test_losses_buffer_too_small_is_checked():
    net, data = l2l.MLP([8, 6, 3], seed=0), synthetic()
    batches, opt = l2l.Batches(data, 16), l2l.SGD(0.1)
    expect(l2l.BufferTooSmallError, "l2l_train", l2l._l2l.train, net._handle, opt._handle, batches._handle,
           10, np.zeros(9, np.float32), None)
