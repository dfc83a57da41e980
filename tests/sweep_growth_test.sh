#!/usr/bin/env bash
# Growing a sweep in place: a finished sweep's file given a seed and an axis value more is
# launched as an extension (only the new jobs run; the done runs' rows are untouched); a file
# that changes a stored job is refused naming it, the database's bytes unchanged; a renamed
# sweep says which done runs it reuses. usage: sweep_growth_test.sh path/to/stodepth
source "$(dirname "$0")/check.sh" "$@"
# The database's bytes, its WAL included (a read must not write either).
db_hash() { cat "$db" "$db-wal" 2>/dev/null | sha256sum; }

write_sweep() {  # write_sweep FILE NAME ITERATIONS P_L_AXIS SEEDS
  cat >"$1" <<YAML
name: $2
description: growth test
base:
  dataset: {name: synthetic, train_subset: 128, test_subset: 32}
  model: {depth: 8}
  train: {iterations: $3, batch: 32}
  eval: {every: 2, batch: 32}
grid:
  stochastic_depth.p_L: $4
seeds: $5
YAML
}

db="$work/g.db"
sweep="$work/g.yaml"

# 1. A sweep of 2 p_L × 2 seeds, run to completion.
write_sweep "$sweep" g 3 "[1.0, 0.5]" "[1, 2]"
check "first launch exits 0" "$bin" launch "$sweep" --db "$db" --quiet >/dev/null
check "4 runs done" test "$(sql "SELECT count(*) FROM runs WHERE status = 'done'")" = 4
old_runs=$(sql "SELECT rowid, key, status, started_at, ended_at, host, final_test_accuracy FROM runs ORDER BY rowid")
old_rows=$(sql "SELECT run, count(*), min(iteration), max(iteration), sum(loss), sum(lr) FROM iterations GROUP BY run ORDER BY run")
old_evals=$(sql "SELECT run, count(*), sum(accuracy) FROM test_evals GROUP BY run ORDER BY run")
check "4 runs of 3 iterations, each with its test-set evaluation" \
  test "$(grep -c '^[0-9a-f]*|3|1|3|' <<<"$old_rows") $(grep -c '^[0-9a-f]*|1|' <<<"$old_evals")" = "4 4"
# started_at has whole seconds: the extension's runs start after this.
sleep 1.1
grown_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# 2. A seed and a p_L value more: 3 × 3 = 9 jobs, 5 of them new.
write_sweep "$sweep" g 3 "[1.0, 0.5, 0.2]" "[1, 2, 3]"
out=$("$bin" launch "$sweep" --db "$db" --dry-run 2>"$work/dry.err")
check "dry run of the grown sweep exits 0 ($(cat "$work/dry.err"))" test $? -eq 0
check "dry run says it extends the sweep: $(tail -2 <<<"$out")" \
  grep -qx "extends sweep 'g': +5 jobs (seed 3; stochastic_depth.p_L 0.2)" <<<"$out"
check "dry run lists 4 done and 5 new jobs" \
  test "$(grep -c ' done$' <<<"$out") $(grep -c ' new$' <<<"$out")" = "4 5"
out=$("$bin" launch "$sweep" --db "$db" 2>"$work/grow.err")
check "launch of the grown sweep exits 0 ($(cat "$work/grow.err"))" test $? -eq 0
check "the launch says it extends the sweep" \
  grep -qx "extends sweep 'g': +5 jobs (seed 3; stochastic_depth.p_L 0.2)" "$work/grow.err"
check "the launch plans the 5 new jobs only" grep -q "^5 jobs to run, 4 already finished;" "$work/grow.err"
check "the launch ran 5 and skipped 4 ($out)" grep -q "^sweep g: ran 5 (done 5, .*skipped 4 already finished" <<<"$out"
check "9 runs done" test "$(sql "SELECT count(*) FROM runs WHERE status = 'done'")" = 9
check "the sweep holds the 9 runs" test "$(sql "SELECT count(*) FROM sweep_runs WHERE sweep = 'g'")" = 9
check "the new runs started after the growth" \
  test "$(sql "SELECT count(*) FROM runs WHERE started_at >= '$grown_at'")" = 5
check "the new runs are seed 3 or p_L 0.2" \
  test "$(sql "SELECT count(*) FROM runs WHERE started_at >= '$grown_at' AND (seed = 3 OR p_L = 0.2)")" = 5
