#!/bin/sh
# Issue 3's replication benchmark: starts two recondbd (SQLite, durable, fresh
# temporary data directories) on free loopback ports, loads RECORDS todo-sized
# records into the first, and runs `recondb_bench --mode=replicate`: a full pull
# by the second node (Admin.Sync), an incremental sync of 1,000 changed
# records, and the receiver's peak RSS. Stops both daemons by PID.
#
#   tools/run_replication_benchmark.sh [BUILD_DIR] [RECORDS]
#
# BUILD_DIR defaults to ./build, RECORDS to 100000.
set -eu
. "$(dirname "$0")/bench/daemons.sh"

BUILD=${1:-build}
RECORDS=${2:-100000}
RECONDBD="$BUILD/daemon/recondbd"
BENCH="$BUILD/tools/recondb_bench"
require_executables "$RECONDBD" "$BENCH"
make_work_dir recondb-replication-bench

mkdir "$WORK/source" "$WORK/receiver"
start_server "$WORK/source.log" "$RECONDBD" --listen=127.0.0.1:0 --data_dir="$WORK/source"
start_server "$WORK/receiver.log" "$RECONDBD" --listen=127.0.0.1:0 --data_dir="$WORK/receiver"
RECEIVER_PID=$LAST_SERVER_PID
SOURCE=$(wait_listening "$WORK/source.log")
RECEIVER=$(wait_listening "$WORK/receiver.log")

echo "# $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$BENCH" --mode=replicate --addr="$RECEIVER" --source_addr="$SOURCE" --records="$RECORDS" \
  --receiver_pid="$RECEIVER_PID" --json
