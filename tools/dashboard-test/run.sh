#!/usr/bin/env bash
# The dashboard's browser test, as CTest runs it (tests/CMakeLists.txt: DashboardBrowser):
#   run.sh CHIPGAUGE_BINARY DASHBOARD_FIXTURE SPECS_DIR WORK_DIR
# Builds a history store with a known regression and a fleet's certificates (dashboard_fixture),
# generates the site from it, exports the store as JSON and collects the fleet from it (the truths
# the page data is checked against), then loads the site from file:// in headless Chromium
# (test.js), which also asks `chipgauge compare` where the regressions are. Exits 77 (CTest: skipped) with the reason when Chromium
# or tools/dashboard-test/node_modules is missing; scripts/test.sh installs both.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$1" fixture="$2" specs="$3" work="$4"
chromium="${CHIPGAUGE_CHROMIUM:-$(command -v chromium || true)}"
if [[ -z "$chromium" ]]; then
  echo "SKIPPED: chromium not found (scripts/install-deps.sh --test installs Debian's chromium)"
  exit 77
fi
if [[ ! -d "$here/node_modules/puppeteer-core" ]]; then
  echo "SKIPPED: $here/node_modules is missing (npm ci --prefix tools/dashboard-test; scripts/test.sh runs it)"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
"$fixture" "$work/store.db" "$work/expected.json"
"$bin" --specs-dir "$specs" dashboard --history "$work/store.db" --out "$work/site" --as-of 2026-12-01
"$bin" history export --history "$work/store.db" --format json > "$work/export.json"
# The fleet answer the fleet page must equal: exit 4, since node gpu-00000 has a failing device.
status=0
"$bin" --specs-dir "$specs" fleet collect history: --history "$work/store.db" --as-of 2026-12-01 --format json \
  > "$work/fleet.json" || status=$?
if [[ $status -ne 4 ]]; then
  echo "fleet collect over the fixture store exited $status, expected 4 (a failing device)"
  exit 1
fi
# test.js runs `chipgauge compare` itself, against the rolling baseline, for every run of the series.
CHIPGAUGE_CHROMIUM="$chromium" CHIPGAUGE_BINARY="$bin" CHIPGAUGE_SPECS="$specs" node "$here/test.js" "$work"
