#!/usr/bin/env bash
# A one-machine Slurm cluster for tests: munged, slurmctld and slurmd with private ports, sockets and
# state under DIR, no systemd. Usage:
#   slurm-fixture.sh start DIR     prints the SLURM_CONF path; waits until the node is idle
#   slurm-fixture.sh stop DIR      stops what start started, by the process ids it recorded
set -euo pipefail
cmd="${1:?usage: slurm-fixture.sh start|stop DIR}"
dir="$(realpath -m "${2:?usage: slurm-fixture.sh start|stop DIR}")"

stop() {
  for name in slurmd slurmctld munged; do
    local pidfile="$dir/$name.pid"
    [[ -s "$pidfile" ]] || continue
    local pid; pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

if [[ "$cmd" == stop ]]; then stop; exit 0; fi
[[ "$cmd" == start ]] || { echo "slurm-fixture.sh: unknown command '$cmd': expected start or stop" >&2; exit 2; }
for tool in munged slurmctld slurmd sinfo; do
  command -v "$tool" >/dev/null || { echo "slurm-fixture.sh: $tool not found: install slurm-wlm and munge" >&2; exit 2; }
done
mkdir -p "$dir"/{state,spool,log}
chmod 700 "$dir"
trap 'stop' ERR

# munge: its own key, socket and pid file
dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
chmod 600 "$dir/munge.key"
munged --key-file="$dir/munge.key" --socket="$dir/munge.socket" --pid-file="$dir/munged.pid" \
       --log-file="$dir/log/munged.log" --seed-file="$dir/munge.seed" --force

# two free ports above 20000, derived from the pid so parallel fixtures differ
# Two ports no process listens on: asked of the kernel (bind to port 0), so a busy port is never
# chosen (a slurmd that cannot bind never registers, and the node stays "unknown").
read -r ctl_port node_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
cpus="$(nproc)"
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
cat > "$dir/slurm.conf" <<CONF
ClusterName=chipgauge-test
SlurmctldHost=localhost
SlurmctldPort=$ctl_port
SlurmdPort=$node_port
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobRequeue=1
MpiDefault=none
NodeName=localhost CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF" -i
slurmd -f "$SLURM_CONF"
# Up to 90 s: on a loaded machine slurmd can take a while to register with slurmctld.
for _ in $(seq 450); do
  state="$(sinfo -h -o '%T' 2>/dev/null | head -1 || true)"
  [[ "$state" == idle ]] && { echo "$SLURM_CONF"; exit 0; }
  sleep 0.2
done
echo "slurm-fixture.sh: the node did not become idle in 90 s (state '${state:-none}'); logs in $dir/log" >&2
tail -n 20 "$dir/log/slurmd.log" >&2 2>/dev/null || true
stop
exit 1
