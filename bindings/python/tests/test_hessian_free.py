"""Hessian-free optimisers through Python: training, a step by hand checked against a
float64 numpy Gauss-Newton solve, meta-testing, and option errors."""

import numpy as np
import pytest

import l2l
from conftest import blobs, reference_forward


def gauss_newton_matrix(params, x):
    """G = J^T H_L J of a one-layer softmax model (logits x W + b) in float64, with the
    mean cross-entropy's H_L = (diag(s) - s s^T)/N per example; parameters flattened
    W (row-major [in, out]) then b."""
    w, b = params
    n, d = x.shape
    c = w.shape[1]
    z = reference_forward(params, x)
    s = np.exp(z - z.max(axis=1, keepdims=True))
    s /= s.sum(axis=1, keepdims=True)
    p = d * c + c
    g = np.zeros((p, p))
    for i in range(n):
        # dz_i/dtheta: [c, p]: z_ik = sum_j x_ij W_jk + b_k
        jac = np.zeros((c, p))
        for k in range(c):
            jac[k, k:d * c:c] = x[i]
            jac[k, d * c + k] = 1.0
        h = (np.diag(s[i]) - np.outer(s[i], s[i])) / n
        g += jac.T @ h @ jac
    return g


def test_one_step_matches_a_dense_gauss_newton_solve(rng):
    x, y = blobs(n=30, features=4, classes=3, seed=1)
    net = l2l.MLP([4, 3], seed=2)
    params = [p.value.astype(np.float64) for p in net.parameters()]
    theta = net.flat_parameters().astype(np.float64)
    opt = l2l.HFFixed(lr=0.5, damping=0.1, cg_iters=50, tol=0.0, warm_start=0.0)
    _, grads = net.loss_and_grad(x, y)
    g = np.concatenate([gr.ravel() for gr in grads]).astype(np.float64)
    opt.step(net)
    d = np.linalg.solve(gauss_newton_matrix(params, x.astype(np.float32).astype(np.float64)) + 0.1 * np.eye(len(g)), g)
    np.testing.assert_allclose(net.flat_parameters(), theta - 0.5 * d, atol=2e-4, rtol=1e-3)
    # The step used up the stored gradient and batch.
    with pytest.raises(l2l.StateError):
        opt.step(net)


@pytest.mark.parametrize("make", [lambda: l2l.HFFixed(cg_iters=5), lambda: l2l.HFLM(cg_iters=5)])
def test_training_and_meta_testing(make):
    x, y = blobs(n=200, features=6, classes=3, seed=3)
    data = l2l.Dataset.from_arrays(x, y, 3)
    net = l2l.MLP([6, 8, 3], seed=4)
    before, _ = net.loss_and_grad(x, y)
    losses = l2l.train(net, make(), data, steps=20, batch_size=50, seed=5)
    assert np.all(np.isfinite(losses)) and len(losses) == 20
    after, _ = net.loss_and_grad(x, y)
    assert after < 0.5 * before
    result = l2l.meta_test(make(), net, data, data, learners=2, steps=8, batch_size=50, eval_steps=[0, 8])
    acc = np.asarray(result.test_accuracy)
    assert acc.shape == (2, 2) and np.all(acc[:, 1] > acc[:, 0])


def test_options_and_errors():
    opt = l2l.HFLM(lr=0.5, damping=0.1, decay=0.9)
    assert opt.damping == 0.1 and opt.decay == 0.9 and opt.kind == "hf_lm"
    assert "damping=0.1" in repr(opt)
    assert l2l.Optimizer("hf_fixed", **{"lambda": 0.5}).kind == "hf_fixed"
    for bad in [lambda: l2l.HFFixed(damping=0), lambda: l2l.HFFixed(lr=-1), lambda: l2l.HFFixed(cg_iters=0),
                lambda: l2l.HFFixed(warm_start=2), lambda: l2l.HFLM(decay=1.0), lambda: l2l.HFLM(damping=5),
                lambda: l2l.HFLM(lambda_min=0.5, lambda_max=0.1), lambda: l2l.HFLM(rho="later"),
                lambda: l2l.Optimizer("hf_fixed", decay=0.5)]:
        with pytest.raises(l2l.InvalidArgumentError):
            bad()
