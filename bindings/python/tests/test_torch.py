"""l2l.torch: l2l optimisers as torch.optim.Optimizers, on a small torch CNN and real
Fashion-MNIST. The test setup installs PyTorch (CPU); outside CI the tests skip without it."""

import os

import numpy as np
import pytest

if os.environ.get("CI") == "true":
    import torch
else:
    torch = pytest.importorskip("torch")

import l2l
import l2l.torch

DIRECTORY = os.environ.get("L2L_DATA", "/usr/share/datasets/fashion-mnist")
present = os.path.exists(os.path.join(DIRECTORY, "t10k-images-idx3-ubyte.gz")) or os.path.exists(
    os.path.join(DIRECTORY, "t10k-images-idx3-ubyte"))
needs_data = pytest.mark.skipif(not present, reason=f"Fashion-MNIST not found in {DIRECTORY}")


def cnn(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(4 * 12 * 12, 10))


def batches(count=6, size=32):
    test = l2l.fashion_mnist("test", directory=DIRECTORY, standardize=True)
    x, y = test.read(0, count * size)
    x = torch.from_numpy(np.ascontiguousarray(x)).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(y.astype(np.int64))
    return [(x[i * size:(i + 1) * size], y[i * size:(i + 1) * size]) for i in range(count)]


def train(model, opt, data, epochs=1):
    losses = []
    for _ in range(epochs):
        for x, y in data:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    return losses


@needs_data
def test_l2l_adam_matches_torch_adam_step_by_step():
    ours, theirs = cnn(0), cnn(0)
    opt_ours = l2l.torch.Optimizer(ours.parameters(), l2l.optim.Adam(lr=1e-3, eps_inside=False))
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=1e-3, eps=1e-8)
    for x, y in batches():
        for model, opt in [(ours, opt_ours), (theirs, opt_theirs)]:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        for a, b in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-6)


@needs_data
def test_a_trained_lstm_optimizer_trains_a_torch_cnn():
    mlp = l2l.MLP([784, 32, 10], seed=0)
    train_set = l2l.fashion_mnist("test", directory=DIRECTORY, standardize=True)
    lstm = l2l.learned.LSTMOptimizer(preset="mtl2l", seed=3)
    trainer = l2l.meta.MetaTrainer(lstm, [(mlp, train_set)], trials=4, steps=20, unroll=5, batch=64, clip="value",
                                   meta_lr=3e-3, seed=1)
    trainer.run()
    model = cnn(1)
    opt = l2l.torch.Optimizer(model.parameters(), trainer.learned())
    losses = train(model, opt, batches(count=8), epochs=3)
    assert np.mean(losses[-4:]) < 0.8 * np.mean(losses[:4]), losses


def test_state_dict_continues_exactly_and_bad_parameters_are_refused():
    def fresh():
        torch.manual_seed(0)
        return torch.nn.Linear(3, 2)

    x = torch.randn(5, 3)

    def step(model, opt):
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()

    for make in [lambda: l2l.optim.Adam(lr=0.1), lambda: l2l.learned.LSTMOptimizer(preset="mtl2l", seed=4)]:
        straight = fresh()
        opt = l2l.torch.Optimizer(straight.parameters(), make())
        for _ in range(3):
            step(straight, opt)
        saved = opt.state_dict()
        assert saved["l2l"]["steps"] == 3 and 0 in saved["l2l"]["groups"]
        step(straight, opt)

        resumed = fresh()
        first = l2l.torch.Optimizer(resumed.parameters(), make())
        for _ in range(3):
            step(resumed, first)
        again = l2l.torch.Optimizer(resumed.parameters(), make())
        again.load_state_dict(saved)
        step(resumed, again)
        for a, b in zip(straight.parameters(), resumed.parameters()):
            assert torch.equal(a, b)

    with pytest.raises(l2l.InvalidArgumentError, match="adam"):
        l2l.torch.Optimizer(fresh().parameters(), l2l.optim.SGD()).load_state_dict(
            l2l.torch.Optimizer(fresh().parameters(), l2l.optim.Adam()).state_dict())
    with pytest.raises(l2l.InvalidArgumentError, match="float32"):
        l2l.torch.Optimizer(torch.nn.Linear(2, 2).double().parameters(), l2l.optim.Adam())
