"""Optimisers on your own arrays (init/update): against the equations, against the
learner-bound step, learned optimisers included, and bad input."""

import numpy as np
import pytest

import l2l


def test_adam_update_matches_its_equations_on_a_dict_of_arrays():
    rng = np.random.default_rng(0)
    params = {"w": rng.normal(size=(3, 2)).astype(np.float32), "b": np.zeros(2, np.float32)}
    adam = l2l.optim.Adam(lr=0.1, eps_inside=False)
    state = adam.init(params)
    m = {k: np.zeros_like(v, dtype=np.float64) for k, v in params.items()}
    v = {k: np.zeros_like(x, dtype=np.float64) for k, x in params.items()}
    expected = {k: x.astype(np.float64) for k, x in params.items()}
    for t in range(1, 4):
        grads = {k: rng.normal(size=x.shape).astype(np.float32) for k, x in params.items()}
        params, state = adam.update(params, grads, state)
        for k in expected:
            g = grads[k].astype(np.float64)
            m[k] = 0.9 * m[k] + 0.1 * g
            v[k] = 0.999 * v[k] + 0.001 * g * g
            expected[k] -= 0.1 * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
        assert isinstance(params, dict) and params["w"].dtype == np.float32
        for k in expected:
            np.testing.assert_allclose(params[k], expected[k], rtol=1e-5, atol=1e-6)


def test_in_place_update_and_independent_states():
    sgd = l2l.optim.SGD(lr=0.5, momentum=0.9)
    a = [np.ones(4, np.float32)]
    b = [np.ones(4, np.float32)]
    sa, sb = sgd.init(a), sgd.init(b)
    g = [np.full(4, 2.0, np.float32)]
    result, sa = sgd.update(a, g, sa, out=a)
    assert result is a and np.allclose(a[0], 0.0)          # 1 - 0.5*2
    sgd.update(a, g, sa, out=a)                               # v = 0.9*2 + 2 = 3.8
    assert np.allclose(a[0], -1.9)
    new, sb = sgd.update(b, g, sb)                            # b's state is fresh
    assert np.allclose(new[0], 0.0) and np.allclose(b[0], 1.0)


def test_a_learned_optimizer_updates_arrays_as_it_steps_a_learner():
    net = l2l.learners.MLP([4, 3, 2], seed=1)
    x = np.random.default_rng(3).normal(size=(8, 4)).astype(np.float32)
    y = np.arange(8) % 2
    for learned in [l2l.learned.LSTMOptimizer(preset="mtl2l", seed=2), l2l.learned.MTL2L(net, seed=2)]:
        net.set_parameters([p.value for p in l2l.learners.MLP([4, 3, 2], seed=1).parameters()])
        params = [p.value for p in net.parameters()]
        _, grads = net.loss_and_grad(x, y)
        free = learned.as_optimizer()
        new, _ = free.update(params, grads, free.init(params), batch=x)
        learned.as_optimizer().step(net)
        for mine, theirs in zip(new, net.parameters()):
            np.testing.assert_allclose(mine, theirs.value, rtol=1e-6, atol=1e-7)
    mtl2l = l2l.learned.MTL2L(net).as_optimizer()
    with pytest.raises(l2l.InvalidArgumentError, match="input batch"):
        mtl2l.update(params, grads, mtl2l.init(params))


def test_shapes_a_per_parameter_optimizer_was_built_for():
    net = l2l.learners.MLP([3, 2, 2], seed=0)
    ms = l2l.learned.MetaSGD(net, lr=0.5).as_optimizer()
    assert ms.parameter_shapes == [(3, 2), (2,), (2, 2), (2,)]
    assert l2l.optim.Adam().parameter_shapes is None
    with pytest.raises(l2l.ShapeError, match="built for"):
        ms.init([np.zeros((4, 2), np.float32)])
    params = [np.ones(s, np.float32) for s in ms.parameter_shapes]
    grads = [np.ones(s, np.float32) for s in ms.parameter_shapes]
    new, _ = ms.update(params, grads, ms.init(params))
    assert all(np.allclose(p, 0.5) for p in new)


def test_bad_input_is_a_clear_error_and_changes_nothing():
    adam = l2l.optim.Adam()
    params = [np.ones(3, np.float32)]
    state = adam.init(params)
    with pytest.raises(l2l.ShapeError):
        adam.update(params, [np.ones(4, np.float32)], state)
    with pytest.raises(l2l.NonFiniteError):
        adam.update(params, [np.array([1, np.nan, 1], np.float32)], state, out=params)
    assert np.all(params[0] == 1)
    with pytest.raises(l2l.InvalidArgumentError):
        adam.update("not arrays", params, state)
    with pytest.raises(l2l.StateError):
        hf = l2l.optim.HFFixed()
        hf.update(params, params, hf.init(params))
