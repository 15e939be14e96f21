"""Write extracted pages into the DuckDB warehouse's ``raw`` schema in one transaction.

DuckDB parses the pages itself (``read_text`` + JSON functions), so a million PRs never
pass through Python objects; only PRs whose nested lists needed follow-up pages are
merged in Python. The upsert keys on GitHub's node id and keeps the newest ``updatedAt``:
loading the same pages twice changes nothing, ``loaded_at`` included. Events pages go
into ``raw.pull_request_events`` by the same rules, and a PR's two rows always carry the
same ``loaded_at``: the last load that wrote either (see :func:`_align_loaded_at`).

Example::

    result = load_manifests(Path("data/warehouse.duckdb"), RawStore("file:///.../raw"),
                            manifests, run_id="manual__2026-11-28")
    result.rows_written
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pr_warehouse.constants import DEFAULT_DUCKDB_MEMORY_LIMIT
from pr_warehouse.load.checks import load_checks
from pr_warehouse.contracts import (
    ExtractStatus,
    LoadResult,
    Manifest,
    OrgTeams,
    SyncPlan,
    TeamsManifest,
    TeamsStatus,
)
from pr_warehouse.load.review_comments import load_review_comments
from pr_warehouse.pages import complete_nested_lists, truncated_connections
from pr_warehouse.queries.builders import NESTED_CONNECTIONS

from pr_warehouse.load.deployments import load_deployments
if TYPE_CHECKING:
    import duckdb

    from pr_warehouse.storage import RawStore

log = logging.getLogger(__name__)

DDL_PATH = Path(__file__).with_name("ddl.sql")
# Pages staged at once: ~20k PRs at 100 per page, a few hundred MB of JSON at most.
PAGE_BATCH = 200


def duckdb_config(memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT) -> dict[str, str]:
    """Connection settings for the load.

    DuckDB's default memory limit is 80% of RAM, and it keeps what it may; a bound makes it
    evict (and spill to ``<db>.tmp``) instead, so the load stays lean beside Airflow's
    workers (``Settings.duckdb_memory_limit``).

    >>> duckdb_config("4GB")["memory_limit"]
    '4GB'
    """
    return {
        "memory_limit": memory_limit,
        # Row order within the raw table carries no meaning; not keeping it saves memory.
        "preserve_insertion_order": "false",
    }


def next_loaded_at(newest: datetime | None, now: datetime) -> datetime:
    """This load's ``loaded_at``: ``now``, but always after every row already stored.

    dbt's incremental models rebuild the PRs loaded after their newest ``loaded_at``
    (dbt/macros/incremental.sql): a clock stepped back must not hide a load from them.

    >>> t = datetime(2026, 11, 28, tzinfo=timezone.utc)
    >>> next_loaded_at(None, t) == t, next_loaded_at(t, t - timedelta(hours=1))
    (True, datetime.datetime(2026, 11, 28, 0, 0, 0, 1, tzinfo=datetime.timezone.utc))
    """
    return now if newest is None or now > newest else newest + timedelta(microseconds=1)


def load_timestamp(con: duckdb.DuckDBPyConnection) -> datetime:
    """The ``loaded_at`` of a load starting now on ``con`` (see :func:`next_loaded_at`)."""
    newest = con.execute("select greatest(max(loaded_at), (select max(loaded_at) from "
                         "raw.pull_request_events)) from raw.pull_requests").fetchall()[0][0]
    return next_loaded_at(newest, datetime.now(timezone.utc))


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables when missing (the DDL is idempotent)."""
    con.execute(DDL_PATH.read_text())


