"""Command line for the README's commands: ``make demo``, ``make run``, ``make sql``, ``make report``.

``demo`` starts the bundled GitHub emulator, runs the DAG once with ``airflow dags test``
and prints one line per task as it finishes, then a summary of the marts; Airflow's own
log goes to a file whose path it prints. ``run`` does the same against real GitHub with the
token from ``GITHUB_TOKEN``. ``pool`` creates the Airflow pool the extracts run in. ``report``
writes the PR analytics charts of the local snapshot as one self-contained HTML file.

Example::

    pr-warehouse demo
    GITHUB_TOKEN=... pr-warehouse run --repos apache/airflow
    pr-warehouse sql "select * from analytics.mart_assignee_workload"
    pr-warehouse report --repo acme/api
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pr_warehouse.config import Settings, point_airflow_at_project
from pr_warehouse.constants import DAG_ID, DEFAULT_PAGE_SIZE, DEFAULT_POOL_SLOTS
from pr_warehouse.contracts import (
    LoadResult,
    Manifest,
    TeamsManifest,
    batches_from_xcom,
    planned_repos,
)

log = logging.getLogger("pr_warehouse.cli")

POLL_SECONDS = 0.5


class NothingToSync(SystemExit):
    """``run`` was given no repositories, organizations or project."""


def github_connection(url: str, token: str) -> str:
    """The ``AIRFLOW_CONN_<ID>`` value (JSON form) for an endpoint and token.

    >>> json.loads(github_connection("", "t"))["password"]
    't'
    """
    return json.dumps({"conn_type": "http", "host": url, "password": token})


def airflow_exe() -> str:
    """The ``airflow`` CLI of this interpreter's environment."""
    return str(Path(sys.executable).with_name("airflow"))


# -- following a run: one line per finished task ---------------------------------------------


def task_line(task_id: str, label: str | None, state: str, seconds: float | None,
              value: Any) -> str:
    """One finished task, as a person wants to read it.

    >>> task_line("extract", "acme/api", "success", 1.24,
    ...           [Manifest("acme/api", pull_requests=300, points_spent=11).to_json()])
    '  ✔ extract[acme/api]               1.2 s   300 PRs, 11 points'
    >>> task_line("load", None, "failed", 0.5, None)
    '  ✘ load                            0.5 s   failed'
    """
    mark = {"success": "✔", "skipped": "·"}.get(state, "✘")
    name = f"{task_id}[{label}]" if label else task_id
    took = f"{seconds:5.1f} s" if seconds is not None else "    ? s"
    return f"  {mark} {name:<30}{took}   {describe(task_id, state, value)}".rstrip()


def describe(task_id: str, state: str, value: Any) -> str:
    """What a task's XCom says, in a few words.

    >>> describe("resolve_repositories", "success", ["a/b", "c/d"])
    '2 repositories'
    >>> describe("load", "success", LoadResult(pages=2, pull_requests_seen=9, rows_written=4).to_json())
    '2 pages, 9 PRs seen, 4 rows written'
    >>> describe("extract_teams", "success", {"orgs": [{"org": "acme", "team_count": 5,
    ...     "points_spent": 1}, {"org": "mona", "status": "user"}], "file_teams": {"ops": []}})
    'acme 5 teams, mona user; 1 file teams, 1 points'
    >>> describe("report", "success", "file:///data/raw/runs/r1/report.html")
    'file:///data/raw/runs/r1/report.html'
    """
    if state != "success":
        return state
    if task_id == "resolve_repositories" and isinstance(value, list):
        return f"{len(value)} repositories"
    if task_id == "plan" and isinstance(value, list):
        return f"{len(planned_repos(batches_from_xcom(value) or []))} to extract"
    if task_id == "extract" and isinstance(value, list):
        manifests = [Manifest.from_json(m) for m in value]
        prs = sum(m.pull_requests for m in manifests)
        points = sum(m.points_spent for m in manifests)
        return f"{prs} PRs, {points} points"
    if task_id == "extract_teams" and isinstance(value, dict):
        teams = TeamsManifest.from_json(value)
        read = ", ".join(f"{o.org} {o.team_count} teams" if o.ok else f"{o.org} {o.status.value}"
                         for o in teams.orgs) or "no owners"
        points = sum(o.points_spent for o in teams.orgs)
        return f"{read}; {len(teams.file_teams)} file teams, {points} points"
    if task_id == "load" and isinstance(value, dict):
        result = LoadResult.from_json(value)
        return (f"{result.pages} pages, {result.pull_requests_seen} PRs seen, "
                f"{result.rows_written} rows written")
    if task_id == "report" and isinstance(value, str):
        return value  # where the run's HTML report was written
    if task_id == "publish_postgres" and isinstance(value, dict) and not value.get("published"):
        return "skipped (no Postgres connection)"
    return ""


