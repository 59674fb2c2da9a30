#!/usr/bin/env bash
# Checked thread safety and sanitizers (docs/reliability.md, "Sanitizers and
# thread-safety analysis"). Exits non-zero on any finding.
#   scripts/sanitize.sh tsa      clang's -Werror=thread-safety over every
#                                translation unit of the tree (-fsyntax-only: the
#                                analysis runs before code generation), build-tsa
#   scripts/sanitize.sh address  the unit suites (ctest -L unit: engine, storage,
#                                reconciler, common, auth) under ASan+UBSan+LSan, build-asan
#   scripts/sanitize.sh thread   the same suites under TSan, build-tsan
#   scripts/sanitize.sh all      all three (the default)
# JOBS (default 2) sets the build's and ctest's parallelism. The build
# directories are kept, so that a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mode=${1:-all}
jobs=${JOBS:-2}
case "$mode" in
  tsa|address|thread|all) ;;
  *) echo "usage: $0 [address|thread|tsa|all]" >&2; exit 1 ;;
esac

# Only what the unit suites need: their directories' targets (and what those link).
unit_targets=(engine/all storage/all reconciler/all common/all auth/all)
supp=$root/tests/sanitizers

configure() {  # build dir, RECONDB_SANITIZE, more cmake arguments
  # -O1: the sanitizers' own advice, and a cold build (CI) at half the time of -O2.
  CC=clang CXX=clang++ cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g -DNDEBUG" -DRECONDB_SANITIZE="$2" "${@:3}" >/dev/null
}

run_tsa() {
  echo "== tsa: -Werror=thread-safety over the whole tree (build-tsa)"
  configure build-tsa ""
  # Generated headers first (protoc); nothing else is compiled.
  mapfile -t generated < <(ninja -C build-tsa -t targets all | sed -n 's/^\([^/][^:]*\.pb\.h\): .*/\1/p' | sort -u)
  ninja -C build-tsa -j"$jobs" "${generated[@]}" >/dev/null
  python3 scripts/syntax_check.py build-tsa "$jobs"
}

run_unit() {  # build dir
  ninja -C "$1" -j"$jobs" "${unit_targets[@]}"
  ctest --test-dir "$1" -L unit -j"$jobs" --timeout 600 --output-on-failure
}

run_address() {
  echo "== address: unit suites under ASan+UBSan+LSan (build-asan)"
  # Exported before the build too: gtest_discover_tests runs each test binary.
  export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1:check_initialization_order=1"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
  export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
  # With the fuzz targets declared (same sanitizers), so that
  # `scripts/fuzz.sh --build-dir build-asan` reuses these libraries (.ci/run).
  configure build-asan "address,undefined" -DRECONDB_FUZZ=ON
  run_unit build-asan
}

run_thread() {
  echo "== thread: unit suites under TSan (build-tsan)"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp:print_suppressions=0"
  configure build-tsan "thread"
  run_unit build-tsan
}

case "$mode" in
  tsa) run_tsa ;;
  address) run_address ;;
  thread) run_thread ;;
  all) run_tsa; (run_address); (run_thread) ;;
esac
echo "sanitize.sh $mode: no findings"
