"""The DAG under GitHub's faults and limits, and the token kept out of everything it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import TOKEN, task_states
from .truth import assert_warehouse_matches, repositories

pytestmark = pytest.mark.e2e

# Fast client waits so injected faults cost milliseconds; the waits' computation is unit-tested.
FAST_CLIENT = {"read_timeout": 1.0, "backoff_base": 0.01, "backoff_max": 0.05,
               "secondary_min_wait": 0.2, "reset_margin": 0.1, "max_attempts": 12}


def test_chaos_run_ends_with_exactly_the_ground_truth(make_pipeline) -> None:
    from github_emulator import FaultPlan

    # About 20% of page and follow-up requests fail, across every retriable class.
    faults = FaultPlan.random(
        {"502_html": 0.03, "504": 0.03, "200_something_went_wrong": 0.03, "timeout": 0.02,
         "connection_reset": 0.02, "secondary_403": 0.02, "secondary_429": 0.01,
         "secondary_200": 0.01, "partial": 0.02, "primary_rate_limited": 0.01},
        seed=20, operations={"RepositoryPullRequests", "NestedConnectionPages"},
        hold_seconds=1.5, rate_limited_reset_seconds=1.0,
    )
    pipeline = make_pipeline(faults=faults, conn_extra=FAST_CLIENT)
    run = pipeline.run({"orgs": ["acme"], "page_size": 10})
    assert str(run.state) == "success", task_states(run)
    injected = [e.fault for e in pipeline.emulator.ledger.entries if e.fault]
    assert len(injected) >= 5 and len(set(injected)) >= 4, injected
    assert_warehouse_matches(pipeline, repositories(pipeline.world))
    # Retries are counted per class and reach the warehouse.
    retries = pipeline.query("select sum(retries_total) from analytics.fct_sync_runs "
                             "where run_id = ?", [run.run_id])[0][0]
    assert retries >= len(injected) - 1  # a timeout can land after the client gave up waiting


def _files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_token_never_reaches_logs_xcom_pages_or_warehouse(make_pipeline, capfd, caplog,
                                                          airflow_db: Path) -> None:
    from github_emulator import FaultPlan

    caplog.set_level("DEBUG")
    # Faults make every error path log: retries, a secondary limit, a fatal NOT_FOUND.
    faults = FaultPlan.script(["502_html", "secondary_403", None, "partial"],
                              operation="RepositoryPullRequests")
    pipeline = make_pipeline(faults=faults, conn_extra=FAST_CLIENT)
    run = pipeline.run({"repos": ["acme/web", "acme/not-there"], "page_size": 30})
    assert str(run.state) == "failed"  # acme/not-there
    needle = TOKEN.encode()
    out, err = capfd.readouterr()
    assert TOKEN not in out and TOKEN not in err
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
    assert _files_containing(pipeline.raw_dir, needle) == []
    # Airflow's home: task logs, and the metadata DB holding XCom and rendered fields.
    assert _files_containing(airflow_db, needle) == []
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        values = [json.dumps(x.value, default=str) for x in
                  session.query(XComModel).filter(XComModel.run_id == run.run_id).all()]
    assert values and all(TOKEN not in v for v in values)
    for table in ("raw.pull_requests", "raw.sync_runs", "analytics.fct_pull_requests",
                  "analytics.fct_sync_runs"):
        rows = pipeline.query(f"select * from {table}")
        assert rows and TOKEN not in json.dumps(rows, default=str), table
    assert needle not in pipeline.duckdb_path.read_bytes()
