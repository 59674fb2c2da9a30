#!/usr/bin/env bash
# Installs recondb's libraries from a finished build into a scratch prefix
# (cmake --install, component dev), builds examples/embedded against them with
# find_package(recondb) as an outside project would, and runs it twice on one
# data directory: the second run sees the first run's todo. Also checks that
# the embedding program links no gRPC (the engine does not need it).
# usage: run_embedded_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cmake --install "$build" --prefix "$scratch/prefix" --component dev >/dev/null
test -f "$scratch/prefix/lib/cmake/recondb/recondbConfig.cmake"
test -f "$scratch/prefix/include/recondb/engine/engine.h"
test -f "$scratch/prefix/include/recondb/v1/types.pb.h"

cmake -S "$src/examples/embedded" -B "$scratch/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/build" >/dev/null

mkdir "$scratch/data"
first=$("$scratch/build/embedded_todo" "$scratch/data")
second=$("$scratch/build/embedded_todo" "$scratch/data")
echo "first run:"; echo "$first"
echo "second run:"; echo "$second"
[ "$(echo "$first" | grep -c ' 1-[0-9a-f]\{32\} Buy milk$')" = 1 ]
[ "$(echo "$second" | grep -c ' 1-[0-9a-f]\{32\} Buy milk$')" = 2 ]
# The first run's todo, with the same id and revision, is among the second's.
echo "$second" | grep -qxF "$first"

if ldd "$scratch/build/embedded_todo" | grep -q libgrpc; then
  echo "embedded_todo links gRPC:" >&2
  ldd "$scratch/build/embedded_todo" >&2
  exit 1
fi
echo "embedded example OK"
