#!/usr/bin/env bash
# Stops the server of Resources/StartTestPostgres.sh and removes its data.
#   Resources/StopTestPostgres.sh "$DEID_TEST_POSTGRES_DIR"
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DIR=${1:-${DEID_TEST_POSTGRES_DIR:-}}
if [ -z "$DIR" ] || [ ! -d "$DIR/data" ]; then
  echo "StopTestPostgres: no server directory given (argument or DEID_TEST_POSTGRES_DIR)" >&2
  exit 1
fi
case "$DIR" in
  /tmp/deid-test-postgres.*) ;;
  *) echo "StopTestPostgres: refusing to remove $DIR (not made by StartTestPostgres.sh)" >&2; exit 1 ;;
esac

if [ "$(id -u)" -eq 0 ]; then
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
else
  "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
fi
rm -rf "$DIR"
