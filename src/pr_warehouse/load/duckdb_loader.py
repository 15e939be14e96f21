"""Write extracted pages into the DuckDB warehouse's ``raw`` schema in one transaction.

DuckDB parses the pages itself (``read_text`` + JSON functions), so a million PRs never
pass through Python objects; only PRs whose nested lists needed follow-up pages are
merged in Python. Each kind of page (:class:`NodeKind`: PR pages, events pages) is first
staged in a temp table, outside the transaction (see :func:`_stage`), then written to its
raw table set-based, all kinds in the one transaction (see :func:`_upsert_staged`).
The upsert keys on GitHub's node id and keeps the newest ``updatedAt``:
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
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pr_warehouse.constants import DEFAULT_DUCKDB_MEMORY_LIMIT
from pr_warehouse.contracts import (
    ExtractStatus,
    LoadResult,
    Manifest,
    OrgTeams,
    SyncPlan,
    TeamsManifest,
    TeamsStatus,
)
from pr_warehouse.load.bulk import insert_rows, unnest_select
from pr_warehouse.load.checks import load_checks
from pr_warehouse.load.deployments import load_deployments
from pr_warehouse.load.review_comments import load_review_comments
from pr_warehouse.pages import complete_nested_lists, truncated_connections
from pr_warehouse.queries.builders import NESTED_CONNECTIONS

if TYPE_CHECKING:
    import duckdb

    from pr_warehouse.storage import RawStore

log = logging.getLogger(__name__)

DDL_PATH = Path(__file__).with_name("ddl.sql")
# Streams the pages are read in (see read_streams); 0: one per DuckDB thread.
READ_STREAMS = 0


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


@dataclass(frozen=True)
class NodeKind:
    """One kind of page the load reads, and the raw table its nodes go to.

    Each page is parsed once into ``p``, a struct of the page's ``shape`` (DuckDB's
    ``from_json`` structure: what the load needs of the page, the nodes as ``JSON``);
    ``nodes`` reads the page's list of JSON nodes from ``p`` (NULL: the page is not of this
    kind, named in ``corrupt_pages`` with ``missing``); each node is parsed once for
    ``node_paths`` (into the list ``v``, the node id, number and ``updatedAt`` first), from
    which ``repo`` and ``complete`` (no nested list cut short) are read; ``page_repo`` is
    the repository the manifest lists the page under. ``manifest_pages`` names the
    :class:`Manifest` field listing the pages. Adding a kind is a ``NodeKind``, its table in
    ddl.sql, and a :func:`_stage` and an :func:`_upsert_staged` call in
    :func:`load_manifests`.
    """

    name: str
    manifest_pages: str
    table: str
    payload: str
    shape: str
    nodes: str
    missing: str
    node_paths: tuple[str, ...]
    repo: str
    complete: str

    @property
    def keys(self) -> str:
        """The temp table of this kind's node keys, from :func:`_stage` to the upsert."""
        return f"keys_{self.name}"

    @property
    def merged(self) -> str:
        """The temp table of this kind's nodes completed by follow-up pages."""
        return f"merged_{self.name}"

    def nodes_sql(self, payload: bool, streams: int = 1, picked: bool = False) -> str:
        """A query of the nodes of a list of pages, one row per node, with the pages that
        are not of this kind as one row each, naming why (``problem``); with ``payload``,
        each node's JSON too; with ``picked``, only the nodes at the positions listed for
        each page.

        Parameters: the pages' paths, keys, repositories and ordinals (their place in the
        load), with ``picked`` each page's list of positions, then the paths again, split
        into ``streams`` non-empty lists (see :func:`read_streams`). The same pages with the
        same ordinals give the same rows, identified by ``(ord, pos)``, without ``payload``
        or with it, in any number of streams.
        """
        # read_text reads its files one after another on one thread; each stream of a
        # UNION ALL is a pipeline of its own, so the parse runs on every core.
        read = " union all ".join(["select filename, content from read_text(?)"] * streams)
        return f"""
        with files as (
            select unnest(?::varchar[]) as path, unnest(?::varchar[]) as key,
                   unnest(?::varchar[]) as page_repo, unnest(?::integer[]) as ord
                   {", unnest(?::integer[][]) as picked" if picked else ""}
        ),
        parsed as (
            -- One parse per page, typed by `shape` (fields not named in it are skipped;
            -- the nodes come out as JSON text); try: a page that is not JSON, or not of
            -- this shape, yields NULL instead of failing the load.
            select filename, try(from_json(content, '{self.shape}')) as p,
                   -- a second parse only for the pages the first could not read
                   p is not null or json_valid(content) as valid
            from ({read})
        ),
        pages as (
            select f.*, p, valid, {self.nodes} as nodes
            from files f join parsed on parsed.filename = f.path
        ),
        nodes as ({_PICKED_NODES if picked else _ALL_NODES}),
        keyed as (
            select *, json_extract_string(node, {_sql_list(self.node_paths)}) as v
            from nodes
            where not found
               or (node is not null and node::varchar like '{{%')
        )
        select v[1] as node_id, {self.repo} as repo, v[2]::integer as pr_number,
               v[3]::timestamptz as updated_at, key as page_key, ord, pos,
               {"node as payload," if payload else ""}
               {self.complete} as complete,
               case when not valid then 'not valid JSON'
                    when not found then '{self.missing}' end as problem
        from keyed
        where not found or v[1] is not null
        """