def finished_tasks(since: datetime) -> Iterator[tuple[str, str | None, str, float | None, Any]]:
    """Task instances of this DAG's runs started since ``since`` that finished, with their
    return values, read through Airflow's own models (SQLite or Postgres alike)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import and_, select

    done = ("success", "failed", "upstream_failed", "skipped")
    query = (
        select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.rendered_map_index,
               TaskInstance.state, TaskInstance.start_date, TaskInstance.end_date,
               XComModel.value)
        .join(DagRun, and_(DagRun.dag_id == TaskInstance.dag_id,
                           DagRun.run_id == TaskInstance.run_id))
        .outerjoin(XComModel, and_(XComModel.dag_id == TaskInstance.dag_id,
                                   XComModel.run_id == TaskInstance.run_id,
                                   XComModel.task_id == TaskInstance.task_id,
                                   XComModel.map_index == TaskInstance.map_index,
                                   XComModel.key == "return_value"))
        .where(TaskInstance.dag_id == DAG_ID, DagRun.start_date >= since,
               TaskInstance.state.in_(done))
        .order_by(TaskInstance.end_date)
    )
    with create_session() as session:
        rows = session.execute(query).all()
    for task_id, map_index, label, state, start, end, value in rows:
        value = xcom_value(value)
        seconds = (end - start).total_seconds() if start and end else None
        yield task_id, (label or str(map_index)) if map_index >= 0 else None, str(state), seconds, value


def xcom_value(stored: Any) -> Any:
    """A return value as the metadata DB hands it back: its JSON column gives dicts and
    lists decoded, but a string may be either a decoded value or still JSON text.

    >>> xcom_value('{"pages": 2}'), xcom_value("file:///r/report.html"), xcom_value([1])
    ({'pages': 2}, 'file:///r/report.html', [1])
    """
    if isinstance(stored, bytes):
        stored = stored.decode()
    if isinstance(stored, str):
        try:
            return json.loads(stored)
        except ValueError:
            return stored
    return stored


def follow(process: subprocess.Popen[bytes], since: datetime) -> None:
    """Print each task as it finishes until ``process`` (``airflow dags test``) exits."""
    shown: set[tuple[str, str | None]] = set()

    def show_new() -> None:
        try:
            rows = list(finished_tasks(since))
        except Exception as exc:  # a locked SQLite file mid-write: try again next tick
            log.debug("metadata DB not readable yet: %s", exc)
            return
        for task_id, label, state, seconds, value in rows:
            if (task_id, label) not in shown:
                shown.add((task_id, label))
                print(task_line(task_id, label, state, seconds, value), flush=True)

    while process.poll() is None:
        show_new()
        time.sleep(POLL_SECONDS)
    show_new()


def run_dag(conf: dict[str, Any], connection: str, settings: Settings, log_file: Path) -> int:
    """``airflow dags test`` with ``conf``; Airflow's output goes to ``log_file``."""
    from pr_warehouse.client.connection import connection_env_var

    env = {**os.environ, connection_env_var(settings.github_conn_id): connection}
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as out:
        subprocess.run([airflow_exe(), "db", "migrate"], env=env, stdout=out,
                       stderr=subprocess.STDOUT, check=True)
        started = datetime.now(timezone.utc)
        print(f"Running DAG {DAG_ID} (Airflow's full log: {log_file})", flush=True)
        process = subprocess.Popen([airflow_exe(), "dags", "test", DAG_ID, "-c", json.dumps(conf)],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
        follow(process, started)
    return process.returncode


# -- after the run -----------------------------------------------------------------------------


def mart_summary(path: Path) -> list[str]:
    """One line per table in ``analytics``: its name and row count."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'analytics' "
            "order by table_name").fetchall()]
        counts = [(t, con.execute(f'select count(*) from analytics."{t}"').fetchall()[0][0])
                  for t in tables]
    finally:
        con.close()
    return [f"  analytics.{table:<40}{rows:>8,} rows" for table, rows in counts]


def query_snapshot(path: Path, sql: str) -> int:
    """Print a query's result from the snapshot (read-only: never blocks the pipeline)."""
    import duckdb

    if not path.exists():
        print(f"no snapshot at {path}: run `make demo` or the DAG first", file=sys.stderr)
        return 1
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.sql(sql).show(max_width=200, max_rows=100)
    finally:
        con.close()
    return 0


def write_report(snapshot: Path, output: Path, repo: str | None, include_bots: bool) -> int:
    """The snapshot's charts as one HTML file that opens offline; prints its path."""
    from pr_warehouse.report import Filters, build_report, render_html

    report = build_report(snapshot, Filters(repo=repo, include_bots=include_bots))
    if report.empty:
        print(report.empty, file=sys.stderr)
        return 1
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_html(report), encoding="utf-8")
    print(output)
    return 0


