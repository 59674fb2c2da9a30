#!/usr/bin/env bash
# The long partition test (docs/reliability.md, "Partitions"): builds recondbd
# and the Python stubs, then runs tests/partition/partition_test.py (as root:
# network namespaces and nft).
#   scripts/partition-loop.sh [--rounds N] [--nodes 3-5] [--seed S] [--build DIR] [more flags]
# Default 50 rounds of 6 phases (1-6 s each), node count 3 to 5 drawn per round
# unless given.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=50
build=build
nodes=""
extra=()
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --rounds=*) rounds=${1#*=}; shift ;;
    --nodes) nodes=$2; shift 2 ;;
    --nodes=*) nodes=${1#*=}; shift ;;
    --build) build=$2; shift 2 ;;
    --build=*) build=${1#*=}; shift ;;
    --seed) extra+=("--seed=$2"); shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done

[[ -f "$build/build.ninja" ]] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
ninja -C "$build" recondbd recondb_python_stubs
# One process per round so that each round gets fresh namespaces (and, with
# --nodes unset, its own node count); a failing round stops the loop.
for ((round = 1; round <= rounds; round++)); do
  n=${nodes:-$((3 + RANDOM % 3))}
  echo "== partition round $round/$rounds: $n nodes"
  PYTHONPATH="$build/python" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 tests/partition/partition_test.py \
    --recondbd="$build/daemon/recondbd" --nodes="$n" --phases=6 --max_phase_s=6 --rounds=1 "${extra[@]}"
done
echo "partition-loop: $rounds rounds passed"
