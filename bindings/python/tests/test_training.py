"""Determinism and learning on small synthetic data."""

import numpy as np
import pytest

import l2l
from conftest import blobs


def test_same_seed_same_parameters():
    a = l2l.MLP([10, 7, 4], seed=5)
    b = l2l.MLP([10, 7, 4], seed=5)
    c = l2l.MLP([10, 7, 4], seed=6)
    np.testing.assert_array_equal(a.flat_parameters(), b.flat_parameters())
    assert not np.array_equal(a.flat_parameters(), c.flat_parameters())
    # fan_in_uniform: U(+-1/sqrt(fan_in)) for weights and biases.
    for p in a.parameters():
        bound = 1 / np.sqrt(10 if p.name.startswith("fc0") else 7)
        assert np.abs(p.value).max() <= bound


@pytest.mark.parametrize("init", ["glorot", "he"])
def test_other_initialisations_have_zero_biases(init):
    net = l2l.MLP([10, 7, 4], init=init, seed=1)
    for p in net.parameters():
        if p.name.endswith("bias"):
            assert not p.value.any()
        else:
            assert p.value.std() > 0


def test_same_seeds_same_training_run():
    x, y = blobs(n=150, features=6, classes=3, seed=3)
    data = l2l.Dataset.from_arrays(x, y, 3)
    runs = []
    for _ in range(2):
        net = l2l.MLP([6, 8, 3], seed=4)
        losses = l2l.train(net, l2l.SGD(lr=0.05), data, epochs=2, batch_size=20, seed=8)
        runs.append((losses, net.flat_parameters()))
    assert len(runs[0][0]) == 2 * 8  # ceil(150 / 20) = 8 steps per epoch
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    other = l2l.train(l2l.MLP([6, 8, 3], seed=4), l2l.SGD(lr=0.05), data, epochs=2, batch_size=20, seed=9)
    assert not np.array_equal(other, runs[0][0])  # another shuffle


def test_training_lowers_the_loss():
    x, y = blobs(n=600, features=10, classes=4, seed=0)
    train = l2l.Dataset.from_arrays(x[:500], y[:500], 4)
    test = l2l.Dataset.from_arrays(x[500:], y[500:], 4)
    l2l.standardize_splits(train, test)
    net = l2l.MLP([10, 16, 4], seed=0)
    loss_before, acc_before = net.evaluate(test)
    losses = l2l.train(net, l2l.SGD(lr=0.1), train, epochs=5, batch_size=32, seed=1)
    assert losses.dtype == np.float32 and losses.shape == (5 * 16,)
    assert np.all(np.isfinite(losses))
    assert losses[-10:].mean() < 0.5 * losses[:3].mean()
    loss_after, acc_after = net.evaluate(test)
    assert loss_after < 0.5 * loss_before
    assert acc_after > 0.9 and acc_after == net.accuracy(test)


def test_manual_loop_matches_train_on_the_same_batches():
    x, y = blobs(n=64, features=5, classes=3, seed=6)
    data = l2l.Dataset.from_arrays(x, y, 3)
    a, b = l2l.MLP([5, 4, 3], seed=2), l2l.MLP([5, 4, 3], seed=2)
    losses = l2l.train(a, l2l.SGD(lr=0.1), data, steps=6, batch_size=16, seed=3)
    opt, manual = l2l.SGD(lr=0.1), []
    batches = l2l.Batches(data, batch_size=16, seed=3)
    for _ in range(6):
        batch = batches.next() or batches.next()
        loss, _ = b.loss_and_grad(*batch)
        opt.step(b)
        manual.append(loss)
    np.testing.assert_array_equal(np.float32(manual), losses)
    np.testing.assert_array_equal(a.flat_parameters(), b.flat_parameters())


def test_train_continues_a_batches_iterator_and_counts_steps():
    x, y = blobs(n=50, features=5, classes=3, seed=7)
    batches = l2l.Batches(l2l.Dataset.from_arrays(x, y, 3), batch_size=10, seed=0, drop_last=True)
    net = l2l.MLP([5, 4, 3], seed=0)
    assert len(l2l.train(net, l2l.SGD(0.1), batches)) == 5  # default: one epoch
    assert len(l2l.train(net, l2l.SGD(0.1), batches, epochs=0.4)) == 2
    assert len(l2l.train(net, l2l.SGD(0.1), batches, steps=0)) == 0
    with pytest.raises(l2l.InvalidArgumentError):
        l2l.train(net, l2l.SGD(0.1), batches, steps=3, epochs=1)


def test_progress_bar_on_stderr(capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):  # exercise the built-in bar even if tqdm is installed
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    x, y = blobs(n=40, features=5, classes=3, seed=7)
    l2l.train(l2l.MLP([5, 4, 3]), l2l.SGD(0.1), l2l.Dataset.from_arrays(x, y, 3), steps=7,
              batch_size=8, progress=True)
    err = capsys.readouterr().err
    assert "7/7" in err and "loss" in err and err.endswith("\n")
