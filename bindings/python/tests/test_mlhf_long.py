"""examples/mlhf_long.py (MLHF's ablation meta-trained long, docs/hessian-free.md,
"Meta-trained 25× longer") at toy size on real Fashion-MNIST: every configuration asked for
is meta-trained, its l_p curve and held-out scores are finite, and the meta-test compares the
trained MLHF with its untrained self and the baselines."""

import json
import math
import subprocess
import sys

import pytest

from conftest import FASHION_MNIST as DIRECTORY, example, needs_fashion_mnist

SCRIPT = example("mlhf_long.py")


@needs_fashion_mnist
def test_mlhf_long_runs_the_ablation_and_the_meta_test(tmp_path):
    out = subprocess.run([sys.executable, SCRIPT, "--iterations", "3", "--only", "2,4", "--test-steps", "4",
                          "--learners", "1", "--data", DIRECTORY, "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    saved = json.loads((tmp_path / "metatest.json").read_text())
    assert sorted(saved["ablation"]) == ["2: no RNN_p, 4 CG", "4: RNN_p, 4 CG"]
    for run in saved["ablation"].values():
        assert len(run["lp_tenths"]) == 3 and all(math.isfinite(v) and v < 0 for v in run["lp_tenths"])
        assert math.isfinite(run["heldout_lp_before"]) and math.isfinite(run["heldout_lp_after"])
    assert "preconditioner=none" in saved["ablation"]["2: no RNN_p, 4 CG"]["options"]
    names = list(saved["metatest"])
    assert names[-2:] == ["MLHF 4 CG, untrained phi", "MLHF 4 CG, trained phi"] and "HF(LM) (defaults)" in names
    assert all(len(r["loss_curve"]) == 4 and 0 <= r["accuracy"] <= 1 for r in saved["metatest"].values())
    rows = (tmp_path / "history.csv").read_text().splitlines()
    assert rows[0].startswith("configuration,iteration,l_p") and len(rows) == 1 + 2 * 3
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run([sys.executable, SCRIPT, "--only", "5", "--out", str(tmp_path)], check=True, capture_output=True)
