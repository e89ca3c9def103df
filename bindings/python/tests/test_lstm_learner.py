"""l2l.LSTMLearner (Bosc 2016): the cell-state MLP, the flag, meta-training, files, bad input."""

import numpy as np
import pytest

import l2l
from conftest import reference_forward

SMALL = dict(dimension=2, hidden=4, gate_sizes=(4, 3), samples=40, meta_lr=0.01, seed=3)


def sequence(n=12, d=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, 2, size=n)


def test_predictions_are_the_cell_state_mlp_before_each_update():
    learner = l2l.LSTMLearner(**SMALL)
    x, y = sequence()
    run = learner.run(x, y, train_count=8, weights=True)
    assert run.weights.shape == (13, learner.num_params) and learner.num_params == 2 * 4 + 4 + 4 + 1
    np.testing.assert_array_equal(run.weights[0], learner.meta_parameters()[:learner.num_params])
    for t in range(12):
        logit = reference_forward(learner.model_weights(run.weights[t]), x[t:t + 1])[0, 0]
        assert run.predictions[t] == pytest.approx(1 / (1 + np.exp(-logit)), abs=1e-5)
    # The flag stops updates: the test part (samples 8..11) leaves the weights as they were.
    assert not np.array_equal(run.weights[8], run.weights[7])
    for t in range(9, 13):
        np.testing.assert_array_equal(run.weights[t], run.weights[8])
    p = np.clip(run.predictions[8:], 1e-7, 1 - 1e-7)
    test_ce = -np.mean(np.where(y[8:] == 1, np.log(p), np.log(1 - p)))
    assert run.test_loss == pytest.approx(test_ce, abs=1e-5)


def test_predict_learns_from_the_training_part_only():
    learner = l2l.LSTMLearner(**SMALL)
    x, y = sequence(10)
    p = learner.predict(x[:6], y[:6], x[6:])
    np.testing.assert_array_equal(p, learner.run(x, y, 6).predictions[6:])
    flipped = y.copy()
    flipped[6:] = 1 - flipped[6:]
    np.testing.assert_array_equal(learner.run(x, flipped, 6).predictions, learner.run(x, y, 6).predictions)
    prior = learner.prior()
    assert [a.shape for a in prior] == [(2, 4), (4,), (4, 1), (1,)]
    np.testing.assert_allclose(learner.predict(x[:0], y[:0], x), 1 / (1 + np.exp(-reference_forward(prior, x)[:, 0])),
                               atol=1e-6)


def test_meta_training_lowers_the_test_loss_on_fresh_data_sets_and_is_reproducible():
    learner = l2l.LSTMLearner(**SMALL)
    before = learner.evaluate(datasets=40, seed=77, noise_scale=0.5, samples=60)
    losses = learner.fit(300)
    after = learner.evaluate(datasets=40, seed=77, noise_scale=0.5, samples=60)
    assert losses.shape == (300,) and np.all(np.isfinite(losses))
    assert after.mean < before.mean - 0.03, (before.mean, after.mean)
    assert after.mean == pytest.approx(float(np.mean(after.losses)), abs=1e-6)
    assert after.std == pytest.approx(float(np.std(after.losses, ddof=1)), abs=1e-6) and after.std > 0
    assert learner.iterations == 300 and learner.events == 0
    twin = l2l.LSTMLearner(**SMALL)
    np.testing.assert_array_equal(twin.fit(5), losses[:5])


def test_save_and_load_round_trip_bit_exact_and_refuse_bad_files(tmp_path):
    learner = l2l.LSTMLearner(test_updates="learned", **SMALL)
    learner.fit(3)
    path = tmp_path / "learner.safetensors"
    learner.save(path)
    back = l2l.LSTMLearner.load(path)
    np.testing.assert_array_equal(back.meta_parameters(), learner.meta_parameters())
    x, y = sequence()
    np.testing.assert_array_equal(back.run(x, y, 6).predictions, learner.run(x, y, 6).predictions)
    data = path.read_bytes()
    (tmp_path / "truncated.safetensors").write_bytes(data[:-9])
    with pytest.raises(l2l.FormatError):
        l2l.LSTMLearner.load(tmp_path / "truncated.safetensors")
    altered = bytearray(data)
    altered[-3] ^= 0x20
    (tmp_path / "altered.safetensors").write_bytes(bytes(altered))
    with pytest.raises(l2l.FormatError, match="checksum"):
        l2l.LSTMLearner.load(tmp_path / "altered.safetensors")
    with pytest.raises(l2l.FileError):
        l2l.lstm_learner.load(tmp_path / "missing.safetensors")


def test_bad_inputs_raise():
    learner = l2l.LSTMLearner(**SMALL)
    x, y = sequence(6)
    with pytest.raises(l2l.ShapeError):
        learner.run(np.zeros((6, 3)), y, 3)
    with pytest.raises(l2l.ShapeError):
        learner.run(x, y[:4], 3)
    with pytest.raises(l2l.NonFiniteError):
        learner.run(np.where(np.arange(12).reshape(6, 2) == 5, np.nan, x), y, 3)
    with pytest.raises(l2l.InvalidArgumentError):
        learner.run(x, np.full(6, 2), 3)
    with pytest.raises(l2l.InvalidArgumentError):
        learner.run(x, y, 7)
    with pytest.raises(l2l.InvalidArgumentError):
        learner.evaluate(datasets=0)
    with pytest.raises(l2l.InvalidArgumentError):
        learner.evaluate(datasets=2, dimension=3)
    with pytest.raises(l2l.InvalidArgumentError):
        learner.fit(-1)
    with pytest.raises(l2l.ShapeError):
        learner.predict(x, y, np.zeros((2, 5)))
    for bad in (dict(gate_sizes=(0,)), dict(train_fraction=(0.9, 0.1)), dict(test_updates="sometimes"),
                dict(hidden=0), dict(bogus=1)):
        with pytest.raises(l2l.InvalidArgumentError):
            l2l.LSTMLearner(**{**SMALL, **bad})
    with pytest.raises(l2l.CancelledError) as stopped:
        learner.fit(10, callback=lambda i, total, loss: i >= 2)
    assert len(stopped.value.losses) == 2 and learner.iterations == 2


def test_the_example_runs_end_to_end(tmp_path):
    for module in ("sklearn", "scipy", "matplotlib"):
        pytest.importorskip(module)
    import pathlib
    import subprocess
    import sys
    example = pathlib.Path(__file__).resolve().parents[3] / "examples" / "lstm_learner.py"
    done = subprocess.run([sys.executable, str(example), "--iterations", "20", "--datasets", "4", "--validation", "2",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    table = (tmp_path / "lstm_learner_table.md").read_text()
    assert "| LSTM learner | " in table and "RBF SVM (Platt)" in table and "Adam" in table
    assert (tmp_path / "lstm_learner_weights.png").stat().st_size > 10_000