check "the done runs' rows are untouched (rowid, started_at, ended_at, results)" \
  test "$(sql "SELECT rowid, key, status, started_at, ended_at, host, final_test_accuracy FROM runs WHERE rowid <= 4 ORDER BY rowid")" = "$old_runs"
check "the done runs' iterations are untouched" \
  test "$(sql "SELECT run, count(*), min(iteration), max(iteration), sum(loss), sum(lr) FROM iterations WHERE run IN (SELECT key FROM runs WHERE rowid <= 4) GROUP BY run ORDER BY run")" = "$old_rows"
check "the done runs' test evaluations are untouched" \
  test "$(sql "SELECT run, count(*), sum(accuracy) FROM test_evals WHERE run IN (SELECT key FROM runs WHERE rowid <= 4) GROUP BY run ORDER BY run")" = "$old_evals"
check "the stored definition is the grown file" \
  test "$(sql "SELECT source_text FROM sweeps WHERE name = 'g'")" = "$(cat "$sweep")"
out=$("$bin" launch "$sweep" --db "$db" 2>"$work/again.err")
check "launched again, nothing runs and nothing is extended" \
  test "$(grep -c "extends" "$work/again.err")$(grep -c "^sweep g: ran 0 " <<<"$out")" = "01"

# 3. A stored job changed (iterations 3 → 4 for every job): refused, naming the change; the
#    database's bytes unchanged.
write_sweep "$work/changed.yaml" g 4 "[1.0, 0.5, 0.2]" "[1, 2, 3]"
before=$(db_hash)
err=$("$bin" launch "$work/changed.yaml" --db "$db" 2>&1 >/dev/null)
code=$?
check "a changed job is refused with exit 2 (got $code)" test "$code" -eq 2
check "the refusal names the change on one line: $err" test "$(grep -c '' <<<"$err")" -eq 1
check "the refusal lists the changed jobs: $err" grep -qF \
  "stodepth launch: $db: sweep 'g' already exists in DB with a different definition: the file changes 9 jobs (train.iterations 3 → 4 in seeds 1–3 of stochastic_depth.p_L=1, seeds 1–3 of stochastic_depth.p_L=0.5, seeds 1–3 of stochastic_depth.p_L=0.2); a sweep file may add jobs to a stored sweep but not change or remove any" <<<"$err"
dry_err=$("$bin" launch "$work/changed.yaml" --db "$db" --dry-run 2>&1 >/dev/null)
check "its dry run refuses it alike" test "$?:$dry_err" = "2:$err"
# A seed dropped and a p_L value replaced: removals and changes, with the rest counted.
write_sweep "$work/shrunk.yaml" g 3 "[1.0, 0.5, 0.3]" "[1, 2]"
err=$("$bin" launch "$work/shrunk.yaml" --db "$db" 2>&1 >/dev/null)
check "a removed seed and a replaced value are refused with exit 2" test $? -eq 2
check "the refusal lists the changed and the removed jobs: $err" grep -qF \
  "the file changes 2 jobs (stochastic_depth.p_L 0.2 → 0.3 in seeds 1–2 of stochastic_depth.p_L=0.2) and removes 3 jobs (seed 3 of stochastic_depth.p_L=1, seed 3 of stochastic_depth.p_L=0.5, seed 3 of stochastic_depth.p_L=0.2)" <<<"$err"
check "refused launches leave the database's bytes unchanged" test "$(db_hash)" = "$before"

# 4. The grown file renamed: every job is a done run of 'g', reused and said so.
write_sweep "$work/h.yaml" h 3 "[1.0, 0.5, 0.2]" "[1, 2, 3]"
out=$("$bin" launch "$work/h.yaml" --db "$db" --dry-run)
check "the renamed sweep's dry run says what it reuses" \
  grep -qx "9 jobs are already done under sweep 'g' and are reused" <<<"$out"
out=$("$bin" launch "$work/h.yaml" --db "$db" 2>"$work/h.err")
check "the renamed sweep's launch says it too" \
  grep -qx "9 jobs are already done under sweep 'g' and are reused" "$work/h.err"
check "the renamed sweep runs nothing ($out)" grep -q "^sweep h: ran 0 .*skipped 9 already finished" <<<"$out"

check_summary
