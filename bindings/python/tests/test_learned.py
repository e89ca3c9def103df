"""Learned optimisers (l2l.learned), meta-training and meta-testing (l2l.meta): the same
ground as the C tests, on tiny synthetic data, plus the exception mapping of the new calls."""

import json
import sys

import numpy as np
import pytest

import l2l
from conftest import blobs, ctrl_c_after, expect

SIZES = [4, 6, 3]
P = 4 * 6 + 6 + 6 * 3 + 3  # 51 parameters in 4 tensors
META = dict(trials=2, steps=10, unroll=5, batch=16, meta_lr=0.01, seed=3)


def one_step(optimizer, seed=11):
    """Parameters before and after one step of `optimizer` on a fresh learner, and the gradient."""
    learner = l2l.MLP(SIZES, seed=seed)
    x, y = blobs(n=8, features=4, classes=3, seed=9)
    before = learner.flat_parameters()
    learner.loss_and_grad(x, y)
    grad = learner.flat_gradients()
    optimizer.step(learner)
    return before, learner.flat_parameters(), grad


# -- learned optimisers ---------------------------------------------------------------------


def test_kinds_sizes_and_options(net):
    m = l2l.learned.MetaSGD(net, lr=0.05)
    assert isinstance(m, l2l.LearnedOptimizer) and m.kind == "meta_sgd"
    assert m.options == {"lr": 0.05} and m.num_meta_params == P and m.num_tensors == 4
    np.testing.assert_array_equal(m.meta_parameters(), np.full(P, 0.05, np.float32))

    lstm = l2l.learned.LSTMOptimizer()
    assert lstm.kind == "lstm" and lstm.options["preset"] == "paper" and lstm.options["layers"] == (20, 20)
    assert lstm.num_meta_params == 5141  # DeepMind's code has 5,141 for 2 x 20 + head
    small = l2l.learned.LSTMOptimizer(preset="mtl2l", seed=2)
    assert 0 < small.num_meta_params < lstm.num_meta_params
    # Same seed, same phi; another seed, another phi.
    np.testing.assert_array_equal(lstm.meta_parameters(), l2l.learned.LSTMOptimizer(seed=0).meta_parameters())
    assert not np.array_equal(lstm.meta_parameters(), l2l.learned.LSTMOptimizer(seed=1).meta_parameters())

    d = l2l.learned.DMSGD(net, hidden=4)
    m2 = l2l.learned.M2SGD(net, xi=0.1, mask_during="both", hidden=4)
    assert d.kind == "dmsgd" and m2.kind == "m2sgd" and d.num_meta_params == m2.num_meta_params > P
    assert m2.options["xi"] == pytest.approx(0.1) and m2.options["mask_during"] == "both"
    assert "rate_penalty" not in m2.options
    penalised = l2l.learned.M2SGD(net, xi=0, mask_during="both", hidden=4, rate_penalty=50)
    assert penalised.options["rate_penalty"] == pytest.approx(50)
    with pytest.raises(l2l.InvalidArgumentError, match="rate_penalty"):
        l2l.learned.DMSGD(net, hidden=4, rate_penalty=50)  # M²SGD's option only
    generic = l2l.LearnedOptimizer("dmsgd", net, seed=0, hidden=4)
    np.testing.assert_array_equal(generic.meta_parameters(), d.meta_parameters())
    assert "meta_sgd" in repr(m)


def test_meta_parameters_round_trip(net):
    m = l2l.learned.MetaSGD(net)
    values = np.linspace(-0.01, 0.02, P, dtype=np.float32)
    m.set_meta_parameters(values)
    np.testing.assert_array_equal(m.meta_parameters(), values)
    m.set_meta_parameters(values.astype(np.float64).reshape(3, 17))  # converted and flattened
    np.testing.assert_array_equal(m.meta_parameters(), values)
    lstm = l2l.learned.LSTMOptimizer(preset="mtl2l")
    phi = np.sin(np.arange(lstm.num_meta_params, dtype=np.float32))
    lstm.set_meta_parameters(phi)
    np.testing.assert_array_equal(lstm.meta_parameters(), phi)


