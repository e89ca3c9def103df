"""loss_and_grad against a float64 numpy reference and central finite differences."""

import numpy as np
import pytest

import l2l
from conftest import reference_forward, reference_loss


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_gradient_matches_central_differences(activation):
    rng = np.random.default_rng(2024)
    net = l2l.MLP([5, 4, 3], activation=activation, seed=11)
    flat = (rng.standard_normal(net.num_params) * 0.8).astype(np.float32)
    net.set_flat_parameters(flat)
    x = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=8)
    info = net.param_info()

    def unflatten(v):
        return [v[i.offset:i.offset + i.count].reshape(i.shape) for i in info]

    theta = flat.astype(np.float64)
    if activation == "relu":
        # Central differences are only valid away from ReLU's kink: no hidden
        # pre-activation may be within reach of the perturbation.
        w0, b0 = unflatten(theta)[:2]
        assert np.abs(x @ w0 + b0).min() > 1e-3

    loss, grads = net.loss_and_grad(x, y)
    # The loss itself: float32 forward vs float64 reference, ~1e-6 relative.
    assert loss == pytest.approx(reference_loss(unflatten(theta), x, y, activation), rel=1e-5, abs=1e-6)
    assert [g.shape for g in grads] == [i.shape for i in info]
    analytic = np.concatenate([g.reshape(-1) for g in grads])
    np.testing.assert_array_equal(analytic, net.flat_gradients())

    # Float64 central differences with h = 1e-6: truncation error ~h^2 * |f'''| ~ 1e-12 and
    # rounding ~1e-16 / h = 1e-10, so the reference is good to ~1e-9. The library computes
    # in float32 (epsilon 6e-8) through a handful of O(1) products and sums, so its
    # gradient is good to ~1e-6 of the gradient's scale; rtol 1e-4 / atol 1e-5 leave a
    # wide margin yet catch any wrong term (those are O(0.01) or more here).
    h = 1e-6
    numeric = np.empty_like(theta)
    for k in range(theta.size):
        plus, minus = theta.copy(), theta.copy()
        plus[k] += h
        minus[k] -= h
        numeric[k] = (reference_loss(unflatten(plus), x, y, activation)
                      - reference_loss(unflatten(minus), x, y, activation)) / (2 * h)
    assert np.abs(numeric).max() > 1e-2  # a non-trivial gradient
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-5)


def test_sgd_step_is_theta_minus_lr_grad(rng):
    net = l2l.MLP([5, 4, 3], seed=1)
    before = net.flat_parameters()
    x = rng.standard_normal((6, 5))
    y = rng.integers(0, 3, size=6)
    _, grads = net.loss_and_grad(x, y)
    g = np.concatenate([a.reshape(-1) for a in grads])
    opt = l2l.SGD(lr=0.25)
    opt.step(net)
    np.testing.assert_allclose(net.flat_parameters(), before - np.float32(0.25) * g, rtol=1e-6, atol=1e-7)
    with pytest.raises(l2l.StateError):  # the step consumed the gradient
        opt.step(net)
    opt.reset()


def test_logits_shift_with_bias(rng):
    # A direct check that the output bias lands on the logits (offsets of the last tensor).
    net = l2l.MLP([5, 4, 3], seed=2)
    x = rng.standard_normal((4, 5))
    base = net.forward(x)
    params = [p.value for p in net.parameters()]
    params[-1] = params[-1] + np.array([1.0, -2.0, 0.5], dtype=np.float32)
    net.set_parameters(params)
    np.testing.assert_allclose(net.forward(x) - base, np.tile([1.0, -2.0, 0.5], (4, 1)), atol=1e-5)
    np.testing.assert_allclose(net.forward(x), reference_forward(params, x.astype(np.float32)), rtol=1e-5, atol=1e-5)
