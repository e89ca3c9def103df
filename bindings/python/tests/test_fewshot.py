"""l2l.fewshot: MAML, first-order MAML and Meta-SGD on the sine tasks, from Python."""

import numpy as np
import pytest

import l2l
from l2l import fewshot

TASKS = fewshot.SineTasks()


def small_net():
    return l2l.MLP([1, 16, 1], activation="tanh", objective="mse", seed=2)


def test_adaptation_is_gradient_descent_from_the_learned_initialisation():
    net = small_net()
    maml = fewshot.MAML(net, inner_lr=0.1, seed=4)
    x = np.linspace(-4, 4, 5)[:, None]
    y = 2 * np.sin(x - 1)
    init = maml.initialization()
    np.testing.assert_array_equal(init.flat_parameters(), net.flat_parameters())
    np.testing.assert_array_equal(maml.adapt(x, y, steps=0).flat_parameters(), init.flat_parameters())
    _, grads = init.loss_and_grad(x, y)
    expected = init.flat_parameters() - 0.1 * np.concatenate([g.ravel() for g in grads])
    np.testing.assert_allclose(maml.adapt(x, y).flat_parameters(), expected, atol=1e-6)
    assert maml.learning_rates() is None


@pytest.mark.parametrize("make", [lambda n: fewshot.MAML(n, inner_lr=0.1, meta_lr=0.01),
                                  lambda n: fewshot.MAML(n, inner_lr=0.1, meta_lr=0.01, first_order=True),
                                  lambda n: fewshot.MetaSGD(n, inner_lr=0.1, meta_lr=0.01)])
def test_meta_training_lowers_the_held_out_loss(make):
    meta = make(l2l.MLP([1, 40, 40, 1], objective="mse"))
    before = meta.evaluate(TASKS, shots=[10], num_tasks=40, seed=9)
    losses = meta.fit(TASKS, meta_iterations=150, meta_batch=5, shots=10)
    after = meta.evaluate(TASKS, shots=[10], num_tasks=40, seed=9)
    assert losses.shape == (150,) and np.all(np.isfinite(losses))
    assert after.means[0] < 0.6 * before.means[0], (before.means, after.means)
    assert meta.iterations == 150


def test_evaluation_reports_per_task_losses_means_and_intervals():
    meta = fewshot.MetaSGD(small_net(), inner_lr=0.05)
    ev = meta.evaluate(TASKS, shots=[5, 10, 20], num_tasks=12, seed=3)
    assert ev.shots == [5, 10, 20] and ev.losses.shape == (3, 12)
    np.testing.assert_allclose(ev.means, ev.losses.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(ev.intervals, 1.96 * ev.losses.std(axis=1, ddof=1) / np.sqrt(12), rtol=1e-4)
    np.testing.assert_array_equal(meta.evaluate(TASKS, shots=[5], num_tasks=12, seed=3).losses[0], ev.losses[0])


def test_meta_sgd_learns_its_rates_and_files_round_trip(tmp_path):
    net = small_net()
    meta = fewshot.MetaSGD(net, inner_lr=0.05, meta_lr=0.01, seed=1)
    rates = meta.learning_rates()
    assert [r.shape for r in rates] == [p.shape for p in net.param_info()]
    assert all(np.all(r == np.float32(0.05)) for r in rates)
    meta.fit(TASKS, meta_iterations=5, meta_batch=4, shots=5)
    assert not all(np.all(r == np.float32(0.05)) for r in meta.learning_rates())
    path = tmp_path / "metasgd.safetensors"
    meta.save(path)
    again = fewshot.load(path, net)
    np.testing.assert_array_equal(again.meta_parameters(), meta.meta_parameters())
    with pytest.raises(l2l.FormatError):
        fewshot.load(path, l2l.MLP([1, 17, 1], objective="mse"))
    with pytest.raises(l2l.FileError):
        fewshot.load(tmp_path / "missing.safetensors", net)


def test_a_seed_fixes_the_run():
    def run(seed):
        meta = fewshot.MAML(small_net(), inner_lr=0.1, seed=seed)
        meta.fit(TASKS, meta_iterations=3, meta_batch=3)
        return meta.meta_parameters()
    np.testing.assert_array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))


def test_errors_and_cancelling():
    with pytest.raises(l2l.InvalidArgumentError, match="integers"):
        fewshot.MAML(l2l.MLP([1, 8, 3])).fit(TASKS, meta_iterations=1)
    with pytest.raises(l2l.InvalidArgumentError):
        fewshot.MAML(small_net(), inner_steps=0)
    with pytest.raises(l2l.InvalidArgumentError):
        fewshot.MAML(small_net()).evaluate(fewshot.SineTasks(evaluation_points=1))
    meta = fewshot.MAML(small_net())
    with pytest.raises(l2l.CancelledError) as e:
        meta.fit(TASKS, meta_iterations=10, meta_batch=2, callback=lambda i, total, loss: i >= 3)
    assert e.value.losses.shape == (3,) and meta.iterations == 3
    with pytest.raises(l2l.ShapeError):
        meta.adapt(np.zeros((4, 2)), np.zeros(4))
