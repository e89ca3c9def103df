#!/usr/bin/env bash
# valgrind.sh — runs the C test program (Tests/c/test_c_api.c) and the misuse suite
# (Tests/misuse) against the release libl2l.so under `valgrind --leak-check=full` and
# prints each one's LEAK SUMMARY; exits non-zero if either has a definite leak (bytes
# "definitely lost") or a memory error; nothing is suppressed. valgrind 3.19 (Debian 12)
# cannot read the DWARF 5 debug information the Swift toolchain writes, so the programs
# load a copy of libl2l.so with its debug sections stripped (reports name functions, not
# lines). About a minute on 2 cores; scripts/test.sh runs it. Logs go to .build/valgrind/.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product l2l
lib_dir="$root/.build/release"
out="$root/.build/valgrind"
mkdir -p "$out/lib"
objcopy --strip-debug "$lib_dir/libl2l.so" "$out/lib/libl2l.so"
gcc -std=c99 -O1 -g -I include Tests/c/test_c_api.c -L "$lib_dir" -ll2l -Wl,-rpath,"$lib_dir" -lm -pthread -o "$out/test_c_api"
MISUSE_OUT="$out/misuse" bash Tests/misuse/run.sh "$lib_dir" >/dev/null

status=0
for program in "$out/test_c_api" "$out/misuse/misuse"; do
    name="$(basename "$program")"
    LD_LIBRARY_PATH="$out/lib" valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
        --log-file="$out/$name.valgrind.log" "$program" >"$out/$name.log" 2>&1 || status=$?
    echo "== $name: $(tail -n 1 "$out/$name.log")"
    sed -n '/LEAK SUMMARY/,/suppressed/p; /ERROR SUMMARY/p' "$out/$name.valgrind.log" | sed 's/^==[0-9]*== */    /'
done
if ((status != 0)); then
    echo "valgrind.sh: FAILED (exit $status): see $out/*.valgrind.log" >&2
    exit 1
fi
echo "valgrind.sh: no definite leaks, no memory errors"
