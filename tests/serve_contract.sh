#!/bin/sh
# The serve tests' responses against the API contract. Runs the in-process serve tests with
# CHIPGAUGE_SERVE_RECORD set, then:
#   openapi  SERVE_TEST NODE ROOT      every recorded response against specs/schema/openapi.json
#                                      (tools/openapi-check; needs `npm ci --prefix tools/openapi-check`)
#   metrics  SERVE_TEST PROMTOOL       a /metrics scrape through `promtool check metrics`
set -eu
mode=$1
test_bin=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
case "$mode" in
  openapi) filter='ServeRoutes.*:ServeErrors.*:ServeLimits.*:ServeToken.*:ServeHistory.*' ;;
  metrics) filter='ServeRoutes.Metrics*' ;;
  *) echo "serve_contract.sh: unknown mode '$mode'" >&2; exit 2 ;;
esac
if ! CHIPGAUGE_SERVE_RECORD="$dir" "$test_bin" --gtest_filter="$filter" >"$dir/gtest.log" 2>&1; then
  cat "$dir/gtest.log"
  exit 1
fi
case "$mode" in
  openapi) "$3" "$4/tools/openapi-check/check.mjs" "$4" "$dir/responses.json" ;;
  metrics)
    test -s "$dir/metrics.txt" || { echo "no /metrics scrape recorded" >&2; exit 1; }
    "$3" check metrics <"$dir/metrics.txt"
    echo "promtool check metrics: ok ($(wc -l <"$dir/metrics.txt") lines)" ;;
esac