_ALL_NODES = """
    -- a page without nodes stays as one row, to be named
    select key, ord, page_repo, p, valid, nodes is not null as found,
           unnest(coalesce(nodes, [null::json])) as node,
           -- a node's place in its page: (ord, pos) is the row's identity
           generate_subscripts(coalesce(nodes, [null::json]), 1) as pos
    from pages
"""
# Only the listed positions: no join of the nodes' JSON with the list of winners, which
# DuckDB may build its hash table on (it cannot tell how many rows read_text gives).
_PICKED_NODES = """
    select key, ord, page_repo, p, valid, true as found, nodes[pos] as node, pos
    from (select *, unnest(picked) as pos from pages)
"""


def _sql_list(paths: tuple[str, ...]) -> str:
    """A SQL list literal of JSON paths (this module's own constants, never input).

    >>> _sql_list(("$.id", "$.number"))
    "['$.id', '$.number']"
    """
    return "[" + ", ".join(f"'{path}'" for path in paths) + "]"


# A pullRequests page of the listing query, or a single-PR page (repository.pullRequest);
# the repository is the page's own nameWithOwner.
PULL_REQUESTS = NodeKind(
    name="pull_requests",
    manifest_pages="pages",
    table="raw.pull_requests",
    payload="pr",
    shape=json.dumps({"data": {"repository": {"nameWithOwner": "VARCHAR",
                                              "pullRequests": {"nodes": ["JSON"]},
                                              "pullRequest": "JSON"}}}),
    nodes="""coalesce(p.data.repository.pullRequests.nodes,
                      case when p.data.repository.pullRequest::varchar like '{%'
                           then [p.data.repository.pullRequest] end)""",
    missing="no data.repository.pullRequests.nodes",
    node_paths=("$.id", "$.number", "$.updatedAt",
                *(f"$.{c}.pageInfo.hasNextPage" for c in NESTED_CONNECTIONS)),
    repo="p.data.repository.nameWithOwner",
    complete="not list_contains(v[4:], 'true')",
)
# An events page (data.nodes); a shared batch's page holds PRs of several repositories,
# each node names its own.
PULL_REQUEST_EVENTS = NodeKind(
    name="pull_request_events",
    manifest_pages="event_pages",
    table="raw.pull_request_events",
    payload="events",
    shape=json.dumps({"data": {"nodes": ["JSON"]}}),
    nodes="p.data.nodes",
    missing="no data.nodes",
    node_paths=("$.id", "$.number", "$.updatedAt", "$.timelineItems.pageInfo.hasNextPage",
                "$.repository.nameWithOwner"),
    repo="coalesce(v[5], page_repo)",
    complete="coalesce(v[4], 'false') <> 'true'",
)


