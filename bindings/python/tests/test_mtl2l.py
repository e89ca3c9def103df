"""MTL2L from Python (l2l.learned.MTL2L): it trains through every front door that carries
the input batch (l2l.train, a bare loss_and_grad + step loop, meta_test), meta-training
lowers its meta-loss, files keep phi with the fixed orthogonal bases bit for bit, steps
without a usable batch raise l2l.Error subclasses, and multi-domain meta-training maps
trial q to task q mod len(tasks). Tiny learners and networks: a few seconds in all."""

import numpy as np
import pytest

import l2l
from conftest import blobs, expect

SIZES = [4, 6, 3]
SMALL = dict(hidden=4, hyper_hidden=4)  # a small MTL2L: H = 4, hypernetworks 4 -> 4 -> H


def bases(opt):
    """The 16 fixed H x H matrices (Q and P per gate and path), the last values of phi."""
    h = opt.options["hidden"]
    return opt.meta_parameters()[-16 * h * h:].reshape(16, h, h)


def test_sizes_options_and_orthogonal_bases(net):
    opt = l2l.learned.MTL2L(net, **SMALL, seed=2)
    assert isinstance(opt, l2l.learned.MTL2L) and opt.kind == "mtl2l" and "mtl2l" in l2l.learned.KINDS
    assert opt.options["inputs"] == 4 and opt.options["preset"] == "paper" and opt.options["hidden"] == 4
    # Four hypernetworks 4 -> 4 -> 4 (H eigenvalues, or 4 gate scalars; H = 4 here), w_in
    # [2, 4], layer-1 biases on all 4 gates [16], w2 [4, 4], layer-2 biases [4], and 16 fixed
    # 4 x 4 bases.
    hyper = 4 * (4 * 4 + 4 + 4 * 4 + 4)
    assert opt.num_meta_params == hyper + 2 * 4 + 16 + 4 * 4 + 4 + 16 * 16
    for q in bases(opt).astype(np.float64):
        np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-5)
    # The authors' configuration on the 784-32-10 MLP: 102,226 trainable values + 16 x 400 fixed.
    code = l2l.learned.MTL2L(l2l.MLP([784, 32, 10]), preset="code")
    assert code.num_meta_params == 102_226 + 16 * 400 and code.options["gate_biases"] == "forget_input"


def test_rnnprop_inputs_and_odd_updates(data, tmp_path):
    """gradient_inputs="adam" and odd=1 train, survive a save and load, and are refused
    when unknown; the options text of a plain MTL2L does not mention them."""
    train, _ = data
    opt = l2l.learned.MTL2L(l2l.MLP(SIZES), **SMALL, gradient_inputs="adam", beta1=0.9, odd=1, seed=2)
    assert np.isfinite(l2l.train(l2l.MLP(SIZES, seed=1), opt.as_optimizer(), train, steps=5, batch_size=16)).all()
    opt.save(tmp_path / "m.safetensors")
    loaded = l2l.learned.load(tmp_path / "m.safetensors")
    assert (loaded.options["gradient_inputs"], loaded.options["beta1"], loaded.options["odd"]) == ("adam", 0.9, 1)
    assert "odd" not in l2l.learned.MTL2L(l2l.MLP(SIZES), **SMALL).options_text
    assert "gradient_inputs" in str(expect(l2l.InvalidArgumentError, "l2l_learned_create", l2l.learned.MTL2L,
                                           l2l.MLP(SIZES), gradient_inputs="rms"))


def test_train_bare_steps_and_meta_test(data, net):
    """l2l.train and a loop of loss_and_grad + step over the same batches give the same
    learner bit for bit, so the bare step reads the batch of the last loss_and_grad."""
    train, test = data
    opt = l2l.learned.MTL2L(net, **SMALL, seed=2)
    by_train = l2l.MLP(SIZES, seed=1)
    losses = l2l.train(by_train, opt.as_optimizer(), train, steps=12, batch_size=16, seed=4)
    assert np.isfinite(losses).all()
    assert not np.array_equal(by_train.flat_parameters(), net.flat_parameters())

    stepper = opt.as_optimizer()
    batches = l2l.Batches(train, batch_size=16, seed=4)
    bare = []
    for _ in range(12):
        batch = batches.next() or batches.next()  # None ends an epoch
        loss, _ = net.loss_and_grad(*batch)
        stepper.step(net)
        bare.append(loss)
    np.testing.assert_array_equal(np.array(bare, np.float32), losses)
    np.testing.assert_array_equal(net.flat_parameters(), by_train.flat_parameters())

    result = l2l.meta.meta_test(opt, net, train, test, learners=2, steps=10, batch_size=16, eval_steps=[0, 10])
    assert result.training_loss.shape == (2, 10) and np.isfinite(result.training_loss).all()
    assert np.isfinite(result.test_loss).all()


