"""Extract a repository's deployments, releases and default-branch history, resumably.

One query (``repository_deployments``) pages the three lists newest first, each with its
own cursor; a list leaves the query (``@include``) once it passed the watermark, so a
daily run of a repository is one request and 1 point (the arithmetic is in the query
file). A first sync, or a full refresh, walks everything. Status lists longer than a
page are completed by ``deployment_statuses`` follow-ups. Pages are written untouched
into the repository's folder (kinds ``deploys`` and ``deploystatuses``), and a retried
task reuses this run's stored pages.

Example::

    result = extract_deployments(client, store, DeploysRequest("acme/api", "r1", since))
    result.pages, result.points_spent
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pr_warehouse.client.errors import NotFound
from pr_warehouse.contracts import Manifest, parse_iso
from pr_warehouse.queries import load_query
from pr_warehouse.storage.raw_store import PageKind

if TYPE_CHECKING:
    from pr_warehouse.client import GraphQLClient
    from pr_warehouse.storage import RawStore

log = logging.getLogger(__name__)

# A deployment created shortly before the last sync may have finished after it: its
# statuses are re-read for this long below the watermark (still one page a day).
DEPLOY_OVERLAP = timedelta(days=1)
# The three lists of one page: (query flag, cursor variable, response field).
LISTS = (("withDeployments", "deploymentsAfter", "deployments"),
         ("withReleases", "releasesAfter", "releases"),
         ("withHistory", "historyAfter", "history"))


@dataclass(frozen=True)
class DeploysRequest:
    """One repository's deployments read: ``since`` is its previous successful sync."""

    repo: str
    run_key: str
    since: datetime | None = None
    use_cache: bool = True


@dataclass
class DeploysResult:
    """What the read stored and cost."""

    pages: list[str] = field(default_factory=list)
    points_spent: int = 0
    requests: int = 0
    pages_cached: int = 0
    deployments: int = 0
    releases: int = 0
    commits: int = 0


class RepositoryGone(NotFound):
    """The repository vanished between the PR listing and the deployments read."""


def floor_of(since: datetime | None) -> datetime | None:
    """The oldest instant a daily read must cover.

    >>> from datetime import timezone
    >>> floor_of(datetime(2026, 11, 2, tzinfo=timezone.utc)).isoformat()
    '2026-11-01T00:00:00+00:00'
    >>> floor_of(None) is None
    True
    """
    return since - DEPLOY_OVERLAP if since else None


def still_needed(connection: dict[str, Any] | None, time_field: str,
                 floor: datetime | None) -> bool:
    """Whether a newest-first list needs another page: it has one, and its oldest item
    on this page is not older than ``floor``.

    >>> page = {"pageInfo": {"hasNextPage": True, "endCursor": "c"},
    ...         "nodes": [{"createdAt": "2026-11-01T00:00:00Z"}]}
    >>> from datetime import timezone
    >>> still_needed(page, "createdAt", None)
    True
    >>> still_needed(page, "createdAt", datetime(2026, 11, 2, tzinfo=timezone.utc))
    False
    """
    if not connection:
        return False
    info = connection.get("pageInfo") or {}
    if not info.get("hasNextPage") or not info.get("endCursor"):
        return False
    if floor is None:
        return True
    stamps = [parse_iso(n.get(time_field)) for n in connection.get("nodes") or [] if n]
    known = [s for s in stamps if s is not None]
    return not known or min(known) >= floor


def history_of(repository: dict[str, Any]) -> dict[str, Any] | None:
    """The default branch's history connection of a page's repository (None: empty repo)."""
    ref = repository.get("defaultBranchRef") or {}
    return (ref.get("target") or {}).get("history")


