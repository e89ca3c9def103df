"""Hand-crafted baselines on real Fashion-MNIST (inputs standardised by the training set's
mean and standard deviation), the reference points every learned optimiser is compared to:

  mlp      784-32-10 ReLU MLP, Adam(lr 1e-3), batch 128, 3 epochs      (target >= 84 %)
  convnet  two 5x5 convolutions (32, 64 channels) with 2x2 max pooling, then 128 and 10
           dense units; SGD(lr 0.01, momentum 0.9), batch 128, 3 epochs (target >= 87 %)

    python3 examples/fashion_mnist_baselines.py [--nets mlp,convnet] [--epochs 3] [--check]

Prints the test accuracy after every epoch; --check exits non-zero below the targets.
"""
import argparse
import sys
import time

import l2l

TARGETS = {"mlp": 0.84, "convnet": 0.87}


def build(name, seed):
    if name == "mlp":
        return l2l.learners.MLP([784, 32, 10], seed=seed), l2l.optim.Adam(lr=1e-3)
    return l2l.learners.Convnet(), l2l.optim.SGD(lr=0.01, momentum=0.9)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nets", default="mlp,convnet")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None, help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 if an accuracy misses its target")
    args = parser.parse_args()

    train = l2l.datasets.fashion_mnist("train", directory=args.data)
    test = l2l.datasets.fashion_mnist("test", directory=args.data)
    l2l.datasets.standardize_splits(train, test)

    failed = []
    for name in args.nets.split(","):
        net, optimizer = build(name, args.seed)
        batches = l2l.Batches(train, args.batch_size, seed=args.seed + 1)
        print(f"{name}: {net.num_params} parameters, {optimizer!r}, batch {args.batch_size}")
        start = time.perf_counter()
        accuracy = 0.0
        for epoch in range(1, args.epochs + 1):
            losses = l2l.train(net, optimizer, batches, steps=batches.batches_per_epoch, progress=args.progress)
            loss, accuracy = net.evaluate(test)
            print(f"  epoch {epoch}: train loss {losses.mean():.4f}  test loss {loss:.4f}  "
                  f"test accuracy {100 * accuracy:.2f} %  ({time.perf_counter() - start:.1f} s)")
        if accuracy < TARGETS[name]:
            failed.append(f"{name} {100 * accuracy:.2f} % < {100 * TARGETS[name]:.0f} %")
    if failed:
        print("below target: " + "; ".join(failed))
        if args.check:
            sys.exit(1)


if __name__ == "__main__":
    main()
