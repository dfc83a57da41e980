#!/usr/bin/env bash
# `query`, `status`, `launch --dry-run` and `report -o` on a tiny sweep of the two drop modes:
# exports at full precision (equal to SQLite's own doubles), the run key in every curve row,
# every evaluation kept whatever --every, the settings that differ shown and filterable,
# status as JSON and CSV, refusals with a suggestion. usage: query_cli_test.sh path/to/stodepth
source "$(dirname "$0")/check.sh" "$@"
db="$work/q.db"
q() { "$bin" query "$@" --db "$db"; }
# The values of COLUMN (by header name) of CSV on stdin, one a line (no quoted commas here).
csv_column() {
  awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
    { print $c }'
}

# Batch and sample mode at p_L 0.5 and the plain ResNet once: 3 jobs. 256 / 32 = 8 iterations
# an epoch, 3 epochs: test batches at 5, 10, 15, 20, whole test set at 8, 16, 24.
cat >"$work/modes.yaml" <<YAML
name: modes
base:
  dataset: {name: synthetic, train_subset: 256, test_subset: 64}
  model: {depth: 8}
  stochastic_depth: {rule: linear}
  train: {epochs: 3, batch: 32, lr: {schedule: cosine, base: 0.05}}
  eval: {every: 5, batch: 32}
grid:
  stochastic_depth.mode: [batch, sample]
  stochastic_depth.p_L: [1.0, 0.5]
exclude:
  - {stochastic_depth.mode: sample, stochastic_depth.p_L: 1.0}
seeds: [1]
YAML

# launch --dry-run: a mode column, and rows that differ beyond their keys.
out=$("$bin" launch "$work/modes.yaml" --db "$db" --dry-run)
check "dry run has a mode column ($out)" grep -qE "^key +.* seed +mode +status$" <<<"$out"
check "dry run rows differ beyond their keys" \
  test "$(sed -n '2,4p' <<<"$out" | cut -c18- | sort -u | wc -l)" = 3
check "dry run shows sample mode" grep -qE " 0\.5 .* sample +new$" <<<"$out"
log=$("$bin" launch "$work/modes.yaml" --db "$db" 2>&1 >/dev/null)
check "launch ($log)" test $? = 0
check "launch's progress lines name the mode as status does" \
  grep -qE "^start +[0-9a-f]{8} d8 linear p_L=0.5 seed 1 mode=sample$" <<<"$log"
sample=$(sql "SELECT key FROM runs WHERE config_json LIKE '%\"mode\":\"sample\"%'")
plain=$(sql "SELECT key FROM runs WHERE p_L = 1")
check "one run in sample mode, one plain" test "${#sample}" = 16 -a "${#plain}" = 16

# Full precision: query runs' step_ms is SQL's, the very double SQLite holds.
runs_csv=$(q runs --format csv)
for key in $(sql "SELECT key FROM runs"); do
  csv=$( (head -1 <<<"$runs_csv"; grep "^$key," <<<"$runs_csv") | csv_column step_ms)
  from_sql=$(q sql "SELECT mean_step_ms FROM runs WHERE key = '$key'" --format csv | tail -1)
  check "runs csv step_ms $csv = query sql's $from_sql" test "$csv" = "$from_sql"
  # SQLite reads the text back as the very double it holds (its printf stops at 16 digits).
  check "step_ms $csv reads back as SQLite's double" \
    test "$(sql "SELECT mean_step_ms = $csv FROM runs WHERE key = '$key'")" = 1
  check "step_ms $csv is not rounded to 4 digits" \
    test "$(sql "SELECT mean_step_ms = CAST(printf('%.4g', mean_step_ms) AS REAL) FROM runs WHERE key = '$key'")" = 0
done
check "test_acc of runs json is SQLite's" test \
  "$(q runs --format json | jq -r ".[] | select(.key == \"$plain\") | .test_loss")" = \
  "$(q sql "SELECT final_test_loss FROM runs WHERE key = '$plain'" --format csv | tail -1)"
