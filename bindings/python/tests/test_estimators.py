"""The meta-training engine's options from Python (estimator, es_std, es_pairs, meta_batch,
memory_budget, meta_optimizer, meta_optimizer_options), MetaTrainer.evaluate, and the end-to-end
check of issue 9: ES and PES lower the meta-loss of Meta-SGD and of the LSTM optimiser on the
Fashion-MNIST MLP."""

import inspect
import os

import numpy as np
import pytest

import l2l
from conftest import blobs, expect

SIZES = [4, 6, 3]
TINY = dict(trials=3, steps=10, unroll=5, batch=16, meta_lr=0.01, seed=3)


@pytest.fixture(scope="module")
def data():
    x, y = blobs(n=64, features=4, classes=3, seed=5, spread=0.5)
    return l2l.Dataset.from_arrays(x, y, 3)


@pytest.fixture
def net():
    return l2l.MLP(SIZES, seed=1)


def run(net, data, **config):
    """A fresh Meta-SGD meta-trained to the end: (history, trained phi, trainer)."""
    trainer = l2l.meta.MetaTrainer(l2l.learned.MetaSGD(net, lr=0.05), [(net, data)], **config)
    history = trainer.run()
    return history, trainer.learned().meta_parameters(), trainer


def test_signature_shows_every_option_keyword_only():
    parameters = inspect.signature(l2l.meta.MetaTrainer).parameters
    assert list(parameters)[:2] == ["learned", "tasks"]
    options = [name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY]
    for name in ("estimator", "es_std", "es_pairs", "meta_batch", "memory_budget", "meta_optimizer",
                 "meta_optimizer_options", "warmup", "rollback_after", "seed"):
        assert name in options
    assert len(options) == len(parameters) - 2
    assert parameters["estimator"].default == "bptt" and parameters["memory_budget"].default is None


@pytest.mark.parametrize("estimator", ["bptt", "es"])
def test_python_defaults_are_the_librarys(data, net, estimator):
    # Every keyword left at its default gives the run of the C library's own defaults (the
    # shim called with no option but the estimator), so the signature cannot drift from them.
    parameters = inspect.signature(l2l.meta.MetaTrainer).parameters
    assert parameters["steps"].default % parameters["unroll"].default == 0
    learned = l2l.learned.MetaSGD(net, lr=0.05)
    python = l2l.meta.MetaTrainer(learned, [(net, data)], estimator=estimator, batch=16)
    raw = l2l._l2l.MetaTrainer(learned._handle, [net._handle], [data._handle], f"estimator={estimator} batch=16")
    python.run()
    raw.run(-1)
    assert python.unrolls == parameters["steps"].default // parameters["unroll"].default
    np.testing.assert_array_equal(python.history, raw.history())


def test_config_holds_every_option(data, net):
    trainer = l2l.meta.MetaTrainer(l2l.learned.MetaSGD(net), [(net, data)], estimator="pes", es_pairs=2,
                                   meta_batch=2, **TINY)
    names = [n for n, p in inspect.signature(l2l.meta.MetaTrainer).parameters.items() if p.kind is p.KEYWORD_ONLY]
    assert sorted(trainer.config) == sorted(names)
    assert trainer.config["estimator"] == "pes" and trainer.config["meta_batch"] == 2
    assert trainer.config["memory_budget"] is None and trainer.config["meta_optimizer"] == "adam"


