#!/usr/bin/env bash
# `stodepth serve` as a command: one line with the URL once it listens (the real port for
# --port 0), pages served from it, exit 0 on SIGINT and on SIGTERM, a warning for an address
# other than 127.0.0.1, exit 2 for a port that is taken or out of range.
# usage: serve_command_test.sh path/to/stodepth
source "$(dirname "$0")/check.sh" "$@"

# start ARGS...: runs `serve` in the background until its URL line; sets pid and url.
start() {
  "$bin" serve --db "$work/none.db" "$@" >"$work/out" 2>"$work/err" &
  pid=$!
  url=""
  for _ in $(seq 100); do
    url=$(sed -n 's|^serving .* at \(http://.*/\)$|\1|p' "$work/out")
    [[ -n "$url" ]] && return 0
    sleep 0.1
  done
  fail "serve $*: no URL line (stdout: $(cat "$work/out"), stderr: $(cat "$work/err"))"
}

# get URL: the HTTP status and body of a GET (bash's /dev/tcp: no client needed).
get() {
  local hostport="${1#http://}"
  hostport="${hostport%%/*}"
  local path="/${1#http://*/}"
  exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}"
  printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$hostport" >&3
  cat <&3
  exec 3<&-
}

for signal in INT TERM; do
  start --port 0
  [[ "$url" =~ ^http://127\.0\.0\.1:[1-9][0-9]*/$ ]] || fail "URL '$url'"
  [[ $(wc -l <"$work/out") -eq 1 ]] || fail "more than one line on stdout: $(cat "$work/out")"
  # No database yet: 503 with one line, and the server goes on.
  get "${url}api/sweeps" | grep -q '^HTTP/1.1 503' || fail "no database: not 503"
  get "${url}static/app.js" | grep -q '^HTTP/1.1 200' || fail "/static/app.js: not 200"
  [[ -e "$work/none.db" ]] && fail "serving created the database"
  kill -s "$signal" "$pid"
  wait "$pid"
  code=$?
  [[ $code -eq 0 ]] || fail "SIG$signal: exit $code (want 0)"
done

start --port 0 --bind 0.0.0.0
grep -q "warning: listening on 0.0.0.0" "$work/err" || fail "--bind 0.0.0.0: no warning"
taken="${url##*:}"
taken="${taken%/}"
"$bin" serve --db "$work/none.db" --port "$taken" --bind 0.0.0.0 >/dev/null 2>"$work/err2"
code=$?
[[ $code -eq 2 ]] || fail "port $taken in use: exit $code (want 2)"
grep -q "cannot listen there" "$work/err2" || fail "port in use: $(cat "$work/err2")"
kill "$pid"
wait "$pid"

"$bin" serve --port 70000 >/dev/null 2>&1
code=$?
[[ $code -eq 2 ]] || fail "--port 70000: exit $code (want 2)"

if ((failures > 0)); then
  exit 1
fi
echo "ok: serve command"
