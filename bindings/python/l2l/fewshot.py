"""Few-shot meta-learning: MAML, first-order MAML and Meta-SGD (learned initialisations,
and per-parameter inner learning rates), for the sine regression tasks of their papers.

    net = l2l.MLP([1, 40, 40, 1], objective="mse")
    maml = l2l.fewshot.MAML(net, inner_lr=0.01, inner_steps=1)        # first_order=True: FOMAML
    maml.fit(l2l.fewshot.SineTasks(), meta_iterations=5000, meta_batch=25, shots=10)
    adapted = maml.adapt(x, y)                       # a Learner fitted to one task's K points
    scores = maml.evaluate(l2l.fewshot.SineTasks(), shots=[5, 10, 20])   # 100 fresh tasks
    print(scores.means, scores.intervals)            # post-adaptation MSE, mean +- 95 %
    maml.save("maml.safetensors"); again = l2l.fewshot.load("maml.safetensors", net)

`l2l.fewshot.MetaSGD(net, inner_lr=0.01)` also meta-learns the inner learning rate of
every parameter (`learning_rates()`). The options are those of l2l_fewshot_create in
include/l2l.h; one meta-iteration draws `meta_batch` tasks, adapts to each with
`inner_steps` gradient steps on `shots` support points and takes one Adam step on the
mean query loss after adaptation (second order through the inner steps unless first
order).
"""

from __future__ import annotations

import os
from typing import Any, Callable, List, NamedTuple, Optional, Sequence, Union

import numpy as np

from . import _l2l
from ._common import as_inputs, as_targets, format_options
from .learners import Learner
from .training import _run_counted

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["SineTasks", "FewShotLearner", "MAML", "MetaSGD", "Evaluation", "load"]


class SineTasks:
    """The sine regression tasks of MAML and Meta-SGD: y = A sin(x - phase), A uniform in
    [0.1, 5], phase in [0, pi], x in [-5, 5], for a regressor with one input and one output
    (objective="mse"). After adaptation a task is scored by the mean squared error on
    `evaluation_points` evenly spaced points of [-5, 5] (100 in the papers)."""

    kind = "sine"

    def __init__(self, evaluation_points: int = 100):
        self.evaluation_points = int(evaluation_points)

    def _options(self) -> str:
        return format_options({"evaluation_points": self.evaluation_points})

    def __repr__(self) -> str:
        return f"<l2l.fewshot.SineTasks evaluation_points={self.evaluation_points}>"


class Evaluation(NamedTuple):
    """Post-adaptation losses per number of shots: `losses[j]` holds one loss per task for
    `shots[j]`, `means[j]` their mean and `intervals[j]` the half-width of its normal 95 %
    confidence interval."""

    shots: List[int]
    means: np.ndarray
    intervals: np.ndarray
    losses: np.ndarray


