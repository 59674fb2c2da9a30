# Shell helpers shared by tools/run_benchmarks.sh and
# tools/run_replication_benchmark.sh (sourced, POSIX sh).

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
