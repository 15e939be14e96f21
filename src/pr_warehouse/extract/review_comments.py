"""Extract the review-thread comments of the reviews a run has not seen yet.

The listing pages carry each PR's reviews (id, state, submittedAt, author) but not their
thread comments: asking for ``comments`` under ``reviews(first: 50)`` would cost 50
requests per PR listed. Instead the submitted reviews that need them are asked for by id,
``REVIEW_COMMENTS_BATCH`` (100) at a time: 100 requests, 1 point (queries/
pull_request_review_comments.graphql). A list longer than 100 comments is completed by
follow-up queries on the review node (``nested_connection_query``).

Which reviews (:func:`reviews_due`): the submitted ones of the PRs new or changed in the
window, by someone other than the PR's author, submitted at or after the window's floor
(``since`` minus the watermark overlap; every one without ``since``). Nothing is fetched
twice across runs: GitHub publishes a review's comments with the review and never adds
to them afterwards (a reply in the thread is part of a new review), and submitting a
review moves its PR's ``updatedAt``, so a review submitted before the floor put its PR in
an earlier run's window, whose extract fetched it. Within a run, each stored page lists
the review ids it asked for, so a retried task asks only for the others; follow-ups are
derived from what is stored, like the PR follow-ups.

Example::

    pages = fetch_review_comments(client, store, request, progress)
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pr_warehouse.contracts import Manifest, apportion, parse_iso
from pr_warehouse.extract.pull_requests import WATERMARK_OVERLAP
from pr_warehouse.extract.pull_requests import _response_meta as _meta
from pr_warehouse.pages import complete_nested_lists, pull_request_nodes, truncated_connections
from pr_warehouse.queries import load_query
from pr_warehouse.queries.builders import (
    FOLLOWUP_BATCH,
    REVIEW_COMMENTS_BATCH,
    nested_connection_query,
    review_comments_variables,
)
from pr_warehouse.storage.raw_store import PageKind

if TYPE_CHECKING:
    from pr_warehouse.client import GraphQLClient
    from pr_warehouse.extract.pull_requests import ExtractProgress, ExtractRequest
    from pr_warehouse.storage import RawStore

log = logging.getLogger(__name__)

Json = dict[str, Any]


class CorruptReviewCommentsPage(ValueError):
    """A stored review-comments page that is not the shape its query returns."""


def _login(actor: Json | None) -> str | None:
    return (actor or {}).get("login")


def reviews_due(pull_requests: Iterable[Json], floor: datetime | None) -> list[str]:
    """Ids of the reviews whose thread comments to fetch, in order, each once.

    ``pull_requests``: PR nodes (``author``, ``reviews.nodes`` complete) new or changed in
    the window; ``floor``: the window's floor (None: every review). A review counts when it
    is submitted (not PENDING), at or after the floor, and not by the PR's author (the
    author's replies never count; a deleted author or reviewer, a null login, keeps it).

    >>> pr = {"author": {"login": "ann"}, "reviews": {"nodes": [
    ...     {"id": "R1", "state": "COMMENTED", "submittedAt": "2026-11-02T10:00:00Z",
    ...      "author": {"login": "bob"}},
    ...     {"id": "R2", "state": "COMMENTED", "submittedAt": "2026-11-02T11:00:00Z",
    ...      "author": {"login": "ann"}},
    ...     {"id": "R3", "state": "PENDING", "submittedAt": None, "author": {"login": "bob"}},
    ...     {"id": "R4", "state": "APPROVED", "submittedAt": "2026-10-01T10:00:00Z",
    ...      "author": None}]}}
    >>> reviews_due([pr, pr], None)
    ['R1', 'R4']
    >>> reviews_due([pr], parse_iso("2026-11-01T00:00:00Z"))
    ['R1']
    """
    due: dict[str, None] = {}
    for pr in pull_requests:
        author = _login(pr.get("author"))
        for review in (pr.get("reviews") or {}).get("nodes") or []:
            if not review or not review.get("id") or review.get("state") == "PENDING":
                continue
            submitted = parse_iso(review.get("submittedAt"))
            if submitted is None or (floor is not None and submitted < floor):
                continue
            reviewer = _login(review.get("author"))
            if author is not None and reviewer == author:
                continue
            due[review["id"]] = None
    return list(due)


def review_nodes(body: Json, key: str = "") -> list[Json]:
    """The review nodes of a review-comments page (``data.nodes``, nulls dropped).

    >>> review_nodes({"data": {"nodes": [{"id": "R1"}, None]}})
    [{'id': 'R1'}]
    """
    nodes = (body.get("data") or {}).get("nodes") if isinstance(body, dict) else None
    if not isinstance(nodes, list):
        raise CorruptReviewCommentsPage(f"page {key or '?'} has no data.nodes")
    return [n for n in nodes if isinstance(n, dict) and n.get("id")]


def changed_pull_requests(store: RawStore, pages: Sequence[str], followup_pages: Sequence[str],
                          changed_ids: Collection[str]) -> list[Json]:
    """The PR nodes of the window (``changed_ids``) from the stored listing ``pages``, with
    their review lists completed by the stored ``followup_pages``."""
    followups = [(store.read_json(key), store.read_meta(key)) for key in followup_pages]
    nodes: dict[str, Json] = {}
    for key in pages:
        page = [n for n in pull_request_nodes(store.read_json(key), key) if n["id"] in changed_ids]
        # A PR seen twice (it moved while we paged): the later copy is the newer.
        nodes.update(complete_nested_lists(page, followups) if followups
                     else {n["id"]: n for n in page})
    return list(nodes.values())


def window_floor(since: datetime | None) -> datetime | None:
    """The window's floor: ``since`` minus the watermark overlap (None: no window).

    >>> window_floor(parse_iso("2026-11-02T10:00:00Z")).isoformat()
    '2026-11-02T09:50:00+00:00'
    """
    return since - WATERMARK_OVERLAP if since else None


def fetch_review_comments(client: GraphQLClient, store: RawStore, request: ExtractRequest,
                          progress: ExtractProgress) -> list[str]:
    """Fetch the thread comments of one repository's due reviews (:func:`reviews_due`)
    into its folder; returns the keys of the pages stored (both kinds)."""
    prs = changed_pull_requests(store, progress.pages, progress.followup_pages,
                                progress.changed_ids)
    due = reviews_due(prs, window_floor(request.since))
    return list(fetch_reviews(client, store, request.run_key, request.repo, due))


def fetch_batch_review_comments(client: GraphQLClient, store: RawStore, run_key: str,
                                folder: str, manifests: Sequence[Manifest],
                                due_prs: Mapping[str, Sequence[str]]) -> None:
    """The due reviews of several repositories' PRs (``due_prs``: repo -> PR ids new or
    changed), fetched in shared queries into ``folder`` (a query costs at least 1 point).

    Each manifest then lists the pages holding its reviews and gains its share of the
    points and requests, apportioned by its reviews, as :func:`fetch_batch_events` does.
    """
    due = {m.repo: reviews_due(changed_pull_requests(store, m.pages, m.followup_pages,
                                                     set(due_prs.get(m.repo) or ())),
                               window_floor(parse_iso(m.since)))
           for m in manifests}
    owners = [m for m in manifests if due[m.repo]]
    if not owners:
        return
    points_before, requests_before = client.stats.points_spent, client.stats.requests
    held = fetch_reviews(client, store, run_key, folder,
                         [review_id for m in owners for review_id in due[m.repo]])
    weights = [len(due[m.repo]) for m in owners]
    points = apportion(client.stats.points_spent - points_before, weights)
    requests = apportion(client.stats.requests - requests_before, weights)
    for manifest, share_points, share_requests in zip(owners, points, requests):
        mine = set(due[manifest.repo])
        manifest.review_comment_pages = [key for key, ids in held.items() if ids & mine]
        manifest.points_spent += share_points
        manifest.requests += share_requests


def fetch_reviews(client: GraphQLClient, store: RawStore, run_key: str, folder: str,
                  due: Sequence[str]) -> dict[str, set[str]]:
    """Fetch the thread comments of the reviews ``due`` into ``folder``, ``REVIEW_COMMENTS_
    BATCH`` a query, then complete lists longer than 100; returns every page of the folder
    (both kinds, stored before or now) with the review ids it holds.

    Each stored page lists the ids it asked for, so a retried task asks only for the ids
    no stored page covers.
    """
    stored = store.committed_pages(run_key, folder, kind=PageKind.REVIEW_COMMENTS)
    held = {record.key: set(record.meta.get("ids") or []) for record in stored}
    reviews: dict[str, Json] = {}
    for record in stored:
        reviews.update({n["id"]: n for n in review_nodes(store.read_json(record.key), record.key)})
    done = set().union(*held.values())
    todo = [review_id for review_id in due if review_id not in done]
    number = stored[-1].page if stored else 0
    query = load_query("pull_request_review_comments")
    for start in range(0, len(todo), REVIEW_COMMENTS_BATCH):
        batch = todo[start : start + REVIEW_COMMENTS_BATCH]
        number += 1
        response = client.execute(query, review_comments_variables(batch),
                                  context=f"{folder} review comments {number}")
        key = store.write_page(run_key, folder, number, response.body,
                               _meta(response, ids=batch), kind=PageKind.REVIEW_COMMENTS)
        held[key] = set(batch)
        reviews.update({n["id"]: n for n in review_nodes(response.document, key)})
        log.info("%s review comments %d: %d reviews, %s points, %s remaining", folder, number,
                 len(batch), response.cost, response.remaining)
    if due:
        log.info("%s: %d review(s) due for their thread comments, %d already stored", folder,
                 len(due), len(due) - len(todo))
    held.update(_complete_comment_lists(client, store, run_key, folder, list(reviews.values())))
    return held


def _complete_comment_lists(client: GraphQLClient, store: RawStore, run_key: str, folder: str,
                            reviews: list[Json]) -> dict[str, set[str]]:
    """Fetch the rest of every comment list cut short, ``FOLLOWUP_BATCH`` lists a query,
    until none is left. The to-do list is derived from the stored follow-ups, so a
    retried task fetches only those it lacks. Returns each follow-up page with the review
    ids it answers."""
    truncated = [r for r in reviews if any(truncated_connections(r))]
    stored = store.committed_pages(run_key, folder, kind=PageKind.REVIEW_COMMENTS_FOLLOWUP)
    followups = [(store.read_json(r.key), r.meta) for r in stored]
    held = {r.key: {q["id"] for q in r.meta.get("requests", [])} for r in stored}
    number = stored[-1].page if stored else 0
    while truncated:
        todo = [(node_id, conn, cursor)
                for node_id, node in complete_nested_lists(truncated, followups).items()
                for conn, cursor in truncated_connections(node)]
        if not todo:
            break
        batch = todo[:FOLLOWUP_BATCH]
        number += 1
        text, variables = nested_connection_query(batch)
        response = client.execute(text, variables,
                                  context=f"{folder} review comments follow-up {number}")
        requests = [{"alias": f"n{i}", "id": node_id, "connection": conn, "after": cursor}
                    for i, (node_id, conn, cursor) in enumerate(batch)]
        meta = _meta(response, requests=requests)
        key = store.write_page(run_key, folder, number, response.body, meta,
                               kind=PageKind.REVIEW_COMMENTS_FOLLOWUP)
        held[key] = {node_id for node_id, _, _ in batch}
        followups.append((response.document, {**meta, "key": key}))
        log.info("%s review comments follow-up %d: %d comment list page(s)", folder, number,
                 len(batch))
    return held

