#!/usr/bin/env bash
# The test cluster the Slurm executor's tests run on (tests/slurm/cluster.sh): it comes up,
# runs a 4-task job array of 2-second tasks to completion, and stops without leaving a daemon.
# Skipped (exit 77) only where the Slurm packages are not installed (tools/test installs them).
source "$(dirname "$0")/slurm/setup.sh"
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

start=$(date +%s%N)
slurm_cluster_start "$work/cluster" || { echo "FAIL: the cluster did not start"; exit 1; }
echo "cluster up in $(( ($(date +%s%N) - start) / 1000000 )) ms"

cat >"$work/array.sh" <<SCRIPT
#!/bin/bash
#SBATCH --array=0-3
#SBATCH --cpus-per-task=1
#SBATCH --output=$work/task-%a.out
sleep 2
echo "task \$SLURM_ARRAY_TASK_ID"
SCRIPT
start=$(date +%s%N)
job=$(timeout 10 sbatch --parsable "$work/array.sh") || fail "sbatch refused the array"
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  [ -z "$(timeout 5 squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.1
done
echo "4-task array done in $(( ($(date +%s%N) - start) / 1000000 )) ms"
for t in 0 1 2 3; do
  grep -qx "task $t" "$work/task-$t.out" 2>/dev/null || fail "task $t did not run to its end"
done

pids="$SLURM_MUNGED_PID $SLURM_CTLD_PID $SLURM_SLURMD_PID"
start=$(date +%s%N)
slurm_cluster_stop
echo "cluster stopped in $(( ($(date +%s%N) - start) / 1000000 )) ms"
for pid in $pids; do
  kill -0 "$pid" 2>/dev/null && fail "daemon $pid still running after stop"
done
slurm_test_result
