#!/usr/bin/env bash
# Prints the benchmark figures: sgemm peak, MLP training steps/s from Swift and from
# Python, and their ratio. Expects scripts/setup.sh to have run (the Python module).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product l2l-bench >/dev/null
.build/release/l2l-bench
.build/release/l2l-bench --json > .build/bench-swift.json
python3 benchmarks/mlp_python.py --swift-json .build/bench-swift.json
