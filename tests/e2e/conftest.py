"""End-to-end fixtures: the real DAG, run by ``dag.test()`` against the bundled emulator,
with a private object store and DuckDB file per test."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from pr_warehouse.transform.dbt import EXCLUDE_ENV, MODELS_ONLY
from tests.support.connections import github_conn
from tests.support.docs import docs_shared

TOKEN = "e2e-secret-token-9f3b7c1d"
DAG_ID = "github_pull_requests"


@dataclass
class Pipeline:
    """One warehouse deployment under test: where it writes and how to run it."""

    raw_dir: Path
    duckdb_path: Path
    snapshot_path: Path
    emulator: Any
    world: Any
    run: Callable[..., Any]

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        import duckdb

        con = duckdb.connect(str(self.duckdb_path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


@pytest.fixture(scope="session", autouse=True)
def _dbt_starts_from_one_parse(dbt_parse: Path) -> Path:
    """Session-wide, so it comes before any module's DAG run (tests/conftest.py)."""
    return dbt_parse


@pytest.fixture(scope="session")
def github_dag(airflow_db: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


@pytest.fixture(scope="session")
def default_conf(github_dag: Any) -> dict[str, Any]:
    """Every Param's default. ``dag.test(run_conf=...)`` updates the DAG's params in place,
    so each run passes a full conf rather than inheriting the previous run's values."""
    return {name: github_dag.params[name] for name in github_dag.params.keys()}


_clock = [datetime(2026, 11, 2, tzinfo=timezone.utc)]


def next_logical_date() -> datetime:
    """A fresh logical date per run: run ids (and raw-page folders) never collide."""
    _clock[0] += timedelta(hours=1)
    return _clock[0]


def pipeline_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github_dag: Any,
                     default_conf: dict[str, Any], servers: list[Any],
                     docs_cache: Path) -> Callable[..., Pipeline]:
    """Build pipelines around emulators; ``pipeline.run(conf)`` runs the DAG once."""
    from github_emulator import EmulatorServer, build_world
    from pr_warehouse.config import Settings

    def factory(world: Any = None, *, token: str = TOKEN,
                conn_extra: dict[str, Any] | None = None,
                connection: Callable[[Any], dict[str, Any]] | None = None,
                data_tests: bool = True,
                **server_kwargs: Any) -> Pipeline:
        """``connection(server)`` replaces the default ``github_default`` connection (a
        provider-style or GitHub App one); ``credentials=`` goes to the emulator.

        ``data_tests=False`` builds the marts without dbt's data tests (dbt's own
        ``DBT_EXCLUDE_RESOURCE_TYPES``, as an operator would set it): for tests whose
        subject is the extract (auth, paging, resuming, storage), where the data tests'
        ~550 nodes would be most of the run's time. The marts are still built and compared
        with the world. The data tests run once per kind of warehouse: the demo world's
        first build (test_marts), and the incremental builds each module about the
        numbers leads up to (checks, teams, deployments, a ``clear``), on the last run of
        a test of several runs (``run(..., data_tests=...)``)."""
        world = world or build_world()
        server = EmulatorServer(world, tokens={TOKEN}, **server_kwargs)
        server.start()
        servers.append(server)
        raw = tmp_path / "raw"
        db = tmp_path / "warehouse.duckdb"
        snapshot = tmp_path / "snapshot.duckdb"
        monkeypatch.setenv("PR_WAREHOUSE_RAW_URL", raw.as_uri())
        monkeypatch.setenv("PR_WAREHOUSE_DUCKDB", str(db))
        monkeypatch.setenv("PR_WAREHOUSE_SNAPSHOT", str(snapshot))
        conn = (connection(server) if connection is not None
                else github_conn(server.url, token, extra=conn_extra or {}))
        monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(conn))
        pipeline_data_tests = data_tests
        settings = Settings.from_env()

        def run(conf: dict[str, Any] | None = None, logical_date: datetime | None = None,
                *, data_tests: bool | None = None) -> Any:
            """``data_tests`` overrides the pipeline's choice for this run only: a test
            whose runs lead up to the state it checks tests the data of its last run."""
            tested = pipeline_data_tests if data_tests is None else data_tests
            with docs_shared(settings, docs_cache), \
                    pytest.MonkeyPatch.context() as this_run:
                if tested:
                    this_run.delenv(EXCLUDE_ENV, raising=False)
                else:
                    this_run.setenv(EXCLUDE_ENV, MODELS_ONLY)
                dag_run = github_dag.test(run_conf={**default_conf, **(conf or {})},
                                          logical_date=logical_date or next_logical_date())
            return dag_run

        return Pipeline(raw, db, snapshot, server, world, run)

    return factory


@pytest.fixture()
def make_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github_dag: Any,
                  default_conf: dict[str, Any],
                  docs_cache: Path) -> Iterator[Callable[..., Pipeline]]:
    """A pipeline per test (its own emulator, object store and DuckDB file)."""
    servers: list[Any] = []
    yield pipeline_factory(tmp_path, monkeypatch, github_dag, default_conf, servers,
                           docs_cache)
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def make_module_pipeline(tmp_path_factory: pytest.TempPathFactory, github_dag: Any,
                         default_conf: dict[str, Any],
                         docs_cache: Path) -> Iterator[Callable[..., Pipeline]]:
    """Like ``make_pipeline``, shared by a module's tests (one DAG run, many checks)."""
    servers: list[Any] = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield pipeline_factory(tmp_path_factory.mktemp("pipeline"), monkeypatch, github_dag,
                               default_conf, servers, docs_cache)
    for server in servers:
        server.stop()


def built_resource_types(pipeline: Pipeline) -> set[str]:
    """The kinds of dbt node the pipeline's last build ran (``model``, ``test``, ...), from
    dbt's ``run_results.json`` beside the warehouse."""
    from pr_warehouse.config import Settings
    from pr_warehouse.transform.dbt import target_dir

    settings = Settings.from_env({"PR_WAREHOUSE_DUCKDB": str(pipeline.duckdb_path)})
    results = target_dir(settings) / "run_results.json"
    return {r["unique_id"].split(".")[0]
            for r in json.loads(results.read_text())["results"]}


def task_states(dag_run: Any) -> dict[str, str]:
    """``{task_id or task_id[map_index]: state}`` of a finished ``dag.test()`` run."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id
        ).all()
        return {
            (f"{ti.task_id}[{ti.rendered_map_index or ti.map_index}]" if ti.map_index >= 0
             else ti.task_id): str(ti.state)
            for ti in tis
        }
