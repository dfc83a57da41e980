#!/usr/bin/env bash
# The CLI's exit codes and one-line errors for bad input. usage: cli_test.sh path/to/stodepth
source "$(dirname "$0")/check.sh" "$@"

# expect CODE PATTERN ARGS...: the command exits with CODE and stderr matches PATTERN.
expect() {
  local code="$1" pattern="$2"
  shift 2
  local err
  err=$("$bin" "$@" 2>&1 >/dev/null)
  local got=$?
  if [ "$got" -ne "$code" ] || ! grep -qE -- "$pattern" <<<"$err"; then
    fail "stodepth $* -> exit $got (want $code), stderr: $err"
  else
    passes=$((passes + 1))
  fi
}

expect 2 "--depth: 21 is not 6n\+2" train --depth 21 --epochs 1
expect 2 "--p-L: 0 is outside" train --p-L 0
expect 2 "--p-L: 1.5 is outside" train --p-L 1.5
expect 2 "--lr: nan must be" train --lr nan
expect 2 "--lr: -0.1 must be" train --lr -0.1
expect 2 "--batch: 0 must be positive" train --batch 0
expect 2 "did you mean 'cifar10'" train --dataset cifar
expect 2 "did you mean 'A'" train --shortcut a1
expect 2 "pass --data-dir" train --dataset mnist
expect 2 "not found" train --dataset cifar10 --data-dir /nonexistent/dir
expect 2 "did you mean 'train'" trian
expect 2 "Could not convert" train --depth abc
expect 2 "train.batch: 7000 is larger" train --dataset synthetic --depth 8 --batch 7000 --epochs 1
expect 3 "" train --dataset synthetic --depth 8 --lr 1e9 --iterations 30 --p-L 1 --threads 1
# The settings of the paper's protocol name the flag and the fix.
expect 2 "--sd-mode: unknown value 'samples', did you mean 'sample'" train --sd-mode samples
expect 2 "--warmup-mode: unknown value 'const'" train --warmup-mode const
expect 2 "--warmup-mode: constant warm-up needs train.lr.warmup > 0" train --warmup-mode constant
expect 2 "--warmup-lr: only a constant warm-up uses it" train --warmup-lr 0.05
expect 2 "--validation-seed: only a validation set uses it" train --validation-seed 4
expect 2 "--extra: only svhn has extra training images" train --extra
expect 2 "dataset.validation: 7000 must be below the 6000 training examples" train --dataset synthetic --depth 8 --validation 7000 --epochs 1
expect 2 "svhn needs the directory" train --dataset svhn
# A truncated IDX file is named in the error.
dir=$(mktemp -d -p "$work")
printf '\x00\x00\x08\x03\x00\x00' >"$dir/train-images-idx3-ubyte"
for f in train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do : >"$dir/$f"; done
expect 2 "train-images-idx3-ubyte" train --dataset mnist --data-dir "$dir" --epochs 1
# launch flags: bad values refused, and a mistyped --only writes no database.
dir=$(mktemp -d -p "$work")
printf 'name: t\nbase:\n  dataset: {name: synthetic}\n  model: {depth: 8}\n  train: {iterations: 2}\nseeds: [1]\n' >"$dir/s.yaml"
expect 2 "--jobs and --threads-per-job must be >= 0" launch "$dir/s.yaml" --db "$dir/x.db" --jobs -1
expect 2 "--jobs and --threads-per-job must be >= 0" launch "$dir/s.yaml" --db "$dir/x.db" --threads-per-job -2
expect 2 "--checkpoint-every must be >= 0" launch "$dir/s.yaml" --db "$dir/x.db" --checkpoint-every -1
expect 2 "--only: no job of sweep 't' has a key starting with zzzz" launch "$dir/s.yaml" --db "$dir/x.db" --only zzzz
[ ! -e "$dir/x.db" ] || fail "a refused launch created $dir/x.db"
# A sweep whose dataset.dir is missing: one line naming the directory and the fix, exit 2, no
# database (nor its directory); the dry run refuses it with the same line.
printf 'name: d\nbase:\n  dataset: {name: cifar10, dir: %s/no-cifar}\n  model: {depth: 8}\n  train: {iterations: 2}\n' "$dir" >"$dir/d.yaml"
expect 2 "^stodepth launch: .*/no-cifar: dataset.dir of sweep 'd' \(cifar10\) not found \(.*set dataset.dir in the sweep file" launch "$dir/d.yaml" --db "$dir/sub/d.db"
err=$("$bin" launch "$dir/d.yaml" --db "$dir/sub/d.db" 2>&1 >/dev/null)
[ "$(grep -c '' <<<"$err")" -eq 1 ] || fail "missing dataset.dir: want one line, got: $err"
[ ! -e "$dir/sub" ] || fail "a launch refused for its dataset created $dir/sub"
dry_err=$("$bin" launch "$dir/d.yaml" --db "$dir/sub/d.db" --dry-run 2>&1 >/dev/null)
[ $? -eq 2 ] && [ "$dry_err" = "$err" ] || fail "dry run of a missing dataset.dir: want exit 2 and '$err', got: $dry_err"
# A sweep whose job changed after it ran (2 iterations → 3): launch and its dry run refuse it
# alike, naming the change, and the dry run still prints the job table; the database is
# unchanged. (Adding jobs grows a sweep: sweep_growth_test.sh.)
"$bin" launch "$dir/s.yaml" --db "$dir/x.db" --quiet >/dev/null 2>&1 || fail "launch of $dir/s.yaml"
sed -i 's/train: {iterations: 2}/train: {iterations: 3}/' "$dir/s.yaml"
before=$(sha256sum <"$dir/x.db")
expect 2 "^stodepth launch: .*x.db: sweep 't' already exists in DB with a different definition: the file changes 1 job \(train.iterations 2 → 3 in seed 1\)" launch "$dir/s.yaml" --db "$dir/x.db"
err=$("$bin" launch "$dir/s.yaml" --db "$dir/x.db" 2>&1 >/dev/null)
out=$("$bin" launch "$dir/s.yaml" --db "$dir/x.db" --dry-run 2>"$dir/dry.err")
code=$?
[ "$code" -eq 2 ] && [ "$(cat "$dir/dry.err")" = "$err" ] || fail "dry run of an edited sweep: want exit 2 and '$err', got exit $code: $(cat "$dir/dry.err")"
grep -q "^1 jobs in sweep 't'" <<<"$out" || fail "dry run of an edited sweep lacks its job table: $out"
[ "$(sha256sum <"$dir/x.db")" = "$before" ] || fail "a refused launch changed $dir/x.db"
# The cluster commands: flags of the other executor refused, not ignored; a database that is not
# there, a sweep it does not hold (with a suggestion), a shard that is not there.
expect 2 "--partition applies to --executor slurm only" launch "$dir/s.yaml" --db "$dir/y.db" --partition cpu
expect 2 "--jobs with --executor slurm" launch "$dir/s.yaml" --db "$dir/y.db" --executor slurm --jobs 2
expect 2 "--threads-per-job 2 with --executor slurm" launch "$dir/s.yaml" --db "$dir/y.db" --executor slurm --threads-per-job 2
expect 2 "--cpus-per-task 0: must be at least 1" launch "$dir/s.yaml" --db "$dir/y.db" --executor slurm --cpus-per-task 0 --dry-run
expect 2 "y.db: no results database there" status --db "$dir/y.db"
expect 2 "y.db: no results database there" merge --db "$dir/y.db"
expect 2 "no sweep 'tt', did you mean 't'" status tt --db "$dir/x.db"
# status of a finished local sweep: its job done, nothing left, no Slurm column.
out=$("$bin" status t --db "$dir/x.db" 2>&1)
[ $? -eq 0 ] && grep -q "^1 jobs: 1 done; ETA -$" <<<"$out" && ! grep -q "slurm" <<<"$out" &&
  grep -qE "^[0-9a-f]{16} +t +d8 linear p_L=0.5 seed 1 +done +- +- +- *$" <<<"$out" ||
  fail "status of a finished local sweep: $out"
