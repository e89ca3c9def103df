"""Meta-training across MPI processes (l2l.mpi, examples/meta_train_mpi.py): 1, 2 and 4
ranks end with phi bit for bit as one process; a killed rank stops the job with a clear
error and a checkpoint that resumes to the same phi; ranks made differently are refused."""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import l2l

mpi4py = pytest.importorskip("mpi4py", reason="needs mpi4py (scripts/setup.sh installs it)")
MPIRUN = shutil.which("mpirun")
needs_mpirun = pytest.mark.skipif(MPIRUN is None, reason="needs Open MPI's mpirun (scripts/setup.sh installs it)")
EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "meta_train_mpi.py")
SMALL = ["--data", "blobs", "--trials", "4", "--steps", "10", "--meta-batch", "4", "--batch", "32"]


def mpirun(ranks, args, check=True):
    command = [MPIRUN, "--allow-run-as-root", "--oversubscribe", "-np", str(ranks), sys.executable, *args]
    # Without the variables MPI set in this process (test_train_on_one_process_is_run
    # initialises it), which would make mpirun's ranks join this singleton's job.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "ORTE_", "OPAL_"))}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def digest(output):
    found = re.findall(r"^phi sha256 ([0-9a-f]{64})$", output, re.MULTILINE)
    assert len(found) == 1, output
    return found[0]


@pytest.fixture(scope="module")
def single():
    """The digest of one process's MetaTrainer.run."""
    done = subprocess.run([sys.executable, EXAMPLE, *SMALL, "--single"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return digest(done.stdout)


def test_members_of():
    from l2l.mpi import members_of
    assert members_of(0, 3, 8) == [0, 3, 6] and members_of(2, 3, 8) == [2, 5] and members_of(3, 4, 3) == []


def test_train_on_one_process_is_run(data, net):
    from mpi4py import MPI
    import l2l.mpi

    def make():
        return l2l.meta.MetaTrainer(l2l.learned.LSTMOptimizer(preset="mtl2l"), [(net, data[0])], trials=2, steps=10,
                                    unroll=5, batch=16, meta_batch=3, seed=4)
    one, split = make(), make()
    one.run()
    timings = l2l.mpi.train(split, MPI.COMM_SELF)
    assert split.phi.tobytes() == one.phi.tobytes() and timings.unrolls == 4
    assert not np.array_equal(one.phi, make().phi)


@needs_mpirun
@pytest.mark.parametrize("ranks, collective", [(1, "allgather"), (2, "allgather"), (2, "gather"), (4, "allgather")])
def test_ranks_match_one_process_bit_for_bit(single, ranks, collective):
    assert digest(mpirun(ranks, [EXAMPLE, *SMALL, "--collective", collective]).stdout) == single


@needs_mpirun
def test_uneven_split_with_an_idle_rank():
    # Meta-batch 3 on 4 ranks: ranks 0-2 run one member each, rank 3 none (it only draws).
    uneven = ["--data", "blobs", "--trials", "2", "--steps", "10", "--meta-batch", "3", "--batch", "32"]
    done = subprocess.run([sys.executable, EXAMPLE, *uneven, "--single"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert digest(mpirun(4, [EXAMPLE, *uneven]).stdout) == digest(done.stdout)


@needs_mpirun
def test_killed_rank_stops_the_job_and_the_checkpoint_resumes(single, tmp_path):
    checkpoint = str(tmp_path / "run.safetensors")
    # Rank 1 dies in trial 3 (two unrolls per trial); rank 0 saved after trial 2.
    crashed = mpirun(2, [EXAMPLE, *SMALL, "--checkpoint", checkpoint, "--crash-rank", "1", "--crash-at", "5"],
                     check=False)
    output = crashed.stdout + crashed.stderr
    assert crashed.returncode != 0
    assert "phi sha256" not in output
    assert re.search(r"rank 1 .*exited on signal 9", output), output
    assert f"rank 0 of 2 stopped at trial 2, unroll 5" in output, output
    assert f"resume from {checkpoint} (written after 2 trials)" in output, output
    resumed = mpirun(2, [EXAMPLE, *SMALL, "--checkpoint", checkpoint, "--resume"])
    assert "starting at trial 2 of 4" in resumed.stdout
    assert digest(resumed.stdout) == single


@needs_mpirun
def test_ranks_made_differently_are_refused(tmp_path):
    script = tmp_path / "mismatch.py"
    script.write_text(
        "from mpi4py import MPI\n"
        "import numpy as np, l2l, l2l.mpi\n"
        "x = np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32)\n"
        "data = l2l.Dataset.from_arrays(x, (x[:, 0] > 0).astype(np.int32), 2)\n"
        "t = l2l.meta.MetaTrainer(l2l.learned.LSTMOptimizer(preset='mtl2l'), [(l2l.MLP([4, 4, 2]), data)],\n"
        "                         steps=5, batch=8, seed=MPI.COMM_WORLD.rank)\n"
        "l2l.mpi.train(t)\n")
    done = mpirun(2, [str(script)], check=False)
    assert done.returncode != 0
    assert "LockstepError" in done.stderr and "the ranks' trainers differ" in done.stderr, done.stderr