def test_meta_parameter_errors(net):
    m = l2l.learned.MetaSGD(net)
    before = m.meta_parameters()
    expect(l2l.ShapeError, "l2l_learned_set_meta", m.set_meta_parameters, np.zeros(P - 1))
    expect(l2l.ShapeError, "l2l_learned_set_meta", m.set_meta_parameters, np.zeros(P + 1))
    bad = np.ones(P)
    bad[7] = np.nan
    e = expect(l2l.NonFiniteError, "l2l_learned_set_meta", m.set_meta_parameters, bad)
    assert isinstance(e, ArithmeticError)
    bad[7] = np.inf
    expect(l2l.NonFiniteError, "l2l_learned_set_meta", m.set_meta_parameters, bad)
    np.testing.assert_array_equal(m.meta_parameters(), before)


def test_creation_errors(net):
    e = expect(l2l.InvalidArgumentError, "l2l_learned_create", l2l.LearnedOptimizer, "lstm2")
    assert isinstance(e, ValueError) and "lstm" in e.detail
    expect(l2l.InvalidArgumentError, "l2l_learned_create", l2l.learned.LSTMOptimizer, bogus=1)
    expect(l2l.InvalidArgumentError, "l2l_learned_create", l2l.learned.LSTMOptimizer, preset="huge")
    expect(l2l.InvalidArgumentError, "l2l_learned_create", l2l.learned.M2SGD, net, xi=-1.0)
    e = expect(l2l.InvalidArgumentError, "l2l_learned_create", l2l.LearnedOptimizer, "meta_sgd", None)
    assert "learner" in str(e)
    expect(l2l.InvalidArgumentError, "l2l_learned_create", l2l.LearnedOptimizer, "dmsgd")
    with pytest.raises(l2l.InvalidArgumentError):  # rejected before it can inject options
        l2l.learned.LSTMOptimizer(preset="paper; scale=5")


def test_save_load_same_phi_and_same_step(tmp_path, net):
    m = l2l.learned.MetaSGD(net, lr=0.02)
    phi = (0.01 + 0.003 * (np.arange(P) % 7)).astype(np.float32)
    m.set_meta_parameters(phi)
    path = tmp_path / "meta_sgd.safetensors"
    m.save(path)
    again = l2l.learned.load(path)
    assert type(again) is l2l.learned.MetaSGD and again.kind == m.kind and again.options_text == m.options_text
    assert again.meta_parameters().tobytes() == phi.tobytes()

    b1, a1, g = one_step(m.as_optimizer())
    b2, a2, _ = one_step(again.as_optimizer())
    np.testing.assert_array_equal(b1, b2)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_allclose(a1, b1 - phi * g, rtol=1e-6, atol=1e-7)  # theta - beta * g

    lstm = l2l.learned.LSTMOptimizer(preset="mtl2l", seed=4)
    lstm.save(str(tmp_path / "lstm.safetensors"))
    lstm2 = l2l.learned.load(str(tmp_path / "lstm.safetensors"))
    assert isinstance(lstm2, l2l.learned.LSTMOptimizer)
    assert lstm2.meta_parameters().tobytes() == lstm.meta_parameters().tobytes()
    _, a1, _ = one_step(lstm.as_optimizer())
    _, a2, _ = one_step(lstm2.as_optimizer())
    np.testing.assert_array_equal(a1, a2)


