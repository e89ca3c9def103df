#!/usr/bin/env bash
# sanitize-build.sh asan|tsan — builds libl2l.so (debug) for the sanitizer runs, each in a
# scratch folder of its own (in .gitignore):
#   asan  .build-asan/debug/libl2l.so: AddressSanitizer (Swift and C), UndefinedBehavior-
#         Sanitizer for the C target (Swift has no -sanitize=undefined on Linux; its own
#         overflow and bounds checks are on in debug builds), and libFuzzer's coverage
#         instrumentation, so the same library serves scripts/sanitize.sh and scripts/fuzz.sh;
#   tsan  .build-tsan/debug/libl2l.so: ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
case "${1:-}" in
asan)
    swift build -c debug --product l2l --scratch-path .build-asan \
        -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
        -Xcc -fsanitize=address,undefined
    ;;
tsan)
    swift build -c debug --product l2l --scratch-path .build-tsan -Xswiftc -sanitize=thread -Xcc -fsanitize=thread
    ;;
*)
    echo "usage: $0 asan|tsan" >&2
    exit 2
    ;;
esac