def kind_pages(manifests: list[Manifest], kind: NodeKind) -> list[tuple[str, str]]:
    """``(repo, key)`` of every page of ``kind`` the manifests list, in load order, once.

    A shared batch's events pages are listed by each repository they hold PRs of.

    >>> m = [Manifest(repo="o/a", event_pages=["e1"]), Manifest(repo="o/b", event_pages=["e1"])]
    >>> kind_pages(m, PULL_REQUEST_EVENTS)
    [('o/b', 'e1')]
    """
    return list({key: (m.repo, key) for m in manifests
                 for key in getattr(m, kind.manifest_pages)}.values())


@dataclass
class Staged:
    """What :func:`_stage` read of one kind: its pages (``(repo, key)``, in load order;
    a page's ordinal is its index), the nodes seen (incomplete ones included) and the
    incomplete nodes dropped."""

    kind: NodeKind
    pages: list[tuple[str, str]]
    nodes: int = 0
    incomplete: int = 0
    streams: int = 1  # read_text streams per query (see read_streams)

    def query(self, store: RawStore, payload: bool, ords: list[int] | None = None,
              picked: list[list[int]] | None = None) -> tuple[str, list[list[Any]]]:
        """:meth:`NodeKind.nodes_sql` for the pages at ``ords`` (all pages by default),
        read in up to ``streams`` streams, and its parameters; with ``picked``, only the
        nodes at those positions of each page (one list per page of ``ords``)."""
        ords = list(range(len(self.pages))) if ords is None else ords
        paths = [store.duckdb_path(self.pages[i][1]) for i in ords]
        split = read_streams(paths, self.streams)
        return (self.kind.nodes_sql(payload, len(split), picked is not None),
                [paths, [self.pages[i][1] for i in ords], [self.pages[i][0] for i in ords],
                 ords, *([] if picked is None else [picked]), *split])


def read_streams(paths: list[str], streams: int) -> list[list[str]]:
    """``paths`` dealt into at most ``streams`` non-empty lists, one per reading thread
    (at least one list, so that a query over no pages still reads none).

    Dealt in turn, not cut in blocks: neighbouring pages (one repository's, often of
    similar size) spread over every stream.

    >>> read_streams(["a", "b", "c"], 2), read_streams(["a"], 4), read_streams([], 2)
    ([['a', 'c'], ['b']], [['a']], [[]])
    """
    count = max(1, min(streams, len(paths)))
    return [paths[i::count] for i in range(count)]


def _stage(con: duckdb.DuckDBPyConnection, store: RawStore, kind: NodeKind,
           pages: list[tuple[str, str]],
           followups: list[tuple[dict[str, Any], dict[str, Any]]],
           corrupt: dict[str, str]) -> Staged:
    """Read the keys of every node of ``pages`` (``(repo, key)`` in load order) into
    ``kind.keys``, and the nodes completed by follow-up pages into ``kind.merged``; name
    the pages that are not of ``kind`` in ``corrupt`` (key -> why).

    Keys only: the nodes' JSON is read again by the upsert, straight from the pages into
    the raw table. Parsing a page twice costs less than holding a million nodes' JSON in
    a temp table, which spills to disk beyond the memory limit and is copied once more.
    Run outside the load's transaction, which would hold the staged rows until it ends.
    ``ord`` (the page's place in the load) breaks ties between two copies of a node
    with the same ``updatedAt``: the later page wins.
    """
    threads = con.execute("select current_setting('threads')").fetchall()[0][0]
    staged = Staged(kind, pages, streams=READ_STREAMS or threads)
    con.execute(f"create or replace temp table {kind.keys} (node_id varchar, repo varchar, "
                "pr_number integer, updated_at timestamptz, page_key varchar, ord integer, "
                "pos integer, complete boolean, problem varchar)")
    sql, params = staged.query(store, payload=False)
    con.execute(f"insert into {kind.keys} {sql}", params)
    problems = con.execute(f"select distinct page_key, problem from {kind.keys} "
                           "where problem is not null").fetchall()
    corrupt.update(problems)
    if problems:
        con.execute(f"delete from {kind.keys} where problem is not null")
    _merge_followups(con, store, staged, followups)
    staged.nodes = con.execute(f"select count(*) from {kind.keys}").fetchall()[0][0]
    # The extract completes every list of the PRs in its window; a PR it saw only on the
    # boundary page, older than the window, may be left truncated and is not stored.
    staged.incomplete = con.execute(
        f"delete from {kind.keys} where not complete").fetchall()[0][0]
    return staged


