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
require_executables "$RECONDBD" "$ECHO" "$BENCH"
make_work_dir recondb-bench

mkdir "$WORK/data" "$WORK/unix-data"
start_server "$WORK/recondbd.log" "$RECONDBD" --listen=127.0.0.1:0 --data_dir="$WORK/data"
start_server "$WORK/echo.log" "$ECHO" --listen=127.0.0.1:0
start_server "$WORK/recondbd-unix.log" "$RECONDBD" --listen="unix:$WORK/recondbd.sock" \
  --data_dir="$WORK/unix-data"
start_server "$WORK/echo-unix.log" "$ECHO" --listen="unix:$WORK/echo.sock"
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
