#!/usr/bin/env bash
# Builds errand's libFuzzer targets (tests/fuzz, clang++ with ASan and UBSan)
# and runs each for FUZZ_SECONDS (default 60), starting from the committed
# seed corpus in tests/fuzz/corpus/<target> (read only: what the fuzzer finds
# goes to $BUILD/fuzz/corpus/<target>). Stops at the first crash, leak or
# timeout, with the reproducing input saved as $BUILD/fuzz/crash-<target>-*;
# replay one with: $BUILD/fuzz/fuzz_<target> <file>.
#   FUZZ_SECONDS=5 scripts/fuzz.sh          # the short run `make test` does
#   FUZZ_TARGETS="parse cron" scripts/fuzz.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
case "$build" in /*) ;; *) build=$root/$build ;; esac
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"envelope parse active_job cron config"}
out=$build/fuzz

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$root/tests/fuzz" -B "$out" -G Ninja -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" >/dev/null
cmake --build "$out" -j "${JOBS:-2}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in $targets; do
  mkdir -p "$out/corpus/$t"
  echo "fuzz_$t: ${seconds}s"
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb bounds memory.
  "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$out/crash-$t-" \
    "$out/corpus/$t" "$root/tests/fuzz/corpus/$t" 2>"$out/fuzz_$t.log" || {
    tail -n 60 "$out/fuzz_$t.log"
    echo "fuzz_$t failed: input saved as $out/crash-$t-* (log: $out/fuzz_$t.log)" >&2
    exit 1
  }
  grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$out/fuzz_$t.log" | tr '\n' ' '
  echo
done
