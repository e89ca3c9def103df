"""Meta-trains the LSTM optimiser on N MPI processes, bit for bit as one process.

    mpirun -np 2 python3 examples/meta_train_mpi.py                 # Fashion-MNIST, meta-batch 8
    mpirun -np 4 python3 examples/meta_train_mpi.py --data blobs    # a small synthetic task
    python3 examples/meta_train_mpi.py --single                     # MetaTrainer.run, no MPI

Every rank builds the same trainer (the LSTM optimiser, MTL2L preset, on a 784-32-10 MLP
over standardised Fashion-MNIST, or an 8-16-3 MLP over Gaussian blobs); in every unroll
rank r runs meta-batch members r, r+N, ... and l2l.mpi exchanges their meta-gradients
(bindings/python/l2l/mpi.py). Rank 0 prints a line per trial and ends with

    phi sha256 <hex digest of phi's float32 bytes>

which is the same for --single and for any number of ranks. With --checkpoint PATH rank 0
saves a checkpoint there after every trial; if a rank fails the job stops with a message
naming it, and `--checkpoint PATH --resume` carries on from the last one to the same
digest. --crash-rank R --crash-at U makes rank R kill itself (SIGKILL) after U unrolls, to
try that. --timings prints the rate and where the time went (rank 0's view; the slowest
rank's compute).
"""
import argparse
import hashlib
import os
import signal
import sys
import time

import numpy as np

import l2l


def task(args):
    if args.data == "blobs":
        rng = np.random.default_rng(args.seed)
        centres = rng.standard_normal((3, 8)) * 2.0
        y = rng.integers(0, 3, size=512)
        x = (centres[y] + 0.6 * rng.standard_normal((512, 8))).astype(np.float32)
        return l2l.MLP([8, 16, 3], seed=args.seed), l2l.Dataset.from_arrays(x, y.astype(np.int32), 3)
    train = l2l.datasets.fashion_mnist("train", standardize=True)
    return l2l.MLP([784, args.hidden, 10], seed=args.seed), train


def trainer(args, resume_from=None):
    optimizer = l2l.learned.LSTMOptimizer(preset="mtl2l", seed=args.seed)
    options = dict(trials=args.trials, steps=args.steps, unroll=args.unroll, batch=args.batch,
                   meta_batch=args.meta_batch, clip="value", seed=args.seed)
    if resume_from is not None:
        return l2l.meta.MetaTrainer.resume(resume_from, optimizer, [task(args)], **options)
    return l2l.meta.MetaTrainer(optimizer, [task(args)], **options)


def digest(phi):
    return hashlib.sha256(np.ascontiguousarray(phi, dtype=np.float32).tobytes()).hexdigest()


def single(args):
    t = trainer(args, args.checkpoint if args.resume else None)
    start = time.perf_counter()
    cpu = time.process_time()
    t.run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if args.timings:
        print(f"1 process (MetaTrainer.run): {t.unrolls} unrolls of {args.meta_batch} tasks in {seconds:.2f} s: "
              f"{t.unrolls * args.meta_batch / seconds:.2f} tasks/s; CPU per task (all) "
              f"{1e3 * cpu / (t.unrolls * args.meta_batch):.1f} ms")
    print(f"final meta-loss {t.history[-1]:.4f}")
    print(f"phi sha256 {digest(t.phi)}")


def distributed(args):
    from mpi4py import MPI
    import l2l.mpi

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    if args.resume:
        t = trainer(args, l2l.mpi.shared_checkpoint(args.checkpoint, comm))
    else:
        t = trainer(args)
    if rank == 0:
        print(f"{size} rank(s), meta-batch {args.meta_batch}: rank r runs members r, r+{size}, ...; "
              f"starting at trial {t.trials_done} of {args.trials}", flush=True)

    def progress(trial, unroll, meta_loss):
        if rank == args.crash_rank and unroll + 1 == args.crash_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if rank == 0 and t.unrolls % (args.steps // args.unroll) == 0:
            saved = f"; checkpoint {args.checkpoint}" if args.checkpoint else ""
            print(f"trial {trial + 1}/{args.trials} done: meta-loss {meta_loss:.4f}{saved}", flush=True)

    comm.Barrier()
    start = time.perf_counter()
    timings = l2l.mpi.train(t, comm, checkpoint=args.checkpoint, collective=args.collective, progress=progress)
    seconds = time.perf_counter() - start
    slowest = comm.reduce(timings.estimating, op=MPI.MAX, root=0)
    cpu = comm.reduce(timings.estimating_cpu, op=MPI.SUM, root=0)
    if rank == 0 and args.timings and timings.unrolls:
        n = timings.unrolls
        print(f"{size} rank(s) ({args.collective}): {n} unrolls of {args.meta_batch} tasks in {seconds:.2f} s: "
              f"{n * args.meta_batch / seconds:.2f} tasks/s; per unroll: slowest rank's tasks "
              f"{1e3 * slowest / n:.1f} ms, rank 0 exchanging (with waiting) {1e3 * timings.exchanging / n:.2f} ms, "
              f"applying {1e3 * timings.applying / n:.2f} ms; CPU per task {1e3 * cpu / (n * args.meta_batch):.1f} ms")
    if rank == 0:
        print(f"final meta-loss {t.history[-1]:.4f}")
        print(f"phi sha256 {digest(t.phi)}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="fashion-mnist", choices=["fashion-mnist", "blobs"])
    parser.add_argument("--hidden", type=int, default=32, help="the Fashion-MNIST MLP's hidden width (default 32)")
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20, help="steps per learner (a multiple of --unroll)")
    parser.add_argument("--unroll", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--meta-batch", type=int, default=8, help="learners (tasks) per meta-update")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default=None, help="rank 0 saves a checkpoint here after every trial")
    parser.add_argument("--resume", action="store_true", help="carry on from --checkpoint")
    parser.add_argument("--single", action="store_true", help="one process through MetaTrainer.run, without MPI")
    parser.add_argument("--collective", default="allgather", choices=["allgather", "gather"])
    parser.add_argument("--timings", action="store_true", help="print the rate and where the time went")
    parser.add_argument("--crash-rank", type=int, default=-1, help="this rank kills itself (SIGKILL) ...")
    parser.add_argument("--crash-at", type=int, default=-1, help="... after this many unrolls")
    args = parser.parse_args()
    if args.resume and not args.checkpoint:
        parser.error("--resume needs --checkpoint")
    single(args) if args.single else distributed(args)


if __name__ == "__main__":
    sys.exit(main())
