#!/usr/bin/env bash
# The set-up every Slurm shell test shares, sourced first:
#   source "$(dirname "$0")/slurm/setup.sh" [TOOL...]
# - skips the test (exit 77) unless the Slurm daemons and clients, and each TOOL it names
#   besides, are installed — the one reason a Slurm test may skip (tools/test installs them);
# - loads the test cluster's functions (cluster.sh: slurm_cluster_start DIR, slurm_cluster_stop);
# - makes a temporary directory $work and enters it; at exit the cluster, if started, is
#   stopped and $work removed;
# - check DESCRIPTION COMMAND... runs COMMAND and prints "ok: ..." or "FAIL: ..." (counted in
#   $failures); slurm_test_result prints the outcome and exits 1 if a check failed.
set -u
for tool in munged slurmctld slurmd sbatch squeue sinfo scancel "$@"; do
  command -v "$tool" >/dev/null || {
    echo "SKIP: $tool not installed (tools/setup installs slurmctld slurmd slurm-client munge sqlite3)"
    exit 77
  }
done
source "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
work=$(mktemp -d)
trap 'slurm_cluster_stop; rm -rf "$work"' EXIT
cd "$work" || exit 1

failures=0
check() {
  local what="$1"
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

slurm_test_result() {
  if ((failures > 0)); then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "all checks passed"
  exit 0
}
