#!/usr/bin/env bash
# Slurm tasks stopped mid-run resume bit-identically (tests/slurm/cluster.sh cluster):
#  - job A is cancelled (scancel: SIGTERM) mid-run, resubmitted by `launch`, then killed with
#    SIGKILL (a node failure), resubmitted again, and finishes;
#  - job B runs with a 1-minute limit and a warning signal: at Slurm's first warning it
#    checkpoints and requeues itself, at the second it does not (--max-timeout-requeues 1) and
#    exits, and `launch` resubmits it.
# Both end with metrics bit-identical to an uninterrupted local launch (same threads), and
# their stops recorded. usage: slurm_resume_test.sh path/to/stodepth (77: no Slurm packages).
bin=$(realpath "$1")
source "$(dirname "$0")/slurm/setup.sh" scontrol sqlite3
metrics() {  # metrics DB KEY: every stored metric of run KEY but step times, doubles exact
  sqlite3 -batch -noheader "$1" "
    SELECT iteration, epoch, printf('%!.17g|%!.17g|%!.17g|%!.17g|%!.17g', lr, loss,
           train_accuracy, test_accuracy, test_loss), active_blocks
      FROM iterations WHERE run = '$2' ORDER BY iteration;
    SELECT epoch, iteration, printf('%!.17g|%!.17g', accuracy, loss) FROM test_evals
      WHERE run = '$2' ORDER BY iteration;
    SELECT status, printf('%!.17g|%!.17g', final_test_accuracy, final_test_loss) FROM runs
      WHERE key = '$2';"
}
shard_iteration() {  # the last iteration job KEY's shard has committed
  sqlite3 -batch -noheader -cmd ".timeout 5000" "slurm.db.shards/$1.db" \
    "SELECT coalesce(max(iteration), 0) FROM iterations" 2>/dev/null || echo 0
}
wait_for_iteration() {  # wait_for_iteration KEY N: until the shard has N iterations
  local deadline=$((SECONDS + 180))
  while ((SECONDS < deadline)); do
    (($(shard_iteration "$1") >= $2)) && return 0
    sleep 0.2
  done
  echo "FAIL: $1 did not reach iteration $2"; return 1
}
task_of() { squeue -h -o %i -n stodepth-long 2>/dev/null | grep -m1 "^$1_"; }
wait_gone() {  # wait_gone JOBID: until Slurm runs nothing of that job
  local deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    [ -z "$(squeue -h -j "$1" -t PENDING,RUNNING,COMPLETING,CONFIGURING,REQUEUED 2>/dev/null)" ] && return 0
    sleep 0.2
  done
  echo "FAIL: job $1 still in the queue"; return 1
}
job_id() { sed -n 's/.*as Slurm job array \([0-9]*\).*/\1/p' "$1"; }

cat >long.yaml <<'YAML'
name: long
base:
  dataset: {name: synthetic, train_subset: 2000, test_subset: 500}
  model: {depth: 8}
  stochastic_depth: {rule: linear, p_L: 0.5}
  train: {epochs: 12, batch: 64, lr: {schedule: cosine, base: 0.05}}
  eval: {every: 5, batch: 100}
include:
  - {train.epochs: 8}
YAML
"$bin" launch long.yaml --db local.db --jobs 2 --threads-per-job 1 --quiet >/dev/null ||
  { echo "FAIL: the local reference launch"; exit 1; }
# A: 8 epochs (248 iterations), B: 12 (372).
a=$(sqlite3 local.db "SELECT key FROM runs WHERE epochs = 8")
b=$(sqlite3 local.db "SELECT key FROM runs WHERE epochs = 12")
total=$(sqlite3 local.db "SELECT count(*) FROM iterations WHERE run = '$a'")
slurm_cluster_start "$work/cluster" || { echo "FAIL: the cluster did not start"; exit 1; }

launch() { "$bin" launch long.yaml --db slurm.db --executor slurm --checkpoint-every 10 "$@"; }

