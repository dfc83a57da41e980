#!/usr/bin/env bash
# `launch --executor slurm` on a single-node test cluster (tests/slurm/cluster.sh): a 6-job
# sweep through a job array ends in a merged database metric-identical to a local launch of
# the same sweep with the same threads; a second launch submits nothing; merging twice
# changes nothing; a shard that conflicts with stored results is refused with nothing lost;
# bad input (unknown partition, no sbatch, unwritable shard directory, sbatch rejection)
# exits 2 with nothing submitted or stored.
# usage: slurm_executor_test.sh path/to/stodepth. Skipped (77) only without Slurm's packages.
bin=$(realpath "$1")
source "$(dirname "$0")/slurm/setup.sh" scontrol sqlite3
ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Every stored metric of a database (step times aside), with doubles printed exactly.
metrics() {
  sqlite3 -batch -noheader "$1" "
    SELECT run, iteration, epoch, printf('%!.17g|%!.17g|%!.17g|%!.17g|%!.17g', lr, loss,
           train_accuracy, test_accuracy, test_loss), active_blocks
      FROM iterations ORDER BY run, iteration;
    SELECT run, epoch, iteration, printf('%!.17g|%!.17g', accuracy, loss) FROM test_evals
      ORDER BY run, iteration;
    SELECT key, status, threads, printf('%!.17g|%!.17g|%!.17g', final_test_accuracy,
           final_test_loss, mean_active_blocks) FROM runs ORDER BY key;"
}
# Everything a database holds (for "unchanged" checks).
dump() { sqlite3 -batch "$1" .dump; }
wait_queue_empty() {  # wait_queue_empty SECONDS
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    [ -z "$(timeout 5 squeue -h 2>/dev/null)" ] && return 0
    sleep 0.2
  done
  echo "FAIL: the queue did not empty in $1 s"; squeue; return 1
}

cat >sweep.yaml <<'YAML'
name: six
base:
  dataset: {name: synthetic, train_subset: 2000, test_subset: 500}
  model: {depth: 8}
  stochastic_depth: {rule: linear}
  train: {epochs: 2, batch: 64, lr: {schedule: cosine, base: 0.05}}
  eval: {every: 5, batch: 100}
grid:
  stochastic_depth.p_L: [1.0, 0.5]
seeds: [1, 2, 3]
YAML

# 1. The reference: a local launch, 2 jobs at a time, 1 thread each.
t0=$(ms)
check "local launch" "$bin" launch sweep.yaml --db local.db --jobs 2 --threads-per-job 1 --quiet >/dev/null
local_ms=$(( $(ms) - t0 ))

# 2. Bad input, before the cluster exists for sbatch to reach or not: nothing stored.
nothing_stored() { [ ! -e "$1" ] && [ ! -e "$1.shards" ]; }
PATH=/nonexistent "$bin" launch sweep.yaml --db nosbatch.db --executor slurm 2>err.txt
check "no sbatch: exit 2" test $? = 2
check "no sbatch: one line naming sbatch ($(head -1 err.txt))" grep -q "sbatch" err.txt
check "no sbatch: nothing stored" nothing_stored nosbatch.db

t0=$(ms)
slurm_cluster_start "$work/cluster" || { echo "FAIL: the cluster did not start"; exit 1; }
start_ms=$(( $(ms) - t0 ))

"$bin" launch sweep.yaml --db badpart.db --executor slurm --partition nosuch 2>err.txt
check "unknown partition: exit 2" test $? = 2
check "unknown partition: named ($(head -1 err.txt))" grep -q "partition nosuch" err.txt
check "unknown partition: one line" test "$(wc -l <err.txt)" = 1
check "unknown partition: nothing stored" nothing_stored badpart.db
"$bin" launch sweep.yaml --db badtime.db --executor slurm --time bogus 2>err.txt
check "sbatch rejection: exit 2" test $? = 2
check "sbatch rejection: sbatch's reason ($(head -1 err.txt))" grep -q "rejects.*time" err.txt
check "sbatch rejection: nothing stored" test ! -e badtime.db
touch blocked.db.shards
"$bin" launch sweep.yaml --db blocked.db --executor slurm 2>err.txt
check "unwritable shard directory: exit 2" test $? = 2
check "unwritable shard directory: named ($(head -1 err.txt))" grep -q "blocked.db.shards" err.txt
check "unwritable shard directory: no database" test ! -e blocked.db
check "nothing was submitted by the bad launches" test -z "$(squeue -h)"

