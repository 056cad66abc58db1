#!/usr/bin/env bash
# Builds the plugin and the unit tests with AddressSanitizer and
# UndefinedBehaviorSanitizer (gcc, -DDEID_SANITIZE=ON) in ./build-asan, runs
# every unit test, then a subset of the integration tests with the plugin
# loaded in the real /usr/sbin/Orthanc (not instrumented: gcc's ASan runtime
# is preloaded). Any sanitizer report fails the run. Expects DEID_TEST_POSTGRES
# to be set as in Resources/RunTests.sh (or the PostgreSQL tests are skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DIR=build-asan

cmake -S . -B "$DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEID_SANITIZE=ON >/dev/null
cmake --build "$DIR" -j"$(nproc)"

# Leak detection stays on for the unit tests (our code only).
export ASAN_OPTIONS="halt_on_error=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
echo "== Unit tests under ASan + UBSan =="
ctest --test-dir "$DIR" --output-on-failure -j2

# The subset: the routes, failure paths, encryption and re-identification,
# and the bad inputs (the corpus, key store and two-node tests repeat the same
# engine paths on more files and are left to the normal build; see README).
echo "== Integration tests under ASan + UBSan (plugin in the real Orthanc) =="
export DEID_PLUGIN="$ROOT/$DIR/libOrthancDeidentification.so"
export DEID_SANITIZER_RUNTIME
DEID_SANITIZER_RUNTIME=$(gcc -print-file-name=libasan.so)
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1"
export DEID_CLI="$ROOT/$DIR/orthanc-deidentify"   # the CLI itself is instrumented
/usr/bin/python3 -m pytest -q -rs -p no:cacheprovider \
  IntegrationTests/test_plugin.py IntegrationTests/test_failures.py \
  IntegrationTests/test_encrypted_attributes.py IntegrationTests/test_bad_inputs.py \
  IntegrationTests/test_cli.py
