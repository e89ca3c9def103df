"""The LSTM learner of Bosc (2016), "Learning to Learn Neural Networks": an LSTM whose cell
state holds the weights of a one-hidden-layer MLP and whose gates learn to update them,
one sample at a time, meta-trained on random XOR-of-thresholds data sets.

    learner = l2l.LSTMLearner(dimension=10, seed=0)
    losses = learner.fit(2000, progress=True)          # SMORMS3, one fresh sequence each
    p = learner.predict(x_train, y_train, x_test)      # learns from the training part
    run = learner.run(x, y, train_count=100, weights=True)   # predictions, losses, weights
    scores = learner.evaluate(datasets=500, noise_scale=0.5) # test-part cross-entropy
    learner.save("learner.safetensors"); again = l2l.LSTMLearner.load("learner.safetensors")

The model is the MLP [d, hidden, 1] (ReLU, one sigmoid output). At each sample the model
predicts first with the weights theta in the cell state; then a gate network (ReLU layers of
`gate_sizes` on [x, y, prediction, flag]) gives an input gate, a forget gate and a tanh
candidate for every weight, theta <- sigmoid(f) * theta + sigmoid(i) * tanh(a). The flag is 1
on the test part of a sequence, whose labels are never shown; with test_updates="off" (the
default) it also switches updates off there. The prior theta_0 and the gate network are the
meta-parameters. Options and defaults are those of l2l_lstm_learner_create in include/l2l.h.
"""

from __future__ import annotations

import os
from typing import Any, Callable, List, NamedTuple, Optional, Tuple, Union

import numpy as np

from . import _l2l
from ._common import as_inputs, as_path, format_options
from .training import _run_counted

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["LSTMLearner", "SequenceRun", "Evaluation", "load"]


class SequenceRun(NamedTuple):
    """One sequence through the learner: P(y = 1) of each sample (predicted before its own
    update), the mean cross-entropy of the training part, of the test part and of all
    samples, and (if asked) the cell state theta_0 .. theta_n as an [n + 1, P] array."""

    predictions: np.ndarray
    train_loss: float
    test_loss: float
    loss: float
    weights: Optional[np.ndarray]


class Evaluation(NamedTuple):
    """Test-part mean cross-entropy on fresh data sets: one per data set, their mean and
    sample standard deviation (the paper's two rows)."""

    losses: np.ndarray
    mean: float
    std: float


def _labels(y: Any) -> np.ndarray:
    """0/1 labels (any real or integer array-like) as float32 [n]."""
    a = np.asarray(y)
    if a.dtype.kind not in "biuf":
        raise _l2l.InvalidArgumentError(f"labels must be numbers 0 or 1, got dtype {a.dtype}")
    return np.ascontiguousarray(a.reshape(-1), dtype=np.float32)


