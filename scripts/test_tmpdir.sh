#!/usr/bin/env bash
# A fresh folder for one `make test` run's temporary files (pytest's tmp_path, the Airflow
# homes, warehouses, raw pages, dbt targets: ~3 GB written, much of it fsynced by DuckDB and
# SQLite); prints its path. In memory (/dev/shm) when that has room for them: on a virtual
# disk those writes stalled whole runs (80+ s of I/O wait in a 9-minute suite). Otherwise
# under the usual temporary folder. The Makefile deletes it after a passing run.
#
#   tmp="$(bash scripts/test_tmpdir.sh)"
set -euo pipefail

NEEDED_KB=$((8 * 1024 * 1024))  # the run's files, with room to spare

if [[ -d /dev/shm && -w /dev/shm ]]; then
    free_kb="$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')"
    if [[ "$free_kb" =~ ^[0-9]+$ ]] && (( free_kb >= NEEDED_KB )); then
        exec mktemp -d /dev/shm/pr-warehouse-tests.XXXXXX
    fi
fi
exec mktemp -d "${TMPDIR:-/tmp}/pr-warehouse-tests.XXXXXX"
