#!/usr/bin/env bash
# bf16 precision at the CLI, run capped at AVX2 (DNNL_MAX_CPU_ISA, set by CTest) where bf16 is
# refused on any machine: `train` and `bench` exit 2 with one line naming the ISA; `launch`
# and its dry run refuse a sweep with bf16 jobs before anything is written; f32 jobs keep the
# keys they had before the setting existed; `query runs`, `status` and `launch --dry-run` show
# the precision of a bf16 job. usage: precision_cli_test.sh path/to/stodepth
source "$(dirname "$0")/check.sh" "$@"
db="$work/p.db"
[ "${DNNL_MAX_CPU_ISA:-}" = AVX2 ] || { echo "run me with DNNL_MAX_CPU_ISA=AVX2"; exit 1; }

refused_one_line() {  # refused_one_line WHAT EXIT OUTPUT
  check "$1 exits 2 (got $2)" test "$2" = 2
  check "$1 names the ISA and what bf16 needs ($3)" \
    grep -q "bf16 needs a CPU with bf16 arithmetic.*runs oneDNN at AVX2 (capped by DNNL_MAX_CPU_ISA=AVX2)" <<<"$3"
  check "$1 says it on one line" test "$(wc -l <<<"$3")" = 1
}
out=$("$bin" train --dataset synthetic --depth 8 --iterations 2 --precision bf16 2>&1)
refused_one_line "train --precision bf16" $? "$out"
out=$("$bin" bench --depth 8 --precision bf16 2>&1)
refused_one_line "bench --precision bf16" $? "$out"

cat >"$work/mixed.yaml" <<YAML
name: mixed
base:
  dataset: {name: synthetic, train_subset: 128, test_subset: 32}
  model: {depth: 8}
  train: {iterations: 2, batch: 32}
  eval: {every: 1, batch: 32}
grid:
  train.precision: [f32, bf16]
  stochastic_depth.p_L: [1.0, 0.5]
seeds: [1]
YAML
table=$("$bin" launch "$work/mixed.yaml" --db "$db" --dry-run 2>"$work/err")
refused_one_line "launch --dry-run of bf16 jobs" $? "$(cat "$work/err")"
check "the refusal counts the bf16 jobs" grep -q "^stodepth launch: sweep 'mixed', 2 jobs to run: " "$work/err"
check "the dry run's table shows each job's precision ($table)" \
  test "$(awk 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "precision") c = i; next} length($1) == 16 {print $c}' <<<"$table" | sort | uniq -c | tr -s ' ')" = " 2 bf16
 2 f32"
out=$("$bin" launch "$work/mixed.yaml" --db "$db" 2>&1)
refused_one_line "launch of bf16 jobs" $? "$out"
check "a refused launch writes no database" test ! -e "$db"
check "a Slurm dry run leaves the check to each node" \
  "$bin" launch "$work/mixed.yaml" --db "$db" --dry-run --executor slurm >/dev/null

# The f32 jobs alone run, with the keys of a sweep that never names the precision, and no
# precision column (f32 is the default).
sed 's/\[f32, bf16\]/[f32]/' "$work/mixed.yaml" >"$work/f32.yaml"
sed '/train.precision/d' "$work/mixed.yaml" >"$work/plain.yaml"
keys() { "$bin" launch "$1" --db "$db" --dry-run | awk 'NR > 1 {print $1}' | sort; }
check "f32 keeps the job keys it had before the setting" \
  test "$(keys "$work/f32.yaml")" = "$(keys "$work/plain.yaml")"
check "no precision column at f32" test -z "$("$bin" launch "$work/f32.yaml" --db "$db" --dry-run | grep precision)"
check "f32 jobs launch" "$bin" launch "$work/f32.yaml" --db "$db" --quiet
check "and are stored" test "$(sql "SELECT count(*) FROM runs WHERE status = 'done'")" = 2
check_summary
