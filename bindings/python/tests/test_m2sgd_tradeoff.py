"""The trade-off script (examples/m2sgd_tradeoff.py) at toy size: M²SGD meta-trained with its
mask beside magnitude pruning of DMSGD- and Adam-trained learners to the same share."""

import json
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
    exports = {row["xi"]: row["export_bytes_seed0"] for row in saved["table"]}
    assert exports[0.5] < exports[0.0] <= saved["dense_export_bytes"], "fewer surviving weights, a smaller file"


def test_tradeoff_rejects_a_meta_batch_of_zero(tmp_path):
    out = run(tmp_path, "--meta-batch", "0")
    assert out.returncode == 2 and "--meta-batch 0: needs at least 1 learner" in out.stderr
