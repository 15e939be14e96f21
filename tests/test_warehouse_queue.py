"""The tasks that open the DuckDB file run on the warehouse queue; the rest on any worker.

With Celery workers on several hosts, only the worker on the host that holds the
warehouse file may run plan (watermarks), load, transform, the publishes and the report. The queue
is a setting (``PR_WAREHOUSE_WAREHOUSE_QUEUE``, default Airflow's own ``default``).

No Celery here (no Redis server, no Celery provider in the lock), so the real run is the
issue's fallback: a real scheduler (LocalExecutor) runs the DAG against the emulator with
the queue set, then each task instance's ``queue`` is read from the metadata DB, where the
scheduler recorded what a CeleryExecutor would have routed on.
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

WAREHOUSE_TASKS = {"plan", "load", "transform", "publish", "publish_postgres", "report"}
ANY_WORKER_TASKS = {"resolve_repositories", "extract", "check_extracts"}


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
def test_a_scheduler_run_routes_warehouse_tasks_to_their_queue(tmp_path: Path) -> None:
    """The real scheduler queues load and transform (and plan, publish) on the warehouse
    queue only, and the extracts on the default queue, in a successful run."""
    import sqlite3

    from bench.airflow_run import AirflowDeployment
    from bench.config import TOKEN
    from bench.emulation import emulator, org_world

    server = emulator(org_world([6, 3], seed=3, org="acme"))
    data = tmp_path / "data"
    env = {
        "AIRFLOW_CONN_GITHUB_DEFAULT": json.dumps(
            {"conn_type": "http", "host": server.url, "password": TOKEN}),
        "PR_WAREHOUSE_RAW_URL": (data / "raw").as_uri(),
        "PR_WAREHOUSE_DUCKDB": str(data / "warehouse.duckdb"),
        "PR_WAREHOUSE_SNAPSHOT": str(data / "snapshot.duckdb"),
        "PR_WAREHOUSE_WAREHOUSE_QUEUE": "warehouse",
    }
    try:
        with AirflowDeployment(tmp_path / "airflow", env, parallelism=4) as airflow:
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
    assert queues["warehouse"] == WAREHOUSE_TASKS
    assert queues["default"] == ANY_WORKER_TASKS
    assert sum(1 for task_id, *_ in rows if task_id == "extract") == 2  # one per repository
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from analytics.fct_pull_requests").fetchall() == [(9,)]
    finally:
        con.close()
