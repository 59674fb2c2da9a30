# Shell helpers shared by tools/run_benchmarks.sh and
# tools/run_replication_benchmark.sh (sourced, POSIX sh).

# Exits 1 naming the first of the given files that is not executable.
require_executables() {
  for f in "$@"; do
    [ -x "$f" ] || { echo "missing $f: build it first (tools/DESIGN.md)" >&2; exit 1; }
  done
}

# Sets WORK to a new temporary directory named after $1, and traps the
# script's end (however it ends) to stop every server started with
# start_server, by PID, and remove WORK.
SERVER_PIDS=
make_work_dir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1-XXXXXX")
  trap 'stop_pids $SERVER_PIDS; rm -rf "$WORK"' EXIT
  trap 'exit 130' INT TERM
}

# start_server LOG COMMAND [ARGS...]: runs the command in the background,
# its output in LOG, and remembers its PID for the cleanup.
start_server() {
  log=$1
  shift
  "$@" >"$log" 2>&1 &
  SERVER_PIDS="$SERVER_PIDS $!"
  LAST_SERVER_PID=$!
}

# Waits (up to 20 s) for `listening on HOST:PORT` (or `listening on
# unix:PATH`) in log $1; prints the address.
wait_listening() {
  i=0
  while [ $i -lt 1000 ]; do
    addr=$(sed -n 's/.*listening on \(unix:[^ ]*\|[^ ]*:[0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
    if [ -n "$addr" ]; then echo "$addr"; return 0; fi
    sleep 0.02
    i=$((i + 1))
  done
  echo "no 'listening on' line in $1:" >&2
  cat "$1" >&2
  return 1
}

# SIGTERM to every PID given, then waits for each.
stop_pids() {
  for pid in "$@"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "$@"; do
    wait "$pid" 2>/dev/null || true
  done
}
