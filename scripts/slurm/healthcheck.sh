#!/usr/bin/env bash
# A Slurm HealthCheckProgram, prolog or epilog: a quick certification of this node; when it does
# not pass, the node is drained with chipgauge's one-line reason, which Slurm records
# (sinfo -R shows it). slurm.conf:
#   HealthCheckProgram=/opt/chipgauge/scripts/slurm/healthcheck.sh
#   HealthCheckInterval=3600        # seconds; the check takes the minutes --quick takes
#   Epilog=/opt/chipgauge/scripts/slurm/healthcheck.sh   # or Prolog=, or both
# Environment: CHIPGAUGE (binary), CHIPGAUGE_OUT (certificate directory, default
# /var/lib/chipgauge/health), CHIPGAUGE_ARGS (extra certify arguments),
# CHIPGAUGE_DRAIN_ON_INCONCLUSIVE=1 (drain on inconclusive too; default only on fail).
# Exit: 0 when the node passes or could not be judged (inconclusive, not drained), else certify's code.
set -uo pipefail
bin="${CHIPGAUGE:-chipgauge}"
out="${CHIPGAUGE_OUT:-/var/lib/chipgauge/health}"
node="${SLURMD_NODENAME:-$(hostname -s)}"
# shellcheck disable=SC2206
extra=(${CHIPGAUGE_ARGS:-})
line="$("$bin" certify --quick --exit-on-fail --out "$out" "${extra[@]}" 2>/dev/null)"
status=$?
[[ -n "$line" ]] || line="chipgauge certify: exit $status without a verdict"
drain=0
case "$status" in
  0) exit 0 ;;
  4) drain=1 ;;
  3) [[ "${CHIPGAUGE_DRAIN_ON_INCONCLUSIVE:-0}" == 1 ]] && drain=1 ;;
  *) drain=1 ;;
esac
if [[ "$drain" == 1 ]]; then
  # Slurm keeps the reason as one string; keep it short enough for sinfo -R.
  scontrol update nodename="$node" state=drain reason="${line:0:200}"
  echo "$line" >&2
  exit "$status"
fi
echo "$line" >&2
exit 0
