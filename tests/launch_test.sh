#!/usr/bin/env bash
# End-to-end tests of `launch` and `query` on the synthetic dataset: concurrent jobs, resume
# after SIGKILL, divergence isolation, read-only SQL. usage: launch_test.sh path/to/stodepth
source "$(dirname "$0")/check.sh" "$@"
# Waits (at most 120 s) until the launcher PID has committed N iteration rows: signals are
# sent on progress, not after a fixed delay, so the test holds on a slow or a fast machine.
wait_for_rows() {  # wait_for_rows N PID
  local deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)) && kill -0 "$2" 2>/dev/null; do
    [ -f "$db" ] && (($(sql "SELECT count(*) FROM iterations" 2>/dev/null || echo 0) >= $1)) && return 0
    sleep 0.1
  done
  fail "launcher $2 did not reach $1 iteration rows"
  return 1
}

# A sweep of N_SEEDS seeds × p_L {1, 0.5}; 2000/64 = 31 batches per epoch.
write_sweep() {  # write_sweep FILE NAME EPOCHS SEEDS LR_AXIS
  cat >"$1" <<YAML
name: $2
base:
  dataset: {name: synthetic, train_subset: 2000, test_subset: 500}
  model: {depth: 8}
  stochastic_depth: {rule: linear}
  train: {epochs: $3, batch: 64, lr: {schedule: cosine, base: 0.05}}
  eval: {every: 5, batch: 100}
grid:
  stochastic_depth.p_L: [1.0, 0.5]
  train.lr.base: $5
seeds: $4
YAML
}

# 1. Two concurrent jobs; every run has one row per iteration; a second launch runs nothing.
db="$work/e2e.db"
write_sweep "$work/e2e.yaml" e2e 2 "[1, 2]" "[0.05]"
# No --jobs: one training per core, at most one per job of the sweep (4 here).
cores=$(nproc)
jobs=$((cores < 4 ? cores : 4))
check "e2e launch exits 0" "$bin" launch "$work/e2e.yaml" --db "$db" 2>"$work/e2e.err" >/dev/null
check "default layout is one job per core ($(head -1 "$work/e2e.err"))" \
  grep -q "^4 jobs to run, 0 already finished; $jobs at a time, $((cores / jobs)) thread" "$work/e2e.err"
check "4 runs done" test "$(sql "SELECT count(*) FROM runs WHERE status = 'done'")" = 4
check "62 iterations per run" test "$(sql "SELECT group_concat(n) FROM (SELECT count(*) AS n FROM iterations GROUP BY run)")" = "62,62,62,62"
check "2 test-set evaluations per run" test "$(sql "SELECT count(*) FROM test_evals")" = 8
check "test batch every 5 iterations" test "$(sql "SELECT count(*) FROM iterations WHERE test_accuracy IS NOT NULL")" = $((4 * 12))
out=$("$bin" launch "$work/e2e.yaml" --db "$db" 2>"$work/e2e.err")
check "second launch runs nothing" grep -q "ran 0 " <<<"$out"
check "the layout follows the sweep, not what is left ($(head -1 "$work/e2e.err"))" \
  grep -q "^0 jobs to run, 4 already finished; $jobs at a time" "$work/e2e.err"
check "dry run shows done" bash -c "\"$bin\" launch \"$work/e2e.yaml\" --db \"$db\" --dry-run | grep -c ' done$' | grep -qx 4"

# 2. SIGKILL mid-sweep, then resume: every job done exactly once, no missing/duplicate rows.
db="$work/kill.db"
write_sweep "$work/kill.yaml" kill 2 "[1, 2, 3]" "[0.05]"
"$bin" launch "$work/kill.yaml" --db "$db" --jobs 2 --quiet &
pid=$!
wait_for_rows 70 "$pid"  # past the first run's length (62): some runs are under way
kill -9 "$pid"
wait "$pid" 2>/dev/null
check "killed mid-sweep (some runs unfinished)" test "$(sql "SELECT count(*) FROM runs WHERE status != 'done'")" -gt 0
check "integrity after kill" test "$(sql "PRAGMA integrity_check")" = ok
check "resume exits 0" "$bin" launch "$work/kill.yaml" --db "$db" --jobs 2 --quiet
check "6 runs done after resume" test "$(sql "SELECT count(*) FROM runs WHERE status = 'done'")" = 6
check "62 iterations per run, 1..62" test "$(sql "SELECT count(*) FROM (SELECT run FROM iterations GROUP BY run HAVING count(*) = 62 AND min(iteration) = 1 AND max(iteration) = 62)")" = 6
check "integrity after resume" test "$(sql "PRAGMA integrity_check")" = ok

