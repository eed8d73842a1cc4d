#!/usr/bin/env bash
# A private one-node SLURM cluster on loopback, for trying the SLURM recipes and for the tests.
#   bash tasks/slurm_local.sh start DIR    # writes DIR/slurm.conf, starts munged, slurmctld, slurmd
#   bash tasks/slurm_local.sh stop DIR
# Needs Debian's slurmctld slurmd slurm-client munge (run as root, as on CI). After `start`,
# use the cluster with SLURM_CONF=DIR/slurm.conf. Partition: "debug" (default).
set -euo pipefail
cmd=${1:?start|stop}
dir=$(realpath -m "${2:?state directory}")
stop() {
  for p in slurmd slurmctld munged; do
    f="$dir/$p.pid"
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
}
if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "slurm_local.sh: unknown command $cmd" >&2; exit 2; }
for b in slurmctld slurmd munged mungekey sinfo; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || { echo "slurm_local.sh: $b not installed (apt-get install slurmctld slurmd slurm-client munge)" >&2; exit 3; }
done
export PATH="$PATH:/usr/sbin"
mkdir -p "$dir"/{state,spool,log}
chmod 700 "$dir"
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
SlurmctldPort=6817
SlurmdPort=6818
ReturnToService=2
MpiDefault=none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost
for _ in $(seq 1 120); do
  st=$(timeout 5 sinfo -h -N -o %t 2>/dev/null | head -n1 || true)
  if [ "$st" = idle ]; then echo "slurm_local: up ($SLURM_CONF)"; exit 0; fi
  sleep 0.5
done
echo "slurm_local.sh: the node did not become idle within 60 s (see $dir/log)" >&2
stop
exit 4