# B: Slurm's time-limit warnings. Slurm checks limits every ~30 s, so a warning comes up to
# 30 s after it is due; to keep B short, the test holds B's task (SIGSTOP) whenever it runs:
# Slurm delivers its warning with a SIGCONT, the task checkpoints, records the stop and
# requeues itself the first time; the second time it does not (--max-timeout-requeues 1).
launch --only "$b" --time 1 --signal-seconds 55 --max-timeout-requeues 1 >b1.txt 2>&1
jb=$(job_id b1.txt)
check "B submitted (job $jb)" test -n "$jb"
wait_for_iteration "$b" 20
deadline=$((SECONDS + 180)) held=
while ((SECONDS < deadline)) &&
  [ -n "$(squeue -h -j "$jb" -t PENDING,RUNNING,COMPLETING,CONFIGURING,REQUEUED 2>/dev/null)" ]; do
  pid=$(pgrep -f "run-task --shard .*/$b.db" | head -1)
  # Each task process once: once Slurm's warning has woken it, it must run to its stop.
  if [ -n "$pid" ] && [ "$pid" != "$held" ]; then kill -STOP "$pid" 2>/dev/null && held=$pid; fi
  sleep 0.2
done
stops=$(sqlite3 "slurm.db.shards/$b.db" "SELECT group_concat(cause || ':' || requeued || ':' || slurm_job, ' ') FROM run_stops")
check "B: warned twice in one Slurm job, requeued itself the first time only ($stops)" \
  grep -qE "^time-limit:1:([0-9]+) time-limit:0:\1$" <<<"$stops"
launch --only "$b" >b2.txt 2>&1
check "launch resubmits B after its second warning ($(tail -1 b2.txt))" grep -q "submitted 1 job " b2.txt

# A: scancel mid-run, resubmitted; SIGKILL mid-run, resubmitted.
launch --only "$a" >a1.txt 2>&1
ja=$(job_id a1.txt)
check "A submitted (job $ja)" test -n "$ja"
wait_for_iteration "$a" 40
scancel "$ja"
wait_gone "$ja"
stopped_at=$(shard_iteration "$a")
check "cancelled A stopped mid-run (iteration $stopped_at of $total)" test "$stopped_at" -lt "$total"
check "cancelled A recorded its stop" test "$(sqlite3 "slurm.db.shards/$a.db" "SELECT cause FROM run_stops")" = terminated
check "cancelled A left a checkpoint" test -f "slurm.db.shards/$a.ckpt"
launch --only "$a" >a2.txt 2>&1
check "launch resubmits cancelled A ($(tail -1 a2.txt))" grep -q "submitted 1 job " a2.txt
ja=$(job_id a2.txt)
wait_for_iteration "$a" $((stopped_at + 40))
pkill -KILL -f "run-task --shard .*/$a.db"
wait_gone "$ja"
check "killed A is still 'running' in its shard" test "$(sqlite3 "slurm.db.shards/$a.db" "SELECT status FROM runs")" = running
"$bin" status long --db slurm.db >status.txt 2>&1
check "status says A's task died without stopping ($(grep "$a" status.txt))" grep -q "$a.*died" status.txt
launch --only "$a" >a3.txt 2>&1
check "launch resubmits killed A ($(tail -1 a3.txt))" grep -q "submitted 1 job " a3.txt


deadline=$((SECONDS + 300))
while ((SECONDS < deadline)) && [ -n "$(squeue -h)" ]; do sleep 0.5; done
"$bin" status long --db slurm.db >status.txt 2>&1
check "status merges both: 2 done ($(tail -1 status.txt))" grep -q "2 jobs: 2 done" status.txt
for key in "$a" "$b"; do
  check "$key: bit-identical to the uninterrupted local run" diff <(metrics local.db "$key") <(metrics slurm.db "$key")
done
check "the stops are merged with the runs" test "$(sqlite3 slurm.db "SELECT count(DISTINCT run) FROM run_stops")" = 2
slurm_test_result
