"""Meta-training and meta-testing of learned optimisers.

    net = l2l.MLP([784, 32, 10], seed=0)
    opt = l2l.learned.MetaSGD(net)
    trainer = l2l.meta.MetaTrainer(opt, [(net, train_set)], trials=10, steps=100, unroll=5)
    trainer.run(progress=True)                     # Ctrl-C stops it; the work is kept
    trained = trainer.learned()                    # a LearnedOptimizer with the trained phi
    result = l2l.meta.meta_test(trained, net, train_set, test_set, learners=10, steps=1000)
    print(result.final_accuracy())                 # (mean, std) over the learners
    result.to_json("meta_sgd.json")
    l2l.meta.plot_loss_curves({"Meta-SGD": result}, "loss.png")

Meta-training options (keyword-only arguments of MetaTrainer, those of
l2l_meta_trainer_create in include/l2l.h): trials=1 (trials run one after another; a trial
trains meta_batch fresh learners side by side, member m of trial q on task
(q * meta_batch + m) mod len(tasks)), steps=100 (steps per learner, a multiple of unroll),
unroll=5 (steps per meta-update), meta_lr=1e-3 (the meta-optimiser's learning rate),
batch=128, weights (one weight per unroll step; None: uniform), same_batch=False,
clip="none" ("value" or "norm") with clip_at=1.0, second_order=False (bptt only),
sample_tasks=False, rollback_after=3, warmup=0 (each learner first takes 0..warmup steps
with the current phi, no meta-gradient), random_scaling=0.0 (k > 0: each learner trains on
f(c * theta) from theta0 / c, c_i = exp(U(-k, k)) per coordinate: Lv et al. 2017's random
scaling), theta_noise=0.0 (c > 0: after every update of a meta-training unroll theta gets
Gaussian noise of std c * max|theta| * (S - t) / S, the max over all the learner's
parameters, at the learner's step t < S (S = steps; t counts warmup steps, which get no
noise): the MTL2L code's noise on theta; the same draws for every particle of an estimator;
not applied by meta-testing), meta_batch=1 (learners per meta-update, their
meta-gradients averaged), seed=0, and:

- estimator="bptt" (truncated backprop through the unroll), "es" (antithetic evolution
  strategies over phi, after "Evolution Strategies as a Scalable Alternative to
  Reinforcement Learning", arXiv:1703.03864: es_pairs pairs of perturbations of standard
  deviation es_std, no backward pass through the unroll) or "pes" (persistent evolution
  strategies, after "Unbiased Gradient Estimation in Unrolled Computation Graphs with
  Persistent Evolution Strategies", arXiv:2112.13835: as "es", with each particle's
  perturbations accumulated over a trial's unrolls, unbiased for the whole horizon);
  es_std=0.01, es_pairs=8.
- memory_budget=None (bytes; bptt only): past it an unroll's meta-gradient is computed in
  segments recomputed in the backward pass, keeping the peak memory near the budget; the
  same meta-gradient up to float rounding.
- meta_optimizer="adam" (or "sgd", "momentum", "nesterov", "rmsprop", "adagrad", "smorms3")
  with meta_optimizer_options, its options other than lr: a dict such as {"beta1": 0.5} or
  the text "beta1:0.5,eps:1e-6"; None: its defaults.

    trainer = l2l.meta.MetaTrainer(opt, [(net, train_set)], trials=20, steps=100, unroll=5,
                                   estimator="pes", es_pairs=8, meta_batch=4)
    before = trainer.evaluate(instances=4, seed=7)  # the meta-loss of phi on fresh learners
    trainer.run()
    print(trainer.evaluate(instances=4, seed=7), "<", before)
"""

from __future__ import annotations

import inspect
import math
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _l2l
from ._common import as_path, format_options, option_value
from .datasets import Dataset
from .learned import LearnedOptimizer
from .learners import Learner
from .optim import Optimizer
from .training import _TextBar

