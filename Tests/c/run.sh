#!/usr/bin/env bash
# run.sh — the C-side checks of l2l, from any directory:
#   1. builds the release library (swift build -c release --product l2l);
#   2. check_header.sh: the header compiles as C99 and C++17 and declares exactly the
#      l2l_* functions the library exports;
#   3. compiles Tests/c/test_c_api.c, checks that it calls every exported function, runs it;
#   4. the misuse suite (Tests/misuse/run.sh): every function of the header called with
#      NULL, wrong-kind, freed and negative arguments, generated from the header;
#   5. compiles examples/c/train_mlp.c and trains one epoch on Fashion-MNIST (about two
#      seconds), requiring a test accuracy of at least 80 %; skipped, with a note, if the
#      data set is not installed and $L2L_DATA is not set.
# Binaries go to .build/c-tests/. Exits non-zero on any failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
CC="${CC:-gcc}"
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
lib_dir="$root/.build/release"
out="$root/.build/c-tests"

echo "== building libl2l.so (release)"
swift build -c release --product l2l
mkdir -p "$out"

echo "== checking include/l2l.h"
bash "$root/Tests/c/check_header.sh" "$lib_dir/libl2l.so"

echo "== test_c_api"
"$CC" -std=c99 -O1 -g -Wall -Wextra -pedantic -Werror -I include Tests/c/test_c_api.c \
    -L "$lib_dir" -ll2l -Wl,-rpath,"$lib_dir" -lm -pthread -o "$out/test_c_api"
# Every exported function must be called by the test (check_header.sh has shown that the
# exported ones are exactly the declared ones).
nm -D --defined-only "$lib_dir/libl2l.so" | awk '$2 == "T" && $3 ~ /^l2l_/ { print $3 }' | sort -u >"$out/exported.txt"
nm -u "$out/test_c_api" | awk '$2 ~ /^l2l_/ { print $2 }' | sort -u >"$out/called.txt"
uncalled="$(comm -23 "$out/exported.txt" "$out/called.txt")"
if [[ -n "$uncalled" ]]; then
    echo "test_c_api.c does not call:" $uncalled >&2
    exit 1
fi
"$out/test_c_api"

echo "== misuse (generated from include/l2l.h)"
bash "$root/Tests/misuse/run.sh" "$lib_dir"

echo "== examples/c/train_mlp"
"$CC" -std=c99 -O2 -Wall -Wextra -pedantic -Werror -I include examples/c/train_mlp.c \
    -L "$lib_dir" -ll2l -Wl,-rpath,"$lib_dir" -o "$out/train_mlp"
if [[ -z "${L2L_DATA:-}" && ! -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]]; then
    echo "note: Fashion-MNIST not found (install dataset-fashion-mnist or set L2L_DATA); example built, not run"
else
    "$out/train_mlp" | tee "$out/train_mlp.log"
    accuracy="$(sed -nE 's/.*test accuracy ([0-9.]+) %.*/\1/p' "$out/train_mlp.log")"
    if [[ -z "$accuracy" ]] || ! awk -v a="$accuracy" 'BEGIN { exit !(a >= 80) }'; then
        echo "train_mlp: test accuracy '${accuracy}' is below 80 %" >&2
        exit 1
    fi
fi
echo "== C checks passed"
