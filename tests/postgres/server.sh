#!/usr/bin/env bash
# A private PostgreSQL server for the history store's tests: initdb in a temporary directory,
# listening only on a Unix socket in that directory (no TCP port), started and stopped by pg_ctl.
#   tests/postgres/server.sh start STATE_DIR   writes STATE_DIR/url (the maintenance database's URL)
#                                              or, when the server binaries are missing,
#                                              STATE_DIR/skip (why); exit 0 in both cases
#   tests/postgres/server.sh stop STATE_DIR    stops the server and removes its directory
# initdb refuses to run as root: as root, the server runs as the Debian package's `postgres` user,
# or else as a user `chipgauge-pg` this script creates.
set -euo pipefail
action="${1:?usage: server.sh start|stop STATE_DIR}"
state="${2:?usage: server.sh start|stop STATE_DIR}"

bindir=""
for d in "$(command -v pg_ctl 2>/dev/null | xargs -r dirname)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then bindir="$d"; break; fi
done

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u "$(cat "$state/owner")" -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    mkdir -p "$state"
    rm -f "$state/url" "$state/skip"
    if [[ -z "$bindir" ]]; then
      echo "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian postgresql" \
        "(scripts/install-deps.sh --test)" > "$state/skip"
      cat "$state/skip"
      exit 0
    fi
    if [[ -f "$state/data" ]]; then "$0" stop "$state" || true; fi
    owner="$(id -un)"
    if [[ $(id -u) -eq 0 ]]; then
      owner=postgres
      if ! id postgres > /dev/null 2>&1; then
        owner=chipgauge-pg
        id "$owner" > /dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
      fi
    fi
    echo "$owner" > "$state/owner"
    data="$(mktemp -d /tmp/chipgauge-pg.XXXXXX)"
    echo "$data" > "$state/data"
    chown "$owner" "$data"
    chmod 700 "$data"
    as_owner "$bindir/initdb" --pgdata="$data/db" --username=chipgauge --auth=trust --encoding=UTF8 --locale=C \
      --no-sync > "$data/initdb.log" 2>&1 || { cat "$data/initdb.log" >&2; exit 1; }
    # fsync off: the tests' server is thrown away, durability is not what they test.
    if ! as_owner "$bindir/pg_ctl" --pgdata="$data/db" --log="$data/server.log" --wait --timeout=60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$data' -c port=5432 -c fsync=off -c max_connections=60" \
        start > /dev/null; then
      cat "$data/server.log" >&2
      exit 1
    fi
    echo "postgresql://chipgauge@/postgres?host=$data&port=5432" > "$state/url"
    echo "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') at $(cat "$state/url")"
    ;;
  stop)
    [[ -f "$state/data" ]] || exit 0
    data="$(cat "$state/data")"
    if [[ -n "$bindir" && -f "$data/db/postmaster.pid" ]]; then
      as_owner "$bindir/pg_ctl" --pgdata="$data/db" --mode=immediate --wait stop > /dev/null || true
    fi
    case "$data" in /tmp/chipgauge-pg.*) rm -rf "$data" ;; esac
    rm -f "$state/data" "$state/url" "$state/owner"
    ;;
  *)
    echo "usage: server.sh start|stop STATE_DIR" >&2
    exit 2
    ;;
esac