def _stage_pages(con: duckdb.DuckDBPyConnection, store: RawStore,
                 pages: list[tuple[str, str]], result: LoadResult, first_ord: int = 0) -> None:
    """Parse page files into a temp table ``staged`` (one row per PR node).

    ``pages`` are ``(repo, key)`` in load order; the ordinal breaks ties between
    two copies of a PR with the same ``updatedAt`` (the later page wins).
    """
    con.execute("create or replace temp table page_files (path varchar, key varchar, "
                "repo varchar, ord integer)")
    rows = [(store.duckdb_path(key), key, repo, first_ord + i)
            for i, (repo, key) in enumerate(pages)]
    if rows:
        con.executemany("insert into page_files values (?, ?, ?, ?)", rows)
    paths = [r[0] for r in rows]
    # DuckDB's JSON functions re-parse their input on every call, so each page is parsed
    # once for validity and once to pull out every part we need, and each node once for
    # its keys (multi-path extraction), instead of once per field.
    con.execute("create or replace temp table page_parts (key varchar, ord integer, "
                "valid boolean, repo varchar, nodes varchar, single varchar)")
    if paths:
        con.execute(
            """
        insert into page_parts
        with text as (
            select filename, content, json_valid(content) as valid from read_text(?)
        ),
        parts as (
            select filename, valid,
                   case when valid then json_extract_string(content, [
                       '$.data.repository.nameWithOwner',
                       '$.data.repository.pullRequests.nodes',
                       '$.data.repository.pullRequest']) end as p
            from text
        )
        select f.key, f.ord, parts.valid, p[1] as repo,
               case when p[2] like '[%' then p[2] end as nodes,
               case when p[3] like '{%' then p[3] end as single
        from page_files f join parts on parts.filename = f.path
        """,
            [paths],
        )
    bad = con.execute(
        """
        select key, case when not valid then 'not valid JSON'
                         else 'no data.repository.pullRequests.nodes' end
        from page_parts where not valid or (nodes is null and single is null)
        """
    ).fetchall()
    result.corrupt_pages.update({key: why for key, why in bad})
    truncated = ", ".join(f"'$.{c}.pageInfo.hasNextPage'" for c in NESTED_CONNECTIONS)
    con.execute(
        f"""
        create or replace temp table staged as
        with nodes as (
            -- a page of pullRequests.nodes, or a single-PR page (repository.pullRequest)
            select key, ord, repo,
                   unnest(coalesce(from_json(nodes, '["json"]'), [single::json])) as pr
            from page_parts
            where valid and (nodes is not null or single is not null)
        ),
        keyed as (
            select key, ord, repo, pr,
                   json_extract_string(pr, ['$.id', '$.number', '$.updatedAt', {truncated}]) as v
            from nodes
            where pr is not null and pr::varchar like '{{%'
        )
        select v[1] as node_id, repo, v[2]::integer as pr_number,
               v[3]::timestamptz as updated_at, pr, key as page_key, ord,
               -- complete: no nested list cut short (hasNextPage)
               not list_contains(v[4:], 'true') as complete
        from keyed
        """
    )
    con.execute("drop table page_parts")


def _stage_event_pages(con: duckdb.DuckDBPyConnection, store: RawStore,
                       pages: list[tuple[str, str]], result: LoadResult,
                       first_ord: int = 0) -> None:
    """Parse events pages into a temp table ``staged_events`` (one row per PR node)."""
    con.execute("create or replace temp table page_files (path varchar, key varchar, "
                "repo varchar, ord integer)")
    rows = [(store.duckdb_path(key), key, repo, first_ord + i)
            for i, (repo, key) in enumerate(pages)]
    con.execute("create or replace temp table event_parts (key varchar, ord integer, "
                "valid boolean, repo varchar, nodes varchar)")
    if rows:
        con.executemany("insert into page_files values (?, ?, ?, ?)", rows)
        con.execute(
            """
            insert into event_parts
            with text as (
                select filename, content, json_valid(content) as valid from read_text(?)
            )
            select f.key, f.ord, text.valid, f.repo,
                   case when text.valid then json_extract_string(content, '$.data.nodes') end
            from page_files f join text on text.filename = f.path
            """,
            [[r[0] for r in rows]],
        )
    bad = con.execute(
        """
        select key, case when not valid then 'not valid JSON' else 'no data.nodes' end
        from event_parts where not valid or nodes is null or nodes not like '[%'
        """
    ).fetchall()
    result.corrupt_pages.update({key: why for key, why in bad})
    con.execute(
        """
        create or replace temp table staged_events as
        with nodes as (
            select key, ord, repo, unnest(from_json(nodes, '["json"]')) as node
            from event_parts
            where valid and nodes like '[%'
        ),
        keyed as (
            select key, ord, repo, node,
                   json_extract_string(node, ['$.id', '$.number', '$.updatedAt',
                                              '$.timelineItems.pageInfo.hasNextPage',
                                              '$.repository.nameWithOwner']) as v
            from nodes
            where node is not null and node::varchar like '{%'
        )
        -- a batch may hold PRs of several repositories: each node names its own
        select v[1] as node_id, coalesce(v[5], repo) as repo, v[2]::integer as pr_number,
               v[3]::timestamptz as updated_at, node as events, key as page_key, ord,
               coalesce(v[4], 'false') <> 'true' as complete
        from keyed
        where v[1] is not null
        """
    )
    con.execute("drop table event_parts")


