#!/usr/bin/env bash
# Stops the server of Resources/StartTestPostgres.sh and removes its state dir.
#   Resources/StopTestPostgres.sh STATE_DIR
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DIR=${1:-}
if [ -z "$DIR" ] || [ ! -e "$DIR/.deid-test-postgres" ]; then
  echo "StopTestPostgres: '$DIR' is not a state dir of StartTestPostgres.sh" >&2
  exit 1
fi

if [ -e "$DIR/data/postmaster.pid" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
  else
    "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
  fi
fi
rm -rf "$DIR"
