#!/usr/bin/env bash
# The main job: install what is missing, build, measure this machine (quick, verified), certify and
# classify that measurement, and print the classification table of every bundled part as of today. The
# measurement is also recorded in the history store build/history.db (docs/history.md), whose runs are listed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHIPGAUGE_BUILD_TESTS=OFF -DCHIPGAUGE_BUILD_BENCHMARKS=OFF
cmake --build build --target chipgauge -j"$(nproc)"
./build/apps/chipgauge --specs-dir specs measure --quick --out build/measurement.json --history build/history.db
./build/apps/chipgauge history list --history build/history.db
# Certify that measurement: a sealed certificate per device in build/certificates/. An inconclusive (3) or
# failed (4) certification is reported and the job goes on; any other failure stops it.
status=0
./build/apps/chipgauge --specs-dir specs certify --report build/measurement.json --out build/certificates || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ] && [ "$status" -ne 4 ]; then exit "$status"; fi
# The dashboard of that store (docs/history.md#dashboard): open build/dashboard/index.html.
./build/apps/chipgauge --specs-dir specs dashboard --history build/history.db --out build/dashboard
./build/apps/chipgauge --specs-dir specs classify --measured build/measurement.json
./build/apps/chipgauge --specs-dir specs classify --all --brief
