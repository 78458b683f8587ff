#!/usr/bin/env bash
# README command (2): install what is missing, build, run the whole suite.
#
#   bash tests/run.sh              release build in build/, every test
#   bash tests/run.sh --sanitize   AddressSanitizer + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

bash cmake/setup-debian.sh

dir=build
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  flags=(-DCMAKE_BUILD_TYPE=Debug -DAML_SANITIZE=ON)
  # LeakSanitizer cannot follow the OpenMP runtime's thread pool: libgomp's
  # own allocations are suppressed, ours are still checked.
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi

cmake -S . -B "$dir" "${flags[@]}"
cmake --build "$dir" -j2
ctest --test-dir "$dir" --output-on-failure -j2
