"""Long calls release the GIL; a handle serves one call at a time."""

import threading
import time

import numpy as np

import l2l
from conftest import blobs


def test_evaluate_releases_the_gil():
    rng = np.random.default_rng(0)
    data = l2l.Dataset.from_arrays(rng.standard_normal((100_000, 64)), rng.integers(0, 10, 100_000), 10)
    net = l2l.MLP([64, 256, 10], seed=0)
    start = time.perf_counter()
    net.evaluate(data)
    alone = time.perf_counter() - start

    worker = threading.Thread(target=net.evaluate, args=(data,))
    gaps, last = [], time.perf_counter()
    worker.start()
    while worker.is_alive():
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    worker.join()
    # With the GIL held for the whole call, this loop would stall for about `alone`
    # seconds at once; released, it only waits out thread switches (~5 ms).
    assert alone > 0.02, "evaluation too quick to tell"
    assert max(gaps) < 0.5 * alone


def test_a_learner_busy_in_another_thread_raises_state_error():
    x, y = blobs(n=64, features=5, classes=3, seed=0)
    data = l2l.Dataset.from_arrays(x, y, 3)
    net = l2l.MLP([5, 4, 3], seed=0)
    training, release = threading.Event(), threading.Event()
    errors = []

    def wait_in_callback(step, total, loss):
        if step == 1:
            training.set()
            release.wait(10)

    def run():
        try:
            l2l.train(net, l2l.SGD(0.1), data, steps=3, batch_size=16, callback=wait_in_callback)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert training.wait(10)
        try:
            net.forward(np.zeros((1, 5)))
        except l2l.StateError as e:
            caught = e
        else:
            caught = None
    finally:
        release.set()
        worker.join()
    assert caught is not None and "in use" in str(caught) and caught.function == "l2l_learner_forward"
    assert errors == []
    net.forward(np.zeros((1, 5)))  # free again once training is over