class LSTMLearner:
    """An LSTM learner for d-`hidden`-1 MLPs on `dimension` inputs. `seed` seeds the
    initialisation and the sequences of meta-training. `samples`, `noise_scale` and
    `train_fraction` (min, max) describe the meta-training data sets; other options of
    l2l_lstm_learner_create (minimum_balance, threshold_spread, rollback_after, ...) pass
    through `options`."""

    def __init__(self, dimension: int = 10, hidden: int = 32, gate_sizes: Tuple[int, ...] = (64, 64),
                 test_updates: str = "off", meta_lr: float = 3e-3, seed: int = 0, samples: int = 200,
                 noise_scale: float = 1.0, train_fraction: Tuple[float, float] = (0.2, 0.8),
                 forget_bias: float = 6.0, input_bias: float = -4.0, clip: Optional[str] = None,
                 clip_at: Optional[float] = None, **options: Any):
        low, high = train_fraction
        text = format_options({"dimension": dimension, "hidden": hidden, "gate_sizes": list(gate_sizes),
                               "test_updates": test_updates, "meta_lr": meta_lr, "seed": seed, "samples": samples,
                               "noise_scale": noise_scale, "train_min": low, "train_max": high,
                               "forget_bias": forget_bias, "input_bias": input_bias, "clip": clip,
                               "clip_at": clip_at, **options})
        self._handle = _l2l.LSTMLearner(text)

    @classmethod
    def load(cls, path: PathLike) -> "LSTMLearner":
        """A learner saved by `save`. Meta-training resumes with a fresh SMORMS3 state.
        FileError for a missing file; FormatError for a truncated, altered or foreign one."""
        self = cls.__new__(cls)
        self._handle = _l2l.LSTMLearner.load(as_path(path))
        return self

    # -- meta-training --------------------------------------------------------------

    def fit(self, iterations: int, progress: bool = False,
            callback: Optional[Callable[[int, int, float], Any]] = None) -> np.ndarray:
        """Meta-trains for `iterations` SMORMS3 steps, each on one fresh sequence (a data set
        of the XOR family and a random training fraction, drawn from the learner's seeded
        generator); returns each step's objective, the mean cross-entropy over all samples
        of its sequence (float32). `progress=True` shows a progress bar;
        `callback(iteration, total, objective)` runs after each, and a truthy result raises
        l2l.CancelledError (with `.losses`); Ctrl-C also stops. Iterations done are kept."""
        count = int(iterations)
        if count < 0:
            raise _l2l.InvalidArgumentError(f"fit: iterations must be non-negative, got {count}")
        return _run_counted(count, progress, callback, (_l2l.CancelledError,),
                            lambda losses, on_step: self._handle.fit(count, losses, on_step))

    # -- running sequences ------------------------------------------------------------

    def run(self, inputs: Any, labels: Any, train_count: int, weights: bool = False) -> SequenceRun:
        """Runs the learner over one sequence: `inputs` [n, d], `labels` [n] (0 or 1), the
        first `train_count` samples the training part (the others' labels only score).
        The meta-parameters do not change."""
        predictions, losses, w = self._handle.run(as_inputs(inputs), _labels(labels), int(train_count), bool(weights))
        return SequenceRun(predictions, float(losses[0]), float(losses[1]), float(losses[2]), w)

    def predict(self, x_train: Any, y_train: Any, x_test: Any) -> np.ndarray:
        """P(y = 1) for each row of `x_test` [m, d] after the learner has seen the training
        samples `x_train` [k, d] with labels `y_train` [k] once, in order."""
        x_train, x_test = as_inputs(x_train), as_inputs(x_test)
        y_train = _labels(y_train)
        if x_train.ndim != 2 or x_test.ndim != 2:
            raise _l2l.ShapeError(f"predict: inputs must be [n, d] arrays, got {x_train.shape} and {x_test.shape}")
        if x_train.shape[1] != x_test.shape[1]:
            raise _l2l.ShapeError(f"predict: x_train has {x_train.shape[1]} features, x_test {x_test.shape[1]}")
        inputs = np.concatenate([x_train, x_test])
        labels = np.concatenate([y_train, np.zeros(len(x_test), dtype=np.float32)])
        return self.run(inputs, labels, len(x_train)).predictions[len(x_train):]

    def evaluate(self, datasets: int = 100, seed: int = 1, train_fraction: Optional[Tuple[float, float]] = None,
                 **data: Any) -> Evaluation:
        """The paper's evaluation: the test-part mean cross-entropy on `datasets` fresh data
        sets drawn from `seed`. `data` changes the family from meta-training's (samples,
        noise_scale, threshold_spread, ...), `train_fraction` the (min, max) training part."""
        low, high = train_fraction if train_fraction is not None else (None, None)
        options = format_options({**data, "train_min": low, "train_max": high})
        losses, mean, std = self._handle.evaluate(options or None, int(datasets), int(seed))
        return Evaluation(losses, float(mean), float(std))

    # -- meta-parameters and files ------------------------------------------------------

    @property
    def dimension(self) -> int:
        """d, the model's input size."""
        return int(self._handle.info()[0])

    @property
    def num_params(self) -> int:
        """P, the number of model weights in the cell state."""
        return int(self._handle.info()[1])

    @property
    def iterations(self) -> int:
        """Meta-iterations done."""
        return int(self._handle.info()[3])

    @property
    def events(self) -> int:
        """Skipped meta-steps and rollbacks so far."""
        return int(self._handle.info()[4])

    def meta_parameters(self) -> np.ndarray:
        """A flat float32 copy of the meta-parameters: the prior (P values), then the gate
        network's layers (weight [in, out], bias, layer by layer)."""
        return self._handle.get_meta()

    def model_weights(self, theta: np.ndarray) -> List[np.ndarray]:
        """A flat cell state theta [P] as the model's [W1 [d, h], b1 [h], W2 [h, 1], b2 [1]]."""
        d, p = self.dimension, self.num_params
        h = (p - 1) // (d + 2)
        theta = np.asarray(theta).reshape(-1)
        if theta.size != p:
            raise _l2l.ShapeError(f"model_weights: theta must have {p} values, got {theta.size}")
        cuts = np.cumsum([d * h, h, h])
        w1, b1, w2, b2 = np.split(theta, cuts)
        return [w1.reshape(d, h), b1, w2.reshape(h, 1), b2]

    def prior(self) -> List[np.ndarray]:
        """The meta-learned initial weights theta_0 as the model's parameter arrays."""
        return self.model_weights(self.meta_parameters()[:self.num_params])

    def save(self, path: PathLike) -> None:
        """Saves the meta-parameters and options as .safetensors."""
        self._handle.save(as_path(path))

    def __repr__(self) -> str:
        d, p, n, iterations, _ = self._handle.info()
        return f"<l2l.LSTMLearner d={d}, {p} weights in the cell state, {n} meta-parameters, {iterations} meta-iterations>"


def load(path: PathLike) -> LSTMLearner:
    """`LSTMLearner.load(path)`."""
    return LSTMLearner.load(path)
