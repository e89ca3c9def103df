#!/usr/bin/env bash
# check_header.sh LIBRARY — checks include/l2l.h against itself and against LIBRARY
# (a built libl2l.so):
#   1. the header compiles alone (and twice, for its include guard) as C99 with
#      gcc -std=c99 -Wall -Wextra -Werror -pedantic (plus -Wstrict-prototypes, so an
#      empty "()" parameter list, which C reads as "unspecified", is caught);
#   2. it compiles as C++17 with g++ -Wall -Wextra -Werror, in a translation unit that
#      takes the address of every function it declares, and that program links against
#      LIBRARY and runs (so the declarations have C linkage and every one resolves);
#   3. the functions it declares are exactly the l2l_* functions LIBRARY exports
#      (`nm -D --defined-only LIBRARY`, type T), in both directions.
# Exits non-zero, printing what differs, on any failure.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 path/to/libl2l.so" >&2
    exit 2
fi
lib="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
if [[ ! -f "$lib" ]]; then
    echo "check_header: no library at $1" >&2
    exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
header="$root/include/l2l.h"
CC="${CC:-gcc}"
CXX="${CXX:-g++}"

work="$(mktemp -d "${TMPDIR:-/tmp}/l2l-check-header.XXXXXX")"
trap 'rm -rf "$work"' EXIT
status=0

# The functions the header declares: identifiers l2l_* directly followed by "(" in the
# preprocessed header (comments gone), with newlines folded so a declaration split over
# lines is still seen. Function-pointer typedefs read "(*l2l_x)(", which does not match.
"$CC" -E -P -std=c99 -I "$root/include" "$header" | tr '\n' ' ' |
    grep -oE '\bl2l_[A-Za-z0-9_]+[[:space:]]*\(' | sed -E 's/[[:space:]]*\($//' | sort -u >"$work/declared"
if [[ ! -s "$work/declared" ]]; then
    echo "check_header: found no functions in $header" >&2
    exit 1
fi
echo "check_header: $(wc -l <"$work/declared") functions declared in include/l2l.h"

# 1. C99, pedantic.
printf '#include "l2l.h"\n#include "l2l.h"\n' >"$work/c99.c"
{
    echo "void l2l_check_header_use(void);"
    echo "void l2l_check_header_use(void) {"
    sed 's/.*/    (void)\&&;/' "$work/declared"
    echo "}"
} >>"$work/c99.c"
if "$CC" -std=c99 -Wall -Wextra -Werror -pedantic -Wstrict-prototypes -I "$root/include" -c "$work/c99.c" -o "$work/c99.o"; then
    echo "check_header: compiles as C99 (-Wall -Wextra -Werror -pedantic -Wstrict-prototypes)"
else
    echo "check_header: FAILED to compile as C99" >&2
    status=1
fi

# 2. C++17: every function's address, linked against the library and run.
{
    echo '#include "l2l.h"'
    echo '#include "l2l.h"'
    echo '#include <cstdio>'
    echo 'template <typename F> static int present(F *f) { return f != nullptr; }'
    echo 'int main() {'
    echo '    int n = 0;'
    sed 's/.*/    n += present(\&&);/' "$work/declared"
    echo '    std::printf("%d functions, version %s\n", n, l2l_version());'
    echo '    return n == '"$(wc -l <"$work/declared")"' ? 0 : 1;'
    echo '}'
} >"$work/cxx.cpp"
if "$CXX" -std=c++17 -Wall -Wextra -Werror -I "$root/include" "$work/cxx.cpp" -o "$work/cxx" \
    -L "$(dirname "$lib")" -l:"$(basename "$lib")" -Wl,-rpath,"$(dirname "$lib")" &&
    "$work/cxx" >"$work/cxx.out"; then
    echo "check_header: compiles as C++17 (-Wall -Wextra -Werror); linked and ran: $(cat "$work/cxx.out")"
else
    echo "check_header: FAILED to compile, link or run as C++17" >&2
    status=1
fi

# 3. Declared functions == exported l2l_* functions.
nm -D --defined-only "$lib" | awk '$2 == "T" && $3 ~ /^l2l_/ { print $3 }' | sort -u >"$work/exported"
if cmp -s "$work/declared" "$work/exported"; then
    echo "check_header: the $(wc -l <"$work/exported") l2l_* functions exported by $(basename "$lib") are exactly those declared"
else
    status=1
    missing="$(comm -23 "$work/declared" "$work/exported")"
    extra="$(comm -13 "$work/declared" "$work/exported")"
    if [[ -n "$missing" ]]; then
        echo "check_header: FAILED: declared in l2l.h but not exported by $lib:" >&2
        printf '  %s\n' $missing >&2
    fi
    if [[ -n "$extra" ]]; then
        echo "check_header: FAILED: exported by $lib but not declared in l2l.h:" >&2
        printf '  %s\n' $extra >&2
    fi
fi
exit $status
