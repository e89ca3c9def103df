"""Shared fixtures: the installed l2l package and float64 numpy references of the MLP."""

import contextlib
import os
import signal
import sys
import threading

import numpy as np
import pytest

# Test the installed package (pip install ./bindings/python), never the source tree next
# to these tests, which has no compiled extension.
_SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _SOURCE]

import l2l  # noqa: E402

#: Where the tests that run the examples on real Fashion-MNIST find it (L2L_DATA, else the
#: machine's copy); `needs_fashion_mnist` skips them without it.
FASHION_MNIST = os.environ.get("L2L_DATA", "/usr/share/datasets/fashion-mnist")
needs_fashion_mnist = pytest.mark.skipif(
    not any(os.path.exists(os.path.join(FASHION_MNIST, "train-images-idx3-ubyte" + ext)) for ext in (".gz", "")),
    reason=f"Fashion-MNIST not found in {FASHION_MNIST}")


def example(name):
    """The path of examples/`name` in the repository."""
    return os.path.join(_SOURCE, "..", "..", "examples", name)


ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
}


def reference_forward(params, x, activation="relu"):
    """Logits of an MLP in float64: params = [W0, b0, W1, b1, ...] with W of shape [in, out]."""
    h = np.asarray(x, dtype=np.float64)
    layers = len(params) // 2
    for layer in range(layers):
        w = np.asarray(params[2 * layer], dtype=np.float64)
        b = np.asarray(params[2 * layer + 1], dtype=np.float64)
        h = h @ w + b
        if layer < layers - 1:
            h = ACTIVATIONS[activation](h)
    return h


def reference_loss(params, x, y, activation="relu"):
    """Mean softmax cross-entropy of the MLP in float64."""
    z = reference_forward(params, x, activation)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), np.asarray(y)].mean())


def blobs(n=300, features=8, classes=3, seed=0, spread=0.6):
    """A separable synthetic classification set: Gaussian blobs around random centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, features)) * 2.0
    y = rng.integers(0, classes, size=n)
    x = centres[y] + spread * rng.standard_normal((n, features))
    return x, y


def expect(cls, function, call, *args, **kwargs):
    """Runs `call` and checks it raises `cls` from the C function `function` (named in the
    message and in `.function`); returns the exception."""
    with pytest.raises(cls) as info:
        call(*args, **kwargs)
    e = info.value
    assert isinstance(e, l2l.Error) and e.function == function and str(e).startswith(function + ":")
    return e


@contextlib.contextmanager
def ctrl_c_after(seconds):
    """Raises SIGINT (as Ctrl-C) `seconds` into the block. A shell's background job starts
    with SIGINT ignored, and Python then installs no handler: Python's own is installed for
    the block, or the signal would be lost and the run under test would go on to its end."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(seconds, signal.raise_signal, args=(signal.SIGINT,))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def small_mlp():
    return l2l.MLP([5, 4, 3], seed=7)


@pytest.fixture
def no_tqdm(monkeypatch):
    """Makes `import tqdm...` fail, so progress bars fall back to the text bar on stderr."""
    import builtins

    real_import = builtins.__import__

    def without_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_tqdm)


@pytest.fixture(scope="module")
def data():
    """Train and test sets of 4-feature, 3-class Gaussian blobs (64 and 32 examples)."""
    x, y = blobs(n=96, features=4, classes=3, seed=5, spread=0.5)
    return l2l.Dataset.from_arrays(x[:64], y[:64], 3), l2l.Dataset.from_arrays(x[64:], y[64:], 3)


@pytest.fixture
def net():
    """A fresh 4-6-3 MLP for the blobs of `data` (module files may override both)."""
    return l2l.MLP([4, 6, 3], seed=1)