def _read_followups(store: RawStore, manifests: list[Manifest]
                    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every follow-up page with its metadata, in fetch order (they are few and small).

    A shared batch's follow-ups are listed by each repository they serve: read once.
    """
    keys = dict.fromkeys(key for manifest in manifests for key in manifest.followup_pages)
    return [(store.read_json(key), store.read_meta(key)) for key in keys]


def _merge_followups(con: duckdb.DuckDBPyConnection,
                     followups: list[tuple[dict[str, Any], dict[str, Any]]],
                     table: str = "staged", column: str = "pr") -> None:
    """Replace the staged JSON of nodes whose nested lists were completed by follow-ups.

    ``table``/``column``: ``staged``/``pr`` (PR nodes) or ``staged_events``/``events``.
    """
    ids = sorted({r["id"] for _, meta in followups for r in meta.get("requests", [])})
    if not ids:
        return
    rows = con.execute(
        f"select node_id, ord, {column} from {table} where node_id in (select unnest(?))", [ids]
    ).fetchall()
    updates = []
    for node_id, ord_, node in rows:
        merged = complete_nested_lists([json.loads(node)], followups)[node_id]
        complete = not any(truncated_connections(merged))
        updates.append((json.dumps(merged, ensure_ascii=False), complete, node_id, ord_))
    if updates:
        con.executemany(f"update {table} set {column} = ?::json, complete = ? "
                        "where node_id = ? and ord = ?", updates)


def load_manifests(
    duckdb_path: Path,
    store: RawStore,
    manifests: list[Manifest],
    *,
    run_id: str,
    clear_repos: list[str] | None = None,
    loaded_at: datetime | None = None,
    sync_plan: SyncPlan | None = None,
    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT,
    teams: TeamsManifest | None = None,
) -> LoadResult:
    """Load every page the manifests list, record the sync runs, all in one transaction;
    with ``teams``, each organization's teams and the teams file at their sync time."""
    import duckdb

    result = LoadResult()
    ok = [m for m in manifests if m.ok]
    result.failed_repos = {m.repo: m.error or m.status.value for m in manifests
                           if m.status in (ExtractStatus.FAILED, ExtractStatus.MISSING)}
    result.repos = [m.repo for m in ok]
    pages = [(m.repo, key) for m in ok for key in m.pages]
    result.pages = len(pages)

    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(duckdb_path), config=duckdb_config(memory_limit))
    try:
        store.register_with(con)
        ensure_schema(con)
        con.execute("begin transaction")
        loaded_at = loaded_at or load_timestamp(con)
        if clear_repos:
            result.rows_cleared = _clear(con, clear_repos)
        followups = _read_followups(store, ok)
        # Pages go in bounded batches, in order: memory stays flat however large the run,
        # and the upsert rule makes batch-by-batch equal to all-at-once (a later copy of a
        # PR replaces an earlier one only if it is newer, or as new and different).
        for start in range(0, len(pages), PAGE_BATCH):
            _stage_pages(con, store, pages[start : start + PAGE_BATCH], result, first_ord=start)
            _merge_followups(con, followups)
            result.pull_requests_seen += con.execute("select count(*) from staged").fetchall()[0][0]
            result.incomplete_skipped += _drop_incomplete(con)
            _upsert_staged(con, run_id, loaded_at)
        # A shared batch's events pages are listed by each repository they hold PRs of.
        event_pages = list({key: (m.repo, key) for m in ok for key in m.event_pages}.values())
        result.event_pages = len(event_pages)
        for start in range(0, len(event_pages), PAGE_BATCH):
            _stage_event_pages(con, store, event_pages[start : start + PAGE_BATCH], result,
                               first_ord=start)
            _merge_followups(con, followups, table="staged_events", column="events")
            result.incomplete_skipped += con.execute(
                "delete from staged_events where not complete").fetchall()[0][0]
            _upsert_staged(con, run_id, loaded_at, table="raw.pull_request_events",
                           staged="staged_events", payload="events")
        _align_loaded_at(con, loaded_at)
        load_review_comments(con, store, ok, run_id, loaded_at)
        # loaded_at is this load's own timestamp, so it marks exactly the rows written.
        result.rows_written, result.event_rows_written = (
            con.execute(f"select count(*) from raw.{table} where run_id = ? and loaded_at = ?",
                        [run_id, loaded_at]).fetchall()[0][0]
            for table in ("pull_requests", "pull_request_events"))
        load_checks(con, store, manifests, run_id=run_id, loaded_at=loaded_at)
        _record_sync_runs(con, manifests, run_id, loaded_at)
        if sync_plan is not None:
            _record_plan(con, sync_plan, run_id, loaded_at)
        if teams is not None:
            _load_teams(con, store, teams, run_id, loaded_at, result)
        load_deployments(con, store, ok, run_id, loaded_at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.close()
    log.info("loaded %d pages: %d PR nodes seen, %d rows written, %d events pages, %d events "
             "rows written, %d cleared, %d incomplete (outside the window) skipped; failed "
             "repos: %s; corrupt pages: %s", result.pages, result.pull_requests_seen,
             result.rows_written, result.event_pages, result.event_rows_written,
             result.rows_cleared,
             result.incomplete_skipped, result.failed_repos or "none",
             result.corrupt_pages or "none")
    return result


def _upsert_staged(con: duckdb.DuckDBPyConnection, run_id: str, loaded_at: datetime,
                   *, table: str = "raw.pull_requests", staged: str = "staged",
                   payload: str = "pr") -> None:
    """Upsert one staged table into its raw table (PR nodes by default; events with
    ``table="raw.pull_request_events", staged="staged_events", payload="events"``).

    Newer wins; at the same ``updatedAt`` a (complete) copy that differs replaces the
    stored one, so a full refresh picks up fields a newer query asks for. The names are
    this module's own, never input.
    """
    con.execute(
        f"""
        insert into {table} as t
            (node_id, repo, pr_number, updated_at, {payload}, page_key, run_id, loaded_at)
        select node_id, repo, pr_number, updated_at, {payload}, page_key, ?, ?
        from {staged}
        qualify row_number() over (partition by node_id order by updated_at desc, ord desc) = 1
        on conflict (node_id) do update set
            repo = excluded.repo, pr_number = excluded.pr_number,
            updated_at = excluded.updated_at, {payload} = excluded.{payload},
            page_key = excluded.page_key, run_id = excluded.run_id,
            loaded_at = excluded.loaded_at
        where excluded.updated_at > t.updated_at
           or (excluded.updated_at = t.updated_at
               and excluded.{payload}::varchar <> t.{payload}::varchar)
        """,
        [run_id, loaded_at],
    )


def _align_loaded_at(con: duckdb.DuckDBPyConnection, loaded_at: datetime) -> None:
    """Stamp this load's ``loaded_at`` on the other raw row of every PR it wrote.

    dbt's incremental models find what to rebuild with one literal ``loaded_at >``
    filter on each staging view, the only kind DuckDB pushes down to the raw scans. That
    holds only if a PR whose node was rewritten also shows a new ``loaded_at`` on its
    events row, and the reverse (events fetched again for an unchanged node).
    """
    for table, other in (("pull_request_events", "pull_requests"),
                         ("pull_requests", "pull_request_events")):
        con.execute(
            f"""
            update raw.{table} set loaded_at = ?
            where loaded_at <> ?
              and node_id in (select node_id from raw.{other} where loaded_at = ?)
            """,
            [loaded_at, loaded_at, loaded_at],
        )


def _drop_incomplete(con: duckdb.DuckDBPyConnection) -> int:
    """Remove staged PRs whose nested lists are still cut short (``hasNextPage``).

    The extract completes every list of the PRs in its window; a PR it saw only on the
    boundary page, older than the window, may be left truncated and is not stored.
    """
    return con.execute("delete from staged where not complete").fetchall()[0][0]


def _clear(con: duckdb.DuckDBPyConnection, repos: list[str]) -> int:
    """Delete the selected repos' rows (``clear``: a clean reseed)."""
    lowered = [r.lower() for r in repos]
    count = con.execute("select count(*) from raw.pull_requests where lower(repo) in "
                        "(select unnest(?))", [lowered]).fetchall()[0][0]
    for table in ("pull_requests", "pull_request_events"):
        con.execute(f"delete from raw.{table} where lower(repo) in (select unnest(?))",
                    [lowered])
    return count


def _record_sync_runs(con: duckdb.DuckDBPyConnection, manifests: list[Manifest],
                      run_id: str, loaded_at: datetime) -> None:
    rows = [
        (
            run_id, m.repo, m.status.value, m.started_at, m.finished_at, len(m.pages),
            m.pull_requests, m.points_spent, m.requests, json.dumps(m.retries, sort_keys=True),
            m.page_size_final, m.error, loaded_at,
        )
        for m in manifests
    ]
    if rows:
        con.executemany(
            """
            insert into raw.sync_runs as t
                (run_id, repo, status, started_at, finished_at, pages, pull_requests,
                 points_spent, requests, retries, page_size_final, error, loaded_at)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::json, ?, ?, ?)
            on conflict (run_id, repo) do update set
                status = excluded.status, started_at = excluded.started_at,
                finished_at = excluded.finished_at, pages = excluded.pages,
                pull_requests = excluded.pull_requests, points_spent = excluded.points_spent,
                requests = excluded.requests, retries = excluded.retries,
                page_size_final = excluded.page_size_final, error = excluded.error
            """,
            rows,
        )


def _record_plan(con: duckdb.DuckDBPyConnection, plan: SyncPlan, run_id: str,
                 loaded_at: datetime) -> None:
    extracted, skipped = len(plan.repos), len(plan.skipped)
    con.execute(
        """
        insert into raw.sync_plans as t values (?, ?, ?, ?, ?, ?, ?)
        on conflict (run_id) do update set repos_total = excluded.repos_total,
            repos_extracted = excluded.repos_extracted, repos_skipped = excluded.repos_skipped,
            probe_points = excluded.probe_points, probe_requests = excluded.probe_requests
        """,
        [run_id, extracted + skipped, extracted, skipped, plan.probe_points,
         plan.probe_requests, loaded_at],
    )


# --- teams ----------------------------------------------------------------------------------


def org_team_nodes(store: RawStore, org: OrgTeams) -> list[tuple[dict[str, Any], str]]:
    """``(Team node, page key)`` of every team an ``ok`` read stored, each member list
    completed from the follow-up pages (their metadata names the team of each alias)."""
    teams: dict[str, tuple[dict[str, Any], str]] = {}
    for key in org.pages:
        owner = (store.read_json(key).get("data") or {}).get("repositoryOwner") or {}
        for node in ((owner.get("teams") or {}).get("nodes") or []):
            if node and node.get("id"):
                teams[node["id"]] = (node, key)
    for key in org.followup_pages:
        data = store.read_json(key).get("data") or {}
        variables = store.read_meta(key).get("variables") or {}
        for alias, answer in data.items():
            if not alias.startswith("t") or not answer:
                continue
            team_id = variables.get(f"id{alias[1:]}")
            if team_id not in teams:
                continue
            members = teams[team_id][0].setdefault("members", {})
            more = answer.get("members") or {}
            members["edges"] = [*(members.get("edges") or []), *(more.get("edges") or [])]
            members["pageInfo"] = more.get("pageInfo") or members.get("pageInfo")
    return list(teams.values())


def _load_teams(con: duckdb.DuckDBPyConnection, store: RawStore, teams: TeamsManifest,
                run_id: str, loaded_at: datetime, result: LoadResult) -> None:
    """Record each owner's teams read (or why not) and the teams file, keyed by sync time.

    A snapshot already recorded (the same organization and sync time: a load run again)
    is kept as it is, ``loaded_at`` included.
    """
    for org in teams.orgs:
        if org.synced_at is None or org.status is TeamsStatus.FAILED:
            continue  # nothing was read: check_extracts names it
        nodes = org_team_nodes(store, org) if org.ok else []
        inserted = con.execute(
            """
            insert into raw.org_team_syncs
                (org, synced_at, status, team_count, missing_permission, error, points_spent,
                 requests, run_id, loaded_at)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            on conflict (org, synced_at) do nothing
            returning org
            """,
            [org.org, org.synced_at, org.status.value, len(nodes), org.missing_permission,
             org.error, org.points_spent, org.requests, run_id, loaded_at],
        ).fetchall()
        if not inserted or not nodes:
            continue
        rows = [(org.org, org.synced_at, node["id"], node.get("slug") or "",
                 json.dumps(node, ensure_ascii=False), key, run_id, loaded_at)
                for node, key in nodes]
        con.executemany(
            """
            insert into raw.org_teams
                (org, synced_at, team_id, slug, team, page_key, run_id, loaded_at)
            values (?, ?, ?, ?, ?::json, ?, ?, ?)
            on conflict do nothing
            """,
            rows,
        )
        result.team_orgs.append(org.org)
        result.team_rows_written += len(rows)
    if teams.synced_at is not None:
        con.execute(
            """
            insert into raw.team_file_syncs (synced_at, path, teams, run_id, loaded_at)
            values (?, ?, ?::json, ?, ?)
            on conflict (synced_at) do nothing
            """,
            [teams.synced_at, teams.file_path,
             json.dumps(teams.file_teams, ensure_ascii=False), run_id, loaded_at],
        )
        result.file_teams = len(teams.file_teams)
    log.info("teams: %d organization(s) read (%d team rows), %d refused, %d file team(s)",
             len(result.team_orgs), result.team_rows_written,
             sum(o.status is TeamsStatus.FORBIDDEN for o in teams.orgs), result.file_teams)
