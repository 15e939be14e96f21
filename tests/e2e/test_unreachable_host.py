"""A connection whose host cannot be reached fails the run at once: the failing task names
the host and the connection, Airflow does not retry it (the same host fails the same way),
and the warehouse keeps everything an earlier run loaded.

The connection JSON is built here (``AIRFLOW_CONN_GITHUB_DEFAULT``), as a new user would
write it: a port where nothing listens (bound, then closed) and a name under the reserved
``.invalid`` domain, which never resolves. Nothing here measures time (CI machines are too
busy for timed assertions); the wall times were measured by hand.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from pr_warehouse.options import RunOptions

from .conftest import TOKEN

pytestmark = pytest.mark.e2e

SEEDED = "acme/docs"  # loaded by a good run first: its watermark makes plan probe GitHub
NEW = "acme/web"  # never loaded: no watermark, no probe, so extract is the first contact


def closed_port() -> int:
    """A local port where nothing listens: bound by us, then closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bad_host(case: str) -> tuple[str, str]:
    """``(the connection's host, how the error names the host and why)``."""
    if case == "refused-port":
        port = closed_port()
        return (f"http://127.0.0.1:{port}/graphql",
                f"cannot reach http://127.0.0.1:{port} (connection github_default): "
                "connection refused")
    assert case == "unresolvable-name"
    return ("https://nonexistent.invalid/api/v3",
            "cannot reach https://nonexistent.invalid (connection github_default): "
            "name does not resolve")


def point_connection_at(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    """The connection a new user writes: the provider's shape, a token, a wrong host."""
    monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(
        {"conn_type": "github", "host": host, "password": TOKEN}))


@pytest.fixture(scope="module")
def seeded(make_module_pipeline: Any) -> Any:
    """A warehouse with one repository loaded by a good run against the emulator."""
    from .conftest import task_states

    pipeline = make_module_pipeline(data_tests=False)  # the subject is the failure
    run = pipeline.run({"repos": [SEEDED]})
    assert str(run.state) == "success", task_states(run)
    return pipeline


def kept(pipeline: Any) -> dict[str, Any]:
    """What a failed run must not lose: raw rows, marts, the analysts' snapshot, and every
    stored file (raw pages, manifests) by content."""
    import duckdb

    con = duckdb.connect(str(pipeline.snapshot_path), read_only=True)
    try:
        snapshot = con.execute("select repo, count(*), max(updated_at) "
                               "from analytics.fct_pull_requests group by 1 order by 1").fetchall()
    finally:
        con.close()
    return {
        "raw": pipeline.query("select repo, count(*), max(updated_at) from raw.pull_requests "
                              "group by 1 order by 1"),
        "marts": pipeline.query("select repo, count(*), max(updated_at) "
                                "from analytics.fct_pull_requests group by 1 order by 1"),
        "snapshot": snapshot,
    }


def stored_files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


def task_tries(dag_run: Any) -> dict[str, tuple[str, int]]:
    """``{task: (state, try_number)}`` of a finished ``dag.test()`` run."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id).all()
        return {(f"{ti.task_id}[{ti.rendered_map_index or ti.map_index}]" if ti.map_index >= 0
                 else ti.task_id): (str(ti.state), ti.try_number) for ti in tis}


@pytest.mark.parametrize(("case", "repos", "failing"), [
    ("refused-port", [SEEDED], "plan"),
    ("unresolvable-name", [NEW], f"extract[{NEW}]"),
], ids=["refused-port-at-plans-probe", "unresolvable-name-at-extract"])
def test_an_unreachable_host_fails_the_run_once_naming_it(
        seeded: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
        case: str, repos: list[str], failing: str) -> None:
    host, names_it = bad_host(case)
    before, files = kept(seeded), stored_files(seeded.raw_dir)
    point_connection_at(monkeypatch, host)
    capfd.readouterr()

    run = seeded.run({"repos": repos})

    out, err = capfd.readouterr()
    tries = task_tries(run)
    assert str(run.state) == "failed", tries
    assert tries[failing] == ("failed", 1), tries
    # No retry anywhere: every task ran at most once (AirflowFailException, not up_for_retry).
    assert all(n <= 1 for _, n in tries.values()), tries
    assert "up_for_retry" not in (out + err).lower()
    # The failing task's error: not retried (AirflowFailException), the host, the connection.
    assert re.search(rf"AirflowFailException: .*HostUnreachable: .*{re.escape(names_it)}",
                     out + err), names_it
    assert TOKEN not in out + err
    # Nothing already collected was lost: rows, marts, snapshot, every stored file.
    assert kept(seeded) == before
    after = stored_files(seeded.raw_dir)
    assert {path: after.get(path) for path in files} == files


@pytest.mark.parametrize("case", ["refused-port", "unresolvable-name"])
def test_every_task_that_contacts_github_fails_without_airflow_retries(
        seeded: Any, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    """resolve_repositories (orgs), plan (the probe) and extract each raise
    ``AirflowFailException``, which Airflow fails at once instead of up_for_retry."""
    from airflow.sdk.exceptions import AirflowFailException

    from pr_warehouse.contracts import ExtractBatch, ExtractJob
    from pr_warehouse.pipeline import extract, plan, resolve_repositories

    host, names_it = bad_host(case)
    point_connection_at(monkeypatch, host)
    message = rf"HostUnreachable: .*{re.escape(names_it)}"
    with pytest.raises(AirflowFailException, match=message):
        resolve_repositories(RunOptions(orgs=("acme",)))
    with pytest.raises(AirflowFailException, match=message):
        plan([SEEDED], RunOptions(), f"unreachable-{case}")
    with pytest.raises(AirflowFailException, match=message):
        extract(ExtractBatch.of([ExtractJob(NEW)]), RunOptions(), f"unreachable-{case}")
