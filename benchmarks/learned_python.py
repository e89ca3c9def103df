"""The LSTM optimiser's speed from Python next to Swift's (issue 10: "the Python front door
within 5 % of Swift on B1 and B3"), the same computations as `l2l-bench --only lstm`:

    python3 benchmarks/learned_python.py --swift-json FILE [--meta-steps N] [--test-steps N] [--repeats N]

B1  meta-training learner steps/s: l2l.meta.MetaTrainer on the 784-32-10 MLP with Fashion-MNIST,
    trials of --meta-steps steps (unroll 5, batch 128), a warm-up trial then the best of
    --repeats timed ones (the loop runs inside the library);
B3  meta-testing steps/s: the trained optimiser from a Python loop, `net.loss_and_grad(x, y)`
    then `opt.step(net)` on one fixed batch of 128 (arrays cross the C ABI every step).
FILE is `l2l-bench --only lstm --json` output (scripts/bench.sh writes .build/bench/lstm.json).
"""
import argparse
import json
import time

import l2l


def best_time(body, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        body()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--swift-json", help="output of `l2l-bench --only lstm --json`")
    parser.add_argument("--meta-steps", type=int, default=50)
    parser.add_argument("--test-steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    data = l2l.datasets.fashion_mnist("train")
    net = l2l.learners.MLP([784, 32, 10], seed=0)
    learned = l2l.learned.LearnedOptimizer("lstm")
    trainer = l2l.meta.MetaTrainer(learned, [(net, data)], trials=1 + args.repeats, steps=args.meta_steps)
    trainer.run(trials=1)   # warm-up
    meta_train = args.meta_steps / best_time(lambda: trainer.run(trials=1), args.repeats)

    opt = trainer.learned().as_optimizer()
    x, y = data.inputs[:128], data.labels[:128]

    def steps():
        for _ in range(args.test_steps):
            net.loss_and_grad(x, y)
            opt.step(net)

    for _ in range(3):
        net.loss_and_grad(x, y)
        opt.step(net)
    meta_test = args.test_steps / best_time(steps, args.repeats)

    swift = json.load(open(args.swift_json)) if args.swift_json else None
    print("LSTM optimiser on the MLP 784-32-10, batch 128, from Python")
    for label, rate, key in [("B1 meta-training, learner steps/s", meta_train, "meta_train_steps_per_second"),
                             ("B3 meta-testing, steps/s", meta_test, "meta_test_steps_per_second")]:
        line = f"  {label:34s} {rate:7.1f}"
        if swift:
            line += f" = {rate / swift[key]:.2f} × Swift ({swift[key]:.1f})"
        print(line)


if __name__ == "__main__":
    main()
