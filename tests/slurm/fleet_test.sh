#!/usr/bin/env bash
# The fleet recipe end to end on a one-machine Slurm cluster (slurm-fixture.sh): scripts/slurm's
# certify array over TASKS tasks, each certifying a stored CPU measurement as its own node (so the
# test takes seconds, not the minutes a measurement takes), the dependent collect job, then:
# every task certified, the collector's totals, the injected degraded device (task 2 at half
# speed) flagged as the only outlier, a requeued task counted once, a tampered certificate unverified.
#   fleet_test.sh CHIPGAUGE SOURCE_DIR
# Exit 77 (CTest skip) when slurm-wlm or munge is not installed.
set -euo pipefail
bin="$(realpath "${1:?usage: fleet_test.sh CHIPGAUGE SOURCE_DIR}")"
src="$(realpath "${2:?usage: fleet_test.sh CHIPGAUGE SOURCE_DIR}")"
for tool in munged slurmctld slurmd sbatch squeue scontrol python3 jq; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool not found: the fleet test needs slurm-wlm, munge, python3 and jq (scripts/install-deps.sh --test)"
    exit 77
  fi
done
export CHIPGAUGE_SPECS_DIR="$src/specs"
work="$(mktemp -d /tmp/chipgauge-fleet-test.XXXXXX)"
fixture="$src/tests/slurm/slurm-fixture.sh"
cleanup() {
  "$fixture" stop "$work/slurm" || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$work"/out/*.out "$work"/slurm/log/slurmctld.log; do [[ -f "$f" ]] && tail -20 "$f" >&2; done; exit 1; }

tasks=4
mkdir -p "$work/reports" "$work/out"
for k in $(seq 0 $((tasks - 1))); do
  factor="1.00$k"                    # a little spread, as real nodes have
  [[ "$k" == 2 ]] && factor=0.5      # the degraded device
  python3 "$src/tests/slurm/degrade_report.py" "$src/tests/data/measurement-sample.json" "$work/reports/report-$k.json" "node-$k" "$factor"
done

SLURM_CONF="$("$fixture" start "$work/slurm")" || fail "the Slurm fixture did not start"
export SLURM_CONF
export CHIPGAUGE="$bin" CHIPGAUGE_REPORT_DIR="$work/reports"

wait_job() {  # wait_job ID: until the job (all its array tasks) leaves the queue, at most 120 s
  for _ in $(seq 600); do
    [[ -z "$(squeue -h -j "$1" 2>/dev/null)" ]] && return 0
    sleep 0.2
  done
  fail "job $1 still queued after 120 s: $(squeue -h -j "$1")"
}

read -r array collect < <("$src/scripts/slurm/submit-fleet.sh" "$tasks" "$work/out") || fail "sbatch refused the fleet"
[[ -n "$collect" ]] || fail "submit-fleet.sh printed no collect job"
wait_job "$array"
wait_job "$collect"

json="$work/out/fleet.json"
[[ -s "$json" ]] || fail "the collect job wrote no fleet.json"
check() {  # check JQ_EXPR EXPECTED WHAT
  local got; got="$(jq -r "$1" "$json")"
  [[ "$got" == "$2" ]] || fail "$3: expected $2, got $got ($1)"
  echo "ok: $3 = $got"
}
check '.nodes | length' "$tasks" "nodes certified"
check '.devices_counted' "$tasks" "devices counted"
check '.certificates_read' "$tasks" "certificates read"
check '[.nodes[].node] | sort | join(",")' "node-0,node-1,node-2,node-3" "node names"
check '.passed + .failed + .inconclusive' "$tasks" "verdict totals"
check '.unverified | length' 0 "unverified certificates"
check '[.outliers[].node] | unique | join(",")' "node-2" "outlier nodes"
check '(.outliers | map(select(.z < -3.5)) | length) == (.outliers | length)' true "outliers below the threshold"
check '.sku_mix | to_entries | map(.value) | add' "$tasks" "SKU mix total"
check '.totals.items | map(.quantity) | add' "$tasks" "devices in the quota totals"

collect_to() {  # fleet collect as JSON into FILE; 0, 3 and 4 are answers
  local s=0
  "$bin" fleet collect "$work/out" --format json > "$1" || s=$?
  [[ "$s" == 0 || "$s" == 3 || "$s" == 4 ]] || fail "fleet collect exited $s"
}

# A requeued task: Slurm runs task 1 again (SLURM_RESTART_COUNT 1); its second certificate
# supersedes the first and the device is counted once.
scontrol requeue "${array}_1" || fail "scontrol requeue ${array}_1 refused"
# Slurm delays a requeued job's begin time; this test has no reason to wait for it.
scontrol update JobId="${array}_1" StartTime=now >/dev/null 2>&1 || true
scontrol release "${array}_1" >/dev/null 2>&1 || true
# The requeued task may leave and re-enter the queue between polls: wait for its certificate too.
for _ in $(seq 300); do
  [[ -n "$(find "$work/out" -path '*/task-1-attempt-1/certificate-*.json' 2>/dev/null)" ]] && break
  sleep 0.2
done
wait_job "$array"
# (the directories are named by the Slurm node, localhost here; the certificates by the reports' hosts)
[[ -n "$(find "$work/out" -path '*/task-1-attempt-1/certificate-*.json')" ]] || fail "the requeued task wrote no second attempt: $(ls -R "$work/out")"
collect_to "$work/fleet2.json"
json="$work/fleet2.json"
check '.certificates_read' "$((tasks + 1))" "certificates read after the requeue"
check '.superseded' 1 "superseded certificates"
check '.devices_counted' "$tasks" "devices counted after the requeue"
check '[.devices[] | select(.node == "node-1")][0].certificates' 2 "node-1's certificates"

# A tampered certificate: listed unverified, never counted.
cert="$(find "$work/out" -path '*/task-3-attempt-0/certificate-*.json' | head -1)"
[[ -n "$cert" ]] || fail "task 3 wrote no certificate"
jq '.body.verdict.outcome = "pass"' "$cert" > "$cert.tmp" && mv "$cert.tmp" "$cert"
jq '.body.tpp.measured = 1e9' "$cert" > "$cert.tmp" && mv "$cert.tmp" "$cert"
collect_to "$work/fleet3.json"
json="$work/fleet3.json"
check '.unverified | length' 1 "unverified after tampering"
check '.devices_counted' "$((tasks - 1))" "devices counted after tampering"
echo "fleet test passed"
