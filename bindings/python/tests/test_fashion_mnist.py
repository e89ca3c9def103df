"""The one test on real data: Fashion-MNIST's test split from Debian's dataset-fashion-mnist."""

import os

import numpy as np
import pytest

import l2l

DIRECTORY = os.environ.get("L2L_DATA", "/usr/share/datasets/fashion-mnist")
FILES = ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
present = all(os.path.exists(os.path.join(DIRECTORY, f)) or os.path.exists(os.path.join(DIRECTORY, f + ".gz"))
              for f in FILES)


@pytest.mark.skipif(not present, reason=f"Fashion-MNIST test files not found in {DIRECTORY} "
                                        "(install Debian's dataset-fashion-mnist or set L2L_DATA)")
def test_fashion_mnist_test_split():
    test = l2l.fashion_mnist("test", directory=DIRECTORY)
    assert len(test) == 10000 and test.features == 784 and test.classes == 10
    x, y = test.inputs, test.labels
    assert x.shape == (10000, 784) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert y.min() == 0 and y.max() == 9
    assert np.all(np.bincount(y, minlength=10) == 1000)  # the test split is balanced
    mean, std = test.statistics()
    assert mean == pytest.approx(float(x.mean(dtype=np.float64)), abs=1e-5)
    net = l2l.MLP([784, 32, 10], seed=0)
    loss, accuracy = net.evaluate(test)
    assert 0.0 <= accuracy <= 1.0 and loss == pytest.approx(np.log(10), rel=0.2)
