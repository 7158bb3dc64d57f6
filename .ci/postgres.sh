#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1:55432 (trust auth, loopback only) and write its
# URL to .ci/.postgres-url. Installs the pgvector extension into it when it can be built.
set -euo pipefail
cd "$(dirname "$0")/.."
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGDATA=/tmp/unspun-ci-pg
PORT=55432
if [ -f "$PGDATA/postmaster.pid" ]; then
  su postgres -c "$PGBIN/pg_ctl -D $PGDATA stop -m fast" >/dev/null 2>&1 || true
fi
rm -rf "$PGDATA"; mkdir -p "$PGDATA"; chown postgres "$PGDATA"
su postgres -c "$PGBIN/initdb -D $PGDATA -A trust -U postgres" >/dev/null
su postgres -c "$PGBIN/pg_ctl -D $PGDATA -l $PGDATA/server.log -w start -o '-p $PORT -k /tmp -c listen_addresses=127.0.0.1'" >/dev/null
if [ -x .ci/pgvector.sh ]; then bash .ci/pgvector.sh "$PGBIN"; fi
echo "postgresql://postgres@127.0.0.1:$PORT/postgres" > .ci/.postgres-url
echo "PostgreSQL $($PGBIN/postgres --version | awk '{print $3}') on port $PORT"
