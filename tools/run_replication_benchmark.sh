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

BUILD=${1:-build}
RECORDS=${2:-100000}
RECONDBD="$BUILD/daemon/recondbd"
BENCH="$BUILD/tools/recondb_bench"
for f in "$RECONDBD" "$BENCH"; do
  [ -x "$f" ] || { echo "missing $f: build the recondbd and recondb_bench targets" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/recondb-replication-bench-XXXXXX")
SOURCE_PID=
RECEIVER_PID=
cleanup() {
  for pid in $SOURCE_PID $RECEIVER_PID; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $SOURCE_PID $RECEIVER_PID; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# Waits (up to 20 s) for `listening on HOST:PORT` in log $1; prints HOST:PORT.
wait_listening() {
  i=0
  while [ $i -lt 1000 ]; do
    addr=$(sed -n 's/.*listening on \([^ ]*:[0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
    if [ -n "$addr" ]; then echo "$addr"; return 0; fi
    sleep 0.02
    i=$((i + 1))
  done
  echo "no 'listening on' line in $1:" >&2
  cat "$1" >&2
  return 1
}

mkdir "$WORK/source" "$WORK/receiver"
"$RECONDBD" --listen=127.0.0.1:0 --data_dir="$WORK/source" >"$WORK/source.log" 2>&1 &
SOURCE_PID=$!
"$RECONDBD" --listen=127.0.0.1:0 --data_dir="$WORK/receiver" >"$WORK/receiver.log" 2>&1 &
RECEIVER_PID=$!
SOURCE=$(wait_listening "$WORK/source.log")
RECEIVER=$(wait_listening "$WORK/receiver.log")

echo "# $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$BENCH" --mode=replicate --addr="$RECEIVER" --source_addr="$SOURCE" --records="$RECORDS" \
  --receiver_pid="$RECEIVER_PID" --json