def test_meta_training_lowers_the_meta_loss_and_keeps_the_bases(data, net):
    train, _ = data
    opt = l2l.learned.MTL2L(net, **SMALL, seed=0)
    trainer = l2l.meta.MetaTrainer(opt, [(net, train)], trials=20, steps=10, unroll=5, batch=16, meta_lr=0.03,
                                   clip="value", seed=3)
    before = trainer.evaluate(instances=4, seed=7)
    trainer.run()
    after = trainer.evaluate(instances=4, seed=7)
    assert after < 0.7 * before, (before, after)  # measured: 6.52 -> 2.37
    trained = trainer.learned()
    assert isinstance(trained, l2l.learned.MTL2L) and trained.options == opt.options
    np.testing.assert_array_equal(bases(trained), bases(opt))  # fixed: never meta-trained
    assert not np.array_equal(trained.meta_parameters(), opt.meta_parameters())


def test_save_load_is_bit_identical(tmp_path, data, net):
    train, _ = data
    opt = l2l.learned.MTL2L(net, **SMALL, preset="code", seed=5)
    # Other bases than the drawn ones (a signed permutation is orthogonal): the file keeps them.
    phi = opt.meta_parameters()
    h = 4
    phi[-16 * h * h:] = np.tile(np.eye(h, dtype=np.float32)[[2, 0, 3, 1]] * [1, -1, 1, 1], (16, 1, 1)).reshape(-1)
    phi[:7] = [0.5, -0.25, 1e-7, 3.0, -2.5, 0.125, 7.0]
    opt.set_meta_parameters(phi)
    path = tmp_path / "mtl2l.safetensors"
    opt.save(path)
    loaded = l2l.learned.load(path)
    assert isinstance(loaded, l2l.learned.MTL2L)
    assert loaded.kind == "mtl2l" and loaded.options_text == opt.options_text
    np.testing.assert_array_equal(loaded.meta_parameters(), phi)
    # The same phi steps a learner the same way.
    a, b = l2l.MLP(SIZES, seed=6), l2l.MLP(SIZES, seed=6)
    l2l.train(a, opt.as_optimizer(), train, steps=3, batch_size=16, seed=1)
    l2l.train(b, loaded.as_optimizer(), train, steps=3, batch_size=16, seed=1)
    np.testing.assert_array_equal(a.flat_parameters(), b.flat_parameters())


def test_steps_without_a_usable_batch_raise(data, net):
    train, test = data
    opt = l2l.learned.MTL2L(net, **SMALL)
    stepper = opt.as_optimizer()
    # Nothing stored: no gradient and no batch.
    expect(l2l.StateError, "l2l_optimizer_step", stepper.step, net)
    x, y = train.read(0, 8)
    net.loss_and_grad(x, y)
    net.set_flat_parameters(net.flat_parameters())  # forgets the gradient and its batch
    expect(l2l.StateError, "l2l_optimizer_step", stepper.step, net)

    # A learner of another input width: the hypernetworks read 4 features.
    x8, y8 = blobs(n=32, features=8, classes=3, seed=1)
    wide, wide_data = l2l.MLP([8, 6, 3], seed=1), l2l.Dataset.from_arrays(x8, y8, 3)
    wide.loss_and_grad(x8[:8], y8[:8])
    e = expect(l2l.ShapeError, "l2l_optimizer_step", opt.as_optimizer().step, wide)
    assert "4" in e.detail and "8" in e.detail
    expect(l2l.ShapeError, "l2l_train", l2l.train, wide, opt.as_optimizer(), wide_data, steps=2, batch_size=8)
    with pytest.raises(l2l.ShapeError):
        l2l.meta.meta_test(opt, wide, wide_data, wide_data, learners=1, steps=2, batch_size=8)
    expect(l2l.ShapeError, "l2l_meta_trainer_create", l2l.meta.MetaTrainer, opt, [(net, train), (wide, wide_data)],
           trials=2, steps=10, unroll=5)
    # Nothing was changed by the refused calls: the 4-input learner still trains.
    assert np.isfinite(l2l.train(net, opt.as_optimizer(), train, steps=2, batch_size=8)).all()


@pytest.mark.parametrize("sample_tasks", [False, True])
def test_trial_q_uses_task_q_mod_tasks(data, net, sample_tasks):
    """Two tasks whose meta-losses cannot be confused: the second's inputs are 1000 times
    larger, so its learners start with losses in the hundreds. Alternating: trial q on task
    q mod 2; sampled: both tasks, in an order drawn from the seed."""
    train, _ = data
    x, y = train.read(0, len(train))
    loud = l2l.Dataset.from_arrays(x * 1000, y, 3)
    opt = l2l.learned.MTL2L(net, **SMALL, seed=1)
    trainer = l2l.meta.MetaTrainer(opt, [(net, train), (net, loud)], trials=8, steps=5, unroll=5, batch=16,
                                   meta_lr=1e-4, sample_tasks=sample_tasks, seed=2)
    history = trainer.run()
    assert history.shape == (8,) and np.isfinite(history).all()
    is_loud = history > 100
    assert (history[~is_loud] < 50).all(), history  # two clusters, nothing in between
    if sample_tasks:
        assert 0 < is_loud.sum() < 8
    else:
        np.testing.assert_array_equal(is_loud, np.arange(8) % 2 == 1)
