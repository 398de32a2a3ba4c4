#!/usr/bin/env bash
# Side-by-side comparison with likwid-bench (Debian package `likwid`) on this machine, in one run:
# FP64 and FP32 FMA peaks and the STREAM triad with non-temporal stores, alternating the two tools
# over several rounds and comparing medians. Target: chipgauge within 5 % of likwid.
#   bench/compare-likwid.sh [path/to/chipgauge] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build/apps/chipgauge}"
rounds="${2:-3}"
command -v likwid-bench >/dev/null || { echo "likwid-bench not found: apt-get install likwid" >&2; exit 2; }
[[ -x "$bin" ]] || { echo "chipgauge binary not found at $bin (build it first)" >&2; exit 2; }
threads=$(nproc)
# STREAM working set: the same as chipgauge's (3 arrays of max(4 x L3, 64 MiB), L3 from sysfs).
l3=$(cat /sys/devices/system/cpu/cpu0/cache/index3/size 2>/dev/null || echo 8192K)
l3_kib=${l3%K}
array_kib=$(( l3_kib * 4 > 65536 ? l3_kib * 4 : 65536 ))
stream_kib=$(( array_kib * 3 ))
isa=avx512
grep -q avx512f /proc/cpuinfo || isa=avx

likwid() {  # test, working set -> rate in 1e9 units (GFLOP/s or GB/s)
  local out
  out=$(likwid-bench -t "$1" -W "N:$2:$threads" 2>/dev/null)
  case "$1" in
    peakflops*) awk '/^MFlops\/s:/ {printf "%.3f\n", $2 / 1000}' <<<"$out" ;;
    *) awk '/^MByte\/s:/ {printf "%.3f\n", $2 / 1000}' <<<"$out" ;;
  esac
}

chipgauge() {  # -> "benchmark rate" lines, rate in 1e9 units
  "$bin" --specs-dir specs measure --filter '^(fma_fp64|fma_fp32|stream_triad)$' --format csv |
    awk -F, 'NR > 1 && $10 == "ok" {printf "%s %.3f\n", $2, $5 / 1e9}'
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

declare -A lk cg
for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds" >&2
  lk[fma_fp64]+="$(likwid peakflops_${isa}_fma 32kB) "
  lk[fma_fp32]+="$(likwid peakflops_sp_${isa}_fma 32kB) "
  lk[stream_triad]+="$(likwid stream_mem_${isa} ${stream_kib}kB) "
  while read -r name rate; do cg[$name]+="$rate "; done < <(chipgauge)
done

printf '%-14s %14s %14s %8s\n' benchmark "likwid-bench" chipgauge ratio
status=0
for b in fma_fp64 fma_fp32 stream_triad; do
  l=$(tr ' ' '\n' <<<"${lk[$b]}" | grep . | median)
  c=$(tr ' ' '\n' <<<"${cg[$b]:-}" | grep . | median || true)
  unit=$([[ $b == stream_triad ]] && echo GB/s || echo GFLOP/s)
  ratio=$(awk -v c="$c" -v l="$l" 'BEGIN {printf "%.3f", (l > 0 && c != "") ? c / l : 0}')
  printf '%-14s %9s %-7s %6s %-7s %6s\n' "$b" "$l" "$unit" "$c" "$unit" "$ratio"
  awk -v x="$ratio" 'BEGIN {exit !(x >= 0.95)}' || status=1
done
echo "(${rounds} alternating rounds, medians; ${threads} threads; likwid working sets 32kB and ${stream_kib}kB)"
exit $status
