"""Synthetic raw pages at scale (100k-1M PRs) in GitHub's response shape, in seconds.

Serving a million PRs through the emulator would take longer than loading them, so the
emulator serves a few thousand *template* nodes once (real ``PullRequestFields`` answers:
nested lists, null actors, milestones, unicode) and each synthetic PR is a template node
with its identity rewritten: node id, number, url, repository, and the ids that must stay
unique per repository (milestones, reviews, linked issues, labels). Each PR also gets its
events node (real ``PullRequestEventFields`` answers of the same template PR: timeline,
first commit, counts) with the same identity and its timeline item ids made unique. The
pages land in the raw store's layout with manifests, exactly what the extract would have
written: PR pages, and events pages of ``EVENTS_BATCH`` PRs listed as ``event_pages``.

>>> t = node_template({"id": "PR_x", "number": 7, "url": "u", "milestone": None,
...     "labels": {"nodes": []}, "reviews": {"nodes": [{"id": "R"}]},
...     "closingIssuesReferences": {"nodes": []}})
>>> render(t, "o/r", "r0001", 12)
'{"id":"PR_r0001_12","number":12,"url":"https://github.com/o/r/pull/12","milestone":null,"labels":{"nodes":[]},"reviews":{"nodes":[{"id":"PR_r0001_12_R0"}]},"closingIssuesReferences":{"nodes":[]}}'
>>> e = event_template({"id": "PR_x", "number": 7, "updatedAt": "t0",
...     "repository": {"nameWithOwner": "t/r"},
...     "timelineItems": {"nodes": [{"__typename": "IssueComment", "id": "IC_x"}]}})
>>> render(e, "o/r", "r0001", 12)
'{"id":"PR_r0001_12","number":12,"updatedAt":"t0","repository":{"nameWithOwner":"o/r"},"timelineItems":{"nodes":[{"__typename":"IssueComment","id":"PR_r0001_12_T0"}]}}'
"""

from __future__ import annotations

import copy
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pr_warehouse.contracts import Manifest
from pr_warehouse.queries.builders import EVENTS_BATCH
from pr_warehouse.storage.raw_store import PageKind, page_name

log = logging.getLogger(__name__)

RUN_KEY = "synthetic"
SYNTH_ORG = "synth"
_NUMBER = '"@@NUMBER@@"'  # the JSON integer field, quotes included
_RATE = ('"rateLimit":{"cost":3,"limit":5000,"remaining":4997,"used":3,'
         '"resetAt":"2026-11-28T19:00:00Z","nodeCount":8800}')
# An events batch's: 49 PRs x (timelineItems 100 + commits 1) nodes, 1 point (the load
# reads neither; they keep the body what GitHub sends).
_EVENTS_RATE = ('"rateLimit":{"cost":1,"limit":5000,"remaining":4999,"used":1,'
                '"resetAt":"2026-11-28T19:00:00Z","nodeCount":4949}')


@contextmanager
def _template_client(count: int, seed: int) -> Iterator[Any]:
    """The product's client on an emulator serving ``template/repo-00000`` of ``count``
    PRs (no latency, budgets nobody exhausts)."""
    from bench.emulation import client, emulator, org_world

    server = emulator(org_world([count], seed, org="template"), unlimited=True)
    try:
        with client(server) as gql:
            yield gql
    finally:
        server.stop()


def _pull_request_nodes(gql: Any) -> list[dict[str, Any]]:
    """Every PR of the template repository, paged with the extract's listing query."""
    from pr_warehouse.queries import load_query

    query, nodes, after = load_query("repository_pull_requests"), [], None
    while True:
        variables = {"owner": "template", "name": "repo-00000", "pageSize": 100,
                     "after": after}
        connection = gql.execute(query, variables, context="template").data[
            "repository"]["pullRequests"]
        nodes += [n for n in connection["nodes"] if n]
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes


def _event_nodes(gql: Any, ids: list[str]) -> list[dict[str, Any]]:
    """The events nodes of ``ids``, in that order, asked as the extract asks for them
    (``pull_request_events``, ``EVENTS_BATCH`` ids a query)."""
    from pr_warehouse.pages import event_nodes, truncated_connections
    from pr_warehouse.queries import load_query
    from pr_warehouse.queries.builders import events_variables

    query, by_id = load_query("pull_request_events"), {}
    for start in range(0, len(ids), EVENTS_BATCH):
        variables = events_variables(ids[start : start + EVENTS_BATCH])
        answer = gql.execute(query, variables, context="template events")
        by_id.update((n["id"], n) for n in event_nodes(json.loads(answer.body)))
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise RuntimeError(f"the emulator returned no events for {len(missing)} template "
                           f"PRs (first: {missing[0]})")
    # The loader stores a cut-short timeline only once follow-up pages complete it; the
    # bench writes none, so such a template would silently lose its PR's events row.
    truncated = [i for i in ids if any(truncated_connections(by_id[i]))]
    if truncated:
        raise RuntimeError(f"{len(truncated)} template PRs have a timeline longer than one "
                           f"page (first: {truncated[0]}); synthetic pages carry no follow-ups")
    return [by_id[i] for i in ids]


def template_nodes_with_events(count: int, seed: int
                               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``count`` real ``PullRequestFields`` nodes, paged from the emulator (no latency),
    and, in the same order, each PR's real ``PullRequestEventFields`` node (the emulator
    generates activity for every PR: draft history, review requests, close/merge events,
    comments, commits)."""
    with _template_client(count, seed) as gql:
        nodes = _pull_request_nodes(gql)
        return nodes, _event_nodes(gql, [n["id"] for n in nodes])


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


def event_template(node: dict[str, Any]) -> str:
    """An events node as compact JSON with the same markers as :func:`node_template`.

    Timeline items get ids of their own PR (``<pr id>_T<i>``): the staging models keep
    one row per item id, so ids shared between copies would drop events. ``updatedAt``
    stays the template PR's, which its PR node carries too.
    """
    node = copy.deepcopy(node)
    node.update(id="@@PRID@@", number="@@NUMBER@@")
    if node.get("repository"):
        node["repository"] = {**node["repository"], "nameWithOwner": "@@REPO@@"}
    for i, item in enumerate((node.get("timelineItems") or {}).get("nodes") or []):
        if item and item.get("id"):
            item["id"] = f"@@PRID@@_T{i}"
    text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    # changed_events edits updatedAt as text: it must be the node's only one (the query
    # asks for no other; a new nested updatedAt would make that edit ambiguous).
    if text.count('"updatedAt":') != 1:
        raise ValueError("an events node must hold exactly one updatedAt")
    return text


@dataclass(frozen=True)
class Templates:
    """PR node templates (:func:`node_template`) and, in the same order, their events
    node templates (:func:`event_template`)."""

    pull_requests: list[str]
    events: list[str]

    def __post_init__(self) -> None:
        if len(self.events) != len(self.pull_requests):
            raise ValueError(f"{len(self.events)} events templates for "
                             f"{len(self.pull_requests)} PR templates: each needs its own")

    @classmethod
    def from_emulator(cls, count: int, seed: int) -> Templates:
        """The templates of :func:`template_nodes_with_events`."""
        nodes, events = template_nodes_with_events(count, seed)
        return cls([node_template(n) for n in nodes], [event_template(e) for e in events])


def render(template: str, repo: str, slug: str, number: int) -> str:
    """One synthetic PR node (or events node) from a template."""
    num = str(number)
    return (template.replace(_NUMBER, num).replace("@@PRID@@", f"PR_{slug}_{num}")
            .replace("@@NUM@@", num).replace("@@REPO@@", repo).replace("@@SLUG@@", slug))


def page_body(repo: str, total: int, nodes: list[str], has_next: bool, cursor: str) -> str:
    """A ``RepositoryPullRequests`` response body around rendered nodes."""
    info = json.dumps({"hasNextPage": has_next, "endCursor": cursor}, separators=(",", ":"))
    return (f'{{"data":{{{_RATE},"repository":{{"nameWithOwner":"{repo}",'
            f'"pullRequests":{{"totalCount":{total},"pageInfo":{info},'
            f'"nodes":[{",".join(nodes)}]}}}}}}}}')


def events_page_body(nodes: list[str]) -> str:
    """A ``PullRequestEvents`` response body (``data.nodes``) around rendered events nodes.

    >>> body = json.loads(events_page_body(['{"id":"PR_1"}']))
    >>> list(body["data"]), body["data"]["nodes"]
    (['rateLimit', 'nodes'], [{'id': 'PR_1'}])
    """
    return f'{{"data":{{{_EVENTS_RATE},"nodes":[{",".join(nodes)}]}}}}'


@dataclass
class SyntheticPages:
    """Where the pages are and the manifests that list them (what the load reads).

    ``pages``/``bytes`` count the PR pages (the listing), ``event_pages``/``event_bytes``
    the events pages beside them.
    """

    base_url: str
    manifests: list[Manifest]
    pull_requests: int
    pages: int
    bytes: int
    seconds: float
    event_pages: int = 0
    event_bytes: int = 0

    def _paths(self, keys: Callable[[Manifest], list[str]]) -> list[str]:
        root = self.base_url.removeprefix("file://")
        return [f"{root}/{key}" for m in self.manifests for key in keys(m)]

    @property
    def page_paths(self) -> list[str]:
        return self._paths(lambda m: m.pages)

    @property
    def event_page_paths(self) -> list[str]:
        return self._paths(lambda m: m.event_pages)

    def manifests_json(self) -> str:
        """The manifests as the load's worker reads them."""
        return json.dumps([m.to_json() for m in self.manifests])


