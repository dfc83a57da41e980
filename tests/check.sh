#!/usr/bin/env bash
# The set-up the shell tests of the CLI share, sourced first:
#   source "$(dirname "$0")/check.sh" "$@"
# - $bin is the stodepth binary, the test's first argument;
# - $work is a temporary directory, removed at exit;
# - check DESCRIPTION COMMAND... runs COMMAND and counts it in $passes, or prints
#   "FAIL: DESCRIPTION" and counts it in $failures; fail MESSAGE prints "FAIL: MESSAGE" and
#   counts it in $failures;
# - sql QUERY runs QUERY on the database $db (waiting up to 5 s for another writer's lock);
# - check_summary prints "N passed, M failed" and exits 1 if a check failed.
set -u
bin="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passes=0
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
check() {
  local what="$1"
  shift
  if "$@"; then passes=$((passes + 1)); else fail "$what"; fi
}
sql() { sqlite3 -batch -noheader -cmd ".timeout 5000" "$db" "$1"; }

check_summary() {
  echo "$passes passed, $failures failed"
  [ "$failures" -eq 0 ] || exit 1
  exit 0
}
