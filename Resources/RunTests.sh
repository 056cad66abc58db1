#!/usr/bin/env bash
# The README test command: installs what is missing, builds, starts a
# throwaway PostgreSQL on loopback, then runs the GoogleTest unit tests
# (ctest) and the integration tests against real Orthanc processes (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash Resources/Install.sh
bash Resources/Build.sh

# A real PostgreSQL server for the key store tests (stopped on exit).
PG_STATE=$(mktemp -d /tmp/deid-pg.XXXXXX)
cleanup() { bash Resources/StopTestPostgres.sh "$PG_STATE" >/dev/null 2>&1 || true; }
trap cleanup EXIT
DEID_TEST_POSTGRES=$(bash Resources/StartTestPostgres.sh "$PG_STATE")
export DEID_TEST_POSTGRES

echo "== Unit tests (GoogleTest, no Orthanc) =="
ctest --test-dir build --output-on-failure -j2

echo "== Integration tests (real Orthanc $(/usr/sbin/Orthanc --version | head -n1)) =="
export DEID_PLUGIN="$ROOT/build/libOrthancDeidentification.so"
/usr/bin/python3 -m pytest -q -rs -p no:cacheprovider IntegrationTests

# Reliability (README, "Reliability and bad inputs"): the unit tests and an
# integration subset under ASan + UBSan, then one minute of fuzzing.
echo "== Sanitizers (ASan + UBSan) =="
bash Resources/SanitizerTests.sh
echo "== Fuzzing the engine for 60 s (libFuzzer) =="
bash Resources/Fuzz.sh 60

echo "== Orthanc Explorer buttons in headless chromium (playwright-core) =="
(cd IntegrationTests/browser && npm ci --no-audit --no-fund --loglevel=error)
/usr/bin/python3 -m pytest -q -rs -p no:cacheprovider IntegrationTests/browser/explorer_browser.py
