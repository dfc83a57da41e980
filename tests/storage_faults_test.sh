#!/usr/bin/env bash
# Storage faults and concurrency around `launch`: two launchers on one sweep, readers while a
# sweep writes, a full disk, a read-only database, the database deleted underneath.
# usage: storage_faults_test.sh path/to/stodepth
source "$(dirname "$0")/check.sh" "$@"

# A sweep of 2 p_L x SEEDS seeds, 40 iterations of batch 32 each, checkpoints every 10.
write_sweep() {  # write_sweep FILE NAME SEEDS
  cat >"$1" <<YAML
name: $2
base:
  dataset: {name: synthetic, train_subset: 1000, test_subset: 200}
  model: {depth: 8}
  train: {iterations: 40, batch: 32, lr: {schedule: cosine, base: 0.05}}
  eval: {every: 2, batch: 100}
grid:
  stochastic_depth.p_L: [1.0, 0.5]
seeds: $3
YAML
}
all_rows_once() {  # all_rows_once N: N runs of $db have iterations 1..40, each once
  test "$(sql "SELECT count(*) FROM (SELECT run FROM iterations GROUP BY run
    HAVING count(*) = 40 AND count(DISTINCT iteration) = 40 AND min(iteration) = 1
    AND max(iteration) = 40)")" = "$1"
}

# 1. Two launchers on the same sweep and database at once: every job runs in exactly one of
#    them, both exit 0, all jobs done.
db="$work/two.db"
write_sweep "$work/two.yaml" two "[1, 2, 3, 4, 5]"
"$bin" launch "$work/two.yaml" --db "$db" --threads-per-job 1 >"$work/a.out" 2>&1 &
a=$!
"$bin" launch "$work/two.yaml" --db "$db" --threads-per-job 1 >"$work/b.out" 2>&1 &
b=$!
wait $a; status_a=$?
wait $b; status_b=$?
check "launcher A exits 0 (got $status_a: $(tail -1 "$work/a.out"))" test $status_a -eq 0
check "launcher B exits 0 (got $status_b: $(tail -1 "$work/b.out"))" test $status_b -eq 0
ran_a=$(sed -n 's/^sweep two: ran \([0-9]*\) .*/\1/p' "$work/a.out")
ran_b=$(sed -n 's/^sweep two: ran \([0-9]*\) .*/\1/p' "$work/b.out")
check "each job ran in exactly one launcher ($ran_a + $ran_b = 10)" test $((ran_a + ran_b)) -eq 10
check "both launchers ran jobs ($ran_a, $ran_b)" test "$ran_a" -gt 0 -a "$ran_b" -gt 0
check "10 runs done" test "$(sql "SELECT count(*) FROM runs WHERE status = 'done'")" = 10
check "one row per iteration in every run" all_rows_once 10
check "integrity" test "$(sql "PRAGMA integrity_check")" = ok

# 2. query and report while a sweep writes: never "database is locked", always exit 0.
db="$work/read.db"
write_sweep "$work/read.yaml" read "[1, 2, 3]"
"$bin" launch "$work/read.yaml" --db "$db" --quiet >/dev/null 2>&1 &
writer=$!
reads=0 read_failures=0
while kill -0 $writer 2>/dev/null; do
  if [ -f "$db" ]; then
    for cmd in "query runs" "query summary" "query sql" "report"; do
      case "$cmd" in
        "query sql") args=(query sql "SELECT count(*) FROM iterations") ;;
        report) args=(report --sweep read -o "$work/report.html") ;;
        *) read -r -a args <<<"$cmd" ;;
      esac
      if ! out=$("$bin" "${args[@]}" --db "$db" 2>&1 >/dev/null); then
        # Before the launcher has registered the sweep, report says so: not a failure.
        grep -q "no sweep\|not found\|no runs\|no results database" <<<"$out" ||
          { echo "  read failed: $cmd: $out"; read_failures=$((read_failures + 1)); }
      fi
      reads=$((reads + 1))
    done
  fi
