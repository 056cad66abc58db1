#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 server (Debian package postgresql-15) for the
# tests: temp data dir, loopback only, a free port, trust authentication.
# Prints the libpq conninfo on stdout (one line), everything else on stderr:
#
#   STATE=$(mktemp -d /tmp/deid-pg.XXXXXX)          # optional: a new dir is made if omitted
#   export DEID_TEST_POSTGRES=$(Resources/StartTestPostgres.sh "$STATE")
#   ... ctest / pytest ...
#   Resources/StopTestPostgres.sh "$STATE"
#
# e.g. "host=127.0.0.1 port=40123 dbname=deid_test user=postgres". Without an
# argument, the state dir is printed on stderr. As root, the server runs as the
# "postgres" user (runuser): PostgreSQL refuses to run as root.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
for tool in initdb pg_ctl psql; do
  if [ ! -x "$PG_BIN/$tool" ]; then
    echo "StartTestPostgres: $PG_BIN/$tool not found (apt-get install postgresql-15)" >&2
    exit 1
  fi
done

DIR=${1:-}
if [ -z "$DIR" ]; then
  DIR=$(mktemp -d /tmp/deid-test-postgres.XXXXXX)
fi
mkdir -p "$DIR"
if [ -e "$DIR/data" ]; then
  echo "StartTestPostgres: $DIR/data already exists" >&2
  exit 1
fi
touch "$DIR/.deid-test-postgres"   # marker checked by StopTestPostgres.sh before removing
chmod 755 "$DIR"

run_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$DIR"
fi

# A free loopback port: bind port 0 and read what the kernel chose.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

run_as_pg "$PG_BIN/initdb" -D "$DIR/data" -A trust -U postgres --no-sync -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 || {
  echo "StartTestPostgres: initdb failed:" >&2; cat "$DIR/initdb.log" >&2; exit 1; }

run_as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c max_connections=200" start >&2 || {
  echo "StartTestPostgres: the server did not start:" >&2; cat "$DIR/server.log" >&2; exit 1; }

run_as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
  -c "CREATE DATABASE deid_test" >&2

echo "StartTestPostgres: PostgreSQL 15 on 127.0.0.1:$PORT, state in $DIR" >&2
echo "host=127.0.0.1 port=$PORT dbname=deid_test user=postgres"
