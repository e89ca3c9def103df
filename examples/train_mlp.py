#!/usr/bin/env python3
"""Trains the 784-32-10 ReLU MLP with SGD on Fashion-MNIST and prints the test accuracy.

Inputs are standardised by the training set's mean and standard deviation; one epoch of
SGD (lr 0.1, batch 128) reaches about 83-84 % test accuracy. Mirrors
examples/swift/MLPExample (parameters from --seed, batch order from --seed + 1).

    pip install ./bindings/python        # once, from the repository root
    python3 examples/train_mlp.py --progress
    python3 examples/train_mlp.py --check   # exit status 1 if accuracy < 0.80
"""

import argparse
import sys
import time

import l2l


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=float, default=1, help="epochs of training (default 1)")
    parser.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (default 0.1)")
    parser.add_argument("--batch-size", type=int, default=128, help="mini-batch size (default 128)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the initial parameters; batches use seed + 1 (default 0)")
    parser.add_argument("--data", metavar="DIR", default=None,
                        help="directory of the Fashion-MNIST IDX files (default $L2L_DATA, "
                             "else /usr/share/datasets/fashion-mnist)")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if test accuracy < 0.80")
    args = parser.parse_args(argv)

    try:
        train = l2l.fashion_mnist("train", directory=args.data)
        test = l2l.fashion_mnist("test", directory=args.data)
    except l2l.FileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    mean, std = l2l.standardize_splits(train, test)

    net = l2l.MLP([784, 32, 10], activation="relu", seed=args.seed)
    start = time.perf_counter()
    losses = l2l.train(net, l2l.SGD(lr=args.lr), train, epochs=args.epochs, batch_size=args.batch_size,
                       seed=args.seed + 1, progress=args.progress)
    seconds = time.perf_counter() - start
    loss, accuracy = net.evaluate(test)

    print(f"l2l {l2l.__version__}: {net.num_params} parameters, inputs standardised by "
          f"mean {mean:.4f} std {std:.4f}")
    print(f"steps {len(losses)} in {seconds:.2f} s  last train loss {losses[-1]:.4f}  "
          f"test loss {loss:.4f}  test accuracy {accuracy:.4f}")
    if args.check and accuracy < 0.80:
        print(f"check failed: test accuracy {accuracy:.4f} < 0.80", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
