"""Synthetic raw pages at scale (100k-1M PRs) in GitHub's response shape, in seconds.

Serving a million PRs through the emulator would take longer than loading them, so the
emulator serves a few thousand *template* nodes once (real ``PullRequestFields`` answers:
nested lists, null actors, milestones, unicode) and each synthetic PR is a template node
with its identity rewritten: node id, number, url, repository, and the ids that must stay
unique per repository (milestones, reviews, linked issues, labels). The pages land in the
raw store's layout with manifests, exactly what the extract would have written.

>>> t = node_template({"id": "PR_x", "number": 7, "url": "u", "milestone": None,
...     "labels": {"nodes": []}, "reviews": {"nodes": [{"id": "R"}]},
...     "closingIssuesReferences": {"nodes": []}})
>>> render(t, "o/r", "r0001", 12)
'{"id":"PR_r0001_12","number":12,"url":"https://github.com/o/r/pull/12","milestone":null,"labels":{"nodes":[]},"reviews":{"nodes":[{"id":"PR_r0001_12_R0"}]},"closingIssuesReferences":{"nodes":[]}}'
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

RUN_KEY = "synthetic"
SYNTH_ORG = "synth"
_NUMBER = '"@@NUMBER@@"'  # the JSON integer field, quotes included
_RATE = ('"rateLimit":{"cost":3,"limit":5000,"remaining":4997,"used":3,'
         '"resetAt":"2026-11-28T19:00:00Z","nodeCount":8800}')


def template_nodes(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` real ``PullRequestFields`` nodes, paged from the emulator (no latency)."""
    from bench.emulation import client, emulator, org_world
    from pr_warehouse.queries import load_query

    world = org_world([count], seed, org="template")
    query, nodes, after = load_query("repository_pull_requests"), [], None
    server = emulator(world, unlimited=True)
    try:
        with client(server) as gql:
            while True:
                variables = {"owner": "template", "name": "repo-00000", "pageSize": 100,
                             "after": after}
                answer = gql.execute(query, variables, context="template").data
                connection = answer["repository"]["pullRequests"]
                nodes += [n for n in connection["nodes"] if n]
                after = connection["pageInfo"]["endCursor"]
                if not connection["pageInfo"]["hasNextPage"]:
                    return nodes
    finally:
        server.stop()


def node_template(node: dict[str, Any]) -> str:
    """``node`` as compact JSON with markers where each copy gets its own identity."""
    node = copy.deepcopy(node)
    node.update(id="@@PRID@@", number="@@NUMBER@@",
                url="https://github.com/@@REPO@@/pull/@@NUM@@")
    if node.get("milestone"):
        node["milestone"]["id"] = f"MI_@@SLUG@@_{node['milestone']['number']}"
    for label in (node.get("labels") or {}).get("nodes") or []:
        if label:
            label["id"] = f"{label['id']}_@@SLUG@@"
    for i, review in enumerate((node.get("reviews") or {}).get("nodes") or []):
        if review:
            review["id"] = f"@@PRID@@_R{i}"
    for issue in (node.get("closingIssuesReferences") or {}).get("nodes") or []:
        if issue:
            issue["id"] = f"I_@@SLUG@@_{issue['number']}"
            issue["repository"] = {"nameWithOwner": "@@REPO@@"}
    return json.dumps(node, ensure_ascii=False, separators=(",", ":"))


def render(template: str, repo: str, slug: str, number: int) -> str:
    """One synthetic PR node from a template."""
    num = str(number)
    return (template.replace(_NUMBER, num).replace("@@PRID@@", f"PR_{slug}_{num}")
            .replace("@@NUM@@", num).replace("@@REPO@@", repo).replace("@@SLUG@@", slug))


def page_body(repo: str, total: int, nodes: list[str], has_next: bool, cursor: str) -> str:
    """A ``RepositoryPullRequests`` response body around rendered nodes."""
    info = json.dumps({"hasNextPage": has_next, "endCursor": cursor}, separators=(",", ":"))
    return (f'{{"data":{{{_RATE},"repository":{{"nameWithOwner":"{repo}",'
            f'"pullRequests":{{"totalCount":{total},"pageInfo":{info},'
            f'"nodes":[{",".join(nodes)}]}}}}}}}}')


@dataclass
class SyntheticPages:
    """Where the pages are and the manifests that list them (what the load reads)."""

    base_url: str
    manifests: list[dict[str, Any]]
    pull_requests: int
    pages: int
    bytes: int
    seconds: float

    @property
    def page_paths(self) -> list[str]:
        root = self.base_url.removeprefix("file://")
        return [f"{root}/{key}" for m in self.manifests for key in m["pages"]]


def _repo_sizes(total: int, per_repo: int) -> Iterator[int]:
    while total > 0:
        yield min(per_repo, total)
        total -= per_repo


