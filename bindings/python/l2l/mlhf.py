"""MLHF, meta-learning with Hessian-free (Chen et al.): Hessian-free steps whose damping
and preconditioner come from two small learned recurrent networks.

    net = l2l.MLP([784, 32, 10], seed=0)
    mlhf = l2l.mlhf.MLHF(cg_iters=4, seed=0)              # untrained meta-parameters phi
    trainer = l2l.mlhf.MLHFTrainer(mlhf, net, train_set, iterations=200, unroll=10, batch=128)
    before = trainer.evaluate(seed=7)                     # l_p, l_s, ... of the current phi
    trainer.run(progress=True)                            # Ctrl-C stops it; the work is kept
    print(trainer.evaluate(seed=7)["l_p"], "<", before["l_p"])
    trainer.history["l_p"]                                # one row per meta-iteration
    trained = trainer.mlhf()                              # an MLHF holding the trained phi
    trained.save("mlhf.safetensors")
    opt = trained.as_optimizer(net)                       # or trainer.trained_optimizer()
    l2l.train(l2l.MLP([784, 32, 10], seed=1), opt, train_set, steps=200)
    l2l.meta.meta_test(opt, net, train_set, test_set, learners=5, steps=200)

Each step solves (G + diag(s)) d = g by `cg_iters` iterations of preconditioned conjugate
gradient, G the Gauss-Newton matrix of the batch, then theta <- theta - lr*d. The damping s
and the diagonal preconditioner are coordinate-wise LSTM networks with one weight set per
parameter kind (fully connected, convolution, batch norm), so phi (3324 values with the
defaults) does not depend on the learner's size: an MLHF meta-trained on one learner steps
others.

MLHF options (keyword arguments of MLHF, those of l2l_mlhf_create): cg_iters=4, lr=1,
damping="rnn" (or a number: a constant damping), preconditioner="rnn" (or "none"),
damping_floor=2e-5, step_clip=0.25, clip_when_used=False, noise=0.02, hidden=(4, 4).

Meta-training options (keyword arguments of MLHFTrainer, those of l2l_mlhf_trainer_create):
iterations=100, unroll=10, meta_lr=1e-3, meta_optimizer="adam" (or another gradient
optimiser kind: "sgd", "momentum", "nesterov", "rmsprop", "adagrad", "smorms3"; its lr is
meta_lr), batch=64, reset=0.7 (the chance that the learner restarts from its initial weights
after a meta-iteration), ls_weight=10, clip="phi" (or "none"), rollback_after=3 (consecutive
skipped updates after which phi goes back to its last good value), seed=0.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Union

import numpy as np

from . import _l2l
from ._common import as_path, format_options
from .datasets import Dataset
from .learned import _parse_options
from .learners import Learner
from .meta import _EVENT_NAMES, _Bar
from .optim import Optimizer

__all__ = ["MLHF", "MLHFOptimizer", "MLHFTrainer", "load", "HISTORY_DTYPE"]

PathLike = Union[str, "os.PathLike[str]"]

#: The fields of a meta-iteration's record, as `MLHFTrainer.history` holds them: l_p (the
#: preconditioner's loss, -<d,g>/sqrt(<d,(G+diag s)d>) averaged over the unroll; lower is
#: better), l_s (the damping's loss), residual (mean ||r|| after conjugate gradient), loss
#: (mean learner training loss over the unroll) and damping (geometric mean of s).
HISTORY_DTYPE = np.dtype([("l_p", np.float32), ("l_s", np.float32), ("residual", np.float32),
                          ("loss", np.float32), ("damping", np.float32)])
_FIELDS = HISTORY_DTYPE.names


def _record(values: Any) -> Dict[str, float]:
    return {name: float(v) for name, v in zip(_FIELDS, values)}


class MLHF:
    """An MLHF with meta-parameters phi drawn from `seed` (untrained). Keyword options are
    those of l2l_mlhf_create (see the module docstring); unknown ones or values out of range
    raise InvalidArgumentError.

    `options` (every option, defaults included, parsed) and `options_text` describe it;
    `meta_parameters()` / `set_meta_parameters(a)` read and replace phi (flat);
    `save(path)` writes a .safetensors file that `load` (and the C and Swift APIs) read
    back; `as_optimizer(learner)` gives an ordinary optimiser for `l2l.train`,
    `Optimizer.step` and `l2l.meta.meta_test`.
    """

    def __init__(self, seed: int = 0, **options: Any):
        self._set_handle(_l2l.MLHF(format_options(options), int(seed)))

    def _set_handle(self, handle: "_l2l.MLHF") -> None:
        self._handle = handle
        self.options_text: str = handle.describe()
        self.options: Dict[str, Any] = _parse_options(self.options_text)
        self.num_meta_params, self.num_tensors = (int(v) for v in handle.info())

    @classmethod
    def _from_handle(cls, handle: "_l2l.MLHF") -> "MLHF":
        made = cls.__new__(cls)
        made._set_handle(handle)
        return made

    @classmethod
    def load(cls, path: PathLike) -> "MLHF":
        """Loads an MLHF saved by `save` (or the C or Swift API). FileError if the file is
        missing; FormatError if it is truncated, altered, not a learned-optimiser file or a
        learned optimiser of another kind (those load with `l2l.learned.load`)."""
        return cls._from_handle(_l2l.MLHF.load(os.fsdecode(as_path(path))))

    def meta_parameters(self) -> np.ndarray:
        """A float32 copy of phi, flat ([num_meta_params])."""
        return self._handle.get_meta()

    def set_meta_parameters(self, values: Any) -> None:
        """Replaces phi with `num_meta_params` values laid out as `meta_parameters` gives
        them (any shape; flattened). ShapeError for another count, NonFiniteError for NaN
        or infinity; either way phi is unchanged. Optimisers and trainers already made keep
        the phi they copied."""
        self._handle.set_meta(np.ascontiguousarray(values, dtype=np.float32).reshape(-1))

    def save(self, path: PathLike) -> None:
        """Saves the options and phi to a .safetensors file (kind "mlhf" in the learned
        optimiser format; written to path.tmp, then renamed). FileError if it cannot be
        written."""
        self._handle.save(os.fsdecode(as_path(path)))

    def as_optimizer(self, learner: Learner) -> "MLHFOptimizer":
        """An ordinary optimiser stepping with a copy of the current phi, set up for
        `learner`'s parameter kinds: it steps learners of the same architecture (widths may
        differ) and refuses others with ShapeError."""
        return MLHFOptimizer(self, learner)

    def __repr__(self) -> str:
        return f"<l2l.mlhf.MLHF ({self.options_text}): {self.num_meta_params} meta-parameters>"


def load(path: PathLike) -> MLHF:
    """`MLHF.load(path)`."""
    return MLHF.load(path)


class MLHFOptimizer(Optimizer):
    """MLHF with fixed phi as an `l2l.optim.Optimizer` (made by `MLHF.as_optimizer` or
    `MLHFTrainer.trained_optimizer`): use it with `step(learner)` (after
    `learner.loss_and_grad`, whose batch it models), `reset()`, `l2l.train` and
    `l2l.meta.meta_test`, like `l2l.HFFixed`. No noise is added, and the step clip acts only
    with the MLHF option clip_when_used."""

    def __init__(self, mlhf: MLHF, learner: Learner):
        # Not Optimizer.__init__: the handle comes from l2l_optimizer_create_mlhf.
        self._handle = _l2l.optimizer_create_mlhf(mlhf._handle, learner._handle)
        self.kind = "mlhf"
        self.options = dict(mlhf.options)

    def __repr__(self) -> str:
        return f"<l2l.mlhf.MLHFOptimizer ({format_options(self.options)})>"


class MLHFTrainer:
    """Meta-trains `mlhf` (starting from its current phi) on `learner`'s architecture and
    mini-batches of `data` (the paper's section 3.1): each meta-iteration runs `unroll` MLHF
    steps of one learner (freshly initialised from the seed: `learner`'s own parameters are
    not used), then the meta-optimiser (Adam by default) updates the preconditioner's
    network on l_p and the damping's on l_s. `config` holds the meta-training options (see the module docstring); unknown ones
    raise InvalidArgumentError. The learner and data set are copied, and `mlhf` is not
    changed: `mlhf()` gives the trained MLHF.
    """

    def __init__(self, mlhf: MLHF, learner: Learner, data: Dataset, **config: Any):
        if not isinstance(mlhf, MLHF) or not isinstance(learner, Learner) or not isinstance(data, Dataset):
            raise _l2l.InvalidArgumentError(
                f"MLHFTrainer: needs an MLHF, a Learner and a Dataset, got {type(mlhf).__name__}, "
                f"{type(learner).__name__}, {type(data).__name__}")
        self._handle = _l2l.MLHFTrainer(mlhf._handle, learner._handle, data._handle, format_options(config))
        self._learner = learner
        self.options_text = mlhf.options_text
        self.config = dict(config)

    # -- running ------------------------------------------------------------------------

    def run(self, iterations: Optional[int] = None, progress: bool = False,
            callback: Optional[Callable[[int, Dict[str, float]], Any]] = None) -> np.ndarray:
        """Runs `iterations` more meta-iterations (None: those remaining of the configured
        `iterations`) and returns their records (a structured array, see `history`).

        `progress=True` shows a progress bar (tqdm if installed, else a text bar on stderr)
        with l_p. `callback(iteration, record)` runs after every meta-iteration with a dict
        of the record's fields; a truthy result cancels with l2l.CancelledError. Ctrl-C (or
        any exception raised by the callback) also stops the run after the current
        iteration and is re-raised. In every case phi's updates so far are kept, and the
        exception's `.history` holds the records of the iterations run.
        """
        if iterations is not None and int(iterations) < 0:
            raise _l2l.InvalidArgumentError(f"MLHFTrainer.run: iterations must be non-negative, got {iterations}")
        start, configured, _ = self._handle.info()
        count = max(0, configured - start) if iterations is None else int(iterations)
        bar = _Bar(count, "mlhf meta-train", "iteration", "l_p") if progress else None
        done = 0

        def on_iteration(iteration: int, *values: float) -> Any:
            nonlocal done
            done += 1
            if bar is not None:
                bar.update(done, values[0])
            return callback(iteration, _record(values)) if callback is not None else False

        try:
            self._handle.run(count, on_iteration)
        except (_l2l.Error, KeyboardInterrupt) as e:
            e.history = self.history[start:]
            raise
        finally:
            if bar is not None:
                bar.close()
        return self.history[start:]

    # -- results ------------------------------------------------------------------------

    @property
    def history(self) -> np.ndarray:
        """One record per meta-iteration so far: a structured array of HISTORY_DTYPE with
        fields l_p, l_s, residual, loss and damping (`history["l_p"]` is a float32 curve;
        NaN where an iteration failed, see `events`)."""
        columns = self._handle.history()
        out = np.empty(len(columns[0]), dtype=HISTORY_DTYPE)
        for name, column in zip(_FIELDS, columns):
            out[name] = column
        return out

    @property
    def events(self) -> List[Dict[str, Any]]:
        """Meta-iterations whose update was skipped: dicts with "kind" (non_finite_loss or
        non_finite_gradient), "iteration" and "step" (within the unroll)."""
        return [{"kind": _EVENT_NAMES.get(k, str(k)), "iteration": int(i), "step": int(s)}
                for k, i, s in self._handle.events()]

    @property
    def iterations_done(self) -> int:
        """Meta-iterations run (the length of `history`)."""
        return int(self._handle.info()[0])

    def evaluate(self, mlhf: Optional[MLHF] = None, unrolls: int = 4, seed: int = 1) -> Dict[str, float]:
        """Scores a phi without training it — `mlhf`'s (it must have the trainer's options),
        or the trainer's current one — on `unrolls` consecutive unrolls of one learner from
        the trainer's initial weights, on batches and noise drawn from `seed`: a dict of
        l_p, l_s, residual, loss and damping (means over the unrolls). With the same seed,
        two phi are compared on the same data; use a seed other than the trainer's for a
        held-out score. NonFiniteError if the learner's loss stops being finite."""
        handle = mlhf._handle if mlhf is not None else None
        return _record(self._handle.evaluate(handle, int(unrolls), int(seed)))

    def mlhf(self) -> MLHF:
        """A new MLHF (same options) holding the current, trained phi."""
        made = _l2l.MLHF(self.options_text, 0)
        self._handle.get_mlhf(made)
        return MLHF._from_handle(made)

    def trained_optimizer(self) -> MLHFOptimizer:
        """The current phi as an optimiser for this trainer's learner architecture."""
        return self.mlhf().as_optimizer(self._learner)

    def __repr__(self) -> str:
        done, configured, events = self._handle.info()
        return f"<l2l.mlhf.MLHFTrainer: {done}/{configured} iterations, {events} events>"