__all__ = ["MetaTrainer", "CallbackTask", "MetaTestResult", "meta_test", "plot_loss_curves", "EVENT_KINDS",
           "SUMMARY_SIZE"]

#: Event kinds of meta-training (L2L_EVENT_* of include/l2l.h).
EVENT_KINDS = tuple(sorted(_l2l.EVENT_KINDS, key=_l2l.EVENT_KINDS.get))
_EVENT_NAMES = {code: name for name, code in _l2l.EVENT_KINDS.items()}
#: Floats per member summary of MetaTrainer.estimate: meta-loss, the learner's last loss,
#: its last gradient norm, lost (1.0: a loss was not finite, no gradient; else 0.0).
SUMMARY_SIZE = int(_l2l.META_SUMMARY_SIZE)

Task = Tuple[Learner, Dataset]
PathLike = Union[str, "os.PathLike[str]"]


class _Bar:
    """A progress bar like l2l.train's (tqdm if installed, else a text bar on stderr), with
    its own label and an optional loss column."""

    def __init__(self, total: int, desc: str, unit: str, loss_label: Optional[str]):
        self.total, self.desc, self.unit, self.loss_label = total, desc, unit, loss_label
        self.position = 0
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self.tqdm = None
            self.text = _TextBar(total, label=desc, unit=unit, loss_label=loss_label)
        else:
            self.tqdm = tqdm(total=total, unit=unit, desc=desc)

    def update(self, position: int, loss: float = math.nan) -> None:
        if self.tqdm is not None:
            self.tqdm.update(position - self.position)
            if self.loss_label is not None:
                self.tqdm.set_postfix({self.loss_label: f"{loss:.4f}"}, refresh=False)
        else:
            self.text.update(position, loss)
        self.position = position

    def close(self) -> None:
        if self.tqdm is not None:
            self.tqdm.close()
        else:
            self.text.close()


def _path(path: PathLike) -> str:
    return os.fsdecode(as_path(path))


class CallbackTask:
    """A task of your own model, in any framework: meta-train l2l's optimisers on it.

    `shapes`: the parameter arrays' shapes. `loss_and_grad(params, step)` gets the parameters
    as a list of float32 arrays and the learner step (0-based from the instance's start: pick
    your batch from it; every particle of ES/PES asks for the same step with the same
    batch) and returns `(loss, grads)`, grads a list of arrays shaped like params.
    `init(seed)` returns a fresh instance's parameters (default: normal(0, 0.01) draws from
    numpy's generator seeded with `seed`, which comes from the run's seed).

    Meta-training holds your gradients constant (first order, as the papers;
    `second_order=True` is refused) and works with every estimator. An exception raised in a
    callback stops `MetaTrainer.run` (or `evaluate`) and is re-raised there, phi keeping the
    updates made before; the trainer stays usable. Optimisers with per-parameter
    meta-parameters (MetaSGD, DMSGD) need a Learner to be built for, so use shape-free ones
    (LSTMOptimizer) with callback tasks.

        task = l2l.meta.CallbackTask([(784, 32), (32,), (32, 10), (10,)], my_loss_and_grad)
        trainer = l2l.meta.MetaTrainer(l2l.learned.LSTMOptimizer(preset="mtl2l"), [task], trials=20)
    """

    def __init__(self, shapes: Sequence[Sequence[int]], loss_and_grad: Callable[[List[np.ndarray], int], Any],
                 init: Optional[Callable[[int], Sequence[np.ndarray]]] = None):
        self.shapes = [tuple(int(d) for d in shape) for shape in shapes]
        if init is None:
            def init(seed: int) -> List[np.ndarray]:
                rng = np.random.default_rng(seed)
                return [rng.normal(0.0, 0.01, size=shape).astype(np.float32) for shape in self.shapes]
        self._handle = _l2l.CallbackTask([list(shape) for shape in self.shapes], init, loss_and_grad)

    def __repr__(self) -> str:
        return f"<l2l.meta.CallbackTask shapes={self.shapes}>"


