"""The bundled GitHub emulator as the benchmarks use it: worlds, latency, and the ledger.

The emulator charges each query by GitHub's published cost formula and (with a latency
model) answers after ``base + per_node x possible nodes`` seconds, so every contender pays
the same simulated GitHub. Its ledger records every request; :func:`repo_spans` turns the
extract's requests into per-repository timings.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from bench.config import ORG, TOKEN, Latency

if TYPE_CHECKING:
    from github_emulator import EmulatorServer, LedgerEntry, World

log = logging.getLogger(__name__)


@lru_cache(maxsize=None)
def page_query_cost(page_size: int) -> tuple[int, int]:
    """``(points, possible nodes)`` of one page of the extract's query, by GitHub's formula.

    >>> page_query_cost(50)
    (3, 8800)
    """
    from graphql import parse

    from github_emulator.cost import query_cost
    from github_emulator.schema import load_schema
    from pr_warehouse.queries import load_query

    variables = {"owner": ORG, "name": "x", "pageSize": page_size, "after": None}
    cost = query_cost(load_schema(), parse(load_query("repository_pull_requests")), variables)
    return cost.points, cost.nodes


def page_seconds(latency: Latency, page_size: int) -> float:
    """Wall seconds the emulator takes to answer one page of ``page_size`` PRs."""
    return latency.page_seconds(page_query_cost(page_size)[1])


def org_world(sizes: Sequence[int], seed: int, org: str = ORG) -> World:
    """A synthetic organisation: repositories ``repo-00000``.. with ``sizes`` PRs, built now
    (generation is lazy; materialising up front keeps it out of every timing)."""
    from github_emulator import WorldSpec, build_world

    world = build_world(seed, spec=WorldSpec(org=org, repo_sizes=tuple(sizes)))
    for repo in world.owners[org].repositories:
        repo.materialize()
    return world


def repo_names(world: World, org: str = ORG) -> list[str]:
    return [repo.name_with_owner for repo in world.owners[org].repositories]


def emulator(world: World, latency: Latency | None = None, *,
             unlimited: bool = False) -> EmulatorServer:
    """A started emulator for ``world`` (accepting :data:`bench.config.TOKEN`).

    ``latency``: the latency model (default: answer at once). ``unlimited``: budgets no
    client can exhaust, for the sections that measure points or memory, not rate limiting
    (a 100k-PR extract costs 6,000 points, over GitHub's 5,000 an hour, and with no latency
    it sends more than the 2,000 queries a minute of the secondary limit). Points are
    charged and recorded in the ledger all the same.
    """
    from github_emulator import EmulatorServer, LatencyModel, Limits

    model = LatencyModel()
    if latency is not None:
        model = LatencyModel(base_seconds=latency.base_seconds,
                             per_node_seconds=latency.per_node_seconds,
                             time_scale=latency.time_scale)
    limits = Limits(points_per_hour=10**9, points_per_minute=10**9) if unlimited else Limits()
    return EmulatorServer(world, tokens={TOKEN}, latency=model, limits=limits).start()


def client(server: EmulatorServer) -> Any:
    """A ``GraphQLClient`` on the emulator (the product's client, default settings)."""
    from pr_warehouse.client import GraphQLClient

    return GraphQLClient(server.url, TOKEN)


# The plan's probe, the org's repository listing and its teams: requests the run sends
# outside the mapped extracts (the extract phase's work is everything else).
OUTSIDE_EXTRACT = frozenset({"NewestPullRequestUpdates", "OwnerRepositories",
                             "OrganizationTeams", "TeamMemberPages"})


@dataclass
class RepoSpan:
    """One repository's extract requests as the emulator saw them (epoch seconds).

    A request serving several repositories (a batch's shared events or checks query) counts
    for each of them, split evenly: ``requests``, ``busy_seconds``, ``points`` and
    ``model_seconds`` (the latency model's time, on the bench's scaled clock) are shares.
    """

    repo: str
    requests: float
    first_request: float
    last_response: float
    busy_seconds: float
    points: float
    model_seconds: float = 0.0


def merged_span(name: str, spans: Iterable[RepoSpan]) -> RepoSpan | None:
    """The spans of the repositories one mapped task extracted, as one (None: no request).

    >>> a, b = RepoSpan("o/a", 2, 10.0, 12.0, 1.5, 2), RepoSpan("o/b", 1, 12.5, 13.0, 0.5, 1)
    >>> merged_span("o/a (+1 more)", [a, b])  # doctest: +NORMALIZE_WHITESPACE
    RepoSpan(repo='o/a (+1 more)', requests=3, first_request=10.0, last_response=13.0,
             busy_seconds=2.0, points=3, model_seconds=0.0)
    """
    found = list(spans)
    if not found:
        return None
    return RepoSpan(repo=name, requests=sum(s.requests for s in found),
                    first_request=min(s.first_request for s in found),
                    last_response=max(s.last_response for s in found),
                    busy_seconds=sum(s.busy_seconds for s in found),
                    points=sum(s.points for s in found),
                    model_seconds=sum(s.model_seconds for s in found))


def request_started(entry: LedgerEntry) -> float:
    """When the emulator received the request (the ledger stamps the answer time)."""
    return entry.received_at - entry.duration_seconds


def repo_names_by_id(world: World, org: str = ORG) -> dict[int, str]:
    """Repository database id -> name: a node id of the emulator starts with its repository's."""
    return {repo.database_id: repo.name_with_owner for repo in world.owners[org].repositories}


def request_repos(variables: dict[str, Any] | None, names: dict[int, str]) -> list[str]:
    """The repositories one request works for: its ``owner``/``name``, else the
    repositories of the node ids it asks for (events, checks, review comments, statuses).

    >>> from github_emulator.ids import node_id
    >>> names = {7: "o/a", 9: "o/b"}
    >>> request_repos({"owner": "o", "name": "a", "after": None}, names)
    ['o/a']
    >>> request_repos({"ids": [node_id("PullRequest", 9, 1), node_id("PullRequest", 7, 2)]}, names)
    ['o/b', 'o/a']
    >>> request_repos({"id0": node_id("PullRequest", 7, 1), "after0": None}, names)
    ['o/a']
    """
    from github_emulator.ids import decode_node_id

    variables = variables or {}
    if "owner" in variables and "name" in variables:
        return [f"{variables['owner']}/{variables['name']}"]
    found: dict[str, None] = {}
    for value in variables.values():
        for item in value if isinstance(value, list) else [value]:
            decoded = decode_node_id(item) if isinstance(item, str) else None
            if decoded and decoded[1] and decoded[1][0] in names:
                found[names[decoded[1][0]]] = None
    return list(found)


def repo_spans(entries: Iterable[LedgerEntry], names: dict[int, str],
               latency: Latency | None = None) -> dict[str, RepoSpan]:
    """Per-repository spans of every request the extracts sent (shared ones split)."""
    spans: dict[str, RepoSpan] = {}
    for entry in entries:
        if entry.operation_name in OUTSIDE_EXTRACT:
            continue
        repos = request_repos(entry.variables, names)
        model = latency.page_seconds(entry.node_count or 0) if latency is not None else 0.0
        for repo in repos:
            share = 1 / len(repos)
            span = spans.setdefault(repo, RepoSpan(repo, 0, request_started(entry),
                                                   entry.received_at, 0.0, 0))
            span.requests += share
            span.first_request = min(span.first_request, request_started(entry))
            span.last_response = max(span.last_response, entry.received_at)
            span.busy_seconds += entry.duration_seconds * share
            span.points += entry.points * share
            span.model_seconds += model * share
    return spans


def emulator_work(entries: Iterable[LedgerEntry], latency: Latency) -> dict[str, float]:
    """How the emulator's own work (parsing, executing, encoding) compared with the latency
    model over the extract's answered requests. The model's time includes that work, so
    only ``late_seconds`` (answers later than modeled: the emulator competing for the
    machine's cores) reach the client as a slower GitHub.

    >>> from github_emulator import LedgerEntry
    >>> quick = LedgerEntry("A", 200, node_count=100, duration_seconds=0.5, work_seconds=0.1)
    >>> late = LedgerEntry("B", 200, node_count=100, duration_seconds=0.9, work_seconds=0.9)
    >>> emulator_work([quick, late], Latency(base_seconds=0.5, per_node_seconds=0, time_scale=1))
    {'requests': 2, 'work_seconds': 1.0, 'late_requests': 1, 'late_seconds': 0.4}
    """
    answered = [e for e in entries if e.work_seconds is not None
                and e.operation_name not in OUTSIDE_EXTRACT]
    late = [e.duration_seconds - latency.page_seconds(e.node_count or 0) for e in answered]
    return {"requests": len(answered),
            "work_seconds": round(sum(e.work_seconds or 0.0 for e in answered), 6),
            "late_requests": sum(1 for x in late if x > 0),
            "late_seconds": round(sum(x for x in late if x > 0), 6)}


def error_summary(entries: Iterable[LedgerEntry]) -> dict[str, int]:
    """Counts of non-200 answers and GraphQL error types (should be empty in a clean run)."""
    counts: dict[str, int] = defaultdict(int)
    for entry in entries:
        if entry.status != 200 or entry.error_type:
            counts[entry.error_type or f"http_{entry.status}"] += 1
    return dict(counts)
