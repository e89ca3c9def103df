#!/usr/bin/env bash
# fuzz.sh [SECONDS] [TARGET...] — runs the libFuzzer targets of Tests/fuzz/targets (every
# reader and parser of libl2l.so) for SECONDS each (default 600; CI uses 30), and prints one
# line per target: executions, executions per second, coverage (libFuzzer's "cov": edges of
# libl2l.so reached, out of the ~46,500 instrumented) after the seeds and at the end, and
# the corpus size.
#
# The targets are C programs over include/l2l.h, built with clang -fsanitize=fuzzer,address,
# undefined against the ASan build of libl2l.so with coverage instrumentation
# (scripts/sanitize-build.sh asan). Each starts from its committed seeds in
# Tests/fuzz/corpus/TARGET (each seed must load: a seed the reader refuses fails the run)
# and grows a working corpus in .build-asan/fuzz/corpus/TARGET (kept between runs, never
# committed). A crash, a sanitizer report, a hang (> 10 s for one input)
# or an allocation over 2 GB stops that target; its reproducer is written to
# .build-asan/fuzz/crashes/TARGET/ and the script exits non-zero after running the others.
#
#   fuzz.sh --seeds    writes the seed corpora again (Tests/fuzz/make_seeds.c)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
clang="$(dirname "$(command -v swift)")/clang"   # the Swift toolchain's clang: its libFuzzer and sanitizer runtimes
work="$root/.build-asan/fuzz"

bash scripts/sanitize-build.sh asan
lib_dir="$root/.build-asan/debug"
mkdir -p "$work/bin"

if [[ "${1:-}" == "--seeds" ]]; then
    "$clang" -std=c99 -O1 -fuse-ld=lld -I include -I Tests/fuzz Tests/fuzz/make_seeds.c Tests/fuzz/subjects.c \
        -fsanitize=address -L "$lib_dir" -ll2l -Wl,-rpath,"$lib_dir" -lz -o "$work/bin/make_seeds"
    rm -rf Tests/fuzz/corpus
    ASAN_OPTIONS=detect_leaks=0 "$work/bin/make_seeds" /usr/share/datasets/fashion-mnist Tests/fuzz/corpus
    du -sh Tests/fuzz/corpus
    exit 0
fi

seconds="${1:-600}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
    for f in Tests/fuzz/targets/*.c; do targets+=("$(basename "$f" .c)"); done
fi

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=()
printf '%-11s %12s %9s %9s %7s %7s\n' target executions exec/s seed-cov cov corpus
for t in "${targets[@]}"; do
    "$clang" -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fuse-ld=lld -I include -I Tests/fuzz \
        "Tests/fuzz/targets/$t.c" Tests/fuzz/fuzz.c Tests/fuzz/subjects.c \
        -L "$lib_dir" -ll2l -Wl,-rpath,"$lib_dir" -o "$work/bin/$t"
    mkdir -p "$work/corpus/$t" "$work/crashes/$t"
    log="$work/$t.log"
    # The seeds alone first: each must load (the json seeds are headers without their data).
    # (Files as arguments: libFuzzer runs each once, and not the empty input it starts with.)
    if [[ $t != json ]] && ! L2L_FUZZ_SEEDS=1 "$work/bin/$t" -artifact_prefix="$work/crashes/$t/" \
        "Tests/fuzz/corpus/$t"/* >"$log" 2>&1; then
        echo "$t: a seed in Tests/fuzz/corpus/$t is refused:"
        grep -E '^fuzz:' "$log" | sed 's/^/    /'
        failed+=("$t")
        continue
    fi
    if "$work/bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/crashes/$t/" \
        "$work/corpus/$t" "Tests/fuzz/corpus/$t" >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$t")
    fi
    runs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -n 1)"
    speed="$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log" | tail -n 1)"
    seed_cov="$(grep -E 'INITED' "$log" | grep -oE 'cov: [0-9]+' | cut -d' ' -f2)"
    cov="$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)"
    corpus="$(find "$work/corpus/$t" -type f | wc -l)"
    printf '%-11s %12s %9s %9s %7s %7s %s\n' "$t" "${runs:-?}" "${speed:-?}" "${seed_cov:-?}" "${cov:-?}" "$corpus" "$status"
    if [[ $status != ok ]]; then
        grep -E 'ERROR|SUMMARY|fuzz:|Fatal error|Test unit written' "$log" | head -n 8 | sed 's/^/    /'
    fi
done
if ((${#failed[@]})); then
    echo "fuzz: FAILED: ${failed[*]} (logs in $work/TARGET.log, reproducers in $work/crashes/)"
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds} s each, no findings"
