#!/usr/bin/env bash
# Runs a sharded export through a real Slurm: starts munged, slurmctld and slurmd on this machine
# (one node, localhost, private ports, sockets and state in a temporary directory), writes the
# job scripts with `trainset slurm`, submits a 4-shard export of samples/idr0026-immunotherapy and
# its merge through sbatch (the merge depends on the array with afterok), waits (capped), checks
# that the merged bundle validates (trainset and h5py) and has the single-process content hash,
# and stops the daemons it started.
#
# Skips, saying so, only when not root (the daemons need it) or when the Debian packages cannot
# be installed; any other failure exits 1.
#
# Usage: scripts/check_slurm.sh [path/to/trainset]   (default .build/debug/trainset)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=$(realpath "${1:-.build/debug/trainset}")
recipe=$repo/samples/idr0026-immunotherapy/recipe.yaml
shards=4
cap=${SLURM_CHECK_TIMEOUT:-600}

skip() { echo "check_slurm: SKIPPED: $*"; exit 0; }
fail() { echo "check_slurm: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "not root: starting slurmctld, slurmd and munged needs root (CI runs as root)"
packages=(slurmctld slurmd slurm-client munge)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "check_slurm: installing ${missing[*]}" >&2
  if ! { apt-get update -qq && env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    skip "cannot install ${missing[*]} with apt-get"
  fi
fi
[ -x "$bin" ] || fail "$bin is not an executable; build first (swift build)"

work=$(mktemp -d /tmp/trainset-slurm.XXXXXX)
chmod 755 "$work"  # munged runs as user munge and must reach its socket and key
stop() {
  status=$?
  # Only the daemons this script started, by the pids they wrote.
  for pidfile in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munge/munged.pid"; do
    [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  for pidfile in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munge/munged.pid"; do
    for _ in $(seq 50); do
      [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null || break
      sleep 0.1
    done
  done
  if [ "$status" -ne 0 ]; then
    for log in "$work"/slurmctld.log "$work"/slurmd.log "$work"/job/logs/*.log; do
      [ -f "$log" ] && { echo "--- $log"; tail -20 "$log"; } >&2
    done
  fi
  rm -rf "$work"
}
trap stop EXIT

# munge, with its own key, socket and files.
mkdir -p "$work/munge"
mungekey -c -f -k "$work/munge/munge.key"
chown -R munge: "$work/munge"
chmod 755 "$work/munge"  # munged requires the socket directory be reachable by all
chmod 400 "$work/munge/munge.key"
socket=$work/munge/munge.socket
runuser -u munge -- /usr/sbin/munged --socket="$socket" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed"
munge -n -S "$socket" | unmunge -S "$socket" >/dev/null || fail "munge does not authenticate"

# A one-node cluster on free ports.
read -r ctld_port slurmd_port < <(python3 - <<'EOF'
import socket
ports = []
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
    ports.append(s.getsockname()[1])
print(*ports)
EOF
)
node=$(hostname -s)
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF=$work/slurm.conf
cat > "$SLURM_CONF" <<EOF
ClusterName=trainsetci
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$memory State=UNKNOWN
PartitionName=ci Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do
  state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
  [ "$state" = "idle" ] && break
  sleep 0.5
done
[ "$state" = "idle" ] || fail "the node did not come up (state '$state')"
echo "check_slurm: slurm $(sinfo -V | awk '{print $2}') up on $node (ports $ctld_port, $slurmd_port)"

# The job scripts, submitted through the generated driver.
bundle=$work/out/idr0026.h5
"$bin" slurm "$recipe" --shards "$shards" -o "$work/job" --bundle "$bundle" --time 0:20:00 --mem 1G \
  --cpus 1 >/dev/null
read -r array merge < <("$work/job/submit.sh")
echo "check_slurm: submitted job array $array ($shards shards) and merge job $merge"
waited=0
while [ -n "$(squeue -h -j "$array,$merge" 2>/dev/null)" ]; do
  [ "$waited" -lt "$cap" ] || { scancel "$array" "$merge" || true; fail "jobs still queued or running after ${cap}s"; }
  sleep 1
  waited=$((waited + 1))
done
for task in $(seq 0 $((shards - 1))); do
  state=$(scontrol -o show job "${array}_$task" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
  [ "$state" = "COMPLETED" ] || fail "shard task ${array}_$task ended $state"
done
state=$(scontrol -o show job "$merge" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
[ "$state" = "COMPLETED" ] || fail "merge job $merge ended $state"
echo "check_slurm: all $shards shard tasks and the merge completed in about ${waited}s"

# The merged bundle against an export of the same recipe in one process.
"$bin" validate "$bundle" >/dev/null || fail "the merged bundle does not validate"
python3 scripts/check_bundle.py "$bundle" >/dev/null || fail "h5py's check of the merged bundle failed"
merged=$("$bin" validate "$bundle" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["content_hash"])')
"$bin" export "$recipe" --output "$work/single.h5" --quiet >/dev/null
single=$("$bin" validate "$work/single.h5" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["content_hash"])')
[ "$merged" = "$single" ] || fail "merged content hash $merged differs from the single-process $single"
echo "check_slurm: OK: merged bundle valid, content hash $merged equals the single-process export's"