def _tasks(tasks: Sequence[Task]) -> Tuple[List[Any], List[Any], List[Learner]]:
    if isinstance(tasks, tuple) and len(tasks) == 2 and isinstance(tasks[0], Learner):
        tasks = [tasks]  # one (learner, dataset) pair
    learners, datasets, owners = [], [], []
    for i, task in enumerate(tasks):
        try:
            learner, dataset = task
        except (TypeError, ValueError):
            raise _l2l.InvalidArgumentError(f"MetaTrainer: task {i} must be a (learner, dataset) pair") from None
        if not isinstance(learner, Learner) or not isinstance(dataset, Dataset):
            raise _l2l.InvalidArgumentError(
                f"MetaTrainer: task {i} must be a (Learner, Dataset) pair, got ({type(learner).__name__}, "
                f"{type(dataset).__name__})")
        learners.append(learner._handle)
        datasets.append(dataset._handle)
        owners.append(learner)
    return learners, datasets, owners


class MetaTrainer:
    """Meta-trains `learned` (a LearnedOptimizer, starting from its current phi) on `tasks`,
    a list of (learner, dataset) pairs: each trial trains `meta_batch` fresh learners
    (freshly initialised from the seed: the learners' own parameters are not used),
    updating phi by the meta-optimiser after every unroll. The keyword-only arguments are
    the meta-training options, with the library's defaults (see the module docstring);
    values out of range raise InvalidArgumentError. `config` holds every option of the run
    (a dict, defaults included). The learners and data sets are copied, and `learned` is not
    changed: `learned()` gives the trained optimiser.
    """

    def __init__(self, learned: LearnedOptimizer, tasks: Sequence[Task], *, trials: int = 1, steps: int = 100,
                 unroll: int = 5, meta_lr: float = 1e-3, batch: int = 128, weights: Optional[Sequence[float]] = None,
                 same_batch: bool = False, clip: str = "none", clip_at: float = 1.0, second_order: bool = False,
                 sample_tasks: bool = False, rollback_after: int = 3, warmup: int = 0, random_scaling: float = 0.0,
                 theta_noise: float = 0.0, estimator: str = "bptt",
                 es_std: float = 0.01, es_pairs: int = 8, meta_batch: int = 1, memory_budget: Optional[int] = None,
                 meta_optimizer: str = "adam",
                 meta_optimizer_options: Optional[Union[str, Mapping[str, Any]]] = None, seed: int = 0):
        config = {name: value for name, value in locals().items() if name in _OPTION_NAMES}
        if isinstance(tasks, CallbackTask):
            tasks = [tasks]
        if len(tasks) > 0 and all(isinstance(t, CallbackTask) for t in tasks):
            self._handle = _l2l.MetaTrainer.from_tasks(learned._handle, [t._handle for t in tasks], _options_text(config))
            self._init(learned, [], config)
            return
        learners, datasets, owners = _tasks(tasks)
        self._handle = _l2l.MetaTrainer(learned._handle, learners, datasets, _options_text(config))
        self._init(learned, owners, config)

    def _init(self, learned: LearnedOptimizer, owners: List[Learner], config: Dict[str, Any]) -> None:
        self.kind = learned.kind
        self.options_text = learned.options_text
        self.config = config
        self._learner = owners[0] if owners else None

    @classmethod
    def resume(cls, path: PathLike, learned: LearnedOptimizer, tasks: Sequence[Task], **config: Any) -> "MetaTrainer":
        """A trainer resumed from a checkpoint written by `save_checkpoint`. The keywords are
        those of MetaTrainer (TypeError for others); `learned` (its kind and options; its phi
        is not used), `tasks` and the options must be those of the run that wrote it
        (InvalidArgumentError otherwise). Running it gives bit-identical results to a run
        that never stopped. FileError if the file is missing, FormatError if it is
        truncated, altered or not a checkpoint."""
        bound = _SIGNATURE.bind(None, learned, tasks, **config)
        bound.apply_defaults()
        options = {name: bound.arguments[name] for name in _OPTION_NAMES}
        learners, datasets, owners = _tasks(tasks)
        made = cls.__new__(cls)
        made._handle = _l2l.MetaTrainer.resume(_path(path), learned._handle, learners, datasets,
                                               _options_text(options))
        made._init(learned, owners, options)
        return made

    # -- running ------------------------------------------------------------------------

    def run(self, trials: Optional[int] = None, progress: bool = False,
            callback: Optional[Callable[[int, int, float], Any]] = None) -> np.ndarray:
        """Runs the next `trials` trials (all remaining ones if None) and returns the
        meta-loss of each unroll it ran (float32).

        `progress=True` shows a progress bar (tqdm if installed, else a text bar on stderr).
        `callback(trial, step, meta_loss)` runs after every unroll; a truthy result cancels
        with l2l.CancelledError. Ctrl-C (or any exception raised by the callback) also stops
        the run after the current unroll and is re-raised. In every case phi's updates so
        far are kept (a trial stopped midway is not counted in `trials_done`).
        """
        if trials is not None and int(trials) < 0:
            raise _l2l.InvalidArgumentError(f"MetaTrainer.run: trials must be non-negative, got {trials}")
        start_trials, _, start_unrolls = self._handle.info()
        bar = None
        if progress:
            total_trials = int(self.config["trials"])
            per_trial = int(self.config["steps"]) // int(self.config["unroll"])
            remaining = max(0, total_trials - start_trials)
            count = remaining if trials is None else min(int(trials), remaining)
            bar = _Bar(count * per_trial, "meta-train", "unroll", "meta-loss")

        done = 0

        def on_unroll(trial: int, step: int, meta_loss: float) -> Any:
            nonlocal done
            done += 1
            if bar is not None:
                bar.update(done, meta_loss)
            return callback(trial, step, meta_loss) if callback is not None else False

        try:
            self._handle.run(-1 if trials is None else int(trials), on_unroll)
        except (_l2l.Error, KeyboardInterrupt) as e:
            e.history = self.history[start_unrolls:]  # the meta-losses of the unrolls run
            raise
        finally:
            if bar is not None:
                bar.close()
        return self.history[start_unrolls:]

    # -- results ------------------------------------------------------------------------

    @property
    def history(self) -> np.ndarray:
        """The meta-loss of every unroll so far (float32; trials * steps / unroll values
        after a complete run)."""
        return self._handle.history()

    @property
    def events(self) -> List[Dict[str, Any]]:
        """What happened that a caller should know: dicts with "kind" (one of EVENT_KINDS:
        non_finite_loss, non_finite_gradient, rollback, collapse), "trial" and "step"."""
        return [{"kind": _EVENT_NAMES.get(k, str(k)), "trial": int(t), "step": int(s)}
                for k, t, s in self._handle.events()]

    @property
    def trials_done(self) -> int:
        """Trials completed."""
        return int(self._handle.info()[0])

    @property
    def meta_steps(self) -> int:
        """Meta-updates applied (unrolls whose update was not skipped)."""
        return int(self._handle.info()[1])

    @property
    def unrolls(self) -> int:
        """Unrolls run (the length of `history`)."""
        return int(self._handle.info()[2])

    def evaluate(self, instances: int = 4, seed: int = 1) -> float:
        """The meta-loss of the current phi without training it: the mean, over `instances`
        fresh learners (task i mod len(tasks) for the i-th, initialised and batched from
        `seed`) each trained for the run's `steps` steps with phi, of their unrolls'
        meta-losses (weighted as in `history`). The
        same seed gives the same learners and batches, so calls before and after `run`
        compare two phi on the same data (use a seed other than the run's to score learners
        it did not train). Changes nothing in the trainer. InvalidArgumentError unless
        1 <= instances <= 1000000; NonFiniteError if a learner's loss stops being finite."""
        return float(self._handle.evaluate(int(instances), int(seed)))

    def save_checkpoint(self, path: PathLike) -> None:
        """Saves everything needed to resume exactly (see `resume`) to a .safetensors file."""
        self._handle.save_checkpoint(_path(path))

    def learned(self) -> LearnedOptimizer:
        """A new LearnedOptimizer (same kind and options) holding the current, trained phi."""
        learner = self._learner._handle if self._learner is not None else None
        handle = _l2l.Learned(self.kind, self.options_text, learner, 0)
        self._handle.get_learned(handle)
        return LearnedOptimizer._from_handle(handle)

    # -- one meta-iteration in two halves (l2l.mpi; include/l2l.h, "Meta-training across
    #    processes") ------------------------------------------------------------------------

    @property
    def meta_batch(self) -> int:
        """Learners (members) per meta-batch."""
        return int(self._handle.sizes()[0])

    @property
    def finished(self) -> bool:
        """Whether every configured trial is done."""
        return self.trials_done >= int(self._handle.sizes()[2])

    @property
    def phi(self) -> np.ndarray:
        """The current phi as one float32 array (a copy, laid out as
        LearnedOptimizer.meta_parameters()). Setting it (same length, finite) keeps the meta-optimiser's state: how processes
        start from one process's phi. ShapeError, NonFiniteError, or StateError during a
        meta-iteration."""
        return self._handle.get_phi()

    @phi.setter
    def phi(self, values: np.ndarray) -> None:
        self._handle.set_phi(np.ascontiguousarray(values, dtype=np.float32))

    def estimate(self, members: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
        """The first half of a meta-iteration: the current unroll of meta-batch members
        `members` (distinct indices below meta_batch; [] only opens the iteration, which
        every process must do) with the current phi. Returns (gradients [k, phi_count],
        summaries [k, SUMMARY_SIZE]) as float32, row i for members[i]; a lost member's
        gradient row is NaN. See `apply`."""
        return self._handle.estimate([int(m) for m in members])

    def combine(self, gradients: np.ndarray) -> np.ndarray:
        """The meta-batch's meta-gradient from all members' gradient rows ([meta_batch,
        phi_count], member 0 first): their sum in member order over meta_batch, exactly as
        `run` takes it."""
        return self._handle.combine(np.ascontiguousarray(gradients, dtype=np.float32))

    def apply(self, summaries: np.ndarray, gradient: Optional[np.ndarray]) -> None:
        """The second half: all members' summaries ([meta_batch, SUMMARY_SIZE], member 0
        first) and the combined gradient of `combine` (None allowed if a member was lost)
        record the unroll and take the meta-step, as `run` does. Every process calls it with
        the same values and so stays in lockstep with the others."""
        g = None if gradient is None else np.ascontiguousarray(gradient, dtype=np.float32)
        self._handle.apply(np.ascontiguousarray(summaries, dtype=np.float32), g)

    def __repr__(self) -> str:
        trials, steps, unrolls = self._handle.info()
        return f"<l2l.meta.MetaTrainer {self.kind}: {trials} trials done, {steps} meta-steps, {unrolls} unrolls>"


# The meta-training options: the keyword-only parameters of MetaTrainer.
_SIGNATURE = inspect.signature(MetaTrainer.__init__)
_OPTION_NAMES = tuple(name for name, p in _SIGNATURE.parameters.items() if p.kind is p.KEYWORD_ONLY)


def _options_text(config: Mapping[str, Any]) -> str:
    """The options text of l2l_meta_trainer_create for `config` (None values left out, so
    the library's defaults apply), with meta_optimizer_options as "key:value,key:value"."""
    options = dict(config)
    extra = options.get("meta_optimizer_options")
    if isinstance(extra, Mapping):
        options["meta_optimizer_options"] = [f"{key}:{option_value(key, value)}"
                                             for key, value in extra.items()]
    elif isinstance(extra, str):
        options["meta_optimizer_options"] = extra.split(",")
    return format_options(options)


class MetaTestResult:
    """Results of `meta_test`: K learners trained for T steps each, scored on the test set
    after the E steps of `evaluation_steps`.

    Attributes (numpy): training_loss [K, T] (each step's batch loss, before its update),
    evaluation_steps [E] (ascending; 0 means before training), test_loss and test_accuracy
    [K, E] (accuracy in [0, 1]), zero_weights (per parameter tensor, weights exactly zero at
    the end, mean over learners), tensor_sizes, tensor_names; sparsity (the fraction of all
    weights zero at the end) and seconds_per_step (mean wall time of a step).

    rates: for a trained DMSGD or M2SGD, the distribution of its rates beta_t at each
    evaluation step (NaN at step 0, before any), else None. A dict of quantiles [K, E, 5]
    (beta_t's minimum, 10th, 50th and 90th percentiles and maximum), masked_fraction [K, E]
    (the share with beta_t <= the optimiser's xi, which M2SGD's mask removes; xi = 0 for
    DMSGD) and saturated_fraction [K, E] (the share whose |tanh(h U_beta)| exceeds 0.999:
    saturated rates no longer move).
    """

    def __init__(self, handle: "_l2l.MetaTest", tensor_names: Sequence[str]):
        self._handle = handle
        k, t, e, tensors, sparsity, seconds = handle.info()
        self.training_loss, self.test_loss, self.test_accuracy, self.evaluation_steps = handle.curves()
        self.zero_weights, self.tensor_sizes = handle.zero_weights()
        names = list(tensor_names)
        self.tensor_names: List[str] = names if len(names) == int(tensors) else [f"tensor{i}" for i in range(tensors)]
        self.sparsity = float(sparsity)
        self.seconds_per_step = float(seconds)
        self.learners, self.steps = int(k), int(t)
        rates = handle.rates()
        self.rates: Optional[Dict[str, np.ndarray]] = None if rates is None else dict(
            zip(("quantiles", "masked_fraction", "saturated_fraction"), rates))

    def final_accuracy(self) -> Tuple[float, float]:
        """Mean and standard deviation (population) over learners of the test accuracy at
        the last evaluation step (NaN if there was none)."""
        if self.test_accuracy.shape[1] == 0:
            return math.nan, math.nan
        last = self.test_accuracy[:, -1].astype(np.float64)
        return float(last.mean()), float(last.std())

    def mean_training_loss(self) -> np.ndarray:
        """The training-loss curve averaged over learners ([T])."""
        return self.training_loss.astype(np.float64).mean(axis=0)

    def to_dict(self) -> Dict[str, Any]:
        """Every field as plain Python values (lists, floats), ready for json.dump."""
        mean, std = self.final_accuracy()
        return {
            "training_loss": self.training_loss.tolist(),
            "evaluation_steps": [int(s) for s in self.evaluation_steps],
            "test_loss": self.test_loss.tolist(),
            "test_accuracy": self.test_accuracy.tolist(),
            "zero_weights": self.zero_weights.tolist(),
            "tensor_sizes": [int(s) for s in self.tensor_sizes],
            "tensor_names": list(self.tensor_names),
            "sparsity": self.sparsity,
            "seconds_per_step": self.seconds_per_step,
            "final_accuracy": {"mean": mean, "std": std},
            "rates": None if self.rates is None else {key: np.where(np.isnan(value), None, value).tolist()
                                                      for key, value in self.rates.items()},
        }

    def to_json(self, path: PathLike) -> None:
        """Saves the results as JSON (the library's format, shared with the C and Swift APIs)."""
        self._handle.save(_path(path), "json")

    def to_csv(self, path: PathLike) -> None:
        """Saves the curves as CSV: learner,step,train_loss,test_loss,test_accuracy (test
        columns empty between evaluations)."""
        self._handle.save(_path(path), "csv")

    def __repr__(self) -> str:
        mean, std = self.final_accuracy()
        return (f"<l2l.meta.MetaTestResult {self.learners} learners x {self.steps} steps: final accuracy "
                f"{mean:.4f} ± {std:.4f}, sparsity {self.sparsity:.4f}>")


def meta_test(optimizer: Union[Optimizer, LearnedOptimizer], learner: Learner, train: Dataset, test: Dataset,
              learners: int = 10, steps: int = 1000, batch_size: int = 128,
              eval_steps: Optional[Sequence[int]] = None, seed: int = 0, progress: bool = False,
              callback: Optional[Callable[[int, int], Any]] = None) -> MetaTestResult:
    """Trains `learners` fresh learners of `learner`'s architecture (freshly initialised from
    `seed`; `learner` itself is not changed) for `steps` steps on mini-batches of `train`,
    each with a fresh copy of `optimizer` (any l2l.optim optimiser, a learned one's
    `as_optimizer()`, or a LearnedOptimizer, used in its meta-testing phase), and scores them
    on `test` at `eval_steps` (distinct steps in 0..steps; default: the last step).

    `progress=True` shows a progress bar; `callback(step, total)` runs after every learner
    step (step counts over all learners); a truthy result cancels with l2l.CancelledError,
    and Ctrl-C stops the run and is re-raised (no result either way).
    """
    if isinstance(optimizer, LearnedOptimizer):
        optimizer = optimizer.as_optimizer()
    if not isinstance(optimizer, Optimizer):
        raise _l2l.InvalidArgumentError(f"meta_test: optimizer must be an l2l optimizer, got {type(optimizer).__name__}")
    options = format_options({"learners": int(learners), "steps": int(steps), "batch": int(batch_size),
                              "eval": None if eval_steps is None else [int(s) for s in eval_steps],
                              "seed": int(seed)})
    total = max(0, int(learners)) * max(0, int(steps))
    bar = _Bar(total, "meta-test", "step", None) if progress and total > 0 else None

    def on_step(step: int, total: int, _loss: float) -> Any:
        if bar is not None:
            bar.update(step)
        return callback(step, total) if callback is not None else False

    try:
        handle = _l2l.meta_test_run(learner._handle, optimizer._handle, train._handle, test._handle, options,
                                    on_step)
    finally:
        if bar is not None:
            bar.close()
    return MetaTestResult(handle, [p.name for p in learner.param_info()])


def plot_loss_curves(results: Mapping[str, MetaTestResult], path: PathLike, log_scale: bool = True,
                     title: Optional[str] = None) -> str:
    """Plots each result's mean training-loss curve over its learners (with a band from the
    lowest to the highest learner) against the step, one line per name, and saves the figure
    to `path` (the format follows the extension: .png, .pdf, .svg). `log_scale` puts the loss
    on a log axis. Needs matplotlib (drawn with its Agg backend, without pyplot, so it works
    without a display and leaves the caller's backend alone). Returns the path written."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("l2l.meta.plot_loss_curves needs matplotlib: pip install matplotlib") from e
    if not results:
        raise _l2l.InvalidArgumentError("plot_loss_curves: no results to plot")
    figure = Figure(figsize=(7, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    for name, result in results.items():
        curves = result.training_loss.astype(np.float64)
        steps = np.arange(1, curves.shape[1] + 1)
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(curves, axis=0) if curves.size else curves
            low, high = np.nanmin(curves, axis=0), np.nanmax(curves, axis=0)
        (line,) = axes.plot(steps, mean, label=str(name), linewidth=1.2)
        if curves.shape[0] > 1:
            axes.fill_between(steps, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
    if log_scale:
        axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel("training loss (mean over learners)")
    if title:
        axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    target = _path(path)
    figure.savefig(target)
    return target
