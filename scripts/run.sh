#!/usr/bin/env bash
# Installs the dependencies, builds recondbd and runs it in the foreground on
# 127.0.0.1:7470 with its SQLite database in ./data (Ctrl-C stops it cleanly).
# Extra arguments go to recondbd, e.g. scripts/run.sh --listen=127.0.0.1:7471
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target recondbd recondb_bench
mkdir -p data
exec build/daemon/recondbd --listen=127.0.0.1:7470 --data_dir=data "$@"