# 3. The dry run prints the batch script and submits nothing.
"$bin" launch sweep.yaml --db slurm.db --executor slurm --dry-run >dry.txt 2>&1
check "dry run: a job array of 6 tasks" grep -q "^#SBATCH --array=0-5$" dry.txt
check "dry run: the warning signal" grep -q "^#SBATCH --signal=B:USR1@" dry.txt
check "dry run: nothing stored or submitted" test ! -e slurm.db -a -z "$(squeue -h)"

# 4. The same sweep through Slurm, then merged: metric-identical to the local launch.
t0=$(ms)
"$bin" launch sweep.yaml --db slurm.db --executor slurm >launch.txt 2>&1
check "slurm launch submits 6 ($(tail -1 launch.txt))" grep -q "submitted 6 jobs" launch.txt
"$bin" launch sweep.yaml --db slurm.db --executor slurm >again.txt 2>&1
check "a launch while they run submits nothing ($(tail -1 again.txt))" grep -q "submitted 0 jobs" again.txt
wait_queue_empty 300
cp slurm.db.shards/"$(ls slurm.db.shards | grep -m1 '\.db$')" conflict.db  # a finished shard
"$bin" status six --db slurm.db >status.txt 2>&1
check "status merges and shows 6 done ($(tail -1 status.txt))" grep -q "6 jobs: 6 done" status.txt
slurm_ms=$(( $(ms) - t0 ))
check "no shard left after the merge" test -z "$(ls slurm.db.shards | grep '\.db$')"
check "merged = local, metric for metric" diff <(metrics local.db) <(metrics slurm.db)
check "6 runs compared" test "$(metrics slurm.db | tail -6 | grep -c '|done|1|')" = 6

"$bin" launch sweep.yaml --db slurm.db --executor slurm >again.txt 2>&1
check "a second launch submits nothing" grep -q "submitted 0 jobs" again.txt
check "  and queues nothing" test -z "$(squeue -h)"

# 5. Merging twice changes nothing; a conflicting shard is refused, nothing lost.
dump slurm.db >before.sql
"$bin" merge --db slurm.db >merge.txt 2>&1
check "merge again: exit 0" test $? = 0
check "merge again: nothing merged" grep -q "^0 shards merged" merge.txt
cp conflict.db "slurm.db.shards/$(sqlite3 conflict.db 'SELECT key FROM runs').db"
"$bin" merge --db slurm.db >merge.txt 2>&1
check "the same shard again: already merged, retired" grep -q "merged before" merge.txt
check "merging twice changed nothing" diff before.sql <(dump slurm.db)
sqlite3 conflict.db "UPDATE iterations SET loss = loss + 1 WHERE iteration = 3"
shard="slurm.db.shards/$(sqlite3 conflict.db 'SELECT key FROM runs').db"
cp conflict.db "$shard"
"$bin" merge --db slurm.db >merge.txt 2>err.txt
check "conflicting shard: non-zero exit" test $? != 0
check "conflicting shard: refused with a reason ($(head -1 err.txt))" grep -q "refused" err.txt
check "conflicting shard: database unchanged" diff before.sql <(dump slurm.db)
check "conflicting shard: kept" test -f "$shard"

echo "6-job sweep: local launch ${local_ms} ms, Slurm launch to merged ${slurm_ms} ms; cluster start ${start_ms} ms"
slurm_test_result
