#!/usr/bin/env bash
# sanitize.sh — the C tests against sanitizer builds of libl2l.so (scripts/sanitize-build.sh):
#   1. Tests/c/test_c_api.c and the misuse suite (Tests/misuse) against the ASan build, the
#      test programs themselves compiled with -fsanitize=address,undefined: any invalid
#      memory access, leak (LeakSanitizer, no suppressions) or undefined behaviour in C
#      fails the run;
#   2. Tests/sanitizers/test_threads.c (four threads on four sets of handles) against the
#      TSan build: any data race fails the run.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
clang="$(dirname "$(command -v swift)")/clang"   # the Swift toolchain's clang, with its sanitizer runtimes
swift_lib="$(dirname "$(command -v swift)")/../lib/swift/linux"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1"
failed=()

echo "== ASan + UBSan: test_c_api, misuse"
bash scripts/sanitize-build.sh asan
asan="$root/.build-asan/debug"
mkdir -p .build-asan/c-tests
"$clang" -std=c99 -O1 -g -fsanitize=address,undefined -fuse-ld=lld -I include Tests/c/test_c_api.c \
    -L "$asan" -ll2l -Wl,-rpath,"$asan" -lm -pthread -o .build-asan/c-tests/test_c_api
.build-asan/c-tests/test_c_api >.build-asan/c-tests/test_c_api.log 2>&1 || failed+=(asan-test_c_api)
grep -E '^FAIL|ERROR: |SUMMARY: |runtime error' .build-asan/c-tests/test_c_api.log | head -n 20 || true
echo "test_c_api (ASan): $(tail -n 1 .build-asan/c-tests/test_c_api.log)"
CC="$clang" MISUSE_OUT="$root/.build-asan/misuse" bash Tests/misuse/run.sh "$asan" -fsanitize=address,undefined -fuse-ld=lld \
    || failed+=(asan-misuse)

echo "== TSan: test_threads"
bash scripts/sanitize-build.sh tsan
tsan="$root/.build-tsan/debug"
mkdir -p .build-tsan/c-tests
"$clang" -std=c99 -O1 -g -fsanitize=thread -fuse-ld=lld -I include Tests/sanitizers/test_threads.c \
    -L "$tsan" -ll2l -Wl,-rpath,"$tsan" -pthread -o .build-tsan/c-tests/test_threads \
    -L "$swift_lib" -Wl,-rpath,"$swift_lib" -ldispatch -lBlocksRuntime  # the TSan runtime intercepts libdispatch
.build-tsan/c-tests/test_threads || failed+=(tsan-threads)

if ((${#failed[@]})); then
    echo "sanitize: FAILED: ${failed[*]}"
    exit 1
fi
echo "sanitize: no sanitizer findings"
