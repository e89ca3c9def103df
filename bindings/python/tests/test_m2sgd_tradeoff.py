"""The trade-off script (examples/m2sgd_tradeoff.py) at toy size: M²SGD meta-trained with its
mask beside magnitude pruning of DMSGD- and Adam-trained learners to the same share."""

import json
import os
import subprocess
import sys

from conftest import FASHION_MNIST as DIRECTORY, example, needs_fashion_mnist

SCRIPT = example("m2sgd_tradeoff.py")


def run(tmp_path, *extra):
    return subprocess.run([sys.executable, SCRIPT, "--seeds", "1", "--trials", "1", "--steps", "10", "--test-steps", "20",
                           "--finetune", "5", "--xis", "0,0.5", "--data", DIRECTORY, "--out", str(tmp_path), *extra],
                          capture_output=True, text=True, timeout=600)


@needs_fashion_mnist
def test_tradeoff_prunes_to_the_share_m2sgd_removed(tmp_path):
    out = run(tmp_path, "--meta-batch", "2")
    assert out.returncode == 0, out.stderr
    assert "meta-batch 2" in out.stdout
    saved = json.loads((tmp_path / "m2sgd_tradeoff.json").read_text())
    assert saved["first_stage_meta_batches"] == [2], "DMSGD's and M²SGD's trainers train two learners per meta-update"
    assert [row["xi"] for row in saved["table"]] == [0.0, 0.5]
    # ξ = 0.5 is above every rate an optimiser meta-trained for 2 unrolls can reach: every weight goes.
    assert saved["table"][1]["removed_per_seed"] == [1.0]
    assert abs(saved["table"][1]["accuracy"]["M²SGD"][0] - 10.0) < 1e-4, "with no weights left it predicts one class"
    for row in saved["table"]:
        assert 0.0 <= row["removed"] <= 100.0
        for label, (mean, _) in row["accuracy"].items():
            assert 0.0 <= mean <= 100.0, label
    # The per-seed target, recomputed here from the saved cells.
    dense, rows = saved["per_seed"]["DMSGD"][0], saved["table"]
    expected = next((row["xi"] for row in rows if row["removed_per_seed"][0] >= 0.49
                     and 100 * (saved["per_seed"][f"M²SGD ξ={row['xi']:g}"][0] - dense) >= -1.0), None)
    assert saved["target_first_xi"] == [expected]
    assert f"seed 0 {'-' if expected is None else f'{expected:g}'}" in out.stdout
    exports = {row["xi"]: row["export_bytes_seed0"] for row in saved["table"]}
    assert exports[0.5] < exports[0.0] <= saved["dense_export_bytes"], "fewer surviving weights, a smaller file"


def test_tradeoff_rejects_a_meta_batch_of_zero(tmp_path):
    out = run(tmp_path, "--meta-batch", "0")
    assert out.returncode == 2 and "--meta-batch 0: needs at least 1 learner" in out.stderr


def test_target_per_seed_takes_the_first_xi_that_removes_enough_within_a_point(monkeypatch):
    monkeypatch.syspath_prepend(os.path.dirname(SCRIPT))
    from m2sgd_tradeoff import target_per_seed
    rows = {"DMSGD": [0.83, 0.83, 0.83],
            "M²SGD ξ=0": [0.825, 0.815, 0.83],     # within, 1.5 below, level
            "M²SGD ξ=0.1": [0.80, 0.825, 0.70]}    # 3 below, within, 13 below
    removed = {0: [0.60, 0.60, 0.40], 0.1: [0.80, 0.70, 0.90]}
    # seed 0 meets it at ξ = 0; seed 1 only at ξ = 0.1; seed 2 removes too little at 0 and loses too much at 0.1.
    assert target_per_seed(rows, removed, [0, 0.1]) == [0, 0.1, None]
    assert target_per_seed(rows, removed, [0, 0.1], removed_at_least=0.3) == [0, 0.1, 0]