def test_corrupt_and_missing_files(tmp_path, net):
    path = tmp_path / "m.safetensors"
    l2l.learned.MetaSGD(net).save(path)
    data = path.read_bytes()
    e = expect(l2l.FileError, "l2l_learned_load", l2l.learned.load, tmp_path / "missing.safetensors")
    assert isinstance(e, OSError)
    bad = tmp_path / "bad.safetensors"
    for cut in (0, 5, 40, len(data) // 2, len(data) - 1):
        bad.write_bytes(data[:cut])
        expect(l2l.FormatError, "l2l_learned_load", l2l.learned.load, bad)
    altered = bytearray(data)
    altered[-2] ^= 1
    bad.write_bytes(bytes(altered))
    e = expect(l2l.FormatError, "l2l_learned_load", l2l.learned.load, bad)
    assert "checksum" in str(e)
    bad.write_bytes(data.replace(b"meta_sgd", b"meta_sgx"))
    expect(l2l.FormatError, "l2l_learned_load", l2l.learned.load, bad)
    expect(l2l.FileError, "l2l_learned_save", l2l.learned.MetaSGD(net).save, tmp_path / "no-dir" / "x.safetensors")


def test_as_optimizer_trains_and_checks_shapes(data, net):
    train, test = data
    lstm = l2l.learned.LSTMOptimizer(preset="mtl2l")
    opt = lstm.as_optimizer()
    assert isinstance(opt, l2l.Optimizer) and opt.kind == "lstm" and opt.phase == "meta_testing"
    losses = l2l.train(net, opt, train, steps=10, batch_size=16)
    assert losses.shape == (10,) and np.all(np.isfinite(losses))
    opt.reset()
    l2l.train(l2l.MLP([4, 10, 3], seed=2), opt, train, steps=3, batch_size=16)  # any architecture
    rms = l2l.learned.LSTMOptimizer(preset="mtl2l", rms_decay=0.999).as_optimizer()
    assert np.all(np.isfinite(l2l.train(l2l.MLP([4, 10, 3], seed=2), rms, train, steps=5, batch_size=16)))
    expect(l2l.InvalidArgumentError, "l2l_learned_create", l2l.learned.LSTMOptimizer, rms_decay=1.0)
    rnnprop = l2l.learned.LSTMOptimizer(preset="mtl2l", inputs="adam", squash=1).as_optimizer()
    assert np.all(np.isfinite(l2l.train(l2l.MLP([4, 10, 3], seed=2), rnnprop, train, steps=5, batch_size=16)))
    assert "unknown inputs" in str(expect(l2l.InvalidArgumentError, "l2l_learned_create", l2l.learned.LSTMOptimizer, inputs="rms"))
    assert "rms_decay applies" in str(expect(l2l.InvalidArgumentError, "l2l_learned_create", l2l.learned.LSTMOptimizer,
                                             inputs="adam", rms_decay=0.9))
    odd = l2l.learned.LSTMOptimizer(preset="mtl2l", inputs="adam", odd=1, seed=1).as_optimizer()
    grads = [np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32) * 0.1 for _ in range(3)]

    def steps(sign):
        params = [np.zeros((6, 2), np.float32)]
        state = odd.init(params)
        for g in grads:
            params, state = odd.update(params, [sign * g], state)
        return params[0]
    assert np.abs(steps(1)).max() > 0 and np.array_equal(steps(-1), -steps(1))   # odd in the gradients

    m = l2l.learned.MetaSGD(net, lr=0.1).as_optimizer(phase="meta_training")
    other = l2l.MLP([4, 5, 3], seed=0)
    other.loss_and_grad(*blobs(n=4, features=4, classes=3))
    expect(l2l.ShapeError, "l2l_optimizer_step", m.step, other)
    expect(l2l.ShapeError, "l2l_train", l2l.train, other, m, train, steps=2)
    expect(l2l.InvalidArgumentError, "l2l_optimizer_create_learned", l2l.learned.MetaSGD(net).as_optimizer, "testing")


def test_phi_is_copied_into_the_optimizer(net):
    m = l2l.learned.MetaSGD(net, lr=0.1)
    opt = m.as_optimizer()
    m.set_meta_parameters(np.zeros(P))
    before, after, _ = one_step(opt)
    assert not np.array_equal(before, after)
    before, after, _ = one_step(m.as_optimizer())
    np.testing.assert_array_equal(before, after)


# -- meta-training ----------------------------------------------------------------------------


