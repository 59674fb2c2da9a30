#!/usr/bin/env bash
# The top-level build's options (docs/embedding.md): with the tests off it
# configures although GoogleTest, Benchmark and Python cannot be found, and
# with the daemon off too it needs no gRPC either. Configure only (no build),
# each in a scratch directory.
# usage: build_options_test.sh SOURCE_DIR
set -euo pipefail
src=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
no_test_deps=(-DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON
              -DCMAKE_DISABLE_FIND_PACKAGE_Python3=ON)

cmake --no-warn-unused-cli -S "$src" -B "$scratch/no-tests" -G Ninja -DRECONDB_BUILD_TESTS=OFF "${no_test_deps[@]}" >/dev/null
grep -q '^build daemon/recondbd: ' "$scratch/no-tests/build.ninja"
if grep -q '_test: ' "$scratch/no-tests/build.ninja"; then
  echo "a test target is declared with RECONDB_BUILD_TESTS=OFF" >&2; exit 1
fi

cmake --no-warn-unused-cli -S "$src" -B "$scratch/engine-only" -G Ninja -DRECONDB_BUILD_TESTS=OFF -DRECONDB_BUILD_DAEMON=OFF \
  "${no_test_deps[@]}" -DCMAKE_DISABLE_FIND_PACKAGE_gRPC=ON >/dev/null
grep -q 'librecondb_engine.a' "$scratch/engine-only/build.ninja"
if grep -q 'recondbd' "$scratch/engine-only/build.ninja"; then
  echo "recondbd is declared with RECONDB_BUILD_DAEMON=OFF" >&2; exit 1
fi

# Without the tests' dependencies, a build that asks for tests says which is missing.
if cmake --no-warn-unused-cli -S "$src" -B "$scratch/tests-no-gtest" -G Ninja -DRECONDB_BUILD_TESTS=ON \
     -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON >"$scratch/out" 2>&1; then
  echo "configured with tests on and no GoogleTest" >&2; exit 1
fi
grep -q GTest "$scratch/out"
echo "build options OK"
