"""The DAG file parses cleanly, cheaply, and its Params reject bad input before any request."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT
from pr_warehouse import repos


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_dag_imports_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    dag = dagbag.dags["github_pull_requests"]
    assert dag is not None
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert dag.doc_md and "object storage" in dag.doc_md
    assert set(dag.task_ids) == {"resolve_repositories", "plan", "extract_teams", "extract",
                                 "load", "transform", "publish", "publish_postgres", "report",
                                 "check_extracts"}
    # The teams step reads GitHub (in the pool, on any worker) and hands its manifest to the
    # load and the verdict.
    teams = dag.get_task("extract_teams")
    assert teams.pool == dag.get_task("extract").pool
    assert {"load", "check_extracts"} <= teams.downstream_task_ids


def test_every_param_has_a_title_and_description(dagbag) -> None:
    dag = dagbag.dags["github_pull_requests"]
    expected = {"repos", "orgs", "project", "since", "full_refresh", "use_cache", "clear",
                "page_size"}
    assert expected <= set(dag.params.keys())
    for name in expected:
        param = dag.params.get_param(name)
        assert param.schema.get("title") and param.description, name


def test_parse_imports_nothing_heavy_and_opens_no_socket() -> None:
    """Parsing must not import our client, DuckDB, dbt or graphql, nor touch the network."""
    code = textwrap.dedent(f"""
        import socket, sys
        def refuse(*a, **k): raise AssertionError("network at parse time")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        import runpy
        runpy.run_path({str(ROOT / 'dags' / 'github_pull_requests.py')!r})
        heavy = [m for m in ("duckdb", "dbt", "pr_warehouse.client",
                             "pr_warehouse.load.duckdb_loader", "graphql") if m in sys.modules]
        print("HEAVY", heavy)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"AIRFLOW_HOME": "/tmp/prw-parse-test", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY []" in out.stdout


def test_params_are_grouped_and_tasks_documented(dagbag) -> None:
    """Params sit in the trigger form's sections; Airflow shows each task's docstring."""
    from pr_warehouse.constants import DEFAULT_PAGE_SIZE

    dag = dagbag.dags["github_pull_requests"]
    sections = {name: dag.params.get_param(name).schema.get("section") for name in dag.params}
    assert set(sections.values()) == {"What to sync", "How far back", "Tuning"}, sections
    assert dag.params.get_param("since").schema["format"] == "date-time"
    assert dag.params["page_size"] == DEFAULT_PAGE_SIZE
    for task in dag.tasks:
        assert task.doc_md and "\n" not in task.doc_md.strip(), task.task_id


def test_since_accepts_a_picked_date_time(dagbag) -> None:
    from airflow.sdk.definitions.param import ParamsDict

    params = ParamsDict(dagbag.dags["github_pull_requests"].params)
    params["since"] = "2026-11-01T00:00:00+00:00"
    params["since"] = None
    params.validate()


@pytest.mark.parametrize("bad", ["no-slash", "owner/", "/name", "a b/c", "o/..", "o/.",
                                 "-owner/x", "o" * 40 + "/x", "o/na$me"])
def test_param_rejects_malformed_repo_names(dagbag, bad: str) -> None:
    from airflow.sdk.definitions.param import ParamsDict
    from airflow.sdk.exceptions import ParamValidationError

    dag = dagbag.dags["github_pull_requests"]
    params = ParamsDict(dag.params)
    with pytest.raises(ParamValidationError) as err:
        params["repos"] = [bad]
    assert "repos" in str(err.value) and bad in str(err.value)


@pytest.mark.parametrize("good", ["apache/airflow", "a/b", "dbt-labs/dbt-core", "o/.github",
                                  "my-org/repo_name.js", "o/...", "x" * 39 + "/y"])
def test_param_accepts_valid_repo_names(dagbag, good: str) -> None:
    from airflow.sdk.definitions.param import ParamsDict

    dag = dagbag.dags["github_pull_requests"]
    params = ParamsDict(dag.params)
    params["repos"] = [good]
    params.validate()
    assert repos.parse_repo(good) == tuple(good.split("/"))


@pytest.mark.parametrize("field,value", [("page_size", 0), ("page_size", 101),
                                         ("since", "yesterday"), ("orgs", ["bad org"])])
def test_other_params_are_validated(dagbag, field: str, value: object) -> None:
    from airflow.sdk.definitions.param import ParamsDict
    from airflow.sdk.exceptions import ParamValidationError

    params = ParamsDict(dagbag.dags["github_pull_requests"].params)
    with pytest.raises(ParamValidationError, match=field):
        params[field] = value
