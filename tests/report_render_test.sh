#!/usr/bin/env bash
# A report of a real (tiny) sweep renders in headless Chromium to a PNG without console
# errors (e.g. a blocked resource). usage: report_render_test.sh path/to/stodepth
source "$(dirname "$0")/check.sh" "$@"
cat >"$work/tiny.yaml" <<'YAML'
name: tiny
description: <script>alert("not run")</script>
base:
  dataset: {name: synthetic, train_subset: 1000, test_subset: 200}
  model: {depth: 8}
  train: {epochs: 1, batch: 50, lr: {schedule: cosine, base: 0.05}}
  eval: {every: 1, batch: 100}
grid:
  stochastic_depth.p_L: [1.0, 0.5]
seeds: [1, 2]
YAML
"$bin" launch "$work/tiny.yaml" --db "$work/r.db" --quiet >/dev/null || { echo "FAIL: launch"; exit 1; }
"$bin" report --db "$work/r.db" -o "$work/tiny.html" >/dev/null || { echo "FAIL: report"; exit 1; }
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
  --screenshot="$work/tiny.png" --window-size=1100,2400 "file://$work/tiny.html" \
  >"$work/chromium.log" 2>&1
check "no screenshot" test "$(stat -c %s "$work/tiny.png" 2>/dev/null || echo 0)" -gt 20000
# grep prints the console lines it finds; any line fails the check.
check "console messages while rendering" \
  bash -c '! grep -E "CONSOLE|Refused to|Uncaught" "$1"' _ "$work/chromium.log"
[ "${KEEP_SCREENSHOT:-}" ] && cp "$work/tiny.png" "$KEEP_SCREENSHOT"
check_summary