# One spelling of numbers: p_L 1 in runs, summary and sql alike.
check "p_L of the plain run is 1 in query runs" test \
  "$( (head -1 <<<"$runs_csv"; grep "^$plain," <<<"$runs_csv") | csv_column p_L)" = 1
check "p_L 1 in query sql" test "$(q sql "SELECT p_L FROM runs WHERE key = '$plain'" --format csv | tail -1)" = 1
check "p_L 1 in query summary" grep -q "^1$" <(q summary --format csv | csv_column p_L)
# The table for reading rounds; exports do not.
check "the table rounds step_ms" bash -c "\"$bin\" query runs --db \"$db\" | grep -qE ' [0-9]+\.[0-9]{1,2} '"

# Curves: the run key in every row, curves stack, every evaluation whatever --every.
curve=$(q curve "${sample:0:6}" --every 7 --format csv)
check "curve header" test "$(head -1 <<<"$curve")" = \
  "key,iteration,epoch,lr,loss,train_acc,test_acc,test_loss,active_blocks,step_ms,test_set_acc,test_set_loss,val_acc,val_loss"
check "every curve row has the run key" test "$(tail -n +2 <<<"$curve" | cut -d, -f1 | sort -u)" = "$sample"
check "--every 7 keeps 7, 14, 21 and every evaluation" test \
  "$(csv_column iteration <<<"$curve" | tr '\n' ' ')" = "5 7 8 10 14 15 16 20 21 24 "
check "test batch evaluations, as in SQL" test \
  "$(awk -F, 'NR > 1 && $7 != "" { print $2 "=" $7 }' <<<"$curve")" = \
  "$(sql "SELECT iteration || '=' || test_accuracy FROM iterations WHERE run = '$sample' AND test_accuracy IS NOT NULL ORDER BY iteration")"
check "whole-test-set evaluations, as in SQL" test \
  "$(awk -F, 'NR > 1 && $11 != "" { print $2 "=" $11 }' <<<"$curve")" = \
  "$(sql "SELECT iteration || '=' || accuracy FROM test_evals WHERE run = '$sample' ORDER BY iteration")"
check "curve step_ms is SQL's" test \
  "$(q curve "$sample" --format csv | csv_column step_ms | tr '\n' ' ')" = \
  "$(q sql "SELECT step_ms FROM iterations WHERE run = '$sample' ORDER BY iteration" --format csv | tail -n +2 | tr '\n' ' ')"
check "two curves stack (24 rows each)" test "$(q curve "$sample" "$plain" --format csv | tail -n +2 | cut -d, -f1 | uniq -c | awk '{print $1}' | tr '\n' ' ')" = "24 24 "
check "curve json: keys are strings" test "$(q curve "$sample" --format json | jq -r '[.[].key | type] | unique | join(",")')" = string
evals=$(q evals "$sample" --format csv)
check "query evals: the whole-test-set evaluations ($evals)" test \
  "$(tail -n +2 <<<"$evals" | cut -d, -f1-4 | tr '\n' ' ')" = \
  "$(sql "SELECT '$sample,' || epoch || ',' || iteration || ',' || accuracy FROM test_evals WHERE run = '$sample' ORDER BY iteration" | tr '\n' ' ')"

# The setting that differs: a column of runs and summary, a --where key by name or dotted key.
check "runs has a mode column" test "$(csv_column mode <<<"$runs_csv" | sort | tr '\n' ' ')" = "batch batch sample "
check "--where mode=sample" test "$(q runs --where mode=sample --format csv | tail -n +2 | cut -d, -f1)" = "$sample"
check "--where stochastic_depth.mode=sample" test "$(q runs --where stochastic_depth.mode=sample --format csv | tail -n +2 | cut -d, -f1)" = "$sample"
check "--where p_L=1.0 matches p_L 1" test "$(q runs --where p_L=1.0 --where mode=batch --format csv | tail -n +2 | cut -d, -f1)" = "$plain"
check "--where shortcut=a matches A" test "$(q runs --where shortcut=a --format csv | tail -n +2 | wc -l)" = 3
err=$(q runs --where mode=sampel 2>&1 >/dev/null)
check "--where mode=sampel: exit 2" test $? -eq 2
check "unknown value: did you mean ($err)" grep -q "unknown value 'sampel', did you mean 'sample'?" <<<"$err"
check "query sweeps" test "$(q sweeps --format csv | tail -n +2 | cut -d, -f1-6)" = "modes,3,3,0,0,0"
check "summary has a mode column" test "$(q summary --format csv | csv_column mode | sort | tr '\n' ' ')" = "batch batch sample "

