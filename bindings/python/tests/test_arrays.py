"""Arrays cross the shim both ways with the right values at the right offsets.

Debian's pybind11 2.10.3 + NumPy 2 reads and writes numpy arrays at wrong offsets when
pybind11/numpy.h is used; these tests use non-trivial values everywhere so that any
such slip shows."""

import numpy as np
import pytest

import l2l
from conftest import reference_forward


def test_set_flat_parameters_round_trip_exactly(small_mlp, rng):
    values = rng.standard_normal(small_mlp.num_params).astype(np.float32)
    small_mlp.set_flat_parameters(values)
    back = small_mlp.flat_parameters()
    assert back.dtype == np.float32 and back.shape == (small_mlp.num_params,)
    np.testing.assert_array_equal(back, values)
    # The returned array is a copy the library no longer touches.
    back[:] = 0
    np.testing.assert_array_equal(small_mlp.flat_parameters(), values)


def test_parameters_names_shapes_and_layout(small_mlp, rng):
    assert small_mlp.num_params == 5 * 4 + 4 + 4 * 3 + 3
    info = small_mlp.param_info()
    assert [(i.name, i.kind, i.shape, i.offset, i.count) for i in info] == [
        ("fc0.weight", "fc_weight", (5, 4), 0, 20),
        ("fc0.bias", "fc_bias", (4,), 20, 4),
        ("fc1.weight", "fc_weight", (4, 3), 24, 12),
        ("fc1.bias", "fc_bias", (3,), 36, 3),
    ]
    values = np.arange(small_mlp.num_params, dtype=np.float32) * 0.25 - 3
    small_mlp.set_flat_parameters(values)
    params = small_mlp.parameters()
    assert [p.name for p in params] == [i.name for i in info]
    for p, i in zip(params, info):
        assert p.value.shape == i.shape and p.value.dtype == np.float32
        np.testing.assert_array_equal(p.value.reshape(-1), values[i.offset:i.offset + i.count])
    # Row-major [in, out]: fc0.weight[1, 0] is flat element 4.
    assert params[0].value[1, 0] == values[4]


def test_set_parameters_from_arrays_and_mapping(small_mlp, rng):
    arrays = [rng.standard_normal(i.shape) for i in small_mlp.param_info()]  # float64 in
    small_mlp.set_parameters(arrays)
    for p, a in zip(small_mlp.parameters(), arrays):
        np.testing.assert_array_equal(p.value, a.astype(np.float32))
    small_mlp.set_parameters({p.name: -p.value for p in small_mlp.parameters()})
    for p, a in zip(small_mlp.parameters(), arrays):
        np.testing.assert_array_equal(p.value, -a.astype(np.float32))
    with pytest.raises(l2l.ShapeError):
        small_mlp.set_parameters([a.T for a in arrays])


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_forward_matches_numpy_reference(activation, rng):
    net = l2l.MLP([6, 5, 4, 3], activation=activation, seed=3)
    net.set_flat_parameters(rng.standard_normal(net.num_params) * 0.7)
    x = rng.standard_normal((9, 6))
    logits = net.forward(x)
    assert logits.shape == (9, 3) and logits.dtype == np.float32
    expected = reference_forward([p.value for p in net.parameters()], x.astype(np.float32), activation)
    # float32 arithmetic on O(1) values through three small layers: ~1e-6 relative error.
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(net.predict(x), np.argmax(expected, axis=1))


def test_forward_accepts_any_layout_and_dtype(small_mlp, rng):
    x = rng.standard_normal((7, 10))
    strided = x[:, ::2]                      # non-contiguous float64 view
    fortran = np.asfortranarray(x[:, :5])
    as_list = x[:, :5].tolist()
    reference = small_mlp.forward(np.ascontiguousarray(x[:, ::2], dtype=np.float32))
    np.testing.assert_array_equal(small_mlp.forward(strided), reference)
    np.testing.assert_array_equal(small_mlp.forward(fortran), small_mlp.forward(x[:, :5].astype(np.float32)))
    np.testing.assert_array_equal(small_mlp.forward(as_list), small_mlp.forward(x[:, :5].astype(np.float32)))