class FewShotLearner:
    """A few-shot meta-learner over the architecture of `net`, starting from `net`'s current
    parameters (which are copied; `net` is not changed); `seed` seeds the task draws. Use
    `MAML` or `MetaSGD` to make one, `load` to read one."""

    def __init__(self, net: Learner, method: str, inner_lr: float, inner_steps: int, meta_lr: float,
                 seed: int, clip: Optional[str], clip_at: Optional[float]):
        options = format_options({"method": method, "inner_lr": inner_lr, "inner_steps": inner_steps,
                                  "meta_lr": meta_lr, "seed": seed, "clip": clip, "clip_at": clip_at})
        self._net = net
        self._handle = _l2l.FewShot(net._handle, options)
        self.method = method

    @classmethod
    def _wrap(cls, net: Learner, handle: Any) -> "FewShotLearner":
        self = cls.__new__(cls)
        self._net, self._handle, self.method = net, handle, "loaded"
        return self

    # -- meta-training --------------------------------------------------------------

    def fit(self, tasks: SineTasks, meta_iterations: int, meta_batch: int = 25, shots: int = 10,
            query: Optional[int] = None, progress: bool = False,
            callback: Optional[Callable[[int, int, float], Any]] = None) -> np.ndarray:
        """Runs `meta_iterations` meta-iterations of `meta_batch` tasks with `shots`
        support and `query` (default `shots`) query points each; returns the meta-loss of
        every iteration (float32). Task draws continue the meta-learner's seeded sequence.

        `progress=True` shows a progress bar; `callback(iteration, total, meta_loss)` runs
        after each, and a truthy result raises l2l.CancelledError (with `.losses`); Ctrl-C
        also stops after the current iteration. The iterations done are kept."""
        iterations = int(meta_iterations)
        if iterations < 0:
            raise _l2l.InvalidArgumentError(f"fit: meta_iterations must be non-negative, got {iterations}")
        options = format_options({"meta_batch": meta_batch, "shots": shots, "query": 0 if query is None else query})
        return _run_counted(iterations, progress, callback, (_l2l.CancelledError,),
                            lambda losses, on_step: self._handle.fit(tasks.kind, tasks._options(), options,
                                                                     iterations, losses, on_step))

    # -- adaptation and evaluation --------------------------------------------------

    def adapt(self, inputs: Any, targets: Any, steps: Optional[int] = None) -> Learner:
        """A new Learner of `net`'s architecture with the parameters adapted to one task:
        `steps` (default inner_steps) gradient steps from the meta-learned initialisation
        on `inputs` [K, features] and real `targets` [K, outputs] (or [K])."""
        learner = Learner(self._net.kind, self._net.options)
        self._handle.adapt(as_inputs(inputs), as_targets(targets), -1 if steps is None else int(steps),
                           learner._handle)
        return learner

    def initialization(self) -> Learner:
        """A new Learner holding the meta-learned initialisation theta."""
        learner = Learner(self._net.kind, self._net.options)
        learner.set_flat_parameters(self.meta_parameters()[:learner.num_params])
        return learner

    def evaluate(self, tasks: SineTasks, shots: Sequence[int] = (5, 10, 20), num_tasks: int = 100,
                 steps: Optional[int] = None, seed: int = 1) -> Evaluation:
        """Post-adaptation losses on `num_tasks` fresh tasks drawn from `seed`: for each
        task and each K of `shots`, a K-shot support set, `steps` (default inner_steps)
        adaptation steps, and the loss on the family's evaluation points."""
        k = np.ascontiguousarray(list(shots), dtype=np.int64)
        losses, means, intervals = self._handle.evaluate(tasks.kind, tasks._options(), int(num_tasks), k,
                                                         -1 if steps is None else int(steps), int(seed))
        return Evaluation([int(v) for v in k], means, intervals, losses)

    # -- meta-parameters and files --------------------------------------------------

    def meta_parameters(self) -> np.ndarray:
        """A flat float32 copy of theta (laid out like the learner's parameters), followed
        for Meta-SGD by the learning rates alpha in the same layout."""
        return self._handle.get_meta()

    def learning_rates(self) -> Optional[List[np.ndarray]]:
        """Meta-SGD's per-parameter inner learning rates, one array per parameter tensor;
        None for MAML and FOMAML."""
        flat = self.meta_parameters()
        n = self._net.num_params
        if flat.size == n:
            return None
        return [flat[n + p.offset:n + p.offset + p.count].reshape(p.shape) for p in self._net.param_info()]

    @property
    def iterations(self) -> int:
        """Meta-iterations done."""
        return int(self._handle.info()[1])

    def save(self, path: PathLike) -> None:
        """Saves theta (and alpha) with the options as .safetensors."""
        self._handle.save(os.fspath(path))

    def __repr__(self) -> str:
        n, iterations, _ = self._handle.info()
        return f"<l2l.fewshot.{type(self).__name__} {n} meta-parameters, {iterations} meta-iterations>"


class MAML(FewShotLearner):
    """MAML (Finn et al., 2017): meta-learns the initialisation, differentiating through all
    `inner_steps` inner steps; `first_order=True` gives first-order MAML."""

    def __init__(self, net: Learner, inner_lr: float = 0.01, inner_steps: int = 1, first_order: bool = False,
                 meta_lr: float = 1e-3, seed: int = 0, clip: Optional[str] = None, clip_at: Optional[float] = None):
        super().__init__(net, "fomaml" if first_order else "maml", inner_lr, inner_steps, meta_lr, seed, clip, clip_at)


class MetaSGD(FewShotLearner):
    """Meta-SGD (Li et al., 2017): meta-learns the initialisation and a per-parameter inner
    learning rate (starting at `inner_lr` everywhere), second order."""

    def __init__(self, net: Learner, inner_lr: float = 0.01, inner_steps: int = 1, meta_lr: float = 1e-3,
                 seed: int = 0, clip: Optional[str] = None, clip_at: Optional[float] = None):
        super().__init__(net, "meta_sgd", inner_lr, inner_steps, meta_lr, seed, clip, clip_at)


def load(path: PathLike, net: Learner) -> FewShotLearner:
    """A meta-learner saved by `FewShotLearner.save`, on `net`'s architecture (which must
    have the saved shapes, else FormatError). Meta-training resumes with a fresh Adam."""
    return FewShotLearner._wrap(net, _l2l.FewShot.load(os.fspath(path), net._handle))
