"""Extract one repository's pull requests into raw pages, resumably.

The extract pages ``repository.pullRequests`` newest-update first, writes each response
body untouched, fetches the events (timeline, first commit, counts) of every PR new or
changed in the window with batched ``nodes(ids:)`` queries, then completes every nested
list GitHub cut short (labels, assignees, closing issues, reviews, review requests,
timelines) with batched follow-up queries, and the thread comments of new reviews
(extract/review_comments.py). All state lives in the stored pages, so a
retried task resumes where the last one stopped and fetches nothing twice.

Example::

    with GraphQLClient(url, token) as client:
        manifest = extract_repository(client, RawStore("file:///tmp/raw"),
                                      ExtractRequest(repo="acme/api", run_key="r1"))
        manifest.pull_requests, manifest.points_spent
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pr_warehouse.client.errors import NotFound
from pr_warehouse.constants import DEFAULT_PAGE_SIZE
from pr_warehouse.contracts import ExtractBatch, ExtractJob, Manifest, apportion
from pr_warehouse.contracts import parse_iso as parse_time
from pr_warehouse.pages import (
    complete_nested_lists,
    event_nodes,
    pull_request_connection,
    pull_request_nodes,
    truncated_connections,
)
from pr_warehouse.storage.raw_store import PageKind, shared_folder
from pr_warehouse.queries import load_query
from pr_warehouse.queries.builders import (
    EVENTS_BATCH,
    FOLLOWUP_BATCH,
    events_variables,
    nested_connection_query,
)

if TYPE_CHECKING:
    from pr_warehouse.client import AdaptivePageSize, GraphQLClient, GraphQLResponse
    from pr_warehouse.storage import RawStore

log = logging.getLogger(__name__)

# A PR updated while we page moves ahead of the cursor; this overlap re-reads a margin
# below the watermark so clock skew between GitHub's shards cannot hide an update.
WATERMARK_OVERLAP = timedelta(minutes=10)


@dataclass(frozen=True)
class ExtractRequest:
    """What to extract for one repository in one run."""

    repo: str
    run_key: str
    page_size: int = DEFAULT_PAGE_SIZE
    since: datetime | None = None  # stop once pages are older than this (incremental)
    use_cache: bool = True  # reuse this run's committed pages (resume)
    numbers: tuple[int, ...] = ()  # fetch just these PRs (single-PR query), not the listing

    @classmethod
    def for_job(cls, job: ExtractJob, run_key: str, *, page_size: int = DEFAULT_PAGE_SIZE,
                use_cache: bool = True) -> ExtractRequest:
        return cls(repo=job.repo, run_key=run_key, page_size=page_size,
                   since=job.since_time, use_cache=use_cache, numbers=job.numbers)


@dataclass
class ExtractProgress:
    """Counters reported in the manifest and the logs."""

    pages: list[str] = field(default_factory=list)
    followup_pages: list[str] = field(default_factory=list)
    event_pages: list[str] = field(default_factory=list)
    pages_cached: int = 0
    event_pages_cached: int = 0
    pull_request_ids: set[str] = field(default_factory=set)
    # PRs new or changed in the window, in the order seen: they get their events fetched.
    changed_ids: dict[str, None] = field(default_factory=dict)
    # Only PRs with a cut-short nested list are kept in memory, for the follow-ups.
    truncated: dict[str, dict[str, Any]] = field(default_factory=dict)
    truncated_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    total_count: int | None = None
    points_spent: int = 0
    # Events and their follow-up pages: the PR ids each holds (a shared batch's pages are
    # listed in the manifest of every repository whose PRs they hold).
    ids_by_page: dict[str, set[str]] = field(default_factory=dict)

    def add_nodes(self, nodes: list[dict[str, Any]], since: datetime | None = None) -> None:
        floor = since - WATERMARK_OVERLAP if since else None
        for node in nodes:
            self.pull_request_ids.add(node["id"])
            # A PR older than the window is unchanged and already complete in the
            # warehouse: its lists need no follow-up (the load never stores it truncated)
            # and its events are already stored.
            in_window = floor is None or parse_time(node["updatedAt"]) >= floor  # type: ignore[operator]
            if in_window:
                self.changed_ids[node["id"]] = None
            if in_window and any(truncated_connections(node)):
                self.truncated[node["id"]] = node
            else:
                # A PR seen again later (it moved while we paged) may no longer be cut short.
                self.truncated.pop(node["id"], None)

    def add_event_nodes(self, nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            if any(truncated_connections(node)):
                self.truncated_events[node["id"]] = node
            else:
                self.truncated_events.pop(node["id"], None)


def page_is_older_than(nodes: list[dict[str, Any]], since: datetime | None) -> bool:
    """True when the page's oldest update predates ``since`` minus the overlap.

    Pages come newest-update first, so every later page is older still.
    """
    if since is None or not nodes:
        return False
    oldest = min(parse_time(n["updatedAt"]) for n in nodes)  # type: ignore[type-var]
    return oldest < since - WATERMARK_OVERLAP


def _response_meta(response: GraphQLResponse, **extra: Any) -> dict[str, Any]:
    return {
        "request_id": response.request_id,
        "page_size": response.page_size,
        "cost": response.cost,
        "remaining": response.remaining,
        "reset_at": response.reset_at.isoformat() if response.reset_at else None,
        "attempts": response.attempts,
        "fetched_at": datetime.now(timezone.utc).isoformat(),
        **extra,
    }


def extract_repository(
    client: GraphQLClient,
    store: RawStore,
    request: ExtractRequest,
    page_size: AdaptivePageSize | None = None,
    *,
    pending_events: list[str] | None = None,
) -> Manifest:
    """Page one repository into ``store`` and return its manifest (small, JSON-able).

    With ``pending_events`` (a list), the ids of the PRs whose events are due are appended
    to it instead of being fetched: the caller fetches them for several repositories at
    once with :func:`fetch_batch_events` (GitHub charges at least 1 point a query, so a
    small repository's own events query would cost as much as its whole listing).
    """
    from pr_warehouse.client import AdaptivePageSize

    started = datetime.now(timezone.utc)
    t0 = time.monotonic()
    repo = request.repo
    if not request.use_cache:
        store.delete_folder_run(request.run_key, repo)
    sizes = page_size or AdaptivePageSize(request.page_size)
    progress = ExtractProgress()
    # One client may serve several repositories: report this repository's share only.
    points_before, requests_before = client.stats.points_spent, client.stats.requests
    retries_before = dict(client.stats.retries)

    if request.numbers:
        _fetch_numbers(client, store, request, progress, sizes)
    else:
        _page_listing(client, store, request, progress, sizes)
    if pending_events is None:
        _fetch_events(client, store, request, progress)
    else:
        pending_events.extend(progress.changed_ids)
    _complete_nested_lists(client, store, request, progress)
    # Imported here: that module builds on this one. With pending events, a batch's review
    # comments come after its events, in shared queries too (fetch_batch_events).
    from pr_warehouse.extract.review_comments import fetch_review_comments

    review_comment_pages = ([] if pending_events is not None else
                            fetch_review_comments(client, store, request, progress))
    progress.points_spent = client.stats.points_spent - points_before
    return Manifest(
        repo=repo,
        run_key=request.run_key,
        pages=progress.pages,
        followup_pages=progress.followup_pages,
        event_pages=progress.event_pages,
        review_comment_pages=review_comment_pages,
        pages_cached=progress.pages_cached,
        event_pages_cached=progress.event_pages_cached,
        pull_requests=len(progress.pull_request_ids),
        pull_requests_with_events=len(progress.changed_ids),
        total_count=progress.total_count,
        points_spent=progress.points_spent,
        requests=client.stats.requests - requests_before,
        retries={k: v - retries_before.get(k, 0) for k, v in client.stats.retries.items()
                 if v - retries_before.get(k, 0)},
        page_size_final=sizes.current,
        since=request.since.isoformat() if request.since else None,
        numbers=list(request.numbers),
        started_at=started.isoformat(),
        finished_at=datetime.now(timezone.utc).isoformat(),
        duration_seconds=round(time.monotonic() - t0, 3),
    )


def _page_listing(client: GraphQLClient, store: RawStore, request: ExtractRequest,
                  progress: ExtractProgress, sizes: AdaptivePageSize) -> None:
    """Page ``repository.pullRequests`` newest-update first, from the last stored page."""
    repo = request.repo
    owner, name = repo.split("/", 1)
    points_before = client.stats.points_spent
    after, page, done = _resume_point(store, request, progress)
    query = load_query("repository_pull_requests")
    while not done:
        page += 1
        context = f"{repo} page {page}"
        response = client.execute(
            query,
            {"owner": owner, "name": name, "pageSize": sizes.current, "after": after},
            context=context,
            page_size=sizes,
        )
        if response.data.get("repository") is None:
            raise NotFound(f"repository {repo!r} not found", request_id=response.request_id,
                           context=context)
        body = response.document
        connection = pull_request_connection(body, context)
        nodes = pull_request_nodes(body, context)
        info = connection["pageInfo"]
        key = store.write_page(
            request.run_key, repo, page, response.body,
            _response_meta(response, after=after, nodes=len(nodes),
                           end_cursor=info.get("endCursor"), has_next_page=info["hasNextPage"]),
        )
        progress.pages.append(key)
        progress.add_nodes(nodes, request.since)
        progress.total_count = connection.get("totalCount")
        progress.points_spent = client.stats.points_spent - points_before
        log.info(
            "%s page %d: %d/%s PRs, page size %s, %s points (run total %d), %s remaining, "
            "resets %s, request %s",
            repo, page, len(progress.pull_request_ids), progress.total_count, response.page_size,
            response.cost, progress.points_spent, response.remaining,
            response.reset_at.isoformat() if response.reset_at else "?", response.request_id,
        )
        after = info.get("endCursor")
        done = not info["hasNextPage"] or not after or page_is_older_than(nodes, request.since)


def _fetch_numbers(client: GraphQLClient, store: RawStore, request: ExtractRequest,
                   progress: ExtractProgress, sizes: AdaptivePageSize) -> None:
    """Fetch single PRs by number, one stored page each; stored ones are reused."""
    repo = request.repo
    owner, name = repo.split("/", 1)
    stored = {r.meta.get("number"): r for r in store.committed_pages(request.run_key, repo)}
    query = load_query("pull_request_by_number")
    for page, number in enumerate(request.numbers, start=1):
        if number in stored:
            record = stored[number]
            progress.pages.append(record.key)
            progress.pages_cached += 1
            progress.add_nodes(pull_request_nodes(store.read_json(record.key), record.key))
            continue
        context = f"{repo}#{number}"
        response = client.execute(query, {"owner": owner, "name": name, "number": number},
                                  context=context)
        if (response.data.get("repository") or {}).get("pullRequest") is None:
            raise NotFound(f"pull request {repo}#{number} not found",
                           request_id=response.request_id, context=context)
        key = store.write_page(request.run_key, repo, page, response.body,
                               _response_meta(response, number=number, has_next_page=False))
        progress.pages.append(key)
        progress.add_nodes(pull_request_nodes(response.document, key))
        log.info("%s: fetched, %s points, %s remaining", context, response.cost,
                 response.remaining)


def _resume_point(
    store: RawStore, request: ExtractRequest, progress: ExtractProgress
) -> tuple[str | None, int, bool]:
    """Where paging resumes: ``(after_cursor, last_page_number, already_done)``."""
    committed = store.committed_pages(request.run_key, request.repo)
    if not committed:
        return None, 0, False
    last_nodes: list[dict[str, Any]] = []
    for record in committed:
        progress.pages.append(record.key)
        body = store.read_json(record.key)
        last_nodes = pull_request_nodes(body, record.key)
        progress.add_nodes(last_nodes, request.since)
        progress.total_count = pull_request_connection(body, record.key).get("totalCount")
    progress.pages_cached = len(committed)
    last = committed[-1]
    done = (
        not last.meta.get("has_next_page")
        or not last.meta.get("end_cursor")
        or page_is_older_than(last_nodes, request.since)
    )
    log.info("%s: resuming after %d stored page(s)%s", request.repo, len(committed),
             " (complete)" if done else "")
    return last.meta.get("end_cursor"), last.page, done


def events_folder(batch: ExtractBatch) -> str:
    """Where a batch's events pages go: its repository's folder when it holds one, else
    the batch's shared folder (one events query asks for PRs of all its repositories).

    >>> events_folder(ExtractBatch.of([ExtractJob("a/x")]))
    'a/x'
    >>> events_folder(ExtractBatch.of([ExtractJob("a/x"), ExtractJob("a/y")]))
    '_shared/a-x-and-1-more'
    """
    return batch.repos[0] if len(batch.jobs) == 1 else shared_folder(batch.folder)


def fetch_batch_events(client: GraphQLClient, store: RawStore, run_key: str, folder: str,
                       manifests: Sequence[Manifest], due: Mapping[str, Sequence[str]]) -> None:
    """Fetch the events of every extracted repository's due PRs (``due``: repo -> PR ids)
    in shared batches, completing long timelines; pages go to ``folder``.

    Each manifest then lists the events pages that hold its PRs, and gains its share of
    the points and requests, apportioned by its PRs among those asked for: the sync runs
    add up to what GitHub charged, and no repository pays for another's events.
    Resumable like the rest: a retry asks only for ids no stored events page covers.
    Then the review-thread comments of their new reviews, shared and apportioned alike.
    """
    for manifest in manifests:
        manifest.pull_requests_with_events = len(due.get(manifest.repo) or ())
    owners = [m for m in manifests if due.get(m.repo)]
    if not owners:
        return
    points_before, requests_before = client.stats.points_spent, client.stats.requests
    progress = ExtractProgress(changed_ids=dict.fromkeys(
        node_id for m in owners for node_id in due[m.repo]))
    request = ExtractRequest(repo=folder, run_key=run_key)
    _fetch_events(client, store, request, progress)
    _complete_nested_lists(client, store, request, progress, kind=PageKind.EVENTS_FOLLOWUP)
    weights = [len(due[m.repo]) for m in owners]
    points = apportion(client.stats.points_spent - points_before, weights)
    requests = apportion(client.stats.requests - requests_before, weights)
    cached = set(progress.event_pages[: progress.event_pages_cached])
    for manifest, share_points, share_requests in zip(owners, points, requests):
        mine = set(due[manifest.repo])
        holds = [key for key in progress.event_pages if progress.ids_by_page.get(key, set()) & mine]
        manifest.event_pages = holds
        manifest.event_pages_cached = len(cached.intersection(holds))
        manifest.followup_pages = [*manifest.followup_pages, *(
            key for key in progress.followup_pages
            if progress.ids_by_page.get(key, set()) & mine)]
        manifest.points_spent += share_points
        manifest.requests += share_requests
    from pr_warehouse.extract.review_comments import fetch_batch_review_comments

    fetch_batch_review_comments(client, store, run_key, folder, manifests, due)


def _fetch_events(client: GraphQLClient, store: RawStore, request: ExtractRequest,
                  progress: ExtractProgress) -> None:
    """Fetch the events of every PR new or changed in the window, ``EVENTS_BATCH`` at a time.

    Each stored events page lists the ids it asked for, so a retried task asks only for
    the ids no stored page covers.
    """
    repo = request.repo
    stored = store.committed_pages(request.run_key, repo, kind=PageKind.EVENTS)
    done: set[str] = set()
    for record in stored:
        progress.event_pages.append(record.key)
        progress.add_event_nodes(event_nodes(store.read_json(record.key), record.key))
        progress.ids_by_page[record.key] = set(record.meta.get("ids") or [])
        done.update(record.meta.get("ids") or [])
    progress.event_pages_cached = len(stored)
    todo = [node_id for node_id in progress.changed_ids if node_id not in done]
    number = stored[-1].page if stored else 0
    query = load_query("pull_request_events")
    for start in range(0, len(todo), EVENTS_BATCH):
        batch = todo[start : start + EVENTS_BATCH]
        number += 1
        response = client.execute(query, events_variables(batch),
                                  context=f"{repo} events {number}")
        meta = _response_meta(response, ids=batch)
        key = store.write_page(request.run_key, repo, number, response.body, meta,
                               kind=PageKind.EVENTS)
        progress.event_pages.append(key)
        progress.ids_by_page[key] = set(batch)
        progress.add_event_nodes(event_nodes(response.document, key))
        log.info("%s events %d: %d PRs, %s points, %s remaining", repo, number, len(batch),
                 response.cost, response.remaining)


def _complete_nested_lists(
    client: GraphQLClient, store: RawStore, request: ExtractRequest, progress: ExtractProgress,
    kind: PageKind = PageKind.FOLLOWUP,
) -> None:
    """Fetch the rest of every truncated nested list, in batches, until none is left.

    The to-do list is derived from what is stored (pages plus earlier follow-ups), so a
    retried task only fetches the follow-ups it lacks. PR nodes and events nodes share
    their ids, so each is merged on its own (their connections never overlap).
    """
    repo = request.repo
    node_sets = [list(progress.truncated.values()), list(progress.truncated_events.values())]
    stored = store.committed_pages(request.run_key, repo, kind=kind)
    followups = [(store.read_json(r.key), r.meta) for r in stored]
    progress.followup_pages = [r.key for r in stored]
    for record in stored:
        progress.ids_by_page[record.key] = {r["id"] for r in record.meta.get("requests", [])}
    number = stored[-1].page if stored else 0
    query_label = f"{repo} follow-up"
    while True:
        todo = [(node_id, conn, cursor) for nodes in node_sets
                for node_id, node in complete_nested_lists(nodes, followups).items()
                for conn, cursor in truncated_connections(node)]
        if not todo:
            return
        batch = todo[:FOLLOWUP_BATCH]
        number += 1
        text, variables = nested_connection_query(batch)
        response = client.execute(text, variables, context=f"{query_label} {number}")
        requests = [{"alias": f"n{i}", "id": node_id, "connection": conn, "after": cursor}
                    for i, (node_id, conn, cursor) in enumerate(batch)]
        meta = _response_meta(response, requests=requests)
        key = store.write_page(request.run_key, repo, number, response.body, meta, kind=kind)
        progress.followup_pages.append(key)
        progress.ids_by_page[key] = {node_id for node_id, _, _ in batch}
        followups.append((response.document, {**meta, "key": key}))
        log.info("%s follow-up %d: %d nested list page(s), %d still truncated before it",
                 repo, number, len(batch), len(todo))
