"""Plan a sync: each repository's watermark, and a cheap probe that skips unchanged ones.

The watermark is the newest ``updatedAt`` already in the warehouse for a repository. One
aliased probe query asks up to 50 repositories at once for their newest PR update (1 point);
a repository whose newest update is not past its watermark spawns no extract at all.

Example::

    plan = plan_sync(client, ["acme/api", "acme/web"], watermarks={"acme/api": ...})
    plan.extract      # {"acme/web": None, ...}: repo -> since (None: full history)
    plan.skipped      # ["acme/api"]
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pr_warehouse.client.errors import NotFound
from pr_warehouse.contracts import ExtractBatch, ExtractJob, SyncPlan, parse_iso
from pr_warehouse.queries.builders import PROBE_BATCH, newest_update_query

if TYPE_CHECKING:
    from pr_warehouse.client import GraphQLClient

log = logging.getLogger(__name__)


def read_watermarks(duckdb_path: Path, repos: list[str]) -> dict[str, datetime]:
    """Newest ``updated_at`` per repository whose PRs *and* their events are in the
    warehouse (read-only; missing file: none).

    A repository whose PRs were loaded before events were collected has no events rows: it
    gets no watermark, so its next sync is a full one and every PR gains its events.
    """
    if not duckdb_path.exists():
        return {}
    import duckdb

    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        tables = {name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()}
        if not {"pull_requests", "pull_request_events"} <= tables:
            return {}
        rows = con.execute(
            """
            with prs as (
                select lower(repo) as repo, max(updated_at) as newest from raw.pull_requests
                where lower(repo) in (select unnest(?)) group by 1
            ),
            events as (
                select lower(repo) as repo, max(updated_at) as newest
                from raw.pull_request_events group by 1
            )
            -- both were loaded together; the older of the two is safe for both
            select prs.repo, least(prs.newest, events.newest)
            from prs join events using (repo)
            """,
            [[r.lower() for r in repos]],
        ).fetchall()
    finally:
        con.close()
    by_lower = {r.lower(): r for r in repos}
    return {by_lower[lower]: newest for lower, newest in rows}


@dataclass(frozen=True)
class ProbeAnswer:
    """What the probe learned of one repository (None: it could not tell)."""

    newest: datetime | None = None  # newest PR update, deployment, status or release
    pull_requests: int | None = None  # how many PRs it has
    has_deploys: bool | None = None  # any deployment or release at all


def has_deploys(answer: dict[str, Any]) -> bool:
    """Whether a probe answer shows any deployment or release (each list asks for its
    newest one, so an empty list means none at all).

    >>> has_deploys({"deployments": {"nodes": []}, "releases": {"nodes": [{"publishedAt": None}]}})
    True
    >>> has_deploys({"deployments": {"nodes": []}, "releases": {"nodes": []}})
    False
    """
    return any((answer.get(name) or {}).get("nodes") for name in ("deployments", "releases"))


def newest_change(answer: dict[str, Any]) -> datetime | None:
    """The newest PR update, deployment, deployment status or release a probe answer shows.

    >>> newest_change({"pullRequests": {"nodes": [{"updatedAt": "2026-11-01T00:00:00Z"}]},
    ...                "deployments": {"nodes": [{"createdAt": "2026-11-02T00:00:00Z",
    ...                                           "latestStatus": None}]}}).day
    2
    """
    from pr_warehouse.extract.deployments import probe_times

    pulls = [n for n in (answer.get("pullRequests") or {}).get("nodes") or [] if n]
    stamps = [parse_iso(pulls[0]["updatedAt"])] if pulls else []
    stamps += probe_times(answer)
    known = [s for s in stamps if s is not None]
    return max(known) if known else None


def probe_newest_updates(client: GraphQLClient, repos: list[str]) -> dict[str, ProbeAnswer]:
    """What changed last, how many PRs and whether any deploys, per repository.

    A batch that names a missing repository is answered as "unknown" for all its repos, so
    their extracts run and fail or succeed on their own with a clear error.
    """
    newest: dict[str, ProbeAnswer] = {}
    for start in range(0, len(repos), PROBE_BATCH):
        batch = repos[start : start + PROBE_BATCH]
        text, variables = newest_update_query(batch)
        try:
            response = client.execute(text, variables,
                                      context=f"probe {start // PROBE_BATCH + 1} ({len(batch)} repos)")
        except NotFound as exc:
            log.warning("probe batch names a missing repository (%s); extracting all %d", exc,
                        len(batch))
            newest.update({repo: ProbeAnswer() for repo in batch})
            continue
        for i, repo in enumerate(batch):
            answer = response.data.get(f"r{i}") or {}
            connection = answer.get("pullRequests") or {}
            newest[repo] = ProbeAnswer(newest_change(answer), connection.get("totalCount"),
                                       has_deploys(answer) if answer else None)
    return newest


def plan_sync(
    client: GraphQLClient | None,
    repos: list[str],
    *,
    watermarks: dict[str, datetime],
    since: datetime | None = None,
    full_refresh: bool = False,
    stored_deploys: Collection[str] = (),
) -> SyncPlan:
    """Decide each repository's ``since`` and whether it needs an extract at all.

    - ``full_refresh``: every repository, whole history (probed only for sizes).
    - ``since`` given: every repository from ``since``; skipped only if nothing is newer.
    - otherwise: from its watermark; skipped if GitHub's newest update is not past it.

    Its deployments are read unless the probe saw none and no release (most repositories
    of a large organization: 1 point each saved per run); a repository with deploys of
    which none is stored yet (``stored_deploys``: lower-cased names) reads its history
    from the start, since its first deploy ships every commit before it.
    """
    plan = SyncPlan()
    stored = {repo.lower() for repo in stored_deploys}
    floors = {repo: None if full_refresh else since or watermarks.get(repo) for repo in repos}
    # The probe answers two questions for 1 point per 50 repos: what changed (skip the
    # rest) and how big each repo is (start the largest first: the run ends sooner).
    probed = repos if client is not None and (len(repos) > 1 or any(floors.values())) else []
    before_points = client.stats.points_spent if client is not None else 0
    before_requests = client.stats.requests if client is not None else 0
    answers = probe_newest_updates(client, probed) if probed else {}
    if client is not None:
        plan.probe_points = client.stats.points_spent - before_points
        plan.probe_requests = client.stats.requests - before_requests
    for repo in repos:
        floor = floors[repo]
        answer = answers.get(repo, ProbeAnswer())
        latest, plan.sizes[repo] = answer.newest, answer.pull_requests
        if floor is not None and latest is not None and latest <= floor and since is None:
            plan.skipped.append(repo)
        elif floor is not None and latest is not None and since is not None and latest < since:
            plan.skipped.append(repo)
        else:
            plan.extract[repo] = floor
            if answer.has_deploys is False:
                plan.without_deploys.append(repo)
            elif answer.has_deploys and floor is not None and repo.lower() not in stored:
                plan.first_deploys.append(repo)
    # Largest first (unknown sizes count as largest): the longest-processing-time rule.
    order = sorted(plan.extract, key=lambda r: -(plan.sizes.get(r) if plan.sizes.get(r)
                                                  is not None else float("inf")))
    plan.extract = {repo: plan.extract[repo] for repo in order}
    log.info("plan: %d to extract (%d without deploys to read), %d unchanged and skipped; "
             "the probe cost %d point(s) in %d request(s)", len(plan.extract),
             len(plan.without_deploys), len(plan.skipped), plan.probe_points,
             plan.probe_requests)
    return plan


def expected_pages(pull_requests: int | None, page_size: int) -> int | None:
    """Listing pages a whole repository of ``pull_requests`` PRs takes (None: unknown).

    >>> expected_pages(58, 29), expected_pages(59, 29), expected_pages(0, 29)
    (2, 3, 1)
    """
    if pull_requests is None:
        return None
    return max(1, -(-pull_requests // page_size))


def pack_jobs(jobs: Sequence[ExtractJob], pages: Mapping[str, int | None],
              target_tasks: int) -> list[list[ExtractJob]]:
    """Group jobs so a run of many repositories maps about ``target_tasks`` tasks.

    Up to ``target_tasks`` jobs, each keeps its own task. Beyond, a repository expected to
    take at least 1/``target_tasks`` of the run's pages keeps its own task, and the smaller
    ones fill shared tasks up to that share, in the order given. The groups come out
    largest first (unknown sizes count as largest), so the pool still takes the longest
    work first.

    >>> jobs = [ExtractJob(f"o/r{i}") for i in range(6)]
    >>> sizes = {"o/r0": 10, "o/r1": 3, "o/r2": 2, "o/r3": 2, "o/r4": 1, "o/r5": None}
    >>> [[j.repo for j in group] for group in pack_jobs(jobs, sizes, 4)]
    [['o/r5'], ['o/r0'], ['o/r2', 'o/r3'], ['o/r1'], ['o/r4']]
    >>> len(pack_jobs(jobs, sizes, 6))
    6
    """
    if len(jobs) <= target_tasks:
        return [[job] for job in jobs]
    known = sum(n for job in jobs if (n := pages.get(job.repo)) is not None)
    share = max(1, known // target_tasks)
    groups: list[list[ExtractJob]] = []
    weights: list[float] = []
    filling: list[ExtractJob] = []
    filled = 0
    for job in jobs:
        n = pages.get(job.repo)
        if n is None or n >= share:
            groups.append([job])
            weights.append(float("inf") if n is None else n)
            continue
        if filling and filled + n > share:
            groups.append(filling)
            weights.append(filled)
            filling, filled = [], 0
        filling.append(job)
        filled += n
    if filling:
        groups.append(filling)
        weights.append(filled)
    order = sorted(range(len(groups)), key=lambda i: -weights[i])  # stable: ties keep order
    return [groups[i] for i in order]


def batch_jobs(jobs: Sequence[ExtractJob], max_batches: int,
               pages: Mapping[str, int | None] | None = None,
               target_tasks: int | None = None) -> list[ExtractBatch]:
    """Group per-repository jobs into the mapped extract tasks, at most ``max_batches``.

    One repository per task while they are few (the grid then shows a task per
    repository); a run of more than ``target_tasks`` packs the small ones together
    (:func:`pack_jobs`, by their expected ``pages``); beyond ``max_batches``, consecutive
    groups share a task, so an org with thousands of repositories stays under Airflow's
    ``max_map_length``.

    >>> [b.label for b in batch_jobs([ExtractJob("a/x"), ExtractJob("a/y")], 5)]
    ['a/x', 'a/y']
    >>> [b.label for b in batch_jobs([ExtractJob(f"a/r{i}") for i in range(5)], 2)]
    ['a/r0 (+2 more)', 'a/r3 (+1 more)']
    """
    if max_batches < 1:
        raise ValueError("max_batches must be at least 1")
    groups = (pack_jobs(jobs, pages, target_tasks) if pages is not None and target_tasks
              else [[job] for job in jobs])
    size = max(1, -(-len(groups) // max_batches))
    return [ExtractBatch.of([job for group in groups[start : start + size] for job in group])
            for start in range(0, len(groups), size)]
