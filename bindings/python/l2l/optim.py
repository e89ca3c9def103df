"""Optimisers: `step(learner)` applies the gradient of the learner's last `loss_and_grad`.

    opt = l2l.SGD(lr=0.1)
    loss, _ = net.loss_and_grad(x, y)
    opt.step(net)
"""

from __future__ import annotations

from typing import Any

from . import _l2l
from ._common import format_options
from .learners import Learner

__all__ = ["Optimizer", "SGD"]


class Optimizer:
    """An optimiser held by the library; `kind` and keyword options are those of
    l2l_optimizer_create (unknown options raise InvalidArgumentError)."""

    def __init__(self, kind: str, **options: Any):
        self._handle = _l2l.Optimizer(kind, format_options(options))
        self.kind = kind
        self.options = dict(options)

    def step(self, learner: Learner) -> None:
        """Updates the learner's parameters with the gradient its last `loss_and_grad`
        stored, then forgets that gradient (StateError if there is none)."""
        self._handle.step(learner._handle)

    def reset(self) -> None:
        """Forgets the optimiser's state, so it can start afresh (on another learner too)."""
        self._handle.reset()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"l2l.Optimizer({self.kind!r}, {args})"


class SGD(Optimizer):
    """Plain stochastic gradient descent: theta <- theta - lr * grad."""

    def __init__(self, lr: float = 0.1):
        super().__init__("sgd", lr=float(lr))
        self.lr = float(lr)

    def __repr__(self) -> str:
        return f"l2l.SGD(lr={self.lr!r})"
