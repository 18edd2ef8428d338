#!/usr/bin/env bash
# The project's test command (README, .ci/run): sets up what is missing, builds
# with -Werror, runs the unit tests under ASan+UBSan, then every test.  The
# output ends with ctest's summary.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

STACK_CMAKE_ARGS="-DSTACK_WERROR=ON" "$here/scripts/setup.sh"
"$here/scripts/setup-dev.sh"

echo "== unit tests under AddressSanitizer and UBSan"
cmake -S . -B build-asan -DSTACK_SANITIZE=ON -DSTACK_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$(nproc)" >/dev/null
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest -L unit --output-on-failure -j"$(nproc)")

echo "== all tests"
cd build
exec ctest --output-on-failure -j"$(nproc)"
