#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh) and runs every test suite: Swift (XCTest), C
# (the ABI test program and header checks) and Python (pytest). Exits non-zero if any fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH

failed=()
echo "== Swift (XCTest)"
{ swift test && swift run --skip-build l2l-mlp-example --steps 30; } || failed+=(swift)
echo "== C (include/l2l.h, libl2l.so)"
bash Tests/c/run.sh || failed+=(c)
echo "== Python (pytest)"
(cd /tmp && python3 -m pytest -q "$OLDPWD/bindings/python/tests") || failed+=(python)

if ((${#failed[@]})); then
    echo "FAILED suites: ${failed[*]}"
    exit 1
fi
echo "All suites passed: swift, c, python"