def _repo_sizes(total: int, per_repo: int) -> Iterator[int]:
    while total > 0:
        yield min(per_repo, total)
        total -= per_repo


def _template_index(repo_index: int, per_repo: int, number: int, templates: int) -> int:
    """Which template PR ``number`` of repository ``repo_index`` is a copy of (its global
    position; every repository but the last is full), the same for its PR node, its
    events node and its changed copies.

    >>> _template_index(0, 100, 1, 30), _template_index(1, 100, 1, 30)
    (0, 10)
    """
    return (repo_index * per_repo + number - 1) % templates


def _write_event_pages(folder: Path, prefix: str, numbers: Sequence[int],
                       node: Callable[[int], str]) -> tuple[list[str], int]:
    """Events pages for PRs ``numbers`` (``node(n)``: the rendered events node of PR
    ``n``), ``EVENTS_BATCH`` a page and named as the extract names them; returns their
    keys and bytes."""
    keys, written = [], 0
    for p, first in enumerate(range(0, len(numbers), EVENTS_BATCH), start=1):
        data = events_page_body([node(n) for n in numbers[first : first + EVENTS_BATCH]]
                                ).encode()
        name = page_name(p, PageKind.EVENTS)
        (folder / name).write_bytes(data)
        keys.append(f"{prefix}/{name}")
        written += len(data)
    return keys, written


@dataclass(frozen=True)
class _Sync:
    """What one synthetic sync run writes for each repository: which PRs (``numbers``
    of a repository's size), how their rendered nodes are edited, and what its manifest
    says it cost."""

    run_key: str
    numbers: Callable[[int], Sequence[int]]
    edit_pr: Callable[[str], str]
    edit_events: Callable[[str], str]
    cursor_tag: str
    points_per_page: int
    day: str


def _write_sync(root: Path, total: int, per_repo: int, page_size: int,
                templates: Templates, sync: _Sync) -> SyntheticPages:
    """The PR and events pages of ``sync`` for ``total`` PRs in repositories of
    ``per_repo``, with their manifests (shared by :func:`write_pages` and
    :func:`write_changed_pages`)."""
    started = time.perf_counter()
    manifests: list[Manifest] = []
    written = pages = prs = event_written = event_pages = 0
    for r, size in enumerate(_repo_sizes(total, per_repo)):
        repo, slug = f"{SYNTH_ORG}/repo-{r:04d}", f"r{r:04d}"
        prefix = f"runs/{sync.run_key}/{SYNTH_ORG}/repo-{r:04d}/pages"
        folder = root / prefix
        folder.mkdir(parents=True, exist_ok=True)
        numbers = sync.numbers(size)

        def rendered(kind: list[str], n: int, r: int = r, repo: str = repo,
                     slug: str = slug) -> str:
            # A PR is always a copy of the same template, in every sync.
            return render(kind[_template_index(r, per_repo, n, len(kind))], repo, slug, n)

        keys = []
        for p, first in enumerate(range(0, len(numbers), page_size), start=1):
            chunk = numbers[first : first + page_size]
            nodes = [sync.edit_pr(rendered(templates.pull_requests, n)) for n in chunk]
            data = page_body(repo, len(numbers), nodes, first + page_size < len(numbers),
                             f"{sync.cursor_tag}{r}:{p}").encode()
            (folder / f"{p:06d}.json").write_bytes(data)
            keys.append(f"{prefix}/{p:06d}.json")
            written += len(data)
        event_keys, size_bytes = _write_event_pages(
            folder, prefix, numbers,
            lambda n: sync.edit_events(rendered(templates.events, n)))
        event_written += size_bytes
        pages += len(keys)
        event_pages += len(event_keys)
        prs += len(numbers)
        manifests.append(Manifest(
            repo=repo, run_key=sync.run_key, pages=keys, event_pages=event_keys,
            pull_requests=len(numbers), pull_requests_with_events=len(numbers),
            total_count=size,
            # An events batch of 49 PRs costs 1 point (builders.EVENTS_BATCH).
            points_spent=sync.points_per_page * len(keys) + len(event_keys),
            requests=len(keys) + len(event_keys), page_size_final=page_size,
            started_at=f"{sync.day}T00:00:00+00:00", finished_at=f"{sync.day}T00:01:00+00:00",
        ))
    seconds = time.perf_counter() - started
    log.info("wrote %d synthetic PRs (%s) in %d pages (%.0f MiB) and %d events pages "
             "(%.0f MiB) in %.1fs", prs, sync.run_key, pages, written / 2**20, event_pages,
             event_written / 2**20, seconds)
    return SyntheticPages(root.as_uri(), manifests, prs, pages, written, seconds,
                          event_pages, event_written)


