"""Regression from Python: float targets with objective="mse" give results, labels give a
clear error (it used to kill the interpreter)."""

import math

import numpy as np
import pytest

import l2l

X = np.array([[1, 2], [-1, 0.5], [3, -2], [0.25, 1]], dtype=np.float32)
Y = np.array([0.5, -1, 2, 0], dtype=np.float32)
W, B = np.array([0.3, -0.7]), 0.1


def linear():
    net = l2l.MLP([2, 1], objective="mse")
    net.set_flat_parameters(np.array([0.3, -0.7, 0.1], dtype=np.float32))
    return net


def test_mse_and_its_gradient_match_numpy():
    r = X.astype(np.float64) @ W + B - Y
    loss, (gw, gb) = linear().loss_and_grad(X, Y)
    assert loss == pytest.approx(np.mean(r ** 2), abs=1e-5)
    np.testing.assert_allclose(gw[:, 0], 2 * X.T.astype(np.float64) @ r / 4, atol=1e-5)
    np.testing.assert_allclose(gb, [2 * r.mean()], atol=1e-5)
    # [n] and [n, 1] targets are the same thing.
    assert linear().loss_and_grad(X, Y[:, None])[0] == loss


def test_the_crash_of_issue_12_is_a_clear_error_and_float_targets_work():
    net = l2l.MLP([1, 40, 40, 1], objective="mse")
    with pytest.raises(l2l.InvalidArgumentError, match="real-valued targets"):
        net.loss_and_grad(np.zeros((4, 1)), np.zeros(4, int))
    loss, grads = net.loss_and_grad(np.zeros((4, 1)), np.zeros(4))
    assert math.isfinite(loss) and len(grads) == 6
    with pytest.raises(l2l.InvalidArgumentError, match="integers"):
        l2l.MLP([2, 3]).loss_and_grad(X, np.zeros((4, 3)))
    with pytest.raises(l2l.ShapeError):
        linear().loss_and_grad(X, np.zeros((4, 2)))
    with pytest.raises(l2l.NonFiniteError):
        linear().loss_and_grad(X, np.array([0, np.nan, 0, 0]))


def test_a_regression_set_from_arrays_is_evaluated_and_trained():
    d = l2l.Dataset.from_arrays(X, Y)
    assert d.is_regression and len(d) == 4 and d.classes == 1
    np.testing.assert_array_equal(d.targets[:, 0], Y)
    np.testing.assert_array_equal(d.read(1, 2)[1][:, 0], Y[1:3])
    with pytest.raises(l2l.StateError):
        d.labels
    net = linear()
    loss, accuracy = net.evaluate(d)
    assert loss == pytest.approx(net.loss_and_grad(X, Y)[0], abs=1e-6)
    assert math.isnan(accuracy)
    with pytest.raises(l2l.InvalidArgumentError):
        l2l.MLP([2, 3]).evaluate(d)
    with pytest.raises(l2l.InvalidArgumentError):
        net.evaluate(l2l.Dataset.from_arrays(X, np.zeros(4, int)))
    with pytest.raises(l2l.StateError):
        l2l.Batches(d, 2).next()
    losses = l2l.train(net, l2l.SGD(lr=0.05), d, steps=50, batch_size=4)
    assert losses[-1] < 0.5 * losses[0]