# status: the job column tells the jobs apart; JSON and CSV with every field.
out=$("$bin" status modes --db "$db")
check "status labels differ ($out)" test "$(grep -c 'mode=' <<<"$out")" = 3
check "status shows sample mode" grep -qE "^$sample +modes +d8 linear p_L=0.5 seed 1 mode=sample +done" <<<"$out"
json=$("$bin" status modes --db "$db" --format json)
check "status json: 3 jobs, all done" test "$(jq -r '[.jobs[].state] | join(",")' <<<"$json")" = "done,done,done"
check "status json: job fields" test "$(jq -r '.jobs[0] | keys_unsorted | join(",")' <<<"$json")" = \
  "key,sweep,label,settings,state,shard_state,merged,slurm,stops,ended,running,iteration,total,step_ms,rate,eta_seconds,note"
check "status json: settings" test "$(jq -r ".jobs[] | select(.key == \"$sample\") | .settings | to_entries | map(\"\(.key)=\(.value)\") | join(\",\")" <<<"$json")" = \
  "stochastic_depth.p_L=0.5,stochastic_depth.mode=sample"
check "status json: the sweep's counts and ETA" test "$(jq -c '[.counts, .left, .eta_seconds]' <<<"$json")" = '[{"done":3},0,0]'
csv=$("$bin" status modes --db "$db" --format csv)
check "status csv header" test "$(head -1 <<<"$csv")" = \
  "key,sweep,label,state,shard_state,merged,slurm,stops,ended,running,iteration,total,step_ms,rate,eta_seconds,note,stochastic_depth.p_L,stochastic_depth.mode"
check "status csv: a row per job, mode last" test "$(tail -n +2 <<<"$csv" | awk -F, '{print $NF}' | sort | tr '\n' ' ')" = "batch batch sample "
err=$("$bin" status modes --db "$db" --format yaml 2>&1 >/dev/null)
check "status --format yaml refused (exit 2)" test $? -eq 2

# Refusals: exit 2, one line, a suggestion; nothing written.
err=$(q runs --sweep mode 2>&1 >/dev/null)
check "query runs --sweep mode: exit 2" test $? -eq 2
check "unknown sweep: did you mean ($err)" grep -q "no sweep 'mode' in the database, did you mean 'modes'?" <<<"$err"
err=$(q summary --sweep modez 2>&1 >/dev/null)
check "query summary --sweep modez: exit 2 ($err)" test $? -eq 2
err=$(q runs --where mdoe=sample 2>&1 >/dev/null)
check "query runs --where mdoe: exit 2" test $? -eq 2
check "unknown key: did you mean ($err)" grep -q "unknown key 'mdoe', did you mean 'mode'?" <<<"$err"
mkdir "$work/reports"
err=$("$bin" report --db "$db" -o "$work/reports/x.pdf" 2>&1 >/dev/null)
check "report -o x.pdf: exit 2" test $? -eq 2
check "report -o x.pdf: one line naming the extensions ($err)" test "$(grep -c '' <<<"$err")" = 1
check "report -o x.pdf: names .html and .md" grep -q "written as .html, .md and .csv files, not .pdf" <<<"$err"
check "report -o x.pdf wrote nothing" test -z "$(ls -A "$work/reports")"
check "report -o x.md writes the HTML beside it" "$bin" report --db "$db" -o "$work/reports/x.md" >/dev/null
check "x.html is HTML, x.md Markdown" bash -c "grep -q '<html' '$work/reports/x.html' && ! grep -q '<html' '$work/reports/x.md'"

check_summary