# 2b. Ctrl-C (SIGINT): running jobs stop at an iteration boundary as `interrupted`, no new
# job starts, exit 130; the next launch restarts them with their partial rows replaced.
db="$work/int.db"
write_sweep "$work/int.yaml" int 2 "[1, 2, 3]" "[0.05]"
"$bin" launch "$work/int.yaml" --db "$db" --jobs 2 --quiet >/dev/null 2>&1 &
pid=$!
wait_for_rows 10 "$pid"  # the first two runs are under way, four are queued
kill -INT "$pid"
wait "$pid"
check "SIGINT exits 130" test $? -eq 130
check "interrupted runs marked" test "$(sql "SELECT count(*) FROM runs WHERE status = 'interrupted'")" -ge 1
check "no run left running" test "$(sql "SELECT count(*) FROM runs WHERE status = 'running'")" = 0
check "queued runs never started" test "$(sql "SELECT count(*) FROM runs WHERE status = 'queued'")" -ge 1
check "resume after SIGINT" "$bin" launch "$work/int.yaml" --db "$db" --jobs 2 --quiet
check "62 iterations per run after resume" test "$(sql "SELECT count(*) FROM (SELECT run FROM iterations GROUP BY run HAVING count(*) = 62)")" = 6

# 3. A diverging job is marked diverged while the others finish.
db="$work/diverge.db"
write_sweep "$work/diverge.yaml" diverge 1 "[1]" "[0.05, 1.0e9]"
"$bin" launch "$work/diverge.yaml" --db "$db" --jobs 2 --quiet >/dev/null 2>&1
check "launch with a diverged job exits 4" test $? -eq 4
check "diverged runs marked" test "$(sql "SELECT count(*) FROM runs WHERE status = 'diverged' AND error LIKE 'diverged at iteration%'")" -ge 1
check "others done" test "$(sql "SELECT count(*) FROM runs WHERE status = 'done'")" -ge 2
diverged=$(sql "SELECT count(*) FROM runs WHERE status = 'diverged'")
out=$("$bin" launch "$work/diverge.yaml" --db "$db" 2>/dev/null)
check "without --retry-failed nothing reruns" grep -q "ran 0 " <<<"$out"
out=$("$bin" launch "$work/diverge.yaml" --db "$db" --retry-failed 2>/dev/null)
check "--retry-failed reruns the diverged jobs" grep -q "ran $diverged " <<<"$out"
key=$(sql "SELECT key FROM runs WHERE status = 'done' LIMIT 1")
sql "UPDATE runs SET status = 'queued' WHERE key = '$key'"
out=$("$bin" launch "$work/diverge.yaml" --db "$db" --only "${key:0:6}" 2>/dev/null)
check "--only runs just that job" grep -q "ran 1 " <<<"$out"

# 3b. Checkpoints: deleted when runs end, kept with --keep-checkpoints, none at all with
#     --checkpoint-every 0; a damaged one is reported and its run starts over.
db="$work/ckpt.db"
write_sweep "$work/ckpt.yaml" ckpt 1 "[1]" "[0.05]"
check "launch --keep-checkpoints" "$bin" launch "$work/ckpt.yaml" --db "$db" --quiet --keep-checkpoints --checkpoint-every 10
check "a checkpoint per run kept" test "$(ls "$db.checkpoints" | grep -c '\.ckpt$')" = 2
db2="$work/ckpt2.db"
check "launch with checkpoints" "$bin" launch "$work/ckpt.yaml" --db "$db2" --quiet --checkpoint-every 10
check "no checkpoint left when runs are done" test -z "$(ls -A "$db2.checkpoints")"
db3="$work/ckpt3.db"
check "launch --checkpoint-every 0" "$bin" launch "$work/ckpt.yaml" --db "$db3" --quiet --checkpoint-every 0
check "no checkpoint directory" test ! -e "$db3.checkpoints"
db="$work/ckpt.db"
key=$(sql "SELECT key FROM runs LIMIT 1")
sql "UPDATE runs SET status = 'interrupted' WHERE key = '$key'"
printf 'garbage' >"$db.checkpoints/$key.ckpt"
other=$(sql "SELECT key FROM runs WHERE key != '$key'")
sql "UPDATE runs SET status = 'interrupted', threads = 7 WHERE key = '$other'"
out=$("$bin" launch "$work/ckpt.yaml" --db "$db" 2>&1)
check "a run resumed with another thread count is reported ($out)" \
  grep -q "^note *$other: resumes with threads per job $((cores / (cores < 2 ? cores : 2))), started with 7: its metrics after iteration [1-9][0-9]* will differ" <<<"$out"
