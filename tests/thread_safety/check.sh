#!/usr/bin/env bash
# Proves clang's -Wthread-safety sees the annotations of src/core/mutex.h:
# probe.cc compiles and runs as is, and each of its PROBE_CASE variants (an
# unguarded read, a write under a reader lock, ...) is rejected.
# Usage: check.sh CLANG++ SOURCE_DIR WORK_DIR
set -euo pipefail
cxx=$1 src=$2 work=$3
mkdir -p "$work"
flags=(-std=c++20 -I"$src/src" -Wall -Wextra -Wthread-safety -Werror -pthread)
probe=$src/tests/thread_safety/probe.cc
"$cxx" "${flags[@]}" -DPROBE_CASE=0 "$probe" -o "$work/probe"
"$work/probe"
echo "ok: the annotated probe compiles and runs"
failed=0
for n in 1 2 3 4 5 6 7; do
  if "$cxx" "${flags[@]}" -DPROBE_CASE=$n -fsyntax-only "$probe" 2>"$work/case$n.log"; then
    echo "FAIL: case $n compiled, the analysis did not see it"
    failed=1
  elif grep -q 'Wthread-safety' "$work/case$n.log"; then
    echo "ok: case $n rejected: $(grep -m1 'error:' "$work/case$n.log" | sed 's/.*error: //')"
  else
    echo "FAIL: case $n failed for another reason:"
    cat "$work/case$n.log"
    failed=1
  fi
done
exit $failed
