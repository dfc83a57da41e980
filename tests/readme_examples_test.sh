#!/usr/bin/env bash
# Runs the shell examples of README.md, so that they cannot drift from the CLI.
# usage: readme_examples_test.sh path/to/stodepth path/to/README.md [path/to/sweeps]
#
# The convention (README, "Examples in this README"): every ```sh block is an example.
#   - A block runs, whole, with `bash -euo pipefail`, in document order, in one scratch
#     directory that holds `sweeps/` (the shipped sweeps) and `out/results.db` with a small
#     sweep named `quickstart` (made here by a tiny launch), with this build's `stodepth`
#     first on the PATH. A non-zero exit fails the test.
#   - `<!-- example: skip (reason) -->` on the line before the fence: the block is not run
#     (a cluster, a long training, a command that serves forever), but every `stodepth`
#     command in it is still given to the CLI, in an empty directory, for at most a few
#     seconds: a subcommand or flag the parser rejects fails the test.
#   - `<!-- example: pending (reason) -->`: neither run nor parsed, for a command this build
#     does not have yet; remove the marker once it does.
# Before README.md, the checker proves on made-up examples that it fails on a rejected flag,
# both in a block it runs and in a skipped one.
set -u
bin=$(readlink -f "$1")
readme=$(readlink -f "$2")
sweeps=$(readlink -f "${3:-$(dirname "$readme")/sweeps}")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/bin"
ln -s "$bin" "$scratch/bin/stodepth"
export PATH="$scratch/bin:$PATH"
# Trainings here share the cores with other tests: OpenMP threads that sleep instead of
# spinning keep them from slowing each other several times over.
export OMP_WAIT_POLICY=PASSIVE
# A parse check that is still running after this long got past the parser.
parse_seconds=5

# blocks MARKDOWN DIR: writes each ```sh block of MARKDOWN to DIR/NNN and prints one line per
# block: "NNN MODE LINE REASON", MODE run, skip or pending, LINE the fence's line number.
blocks() {
  awk -v dir="$2" '
    function marker(line) {
      if (match(line, /^<!-- example: (skip|pending) \(.*\) -->$/)) return line
      return ""
    }
    in_block && /^```/ { in_block = 0; close(file); last = ""; next }
    in_block { print > file; next }
    /^```sh[ \t]*$/ {
      n++; file = sprintf("%s/%03d", dir, n); printf "" > file; in_block = 1
      mode = "run"; reason = ""
      if (last != "") {
        mode = last; sub(/^<!-- example: /, "", mode); sub(/ .*/, "", mode)
        reason = last; sub(/^<!-- example: [a-z]+ \(/, "", reason); sub(/\) -->$/, "", reason)
      }
      printf "%03d %s %d %s\n", n, mode, NR, reason
      next
    }
    /^[ \t]*$/ { next }
    { last = marker($0) }
  ' "$1"
}

