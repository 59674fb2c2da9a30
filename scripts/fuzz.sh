#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, RECONDB_FUZZ=ON, in a build
# directory of their own) and runs each for a while over a scratch copy of
# its seed corpus (fuzz/corpus/<target>/ and fuzz/regressions/<target>/,
# never written to) with its
# dictionary. Fails if any target crashes, leaks, times out or runs out of
# memory; the input that did it is kept under <build dir>/fuzz-artifacts/.
#   scripts/fuzz.sh [--build-dir DIR] [--seconds N] [--seed S] [--jobs N] [target...]
# --seed fixes libFuzzer's random seed (CI passes one, so that its mutations
# are the same on every run; without it each run explores anew).
#   scripts/fuzz.sh --regenerate-corpus     rewrite fuzz/corpus from real
#                                           encodings (fuzz/make_corpus.cc)
# Targets: revision attributes page_token database_service
# replication_session (default: all). Default: build-fuzz, 60 s each.
# docs/reliability.md ("Fuzzing") says how to run long.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$repo/build-fuzz
seconds=60
jobs=${JOBS:-2}
regenerate=0
seed=
targets=()
while (($#)); do
  case "$1" in
    --build-dir) build_dir=$(realpath -m "$2"); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --regenerate-corpus) regenerate=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(revision attributes page_token database_service replication_session)
for t in "${targets[@]}"; do
  [[ -f $repo/fuzz/${t}_fuzzer.cc ]] || { echo "fuzz.sh: no target $t" >&2; exit 2; }
done

if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  CC=clang CXX=clang++ cmake -S "$repo" -B "$build_dir" -G Ninja -DRECONDB_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi

if ((regenerate)); then
  ninja -C "$build_dir" -j"$jobs" make_corpus
  "$build_dir/fuzz/make_corpus" "$repo/fuzz/corpus"
  echo "fuzz.sh: regenerated $repo/fuzz/corpus"
  exit 0
fi

ninja -C "$build_dir" -j"$jobs" "${targets[@]/%/_fuzzer}"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/recondb-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
failed=()
summary=()
for t in "${targets[@]}"; do
  corpus=$scratch/$t
  mkdir -p "$corpus"
  # Seeds, and the inputs that once failed (fuzz/regressions/<target>/).
  for dir in "$repo/fuzz/corpus/$t" "$repo/fuzz/regressions/$t"; do
    [[ -d $dir ]] && cp "$dir"/* "$corpus"/ 2>/dev/null || true
  done
  artifacts=$build_dir/fuzz-artifacts/$t
  mkdir -p "$artifacts"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -max_len=8192
        -print_final_stats=1 -artifact_prefix="$artifacts/")
  [[ -f $repo/fuzz/$t.dict ]] && args+=(-dict="$repo/fuzz/$t.dict")
  [[ -z $seed ]] || args+=(-seed="$seed")
  log=$scratch/$t.log
  echo "== $t: ${seconds}s"
  status=0
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    "$build_dir/fuzz/${t}_fuzzer" "${args[@]}" "$corpus" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if ((status)); then
    # The report and the input libFuzzer kept ("Test unit written to ...").
    grep -E "ERROR|invariant failed|runtime error|Test unit written|SUMMARY|timeout" "$log" | head -20
    mkdir -p "$artifacts" && cp "$log" "$artifacts/last.log"
    echo "   FAILED (exit $status); full log: $artifacts/last.log"
    failed+=("$t")
    summary+=("$t: FAILED after ${execs:-?} executions")
  else
    summary+=("$t: ${execs:-?} executions (${rate:-?}/s), no crash")
  fi
done
echo "== summary"
printf '   %s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