def _read_followups(store: RawStore, manifests: list[Manifest]
                    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every follow-up page with its metadata, in fetch order (they are few and small).

    A shared batch's follow-ups are listed by each repository they serve: read once.
    """
    keys = dict.fromkeys(key for manifest in manifests for key in manifest.followup_pages)
    return [(store.read_json(key), store.read_meta(key)) for key in keys]


def _merge_followups(con: duckdb.DuckDBPyConnection, store: RawStore, staged: Staged,
                     followups: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Complete the nested lists of staged nodes from the follow-up pages: their JSON goes
    to ``kind.merged`` (by ``(ord, pos)``), their completeness to ``kind.keys``."""
    kind = staged.kind
    con.execute(f"create or replace temp table {kind.merged} (ord integer, pos integer, "
                "payload json)")
    ids = sorted({r["id"] for _, meta in followups for r in meta.get("requests", [])})
    if not ids:
        return
    ords = [r[0] for r in con.execute(
        f"select distinct ord from {kind.keys} where node_id in (select unnest(?)) order by 1",
        [ids]).fetchall()]
    if not ords:
        return
    sql, params = staged.query(store, payload=True, ords=ords)
    rows = con.execute(f"select node_id, ord, pos, payload from ({sql}) "
                       "where node_id in (select unnest(?))", [*params, ids]).fetchall()
    merged, updates = [], []
    for node_id, ord_, pos, node in rows:
        node = complete_nested_lists([json.loads(node)], followups)[node_id]
        merged.append((ord_, pos, json.dumps(node, ensure_ascii=False)))
        updates.append((not any(truncated_connections(node)), ord_, pos))
    insert_rows(con, kind.merged, ["integer", "integer", "json"], merged)
    if updates:
        select, columns = unnest_select(["boolean", "integer", "integer"], updates)
        con.execute(f"update {kind.keys} set complete = u.c0 from ({select}) as u "
                    f"where {kind.keys}.ord = u.c1 and {kind.keys}.pos = u.c2", columns)


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

    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(duckdb_path), config=duckdb_config(memory_limit))
    try:
        store.register_with(con)
        ensure_schema(con)
        followups = _read_followups(store, ok)
        # Parsed first, outside the transaction (see _stage); the raw tables are written
        # below, all in one transaction.
        prs = _stage(con, store, PULL_REQUESTS, kind_pages(ok, PULL_REQUESTS), followups,
                     result.corrupt_pages)
        events = _stage(con, store, PULL_REQUEST_EVENTS, kind_pages(ok, PULL_REQUEST_EVENTS),
                        followups, result.corrupt_pages)
        result.pages, result.pull_requests_seen = len(prs.pages), prs.nodes
        result.event_pages = len(events.pages)
        result.incomplete_skipped = prs.incomplete + events.incomplete
        con.execute("begin transaction")
        try:
            loaded_at = loaded_at or load_timestamp(con)
            if clear_repos:
                result.rows_cleared = _clear(con, clear_repos)
            _upsert_staged(con, store, prs, run_id, loaded_at)
            _upsert_staged(con, store, events, run_id, loaded_at)
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


