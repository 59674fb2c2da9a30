#!/bin/sh
# Runs the standard benchmark set of tools/DESIGN.md on this machine:
# starts recondbd (SQLite, durable, fresh temporary data directory) and
# recondb_echo_server on free loopback ports, and one more of each on a Unix
# socket (the address of clients on the same machine), runs recondb_bench
# against them, prints one JSON line per run, and stops every process by PID.
#
#   tools/run_benchmarks.sh [BUILD_DIR] [DURATION_S]
#
# BUILD_DIR defaults to ./build, DURATION_S to 10.
set -eu
. "$(dirname "$0")/bench/daemons.sh"

BUILD=${1:-build}
DURATION=${2:-10}
RECONDBD="$BUILD/daemon/recondbd"
ECHO="$BUILD/tools/recondb_echo_server"
BENCH="$BUILD/tools/recondb_bench"
for f in "$RECONDBD" "$ECHO" "$BENCH"; do
  [ -x "$f" ] || { echo "missing $f: build the recondbd, recondb_echo_server and recondb_bench targets" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/recondb-bench-XXXXXX")
DAEMON_PID=
ECHO_PID=
UNIX_DAEMON_PID=
UNIX_ECHO_PID=
cleanup() {
  stop_pids $DAEMON_PID $ECHO_PID $UNIX_DAEMON_PID $UNIX_ECHO_PID
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

mkdir "$WORK/data"
"$RECONDBD" --listen=127.0.0.1:0 --data_dir="$WORK/data" --storage=sqlite >"$WORK/recondbd.log" 2>&1 &
DAEMON_PID=$!
"$ECHO" --listen=127.0.0.1:0 >"$WORK/echo.log" 2>&1 &
ECHO_PID=$!
mkdir "$WORK/unix-data"
"$RECONDBD" --listen="unix:$WORK/recondbd.sock" --data_dir="$WORK/unix-data" --storage=sqlite \
  >"$WORK/recondbd-unix.log" 2>&1 &
UNIX_DAEMON_PID=$!
"$ECHO" --listen="unix:$WORK/echo.sock" >"$WORK/echo-unix.log" 2>&1 &
UNIX_ECHO_PID=$!
DB=$(wait_listening "$WORK/recondbd.log")
EC=$(wait_listening "$WORK/echo.log")
DB_UNIX=$(wait_listening "$WORK/recondbd-unix.log")
EC_UNIX=$(wait_listening "$WORK/echo-unix.log")

echo "# $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
run() {
  "$BENCH" --duration_s="$DURATION" --json "$@" | tail -n 1
}
run --addr="$EC" --mode=echo --concurrency=16
run --addr="$DB" --mode=get --concurrency=16 --records=1000
run --addr="$EC" --mode=echo --concurrency=1
run --addr="$DB" --mode=put --concurrency=1
run --addr="$EC_UNIX" --mode=echo --concurrency=1
run --addr="$DB_UNIX" --mode=put --concurrency=1
run --addr="$DB" --mode=put --concurrency=16
run --addr="$DB" --mode=mixed --concurrency=16 --records=1000