def create_pool(settings: Settings, slots: int) -> int:
    """Create (or resize) the pool the extracts run in: a task in a missing pool never runs."""
    return subprocess.run([airflow_exe(), "pools", "set", settings.pool, str(slots),
                           "Concurrent extracts against GitHub's API"]).returncode


def run_conf(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """The DAG conf of ``run``; nothing to sync is an error that says what to pass."""
    if not (args.repos or args.orgs or args.project):
        raise NothingToSync(
            "nothing to sync: pass REPOS=\"owner/name ...\", ORGS=\"org ...\" or PROJECT=<preset> "
            f"(presets: {settings.projects_file}), e.g.\n"
            "  GITHUB_TOKEN=ghp_... make run REPOS=\"apache/airflow dbt-labs/dbt-core\"")
    return {"repos": args.repos, "orgs": args.orgs, "project": args.project,
            "page_size": args.page_size}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="pr-warehouse", description=__doc__.split("\n\n")[0])
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run once against the bundled emulator")
    run = sub.add_parser("run", help="run once against GitHub (GITHUB_TOKEN)")
    run.add_argument("--repos", nargs="*", default=[])
    run.add_argument("--orgs", nargs="*", default=[])
    run.add_argument("--project")
    run.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE)
    sql = sub.add_parser("sql", help="query the read-only snapshot analysts use")
    sql.add_argument("query")
    report = sub.add_parser("report", help="the PR analytics charts as one offline HTML file")
    report.add_argument("--output", type=Path,
                        help="where to write it (default: data/reports/pr-analytics.html)")
    report.add_argument("--repo", help="only this repository (owner/name)")
    report.add_argument("--include-bots", action="store_true", help="count bot-authored PRs")
    pool = sub.add_parser("pool", help="create the Airflow pool the extracts run in")
    pool.add_argument("--slots", type=int, default=DEFAULT_POOL_SLOTS)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings.from_env()
    # Before anything imports Airflow (it reads its settings once): the subprocesses and
    # the run's follower (finished_tasks) must see the same metadata DB.
    point_airflow_at_project(settings)
    if args.command == "sql":
        return query_snapshot(settings.snapshot_path, args.query)
    if args.command == "pool":
        return create_pool(settings, args.slots)
    if args.command == "report":
        output = args.output or settings.home / "data" / "reports" / "pr-analytics.html"
        return write_report(settings.snapshot_path, output, args.repo, args.include_bots)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    log_file = settings.duckdb_path.parent / "logs" / f"{args.command}-{stamp}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    # Our own and the emulator's log lines go to the same file as Airflow's.
    logging.basicConfig(level=logging.INFO, filename=log_file,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    with ExitStack() as stack:
        if args.command == "demo":
            try:
                from github_emulator import DEFAULT_TOKEN, EmulatorServer, build_world
            except ImportError:
                raise SystemExit("the demo needs the bundled emulator (github_emulator/): "
                                 "`make demo` installs it") from None
            server = stack.enter_context(EmulatorServer(build_world(), tokens={DEFAULT_TOKEN}))
            print(f"GitHub emulator at {server.url}")
            connection = github_connection(server.url, DEFAULT_TOKEN)
            conf: dict[str, Any] = {"project": "demo"}
        else:
            conf = run_conf(args, settings)
            if not settings.github_token:
                raise SystemExit("GITHUB_TOKEN is not set: `GITHUB_TOKEN=ghp_... make run "
                                 "REPOS=owner/name` (a token with read access to the repos)")
            connection = github_connection(settings.github_graphql_url, settings.github_token)
        status = run_dag(conf, connection, settings, log_file)
    if status != 0:
        print(f"\nThe run failed (airflow exited {status}); the task marked ✘ says where. "
              f"Full log: {log_file}")
        return status
    print(f"\nMarts in the snapshot analysts open ({settings.snapshot_path}):")
    print("\n".join(mart_summary(settings.snapshot_path)))
    print(f"\nWarehouse: {settings.duckdb_path}\nAirflow's full log: {log_file}\n"
          "Query it: make sql Q=\"select * from analytics.mart_assignee_workload\"")
    return 0


if __name__ == "__main__":
    sys.exit(main())