done
wait $writer
check "readers never failed while the sweep wrote ($read_failures of $reads)" test $read_failures -eq 0
check "readers ran many times ($reads)" test $reads -ge 8

# 3. Disk full (a file-size limit makes every write past 600 KiB fail): a one-line error,
#    exit 1, no job starts after it, nothing committed is lost; a later launch finishes.
db="$work/full.db"
write_sweep "$work/full.yaml" full "[1, 2, 3, 4, 5, 6, 7, 8]"
err=$(ulimit -f 600; trap '' XFSZ; "$bin" launch "$work/full.yaml" --db "$db" --quiet 2>&1 >/dev/null)
status=$?
check "disk full: exit 1 (got $status)" test $status -eq 1
# stderr: the interrupted jobs' lines, then the one-line reason.
check "disk full: the last line says why, naming the database ($err)" \
  grep -qE "^stodepth launch: stopped: .*full.db: .*(disk I/O error|full).*check free disk space" \
  <<<"$(tail -1 <<<"$err")"
check "disk full: only interrupted jobs before it ($err)" \
  bash -c '! head -n -1 <<<"$1" | grep -qv "^interrupted "' _ "$err"
done_before=$(sql "SELECT count(*) FROM runs WHERE status = 'done'")
check "disk full: some runs finished first ($done_before)" test "$done_before" -ge 1
check "disk full: not every run finished ($done_before)" test "$done_before" -lt 16
check "disk full: integrity" test "$(sql "PRAGMA integrity_check")" = ok
check "disk full: done runs kept all their rows" all_rows_once "$(sql \
  "SELECT count(*) FROM runs WHERE status = 'done' OR key IN (SELECT run FROM iterations
   GROUP BY run HAVING count(*) = 40)")"
check "disk full: the next launch completes" "$bin" launch "$work/full.yaml" --db "$db" --quiet
check "disk full: 16 runs done after it" test "$(sql "SELECT count(*) FROM runs WHERE status = 'done'")" = 16
check "disk full: one row per iteration" all_rows_once 16

# 4. A read-only database (as an unprivileged user; root may write anywhere): refused
#    before anything is written, the file untouched.
db="$work/ro/ro.db"
mkdir -p "$work/ro"
write_sweep "$work/ro.yaml" ro "[1]"
"$bin" launch "$work/ro.yaml" --db "$db" --quiet >/dev/null 2>&1
chmod 755 "$work"
chmod 555 "$work/ro"
chmod 444 "$db"
before=$(sha256sum "$db")
if [ "$(id -u)" -eq 0 ]; then
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
else
  as_user=()
fi
err=$("${as_user[@]}" "$bin" launch "$work/ro.yaml" --db "$db" --retry-failed 2>&1 >/dev/null)
status=$?
check "read-only: exit 2 (got $status: $err)" test $status -eq 2
check "read-only: says so ($err)" grep -q "ro.db: .*read-only" <<<"$err"
check "read-only: file untouched" test "$(sha256sum "$db")" = "$before"
out=$("${as_user[@]}" "$bin" query runs --db "$db" 2>&1)
check "read-only: query still reads it ($out)" grep -q "done" <<<"$out"
chmod 755 "$work/ro"

# 5. The database deleted while a sweep writes: the launcher notices at its next write,
#    stops with a one-line error and exit 1, and starts no more jobs.
db="$work/gone.db"
write_sweep "$work/gone.yaml" gone "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]"
"$bin" launch "$work/gone.yaml" --db "$db" --quiet >"$work/gone.out" 2>&1 &
pid=$!
sleep 2  # a few of the 32 runs are done, most are still to go (the sweep takes ~15 s)
rm -f "$db" "$db-wal" "$db-shm"
timeout 60 tail --pid=$pid -f /dev/null
wait $pid
status=$?
check "deleted: exit 1 (got $status)" test $status -eq 1
check "deleted: one-line error ($(cat "$work/gone.out"))" \
  grep -q "stopped: .*gone.db: the database file was deleted or replaced" "$work/gone.out"
check "deleted: not recreated behind the user's back" test ! -e "$db"

check_summary
