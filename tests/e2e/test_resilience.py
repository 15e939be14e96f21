"""The DAG under GitHub's faults and limits, and the token kept out of everything it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.connections import ghes_host, github_conn

from .conftest import TOKEN, task_states
from .truth import assert_warehouse_matches, repositories

pytestmark = pytest.mark.e2e

# Fast client waits so injected faults cost milliseconds; the waits' computation is unit-tested.
# The read timeout is the exception: a generous multiple of a normal answer's time (a slow,
# loaded machine must not turn answers into timeouts), and the timeout fault holds its
# request far longer still (HOLD_SECONDS), so the client always gives up on that one.
FAST_CLIENT = {"read_timeout": 2.0, "backoff_base": 0.01, "backoff_max": 0.05,
               "secondary_min_wait": 0.2, "reset_margin": 0.1, "max_attempts": 12}
HOLD_SECONDS = 10.0


@pytest.mark.slow
def test_chaos_run_ends_with_exactly_the_ground_truth(make_pipeline) -> None:
    from github_emulator import FaultPlan

    # About 20% of page and follow-up requests fail, across every retriable class.
    faults = FaultPlan.random(
        {"502_html": 0.03, "504": 0.03, "200_something_went_wrong": 0.03, "timeout": 0.02,
         "connection_reset": 0.02, "secondary_403": 0.02, "secondary_429": 0.01,
         "secondary_200": 0.01, "partial": 0.02, "primary_rate_limited": 0.01},
        seed=20, operations={"RepositoryPullRequests", "NestedConnectionPages"},
        hold_seconds=HOLD_SECONDS, rate_limited_reset_seconds=1.0,
    )
    # The subject is the extract under faults; the marts are compared with the world
    # below, and test_marts data-tests this world's warehouse: the models only
    # (tests/e2e/conftest.py).
    pipeline = make_pipeline(faults=faults, conn_extra=FAST_CLIENT, data_tests=False)
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


def assert_secrets_absent(secrets: list[str], pipeline, run, capfd, caplog,
                          airflow_home: Path) -> None:
    """None of ``secrets`` in captured output, log records, raw pages, Airflow's home (task
    logs; the metadata DB with XCom, rendered template fields and task failures), XCom
    values, or the warehouse (its tables and its file)."""
    out, err = capfd.readouterr()
    messages = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        values = [json.dumps(x.value, default=str) for x in
                  session.query(XComModel).filter(XComModel.run_id == run.run_id).all()]
    assert values
    tables = {table: json.dumps(pipeline.query(f"select * from {table}"), default=str)
              for table in ("raw.pull_requests", "raw.sync_runs", "analytics.fct_pull_requests",
                            "analytics.fct_sync_runs")}
    assert all(rows != "[]" for rows in tables.values()), tables.keys()
    warehouse = pipeline.duckdb_path.read_bytes()
    for n, secret in enumerate(secrets):
        needle = secret.encode()
        # Booleans only: a failing assert must not print the secret it found.
        leaks = {
            "captured output": secret in out or secret in err,
            "log records": any(secret in m for m in messages),
            "raw pages": bool(_files_containing(pipeline.raw_dir, needle)),
            "Airflow home (logs, metadata DB)": bool(_files_containing(airflow_home, needle)),
            "XCom": any(secret in v for v in values),
            "warehouse tables": any(secret in rows for rows in tables.values()),
            "warehouse file": needle in warehouse,
        }
        found = [place for place, leaked in leaks.items() if leaked]
        assert not found, f"secret #{n} ({len(secret)} chars) found in {found}"


def test_token_never_reaches_logs_xcom_pages_or_warehouse(make_pipeline, capfd, caplog,
                                                          airflow_db: Path) -> None:
    from github_emulator import FaultPlan

    caplog.set_level("DEBUG")
    # Faults make every error path log: retries, a secondary limit, a fatal NOT_FOUND.
    faults = FaultPlan.script(["502_html", "secondary_403", None, "partial"],
                              operation="RepositoryPullRequests")
    # The subject is where secrets go, not the numbers: the models without their data
    # tests (tests/e2e/conftest.py).
    pipeline = make_pipeline(faults=faults, conn_extra=FAST_CLIENT, data_tests=False)
    run = pipeline.run({"repos": ["acme/web", "acme/not-there"], "page_size": 30})
    assert str(run.state) == "failed"  # acme/not-there
    assert_secrets_absent([TOKEN], pipeline, run, capfd, caplog, airflow_db)


def test_app_key_jwts_and_installation_tokens_never_leak(make_pipeline, capfd, caplog,
                                                         airflow_db: Path) -> None:
    """A GitHub App run with short-lived tokens (several issued and refreshed), a revoked
    one (a 401 and a refresh), faults and a failing repository: every error path logs."""
    from app_keys import APP_ID, INSTALLATION_ID, key_fragments, key_pair
    from github_emulator import CredentialLog, Credentials, FaultPlan, GitHubApp, LatencyModel

    caplog.set_level("DEBUG")
    seen = CredentialLog()  # every JWT the emulator received and every token it issued
    app = GitHubApp(APP_ID, key_pair("leak")[1], frozenset({INSTALLATION_ID}))
    credentials = Credentials(set(), apps=[app], token_lifetime_seconds=4, secret_sink=seen)
    faults = FaultPlan.script(["502_html", "secondary_403", None, "bad_credentials", None,
                               "partial"], operation="RepositoryPullRequests")
    private_key = key_pair("leak")[0]
    pipeline = make_pipeline(
        data_tests=False,
        credentials=credentials, faults=faults, latency=LatencyModel(base_seconds=0.4),
        connection=lambda server: github_conn(
            ghes_host(server), None, conn_type="github",
            extra={"app_id": APP_ID, "installation_id": INSTALLATION_ID,
                   "private_key": private_key, **FAST_CLIENT}))
    run = pipeline.run({"repos": ["acme/web", "acme/not-there"], "page_size": 10})
    assert str(run.state) == "failed"  # acme/not-there
    jwts = [s for s in seen.seen if s.count(".") == 2]
    tokens = [s for s in seen.seen if s.startswith("ghs_")]
    assert len(jwts) >= 3 and len(tokens) >= 3, (len(jwts), len(tokens))
    assert [e for e in pipeline.emulator.ledger.entries if e.fault == "bad_credentials"]
    assert_secrets_absent([*key_fragments(private_key), *jwts, *tokens], pipeline, run, capfd,
                          caplog, airflow_db)
