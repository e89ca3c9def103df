"""Meta-training on the user's own model (l2l.meta.CallbackTask): a numpy softmax
regression meta-trained through callbacks, and what happens when a callback fails."""

import numpy as np
import pytest

import l2l

FEATURES, CLASSES = 5, 3


def softmax_regression(seed=0, fail_at=None):
    """A numpy model: W (5, 3), b (3,), cross-entropy on fixed batches chosen by the step."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, size=(CLASSES, FEATURES))
    labels = rng.integers(0, CLASSES, size=(12, 16))
    inputs = centres[labels] + rng.normal(0, 1, size=(12, 16, FEATURES))
    calls = []

    def loss_and_grad(params, step):
        calls.append(step)
        if fail_at is not None and step == fail_at:
            raise ValueError(f"my model broke at step {step}")
        w, b = params
        x, y = inputs[step % 12], labels[step % 12]
        logits = x @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(len(y)), y]).mean()
        d = p.copy()
        d[np.arange(len(y)), y] -= 1
        d /= len(y)
        return float(loss), [(x.T @ d).astype(np.float32), d.sum(axis=0).astype(np.float32)]

    return loss_and_grad, calls


def make_task(**kwargs):
    loss_and_grad, calls = softmax_regression(**kwargs)
    return l2l.meta.CallbackTask([(FEATURES, CLASSES), (CLASSES,)], loss_and_grad), calls


def test_meta_training_through_callbacks_lowers_the_meta_loss():
    task, calls = make_task()
    for estimator in ["bptt", "es"]:
        opt = l2l.learned.LSTMOptimizer(preset="mtl2l", seed=1)
        trainer = l2l.meta.MetaTrainer(opt, [task], trials=8, steps=20, unroll=5, meta_lr=0.003, clip="value",
                                       estimator=estimator, es_pairs=4, seed=2)
        before = trainer.evaluate(instances=3, seed=5)
        trainer.run()
        after = trainer.evaluate(instances=3, seed=5)
        assert after < (0.9 if estimator == "bptt" else 0.97) * before, (estimator, before, after)
        assert trainer.trials_done == 8 and trainer.meta_steps == 32
        trained = trainer.learned()
        assert trained.kind == "lstm"
    assert calls and min(calls) == 0


def test_the_default_init_is_seeded_and_the_runs_reproducible():
    task, _ = make_task()
    runs = []
    for _ in range(2):
        trainer = l2l.meta.MetaTrainer(l2l.learned.LSTMOptimizer(preset="mtl2l", seed=1), task, trials=2, steps=10,
                                       unroll=5, seed=3)
        runs.append(trainer.run())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_an_exception_in_the_callback_surfaces_and_the_trainer_stays_usable():
    loss_and_grad, _ = softmax_regression(fail_at=12)
    state = {"fail": True}

    def flaky(params, step):
        if state["fail"]:
            return loss_and_grad(params, step)
        return softmax_regression()[0](params, step)

    task = l2l.meta.CallbackTask([(FEATURES, CLASSES), (CLASSES,)], flaky)
    trainer = l2l.meta.MetaTrainer(l2l.learned.LSTMOptimizer(preset="mtl2l"), [task], trials=2, steps=20, unroll=5)
    with pytest.raises(ValueError, match="broke at step 12"):
        trainer.run()
    assert trainer.meta_steps == 2 and trainer.trials_done == 0
    state["fail"] = False
    trainer.run()
    assert trainer.trials_done == 2


def test_bad_callbacks_and_shapes_are_clear_errors():
    def wrong_shapes(params, step):
        return 1.0, [np.zeros((2, 2), np.float32), np.zeros(3, np.float32)]

    task = l2l.meta.CallbackTask([(FEATURES, CLASSES), (CLASSES,)], wrong_shapes)
    trainer = l2l.meta.MetaTrainer(l2l.learned.LSTMOptimizer(preset="mtl2l"), [task], trials=1, steps=5, unroll=5)
    with pytest.raises(l2l.ShapeError):
        trainer.run()
    with pytest.raises(l2l.InvalidArgumentError):
        l2l.meta.CallbackTask([(3,)], "not callable")
    with pytest.raises(l2l.ShapeError):
        l2l.meta.CallbackTask([(3, 0)], wrong_shapes)
    good, _ = make_task()
    with pytest.raises(l2l.InvalidArgumentError, match="second_order"):
        l2l.meta.MetaTrainer(l2l.learned.LSTMOptimizer(), [good], second_order=True)