# stodepth_commands FILE: the `stodepth ...` commands of a shell snippet, one a line:
# continuation lines joined, comments dropped, split at unquoted | ; & ( ) and backquotes,
# leading VAR=value assignments dropped.
stodepth_commands() {
  awk '
    { line = line $0 }
    /\\$/ { sub(/\\$/, "", line); next }
    {
      quote = ""; segment = ""
      for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (quote != "") { if (c == quote) quote = ""; segment = segment c; continue }
        if (c == "\"" || c == "\047") { quote = c; segment = segment c; continue }
        if (c == "#" && (i == 1 || substr(line, i - 1, 1) ~ /[ \t]/)) break
        if (c ~ /[|;&()`]/) { emit(segment); segment = ""; continue }
        segment = segment c
      }
      emit(segment); line = ""
    }
    function emit(s) {
      sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s)
      while (match(s, /^[A-Za-z_][A-Za-z_0-9]*=[^ \t]*[ \t]+/)) s = substr(s, RLENGTH + 1)
      if (s ~ /^stodepth([ \t]|$)/) print s
    }
  ' "$1"
}

# parse_check COMMAND: gives COMMAND (a line of shell words starting with stodepth) to the
# CLI in an empty directory; prints why and returns 1 if the parser rejects it.
parse_check() {
  local dir="$scratch/parse" err code
  rm -rf "$dir" && mkdir -p "$dir"
  (
    set -f
    cd "$dir" || exit 1
    eval "set -- $1"
    timeout -s KILL "$parse_seconds" "$@" >/dev/null 2>"$scratch/parse.err" </dev/null
  ) 2>/dev/null  # not the shell's "Killed" when the timeout ends a command that got past parsing
  code=$?
  err=$(head -c 2000 "$scratch/parse.err")
  if grep -qE '\(see --help\)|unknown command|run .stodepth --help.' <<<"$err"; then
    echo "    rejected by the CLI (exit $code): $err"
    return 1
  fi
  return 0
}

# check MARKDOWN WORKDIR: runs MARKDOWN's examples by the convention above; prints what fails
# and returns the number of failures.
check() {
  local markdown="$1" work="$2" dir failures=0 index mode line reason command out code start
  dir=$(mktemp -d "$scratch/blocks.XXXX")
  while read -r index mode line reason; do
    case "$mode" in
      pending) echo "  pending ($reason): README line $line" ;;
      skip)
        while IFS= read -r command; do
          if ! parse_check "$command"; then
            echo "FAIL: line $line (skipped block, parse check): $command"
            failures=$((failures + 1))
          fi
        done < <(stodepth_commands "$dir/$index")
        ;;
      run)
        start=$SECONDS
        out=$(cd "$work" && timeout 600 bash -euo pipefail "$dir/$index" 2>&1 </dev/null)
        code=$?
        if [ "$code" -ne 0 ]; then
          echo "FAIL: line $line exited $code:"
          sed 's/^/    | /' "$dir/$index"
          tail -n 15 <<<"$out" | sed 's/^/    > /'
          failures=$((failures + 1))
        else
          echo "  ok: line $line ($((SECONDS - start)) s)"
        fi
        ;;
    esac
  done < <(blocks "$markdown" "$dir")
  return "$failures"
}

# The checker can fail: a rejected flag in a block it runs and in a skipped one, an unknown
# subcommand; and a skipped command the parser accepts passes.
mkdir -p "$scratch/selfcheck"
expect_failures() {
  local want="$1" markdown="$scratch/selfcheck/example.md"
  cat >"$markdown"
  check "$markdown" "$scratch/selfcheck" >"$scratch/selfcheck/out" 2>&1
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: the checker found $got failures, want $want, in:"
    sed 's/^/    | /' "$markdown"
    sed 's/^/    > /' "$scratch/selfcheck/out"
    exit 1
  fi
}
expect_failures 1 <<'EOF'
```sh
stodepth report paper-cifar10 --db x
```
EOF
expect_failures 1 <<'EOF'
<!-- example: skip (a cluster) -->
```sh
stodepth status paper-cifar10 --db /nonexistent/results.db   # where each job is
stodepth report paper-cifar10 --db /nonexistent/results.db
```
EOF
expect_failures 3 <<'EOF'
<!-- example: skip (a cluster) -->
```sh
stodepth launch sweeps/x.yaml --executor slurm \
  --partition cpu --time 24:00:00 --no-such-flag 1
n=$(stodepth query runs --format csv --colour | wc -l)
stodepth query summary --sweep x; echo ok
```
<!-- example: pending (added later) -->
```sh
stodepth serve --port 0
```
```sh
stodepth serve-all
```
EOF
expect_failures 0 <<'EOF'
<!-- example: skip (a cluster) -->
```sh
stodepth report --sweep paper-cifar10 --db /nonexistent/results.db   # "as locally"
DNNL_MAX_CPU_ISA=AVX2 stodepth query sql "SELECT * FROM runs" --db /nonexistent.db | head
```
EOF
echo "the checker fails on rejected flags and subcommands, and passes accepted ones"

# The scratch directory the examples run in: the shipped sweeps and a small database holding a
# sweep named quickstart (ResNet-8, p_L 1 and 0.5, two seeds, 20 iterations).
work="$scratch/work"
mkdir -p "$work/fixture"
cp -r "$sweeps" "$work/sweeps"   # a copy: examples may write beside them
cat >"$work/fixture/quickstart.yaml" <<'EOF'
name: quickstart
description: a tiny stand-in for the quickstart sweep
base:
  dataset: {name: fashion-mnist, train_subset: 1280, test_subset: 400}
  model: {depth: 8}
  train: {iterations: 20, batch: 64, lr: {schedule: cosine, base: 0.1}}
  eval: {every: 5, batch: 200}
grid:
  stochastic_depth.p_L: [1.0, 0.5]
seeds: [1, 2]
EOF
if ! (cd "$work" && stodepth launch fixture/quickstart.yaml --db out/results.db --quiet \
  --threads-per-job 1 >"$scratch/fixture.log" 2>&1); then
  echo "FAIL: the fixture's launch failed:"
  cat "$scratch/fixture.log"
  exit 1
fi

echo "README examples ($readme):"
check "$readme" "$work"
failures=$?
if [ "$failures" -ne 0 ]; then
  echo "$failures README example(s) failed"
  exit 1
fi
echo "every README example ran or parsed"
