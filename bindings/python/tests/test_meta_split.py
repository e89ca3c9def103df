"""One meta-iteration in two halves (MetaTrainer.estimate / combine / apply, phi): split
over trainers in one process it gives phi bit for bit as `run`; bad input raises."""

import numpy as np
import pytest

import l2l
from conftest import expect


def make(data, net, **config):
    options = dict(trials=2, steps=10, unroll=5, batch=16, meta_lr=0.01, seed=3, meta_batch=3)
    options.update(config)
    return l2l.meta.MetaTrainer(l2l.learned.LSTMOptimizer(preset="mtl2l", seed=0), [(net, data[0])], **options)


@pytest.mark.parametrize("estimator", ["bptt", "pes"])
def test_two_trainers_splitting_the_members_match_run(data, net, estimator):
    one = make(data, net, estimator=estimator, es_pairs=2)
    one.run()
    a, b = make(data, net, estimator=estimator, es_pairs=2), make(data, net, estimator=estimator, es_pairs=2)
    b.phi = a.phi
    while not a.finished:
        ga, sa = a.estimate([0, 2])
        gb, sb = b.estimate([1])
        gradients, summaries = np.stack([ga[0], gb[0], ga[1]]), np.stack([sa[0], sb[0], sa[1]])
        for t in (a, b):
            t.apply(summaries, t.combine(gradients))
    assert a.phi.tobytes() == b.phi.tobytes() == one.phi.tobytes()
    assert a.history.tobytes() == one.history.tobytes()
    assert not np.array_equal(one.phi, make(data, net).phi)


def test_bad_input(data, net):
    t = make(data, net)
    phi = t.phi
    assert phi.dtype == np.float32 and phi.shape == (t._handle.sizes()[1],) and t.meta_batch == 3
    expect(l2l.ShapeError, "l2l_meta_trainer_set_phi", setattr, t, "phi", phi[:-1])
    bad = phi.copy()
    bad[0] = np.nan
    expect(l2l.NonFiniteError, "l2l_meta_trainer_set_phi", setattr, t, "phi", bad)
    expect(l2l.StateError, "l2l_meta_trainer_apply", t.apply, np.zeros((3, l2l.meta.SUMMARY_SIZE), np.float32), phi)
    expect(l2l.InvalidArgumentError, "l2l_meta_trainer_estimate", t.estimate, [0, 0])
    expect(l2l.InvalidArgumentError, "l2l_meta_trainer_estimate", t.estimate, [3])
    expect(l2l.ShapeError, "l2l_meta_trainer_combine", t.combine, np.zeros((2, phi.size), np.float32))

    gradients, summaries = t.estimate([0, 1, 2])
    assert gradients.shape == (3, phi.size) and summaries.shape == (3, l2l.meta.SUMMARY_SIZE)
    assert np.all(np.isfinite(gradients)) and np.all(summaries[:, 3] == 0)
    expect(l2l.StateError, "l2l_meta_trainer_set_phi", setattr, t, "phi", phi)
    combined = t.combine(gradients)
    assert combined.tobytes() == ((gradients[0] + gradients[1] + gradients[2]) * np.float32(1 / 3)).tobytes()
    expect(l2l.ShapeError, "l2l_meta_trainer_apply", t.apply, summaries[:2], combined)
    expect(l2l.ShapeError, "l2l_meta_trainer_apply", t.apply, summaries, combined[:-1])
    expect(l2l.ShapeError, "l2l_meta_trainer_apply", t.apply, summaries, None)
    lying = summaries.copy()
    lying[1, 0] = np.nan
    expect(l2l.NonFiniteError, "l2l_meta_trainer_apply", t.apply, lying, combined)
    assert t.unrolls == 0

    # A NaN meta-gradient is skipped and reported, as in one process.
    t.apply(summaries, np.full_like(combined, np.nan))
    assert t.phi.tobytes() == phi.tobytes() and [e["kind"] for e in t.events] == ["non_finite_gradient"]
