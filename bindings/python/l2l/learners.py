"""Learners: models whose parameters an optimiser trains.

    net = l2l.MLP([784, 32, 10], seed=0)
    loss, grads = net.loss_and_grad(x, y)       # grads: one array per parameter tensor
    logits = net.forward(x)
    loss, accuracy = net.evaluate(test)
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from . import _l2l
from ._common import _is_real, as_inputs, as_labels, as_targets, format_options
from .datasets import Dataset

__all__ = ["Learner", "MLP", "Convnet", "ResNet", "ResNet20", "Parameter", "ParamInfo"]

_KIND_NAMES = {code: name for name, code in _l2l.PARAM_KINDS.items()}


class ParamInfo(NamedTuple):
    """Where one parameter tensor sits in the flat parameter vector."""
    name: str           # e.g. "fc0.weight"
    kind: str           # "fc_weight", "fc_bias", ...
    shape: Tuple[int, ...]
    offset: int         # first element in the flat vector
    count: int          # number of elements


class Parameter(NamedTuple):
    """A named parameter tensor (a copy)."""
    name: str
    value: np.ndarray


class Learner:
    """A model held by the library with its current parameters and the gradient of the
    last `loss_and_grad`. `kind` and `options` are those of l2l_learner_create."""

    def __init__(self, kind: str, options: Union[None, str, Mapping[str, Any]] = None, seed: int = 0):
        text = options if isinstance(options, str) or options is None else format_options(options)
        self._handle = _l2l.Learner(kind, text, int(seed))
        self.kind = kind
        #: The options text the learner was made with (makes another of the same architecture).
        self.options: Optional[str] = text
        self.seed = int(seed)
        n, tensors, features, classes = self._handle.info()
        self.num_params: int = int(n)
        self.input_features: int = int(features)
        self.classes: int = int(classes)
        self._info = [self._param_info(i) for i in range(int(tensors))]

    def _param_info(self, index: int) -> ParamInfo:
        name, kind, shape, offset, count = self._handle.param_info(index)
        return ParamInfo(name, _KIND_NAMES.get(kind, str(kind)), tuple(int(d) for d in shape),
                         int(offset), int(count))

    def param_info(self) -> List[ParamInfo]:
        """One ParamInfo per parameter tensor, in flat-vector order."""
        return list(self._info)

    # -- parameters -----------------------------------------------------------------

    def flat_parameters(self) -> np.ndarray:
        """A float32 copy of all parameters, tensor after tensor ([num_params])."""
        return self._handle.get_params()

    def set_flat_parameters(self, values: Any) -> None:
        """Replaces all parameters with `num_params` values laid out as `flat_parameters`.
        Forgets the stored gradient. NonFiniteError (and no change) on NaN or infinity."""
        self._handle.set_params(as_inputs(values))

    def _split(self, flat: np.ndarray) -> List[np.ndarray]:
        return [flat[i.offset:i.offset + i.count].reshape(i.shape) for i in self._info]

    def parameters(self) -> List[Parameter]:
        """Copies of the parameter tensors as (name, array) pairs in their shapes."""
        return [Parameter(i.name, a) for i, a in zip(self._info, self._split(self.flat_parameters()))]

    def set_parameters(self, values: Union[Sequence[Any], Mapping[str, Any]]) -> None:
        """Replaces the parameters from one array per tensor (a sequence in `param_info`
        order, of arrays or Parameter pairs, or a mapping from names)."""
        if isinstance(values, Mapping):
            missing = [i.name for i in self._info if i.name not in values]
            extra = sorted(set(values) - {i.name for i in self._info})
            if missing or extra:
                raise _l2l.InvalidArgumentError(f"set_parameters: missing {missing}, unknown {extra}")
            arrays = [values[i.name] for i in self._info]
        else:
            arrays = [v.value if isinstance(v, Parameter) else v for v in values]
            if len(arrays) != len(self._info):
                raise _l2l.ShapeError(f"set_parameters: the learner has {len(self._info)} tensors, got {len(arrays)}")
        parts = []
        for info, a in zip(self._info, arrays):
            a = as_inputs(a)
            if a.shape != info.shape:
                raise _l2l.ShapeError(f"set_parameters: {info.name} has shape {info.shape}, got {a.shape}")
            parts.append(a.reshape(-1))
        self._handle.set_params(np.concatenate(parts) if parts else np.empty(0, np.float32))

    # -- computing ------------------------------------------------------------------

    def loss_and_grad(self, inputs: Any, targets: Any) -> Tuple[float, List[np.ndarray]]:
        """Mean loss of a batch and its gradient, one array per parameter tensor. The
        gradient is also stored for the next optimiser step.

        `targets` are integer class labels [count] for a classifier (the loss is the softmax
        or sigmoid cross-entropy), or real values [count, outputs] (or [count] for one
        output) for a regressor made with objective="mse" (the loss is the mean squared
        error). Labels for a regressor, or real values for a classifier, raise
        InvalidArgumentError."""
        x = as_inputs(inputs)
        if _is_real(targets):
            loss = _l2l.learner_loss_grad_values(self._handle, x, as_targets(targets))
        else:
            loss = self._handle.loss_grad(x, as_labels(targets))
        return float(loss), self._split(self._handle.get_grads())

    def flat_gradients(self) -> np.ndarray:
        """The gradient stored by the last `loss_and_grad`, flat. StateError if none."""
        return self._handle.get_grads()

    def forward(self, inputs: Any) -> np.ndarray:
        """Logits [count, classes] of a batch [count, input_features]."""
        return self._handle.forward(as_inputs(inputs))

    def predict(self, inputs: Any) -> np.ndarray:
        """The most likely class of each example."""
        return np.argmax(self.forward(inputs), axis=1)

    def evaluate(self, dataset: Dataset) -> Tuple[float, float]:
        """(mean loss, accuracy in [0, 1]) over a whole data set; for a regressor and a
        regression set, (mean squared error, nan)."""
        loss, accuracy = self._handle.evaluate(dataset._handle)
        return float(loss), float(accuracy)

    def accuracy(self, dataset: Dataset) -> float:
        """Accuracy in [0, 1] over a whole data set."""
        return self.evaluate(dataset)[1]

    def __repr__(self) -> str:
        return f"<l2l.Learner {self.kind}: {self.num_params} parameters>"


class MLP(Learner):
    """A multi-layer perceptron: `sizes` = [inputs, hidden..., outputs]; layer l computes
    x @ fc{l}.weight + fc{l}.bias with weights [in, out], and `activation` (relu, sigmoid
    or tanh) between layers. `init`: fan_in_uniform (U(+-1/sqrt(fan_in)), weights and
    biases), glorot or he (zero biases). `objective`: "ce" (softmax cross-entropy, a
    classifier), "bce" (one sigmoid output scored by binary cross-entropy: the LSTM-learner
    paper's [d, 32, 1] net) or "mse" (regression: the sine tasks' [1, 40, 40, 1] net).
    Parameters are drawn from `seed`."""

    def __init__(self, sizes: Sequence[int], activation: str = "relu", init: str = "fan_in_uniform",
                 objective: str = "ce", seed: int = 0):
        if any(isinstance(s, bool) or int(s) != s for s in sizes):
            raise _l2l.InvalidArgumentError(f"MLP: sizes must be whole numbers, got {list(sizes)}")
        sizes = [int(s) for s in sizes]
        super().__init__("mlp", {"sizes": sizes, "activation": activation, "init": init,
                                 "objective": objective}, seed)
        self.sizes = sizes
        self.activation = activation
        self.init = init
        self.objective = objective

    def __repr__(self) -> str:
        return (f"l2l.MLP({self.sizes}, activation={self.activation!r}, init={self.init!r}, "
                f"objective={self.objective!r}, seed={self.seed}) with {self.num_params} parameters")


class Convnet(Learner):
    """Convolutions (each followed by `activation` and `pool`×`pool` max pooling, or
    average pooling with pooling="avg"), then dense layers of widths `hidden`, then
    `classes` scores. Kernels are `kernel`×`kernel` with "same" padding; inputs are rows
    of `input_shape` = (channels, height, width) images. The defaults are the 28×28 net
    of the papers' Fashion-MNIST experiments: two 5×5 convolutions of 32 and 64 channels,
    2×2 max pooling, 128 hidden units. Weights and biases: U(+-1/sqrt(fan_in))."""

    def __init__(self, input_shape: Sequence[int] = (1, 28, 28), channels: Sequence[int] = (32, 64),
                 kernel: int = 5, pool: int = 2, hidden: Sequence[int] = (128,), classes: int = 10,
                 activation: str = "relu", pooling: str = "max", seed: int = 0):
        options = {"input": [int(d) for d in input_shape], "channels": [int(c) for c in channels],
                   "kernel": int(kernel), "pool": int(pool),
                   "hidden": [int(h) for h in hidden] if len(hidden) else "none",
                   "classes": int(classes), "activation": activation, "pooling": pooling}
        super().__init__("convnet", options, seed)
        self.options = options

    def __repr__(self) -> str:
        return f"l2l.Convnet({self.options}, seed={self.seed}) with {self.num_params} parameters"


class ResNet(Learner):
    """A CIFAR-style residual network (He et al. 2016): a 3×3 stem, `len(stages)` stages of
    `blocks` basic blocks (the first block of each later stage halves the resolution, with
    the parameter-free zero-padding shortcut), batch norm, global average pooling and a
    dense classifier. version="v2" uses pre-activation blocks (the Hessian-free paper's
    mini ResNet). Batch norm uses batch statistics in `loss_and_grad` and training, and
    running statistics in `forward` and `evaluate`."""

    def __init__(self, input_shape: Sequence[int] = (3, 32, 32), stages: Sequence[int] = (16, 32, 64),
                 blocks: int = 3, version: str = "v1", classes: int = 10, activation: str = "relu",
                 seed: int = 0):
        options = {"input": [int(d) for d in input_shape], "stages": [int(c) for c in stages],
                   "blocks": int(blocks), "version": version, "classes": int(classes),
                   "activation": activation}
        super().__init__("resnet", options, seed)
        self.options = options

    def __repr__(self) -> str:
        return f"l2l.ResNet({self.options}, seed={self.seed}) with {self.num_params} parameters"


def ResNet20(classes: int = 10, version: str = "v1", seed: int = 0) -> ResNet:
    """ResNet20 for 32×32×3 inputs: 3 stages × 3 blocks of 16/32/64 channels, 269,722
    parameters (He et al.: 0.27 M)."""
    return ResNet(classes=classes, version=version, seed=seed)
