#!/usr/bin/env bash
# A private one-node SLURM cluster on loopback, for trying the SLURM recipes and for the tests.
#   bash tasks/slurm_local.sh start DIR    # writes DIR/slurm.conf, starts munged, slurmctld, slurmd
#   bash tasks/slurm_local.sh stop DIR     # stops them (SIGTERM, SIGKILL after 10 s)
# Needs Debian's slurmctld slurmd slurm-client munge, and root (as on CI). After `start`, use the
# cluster with SLURM_CONF=DIR/slurm.conf. Partition: "debug" (default). Its own munge socket and
# two free ports (SLURM_LOCAL_PORT=P picks P and P+1), so it clashes with no other SLURM or munge.
# Exit status of start: 0 up, 3 not installed or not root, 4 did not come up.
set -euo pipefail
cmd=${1:?usage: slurm_local.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: slurm_local.sh start|stop DIR}")
export PATH="$PATH:/usr/sbin:/sbin"

stop() {
  for p in slurmd slurmctld munged; do
    f="$dir/$p.pid"
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

# true when nothing listens on 127.0.0.1:$1
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "slurm_local.sh: unknown command $cmd (start|stop)" >&2; exit 2; }
for b in slurmctld slurmd munged mungekey sinfo sbatch; do
  command -v "$b" >/dev/null || {
    echo "slurm_local.sh: $b is not installed (apt-get install slurmctld slurmd slurm-client munge)" >&2
    exit 3
  }
done
[ "$(id -u)" -eq 0 ] || { echo "slurm_local.sh: needs root (slurmd runs the jobs as root here)" >&2; exit 3; }

port=${SLURM_LOCAL_PORT:-}
if [ -z "$port" ]; then
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if port_free "$p" && port_free $((p + 1)); then port=$p; break; fi
  done
fi
[ -n "$port" ] || { echo "slurm_local.sh: found no two free ports" >&2; exit 4; }

mkdir -p "$dir"/{state,spool,log}
chmod 700 "$dir"
stop # a previous cluster in the same folder
mungekey --create --keyfile="$dir/munge.key" --force >/dev/null 2>&1 || mungekey -c -k "$dir/munge.key" -f
chmod 600 "$dir/munge.key"
munged --socket="$dir/munge.sock" --key-file="$dir/munge.key" --pid-file="$dir/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munge.seed" --force
mem=$(awk '/MemAvailable/ {printf "%d", $2/1024*0.8}' /proc/meminfo)
cpus=$(nproc)
cat > "$dir/slurm.conf" <<CONF
ClusterName=lumen
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.sock
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SchedulerParameters=batch_sched_delay=0,sched_interval=2,bf_interval=1
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=$port
SlurmdPort=$((port + 1))
ReturnToService=2
MpiDefault=none
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
if ! slurmctld -f "$SLURM_CONF" || ! slurmd -f "$SLURM_CONF" -N localhost; then
  echo "slurm_local.sh: a daemon did not start (see $dir/log)" >&2
  stop
  exit 4
fi
for _ in $(seq 1 120); do
  st=$(timeout 5 sinfo -h -N -o %t 2>/dev/null | head -n1 || true)
  if [ "$st" = idle ]; then echo "slurm_local: up ($SLURM_CONF)"; exit 0; fi
  sleep 0.5
done
echo "slurm_local.sh: the node did not become idle within 60 s (see $dir/log)" >&2
stop
exit 4
