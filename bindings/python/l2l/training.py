"""Mini-batches and the training loop.

    losses = l2l.train(net, l2l.SGD(lr=0.1), train_set, epochs=1, batch_size=128,
                       progress=True)
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, Callable, Iterator, Optional, Tuple, Union

import numpy as np

from . import _l2l
from ._common import format_options
from .datasets import Dataset
from .learners import Learner
from .optim import Optimizer

__all__ = ["Batches", "train"]

ProgressCallback = Callable[[int, int, float], Any]


class Batches:
    """Seeded mini-batches over a data set: each epoch visits every example once, in a
    new order drawn from `seed` (in order if `shuffle` is False). Iterating yields one
    epoch of (inputs, labels) pairs; `next()` returns None at the end of an epoch and
    then starts the next one. The iterator keeps its own copy of the data."""

    def __init__(self, dataset: Dataset, batch_size: int = 128, seed: int = 0,
                 shuffle: bool = True, drop_last: bool = False):
        self._handle = _l2l.Batches(dataset._handle, int(batch_size), int(seed),
                                    format_options({"shuffle": shuffle, "drop_last": drop_last}))
        self.batch_size = int(batch_size)
        self.examples = len(dataset)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)

    @property
    def batches_per_epoch(self) -> int:
        n, b = self.examples, self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def next(self) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """The next batch (float32 [count, features], int32 [count]), or None at the end of
        an epoch."""
        return self._handle.next()

    def __iter__(self) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        while True:
            batch = self._handle.next()
            if batch is None:
                return
            yield batch

    def __len__(self) -> int:
        return self.batches_per_epoch


class _TextBar:
    """A minimal progress bar on stderr, used when tqdm is not installed:
    `label [####....] step/total <loss_label> <loss> <rate> <unit>s/s`. On a terminal it
    redraws one line (every `interval` s); otherwise (a log file, a pipe) it prints a full
    line every `log_interval` s and at the end, so logs are not filled with frames."""

    def __init__(self, total: int, width: int = 30, interval: float = 0.1, stream=None, log_interval: float = 5.0,
                 label: str = "", unit: str = "step", loss_label: Optional[str] = "loss"):
        self.total, self.width = total, width
        self.label, self.unit, self.loss_label = label, unit, loss_label
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.terminal = bool(isatty and isatty())
        self.interval = interval if self.terminal else log_interval
        self.start = self.last = time.monotonic()
        self.step, self.loss = 0, math.nan
        self.drawn = -1

    def update(self, step: int, loss: float) -> None:
        self.step, self.loss = step, loss
        now = time.monotonic()
        if now - self.last >= self.interval or step == self.total:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        self.drawn = self.step
        done = self.step / self.total if self.total else 1.0
        filled = int(round(done * self.width))
        rate = self.step / max(now - self.start, 1e-9)
        label = f"{self.label} " if self.label else ""
        loss = f" {self.loss_label} {self.loss:.4f}" if self.loss_label is not None else ""
        self.stream.write(f"{chr(13) if self.terminal else ''}{label}[{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{self.step}/{self.total}{loss} {rate:.1f} {self.unit}s/s{'' if self.terminal else chr(10)}")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn != self.step:
            self._draw(time.monotonic())
        if self.terminal:
            self.stream.write("\n")
        self.stream.flush()


class _TqdmBar:
    def __init__(self, tqdm, total: int):
        self.bar = tqdm(total=total, unit="step", desc="train")
        self.step = 0

    def update(self, step: int, loss: float) -> None:
        self.bar.update(step - self.step)
        self.step = step
        if step % 10 == 0 or step == self.bar.total:
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def close(self) -> None:
        self.bar.close()


def _progress_bar(total: int):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _TextBar(total)
    return _TqdmBar(tqdm, total)


def train(learner: Learner, optimizer: Optimizer, dataset: Union[Dataset, Batches],
          steps: Optional[int] = None, epochs: Optional[float] = None, batch_size: int = 128,
          seed: int = 0, progress: bool = False, callback: Optional[ProgressCallback] = None,
          shuffle: bool = True, drop_last: bool = False) -> np.ndarray:
    """Trains `learner` with `optimizer` on mini-batches of `dataset` and returns the loss
    of every step (float32 array).

    Give `steps` or `epochs` (default: one epoch); an epoch is ceil(len / batch_size)
    steps (floor with `drop_last`). Batches are shuffled from `seed`. `dataset` may also be
    a `Batches` iterator, which then carries on from where it stopped (batch_size, seed,
    shuffle and drop_last are then its own).

    `progress=True` shows a progress bar (tqdm if installed, else a text bar on stderr).
    `callback(step, total, loss)` runs after every step; a truthy result cancels the run
    with l2l.CancelledError, whose `.losses` holds the losses of the steps taken. Ctrl-C
    (or any exception raised by the callback) also stops the run after the current step
    and is re-raised. In every case the steps taken are kept in the learner. A loss that
    becomes NaN or infinite raises NonFiniteError (parameters from before that step).
    """
    if isinstance(dataset, Batches):
        batches = dataset
    else:
        batches = Batches(dataset, batch_size, seed, shuffle, drop_last)
    if steps is not None and epochs is not None:
        raise _l2l.InvalidArgumentError("train: give steps or epochs, not both")
    if steps is None:
        steps = int(round((1 if epochs is None else epochs) * batches.batches_per_epoch))
    steps = int(steps)
    if steps < 0:
        raise _l2l.InvalidArgumentError(f"train: steps must be non-negative, got {steps}")

    return _run_counted(steps, progress, callback, (_l2l.CancelledError, _l2l.NonFiniteError),
                        lambda losses, on_step: _l2l.train(learner._handle, optimizer._handle, batches._handle,
                                                          steps, losses, on_step))


def _run_counted(count: int, progress: bool, callback: Optional[Callable[[int, int, float], Any]],
                 errors: Tuple[type, ...], run: Callable[[np.ndarray, Callable[[int, int, float], Any]], None]) -> np.ndarray:
    """Runs `run(losses, on_step)`, a library call that fills `losses` (float32, `count`) and
    calls `on_step(i, total, loss)` after each of its `count` steps, with a progress bar if
    asked and the user's `callback` (a truthy result cancels). On one of `errors` the losses
    of the steps done are attached to the exception as `.losses`. Returns the losses."""
    losses = np.zeros(count, dtype=np.float32)
    bar = _progress_bar(count) if progress else None
    done = 0

    def on_step(step: int, total: int, loss: float) -> Any:
        nonlocal done
        done = step
        if bar is not None:
            bar.update(step, loss)
        return callback(step, total, loss) if callback is not None else False

    try:
        run(losses, on_step)
    except errors as e:
        e.losses = losses[:done].copy()
        raise
    finally:
        if bar is not None:
            bar.close()
    return losses
