#!/usr/bin/env bash
# Submits a fleet certification: the certify array and the collect job that runs after it
# (afterany: it runs however the tasks ended, and collect reports the missing ones).
#   submit-fleet.sh [--per-gpu] [--limit N] [--partition P] [--nodelist LIST] COUNT OUT_DIR [-- SBATCH_ARGS...]
# COUNT: tasks (nodes, or GPUs with --per-gpu). --limit: at most N tasks at once (sbatch --array=...%N).
# Keep COUNT at a few hundred per array (docs/fleet.md: large arrays are split by node list).
# Prints the two job ids: ARRAY_JOB COLLECT_JOB.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
per_gpu=0; limit=""; part=(); extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --per-gpu) per_gpu=1; shift ;;
    --limit) limit="%$2"; shift 2 ;;
    --partition) part=(--partition "$2"); shift 2 ;;
    --nodelist) extra+=(--nodelist "$2"); shift 2 ;;
    --) shift; extra+=("$@"); break ;;
    -*) echo "submit-fleet.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
count="${1:?usage: submit-fleet.sh [--per-gpu] [--limit N] COUNT OUT_DIR [-- SBATCH_ARGS...]}"
out="${2:?usage: submit-fleet.sh [--per-gpu] [--limit N] COUNT OUT_DIR [-- SBATCH_ARGS...]}"
shift 2 || true
[[ "${1:-}" == -- ]] && { shift; extra+=("$@"); }
[[ "$count" =~ ^[1-9][0-9]*$ ]] || { echo "submit-fleet.sh: COUNT '$count' is not a positive integer" >&2; exit 2; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
shape=(--exclusive)
[[ "$per_gpu" == 1 ]] && shape=(--gres=gpu:1)
array=$(CHIPGAUGE_OUT="$out" CHIPGAUGE_PER_GPU="$per_gpu" sbatch --parsable --export=ALL "${part[@]}" "${shape[@]}" \
  --array="0-$((count - 1))$limit" --chdir="$out" "${extra[@]}" "$here/certify-array.sbatch")
array="${array%%;*}"
collect=$(CHIPGAUGE_OUT="$out" sbatch --parsable --export=ALL "${part[@]}" --dependency="afterany:$array" --chdir="$out" \
  "$here/collect.sbatch")
echo "${array} ${collect%%;*}"