class _Reader:
    def __init__(self, client: GraphQLClient, store: RawStore, request: DeploysRequest) -> None:
        self.client, self.store, self.request = client, store, request
        self.cached = {
            (kind, record.page): record
            for kind in (PageKind.DEPLOYS, PageKind.DEPLOY_STATUSES)
            for record in (store.committed_pages(request.run_key, request.repo, kind)
                           if request.use_cache else [])
        }
        self.result = DeploysResult()

    def page(self, kind: PageKind, number: int, query: str, variables: dict[str, Any],
             context: str) -> dict[str, Any]:
        """One answer's ``data``: from this run's stored page, else from GitHub (stored)."""
        record = self.cached.get((kind, number))
        if record is not None and record.meta.get("variables") == variables:
            self.result.pages_cached += 1
            self.result.pages.append(record.key)
            return self.store.read_json(record.key)["data"]
        points, requests = self.client.stats.points_spent, self.client.stats.requests
        response = self.client.execute(query, variables, context=context)
        self.result.points_spent += self.client.stats.points_spent - points
        self.result.requests += self.client.stats.requests - requests
        server_time = getattr(self.client, "server_time", None)
        key = self.store.write_page(
            self.request.run_key, self.request.repo, number, response.body,
            {"repo": self.request.repo, "variables": variables,
             "request_id": response.request_id, "cost": response.cost,
             "synced_at": server_time.isoformat() if server_time else None}, kind=kind)
        self.result.pages.append(key)
        return response.data

    def read(self) -> DeploysResult:
        owner, name = self.request.repo.split("/", 1)
        floor = floor_of(self.request.since)
        active = {flag: True for flag, _, _ in LISTS}
        cursors: dict[str, str | None] = {cursor: None for _, cursor, _ in LISTS}
        truncated: list[tuple[str, str]] = []
        number = 0
        while any(active.values()):
            number += 1
            variables = {"owner": owner, "name": name, **cursors, **active,
                         "since": floor.isoformat().replace("+00:00", "Z") if floor else None}
            data = self.page(PageKind.DEPLOYS, number, load_query("repository_deployments"),
                             variables, f"{self.request.repo} deployments page {number}")
            repository = data.get("repository")
            if repository is None:
                raise RepositoryGone(f"repository {self.request.repo} not found")
            lists = {"deployments": repository.get("deployments"),
                     "releases": repository.get("releases"),
                     "history": history_of(repository)}
            for node in (lists["deployments"] or {}).get("nodes") or []:
                statuses = (node or {}).get("statuses") or {}
                info = statuses.get("pageInfo") or {}
                if info.get("hasNextPage") and info.get("endCursor"):
                    truncated.append((node["id"], info["endCursor"]))
            self._count(lists, active)
            for (flag, cursor, field_name), stamp in zip(
                    LISTS, ("createdAt", "publishedAt", "committedDate"), strict=True):
                if not active[flag]:
                    continue
                # history(since:) is already bounded by GitHub; the others stop by time.
                bound = None if field_name == "history" else floor
                active[flag] = still_needed(lists[field_name], stamp, bound)
                if active[flag]:
                    cursors[cursor] = lists[field_name]["pageInfo"]["endCursor"]  # type: ignore[index]
        self._complete_statuses(truncated)
        return self.result

    def _count(self, lists: dict[str, Any], active: dict[str, bool]) -> None:
        for (flag, _, field_name), attr in zip(LISTS, ("deployments", "releases", "commits"),
                                               strict=True):
            if active[flag]:
                nodes = (lists[field_name] or {}).get("nodes") or []
                setattr(self.result, attr, getattr(self.result, attr) + len(nodes))

    def _complete_statuses(self, truncated: list[tuple[str, str]]) -> None:
        """Follow-up pages until no status list is cut short."""
        number = 0
        while truncated:
            deployment_id, after = truncated.pop(0)
            number += 1
            data = self.page(PageKind.DEPLOY_STATUSES, number, load_query("deployment_statuses"),
                             {"id": deployment_id, "after": after},
                             f"{self.request.repo} deployment statuses {number}")
            statuses = ((data.get("node") or {}).get("statuses")) or {}
            info = statuses.get("pageInfo") or {}
            if info.get("hasNextPage") and info.get("endCursor"):
                truncated.append((deployment_id, info["endCursor"]))


