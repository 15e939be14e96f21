"""Command line for the README's commands: ``make demo`` and ``make run``.

``demo`` starts the bundled GitHub emulator, runs the DAG once with ``airflow dags test``
and prints a few rows of each mart. ``run`` does the same against real GitHub with the
token from ``GITHUB_TOKEN``.

Example::

    python -m pr_warehouse.cli demo
    GITHUB_TOKEN=... python -m pr_warehouse.cli run --repos apache/airflow
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from pr_warehouse.config import Settings

log = logging.getLogger("pr_warehouse.cli")

DAG_ID = "github_pull_requests"
DEMO_TOKEN = "emulator-token"
MARTS = [
    "fct_pull_requests", "bridge_pull_request_labels", "bridge_pull_request_assignees",
    "bridge_pull_request_linked_issues", "mart_assignee_workload", "mart_milestone_progress",
    "mart_pr_cycle_time_weekly", "fct_sync_runs",
]


def github_connection(url: str, token: str) -> str:
    """The ``AIRFLOW_CONN_GITHUB_DEFAULT`` value (JSON form) for an endpoint and token.

    >>> json.loads(github_connection("", "t"))["password"]
    't'
    """
    return json.dumps({"conn_type": "http", "host": url, "password": token})


def airflow(*args: str, env: dict[str, str]) -> None:
    """Run the ``airflow`` CLI of this venv; raise on failure."""
    exe = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([exe, *args], env=env, check=True)


def run_dag(conf: dict, connection: str, settings: Settings) -> None:
    env = {**os.environ, "AIRFLOW_CONN_GITHUB_DEFAULT": connection}
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    airflow("db", "migrate", env=env)
    airflow("dags", "test", DAG_ID, "-c", json.dumps(conf), env=env)


def print_marts(path: Path, limit: int = 5) -> None:
    """Print a few rows of each mart from the read-only snapshot."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        for mart in MARTS:
            try:
                rel = con.sql(f"select * from analytics.{mart} limit {limit}")
            except duckdb.Error as exc:
                print(f"\n== analytics.{mart}: {exc}")
                continue
            total = con.execute(f"select count(*) from analytics.{mart}").fetchall()[0][0]
            print(f"\n== analytics.{mart} ({total} rows)")
            rel.show(max_width=160)
    finally:
        con.close()


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pr_warehouse")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run once against the bundled emulator")
    run = sub.add_parser("run", help="run once against GitHub (GITHUB_TOKEN)")
    run.add_argument("--repos", nargs="*", default=[])
    run.add_argument("--orgs", nargs="*", default=[])
    run.add_argument("--project")
    run.add_argument("--page-size", type=int, default=29)
    sql = sub.add_parser("sql", help="query the read-only snapshot analysts use")
    sql.add_argument("query")
    args = parser.parse_args(argv)
    if args.command == "sql":
        return query_snapshot(Settings.from_env().snapshot_path, args.query)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings.from_env()

    with ExitStack() as stack:
        if args.command == "demo":
            from pr_warehouse.emulator import EmulatorServer, build_world

            server = stack.enter_context(EmulatorServer(build_world(), tokens={DEMO_TOKEN}))
            log.info("GitHub emulator at %s", server.url)
            connection = github_connection(server.url, DEMO_TOKEN)
            conf: dict = {"project": "demo"}
        else:
            token = os.environ.get("GITHUB_TOKEN")
            if not token:
                raise SystemExit("GITHUB_TOKEN is not set: `GITHUB_TOKEN=ghp_... make run "
                                   "REPOS=owner/name` (a token with read access to the repos)")
            connection = github_connection(os.environ.get("GITHUB_GRAPHQL_URL", ""), token)
            conf = {"repos": args.repos, "orgs": args.orgs, "project": args.project,
                    "page_size": args.page_size}
        run_dag(conf, connection, settings)
    print_marts(settings.snapshot_path)
    print(f"\nWarehouse: {settings.duckdb_path}\nSnapshot for analysts: {settings.snapshot_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