check "that run resumed from its checkpoint" grep -q "1 resumed from a checkpoint" <<<"$out"
check "damaged checkpoint reported ($out)" grep -q "$key.ckpt: not a usable checkpoint (no stodepth checkpoint header).*starts from its beginning" <<<"$out"
check "its run done again with all rows" test "$(sql "SELECT count(*) FROM iterations WHERE run = '$key'")" = 31

# 4. query: read-only SQL, formats, curves.
db="$work/e2e.db"
err=$("$bin" query sql "DELETE FROM runs" --db "$db" 2>&1 >/dev/null)
check "query sql refuses DELETE (exit 2)" test $? -eq 2
check "refusal message" grep -q "read-only" <<<"$err"
check "runs untouched" test "$(sql "SELECT count(*) FROM runs")" = 4
check "query sql refuses ATTACH" bash -c "! \"$bin\" query sql \"ATTACH DATABASE '$work/x.db' AS x\" --db \"$db\" 2>/dev/null"
key=$(sql "SELECT key FROM runs LIMIT 1")
check "curve csv has 62 rows + header" test "$("$bin" query curve "${key:0:8}" --db "$db" --format csv | wc -l)" = 63
check "runs json parses" test "$("$bin" query runs --db "$db" --format json | jq length)" = 4
check "where filter" test "$("$bin" query runs --db "$db" --where p_L=0.5 --format csv | wc -l)" = 3
check "summary groups seeds" test "$("$bin" query summary --db "$db" --format csv | wc -l)" = 3

# 5. Bad input: a malformed sweep writes nothing; a foreign database is refused untouched.
printf 'name: bad\nbase:\n  model: {depth: 21}\n' >"$work/bad.yaml"
err=$("$bin" launch "$work/bad.yaml" --db "$work/bad.db" 2>&1)
check "bad sweep exits 2" test $? -eq 2
check "bad sweep message has file:line:col" grep -q "bad.yaml:3:" <<<"$err"
check "bad sweep wrote no database" test ! -e "$work/bad.db"
echo "not a database" >"$work/text.db"
"$bin" launch "$work/e2e.yaml" --db "$work/text.db" >/dev/null 2>&1
check "foreign database refused (exit 2)" test $? -eq 2
check "foreign database untouched" test "$(cat "$work/text.db")" = "not a database"

# 6. status of a local launch under way: the running job's iteration, pace and ETA come from
# the database, the job not started yet is estimated from that pace (~), and so is the sweep.
db="$work/status.db"
write_sweep "$work/status.yaml" status 40 "[1]" "[0.05]"  # 31 x 40 = 1240 iterations a run
"$bin" launch "$work/status.yaml" --db "$db" --jobs 1 --quiet >/dev/null 2>&1 &
pid=$!
shown=""
for _ in $(seq 300); do  # at most about a minute
  out=$("$bin" status status --db "$db" 2>&1)
  if grep -qE " running +[1-9][0-9]*/1240 +[0-9.e+]+ it/s +[0-9.]+ (s|min|h)( |$)" <<<"$out" &&
    grep -qE " queued +0/1240 +- +~[0-9.]+ (s|min|h)( |$)" <<<"$out" &&
    grep -qE "^2 jobs: 1 not running, 1 running; ETA [0-9.]+ (s|min|h) at the running jobs' recent pace, 1 at a time" <<<"$out"; then
    shown=yes
    break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
check "status of a running local launch shows iteration, pace and ETA ($out)" test -n "$shown"
check "status of a local launch has no Slurm column" test "$(head -1 <<<"$out" | grep -c slurm)" = 0
kill -INT "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

check_summary
