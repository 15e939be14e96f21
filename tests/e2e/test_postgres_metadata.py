"""The production database path: Airflow's metadata DB on PostgreSQL (``postgresql+psycopg``),
not SQLite, for a whole run of the DAG; with the ``warehouse_postgres`` connection set, the
same run publishes the marts to Postgres for BI tools.

Airflow reads its configuration when first imported, and this pytest process already runs it
on SQLite, so the run happens in subprocesses: ``airflow db migrate`` then ``airflow dags
test``, against the emulator started here.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import ROOT
from pr_warehouse.config import Settings
from pr_warehouse.transform.dbt import EXCLUDE_ENV, MODELS_ONLY
from pg_support import (  # noqa: F401  (pytest fixtures)
    airflow_connection,
    pg_database,
    pg_server,
    sqlalchemy_url,
    with_database,
)
from tests.support.airflow import airflow_cli, airflow_env
from tests.support.connections import github_conn_env
from tests.support.docs import docs_shared

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TOKEN = "pg-e2e-token"
DAG_ID = "github_pull_requests"


def _airflow(args: list[str], env: dict[str, str], log: Path, timeout: int = 300) -> None:
    """Run the venv's ``airflow`` CLI, output to ``log``; fail with its tail on error."""
    started = time.monotonic()
    airflow_cli(args, env, log_file=log, cwd=ROOT, timeout=timeout)
    print(f"airflow {args[0]} {args[1]}: {time.monotonic() - started:.1f}s (log: {log})")


def test_dag_runs_with_postgres_metadata_and_publishes_to_postgres(
        tmp_path: Path, pg_database: str, pg_server: str, docs_cache: Path) -> None:
    import duckdb
    import psycopg

    from github_emulator import EmulatorServer, build_world

    # Two databases on the one test server: Airflow's metadata and the BI copy of the marts.
    metadata_dsn = pg_database
    warehouse_db = f"{pg_database.rsplit('/', 1)[1]}_bi"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'create database "{warehouse_db}"')
    warehouse_dsn = with_database(pg_server, warehouse_db)

    world = build_world()
    home = tmp_path / "airflow"
    duckdb_path = tmp_path / "warehouse.duckdb"
    log = tmp_path / "airflow.log"
    try:
        with EmulatorServer(world, tokens={TOKEN}) as github:
            env = airflow_env(home, {
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(metadata_dsn),
                "AIRFLOW_CONN_GITHUB_DEFAULT": github_conn_env(github.url, TOKEN),
                "AIRFLOW_CONN_WAREHOUSE_POSTGRES": json.dumps(airflow_connection(warehouse_dsn)),
                "PR_WAREHOUSE_RAW_URL": (tmp_path / "raw").as_uri(),
                "PR_WAREHOUSE_DUCKDB": str(duckdb_path),
                "PR_WAREHOUSE_SNAPSHOT": str(tmp_path / "snapshot.duckdb"),
                # The subject is where Airflow keeps its state and where the marts are
                # published: the models without their data tests (tests/e2e/conftest.py).
                EXCLUDE_ENV: MODELS_ONLY,
            })
            _airflow(["db", "migrate"], env, log)
            with docs_shared(Settings.from_env(env), docs_cache):
                _airflow(["dags", "test", DAG_ID, "-c", json.dumps({"orgs": ["acme"]})], env,
                         log)

        # The run's state lives in Postgres, not in a SQLite file.
        assert not list(home.glob("*.db")), "a SQLite metadata DB was created"
        with psycopg.connect(metadata_dsn) as conn:
            runs = conn.execute("select run_id, state from dag_run where dag_id = %s",
                                (DAG_ID,)).fetchall()
            assert len(runs) == 1 and runs[0][1] == "success", runs
            tis = dict(conn.execute(
                "select task_id || coalesce('[' || nullif(map_index, -1)::text || ']', ''), "
                "state from task_instance where dag_id = %s and run_id = %s",
                (DAG_ID, runs[0][0])).fetchall())
        assert set(tis.values()) == {"success"}, tis
        acme = [r for r in world.repositories() if r.owner.login == "acme" and not r.is_archived]
        assert sum(t.startswith("extract[") for t in tis) == len(acme)

        # The marts in DuckDB hold every PR of the org...
        con = duckdb.connect(str(duckdb_path), read_only=True)
        try:
            facts = con.execute("select repo, count(*) from analytics.fct_pull_requests "
                                "group by repo").fetchall()
            marts = {t: con.execute(f"select count(*) from analytics.{t}").fetchall()[0][0]
                     for (t,) in con.execute(
                         "select table_name from duckdb_tables() where schema_name = 'analytics'"
                     ).fetchall()}
        finally:
            con.close()
        assert dict(facts) == {r.name_with_owner: len(r.pull_requests) for r in acme
                               if r.pull_requests}
        # ...and the same marts, row for row, are in Postgres for BI tools.
        with psycopg.connect(warehouse_dsn) as conn:
            published = dict(conn.execute(
                "select table_name, row_count from analytics._published").fetchall())
            counts = {t: conn.execute(f'select count(*) from analytics."{t}"').fetchone()[0]
                      for t in published}
        assert published == marts == counts
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{warehouse_db}" with (force)')
