#!/usr/bin/env bash
# Build and install the pgvector extension into the PostgreSQL whose bin directory is $1.
# Debian bookworm ships no pgvector package, so we fetch Debian trixie's *source* package with apt
# (deb-src, in a private apt state directory that leaves the system's lists alone), compile it
# against the matching postgresql-server-dev-N headers and install it. Idempotent: a no-op when the
# extension is already installed for that server.
set -euo pipefail
PGBIN=${1:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
PG_CONFIG="$PGBIN/pg_config"
[ -x "$PG_CONFIG" ] || PG_CONFIG=$(command -v pg_config)
MAJOR=$("$PG_CONFIG" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
SHAREDIR=$("$PG_CONFIG" --sharedir)
if [ -f "$SHAREDIR/extension/vector.control" ]; then
  echo "pgvector already installed for PostgreSQL $MAJOR"
  exit 0
fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# Headers and build tools for this server version.
if [ ! -d "/usr/include/postgresql/$MAJOR/server" ]; then
  $SUDO apt-get install -y -qq "postgresql-server-dev-$MAJOR" build-essential >/dev/null
fi

WORK=$(mktemp -d /tmp/unspun-pgvector.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/lists/partial" "$WORK/src"
echo "deb-src http://deb.debian.org/debian trixie main" > "$WORK/sources.list"
APT_OPTS=(-o "Dir::Etc::SourceList=$WORK/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$WORK/lists" -o "APT::Sandbox::User=root")
apt-get "${APT_OPTS[@]}" update -qq >/dev/null
(cd "$WORK/src" && apt-get "${APT_OPTS[@]}" source --download-only -qq pgvector >/dev/null)
tar -xzf "$WORK"/src/pgvector_*.orig.tar.gz -C "$WORK"
cd "$WORK"/pgvector-*/
# OPTFLAGS="" avoids -march=native so the build runs on any x86-64 CI machine.
make -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null
$SUDO make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
echo "pgvector $(sed -nE "s/default_version = '([^']+)'/\1/p" vector.control) installed for PostgreSQL $MAJOR"
