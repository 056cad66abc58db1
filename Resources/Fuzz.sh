#!/usr/bin/env bash
# Builds the libFuzzer harness of the engine (Fuzz/, clang, ASan + UBSan) in
# ./build-fuzz and runs it for SECONDS (default 60) on the corpus in
# build-fuzz/corpus, seeded from pydicom's test files. Exits non-zero on a
# crash, a sanitizer report or a broken invariant; the input is then in
# build-fuzz/artifacts/ (replay: build-fuzz/DeidFuzzer build-fuzz/artifacts/<file>).
# A longer campaign: bash Resources/Fuzz.sh 3600  (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
DIR=build-fuzz

cmake -S . -B "$DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTS=OFF -DDEID_FUZZ=ON \
      -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 >/dev/null
cmake --build "$DIR" -j"$(nproc)" --target DeidFuzzer
mkdir -p "$DIR/corpus" "$DIR/artifacts"

# -max_len: the seeds are up to 40 KB but three (kept truncated); 64 KB keeps
#   each run in milliseconds. -malloc_limit_mb above 4 GB: a 32-bit declared
#   length is refused before allocation (Engine/DeclaredLengths), a larger
#   malloc is a finding. -rss_limit_mb bounds real memory.
LOG="$DIR/fuzz.log"
status=0
"$DIR/DeidFuzzer" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -rss_limit_mb=2048 \
  -malloc_limit_mb=4200 -timeout=30 -print_final_stats=1 -artifact_prefix="$DIR/artifacts/" \
  "$DIR/corpus" "$DIR/fuzz-seeds" >"$LOG" 2>&1 || status=$?
grep -E "^#[0-9]+ +(DONE|INITED)|^stat::|^Done" "$LOG" || true
if [ "$status" -ne 0 ]; then
  echo "The fuzzer found a fault (exit $status): $DIR/artifacts/, log $LOG" >&2
  grep -v "^#[0-9]" "$LOG" | tail -n 80 >&2
  exit 1
fi
