#!/usr/bin/env bash
# scripts/run.sh --build-only on an already built tree (issue 15): it builds
# what the README's next steps use — the CLI (build/tools/recondb) and the
# Python stubs (build/python), not only recondbd — returns instead of
# starting the daemon, and installs nothing when the packages are present.
#   run_sh_test.sh SOURCE_DIR BUILD_DIR
# It removes the CLI and one stub file from BUILD_DIR first, so only a run.sh
# that builds them passes; ctest runs it alone (RUN_SERIAL), since other tests
# use those files. They are rebuilt on any exit.
set -euo pipefail
src=$1
build=$2
cli=$build/tools/recondb
stub=$build/python/recondb/v1/database_pb2_grpc.py

restore() { cmake --build "$build" --target recondb recondb_python_stubs >/dev/null; }
trap restore EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# No package may be installed: apt-get and sudo, if called, leave a mark.
fake_bin=$(mktemp -d)
trap 'rm -rf "$fake_bin"; restore' EXIT
for tool in apt-get sudo; do
  printf '#!/bin/sh\necho "$0 $*" >> %s/called\nexit 1\n' "$fake_bin" > "$fake_bin/$tool"
  chmod +x "$fake_bin/$tool"
done

rm -f "$cli" "$stub"
out=$(PATH="$fake_bin:$PATH" RECONDB_BUILD_DIR="$build" "$src/scripts/run.sh" --build-only 2>&1) \
  || fail "run.sh --build-only exited $?: $out"
[[ ! -e "$fake_bin/called" ]] || fail "run.sh tried to install packages: $(cat "$fake_bin/called")"
[[ -x "$cli" ]] || fail "run.sh did not build $cli"
[[ -f "$stub" ]] || fail "run.sh did not build the Python stubs ($stub)"
"$cli" --help | grep -q "Usage: recondb" || fail "$cli --help"
# The README's Python example imports grpc and the stubs.
PYTHONPATH="$build/python" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -c \
  'import grpc; from recondb.v1 import database_pb2, database_pb2_grpc' \
  || fail "the README's Python imports"
echo PASS