def _upsert_staged(con: duckdb.DuckDBPyConnection, store: RawStore, staged: Staged,
                   run_id: str, loaded_at: datetime) -> None:
    """Write the staged nodes of one kind into its raw table, set-based.

    Newer wins; at the same ``updatedAt`` a (complete) copy that differs replaces the
    stored one, so a full refresh picks up fields a newer query asks for. Among staged
    copies of a node the newest wins, then the later page. The winners not stored yet (all
    of them on a first sync) go in with one plain insert, their JSON read from the pages
    straight into the table (``on conflict`` costs about three times as much per row,
    and more as the table grows); those already stored are updated in one statement.
    Each page is read for the positions of its winners (``picked``); a winner completed
    by follow-up pages comes from ``kind.merged`` instead.
    """
    kind = staged.kind
    table, payload, keys, merged = kind.table, kind.payload, kind.keys, kind.merged
    con.execute(
        f"""
        create or replace temp table winners as
        select node_id, ord, pos, node_id in (select node_id from {table}) as stored,
               -- completed by follow-up pages: the JSON comes from `merged`, not the page
               exists (select 1 from {merged} m where m.ord = k.ord and m.pos = k.pos)
                   as is_merged
        from {keys} k
        qualify row_number() over (partition by node_id order by updated_at desc,
                                   ord desc, pos desc) = 1
        """
    )
    for stored in (False, True):
        # Only the pages holding a winner are read again, and of each only the winners.
        picks = con.execute(
            "select ord, list(pos order by pos) from winners where stored = ? "
            "and not is_merged group by ord order by ord", [stored]).fetchall()
        from_merged = f"""
            select k.node_id, k.repo, k.pr_number, k.updated_at, k.page_key,
                   m.payload as {payload}
            from winners w join {keys} k on k.ord = w.ord and k.pos = w.pos
            join {merged} m on m.ord = w.ord and m.pos = w.pos
            where w.stored = ? and w.is_merged
        """
        nodes, params = from_merged, [stored]
        if picks:
            sql, page_params = staged.query(store, payload=True, ords=[r[0] for r in picks],
                                            picked=[r[1] for r in picks])
            nodes = f"""
                select node_id, repo, pr_number, updated_at, page_key, payload as {payload}
                from ({sql})
                union all {from_merged}
            """
            params = [*page_params, stored]
        if not stored:
            con.execute(
                f"""
                insert into {table} (node_id, repo, pr_number, updated_at, {payload},
                                     page_key, run_id, loaded_at)
                select node_id, repo, pr_number, updated_at, {payload}, page_key, ?, ?
                from ({nodes})
                """,
                [run_id, loaded_at, *params],
            )
            continue
        con.execute(
            f"""
            update {table} as t set
                repo = s.repo, pr_number = s.pr_number, updated_at = s.updated_at,
                {payload} = s.{payload}, page_key = s.page_key, run_id = ?, loaded_at = ?
            from ({nodes}) s
            where t.node_id = s.node_id
              and (s.updated_at > t.updated_at
                   or (s.updated_at = t.updated_at
                       and s.{payload}::varchar <> t.{payload}::varchar))
            """,
            [run_id, loaded_at, *params],
        )
    con.execute("drop table winners")


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
    # One row per repository (the last manifest wins, as row-by-row upserts did): a single
    # statement may not update the same key twice.
    rows = list({
        m.repo: (
            run_id, m.repo, m.status.value, m.started_at, m.finished_at, len(m.pages),
            m.pull_requests, m.points_spent, m.requests, json.dumps(m.retries, sort_keys=True),
            m.page_size_final, m.error, loaded_at,
        )
        for m in manifests
    }.values())
    insert_rows(
        con,
        """raw.sync_runs
            (run_id, repo, status, started_at, finished_at, pages, pull_requests,
             points_spent, requests, retries, page_size_final, error, loaded_at)""",
        ["varchar", "varchar", "varchar", "timestamptz", "timestamptz", "integer", "integer",
         "integer", "integer", "json", "integer", "varchar", "timestamptz"],
        rows,
        tail="""
            on conflict (run_id, repo) do update set
                status = excluded.status, started_at = excluded.started_at,
                finished_at = excluded.finished_at, pages = excluded.pages,
                pull_requests = excluded.pull_requests, points_spent = excluded.points_spent,
                requests = excluded.requests, retries = excluded.retries,
                page_size_final = excluded.page_size_final, error = excluded.error
            """)


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
        insert_rows(
            con, "raw.org_teams (org, synced_at, team_id, slug, team, page_key, run_id, "
                 "loaded_at)",
            ["varchar", "timestamptz", "varchar", "varchar", "json", "varchar", "varchar",
             "timestamptz"],
            rows, tail="on conflict do nothing")
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
