"""Extract the CI checks of every PR new or changed in a run: its head commit's
``statusCheckRollup`` (state, check runs, status contexts), in batched queries.

The PRs are the ones whose events are due (``pull_requests.extract_repository`` collects
them); their checks are asked for ``CHECKS_BATCH`` at a time with one alias per PR (see
``queries.builders.checks_query`` for why and what it costs), and a rollup longer than
one page of contexts is completed by follow-up aliases with a cursor, until no
``hasNextPage`` is left. Every page is stored untouched as a ``PageKind.CHECKS`` page
whose metadata lists the ``(alias, id, after)`` requests it answers, so a retried task
derives what is still to ask from what is stored and fetches nothing twice.

A re-run of a check moves no PR's ``updatedAt``, so the PRs new or changed in the run
are not enough: the open PRs whose stored checks are not settled (PENDING, FAILURE,
ERROR or EXPECTED: a re-run or a late check can still change them) are asked again too,
read from the warehouse (:func:`unsettled_checks`); a repository the plan skips (no PR
changed since its watermark) waits for its next extract.

Example::

    fetch_batch_checks(client, store, "r1", "acme/api", manifests, {"acme/api": ["PR_1"]})
    manifests[0].check_pages  # ['runs/r1/acme/api/pages/checks-000001.json']
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pr_warehouse.contracts import Manifest, apportion
from pr_warehouse.queries.builders import CHECKS_BATCH, checks_query
from pr_warehouse.storage.raw_store import PageKind

if TYPE_CHECKING:
    from pr_warehouse.client import GraphQLClient
    from pr_warehouse.storage import RawStore

log = logging.getLogger(__name__)

Request = tuple[str, str | None]  # (pull request node id, contexts cursor; None: first page)
# Rollup states a re-run or a late check can still change on an open PR.
UNSETTLED_STATES = ("PENDING", "FAILURE", "ERROR", "EXPECTED")


def answers(body: Mapping[str, Any], meta: Mapping[str, Any]
            ) -> Iterable[tuple[str, str | None, Mapping[str, Any] | None]]:
    """``(id, after, rollup)`` for each request a stored checks page answers; ``rollup``
    is the PR's ``statusCheckRollup`` (None: no checks, or the PR is gone).

    >>> body = {"data": {"pr0": {"id": "PR_1", "statusCheckRollup": None}}}
    >>> list(answers(body, {"requests": [{"alias": "pr0", "id": "PR_1", "after": None}]}))
    [('PR_1', None, None)]
    """
    data = body.get("data") or {}
    for request in meta.get("requests") or ():
        node = data.get(request["alias"]) or {}
        yield request["id"], request.get("after"), node.get("statusCheckRollup")


def pending_requests(due: Iterable[str],
                     stored: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]
                     ) -> list[Request]:
    """What is still to ask, given the stored pages ``(body, meta)``: the first page of
    every due PR none covers, and the next page of every answered rollup whose contexts
    go on (``hasNextPage``) and that no stored page asked for yet.

    >>> first = ({"data": {"pr0": {"statusCheckRollup": {"contexts": {"pageInfo":
    ...     {"hasNextPage": True, "endCursor": "c1"}}}}}},
    ...     {"requests": [{"alias": "pr0", "id": "PR_1", "after": None}]})
    >>> pending_requests(["PR_1", "PR_2"], [first])
    [('PR_2', None), ('PR_1', 'c1')]
    """
    asked: set[Request] = set()
    following: list[Request] = []
    for body, meta in stored:
        for node_id, after, rollup in answers(body, meta):
            asked.add((node_id, after))
            info = ((rollup or {}).get("contexts") or {}).get("pageInfo") or {}
            if info.get("hasNextPage") and info.get("endCursor"):
                following.append((node_id, info["endCursor"]))
    wanted = [(node_id, None) for node_id in dict.fromkeys(due)] + following
    return [r for r in dict.fromkeys(wanted) if r not in asked]


def fetch_batch_checks(client: GraphQLClient, store: RawStore, run_key: str, folder: str,
                       manifests: Sequence[Manifest], due: Mapping[str, Sequence[str]]) -> None:
    """Fetch the checks of every extracted repository's due PRs (``due``: repo -> PR ids)
    into ``folder`` (the batch's events folder), completing long rollups.

    Each manifest then lists the checks pages holding its PRs and gains its share of the
    points and requests, apportioned by its PRs among those asked for (as events are).
    """
    owners = [m for m in manifests if due.get(m.repo)]
    if not owners:
        return
    points_before, requests_before = client.stats.points_spent, client.stats.requests
    records = store.committed_pages(run_key, folder, kind=PageKind.CHECKS)
    stored = [(store.read_json(r.key), r.meta) for r in records]
    keys = [r.key for r in records]
    number = records[-1].page if records else 0
    all_due = [node_id for m in owners for node_id in due[m.repo]]
    while todo := pending_requests(all_due, stored):
        batch = todo[:CHECKS_BATCH]
        number += 1
        text, variables = checks_query(batch)
        response = client.execute(text, variables, context=f"{folder} checks {number}")
        meta = {
            "request_id": response.request_id,
            "cost": response.cost,
            "remaining": response.remaining,
            "attempts": response.attempts,
            "fetched_at": datetime.now(timezone.utc).isoformat(),
            "requests": [{"alias": f"pr{i}", "id": node_id, "after": after}
                         for i, (node_id, after) in enumerate(batch)],
        }
        key = store.write_page(run_key, folder, number, response.body, meta,
                               kind=PageKind.CHECKS)
        keys.append(key)
        stored.append((response.document, meta))
        log.info("%s checks %d: %d rollup page(s), %d left before it, %s points, %s remaining",
                 folder, number, len(batch), len(todo), response.cost, response.remaining)
    ids_by_page = [{r["id"] for r in meta.get("requests") or ()} for _, meta in stored]
    weights = [len(due[m.repo]) for m in owners]
    points = apportion(client.stats.points_spent - points_before, weights)
    requests = apportion(client.stats.requests - requests_before, weights)
    for manifest, share_points, share_requests in zip(owners, points, requests, strict=True):
        mine = set(due[manifest.repo])
        manifest.check_pages = [key for key, ids in zip(keys, ids_by_page, strict=True)
                                if ids & mine]
        manifest.points_spent += share_points
        manifest.requests += share_requests


def unsettled_checks(duckdb_path: Path, repos: Sequence[str]) -> dict[str, list[str]]:
    """The open PRs of ``repos`` (as named there) whose stored checks are not settled,
    read-only from the warehouse; none when it cannot be read (no file yet, no checks
    table, or a writer holding it: the PRs are then asked again on a later run)."""
    import duckdb

    if not repos or not duckdb_path.exists():
        return {}
    names = {repo.lower(): repo for repo in repos}
    try:
        con = duckdb.connect(str(duckdb_path), read_only=True)
    except duckdb.Error as exc:
        log.warning("checks: cannot read the warehouse for unsettled checks (%s)", exc)
        return {}
    try:
        tables = {row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()}
        if not {"pull_requests", "pull_request_checks"} <= tables:
            return {}
        rows = con.execute(
            """
            select lower(p.repo), p.node_id
            from raw.pull_requests as p
            join raw.pull_request_checks as c on c.node_id = p.node_id
            where lower(p.repo) in (select unnest(?))
              and p.pr ->> '$.state' = 'OPEN'
              and c.rollup ->> '$.state' in (select unnest(?))
            order by 1, 2
            """,
            [list(names), list(UNSETTLED_STATES)],
        ).fetchall()
    finally:
        con.close()
    found: dict[str, list[str]] = {}
    for repo, node_id in rows:
        found.setdefault(names[repo], []).append(node_id)
    return found


def with_rechecks(due: Mapping[str, Sequence[str]], recheck: Mapping[str, Sequence[str]]
                  ) -> dict[str, list[str]]:
    """``due`` plus the ``recheck`` ids it does not hold, per repository of ``due``.

    >>> with_rechecks({"a/b": ["PR_1"], "c/d": []}, {"a/b": ["PR_1", "PR_2"], "x/y": ["PR_9"]})
    {'a/b': ['PR_1', 'PR_2'], 'c/d': []}
    """
    return {repo: list(dict.fromkeys([*ids, *recheck.get(repo, ())]))
            for repo, ids in due.items()}
