#!/usr/bin/env bash
# The long kill -9 loop (docs/reliability.md, "Crashes: the kill -9 loop"):
# builds recondbd and the Python stubs, then runs tests/crash/kill9_loop.py.
#   scripts/kill9-loop.sh [--rounds N] [--seed S] [--build DIR] [more kill9_loop.py flags]
# Default 200 rounds; a failure prints its seed and keeps the data directory.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=200
build=build
extra=()
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --rounds=*) rounds=${1#*=}; shift ;;
    --build) build=$2; shift 2 ;;
    --build=*) build=${1#*=}; shift ;;
    --seed) extra+=("--seed=$2"); shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done

[[ -f "$build/build.ninja" ]] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
ninja -C "$build" recondbd recondb_python_stubs
# Full history checks of every record every 10th round (the others check the
# winners and every record with a write in flight): rounds stay short as the
# store grows.
PYTHONPATH="$build/python" PYTHONDONTWRITEBYTECODE=1 exec /usr/bin/python3 tests/crash/kill9_loop.py \
  --recondbd="$build/daemon/recondbd" --rounds="$rounds" --full_check_every=10 "${extra[@]}"
