"""Convnet, ResNet and MLP objectives from Python: sizes, shapes, gradients, batch norm."""
import numpy as np
import pytest

import l2l


def test_resnet20_has_269722_parameters_and_typed_tensors():
    net = l2l.learners.ResNet20()
    assert net.num_params == 269_722
    kinds = {p.kind for p in net.param_info()}
    assert kinds == {"conv_kernel", "bn_gamma", "bn_beta", "fc_weight", "fc_bias"}
    assert net.input_features == 3 * 32 * 32 and net.classes == 10


def test_convnet_default_is_the_fashion_mnist_net():
    net = l2l.learners.Convnet()
    assert net.num_params == 832 + 51_264 + 401_536 + 1_290
    assert [p.shape for p in net.param_info()][:2] == [(32, 1, 5, 5), (32,)]


def test_convnet_gradient_matches_finite_differences():
    # tanh and average pooling: smooth, so central differences are meaningful.
    net = l2l.learners.Convnet(input_shape=(1, 6, 6), channels=(2,), kernel=3, hidden=(4,), classes=3,
                               activation="tanh", pooling="avg", seed=1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 36)).astype(np.float32)
    y = np.array([0, 1, 2, 1], dtype=np.int32)
    loss, grads = net.loss_and_grad(x, y)
    flat = np.concatenate([g.ravel() for g in grads])
    theta = net.flat_parameters().astype(np.float64)
    h = 1e-3
    for i in rng.choice(theta.size, 12, replace=False):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += h
        minus[i] -= h
        net.set_flat_parameters(plus)
        lp, _ = net.loss_and_grad(x, y)
        net.set_flat_parameters(minus)
        lm, _ = net.loss_and_grad(x, y)
        # float32 loss of order 1: rounding ~1e-7/h = 1e-4, truncation ~h² = 1e-6.
        assert abs((lp - lm) / (2 * h) - flat[i]) < 2e-3 + 1e-2 * abs(flat[i])
    net.set_flat_parameters(theta)


def test_resnet_batch_norm_modes_differ_and_training_learns():
    net = l2l.learners.ResNet(input_shape=(3, 8, 8), stages=(4, 8), blocks=1, classes=2, seed=3)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 3 * 8 * 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    data = l2l.datasets.Dataset.from_arrays(x, y, classes=2)
    before = net.evaluate(data)[0]
    losses = l2l.train(net, l2l.optim.SGD(lr=0.1), data, steps=60, batch_size=16, seed=0)
    assert losses[-10:].mean() < losses[:10].mean()
    after = net.evaluate(data)[0]   # running statistics, evaluation mode
    assert after < before


def test_mlp_objectives():
    binary = l2l.learners.MLP([3, 8, 1], objective="bce", seed=0)
    x = np.random.default_rng(2).standard_normal((10, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    loss, _ = binary.loss_and_grad(x, y)
    z = binary.forward(x)[:, 0].astype(np.float64)
    expected = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    assert loss == pytest.approx(expected, rel=1e-5)
    with pytest.raises(l2l.InvalidArgumentError):
        l2l.learners.MLP([3, 2], objective="bce")
    with pytest.raises(l2l.InvalidArgumentError):
        l2l.learners.MLP([3, 2], objective="hinge")