def extract_deployments(client: GraphQLClient, store: RawStore,
                        request: DeploysRequest) -> DeploysResult:
    """Read one repository's deployments, releases and history into the store."""
    result = _Reader(client, store, request).read()
    log.info("%s: %d deployments, %d releases, %d default-branch commits in %d page(s), "
             "%d point(s), %d cached", request.repo, result.deployments, result.releases,
             result.commits, len(result.pages), result.points_spent, result.pages_cached)
    return result


def add_deployments(client: GraphQLClient, store: RawStore, manifest: Manifest,
                    since: datetime | None, *, use_cache: bool = True) -> Manifest:
    """Read ``manifest``'s repository's deployments and record them in it (pages, points;
    the points count in the repository's total too)."""
    result = extract_deployments(client, store, DeploysRequest(
        manifest.repo, manifest.run_key, since, use_cache))
    manifest.deploy_pages = result.pages
    manifest.deploy_points = result.points_spent
    manifest.points_spent += result.points_spent
    manifest.requests += result.requests
    return manifest


def probe_times(answer: dict[str, Any]) -> list[datetime]:
    """The deploy instants a probe answer shows for a repository: its newest deployment's
    creation and latest status, and its newest release.

    >>> [t.day for t in probe_times({"deployments": {"nodes": [{
    ...     "createdAt": "2026-11-02T00:00:00Z", "latestStatus": {"createdAt":
    ...     "2026-11-03T00:00:00Z"}}]}, "releases": {"nodes": []}})]
    [2, 3]
    """
    stamps: list[datetime | None] = []
    for node in (answer.get("deployments") or {}).get("nodes") or []:
        if node:
            stamps += [parse_iso(node.get("createdAt")),
                       parse_iso((node.get("latestStatus") or {}).get("createdAt"))]
    for node in (answer.get("releases") or {}).get("nodes") or []:
        if node:
            stamps.append(parse_iso(node.get("publishedAt")))
    return [s for s in stamps if s is not None]


def stored_deploy_instants(duckdb_path: Path) -> dict[str, datetime]:
    """The newest deploy instant already stored per repository (lower-cased): a
    deployment's creation or latest status, a release. A repository absent has none stored.
    """
    if not duckdb_path.exists():
        return {}
    import duckdb

    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        tables = {name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()}
        if not {"deployments", "releases"} <= tables:
            return {}
        return dict(con.execute(
            """
            select repo, max(newest) from (
                select lower(repo) as repo,
                       greatest(created_at, (select max(cast(s ->> 'createdAt' as timestamptz))
                                             from unnest(cast(statuses as json[])) as t(s)))
                           as newest
                from raw.deployments
                union all
                select lower(repo), published_at from raw.releases
            ) group by 1
            """).fetchall())
    finally:
        con.close()


def with_deploy_watermarks(watermarks: dict[str, datetime],
                           stored: Mapping[str, datetime]) -> dict[str, datetime]:
    """Each repository's watermark raised to the newest deploy instant already stored
    (``stored``: :func:`stored_deploy_instants`), so the probe skips a repository whose
    only news is a deploy already read. Safe as the PR listing's ``since`` too: the last
    sync read every PR updated before it, and it saw those deploys.

    Repositories without a watermark keep none (their next sync is a full one).

    >>> from datetime import timezone
    >>> day = lambda d: datetime(2026, 11, d, tzinfo=timezone.utc)
    >>> with_deploy_watermarks({"Acme/Api": day(1), "acme/web": day(1)}, {"acme/api": day(3)})
    {'Acme/Api': datetime.datetime(2026, 11, 3, 0, 0, tzinfo=datetime.timezone.utc), \
'acme/web': datetime.datetime(2026, 11, 1, 0, 0, tzinfo=datetime.timezone.utc)}
    """
    return {repo: max(mark, stored.get(repo.lower()) or mark)
            for repo, mark in watermarks.items()}
