"""The main job (examples/meta_fashion_mnist.py, what `bash scripts/main.sh` runs) at toy size:
it runs end to end on real Fashion-MNIST from several seeds and prints and saves what the
README says it does."""

import json
import subprocess
import sys

import pytest

import l2l

from conftest import FASHION_MNIST as DIRECTORY, example, needs_fashion_mnist

SCRIPT = example("meta_fashion_mnist.py")


@needs_fashion_mnist
def test_main_job_runs_every_seed_and_prints_the_curve(tmp_path):
    out = subprocess.run([sys.executable, SCRIPT, "--seeds", "2", "--trials", "1", "--lstm-trials", "1", "--steps", "10",
                          "--lstm-pes", "20:1", "--m2sgd-trials", "1", "--m2sgd-steps", "30", "--m2sgd-meta-batch", "3", "--learners", "1",
                          "--test-steps", "20", "--xis", "0,0.5", "--quiet", "--data", DIRECTORY, "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for name in ("SGD (lr 0.001, momentum 0.9)", "Adam (lr 0.001)", "LSTM optimiser", "Meta-SGD", "DMSGD",
                 "M²SGD ξ = 0 ", "M²SGD ξ = 0.5"):
        assert name in text, f"{name!r} missing from the table:\n{text}"
    assert text.count("seed 0 ") == 5 and text.count("seed 1 ") == 5, \
        "four optimisers meta-trained per seed, the LSTM optimiser in two stages"
    lstm_lines = [line for line in text.splitlines() if line.startswith("  seed ") and "LSTM optimiser" in line]
    assert len(lstm_lines) == 4 and sum("(S = 20, PES at Adam 0.0001)" in line for line in lstm_lines) == 2, \
        "the LSTM optimiser's two stages per seed, the second by PES at 1e-4"
    assert "(LSTM optimiser; then Q = 1 × S = 20 by PES at Adam 0.0001)" in text
    assert " inputs=adam " in text and text.rstrip().count(" odd=1") >= 1, "the LSTM optimiser's options are printed"
    assert "seed 0 M²SGD" in text and "(meta-trained with its mask at ξ = 0, 1 trial × 3 learners × S = 30;" in text
    m2sgd_lines = [line for line in text.splitlines() if line.startswith("  seed ") and "M²SGD" in line]
    assert len(m2sgd_lines) == 2 and all("6 meta-updates of 3 learners" in line for line in m2sgd_lines), \
        "M²SGD's trainer trains --m2sgd-meta-batch learners per meta-update, the others one"
    assert sum("learners in" in line for line in text.splitlines() if line.startswith("  seed ")) == 2
    assert "accuracy–sparsity curve" in text
    saved = json.loads((tmp_path / "main_job.json").read_text())
    assert saved["seeds"] == [0, 1]
    assert all(len(runs) == 2 for runs in saved["results"].values()), "one result per seed for every optimiser"
    xis = [point["xi"] for point in saved["m2sgd_curve"]]
    assert xis == [0.0, 0.5]
    assert all(0.0 <= point["removed"][0] <= 1.0 and 0.0 <= point["accuracy"][0] <= 1.0 for point in saved["m2sgd_curve"])
    for name in ("lstm_optimiser", "meta_sgd", "dmsgd", "m2sgd"):
        assert (tmp_path / f"{name}.safetensors").exists()
    lstm = l2l.learned.load(str(tmp_path / "lstm_optimiser.safetensors"))
    assert lstm.options["inputs"] == "adam" and lstm.options["odd"] == 1, lstm.options
    m2sgd = l2l.learned.load(str(tmp_path / "m2sgd.safetensors"))
    assert m2sgd.kind == "m2sgd" and m2sgd.options["mask_during"] == "both" and m2sgd.options["u_beta_sign"] == "positive"


@needs_fashion_mnist
def test_main_job_m2sgd_from_dmsgd_masks_dmsgds_phi_at_meta_test(tmp_path):
    out = subprocess.run([sys.executable, SCRIPT, "--seeds", "1", "--trials", "1", "--lstm-trials", "1", "--steps", "10",
                          "--lstm-pes", "none", "--m2sgd-from-dmsgd", "--learners", "1", "--test-steps", "20", "--xis", "0", "--quiet",
                          "--data", DIRECTORY, "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("seed 0 ") == 3 and "seed 0 M²SGD" not in out.stdout, "M²SGD is not meta-trained"
    assert "(DMSGD's φ, mask at meta-test;" in out.stdout
    assert not (tmp_path / "m2sgd.safetensors").exists()


@needs_fashion_mnist
def test_main_job_long_horizon_adds_a_pes_stage_per_optimiser(tmp_path):
    out = subprocess.run([sys.executable, SCRIPT, "--seeds", "1", "--trials", "1", "--lstm-trials", "1", "--steps", "10",
                          "--m2sgd-trials", "1", "--m2sgd-steps", "20", "--long-horizon", "20:1", "--lstm-pes", "none",
                          "--learners", "1", "--test-steps", "20", "--xis", "0", "--quiet",
                          "--data", DIRECTORY, "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    pes = [line for line in out.stdout.splitlines() if "(S = 20, PES at Adam 0.001)" in line]
    assert len(pes) == 3 and not any("LSTM optimiser" in line for line in pes), \
        f"one PES stage per learned optimiser but the LSTM optimiser (--lstm-pes none):\n{out.stdout}"
    for flag, value in (("--long-horizon", "1000"), ("--lstm-pes", "1000:0")):
        bad = subprocess.run([sys.executable, SCRIPT, flag, value, "--data", DIRECTORY, "--out", str(tmp_path)],
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and f"{flag} {value!r} is not S:Q" in bad.stderr, bad.stderr


def test_main_job_rejects_lstm_options_that_are_not_key_value_or_are_its_own(tmp_path):
    for pair in ("inputs", "inputs=", "=adam", "preset=paper", "seed=3"):
        out = subprocess.run([sys.executable, SCRIPT, "--lstm-opt", pair, "--out", str(tmp_path)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 2 and f"--lstm-opt {pair!r} is not KEY=VALUE" in out.stderr, out.stderr
    unknown = subprocess.run([sys.executable, SCRIPT, "--lstm-opt", "input=adam", "--out", str(tmp_path)],
                             capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and "unknown option input" in unknown.stderr, unknown.stderr


@needs_fashion_mnist
def test_main_job_lstm_opt_replaces_one_default_and_keeps_the_others(tmp_path):
    out = subprocess.run([sys.executable, SCRIPT, "--seeds", "1", "--trials", "1", "--lstm-trials", "1", "--steps", "10",
                          "--lstm-opt", "scale=0.05", "--lstm-pes", "none", "--m2sgd-from-dmsgd", "--learners", "1",
                          "--test-steps", "20", "--xis", "0", "--quiet", "--data", DIRECTORY, "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    lstm = l2l.learned.load(str(tmp_path / "lstm_optimiser.safetensors"))
    assert lstm.options["scale"] == 0.05 and lstm.options["inputs"] == "adam" and lstm.options["odd"] == 1, lstm.options


def test_main_job_rejects_a_meta_batch_of_zero(tmp_path):
    out = subprocess.run([sys.executable, SCRIPT, "--m2sgd-meta-batch", "0", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--m2sgd-meta-batch 0: needs at least 1 learner" in out.stderr
