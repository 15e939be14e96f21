#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for the test suite (Airflow's metadata DB on
# Postgres, and the `warehouse_postgres` publish target).
#
#   scripts/postgres.sh start    # install (apt) if missing, initdb once, start; prints the DSN
#   scripts/postgres.sh dsn      # prints the DSN of the running server (exit 1 if not running)
#   scripts/postgres.sh stop     # stop it (the data directory is kept for the next start)
#   scripts/postgres.sh destroy  # stop it and delete the data directory
#
# Idempotent: `start` on a running server only prints its DSN. Only the DSN goes to stdout;
# progress and errors go to stderr, so `dsn=$(scripts/postgres.sh start)` works.
#
# Where: $PR_WAREHOUSE_PG_DIR, default /tmp/pr-warehouse-pg-<hash of this checkout>. Not
# inside the checkout: initdb refuses to run as root, so as root the server runs as the
# `postgres` OS user, which may not be able to enter the checkout (e.g. under /root).
# Auth is `trust` and it listens on 127.0.0.1 only, on a free port chosen at first start.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PG_DIR="${PR_WAREHOUSE_PG_DIR:-/tmp/pr-warehouse-pg-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)}"
[[ "$PG_DIR" == /* ]] || PG_DIR="$PWD/$PG_DIR"
DATA="$PG_DIR/data"
PORT_FILE="$PG_DIR/port"
LOG="$PG_DIR/postgres.log"
PG_MAJOR="${PR_WAREHOUSE_PG_MAJOR:-15}"

say() { echo "postgres.sh: $*" >&2; }

bindir() {
    # Debian's layout; prefer the wanted major, else the newest installed.
    if [[ -x "/usr/lib/postgresql/$PG_MAJOR/bin/initdb" ]]; then
        echo "/usr/lib/postgresql/$PG_MAJOR/bin"; return
    fi
    local newest
    newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
    [[ -n "$newest" && -x "$newest/initdb" ]] && echo "$newest"
}

install_server() {
    # A fresh CI machine may not have it; Debian's package is the supported source.
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        say "PostgreSQL server not installed and cannot apt-get install it (need root + apt)"
        return 1
    fi
    say "installing postgresql-$PG_MAJOR from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    # Don't let the package start its own cluster on 5432: we run our own.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >$policy; chmod +x $policy; created_policy=1; fi
    local rc=0
    { apt-get update -q && { apt-get install -y -q "postgresql-$PG_MAJOR" || apt-get install -y -q postgresql; }; } >&2 || rc=$?
    [[ $created_policy == 1 ]] && rm -f $policy
    return $rc
}

as_owner() {
    # initdb/pg_ctl refuse root: run them as `postgres` when we are root, from `/` (the
    # checkout may be in a folder `postgres` cannot enter, like /root).
    if [[ "$(id -u)" == 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_is_free() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}

dsn() { echo "postgresql://postgres@127.0.0.1:$(cat "$PORT_FILE")/postgres"; }

running() { [[ -f "$PORT_FILE" ]] && [[ -n "$(bindir)" ]] && as_owner "$(bindir)/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

start() {
    if running; then dsn; return 0; fi
    local bin
    bin="$(bindir)" || true
    if [[ -z "$bin" ]]; then install_server; bin="$(bindir)"; fi
    [[ -n "$bin" ]] || { say "no initdb under /usr/lib/postgresql/*/bin"; return 1; }
    mkdir -p "$PG_DIR"
    [[ "$(id -u)" == 0 ]] && chown postgres: "$PG_DIR"
    if [[ ! -s "$DATA/PG_VERSION" ]]; then
        rm -rf "$DATA"
        say "initdb $DATA"
        as_owner "$bin/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >&2 \
            || as_owner "$bin/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >&2
    fi
    # Keep the port across restarts unless something else took it meanwhile.
    if [[ ! -s "$PORT_FILE" ]] || ! port_is_free "$(cat "$PORT_FILE")"; then
        free_port >"$PORT_FILE"
    fi
    local port
    port="$(cat "$PORT_FILE")"
    # The Unix socket goes into the data dir (not /var/run/postgresql, which may not exist).
    as_owner "$bin/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
        -o "-p $port -k $DATA -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
        start >&2 || { say "pg_ctl start failed; last log lines:"; tail -20 "$LOG" >&2 || true; return 1; }
    say "running on 127.0.0.1:$port (data $DATA)"
    dsn
}

stop() {
    local bin
    bin="$(bindir)" || true
    if [[ -n "$bin" && -d "$DATA" ]] && as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$DATA" -m fast -w stop >&2
    fi
}

case "${1:-}" in
    start) start ;;
    dsn) running && dsn ;;
    stop) stop ;;
    destroy) stop; rm -rf "$PG_DIR" ;;
    *) echo "usage: $0 start|dsn|stop|destroy" >&2; exit 2 ;;
esac