def test_pes_meta_batches_reproducible_and_resumable(tmp_path, data, net):
    config = dict(TINY, trials=4, estimator="pes", es_pairs=3, es_std=0.02, meta_batch=2)
    history, phi, _ = run(net, data, **config)
    assert history.shape == (4 * 10 // 5,) and np.all(np.isfinite(history))
    again, phi_again, _ = run(net, data, **config)
    np.testing.assert_array_equal(again, history)
    assert phi_again.tobytes() == phi.tobytes()
    other, phi_other, _ = run(net, data, **dict(config, seed=4))
    assert not np.array_equal(phi_other, phi)

    first = l2l.learned.MetaSGD(net, lr=0.05)
    part = l2l.meta.MetaTrainer(first, [(net, data)], **config)
    part.run(trials=2)
    path = tmp_path / "pes.ckpt"
    part.save_checkpoint(path)
    resumed = l2l.meta.MetaTrainer.resume(path, first, [(net, data)], **config)
    assert resumed.trials_done == 2 and resumed.config == part.config
    resumed.run()
    np.testing.assert_array_equal(resumed.history, history)
    assert resumed.learned().meta_parameters().tobytes() == phi.tobytes()
    # Other options than the checkpoint's, or keywords MetaTrainer does not take.
    expect(l2l.InvalidArgumentError, "l2l_meta_trainer_resume", l2l.meta.MetaTrainer.resume, path, first,
           [(net, data)], **dict(config, meta_batch=1))
    with pytest.raises(TypeError, match="bogus"):
        l2l.meta.MetaTrainer.resume(path, first, [(net, data)], bogus=1, **config)


def test_memory_budget_gives_the_same_run(tmp_path, data, net):
    # 1 byte: every step of an unroll is its own segment, recomputed in the backward pass.
    history, phi, _ = run(net, data, second_order=True, **TINY)
    budgeted, phi_budgeted, trainer = run(net, data, second_order=True, memory_budget=1, **TINY)
    np.testing.assert_allclose(budgeted, history, rtol=1e-5)
    np.testing.assert_allclose(phi_budgeted, phi, rtol=1e-5, atol=1e-7)
    # The budget is part of the run's options: its checkpoint does not resume without it.
    path = tmp_path / "budget.ckpt"
    trainer.save_checkpoint(path)
    learned = l2l.learned.MetaSGD(net, lr=0.05)
    expect(l2l.InvalidArgumentError, "l2l_meta_trainer_resume", l2l.meta.MetaTrainer.resume, path, learned,
           [(net, data)], second_order=True, **TINY)
    resumed = l2l.meta.MetaTrainer.resume(path, learned, [(net, data)], second_order=True, memory_budget=1, **TINY)
    assert resumed.trials_done == TINY["trials"] and resumed.config["memory_budget"] == 1


def test_meta_optimizer_and_its_options(data, net):
    history, phi, _ = run(net, data, **TINY)
    sgd, phi_sgd, _ = run(net, data, meta_optimizer="sgd", **TINY)
    assert sgd[0] == history[0] and not np.array_equal(phi_sgd, phi)  # same first unroll, other steps
    as_dict, phi_dict, _ = run(net, data, meta_optimizer_options={"beta1": 0.5, "eps": 1e-6}, **TINY)
    as_text, phi_text, _ = run(net, data, meta_optimizer_options="beta1:0.5,eps:1e-6", **TINY)
    np.testing.assert_array_equal(as_dict, as_text)
    assert phi_dict.tobytes() == phi_text.tobytes() and not np.array_equal(phi_dict, phi)
    # Adam's own defaults spelled out change nothing.
    _, phi_defaults, _ = run(net, data, meta_optimizer_options={"beta1": 0.9, "beta2": 0.999}, **TINY)
    assert phi_defaults.tobytes() == phi.tobytes()


@pytest.mark.parametrize("options", [
    dict(estimator="bogus"), dict(estimator="es", es_pairs=0), dict(estimator="es", es_std=0.0),
    dict(estimator="es", second_order=True), dict(estimator="pes", second_order=True),
    dict(estimator="pes", memory_budget=4096), dict(meta_batch=0), dict(memory_budget=-1),
    dict(meta_optimizer="bogus"), dict(meta_optimizer="hf_fixed"), dict(meta_optimizer_options={"bogus": 1}),
])
def test_bad_values_are_invalid_argument(data, net, options):
    expect(l2l.InvalidArgumentError, "l2l_meta_trainer_create", l2l.meta.MetaTrainer, l2l.learned.MetaSGD(net),
           [(net, data)], **options)


def test_malformed_meta_optimizer_options(data, net):
    for bad in ("beta1 0.5", "beta1:0.5;eps:1", {"beta1": "a b"}, {"beta1": object()}):
        with pytest.raises(l2l.InvalidArgumentError):
            l2l.meta.MetaTrainer(l2l.learned.MetaSGD(net), [(net, data)], meta_optimizer_options=bad)


def test_evaluate(data, net):
    trainer = l2l.meta.MetaTrainer(l2l.learned.MetaSGD(net, lr=0.05), [(net, data)], **TINY)
    before = trainer.evaluate(instances=3, seed=11)
    assert isinstance(before, float) and np.isfinite(before) and before > 0
    assert trainer.evaluate(instances=3, seed=11) == before and trainer.evaluate(instances=3, seed=12) != before
    assert trainer.unrolls == 0 and trainer.meta_steps == 0  # evaluating trains nothing
    trainer.run()
    history = trainer.history
    assert trainer.evaluate(instances=3, seed=11) != before
    np.testing.assert_array_equal(trainer.history, history)
    for instances in (0, -1, 1_000_001):
        expect(l2l.InvalidArgumentError, "l2l_meta_trainer_evaluate", trainer.evaluate, instances=instances)
    huge = l2l.learned.MetaSGD(net)
    huge.set_meta_parameters(np.full(huge.num_meta_params, 1e37, np.float32))
    diverging = l2l.meta.MetaTrainer(huge, [(net, data)], **TINY)
    expect(l2l.NonFiniteError, "l2l_meta_trainer_evaluate", diverging.evaluate, instances=1)


# -- Fashion-MNIST: ES and PES lower the meta-loss ---------------------------------------------

DIRECTORY = os.environ.get("L2L_DATA", "/usr/share/datasets/fashion-mnist")
FILES = ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
present = all(os.path.exists(os.path.join(DIRECTORY, f)) or os.path.exists(os.path.join(DIRECTORY, f + ".gz"))
              for f in FILES)


@pytest.fixture(scope="module")
def fashion():
    test = l2l.fashion_mnist("test", directory=DIRECTORY, standardize=True)
    return l2l.Dataset.from_arrays(test.inputs[:2000], test.labels[:2000], 10)


# Meta-SGD has one rate per weight (25,450 meta-parameters): ES's estimate is noisy in every
# coordinate, so it needs many pairs and a plain-SGD meta-optimiser (Adam's per-coordinate
# normalisation turns that noise into full-size steps); PES's accumulated perturbations make
# its estimate larger, hence a smaller rate. The LSTM optimiser's shared meta-parameters
# learn from a handful of pairs with Adam; PES averages two learners per update (meta_batch)
# for a steadier estimate. Ratios after/before measured with run seeds 1, 2, 3, 4: Meta-SGD
# ES 0.85, 0.86, 0.88, 0.89; Meta-SGD PES 0.91, 0.90, 0.95, 0.93; LSTM ES 0.86, 0.85, 0.81,
# 0.83; LSTM PES 0.76, 0.76, 0.78 (seeds 1-3). The test runs seed 1 and asks for a 2 % fall.
SETUPS = {
    ("meta_sgd", "es"): dict(trials=4, steps=20, es_pairs=64, meta_optimizer="sgd", meta_lr=0.5),
    ("meta_sgd", "pes"): dict(trials=4, steps=20, es_pairs=64, meta_optimizer="sgd", meta_lr=0.1),
    ("lstm", "es"): dict(trials=3, steps=10, es_pairs=2, meta_lr=0.05),
    ("lstm", "pes"): dict(trials=4, steps=10, es_pairs=4, meta_lr=0.02, meta_batch=2),
}


@pytest.mark.skipif(not present, reason=f"Fashion-MNIST test files not found in {DIRECTORY} "
                                        "(install Debian's dataset-fashion-mnist or set L2L_DATA)")
@pytest.mark.parametrize("kind,estimator", sorted(SETUPS))
def test_es_and_pes_lower_the_fashion_mnist_meta_loss(fashion, kind, estimator):
    net = l2l.MLP([784, 32, 10], seed=0)
    learned = l2l.learned.MetaSGD(net, lr=0.01) if kind == "meta_sgd" else l2l.learned.LSTMOptimizer(preset="mtl2l")
    trainer = l2l.meta.MetaTrainer(learned, [(net, fashion)], unroll=5, batch=64, estimator=estimator, seed=1,
                                   **SETUPS[kind, estimator])
    before = trainer.evaluate(instances=4, seed=7)  # learners the run does not train
    trainer.run()
    after = trainer.evaluate(instances=4, seed=7)
    assert trainer.events == []
    assert after < 0.98 * before, f"{kind} {estimator}: meta-loss {before:.4f} -> {after:.4f}"
