"""MLHF (l2l.mlhf): phi in and out, files, meta-training and the trained optimiser, on tiny
synthetic data (a few seconds in all)."""

import numpy as np
import pytest

import l2l
from conftest import expect

SIZES = [6, 12, 3]
FAST = dict(iterations=4, unroll=3, batch=32, meta_lr=0.01, seed=2)


def three_blobs(n, seed, shift=1.5, noise=0.7):
    """Three overlapping Gaussian blobs in 6 dimensions (class k shifted along axis 2k)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    x = noise * rng.standard_normal((n, 6))
    x[np.arange(n), 2 * y] += shift
    return x, y


@pytest.fixture(scope="module")
def data():
    x, y = three_blobs(128, seed=8)
    return l2l.Dataset.from_arrays(x, y, 3)


@pytest.fixture
def net():
    return l2l.MLP(SIZES, seed=0)


def train_fresh(optimizer, data, steps=8, seed=3):
    """Losses and final parameters of a fresh learner trained by `optimizer`."""
    learner = l2l.MLP(SIZES, seed=seed)
    losses = l2l.train(learner, optimizer, data, steps=steps, batch_size=32, seed=4)
    return losses, learner.flat_parameters()


# -- the MLHF and its phi -------------------------------------------------------------------


def test_sizes_options_and_seeded_phi():
    m = l2l.MLHF(seed=3)
    assert isinstance(m, l2l.mlhf.MLHF) and m.num_meta_params == 2 * 6 * 277 and m.num_tensors == 2 * 6 * 8
    assert m.options["cg_iters"] == 4 and m.options["damping"] == "rnn" and m.options["hidden"] == (4, 4)
    assert m.options["preconditioner"] == "rnn" and m.options["clip_when_used"] == 0
    phi = m.meta_parameters()
    assert phi.dtype == np.float32 and phi.shape == (m.num_meta_params,) and np.all(np.isfinite(phi))
    np.testing.assert_array_equal(l2l.MLHF(seed=3).meta_parameters(), phi)
    assert not np.array_equal(l2l.MLHF(seed=4).meta_parameters(), phi)

    other = l2l.MLHF(cg_iters=7, damping=0.5, preconditioner="none", hidden=(3, 2), clip_when_used=True)
    assert other.options["cg_iters"] == 7 and other.options["damping"] == 0.5 and other.options["hidden"] == (3, 2)
    assert other.options["clip_when_used"] == 1 and other.num_meta_params < m.num_meta_params
    assert "3324 meta-parameters" in repr(m)


def test_meta_parameters_round_trip_and_errors():
    m = l2l.MLHF(seed=0)
    values = np.linspace(-1, 1, m.num_meta_params, dtype=np.float64).reshape(2, -1)  # any shape, any float dtype
    m.set_meta_parameters(values)
    np.testing.assert_array_equal(m.meta_parameters(), values.reshape(-1).astype(np.float32))
    expect(l2l.ShapeError, "l2l_mlhf_set_meta", m.set_meta_parameters, np.zeros(5, np.float32))
    bad = values.reshape(-1).copy()
    bad[17] = np.nan
    expect(l2l.NonFiniteError, "l2l_mlhf_set_meta", m.set_meta_parameters, bad)
    np.testing.assert_array_equal(m.meta_parameters(), values.reshape(-1).astype(np.float32))  # unchanged


@pytest.mark.parametrize("options", [dict(cg_iters=0), dict(damping=-1), dict(damping="lots"),
                                     dict(preconditioner="maybe"), dict(noise=1.0), dict(hidden=(0,)),
                                     dict(bogus=1)])
def test_bad_options_are_errors(options):
    expect(l2l.InvalidArgumentError, "l2l_mlhf_create", l2l.MLHF, **options)


def test_save_load_gives_identical_phi_and_steps(tmp_path, data):
    m = l2l.MLHF(seed=5, cg_iters=3)
    m.set_meta_parameters(m.meta_parameters() * 1.1 + 0.01)
    path = tmp_path / "mlhf.safetensors"
    m.save(path)
    loaded = l2l.mlhf.load(str(path))
    assert type(loaded) is l2l.mlhf.MLHF and loaded.options_text == m.options_text
    assert loaded.meta_parameters().tobytes() == m.meta_parameters().tobytes()
    net = l2l.MLP(SIZES, seed=0)
    a_losses, a_params = train_fresh(m.as_optimizer(net), data)
    b_losses, b_params = train_fresh(loaded.as_optimizer(net), data)
    assert a_losses.tobytes() == b_losses.tobytes() and a_params.tobytes() == b_params.tobytes()


def test_corrupt_missing_and_other_kinds_of_files(tmp_path, net):
    path = tmp_path / "mlhf.safetensors"
    l2l.MLHF(seed=1).save(path)
    data = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[:-9])
    expect(l2l.FormatError, "l2l_mlhf_load", l2l.MLHF.load, cut)
    altered = bytearray(data)
    altered[-6] ^= 0x08
    changed = tmp_path / "altered.safetensors"
    changed.write_bytes(bytes(altered))
    e = expect(l2l.FormatError, "l2l_mlhf_load", l2l.MLHF.load, changed)
    assert "checksum" in str(e)
    expect(l2l.FileError, "l2l_mlhf_load", l2l.MLHF.load, tmp_path / "none.safetensors")
    expect(l2l.FileError, "l2l_mlhf_save", l2l.MLHF().save, tmp_path / "no-dir" / "m.safetensors")

    # Each loader refuses the other's kind, saying what the file holds.
    sgd_path = tmp_path / "meta_sgd.safetensors"
    l2l.learned.MetaSGD(net).save(sgd_path)
    e = expect(l2l.FormatError, "l2l_mlhf_load", l2l.MLHF.load, sgd_path)
    assert "meta_sgd" in str(e)
    e = expect(l2l.FormatError, "l2l_learned_load", l2l.learned.load, path)
    assert "MLHF" in str(e)


# -- the optimiser ----------------------------------------------------------------------------


def test_optimizer_steps_learners_of_its_kinds_only(data, net):
    opt = l2l.MLHF(seed=0).as_optimizer(net)
    assert isinstance(opt, l2l.Optimizer) and opt.kind == "mlhf"
    losses, _ = train_fresh(opt, data, steps=20)
    assert np.all(np.isfinite(losses)) and losses[-5:].mean() < 0.7 * losses[0]
    # By hand: the batch of the last loss_and_grad is the one modelled.
    learner = l2l.MLP(SIZES, seed=9)
    x, y = three_blobs(16, seed=1)
    before = learner.flat_parameters()
    opt.reset()
    learner.loss_and_grad(x, y)
    opt.step(learner)
    assert not np.array_equal(before, learner.flat_parameters())
    # Another width is the same architecture; another depth is not.
    opt.reset()
    l2l.train(l2l.MLP([6, 20, 3], seed=1), opt, data, steps=2, batch_size=32)
    opt.reset()
    expect(l2l.ShapeError, "l2l_train", l2l.train, l2l.MLP([6, 5, 5, 3], seed=1), opt, data, steps=2)


# -- meta-training ----------------------------------------------------------------------------


def test_meta_training_lowers_held_out_lp_and_the_trained_mlhf_trains(data, net):
    mlhf = l2l.MLHF(seed=0)
    phi0 = mlhf.meta_parameters()
    trainer = l2l.MLHFTrainer(mlhf, net, data, iterations=60, batch=128, meta_lr=1e-2, seed=9, reset=0.2)
    before = trainer.evaluate(seed=7)  # a learner trajectory on other batches than training's
    assert set(before) == {"l_p", "l_s", "residual", "loss", "damping"}
    history = trainer.run()
    assert history.dtype == l2l.mlhf.HISTORY_DTYPE and history.shape == (60,)
    assert np.all(np.isfinite(history["l_p"])) and np.all(history["damping"] > 0)
    assert trainer.events == [] and trainer.iterations_done == 60
    after = trainer.evaluate(seed=7)
    assert after["l_p"] < before["l_p"], (before, after)
    # evaluate() with an MLHF handle scores that phi: the untrained one gives `before` again.
    assert trainer.evaluate(mlhf, seed=7) == before

    trained = trainer.mlhf()
    assert trained.options_text == mlhf.options_text
    assert not np.array_equal(trained.meta_parameters(), phi0)
    np.testing.assert_array_equal(mlhf.meta_parameters(), phi0)  # the input is not changed
    assert trainer.evaluate(trained, seed=7) == after

    opt = trainer.trained_optimizer()
    losses, _ = train_fresh(opt, data, steps=30, seed=11)
    assert np.all(np.isfinite(losses)) and losses[-5:].mean() < 0.6 * losses[0], losses
    result = l2l.meta.meta_test(opt, net, data, data, learners=2, steps=10, batch_size=32, eval_steps=[0, 10])
    assert result.training_loss.shape == (2, 10) and np.all(np.isfinite(result.training_loss))
    assert np.all(result.test_loss[:, 1] < result.test_loss[:, 0])


def test_history_callback_and_determinism(data, net):
    trainer = l2l.MLHFTrainer(l2l.MLHF(seed=1), net, data, **FAST)
    seen = []
    rows = trainer.run(callback=lambda i, record: seen.append((i, record)))
    assert [i for i, _ in seen] == [0, 1, 2, 3] and rows.shape == (4,)
    for (_, record), row in zip(seen, rows):
        assert record == {name: float(row[name]) for name in row.dtype.names}
    assert trainer.run().shape == (0,)  # nothing left of the configured iterations
    assert trainer.run(iterations=2).shape == (2,) and trainer.iterations_done == 6
    assert "6/4 iterations" in repr(trainer)

    again = l2l.MLHFTrainer(l2l.MLHF(seed=1), net, data, **FAST)
    again.run(iterations=1)
    again.run()
    assert again.history.tobytes() == trainer.history[:4].tobytes()


def test_progress_bar(capsys, no_tqdm, data, net):
    l2l.MLHFTrainer(l2l.MLHF(), net, data, **FAST).run(progress=True)
    err = capsys.readouterr().err
    assert "mlhf meta-train" in err and "4/4" in err and "l_p" in err and err.endswith("\n")


def test_cancel_keeps_the_work(data, net):
    trainer = l2l.MLHFTrainer(l2l.MLHF(), net, data, **FAST)
    e = expect(l2l.CancelledError, "l2l_mlhf_trainer_run", trainer.run, callback=lambda i, record: i == 1)
    assert e.history.shape == (2,) and trainer.iterations_done == 2

    def fail(i, record):
        raise ValueError("from the callback")

    with pytest.raises(ValueError, match="from the callback"):
        trainer.run(callback=fail)
    assert trainer.iterations_done == 3
    e = expect(l2l.StateError, "l2l_mlhf_trainer_info", trainer.run, callback=lambda i, record: trainer.iterations_done)
    assert "in use" in str(e)


def test_trainer_errors(data, net):
    m = l2l.MLHF()
    for bad in (dict(unroll=1), dict(reset=2), dict(clip="sometimes"), dict(bogus=1)):
        expect(l2l.InvalidArgumentError, "l2l_mlhf_trainer_create", l2l.MLHFTrainer, m, net, data, **bad)
    expect(l2l.ShapeError, "l2l_mlhf_trainer_create", l2l.MLHFTrainer, m, l2l.MLP([5, 4, 3]), data)
    with pytest.raises(l2l.InvalidArgumentError):
        l2l.MLHFTrainer(net, m, data)
    trainer = l2l.MLHFTrainer(m, net, data, **FAST)
    expect(l2l.InvalidArgumentError, "l2l_mlhf_trainer_evaluate", trainer.evaluate, l2l.MLHF(cg_iters=2))
    expect(l2l.InvalidArgumentError, "l2l_mlhf_trainer_evaluate", trainer.evaluate, unrolls=0)
    with pytest.raises(l2l.InvalidArgumentError):
        trainer.run(iterations=-1)