def _unchanged(rendered: str) -> str:
    return rendered


def write_pages(root: Path, total: int, per_repo: int, page_size: int,
                templates: Templates) -> SyntheticPages:
    """Write ``total`` synthetic PRs as raw pages under ``root`` (repositories of
    ``per_repo`` PRs, ``page_size`` per page), each PR with its events node, in events
    pages listed as the manifest's ``event_pages``: a first sync fetches the events of
    every PR."""
    return _write_sync(root, total, per_repo, page_size, templates, _Sync(
        run_key=RUN_KEY, numbers=lambda size: range(1, size + 1), edit_pr=_unchanged,
        edit_events=_unchanged, cursor_tag="Y3Vyc29yOnY", points_per_page=3,
        day="2026-11-28"))


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


_UPDATED_AT = re.compile(r'"updatedAt":"[^"]*"')


def changed_events(rendered: str, changed_at: str = CHANGED_AT) -> str:
    """The events node of a PR edited as :func:`changed_node` edits it, re-fetched with
    it: the PR's new ``updatedAt``, the same timeline (title and label changes are not
    among the timeline item types the query asks for). Text, not JSON: the node holds a
    single ``updatedAt`` (:func:`event_template`).

    >>> changed_events('{"id":"PR_1","updatedAt":"x","timelineItems":{"nodes":[]}}')
    '{"id":"PR_1","updatedAt":"2026-11-30T00:00:00Z","timelineItems":{"nodes":[]}}'
    """
    return _UPDATED_AT.sub(f'"updatedAt":"{changed_at}"', rendered, count=1)


def changed_numbers(size: int, fraction: float) -> list[int]:
    """Which PR numbers of a ``size``-PR repository a day with ``fraction`` changed edits:
    evenly spread, so every part of the table (and of DuckDB's row groups) is touched.

    >>> changed_numbers(1000, 0.01)[:3], len(changed_numbers(1000, 0.01))
    ([1, 101, 201], 10)
    """
    step = max(1, round(1 / fraction))
    return list(range(1, size + 1, step))


def write_changed_pages(root: Path, total: int, per_repo: int, page_size: int,
                        templates: Templates, fraction: float,
                        run_key: str = "synthetic-changed",
                        changed_at: str = CHANGED_AT) -> SyntheticPages:
    """A daily sync after :func:`write_pages`: ``fraction`` of the same PRs, edited at
    ``changed_at`` (:func:`changed_node`), as pages of another run under the same ``root``,
    with their events (:func:`changed_events`): the extract re-fetches the events of every
    PR changed in its window.
    """
    return _write_sync(root, total, per_repo, page_size, templates, _Sync(
        run_key=run_key, numbers=lambda size: changed_numbers(size, fraction),
        edit_pr=lambda node: changed_node(node, changed_at),
        edit_events=lambda node: changed_events(node, changed_at),
        cursor_tag="Y2hhbmdlZDp2", points_per_page=1, day="2026-11-30"))
