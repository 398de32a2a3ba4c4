#!/usr/bin/env bash
# Runs every fuzz target of a CHIPGAUGE_FUZZ build for a while on its corpus:
#   tests/fuzz/run-fuzzers.sh BUILD_DIR SECONDS [TARGET...]
# The corpus and dictionaries are built fresh from the repository (make-corpus.sh) under
# BUILD_DIR/fuzz-corpus; what the fuzzer finds new goes there too. A crash leaves its input under
# BUILD_DIR/fuzz-artifacts/TARGET/ and fails the run (exit 1) once every target has run; keep the
# input as a regression test (docs/testing.md). Prints each target's final statistics.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:?usage: run-fuzzers.sh BUILD_DIR SECONDS [TARGET...]}"
seconds="${2:?usage: run-fuzzers.sh BUILD_DIR SECONDS [TARGET...]}"
shift 2
targets=("$@")
((${#targets[@]})) || targets=(json spec expr rules licensing report ledger certificate)
corpus="$build/fuzz-corpus"
bash "$root/tests/fuzz/make-corpus.sh" "$corpus" > /dev/null
# Sanitizer settings as in scripts/test.sh; a finding stops the target.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1:strict_init_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  [[ -x "$bin" ]] || { echo "no $bin: configure with -DCHIPGAUGE_FUZZ=ON (clang)" >&2; exit 2; }
  artifacts="$build/fuzz-artifacts/$t"
  mkdir -p "$artifacts"
  log="$build/fuzz-$t.log"
  echo "fuzz_$t: ${seconds} s on $(find "$corpus/$t" -type f | wc -l) inputs"
  # -timeout: one input slower than this is a finding (a hang); -rss_limit_mb: so is the memory.
  if "$bin" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
       -dict="$corpus/$t.dict" -artifact_prefix="$artifacts/" "$corpus/$t" > "$log" 2>&1; then
    # libFuzzer's last status line (executions, cov: edges, ft: features, corpus) and totals
    grep -E '^#[0-9]+[[:space:]]' "$log" | tail -1 || true
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" | tr '\n' ' ' || true
    echo
  else
    echo "fuzz_$t FAILED: see $log; the input is in $artifacts/" >&2
    grep -E 'ERROR|fuzz check failed|SUMMARY|Test unit written' "$log" | head -5 >&2 || true
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz targets with findings: ${failed[*]}" >&2
  exit 1
fi
