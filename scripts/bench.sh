#!/usr/bin/env bash
# Prints the benchmark figures: l2l's full report (sgemm peak, element-wise kernels,
# learned optimisers, training steps/s, curvature costs), MLP training from Python, and
# l2l side by side with its PyTorch peer (benchmarks/torch_peer.py) with their ratios, the
# sgemm peaks of l2l, numpy and PyTorch, and each l2l run's peak resident memory; then the
# LSTM optimiser driven from Python against the same Swift figures (benchmarks/learned_python.py).
# Expects scripts/setup.sh to have run (the Python module). PyTorch is needed here only:
# if python3 has no torch, it is installed into a venv of its own, .build/torch-venv: the
# machine's CPU-only wheel from /opt/wheels if there is one, else PyPI's (the torch wheel
# and its CUDA dependencies are about 5 GB: the first run downloads them).
set -euo pipefail
cd "$(dirname "$0")/.."
# --mpi: the MPI meta-training figures only (scripts/bench_mpi.sh).
[ "${1:-}" = "--mpi" ] && exec bash scripts/bench_mpi.sh
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product l2l-bench >/dev/null
.build/release/l2l-bench
.build/release/l2l-bench --json > .build/bench-swift.json
python3 benchmarks/mlp_python.py --swift-json .build/bench-swift.json

echo
echo "l2l and PyTorch side by side (2 threads each; one process per l2l figure)"
mkdir -p .build/bench
for kind in sgemm lstm dmsgd adam hf lstm_forward; do
    .build/release/l2l-bench --only "$kind" --json --repeats 3 > ".build/bench/$kind.json"
done
peer=python3
if ! python3 -c "import torch" 2>/dev/null; then
    peer=.build/torch-venv/bin/python3
    [ -x "$peer" ] || python3 -m venv --system-site-packages .build/torch-venv
    if ! "$peer" -c "import torch" 2>/dev/null; then
        # The machine's CPU-only wheel if it has one, else PyPI's (with its CUDA libraries).
        wheel=$(ls /opt/wheels/torch-*+cpu-*.whl 2>/dev/null | head -n 1 || true)
        "$peer" -m pip install -q --disable-pip-version-check "${wheel:-torch}" threadpoolctl
    fi
fi
"$peer" benchmarks/torch_peer.py --l2l .build/bench --repeats 3

echo
python3 benchmarks/learned_python.py --swift-json .build/bench/lstm.json --repeats 3
