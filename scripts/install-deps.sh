#!/usr/bin/env bash
# Installs what chipgauge needs on Debian 12 (run as root), skipping what is already there.
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh --test   also what the tests need (Node.js and npm for the schema check;
#                                    Python 3 for the gpu-check summary test; clang, its sanitizer and
#                                    libFuzzer runtimes and llvm-symbolizer for the sanitizer build and
#                                    the fuzz targets; promtool from prometheus for the /metrics
#                                    check; wrk, nginx and curl for scripts/serve-load.sh; slurm-wlm,
#                                    munge and jq for the one-machine Slurm cluster of the fleet test;
#                                    postgresql for the history store's PostgreSQL tests;
#                                    clang-format for the formatting check)
set -euo pipefail

packages=(build-essential cmake ninja-build git pkg-config
          nlohmann-json3-dev libfmt-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
          libssl-dev libsqlite3-dev libpqxx-dev libcpp-httplib-dev libjs-chart.js)
if [[ "${1:-}" == "--test" ]]; then
  # A Node.js installed another way (with its own npm) is fine; only install when missing.
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
  command -v python3 >/dev/null 2>&1 || packages+=(python3)
  packages+=(clang libclang-rt-14-dev llvm)
  # The Format test: every C++ and CUDA source as .clang-format lays it out (clang-format 14).
  packages+=(clang-format)
  # chipgauge serve: promtool lints a /metrics scrape; wrk, nginx and curl run scripts/serve-load.sh.
  packages+=(prometheus wrk nginx curl)
  # The fleet test's one-machine Slurm cluster (tests/slurm/), and jq for its assertions.
  packages+=(slurm-wlm munge jq)
  # The history store's PostgreSQL tests start a private server (tests/postgres/server.sh).
  packages+=(postgresql)
  # The dashboard's browser test (tools/dashboard-test) drives Debian's Chromium headless.
  packages+=(chromium)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