def write_pages(root: Path, total: int, per_repo: int, page_size: int,
                templates: list[str]) -> SyntheticPages:
    """Write ``total`` synthetic PRs as raw pages under ``root`` (repositories of
    ``per_repo`` PRs, ``page_size`` per page)."""
    started = time.perf_counter()
    manifests: list[dict[str, Any]] = []
    written = pages = 0
    k = 0
    for r, size in enumerate(_repo_sizes(total, per_repo)):
        repo, slug = f"{SYNTH_ORG}/repo-{r:04d}", f"r{r:04d}"
        folder = root / "runs" / RUN_KEY / SYNTH_ORG / f"repo-{r:04d}" / "pages"
        folder.mkdir(parents=True, exist_ok=True)
        keys = []
        for p, first in enumerate(range(1, size + 1, page_size), start=1):
            numbers = range(first, min(first + page_size, size + 1))
            nodes = [render(templates[(k + i) % len(templates)], repo, slug, n)
                     for i, n in enumerate(numbers)]
            k += len(nodes)
            body = page_body(repo, size, nodes, numbers[-1] < size, f"Y3Vyc29yOnY{r}:{p}")
            data = body.encode()
            (folder / f"{p:06d}.json").write_bytes(data)
            keys.append(f"runs/{RUN_KEY}/{SYNTH_ORG}/repo-{r:04d}/pages/{p:06d}.json")
            written += len(data)
        pages += len(keys)
        manifests.append({
            "repo": repo, "run_key": RUN_KEY, "status": "success", "pages": keys,
            "followup_pages": [], "pull_requests": size, "total_count": size,
            "points_spent": 3 * len(keys), "requests": len(keys), "retries": {},
            "page_size_final": page_size, "started_at": "2026-11-28T00:00:00+00:00",
            "finished_at": "2026-11-28T00:01:00+00:00",
        })
    seconds = time.perf_counter() - started
    log.info("wrote %d synthetic PRs in %d pages (%.0f MiB) in %.1fs", total, pages,
             written / 2**20, seconds)
    return SyntheticPages(root.as_uri(), manifests, total, pages, written, seconds)


CHANGED_AT = "2026-11-30T00:00:00Z"  # after every template's updatedAt: the load keeps it


def changed_at(day: int) -> str:
    """The ``updatedAt`` of the PRs edited on daily run ``day`` (1, 2, ...), a day apart.

    >>> changed_at(1), changed_at(3)
    ('2026-11-30T00:00:00Z', '2026-12-02T00:00:00Z')
    """
    from datetime import datetime, timedelta

    first = datetime.strptime(CHANGED_AT, "%Y-%m-%dT%H:%M:%SZ")
    return (first + timedelta(days=day - 1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def changed_node(rendered: str, changed_at: str = CHANGED_AT) -> str:
    """A PR as GitHub returns it the day after an edit: newer ``updatedAt``, a new title,
    and its last label removed (so the label bridge has rows to delete).

    >>> changed_node('{"title":"t","updatedAt":"x","labels":{"nodes":[{"name":"a"},{"name":"b"}]}}')
    '{"title":"t (edited)","updatedAt":"2026-11-30T00:00:00Z","labels":{"nodes":[{"name":"a"}]}}'
    """
    node = json.loads(rendered)
    node["title"] = f"{node.get('title') or ''} (edited)"
    node["updatedAt"] = changed_at
    labels = node.get("labels") or {}
    if labels.get("nodes"):
        labels["nodes"] = labels["nodes"][:-1]
        if "totalCount" in labels:
            labels["totalCount"] = len(labels["nodes"])
    return json.dumps(node, ensure_ascii=False, separators=(",", ":"))


def changed_numbers(size: int, fraction: float) -> list[int]:
    """Which PR numbers of a ``size``-PR repository a day with ``fraction`` changed edits:
    evenly spread, so every part of the table (and of DuckDB's row groups) is touched.

    >>> changed_numbers(1000, 0.01)[:3], len(changed_numbers(1000, 0.01))
    ([1, 101, 201], 10)
    """
    step = max(1, round(1 / fraction))
    return list(range(1, size + 1, step))


def write_changed_pages(root: Path, total: int, per_repo: int, page_size: int,
                        templates: list[str], fraction: float,
                        run_key: str = "synthetic-changed",
                        changed_at: str = CHANGED_AT) -> SyntheticPages:
    """A daily sync after :func:`write_pages`: ``fraction`` of the same PRs, edited at
    ``changed_at`` (:func:`changed_node`), as pages of another run under the same ``root``."""
    started = time.perf_counter()
    manifests: list[dict[str, Any]] = []
    written = pages = prs = 0
    for r, size in enumerate(_repo_sizes(total, per_repo)):
        repo, slug = f"{SYNTH_ORG}/repo-{r:04d}", f"r{r:04d}"
        folder = root / "runs" / run_key / SYNTH_ORG / f"repo-{r:04d}" / "pages"
        folder.mkdir(parents=True, exist_ok=True)
        numbers = changed_numbers(size, fraction)
        keys = []
        for p, first in enumerate(range(0, len(numbers), page_size), start=1):
            chunk = numbers[first : first + page_size]
            # The same template as write_pages gave this PR (its global position).
            nodes = [changed_node(render(templates[(r * per_repo + n - 1) % len(templates)],
                                         repo, slug, n), changed_at) for n in chunk]
            body = page_body(repo, len(numbers), nodes, first + page_size < len(numbers),
                             f"Y2hhbmdlZDp2{r}:{p}").encode()
            (folder / f"{p:06d}.json").write_bytes(body)
            keys.append(f"runs/{run_key}/{SYNTH_ORG}/repo-{r:04d}/pages/{p:06d}.json")
            written += len(body)
        pages += len(keys)
        prs += len(numbers)
        manifests.append({
            "repo": repo, "run_key": run_key, "status": "success", "pages": keys,
            "followup_pages": [], "pull_requests": len(numbers), "total_count": size,
            "points_spent": len(keys), "requests": len(keys), "retries": {},
            "page_size_final": page_size, "started_at": "2026-11-30T00:00:00+00:00",
            "finished_at": "2026-11-30T00:01:00+00:00",
        })
    seconds = time.perf_counter() - started
    log.info("wrote %d changed PRs in %d pages in %.1fs", prs, pages, seconds)
    return SyntheticPages(root.as_uri(), manifests, prs, pages, written, seconds)
