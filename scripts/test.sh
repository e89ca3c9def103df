#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh) and runs every test suite: Swift (XCTest), C
# (the ABI test program, header checks and misuse suite), Python (pytest), the C tests
# against sanitizer builds and under valgrind (scripts/sanitize.sh, scripts/valgrind.sh) and
# every fuzz target for 30 s (scripts/fuzz.sh). Exits non-zero if any fails.
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
# PyTorch (CPU) for the tests of l2l.torch only (the library never needs it): the machine's
# CPU wheel if it has one, else PyPI's.
if ! python3 -c "import torch" 2>/dev/null; then
    pip=(env PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore)
    wheel=$(ls /opt/wheels/torch-*+cpu-*.whl 2>/dev/null | head -n 1 || true)
    { [ -n "$wheel" ] && "${pip[@]}" "$wheel"; } || "${pip[@]}" torch \
        || echo "test: PyTorch could not be installed; the l2l.torch tests will fail"
fi
(cd /tmp && python3 -m pytest -q "$OLDPWD/bindings/python/tests") || failed+=(python)
echo "== Sanitizers (ASan + UBSan: C tests and misuse; TSan: threads; valgrind: leaks)"
{ bash scripts/sanitize.sh && bash scripts/valgrind.sh; } || failed+=(sanitizers)
echo "== Fuzz (30 s per target)"
bash scripts/fuzz.sh 30 || failed+=(fuzz)

if ((${#failed[@]})); then
    echo "FAILED suites: ${failed[*]}"
    exit 1
fi
echo "All suites passed: swift, c, python, sanitizers, fuzz"
