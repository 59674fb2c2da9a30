#!/bin/sh
# The cost of TLS, measured in one run (docs/benchmarks.md, "Session 8"):
# two recondbd on free loopback ports, the same in all but one thing — one
# plaintext, one with TLS (certificates made by scripts/make-certs.sh in a
# temporary directory; no client certificate, --auth=off, so that only TLS
# differs) — then GetRecord at concurrency 16 and durable PutRecord at
# concurrency 1 and 16 against each, alternated plaintext/TLS for ROUNDS
# rounds so that the machine's drift falls on both alike. One JSON line per
# run ("tls": false/true); every process is stopped by PID.
#
#   tools/run_tls_benchmark.sh [BUILD_DIR] [DURATION_S] [ROUNDS]
#
# BUILD_DIR defaults to ./build, DURATION_S to 10, ROUNDS to 3.
set -eu
here=$(dirname "$0")
. "$here/bench/daemons.sh"

BUILD=${1:-build}
DURATION=${2:-10}
ROUNDS=${3:-3}
RECONDBD="$BUILD/daemon/recondbd"
BENCH="$BUILD/tools/recondb_bench"
require_executables "$RECONDBD" "$BENCH"
make_work_dir recondb-tls-bench

"$here/../scripts/make-certs.sh" "$WORK/certs" localhost >/dev/null 2>&1
mkdir "$WORK/plain" "$WORK/tls"
start_server "$WORK/plain.log" "$RECONDBD" --listen=127.0.0.1:0 --data_dir="$WORK/plain"
start_server "$WORK/tls.log" "$RECONDBD" --listen=127.0.0.1:0 --data_dir="$WORK/tls" \
  --tls_cert="$WORK/certs/localhost.pem" --tls_key="$WORK/certs/localhost.key"
PLAIN=$(wait_listening "$WORK/plain.log")
TLS=$(wait_listening "$WORK/tls.log")

echo "# $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
run() {
  "$BENCH" --duration_s="$DURATION" --json "$@" | tail -n 1
}
# Each side: its own table, preloaded once by the first get run.
round=0
while [ "$round" -lt "$ROUNDS" ]; do
  for side in plain tls; do
    if [ "$side" = plain ]; then
      set -- --addr="$PLAIN"
    else
      set -- --addr="$TLS" --tls_ca="$WORK/certs/ca.pem"
    fi
    run "$@" --mode=get --concurrency=16 --records=1000
    run "$@" --mode=put --concurrency=1
    run "$@" --mode=put --concurrency=16
  done
  round=$((round + 1))
done
