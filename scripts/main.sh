#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh) and runs the main job on real Fashion-MNIST:
# trains the 784-32-10 MLP with SGD for one epoch from Python and prints its test accuracy.
# Extra arguments go to examples/train_mlp.py (e.g. --epochs 3 --progress).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 examples/train_mlp.py "$@"