expect 2 "no store shard there" run-task --shard "$dir/x.db.shards/0123456789abcdef.db"
[ ! -e "$dir/y.db" ] || fail "a refused cluster command created $dir/y.db"
"$bin" train --help | grep -q -- "--eval-every" || fail "--help lacks --eval-every"

# --- stodepth equivalence: TOST of two files of accuracies, one Markdown row. ---
dir=$(mktemp -d -p "$work")
printf '93.0\n93.1\n93.2\n' >"$dir/a.txt"
printf '92.9\n93.0\n\n93.1\n' >"$dir/b.txt"
printf '93\nabc\n' >"$dir/bad.txt"
printf '93\n' >"$dir/one.txt"
printf '93\n101\n' >"$dir/big.txt"
expect 2 "no-such.txt: cannot read" equivalence "$dir/no-such.txt" "$dir/b.txt" --margin 1
expect 2 "bad.txt:2: 'abc' is not a number" equivalence "$dir/bad.txt" "$dir/b.txt" --margin 1
expect 2 "one.txt: 1 value\(s\); the test needs at least 2" equivalence "$dir/one.txt" "$dir/b.txt" --margin 1
expect 2 "--margin: 0 must be > 0" equivalence "$dir/a.txt" "$dir/b.txt" --margin 0
expect 2 "--margin: -1 must be > 0" equivalence "$dir/a.txt" "$dir/b.txt" --margin -1
expect 2 "big.txt:2: 101 is outside \[0, 100\]" equivalence "$dir/big.txt" "$dir/b.txt" --margin 1
expect 2 "--margin is required" equivalence "$dir/a.txt" "$dir/b.txt"
out=$("$bin" equivalence "$dir/a.txt" "$dir/b.txt" --margin 1 --names ours,pytorch --label C10)
grep -q '^| comparison | ours n, mean \[95 % CI\] | pytorch' <<<"$out" &&
  grep -qF '| C10 | n=3, 93.10 [92.85, 93.35] | n=3, 93.00 [92.75, 93.25] | +0.10 [-0.07, +0.27] | 0.000193 | 0.288 | equivalent within ±1 |' <<<"$out" ||
  fail "equivalence row: $out"
