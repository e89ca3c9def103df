"""l2l — learning to learn: numpy front door of the Swift library (via its C ABI).

    import l2l
    train, test = l2l.fashion_mnist("train"), l2l.fashion_mnist("test")
    l2l.standardize_splits(train, test)
    net = l2l.MLP([784, 32, 10], seed=0)
    losses = l2l.train(net, l2l.SGD(lr=0.1), train, epochs=1, batch_size=128, progress=True)
    print(net.accuracy(test))

Learned optimisers (l2l.learned) are meta-trained and meta-tested with l2l.meta:

    opt = l2l.MetaSGD(net)
    trainer = l2l.MetaTrainer(opt, [(net, train)], trials=5, steps=100, unroll=5)
    trainer.run(progress=True)
    result = l2l.meta_test(trainer.learned(), net, train, test, learners=5, steps=500)

MLHF (meta-learning with Hessian-free, l2l.mlhf) has its own trainer:

    trainer = l2l.MLHFTrainer(l2l.MLHF(), net, train, iterations=100)
    trainer.run(progress=True)
    l2l.train(l2l.MLP([784, 32, 10], seed=1), trainer.trained_optimizer(), train, steps=100)

Errors are l2l.Error subclasses, one per C status code; each carries `.function` (the C
function that failed), `.status` and `.detail` (l2l_last_error()).
"""

from typing import Dict

from . import _l2l
from ._l2l import (
    BufferTooSmallError,
    CancelledError,
    Error,
    FileError,
    FormatError,
    InternalError,
    InvalidArgumentError,
    NonFiniteError,
    ShapeError,
    StateError,
)
from .datasets import Dataset, fashion_mnist, load_idx, standardize_splits
from .learners import MLP, Convnet, Learner, Parameter, ParamInfo, ResNet, ResNet20
from .optim import HFLM, SGD, SMORMS3, Adagrad, Adam, HFFixed, Momentum, Nesterov, Optimizer, RMSprop
from .training import Batches, train
from . import learned, meta, mlhf
from .learned import DMSGD, LearnedOptimizer, LSTMOptimizer, M2SGD, MetaSGD
from .meta import MetaTestResult, MetaTrainer, meta_test, plot_loss_curves
from .mlhf import MLHF, MLHFTrainer
from . import fewshot
from . import lstm_learner
from .lstm_learner import LSTMLearner
from . import sparse

__version__: str = _l2l.version()

if __version__ != _l2l.HEADER_VERSION:
    raise ImportError(f"l2l: the loaded libl2l.so is version {__version__} but the extension was built "
                      f"against l2l.h {_l2l.HEADER_VERSION}; reinstall the package")


def version() -> str:
    """The library's version (l2l_version())."""
    return _l2l.version()


def build_info() -> Dict[str, str]:
    """What this build of the library runs on (l2l_build_info()): a dict of strings.

    Keys: ``version``, ``configuration`` ("release" or "debug"), ``cores``, ``kernels`` (the
    instruction set of l2l's own SIMD kernels: "avx512", "avx2" or "baseline"),
    ``kernel_threads`` (their threads: L2L_NUM_THREADS, else ``cores``), and the BLAS that
    every matrix product runs on: ``blas`` (its name), ``blas_threads`` (the most threads a
    product of 100 MFLOP or more uses: ``kernel_threads``, capped by OPENBLAS_NUM_THREADS,
    GOTO_NUM_THREADS or OMP_NUM_THREADS when set), ``blas_version``, ``blas_core`` (the
    kernel family in use, e.g. "Haswell" or "SkylakeX", chosen for the CPU; the environment
    variable L2L_BLAS_CORETYPE forces one, OPENBLAS_CORETYPE does not), ``blas_config`` (its build configuration) and
    ``blas_library`` (the file loaded).

    >>> l2l.build_info()["blas_core"]
    'SkylakeX'
    """
    return dict(line.split("=", 1) for line in _l2l.build_info().splitlines())


__all__ = [
    "__version__", "version", "build_info",
    "Error", "InvalidArgumentError", "ShapeError", "NonFiniteError", "FileError", "FormatError",
    "BufferTooSmallError", "CancelledError", "StateError", "InternalError",
    "Dataset", "fashion_mnist", "load_idx", "standardize_splits",
    "Learner", "MLP", "Convnet", "ResNet", "ResNet20", "Parameter", "ParamInfo",
    "Optimizer", "SGD", "Momentum", "Nesterov", "Adam", "RMSprop", "Adagrad", "SMORMS3",
    "HFFixed", "HFLM",
    "Batches", "train",
    "learned", "LearnedOptimizer", "LSTMOptimizer", "MetaSGD", "DMSGD", "M2SGD",
    "meta", "MetaTrainer", "MetaTestResult", "meta_test", "plot_loss_curves",
    "mlhf", "MLHF", "MLHFTrainer",
    "fewshot", "sparse",
    "lstm_learner", "LSTMLearner",
]
