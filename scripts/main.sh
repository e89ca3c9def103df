#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh) and runs the main job on real Fashion-MNIST:
# meta-trains the LSTM optimiser, Meta-SGD, DMSGD and M2SGD on the 784-32-10 MLP and compares them
# (with SGD and Adam) on fresh learners, printing a table in the shape of the paper's Table 3.
# Extra arguments go to examples/meta_fashion_mnist.py (e.g. --paper).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 examples/meta_fashion_mnist.py "$@"
