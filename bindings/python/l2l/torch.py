"""l2l optimisers, learned ones included, as `torch.optim.Optimizer`s (optional: needs
PyTorch, imported only when this module is).

    import l2l, l2l.torch
    opt = l2l.torch.Optimizer(model.parameters(), l2l.learned.load("lstm.safetensors"))
    for x, y in loader:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()                      # opt.step(batch=x) for optimisers that read it (MTL2L)

For float32 CPU tensors. Each parameter group gets its own l2l state (`Optimizer.init` over
the group's tensors, updated in place through `update(..., out=...)`): a coordinate-wise
learned optimiser (LSTM, MTL2L) sees the group as one set of coordinates, a per-parameter one
(Meta-SGD, DMSGD) needs the group's shapes to be those it was built for. Parameters without
a gradient in a step are updated with a zero gradient, so the group's state keeps its shape.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Union

import numpy as np
import torch

from . import _l2l
from .learned import LearnedOptimizer
from .optim import Optimizer as L2LOptimizer
from .optim import OptimizerState

__all__ = ["Optimizer"]


class Optimizer(torch.optim.Optimizer):
    """A `torch.optim.Optimizer` that updates `params` with `optimizer`: any
    `l2l.optim.Optimizer` except the Hessian-free ones, or a `l2l.learned.LearnedOptimizer`
    (used with its current phi, as in meta-testing).

    `state_dict()` holds the parameter groups, the step count, a description of the l2l
    optimiser and each group's l2l state (moments, a learned optimiser's recurrent states) as
    a float32 tensor: `load_state_dict` continues exactly where the saved optimiser was.
    """

    def __init__(self, params: Iterable[Any], optimizer: Union[L2LOptimizer, LearnedOptimizer]):
        if isinstance(optimizer, LearnedOptimizer):
            optimizer = optimizer.as_optimizer()
        if not isinstance(optimizer, L2LOptimizer):
            raise _l2l.InvalidArgumentError(
                f"l2l.torch.Optimizer needs an l2l.optim.Optimizer or l2l.learned.LearnedOptimizer, got {type(optimizer).__name__}")
        self.l2l = optimizer
        self._groups: Dict[int, OptimizerState] = {}
        self._pending: Dict[int, Any] = {}
        self.steps = 0
        super().__init__(params, defaults={})
        for group in self.param_groups:
            for p in group["params"]:
                if p.dtype != torch.float32 or p.device.type != "cpu":
                    raise _l2l.InvalidArgumentError(
                        f"l2l.torch.Optimizer: parameters must be float32 CPU tensors, got {p.dtype} on {p.device}")

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], Any]] = None, batch: Any = None) -> Any:
        """One update of every parameter group from the parameters' `.grad`; `batch` is the
        input batch that produced the gradients (a tensor or array `[B, features]`), for
        optimisers that read it. Returns the closure's loss if one is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        inputs = None
        if batch is not None:
            inputs = batch.detach().cpu().reshape(batch.shape[0], -1).numpy() if isinstance(batch, torch.Tensor) else batch
        for index, group in enumerate(self.param_groups):
            tensors = group["params"]
            arrays: List[np.ndarray] = [p.detach().numpy() for p in tensors]   # views: updated in place
            grads = [np.zeros(p.shape, np.float32) if p.grad is None else p.grad.detach().cpu().numpy()
                     for p in tensors]
            state = self._groups.get(index)
            if state is None:
                state = self._groups[index] = self.l2l.init(arrays)
                if index in self._pending:
                    values, step = self._pending.pop(index)
                    state.load(values, step)
            self.l2l.update(arrays, grads, state, batch=inputs, out=arrays)
        self.steps += 1
        return loss

    def state_dict(self) -> Dict[str, Any]:
        state = super().state_dict()
        groups = {}
        for index, group_state in self._groups.items():
            saved = group_state.values()
            if saved is not None:
                groups[index] = {"values": torch.from_numpy(saved[0]), "step": int(saved[1])}
        state["l2l"] = {"kind": self.l2l.kind, "options": dict(self.l2l.options), "steps": self.steps, "groups": groups}
        return state

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restores the parameter groups, the step count and the l2l state of each group (taken
        up at the next step). InvalidArgumentError if the dict was saved from another kind of
        l2l optimiser."""
        saved = dict(state_dict)
        info = saved.pop("l2l", None)
        if info is not None and info.get("kind") != self.l2l.kind:
            raise _l2l.InvalidArgumentError(f"this state dict is of an l2l {info.get('kind')} optimiser, not {self.l2l.kind}")
        super().load_state_dict(saved)
        self.steps = int(info.get("steps", 0)) if info else 0
        self._groups = {}
        self._pending = {int(index): (np.asarray(g["values"], dtype=np.float32), int(g["step"]))
                         for index, g in (info or {}).get("groups", {}).items()}