out=$("$bin" equivalence "$dir/a.txt" "$dir/b.txt" --margin 0.05 --no-header)
[ "$(grep -c '' <<<"$out")" -eq 1 ] && grep -q '| 0.288 | inconclusive: neither equivalent nor different (more seeds needed) |$' <<<"$out" ||
  fail "equivalence --no-header, margin 0.05: $out"
# Welch t = 3.00 / sqrt(2 * 0.01 / 3) = 36.7 on 4 df: different, not equivalent within ±1.
printf '90.0\n90.1\n90.2\n' >"$dir/c.txt"
out=$("$bin" equivalence "$dir/a.txt" "$dir/c.txt" --margin 1 --no-header)
grep -qF '| +3.00 [+2.83, +3.17] | 1 | 3.28e-06 | different (Welch p < 0.05) |' <<<"$out" ||
  fail "equivalence of different samples: $out"
# report --smooth: refused before any database is opened.
expect 2 "--smooth: 'gauss:3' is not a smoothing \(use box:W .* or ewma:SPAN" report --db /nonexistent/r.db --smooth gauss:3
expect 2 "--smooth: 'box:0' is not a smoothing" report --db /nonexistent/r.db --smooth box:0
expect 2 "--window and --smooth: give one" report --db /nonexistent/r.db --smooth box:5 --window 5
# report -o a file the report does not write (x.pdf): refused before any database is opened.
expect 2 "-o x.pdf: the report is written as .html, .md and .csv files, not .pdf" report --db /nonexistent/r.db -o x.pdf
[ ! -e x.pdf ] || fail "report -o x.pdf wrote x.pdf"
# --- end of stodepth equivalence and report --smooth ---

check_summary
