#!/usr/bin/env bash
# Every test: install what is missing, then
#   1. GCC, warnings as errors: build everything and run CTest (GoogleTest suites, CLI goldens,
#      the JSON Schema check of every data file, the fuzz targets' seeds and regression inputs);
#   2. clang with AddressSanitizer and UndefinedBehaviorSanitizer (CUDA off), warnings as errors:
#      the same tests again, then each libFuzzer target for $CHIPGAUGE_FUZZ_SECONDS (20) seconds on
#      its corpus (docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
jobs="$(nproc)"
start=$SECONDS

cmake -S . -B build-ci -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHIPGAUGE_WERROR=ON
cmake --build build-ci -j"$jobs"
npm ci --prefix tools/schema-check --no-audit --no-fund --loglevel=error
npm ci --prefix tools/openapi-check --no-audit --no-fund --loglevel=error
npm ci --prefix tools/dashboard-test --no-audit --no-fund --loglevel=error
ctest --test-dir build-ci --output-on-failure -j"$jobs"
echo "GCC build and tests: $((SECONDS - start)) s"

# Sanitizer findings are fatal; the one deliberate leak is suppressed (tests/sanitizers/lsan.supp).
export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0"
CC=clang CXX=clang++ cmake -S . -B build-ci-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHIPGAUGE_WERROR=ON \
  -DCHIPGAUGE_CUDA=OFF -DCHIPGAUGE_SANITIZE=address,undefined -DCHIPGAUGE_FUZZ=ON -DCHIPGAUGE_BUILD_BENCHMARKS=OFF
cmake --build build-ci-asan -j"$jobs"
ctest --test-dir build-ci-asan --output-on-failure -j"$jobs"
echo "sanitizer build and tests: $((SECONDS - start)) s"
tests/fuzz/run-fuzzers.sh build-ci-asan "${CHIPGAUGE_FUZZ_SECONDS:-20}"
echo "all tests: $((SECONDS - start)) s"