def test_shim_rejects_wrong_dtype_layout_and_rank(small_mlp):
    h = small_mlp._handle
    with pytest.raises(l2l.InvalidArgumentError, match="float32.*format 'd'") as e:
        h.forward(np.zeros((2, 5)))
    assert e.value.function == "l2l_learner_forward"
    with pytest.raises(l2l.InvalidArgumentError, match="C-contiguous"):
        h.forward(np.zeros((2, 10), np.float32)[:, ::2])
    with pytest.raises(l2l.ShapeError, match="2 dimensions, got 1"):
        h.forward(np.zeros(5, np.float32))
    with pytest.raises(l2l.InvalidArgumentError, match="numpy array"):
        h.forward([[0.0] * 5])
    with pytest.raises(l2l.InvalidArgumentError, match="int32"):
        h.loss_grad(np.zeros((2, 5), np.float32), np.zeros(2, np.int64))
    with pytest.raises(l2l.ShapeError, match="2 rows but there are 3 labels"):
        h.loss_grad(np.zeros((2, 5), np.float32), np.zeros(3, np.int32))
    with pytest.raises(l2l.ShapeError):
        small_mlp.set_flat_parameters(np.zeros((3, 13), np.float32))
    with pytest.raises(l2l.InvalidArgumentError, match="integers"):
        small_mlp.loss_and_grad(np.zeros((2, 5)), [0.5, 1.0])


def test_dataset_round_trip(rng):
    x = rng.standard_normal((11, 7)).astype(np.float32)
    y = rng.integers(0, 4, size=11)
    d = l2l.Dataset.from_arrays(x, y, classes=4)
    assert len(d) == 11 and d.features == 7 and d.classes == 4 and d.shape == (11, 7)
    np.testing.assert_array_equal(d.inputs, x)
    np.testing.assert_array_equal(d.labels, y.astype(np.int32))
    assert d.inputs.dtype == np.float32 and d.labels.dtype == np.int32
    part_x, part_y = d.read(3, 5)
    np.testing.assert_array_equal(part_x, x[3:8])
    np.testing.assert_array_equal(part_y, y[3:8])
    mean, std = d.statistics()
    assert mean == pytest.approx(float(x.astype(np.float64).mean()), abs=1e-6)
    assert std == pytest.approx(float(x.astype(np.float64).std()), rel=1e-5)
    assert l2l.Dataset.from_arrays(x, y).classes == int(y.max()) + 1
    # Inputs are copied: changing the source array changes nothing.
    x[:] = 0
    assert np.abs(d.inputs).sum() > 0


def test_standardize_in_place(rng):
    x = rng.standard_normal((20, 3)) * 3 + 5
    train = l2l.Dataset.from_arrays(x, np.zeros(20, int), 2)
    test = l2l.Dataset.from_arrays(x[:5] * 2, np.zeros(5, int), 2)
    mean, std = l2l.standardize_splits(train, test)
    np.testing.assert_allclose(train.inputs, (x.astype(np.float32) - mean) / std, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(test.inputs, (x[:5].astype(np.float32) * 2 - mean) / std, rtol=1e-5, atol=1e-5)
    m, s = train.statistics()
    assert m == pytest.approx(0, abs=1e-5) and s == pytest.approx(1, rel=1e-4)


def test_batches_cover_an_epoch(rng):
    x = np.arange(23 * 2, dtype=np.float32).reshape(23, 2)
    y = np.arange(23) % 5
    batches = l2l.Batches(l2l.Dataset.from_arrays(x, y, 5), batch_size=4, seed=9)
    assert len(batches) == 6
    seen = []
    for bx, by in batches:
        assert bx.shape[1] == 2 and len(bx) == len(by) <= 4
        np.testing.assert_array_equal(by, (bx[:, 0] / 2).astype(int) % 5)  # rows stay with labels
        seen.extend((bx[:, 0] / 2).astype(int))
    assert sorted(seen) == list(range(23)) and seen != list(range(23))
    first = batches.next()  # a new epoch, in a new order
    assert first is not None and len(first[0]) == 4
    ordered = l2l.Batches(l2l.Dataset.from_arrays(x, y, 5), batch_size=4, shuffle=False, drop_last=True)
    assert len(ordered) == 5
    got = [bx for bx, _ in ordered]
    assert len(got) == 5
    np.testing.assert_array_equal(np.concatenate(got), x[:20])
