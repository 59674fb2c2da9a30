#!/usr/bin/env bash
# Installs what building and running need (scripts/install-deps.sh --run: no
# Node.js, none of the tests' packages), builds recondbd, the recondb CLI
# (build/tools/recondb), the Python stubs (build/python) and recondb_bench,
# then runs recondbd in the foreground on 127.0.0.1:7470 with its SQLite
# database in ./data (Ctrl-C stops it cleanly).
#   scripts/run.sh [RECONDBD FLAGS]   e.g. scripts/run.sh --listen=127.0.0.1:7471
#   scripts/run.sh --build-only       install and build, do not start the daemon
# RECONDB_BUILD_DIR (default: build) is the build tree. One that is already
# configured keeps its configuration (ninja re-runs CMake when a CMakeLists
# changes).
set -euo pipefail
cd "$(dirname "$0")/.."

# What the README's next steps use: the daemon, the CLI, the stubs of its
# Python example, the benchmark client.
build_targets=(recondbd recondb recondb_python_stubs recondb_bench)

build_only=0
if [[ "${1:-}" == --build-only ]]; then
  build_only=1
  shift
fi
build_dir=${RECONDB_BUILD_DIR:-build}

scripts/install-deps.sh --run
if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build_dir" --target "${build_targets[@]}"
if ((build_only)); then exit 0; fi
mkdir -p data
exec "$build_dir/daemon/recondbd" --listen=127.0.0.1:7470 --data_dir=data "$@"
