"""The tasks that open the DuckDB file run on the warehouse queue; the rest on any worker.

With Celery workers on several hosts, only the worker on the host that holds the
warehouse file may run plan (watermarks), load, transform, the publishes and the report. The queue
is a setting (``PR_WAREHOUSE_WAREHOUSE_QUEUE``, default Airflow's own ``default``).

The real run uses the CeleryExecutor with one worker per queue (kombu's SQLAlchemy
transport on SQLite as the broker: no Redis needed), the warehouse file visible to the
warehouse worker only, against the bundled GitHub emulator.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from conftest import ROOT
from pr_warehouse.config import Settings
from pr_warehouse.transform.dbt import EXCLUDE_ENV, MODELS_ONLY
from tests.support.connections import github_conn_env
from tests.support.docs import docs_shared

WAREHOUSE_TASKS = {"plan", "load", "transform", "publish", "publish_postgres", "report"}
ANY_WORKER_TASKS = {"resolve_repositories", "extract_teams", "extract", "check_extracts"}


def parsed_queues(env: dict[str, str]) -> dict[str, str]:
    """Each task's queue, the DAG file parsed in a fresh interpreter with ``env``."""
    code = textwrap.dedent(f"""
        import json
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(ROOT / 'dags')!r})
        assert not bag.import_errors, bag.import_errors
        dag = bag.dags["github_pull_requests"]
        print(json.dumps({{t.task_id: t.queue for t in dag.tasks}}))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=180, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_host_needs_nothing() -> None:
    queues = parsed_queues({"PR_WAREHOUSE_WAREHOUSE_QUEUE": ""})
    assert set(queues.values()) == {"default"}


def test_warehouse_tasks_take_the_configured_queue() -> None:
    queues = parsed_queues({"PR_WAREHOUSE_WAREHOUSE_QUEUE": "warehouse"})
    assert set(queues) == WAREHOUSE_TASKS | ANY_WORKER_TASKS
    assert {t: q for t, q in queues.items() if q == "warehouse"} == dict.fromkeys(
        WAREHOUSE_TASKS, "warehouse")
    assert {queues[t] for t in ANY_WORKER_TASKS} == {"default"}


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.usefixtures("dbt_parse")
def test_two_celery_workers_one_per_queue(tmp_path: Path, docs_cache: Path,
                                          migrated_metadata_db: Path) -> None:
    """A real two-queue run: the CeleryExecutor, a worker on the warehouse queue (the host
    with the DuckDB file) and one on the default queue (a host without it). Plan, load,
    transform, the publishes and the report run on the first only; the extracts on the
    second. Both the metadata DB (each task instance's queue) and the workers' own logs
    (what each one executed) say so."""
    from bench.airflow_run import AirflowDeployment
    from bench.config import TOKEN
    from bench.emulation import emulator, org_world

    server = emulator(org_world([6, 3], seed=3, org="acme"))
    data = tmp_path / "data"
    env = {
        "AIRFLOW_CONN_GITHUB_DEFAULT": github_conn_env(server.url, TOKEN),
        "PR_WAREHOUSE_RAW_URL": (data / "raw").as_uri(),
        "PR_WAREHOUSE_DUCKDB": str(data / "warehouse.duckdb"),
        "PR_WAREHOUSE_SNAPSHOT": str(data / "snapshot.duckdb"),
        "PR_WAREHOUSE_WAREHOUSE_QUEUE": "warehouse",
        # The subject is which worker runs what: the models without their data tests
        # (tests/e2e/conftest.py).
        EXCLUDE_ENV: MODELS_ONLY,
    }
    # The other host has no warehouse: a warehouse task sent there could not open it.
    no_warehouse = {"PR_WAREHOUSE_DUCKDB": "/proc/no-warehouse-here/warehouse.duckdb",
                    "PR_WAREHOUSE_SNAPSHOT": "/proc/no-warehouse-here/snapshot.duckdb"}
    try:
        with docs_shared(Settings.from_env(env), docs_cache), \
                AirflowDeployment(tmp_path / "airflow", env, parallelism=4,
                                  executor="CeleryExecutor",
                                  metadata_db=migrated_metadata_db) as airflow:
            warehouse_log = airflow.start_celery_worker("warehouse-worker", ["warehouse"])
            default_log = airflow.start_celery_worker("default-worker", ["default"],
                                                      env=no_warehouse)
            airflow.trigger({"orgs": ["acme"]}, run_id="queues")
            state = airflow.wait("queues", timeout=600)
            con = sqlite3.connect(f"file:{tmp_path / 'airflow' / 'airflow.db'}?mode=ro",
                                  uri=True)
            try:
                rows = con.execute("select task_id, map_index, queue, state from task_instance "
                                   "where run_id = 'queues'").fetchall()
            finally:
                con.close()
    finally:
        server.stop()
    assert state == "success", rows
    queues: dict[str, set[str]] = {}
    for task_id, _, queue, task_state in rows:
        queues.setdefault(queue, set()).add(task_id)
        assert task_state == "success", (task_id, task_state)
    assert queues == {"warehouse": WAREHOUSE_TASKS, "default": ANY_WORKER_TASKS}
    assert executed(warehouse_log) == WAREHOUSE_TASKS
    assert executed(default_log) == ANY_WORKER_TASKS
    assert sum(1 for task_id, *_ in rows if task_id == "extract") == 2  # one per repository
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from analytics.fct_pull_requests").fetchall() == [(9,)]
    finally:
        con.close()


def executed(worker_log: Path) -> set[str]:
    """The task ids a Celery worker says it executed (its "Executing workload" lines)."""
    import re

    lines = [line for line in worker_log.read_text().splitlines()
             if "Executing workload in Celery" in line]
    return {m.group(1) for line in lines for m in [re.search(r"task_id='([^']+)'", line)] if m}
