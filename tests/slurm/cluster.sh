#!/usr/bin/env bash
# A single-node Slurm cluster for the tests, started and stopped by the test itself: munged,
# slurmctld and slurmd in the foreground on loopback, every file in one temporary directory
# (nothing under /etc), clients pointed at it through SLURM_CONF. Debian 12's Slurm 22.05.
#   source tests/slurm/cluster.sh; slurm_cluster_start DIR; ...; slurm_cluster_stop
# slurm_cluster_start exports SLURM_CONF and returns non-zero (with the daemons' logs on
# stderr) if the node does not come up within 30 s.

# A loopback TCP port nothing listens on (bash's /dev/tcp connects only to a listener).
slurm_free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

slurm_cluster_start() {
  SLURM_TEST_DIR="$1"
  local d="$SLURM_TEST_DIR"
  mkdir -p "$d/munge" "$d/spool/ctld" "$d/spool/d" "$d/log"
  chmod 711 "$d/munge"  # clients reach the socket; only munged reads the key
  dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$d/munge/munge.key"
  munged -F -f --socket="$d/munge/munge.socket" --key-file="$d/munge/munge.key" \
    --pid-file="$d/munge/munged.pid" --log-file="$d/log/munged.log" \
    --seed-file="$d/munge/munged.seed" >"$d/log/munged.out" 2>&1 &
  SLURM_MUNGED_PID=$!
  local ctld_port node_port
  ctld_port=$(slurm_free_port)
  node_port=$(slurm_free_port)
  local user
  user=$(id -un)
  cat >"$d/slurm.conf" <<CONF
ClusterName=stodepth-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$node_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket,cred_expire=10
StateSaveLocation=$d/spool/ctld
SlurmdSpoolDir=$d/spool/d
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MailProg=/bin/true
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
KillWait=5
MinJobAge=60
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$d/slurm.conf"
  slurmctld -D -i -f "$SLURM_CONF" >"$d/log/slurmctld.out" 2>&1 &
  SLURM_CTLD_PID=$!
  slurmd -D -N localhost -f "$SLURM_CONF" >"$d/log/slurmd.out" 2>&1 &
  SLURM_SLURMD_PID=$!
  # Bounded by the clock, and each client call by `timeout`: a client that cannot reach the
  # controller retries for many seconds.
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if timeout 5 sinfo -h -N -o '%T' 2>/dev/null | grep -qx idle; then return 0; fi
    sleep 0.1
  done
  echo "slurm_cluster_start: the node did not come up; logs:" >&2
  tail -n 20 "$d"/log/* >&2
  return 1
}

# Cancels every job, waits (at most 30 s) for the queue to empty, then stops the daemons.
# Safe to call when start failed half-way; does nothing when the cluster is not running
# (never started, or stopped already).
slurm_cluster_stop() {
  [ -n "${SLURM_MUNGED_PID:-}" ] || return 0
  timeout 5 scancel --user="$(id -un)" 2>/dev/null
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    [ -z "$(timeout 5 squeue -h 2>/dev/null)" ] && break
    sleep 0.1
  done
  kill "$SLURM_SLURMD_PID" "$SLURM_CTLD_PID" 2>/dev/null
  wait "$SLURM_SLURMD_PID" "$SLURM_CTLD_PID" 2>/dev/null
  kill "$SLURM_MUNGED_PID" 2>/dev/null
  wait "$SLURM_MUNGED_PID" 2>/dev/null
  SLURM_MUNGED_PID=
  return 0
}