def test_meta_training_history_phi_and_callback(data, net):
    train, _ = data
    m = l2l.learned.MetaSGD(net, lr=0.05)
    phi0 = m.meta_parameters()
    trainer = l2l.MetaTrainer(m, [(net, train)], **META)
    calls = []
    history = trainer.run(callback=lambda trial, step, loss: calls.append((trial, step, loss)))
    assert history.dtype == np.float32 and history.shape == (2 * 10 // 5,)
    np.testing.assert_array_equal(trainer.history, history)
    assert [(t, s) for t, s, _ in calls] == [(0, 5), (0, 10), (1, 5), (1, 10)]
    np.testing.assert_array_equal(np.array([c[2] for c in calls], np.float32), history)
    assert np.all(np.isfinite(history)) and np.all(history > 0)
    assert trainer.trials_done == 2 and trainer.meta_steps == 4 and trainer.unrolls == 4 and trainer.events == []
    trained = trainer.learned()
    assert type(trained) is l2l.learned.MetaSGD and trained.options == m.options
    phi = trained.meta_parameters()
    assert np.all(np.isfinite(phi)) and not np.array_equal(phi, phi0)
    np.testing.assert_array_equal(m.meta_parameters(), phi0)  # the input is not changed
    assert trainer.run().shape == (0,)  # nothing left to run
    assert "2 trials done" in repr(trainer)

    # Deterministic: the same run again, in two calls.
    again = l2l.MetaTrainer(l2l.learned.MetaSGD(net, lr=0.05), (net, train), **META)
    again.run(trials=1)
    again.run(trials=5)  # clamped to the one remaining
    np.testing.assert_array_equal(again.history, history)
    assert again.learned().meta_parameters().tobytes() == phi.tobytes()


def test_meta_training_progress_bar(capsys, no_tqdm, data, net):
    trainer = l2l.MetaTrainer(l2l.learned.MetaSGD(net), [(net, data[0])], **META)
    trainer.run(progress=True)
    err = capsys.readouterr().err
    assert "meta-train" in err and "4/4" in err and "meta-loss" in err and err.endswith("\n")
    l2l.meta_test(l2l.SGD(0.1), net, data[0], data[1], learners=2, steps=5, batch_size=16, progress=True)
    err = capsys.readouterr().err
    assert "meta-test" in err and "10/10" in err


def test_checkpoint_resume_is_bit_identical(tmp_path, data, net):
    train, _ = data
    config = dict(META, trials=4)
    whole = l2l.MetaTrainer(l2l.learned.MetaSGD(net, lr=0.05), [(net, train)], **config)
    whole.run()
    first = l2l.learned.MetaSGD(net, lr=0.05)
    part = l2l.MetaTrainer(first, [(net, train)], **config)
    part.run(trials=2)
    path = tmp_path / "meta.ckpt"
    part.save_checkpoint(path)
    del part
    resumed = l2l.MetaTrainer.resume(path, first, [(net, train)], **config)
    assert resumed.trials_done == 2 and resumed.unrolls == 4
    resumed.run()
    assert resumed.learned().meta_parameters().tobytes() == whole.learned().meta_parameters().tobytes()
    np.testing.assert_array_equal(resumed.history, whole.history)

    expect(l2l.FileError, "l2l_meta_trainer_resume", l2l.MetaTrainer.resume, tmp_path / "none.ckpt", first,
           [(net, train)], **config)
    expect(l2l.InvalidArgumentError, "l2l_meta_trainer_resume", l2l.MetaTrainer.resume, path, first,
           [(net, train)], **META)
    expect(l2l.InvalidArgumentError, "l2l_meta_trainer_resume", l2l.MetaTrainer.resume, path,
           l2l.learned.MetaSGD(net, lr=0.01), [(net, train)], **config)
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(path.read_bytes()[:-7])
    expect(l2l.FormatError, "l2l_meta_trainer_resume", l2l.MetaTrainer.resume, bad, first, [(net, train)], **config)
    expect(l2l.FileError, "l2l_meta_trainer_save_checkpoint", resumed.save_checkpoint, tmp_path / "no-dir" / "c")


def test_cancel_keeps_the_work(data, net):
    trainer = l2l.MetaTrainer(l2l.learned.MetaSGD(net, lr=0.05), [(net, data[0])], **META)
    seen = []

    def stop_at_third(trial, step, loss):
        seen.append(loss)
        return len(seen) == 3

    e = expect(l2l.CancelledError, "l2l_meta_trainer_run", trainer.run, callback=stop_at_third)
    assert e.history.shape == (3,)
    assert trainer.trials_done == 1 and trainer.meta_steps == 3 and trainer.unrolls == 3

    def fail(trial, step, loss):
        raise ValueError("from the callback")

    with pytest.raises(ValueError, match="from the callback"):
        trainer.run(callback=fail)
    assert trainer.unrolls == 4


def test_ctrl_c_cancels_meta_training(data, net):
    trainer = l2l.MetaTrainer(l2l.learned.MetaSGD(net), [(net, data[0])], trials=1_000_000, steps=5, unroll=5,
                              batch=8)
    with ctrl_c_after(0.3), pytest.raises(KeyboardInterrupt) as info:
        trainer.run()
    assert trainer.trials_done > 0 and len(info.value.history) == trainer.unrolls
    trainer.history  # the handle is free again


def test_using_the_trainer_inside_its_run_is_state_error(data, net):
    trainer = l2l.MetaTrainer(l2l.learned.MetaSGD(net), [(net, data[0])], **META)
    e = expect(l2l.StateError, "l2l_meta_trainer_history", trainer.run,
               callback=lambda trial, step, loss: trainer.history)
    assert "in use" in str(e)
    assert trainer.unrolls == 1


def test_non_finite_updates_are_skipped_and_reported(data, net):
    m = l2l.learned.MetaSGD(net)
    huge = np.full(P, 1e37, np.float32)
    m.set_meta_parameters(huge)
    trainer = l2l.MetaTrainer(m, [(net, data[0])], trials=1, steps=20, unroll=5, batch=16, rollback_after=2)
    trainer.run()
    kinds = [e["kind"] for e in trainer.events]
    assert set(kinds) <= set(l2l.meta.EVENT_KINDS)
    assert sum(k in ("non_finite_loss", "non_finite_gradient") for k in kinds) == 4
    assert kinds.count("rollback") == 2
    assert all(e["trial"] == 0 and e["step"] in (5, 10, 15, 20) for e in trainer.events)
    assert trainer.meta_steps == 0
    phi = trainer.learned().meta_parameters()
    assert np.all(np.isfinite(phi)) and phi.tobytes() == huge.tobytes()


def test_meta_trainer_errors(data, net):
    train, _ = data
    m = l2l.learned.MetaSGD(net)
    expect(l2l.InvalidArgumentError, "l2l_meta_trainer_create", l2l.MetaTrainer, m, [], **META)
    with pytest.raises(TypeError, match="bogus"):
        l2l.MetaTrainer(m, [(net, train)], bogus=1)
    expect(l2l.InvalidArgumentError, "l2l_meta_trainer_create", l2l.MetaTrainer, m, [(net, train)], steps=12,
           unroll=5)
    expect(l2l.InvalidArgumentError, "l2l_meta_trainer_create", l2l.MetaTrainer, m, [(net, train)],
           clip="sometimes")
    with pytest.raises(l2l.InvalidArgumentError):
        l2l.MetaTrainer(m, [(net,)])
    with pytest.raises(l2l.InvalidArgumentError):
        l2l.MetaTrainer(m, [(train, net)])
    e = expect(l2l.ShapeError, "l2l_meta_trainer_create", l2l.MetaTrainer, m, [(l2l.MLP([4, 5, 3]), train)])
    assert isinstance(e, ValueError)
    expect(l2l.ShapeError, "l2l_meta_trainer_create", l2l.MetaTrainer, l2l.learned.LSTMOptimizer(),
           [(l2l.MLP([5, 6, 3]), train)])
    # The LSTM optimiser meta-trains learners of different architectures in one run.
    lstm = l2l.learned.LSTMOptimizer(preset="mtl2l")
    trainer = l2l.MetaTrainer(lstm, [(net, train), (l2l.MLP([4, 9, 3]), train)], trials=2, steps=5, unroll=5,
                              batch=16)
    assert trainer.run().shape == (2,)
    assert isinstance(trainer.learned(), l2l.learned.LSTMOptimizer)
    with pytest.raises(l2l.InvalidArgumentError):
        trainer.run(trials=-1)


# -- meta-testing -----------------------------------------------------------------------------


def test_meta_test_of_sgd(tmp_path, data, net):
    train, test = data
    before = net.flat_parameters()
    steps = []
    r = l2l.meta_test(l2l.SGD(0.5), net, train, test, learners=3, steps=20, batch_size=16, eval_steps=[20, 0, 10],
                      seed=1, callback=lambda step, total: steps.append((step, total)))
    np.testing.assert_array_equal(net.flat_parameters(), before)  # not trained itself
    assert steps == [(s, 60) for s in range(1, 61)]
    assert isinstance(r, l2l.MetaTestResult) and r.learners == 3 and r.steps == 20
    assert r.training_loss.shape == (3, 20) and r.training_loss.dtype == np.float32
    assert r.test_loss.shape == (3, 3) and r.test_accuracy.shape == (3, 3)
    np.testing.assert_array_equal(r.evaluation_steps, [0, 10, 20])
    assert np.all(np.isfinite(r.training_loss)) and np.all((r.test_accuracy >= 0) & (r.test_accuracy <= 1))
    assert np.all(r.test_loss[:, 2] < r.test_loss[:, 0])
    mean, std = r.final_accuracy()
    assert 0.8 <= mean <= 1 and std >= 0
    assert mean == pytest.approx(r.test_accuracy[:, -1].mean())
    np.testing.assert_allclose(r.mean_training_loss(), r.training_loss.mean(axis=0), rtol=1e-6)
    assert r.tensor_names == ["fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias"]
    np.testing.assert_array_equal(r.tensor_sizes, [24, 6, 18, 3])
    assert r.zero_weights.shape == (4,) and 0 <= r.sparsity <= 1 and 0 < r.seconds_per_step < 1
    assert r.rates is None  # only DMSGD and M2SGD have rates beta_t

    again = l2l.meta_test(l2l.SGD(0.5), net, train, test, learners=3, steps=20, batch_size=16,
                          eval_steps=[0, 10, 20], seed=1)
    np.testing.assert_array_equal(again.training_loss, r.training_loss)

    d = r.to_dict()
    json.dumps(d)
    assert d["evaluation_steps"] == [0, 10, 20] and len(d["training_loss"]) == 3
    r.to_json(tmp_path / "r.json")
    r.to_csv(str(tmp_path / "r.csv"))
    saved = json.loads((tmp_path / "r.json").read_text())
    np.testing.assert_allclose(saved["test_accuracy"], r.test_accuracy, rtol=1e-6)
    assert saved["tensor_names"] == r.tensor_names and saved["rates"] is None
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert lines[0] == "learner,step,train_loss,test_loss,test_accuracy" and len(lines) == 1 + 60
    expect(l2l.FileError, "l2l_meta_test_save", r.to_csv, tmp_path / "no-dir" / "r.csv")


def test_meta_test_default_evaluation_and_learned_optimizers(data, net):
    train, test = data
    # Meta-SGD at rate 0.5 everywhere steps as SGD at 0.5.
    m = l2l.learned.MetaSGD(net, lr=0.5)
    rm = l2l.meta_test(m, net, train, test, learners=2, steps=15, batch_size=16, seed=4)
    rs = l2l.meta_test(l2l.SGD(0.5), net, train, test, learners=2, steps=15, batch_size=16, seed=4)
    np.testing.assert_array_equal(rm.evaluation_steps, [15])
    np.testing.assert_allclose(rm.training_loss, rs.training_loss, rtol=1e-4)
    # M2SGD with xi above every initial rate masks every weight away.
    masked = l2l.learned.M2SGD(net, xi=0.1, hidden=4)
    r = l2l.meta_test(masked.as_optimizer(), net, train, test, learners=2, steps=3, batch_size=16)
    assert r.sparsity == 1.0 and np.array_equal(r.zero_weights, r.tensor_sizes.astype(float))
    expect(l2l.ShapeError, "l2l_meta_test_run", l2l.meta_test, m, l2l.MLP([4, 5, 3]), train, test, learners=1,
           steps=2)


def test_meta_test_reports_m2sgd_rates(tmp_path, data, net):
    """beta_t's distribution at each evaluation step (none before the first step); the share at
    or below xi is the share of weights the mask left at zero."""
    train, test = data
    masked = l2l.learned.M2SGD(net, xi=0.001, hidden=4, u_beta_init=0.5, seed=3)
    r = l2l.meta_test(masked, net, train, test, learners=2, steps=6, batch_size=16, eval_steps=[0, 3, 6], seed=1)
    assert r.rates is not None
    quantiles, share, saturated = (r.rates[k] for k in ("quantiles", "masked_fraction", "saturated_fraction"))
    assert quantiles.shape == (2, 3, 5) and share.shape == (2, 3) and saturated.shape == (2, 3)
    assert np.all(np.isnan(quantiles[:, 0])) and np.all(np.isnan(share[:, 0])) and np.all(np.isnan(saturated[:, 0]))
    assert np.all(np.diff(quantiles[:, 1:], axis=2) >= 0)
    assert 0 < r.sparsity < 1, "the draw must mask some weights and keep others"
    assert share[:, -1].mean() == pytest.approx(r.sparsity, abs=1e-12)
    assert np.all((saturated[:, 1:] >= 0) & (saturated[:, 1:] <= 1))
    as_dict = json.loads(json.dumps(r.to_dict(), allow_nan=False))["rates"]
    assert as_dict["masked_fraction"][0][0] is None and as_dict["masked_fraction"][0][-1] == pytest.approx(share[0, -1])
    r.to_json(tmp_path / "r.json")
    saved = json.loads((tmp_path / "r.json").read_text())["rates"]
    assert saved[0][0] is None and saved[1][2]["threshold"] == pytest.approx(0.001)
    np.testing.assert_allclose([row[2]["quantiles"] for row in saved], quantiles[:, 2], rtol=1e-6)
    # Meta-SGD and DMSGD evaluated only before their first step have no rates.
    assert l2l.meta_test(l2l.learned.MetaSGD(net), net, train, test, learners=1, steps=2, batch_size=16).rates is None
    dmsgd = l2l.meta_test(l2l.learned.DMSGD(net, hidden=4), net, train, test, learners=1, steps=2, batch_size=16,
                          eval_steps=[0])
    assert dmsgd.rates is None


def test_meta_test_errors_and_cancel(data, net):
    train, test = data
    sgd = l2l.SGD(0.1)
    e = expect(l2l.CancelledError, "l2l_meta_test_run", l2l.meta_test, sgd, net, train, test, learners=2, steps=10,
               callback=lambda step, total: step >= 13)
    for kwargs in (dict(learners=0), dict(steps=0), dict(steps=10, eval_steps=[11]), dict(eval_steps=[5, 5]),
                   dict(batch_size=0)):
        expect(l2l.InvalidArgumentError, "l2l_meta_test_run", l2l.meta_test, sgd, net, train, test, **kwargs)
    expect(l2l.ShapeError, "l2l_meta_test_run", l2l.meta_test, sgd, l2l.MLP([5, 4, 3]), train, test, learners=1,
           steps=2)
    with pytest.raises(l2l.InvalidArgumentError):
        l2l.meta_test("sgd", net, train, test)
    assert e.status == l2l._l2l.STATUS["ERR_CANCELLED"]


# -- plotting ---------------------------------------------------------------------------------


def test_plot_loss_curves_writes_a_png(tmp_path, data, net):
    pytest.importorskip("matplotlib")
    train, test = data
    results = {
        "SGD": l2l.meta_test(l2l.SGD(0.3), net, train, test, learners=2, steps=10, batch_size=16),
        "Meta-SGD": l2l.meta_test(l2l.learned.MetaSGD(net, lr=0.1), net, train, test, learners=2, steps=10,
                                  batch_size=16),
    }
    path = tmp_path / "curves.png"
    assert l2l.plot_loss_curves(results, path, title="tiny") == str(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
    l2l.meta.plot_loss_curves(results, tmp_path / "linear.png", log_scale=False)
    assert (tmp_path / "linear.png").stat().st_size > 1000


def test_plot_without_matplotlib_says_what_to_install(monkeypatch, tmp_path, data, net):
    r = l2l.meta_test(l2l.SGD(0.3), net, data[0], data[1], learners=1, steps=3, batch_size=16)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        l2l.plot_loss_curves({"SGD": r}, tmp_path / "x.png")
