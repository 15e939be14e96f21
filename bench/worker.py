"""Jobs run in a child process, so their time and peak RSS are theirs alone.

``python -m bench.worker launch <job> <args.json> <result.json>`` (what :mod:`bench.procs`
runs) starts ``python -m bench.worker <job> ...`` under this small launcher, waits for it,
and adds the job's peak RSS, ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, to the result
file as ``child_max_rss_mib``. Jobs:

- ``extract``: page repositories one after another with the product's extract (the memory
  figure, and the seed's sequential baseline);
- ``load``: ``load_manifests`` of synthetic pages into a fresh DuckDB file;
- ``bare``: bare DuckDB reading the same pages into tables (``read_text``, ``read_json``, or
  ``read_text`` on every core: ``read_text_parallel``): the PR pages, and the events pages
  when there are any.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("bench.worker")

Job = Callable[[dict[str, Any]], dict[str, Any]]


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all its threads), in seconds."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_status_mib(field: str) -> float:
    """A memory line of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MiB; 0 elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def extract_job(args: dict[str, Any]) -> dict[str, Any]:
    """Extract ``repos`` one after another at ``page_size`` PRs per page, no probe."""
    from pr_warehouse.client import AdaptivePageSize, GraphQLClient
    from pr_warehouse.extract.pull_requests import ExtractRequest, extract_repository
    from pr_warehouse.storage import RawStore

    store = RawStore(args["base_url"])
    rss_ready = proc_status_mib("VmRSS")
    page_size = int(args["page_size"])
    manifests = []
    started = time.perf_counter()
    with GraphQLClient(args["url"], args["token"]) as client:
        for repo in args["repos"]:
            request = ExtractRequest(repo=repo, run_key=args["run_key"], page_size=page_size,
                                     use_cache=False)
            # A floor at the requested size keeps the page fixed (the seed never adapted).
            sizes = AdaptivePageSize(page_size, floor=page_size) if args.get("fixed") else None
            manifests.append(extract_repository(client, store, request, sizes))
        stats = client.stats.as_dict()
    return {
        "seconds": time.perf_counter() - started,
        "repos": len(manifests),
        "pages": sum(len(m.pages) + len(m.followup_pages) for m in manifests),
        "pull_requests": sum(m.pull_requests for m in manifests),
        "client": stats,
        "rss_after_imports_mib": rss_ready,
        "peak_rss_mib": proc_status_mib("VmHWM"),
    }


def load_job(args: dict[str, Any]) -> dict[str, Any]:
    """``load_manifests`` of the manifests in ``manifests_file`` into ``duckdb_path``."""
    from pr_warehouse.contracts import Manifest
    from pr_warehouse.load.duckdb_loader import load_manifests
    from pr_warehouse.storage import RawStore

    manifests = [Manifest.from_json(m) for m in json.loads(Path(args["manifests_file"]).read_text())]
    store = RawStore(args["base_url"])
    rss_ready = proc_status_mib("VmRSS")
    started, cpu_started = time.perf_counter(), cpu_seconds()
    result = load_manifests(Path(args["duckdb_path"]), store, manifests, run_id=args["run_id"])
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        # CPU time beside wall time: on a shared machine a neighbour inflates the wall
        # clock of one run and not the other's; the CPU ratio moves much less.
        "cpu_seconds": cpu_seconds() - cpu_started,
        "rows": result.rows_written,
        "event_rows": result.event_rows_written,
        "pull_requests_seen": result.pull_requests_seen,
        "pages": result.pages,
        "event_pages": result.event_pages,
        "corrupt_pages": len(result.corrupt_pages),
        "rss_after_imports_mib": rss_ready,
        "peak_rss_mib": proc_status_mib("VmHWM"),
    }


