#!/usr/bin/env bash
# run.sh LIBRARY_DIR [CC_FLAGS...] — the misuse suite: generates from include/l2l.h a C
# program that calls every declared function with NULL, wrong-kind, freed and negative
# arguments (generate.py says which and what each call must return), builds it against
# LIBRARY_DIR/libl2l.so with the extra compiler flags (e.g. -fsanitize=address) and runs
# it. On a failure it runs the program again with MISUSE_TRACE=1 to name the last call
# made. Binaries go to .build/misuse/ (or $MISUSE_OUT). Exits non-zero on any failure.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 LIBRARY_DIR [CC_FLAGS...]" >&2
    exit 2
fi
lib_dir="$(cd "$1" && pwd)"
shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${MISUSE_OUT:-$root/.build/misuse}"
CC="${CC:-gcc}"
mkdir -p "$out"

"$CC" -E -P -std=c99 -I "$root/include" "$root/include/l2l.h" >"$out/l2l.i"
python3 "$here/generate.py" "$out/l2l.i" "$out/misuse.c"
"$CC" -std=c99 -O0 -g -Wall -Wextra -Werror -Wno-unused-variable "$@" -I "$root/include" -I "$here" \
    "$out/misuse.c" "$here/harness.c" "$here/fixtures.c" \
    -L "$lib_dir" -ll2l -Wl,-rpath,"$lib_dir" -lm -pthread -o "$out/misuse"
if ! "$out/misuse" >"$out/misuse.log" 2>&1; then
    grep -E '^FAIL|passed' "$out/misuse.log" | tail -40
    echo "misuse: failed; the last calls made (MISUSE_TRACE=1):" >&2
    MISUSE_TRACE=1 "$out/misuse" 2>&1 | grep -v '^FAIL' | tail -5 >&2 || true
    exit 1
fi
tail -n 1 "$out/misuse.log"
