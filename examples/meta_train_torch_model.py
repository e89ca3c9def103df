"""Meta-train l2l's LSTM optimiser on a model defined in PyTorch, then compare it with Adam on
fresh instances of that model.

    python3 examples/meta_train_torch_model.py [--trials 30] [--steps 100] [--test-steps 300]

The model (a small CNN on real Fashion-MNIST) is PyTorch's; l2l sees it only through
`loss_and_grad(params, step)` (l2l.meta.CallbackTask), and the trained optimiser updates the
model's tensors through l2l.torch.Optimizer. Needs PyTorch (CPU) and Debian's
dataset-fashion-mnist.
"""

import argparse
import os
import time

import numpy as np
import torch

import l2l
import l2l.torch

DIRECTORY = os.environ.get("L2L_DATA", "/usr/share/datasets/fashion-mnist")


def make_model(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(8 * 12 * 12, 10))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--test-steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)

    train = l2l.fashion_mnist("train", directory=DIRECTORY, standardize=True)
    test = l2l.fashion_mnist("test", directory=DIRECTORY, standardize=True)
    x_train, y_train = (torch.from_numpy(np.ascontiguousarray(a)) for a in train.read())
    x_train, y_train = x_train.reshape(-1, 1, 28, 28), y_train.long()
    x_test, y_test = (torch.from_numpy(np.ascontiguousarray(a)) for a in test.read())
    x_test, y_test = x_test.reshape(-1, 1, 28, 28), y_test.long()
    order = np.random.default_rng(0).permutation(len(x_train))

    def batch(step):
        start = (step * args.batch) % (len(order) - args.batch)
        index = torch.from_numpy(order[start:start + args.batch])
        return x_train[index], y_train[index]

    template = make_model(0)
    shapes = [tuple(p.shape) for p in template.parameters()]

    def init(seed):
        return [p.detach().numpy().copy() for p in make_model(int(seed % 2**31)).parameters()]

    def loss_and_grad(params, step):
        model = make_model(0)
        with torch.no_grad():
            for p, value in zip(model.parameters(), params):
                p.copy_(torch.from_numpy(value))
        x, y = batch(step)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        return float(loss.detach()), [p.grad.numpy().astype(np.float32) for p in model.parameters()]

    task = l2l.meta.CallbackTask(shapes, loss_and_grad, init)
    lstm = l2l.learned.LSTMOptimizer(preset="mtl2l", seed=0)
    trainer = l2l.meta.MetaTrainer(lstm, [task], trials=args.trials, steps=args.steps, unroll=5, clip="value", seed=0)
    start = time.time()
    trainer.run(progress=True)
    print(f"meta-trained the LSTM optimiser on the torch CNN: {args.trials} trials × {args.steps} steps in "
          f"{time.time() - start:.0f} s; meta-loss {trainer.history[:20].mean():.3f} → {trainer.history[-20:].mean():.3f}")

    def run(make_optimizer, seed):
        model = make_model(100 + seed)
        opt = make_optimizer(model)
        for step in range(args.test_steps):
            x, y = batch(10_000 + step)
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        with torch.no_grad():
            logits = model(x_test)
            return float(torch.nn.functional.cross_entropy(logits, y_test)), float((logits.argmax(1) == y_test).float().mean())

    trained = trainer.learned()
    contenders = {
        "LSTM optimiser (meta-trained here)": lambda m: l2l.torch.Optimizer(m.parameters(), trained),
        "LSTM optimiser (untrained)": lambda m: l2l.torch.Optimizer(m.parameters(), lstm),
        "Adam (lr 1e-3, torch.optim)": lambda m: torch.optim.Adam(m.parameters(), lr=1e-3),
    }
    print(f"\nfresh CNNs trained {args.test_steps} steps ({args.test_steps / args.steps:.0f}× the horizon), 3 seeds:")
    print(f"{'optimiser':38s} {'test loss':>16s} {'test accuracy':>18s}")
    for name, make in contenders.items():
        results = np.array([run(make, seed) for seed in range(3)])
        loss, accuracy = results.mean(0)
        loss_sd, accuracy_sd = results.std(0)
        print(f"{name:38s} {loss:8.3f} ± {loss_sd:.3f} {100 * accuracy:10.2f} ± {100 * accuracy_sd:.2f} %")


if __name__ == "__main__":
    main()
