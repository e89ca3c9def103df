"""Pruned learners (l2l.sparse): magnitude pruning, and the sparse export, which must
predict exactly as the masked dense learner it came from."""

import numpy as np
import pytest

import l2l
from conftest import blobs

SIZES = [4, 16, 3]


def m2sgd_trained(tmp_path):
    """A learner trained 20 steps by an (untrained) M²SGD whose random U_β masks part of it."""
    net = l2l.MLP(SIZES, seed=1)
    x, y = blobs(n=64, features=4, classes=3, seed=2)
    m2 = l2l.learned.M2SGD(net, xi=0.0, hidden=4, u_beta_init=0.5, seed=5)
    data = l2l.Dataset.from_arrays(x, y, 3)
    l2l.train(net, m2.as_optimizer(), data, steps=20, batch_size=16)
    return net, x


def test_sparse_export_predicts_exactly_as_the_masked_learner(tmp_path):
    net, x = m2sgd_trained(tmp_path)
    flat = net.flat_parameters()
    zeros = int((flat == 0).sum())
    assert 0 < zeros < flat.size, "the mask must remove some weights and keep others"
    path = tmp_path / "net.sparse.safetensors"
    size = l2l.sparse.save_sparse(net, path)
    again = l2l.MLP(SIZES, seed=99)
    l2l.sparse.load_sparse(path, again)
    assert np.array_equal(again.flat_parameters(), flat)
    assert np.array_equal(again.forward(x), net.forward(x))
    # Every removed weight saves its value (4 bytes) against the export of a dense learner.
    dense = l2l.MLP(SIZES, seed=1)
    assert (dense.flat_parameters() != 0).all()
    saved = l2l.sparse.save_sparse(dense, tmp_path / "dense.safetensors") - size
    assert abs(saved - 4 * zeros) <= 16  # headers differ by a few digits


def test_prune_by_magnitude_removes_the_smallest_of_each_tensor():
    net = l2l.MLP(SIZES, seed=3)
    before = net.flat_parameters()
    mask = l2l.sparse.prune_by_magnitude(net, 0.75)
    after = net.flat_parameters()
    assert np.array_equal(after, before * mask)
    for info in net.param_info():
        part, keep = before[info.offset:info.offset + info.count], mask[info.offset:info.offset + info.count]
        assert int((keep == 0).sum()) == round(0.75 * info.count), info.name
        if 0 < keep.sum() < keep.size:
            assert np.abs(part[keep == 0]).max() <= np.abs(part[keep == 1]).min(), info.name
    with pytest.raises(l2l.InvalidArgumentError):
        l2l.sparse.prune_by_magnitude(net, 1.5)


def test_load_sparse_refuses_other_files(tmp_path):
    net, _ = m2sgd_trained(tmp_path)
    path = tmp_path / "net.sparse.safetensors"
    l2l.sparse.save_sparse(net, path)
    with pytest.raises(l2l.ShapeError):
        l2l.sparse.load_sparse(path, l2l.MLP([4, 8, 3], seed=0))
    other = tmp_path / "dmsgd.safetensors"
    l2l.learned.DMSGD(net, hidden=4).save(other)
    with pytest.raises(l2l.FormatError):
        l2l.sparse.load_sparse(other, net)
