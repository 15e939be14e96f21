"""The DAG file parses cleanly, cheaply, and its Params reject bad input before any request."""

from __future__ import annotations

import re
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
    assert set(dag.task_ids) == {"resolve_repositories", "plan", "extract", "load", "transform",
                                 "publish", "publish_postgres", "check_extracts"}


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
        sys.path.insert(0, {str(ROOT / 'plugins')!r})
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


def test_dag_patterns_match_the_package_rules() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("dagmod", ROOT / "dags" / "github_pull_requests.py")
    source = (ROOT / "dags" / "github_pull_requests.py").read_text()
    owner = re.search(r'^OWNER = (r".*")$', source, re.M).group(1)
    name = re.search(r'^NAME = (r".*")$', source, re.M).group(1)
    assert eval(owner) == repos.OWNER_PATTERN and eval(name) == repos.NAME_PATTERN
    assert spec is not None


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
