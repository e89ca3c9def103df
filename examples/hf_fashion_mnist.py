"""Hessian-free against first-order optimisers on real Fashion-MNIST (issue 5, acceptance 3,
first part): the 784-32-10 ReLU MLP, batch 128, the same number of iterations and the same
batches for every optimiser; training loss per block of iterations, test accuracy, and
wall time per iteration.

    python3 examples/hf_fashion_mnist.py [--steps 500] [--block 50] [--seed 0]
        [--optimizers hf_fixed,hf_lm,sgd,momentum,adam] [--check]

HF(Fixed) and HF(LM) use the library's defaults (lr 0.5, 10 CG iterations, warm start
0.95; Fixed: damping 1; LM: damping from 0.3, decay 2/3, in [1e-3, 1], reduction ratio
measured on the next batch). Each HF iteration costs about
1 + cg_iters gradient evaluations, so the table also gives time per iteration.
--check exits 1 unless both HF variants end with a lower mean training loss over the last
block than SGD.
"""
import argparse
import sys
import time

import numpy as np

import l2l

OPTIMIZERS = {
    "hf_fixed": ("HF(Fixed)", lambda: l2l.optim.HFFixed()),
    "hf_lm": ("HF(LM)", lambda: l2l.optim.HFLM()),
    "sgd": ("SGD lr 0.1", lambda: l2l.optim.SGD(lr=0.1)),
    "momentum": ("SGD lr 0.01 m 0.9", lambda: l2l.optim.Momentum(lr=0.01, momentum=0.9)),
    "adam": ("Adam lr 1e-3", lambda: l2l.optim.Adam(lr=1e-3)),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--block", type=int, default=50, help="iterations per printed training-loss mean")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--optimizers", default="hf_fixed,hf_lm,sgd,momentum,adam")
    parser.add_argument("--data", default=None, help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--check", action="store_true", help="exit 1 unless HF beats SGD on the last block")
    args = parser.parse_args()

    train = l2l.datasets.fashion_mnist("train", directory=args.data)
    test = l2l.datasets.fashion_mnist("test", directory=args.data)
    l2l.datasets.standardize_splits(train, test)

    names = args.optimizers.split(",")
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown:
        parser.error(f"unknown optimizers {unknown}; known: {', '.join(OPTIMIZERS)}")
    blocks = max(1, args.steps // args.block)
    results = {}
    for name in names:
        label, make = OPTIMIZERS[name]
        net = l2l.learners.MLP([784, 32, 10], seed=args.seed)           # same initial weights
        batches = l2l.Batches(train, args.batch_size, seed=args.seed + 1)  # same batches
        start = time.perf_counter()
        losses = l2l.train(net, make(), batches, steps=args.steps)
        seconds = time.perf_counter() - start
        test_loss, accuracy = net.evaluate(test)
        curve = [float(np.mean(losses[b * args.block:(b + 1) * args.block])) for b in range(blocks)]
        results[name] = (label, curve, test_loss, accuracy, seconds)

    print(f"784-32-10 MLP on Fashion-MNIST, batch {args.batch_size}, {args.steps} iterations, seed {args.seed}")
    print(f"mean training loss per block of {args.block} iterations:")
    header = "iterations".ljust(12) + "".join(results[n][0].rjust(19) for n in names)
    print(header)
    for b in range(blocks):
        row = f"{b * args.block + 1}-{(b + 1) * args.block}".ljust(12)
        print(row + "".join(f"{results[n][1][b]:19.4f}" for n in names))
    print("test loss".ljust(12) + "".join(f"{results[n][2]:19.4f}" for n in names))
    print("test acc. %".ljust(12) + "".join(f"{100 * results[n][3]:19.2f}" for n in names))
    print("ms/iteration".ljust(12) + "".join(f"{1e3 * results[n][4] / args.steps:19.2f}" for n in names))

    if args.check and "sgd" in results:
        sgd_last = results["sgd"][1][-1]
        worse = [results[n][0] for n in ("hf_fixed", "hf_lm") if n in results and results[n][1][-1] >= sgd_last]
        if worse:
            print("not below SGD on the last block: " + ", ".join(worse))
            sys.exit(1)


if __name__ == "__main__":
    main()
