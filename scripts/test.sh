#!/usr/bin/env bash
# Every test: install what is missing, build everything with warnings as errors, run CTest
# (GoogleTest suites, CLI goldens, the JSON Schema check of every data file).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
cmake -S . -B build-ci -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHIPGAUGE_WERROR=ON
cmake --build build-ci -j"$(nproc)"
npm ci --prefix tools/schema-check --no-audit --no-fund --loglevel=error
ctest --test-dir build-ci --output-on-failure -j"$(nproc)"