BARE_SQL: dict[str, str] = {
    # What the loader does at its core, minus validation, follow-ups and the upsert.
    "read_text": """
        create table bare as
        select unnest(from_json(content::json -> '$.data.repository.pullRequests.nodes',
                                '["json"]')) as pr
        from read_text(?)
    """,
    # DuckDB's own JSON reader, schema detected, nodes unnested into STRUCT rows.
    "read_json": """
        create table bare as
        select unnest(data.repository.pullRequests.nodes) as pr
        from read_json(?, format = 'auto', maximum_object_size = 67108864)
    """,
}
# The same for events pages (``PullRequestEvents``: ``data.nodes``).
BARE_EVENTS_SQL: dict[str, str] = {
    "read_text": """
        create table bare_events as
        select unnest(from_json(content::json -> '$.data.nodes', '["json"]')) as events
        from read_text(?)
    """,
    "read_json": """
        create table bare_events as
        select unnest(data.nodes) as events
        from read_json(?, format = 'auto', maximum_object_size = 67108864)
    """,
}


# ``read_text`` on every core: read_text reads its files on one thread, so the files are
# dealt into one UNION ALL branch per thread (as the loader reads them), and insertion
# order is not kept, so that every branch writes the table at once.
PARALLEL = "read_text_parallel"


def bare_statement(mode: str, sql: str, paths: list[str], threads: int
                   ) -> tuple[str, list[list[str]]]:
    """The bare statement of ``mode`` and its parameters.

    >>> sql, params = bare_statement(PARALLEL, "create table t as select * from read_text(?)",
    ...                              ["a", "b"], 2)
    >>> sql, params
    ('create table t as select * from read_text(?) union all select * from read_text(?)', [['a'], ['b']])
    """
    from pr_warehouse.load.duckdb_loader import read_streams

    if mode != PARALLEL:
        return sql, [paths]
    head, select = re.split(r"\s+as\s+", sql.strip(), maxsplit=1)  # create table <t> as
    streams = read_streams(paths, threads)
    return f"{head} as " + " union all ".join([select.strip()] * len(streams)), streams


def bare_job(args: dict[str, Any]) -> dict[str, Any]:
    """Bare DuckDB: the same pages into a table, one statement (and the events pages of
    ``event_paths_file``, if any, into another)."""
    import duckdb

    paths = json.loads(Path(args["paths_file"]).read_text())
    event_paths: list[str] = []
    if args.get("event_paths_file"):
        event_paths = json.loads(Path(args["event_paths_file"]).read_text())
    mode = args["mode"]
    config = {"preserve_insertion_order": "false"} if mode == PARALLEL else {}
    con = duckdb.connect(args["duckdb_path"], config=config)
    threads = con.execute("select current_setting('threads')").fetchall()[0][0]
    sql_mode = "read_text" if mode == PARALLEL else mode
    rss_ready = proc_status_mib("VmRSS")
    started, cpu_started = time.perf_counter(), cpu_seconds()
    event_rows = 0
    try:
        con.execute(*bare_statement(mode, BARE_SQL[sql_mode], paths, threads))
        rows = con.execute("select count(*) from bare").fetchall()[0][0]
        if event_paths:
            con.execute(*bare_statement(mode, BARE_EVENTS_SQL[sql_mode], event_paths, threads))
            event_rows = con.execute("select count(*) from bare_events").fetchall()[0][0]
    finally:
        con.close()
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": cpu_seconds() - cpu_started,
        "rows": rows,
        "event_rows": event_rows,
        "threads": threads,
        "rss_after_imports_mib": rss_ready,
        "peak_rss_mib": proc_status_mib("VmHWM"),
    }


JOBS: dict[str, Job] = {"extract": extract_job, "load": load_job, "bare": bare_job}


def launch(argv: list[str]) -> int:
    """Run one job as our only child; record its ``ru_maxrss`` (KiB on Linux) in MiB."""
    import resource
    import subprocess

    done = subprocess.run([sys.executable, "-m", "bench.worker", *argv], check=False)
    if done.returncode == 0:
        result_file = Path(argv[2])
        result = json.loads(result_file.read_text())
        result["child_max_rss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        result_file.write_text(json.dumps(result))
    return done.returncode


def main(argv: list[str]) -> int:
    if argv[0] == "launch":
        return launch(argv[1:])
    job, args_file, result_file = argv
    logging.basicConfig(level=logging.WARNING, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    result = JOBS[job](json.loads(Path(args_file).read_text()))
    Path(result_file).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
