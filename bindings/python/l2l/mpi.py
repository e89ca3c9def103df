"""Meta-training across MPI processes (mpi4py), bit for bit as one process.

Synchronous and data-parallel over a meta-batch's members: every process builds the same
MetaTrainer (same learned optimiser, tasks and options); in every unroll process r runs
members r, r+N, ... (N processes), the processes exchange the members' meta-gradients and
summaries, and every process sums the B gradients in member order (MetaTrainer.combine)
and takes the same meta-step. φ starts from rank 0's; checkpoints are written by rank 0
only, between trials. The l2l library itself never communicates: this module moves its
buffers with MPI.

    from mpi4py import MPI                       # mpirun -np 4 python3 my_script.py
    trainer = l2l.meta.MetaTrainer(opt, tasks, trials=20, meta_batch=64, seed=0)
    l2l.mpi.train(trainer, checkpoint="run.safetensors")
    if MPI.COMM_WORLD.rank == 0:
        trainer.learned().save("lstm.safetensors")

    # After a failure: every rank resumes from rank 0's last checkpoint.
    path = l2l.mpi.shared_checkpoint("run.safetensors")
    trainer = l2l.meta.MetaTrainer.resume(path, opt, tasks, trials=20, meta_batch=64, seed=0)
    l2l.mpi.train(trainer, checkpoint="run.safetensors")

A rank that raises (a callback task's error, Ctrl-C, a bug) prints which rank failed, where,
and the checkpoint to resume from, then aborts the job (MPI_Abort); a rank that dies
(killed, out of memory) is reported by mpirun, which ends the others. Either way the last
checkpoint is intact (written to a temporary file and renamed) and resumes bit-identically.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Union

import numpy as np

from .meta import SUMMARY_SIZE, MetaTrainer

__all__ = ["train", "members_of", "shared_checkpoint", "Timings", "LockstepError", "JobStopped", "COLLECTIVES"]

#: How the members' rows reach every process: "allgather" (every rank gets all B rows and
#: combines them) or "gather" (rank 0 gets them, combines, and broadcasts the combined
#: gradient with the summaries). Both give the same bits.
COLLECTIVES = ("allgather", "gather")

PathLike = Union[str, "os.PathLike[str]"]

# The column of a member's summary that says it was lost (L2L_META_SUMMARY_SIZE's layout).
_LOST = 3


class LockstepError(RuntimeError):
    """The processes' trainers are not in the same state (different options, tasks,
    counters or φ)."""


@dataclass
class Timings:
    """Wall-clock seconds one process spent in `train`: running its members' unrolls (and
    the CPU seconds they took, which another program sharing the cores does not inflate),
    exchanging rows (including waiting for slower ranks), and combining and applying."""
    unrolls: int = 0
    estimating: float = 0.0
    estimating_cpu: float = 0.0
    exchanging: float = 0.0
    applying: float = 0.0


def _world(comm: Any) -> Any:
    if comm is not None:
        return comm
    from mpi4py import MPI
    return MPI.COMM_WORLD


def members_of(rank: int, size: int, meta_batch: int) -> List[int]:
    """The members process `rank` of `size` runs: rank, rank + size, ... below meta_batch."""
    return list(range(rank, meta_batch, size))


def shared_checkpoint(path: PathLike, comm: Any = None) -> str:
    """Rank 0's checkpoint file made readable by every rank: rank 0 broadcasts its bytes and
    the other ranks write them to a temporary file, removed when the process exits (so ranks
    on other hosts need no shared file system). Returns the path this rank passes to MetaTrainer.resume."""
    comm = _world(comm)
    data = None
    if comm.Get_rank() == 0:
        with open(path, "rb") as f:
            data = f.read()
    data = comm.bcast(data, root=0)
    if comm.Get_rank() == 0:
        return os.fspath(path)
    fd, local = tempfile.mkstemp(prefix=f"l2l-rank{comm.Get_rank()}-", suffix=".safetensors")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    atexit.register(_remove_quietly, local)
    return local


def _remove_quietly(path: str) -> None:
    """Removes a temporary file this process made, if it is still there."""
    try:
        os.remove(path)
    except OSError:
        pass


def _check_lockstep(trainer: MetaTrainer, comm: Any) -> None:
    state = (trainer.trials_done, trainer.unrolls, trainer.meta_steps, tuple(trainer._handle.sizes()),
             trainer.kind, trainer.options_text, sorted(trainer.config.items(), key=lambda kv: kv[0]))
    states = comm.allgather(state)
    if any(s != states[0] for s in states):
        raise LockstepError("l2l.mpi: the ranks' trainers differ (trials done, unrolls, meta-steps, sizes, kind, "
                            "options, meta-training options): " + "; ".join(f"rank {r}: {s}" for r, s in enumerate(states)))


class JobStopped(RuntimeError):
    """mpirun is ending the job (SIGTERM), typically because another rank died."""


def _stop(signum: int, frame: Any) -> None:
    raise JobStopped("mpirun is ending the job (SIGTERM): another rank has probably died (see mpirun's message)")


def _wait(request: Any) -> None:
    """Waits for a non-blocking collective: testing it continuously for up to
    _SPIN_SECONDS (an exchange among ranks that finished together takes microseconds),
    then sleeping between tests, so a rank waiting for slower ones leaves its core to them
    and Python can run the SIGTERM handler that reports a job being ended (a blocking MPI
    call would hold both until it returns)."""
    deadline = time.perf_counter() + _SPIN_SECONDS
    while not request.Test():
        if time.perf_counter() > deadline:
            time.sleep(_POLL_SECONDS)


# Spinning, then sleeping between tests of a pending collective: both short against an
# unroll (milliseconds to seconds).
_SPIN_SECONDS = 1e-3
_POLL_SECONDS = 2e-4


class _Exchange:
    """Moves every member's row (gradient and summary) to where it is combined."""

    def __init__(self, comm: Any, collective: str, meta_batch: int, phi_count: int):
        if collective not in COLLECTIVES:
            raise ValueError(f"l2l.mpi: collective must be one of {COLLECTIVES}, got {collective!r}")
        self.comm, self.collective = comm, collective
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.b, self.p = meta_batch, phi_count
        self.per_rank = -(-meta_batch // self.size)  # rows per rank, padded
        self.send = np.zeros((self.per_rank, phi_count + SUMMARY_SIZE), np.float32)
        self.rows = np.empty((self.size, self.per_rank, phi_count + SUMMARY_SIZE), np.float32)
        self.result = np.empty(phi_count + meta_batch * SUMMARY_SIZE, np.float32)

    def _in_member_order(self) -> np.ndarray:
        # rows[r, j] is member r + size * j: transposed, member m is at flat index m.
        return self.rows.transpose(1, 0, 2).reshape(-1, self.p + SUMMARY_SIZE)[: self.b]

    def __call__(self, trainer: MetaTrainer, gradients: np.ndarray, summaries: np.ndarray):
        """(summaries [B, SUMMARY_SIZE], combined gradient or None if a member was lost)."""
        k = gradients.shape[0]
        self.send[:k, : self.p] = gradients
        self.send[:k, self.p:] = summaries
        if self.collective == "allgather":
            _wait(self.comm.Iallgather(self.send, self.rows))
            rows = self._in_member_order()
            return rows[:, self.p:], self._combined(trainer, rows)
        _wait(self.comm.Igather(self.send, self.rows if self.rank == 0 else None, root=0))
        if self.rank == 0:
            rows = self._in_member_order()
            combined = self._combined(trainer, rows)
            self.result[: self.p] = np.nan if combined is None else combined
            self.result[self.p:] = rows[:, self.p:].ravel()
        _wait(self.comm.Ibcast(self.result, root=0))
        all_summaries = self.result[self.p:].reshape(self.b, SUMMARY_SIZE)
        lost = bool(np.any(all_summaries[:, _LOST] != 0))
        return all_summaries, None if lost else self.result[: self.p]

    def _combined(self, trainer: MetaTrainer, rows: np.ndarray) -> Optional[np.ndarray]:
        if np.any(rows[:, self.p + _LOST] != 0):
            return None  # a member was lost: no meta-step this unroll
        return trainer.combine(rows[:, : self.p])


def train(trainer: MetaTrainer, comm: Any = None, checkpoint: Optional[PathLike] = None, checkpoint_every: int = 1,
          collective: str = "allgather", progress: Optional[Callable[[int, int, float], Any]] = None) -> Timings:
    """Runs `trainer`'s remaining trials on every process of `comm` (default
    MPI.COMM_WORLD), which must all call it with trainers made alike (LockstepError
    otherwise). φ is first set to rank 0's. With `checkpoint`, rank 0 saves a checkpoint
    there at the start and after every `checkpoint_every` trials and at the end.
    `progress(trial, unroll, meta_loss)` runs on every rank after every unroll (`unroll`:
    its 0-based index in the trainer's history). Returns this
    rank's Timings. On any exception a multi-process job is aborted after a message naming
    the rank, the unroll and the checkpoint to resume from."""
    comm = _world(comm)
    rank, size = comm.Get_rank(), comm.Get_size()
    timings = Timings()
    last_saved = None
    previous_handler = signal.signal(signal.SIGTERM, _stop) if size > 1 else None
    try:
        _check_lockstep(trainer, comm)
        meta_batch, phi_count = trainer.meta_batch, trainer.phi.size
        phi = trainer.phi
        comm.Bcast(phi, root=0)
        trainer.phi = phi
        exchange = _Exchange(comm, collective, meta_batch, phi_count)
        mine = members_of(rank, size, meta_batch)

        def save() -> None:
            nonlocal last_saved
            if checkpoint is not None and rank == 0:
                # SIGTERM waits until the file and its trial count agree.
                held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
                try:
                    trainer.save_checkpoint(checkpoint)
                    last_saved = trainer.trials_done
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, held)

        save()
        while not trainer.finished:
            start, cpu = time.perf_counter(), time.process_time()
            gradients, summaries = trainer.estimate(mine)
            exchanged = time.perf_counter()
            timings.estimating_cpu += time.process_time() - cpu
            all_summaries, combined = exchange(trainer, gradients, summaries)
            applied = time.perf_counter()
            trials_before = trainer.trials_done
            trainer.apply(all_summaries, combined)
            end = time.perf_counter()
            timings.unrolls += 1
            timings.estimating += exchanged - start
            timings.exchanging += applied - exchanged
            timings.applying += end - applied
            if trainer.trials_done != trials_before and (trainer.finished or trainer.trials_done % checkpoint_every == 0):
                save()
            if progress is not None:
                history = trainer.history
                progress(trials_before, history.size - 1, float(history[-1]))
        digests = comm.allgather(hashlib.sha256(trainer.phi.tobytes()).hexdigest())
        if any(d != digests[0] for d in digests):
            raise LockstepError(f"l2l.mpi: the ranks ended with different phi: {digests}")
    except BaseException as e:
        if size > 1:
            where = f"trial {trainer.trials_done}, unroll {trainer.unrolls}"
            saved = ("no checkpoint was asked for" if checkpoint is None else
                     f"resume from {os.fspath(checkpoint)} (rank 0's last checkpoint)" if rank != 0 else
                     "nothing saved yet" if last_saved is None else
                     f"resume from {os.fspath(checkpoint)} (written after {last_saved} trial{'' if last_saved == 1 else 's'})")
            verb = "stopped" if isinstance(e, JobStopped) else "failed"
            sys.stderr.write(f"l2l.mpi: rank {rank} of {size} {verb} at {where}: {type(e).__name__}: {e}\n"
                             f"l2l.mpi: aborting the job; {saved}\n")
            sys.stderr.flush()
            comm.Abort(1)
        raise
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
    return timings
