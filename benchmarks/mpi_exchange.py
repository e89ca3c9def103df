"""Times the exchange of one meta-iteration between MPI ranks: every member's row (its
meta-gradient and summary, float32) brought to where it is combined, as l2l.mpi does.

    mpirun -np 2 python3 benchmarks/mpi_exchange.py --meta-batch 8

Rank 0 prints the median and mean microseconds per exchange over --repeats (a barrier
before each) for:
  allgather          blocking MPI_Allgather of every rank's rows (padded to ceil(B/N))
  allgather, polled  MPI_Iallgather waited on by l2l.mpi (sleeping between tests)
  gather + bcast     rows to rank 0, the combined gradient and summaries broadcast back
  allreduce (sum)    MPI_Allreduce of one phi-sized float32 gradient: the usual
                     data-parallel reduction, for comparison only — its summation order
                     depends on the number of ranks, so it is not bit-identical to one process
--phi-count defaults to the LSTM optimiser's (MTL2L preset) phi size.
"""
import argparse
import time

import numpy as np
from mpi4py import MPI

import l2l
import l2l.mpi
from l2l.meta import SUMMARY_SIZE


def timed(comm, repeats, operation):
    times = []
    for _ in range(repeats):
        comm.Barrier()
        start = time.perf_counter()
        operation()
        times.append(time.perf_counter() - start)
    return np.array(times) * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meta-batch", type=int, default=8)
    parser.add_argument("--phi-count", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    p = args.phi_count or l2l.learned.LSTMOptimizer(preset="mtl2l").meta_parameters().size
    b = args.meta_batch
    per_rank = -(-b // size)
    send = np.random.default_rng(rank).standard_normal((per_rank, p + SUMMARY_SIZE)).astype(np.float32)
    rows = np.empty((size, per_rank, p + SUMMARY_SIZE), np.float32)
    result = np.empty(p + b * SUMMARY_SIZE, np.float32)
    gradient, total = send[0, :p].copy(), np.empty(p, np.float32)

    def gather_bcast():
        comm.Gather(send, rows if rank == 0 else None, root=0)
        if rank == 0:
            result[:p] = rows.reshape(-1, p + SUMMARY_SIZE)[:b, :p].sum(axis=0)
        comm.Bcast(result, root=0)

    cases = [
        ("allgather", lambda: comm.Allgather(send, rows)),
        ("allgather, polled", lambda: l2l.mpi._wait(comm.Iallgather(send, rows))),
        ("gather + bcast", gather_bcast),
        ("allreduce (sum)", lambda: comm.Allreduce(gradient, total, op=MPI.SUM)),
    ]
    for name, operation in cases:
        timed(comm, 20, operation)  # warm-up: connections, buffers
        us = timed(comm, args.repeats, operation)
        if rank == 0:
            print(f"{name:18s} {size} ranks, meta-batch {b}, phi {p} floats ({per_rank * (p + SUMMARY_SIZE) * 4} "
                  f"bytes per rank): median {np.median(us):8.1f} us, mean {us.mean():8.1f} us")


if __name__ == "__main__":
    main()
