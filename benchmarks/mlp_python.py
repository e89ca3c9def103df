"""Training throughput of the 784-32-10 MLP at batch 128 from Python, next to the Swift
figures of `l2l-bench --json` (run by scripts/bench.sh, which passes them in).

    python3 benchmarks/mlp_python.py [--swift-json FILE] [--steps N]

Two ways to train from Python:
  loop   a Python for-loop: net.loss_and_grad(x, y) then sgd.step(net) per batch
         (numpy arrays cross the C ABI every step);
  train  l2l.train(...): the whole loop runs inside the library.
"""
import argparse
import json
import time

import numpy as np

import l2l


def best_rate(run, steps, repeats=3):
    """Best steps per second over `repeats` runs of `run(steps)`."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(steps)
        best = min(best, time.perf_counter() - t0)
    return steps / best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--swift-json", help="output of `l2l-bench --json`")
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    batch = 128
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch).astype(np.int32)
    net = l2l.learners.MLP([784, 32, 10], seed=0)
    sgd = l2l.optim.SGD(lr=0.01)

    def loop(steps):
        for _ in range(steps):
            net.loss_and_grad(x, y)
            sgd.step(net)

    # A data set of exactly one batch, so l2l.train sees the same batch every step.
    data = l2l.datasets.Dataset.from_arrays(x, y, classes=10)

    def inside(steps):
        l2l.train(net, sgd, data, steps=steps, batch_size=batch, seed=0)

    loop(100)
    inside(100)
    rates = {"loop": best_rate(loop, args.steps), "train": best_rate(inside, args.steps)}

    swift = json.load(open(args.swift_json)) if args.swift_json else None
    print("MLP 784-32-10, batch 128, forward + backward + SGD (Python)")
    for name, rate in rates.items():
        line = f"  {name:5s}: {rate:7.0f} steps/s ({1e6 / rate:6.1f} µs/step)"
        if swift:
            line += f" = {rate / swift['mlp_steps_per_second']:.2f} × Swift"
        print(line)


if __name__ == "__main__":
    main()
