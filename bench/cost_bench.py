"""Section 2: GraphQL points, as the emulator charges them by GitHub's formula.

- Points per 1,000 PRs with every nested field, at page sizes 25/50/100 (one repository,
  the product's extract, no latency), split into the listing pages, the events queries
  (timeline, first commit, counts) and the follow-ups; everything together at the DAG's
  default page size is the figure held to the target (<= 80 points per 1,000 PRs, issue 19:
  everything collected, review-thread comments included).
- A daily run on the synthetic organisation after a full first sync: nothing changed, and
  1% of the PRs changed. Ours: watermarks from the warehouse + one batched probe + an
  incremental extract of the changed repositories only. The seed's: every repository paged
  from its watermark at 25 per page, no probe (its most favourable reading: with no
  watermark at all it would refetch the whole history, the full-sync row).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import emulation
from bench.checks_cost import checks_cost
from bench.config import BenchConfig
from bench.schedule import pages_needed
from pr_warehouse.contracts import Manifest

log = logging.getLogger(__name__)


# All PR data, events and review-thread comments included, must cost at most this many
# points per 1,000 PRs (issue 19's cap; 60 before review-thread comments were collected).
TARGET_POINTS_PER_1000_PRS = 80
# Follow-ups of every kind (PR lists, timelines, long comment lists) are one operation.
OPERATIONS = {"RepositoryPullRequests": "listing", "PullRequestEvents": "events",
              "PullRequestReviewComments": "review_comments",
              "NestedConnectionPages": "followups"}


def run(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    from bench import deploys_cost

    pages = page_size_costs(config, workdir / "cost-pages")
    return {
        "page_sizes": pages,
        "cheapest": cheapest_page_size(),
        "all_data": all_data_cost(pages, config.page_size),
        "daily": daily_costs(config, workdir / "cost-daily"),
        "checks": checks_cost(config, workdir / "cost-checks"),
        "deployments": deploys_cost.deploy_costs(config, workdir / "cost-deploys"),
    }


def all_data_cost(rows: list[dict[str, Any]], page_size: int) -> dict[str, Any] | None:
    """Everything collected per 1,000 PRs at ``page_size``, against the target.

    >>> all_data_cost([{"page_size": 29, "points_per_1000_prs": 55.0, "by_operation":
    ...                 {"listing": 35.0, "events": 20.0, "followups": 0.0}}], 29)["within_target"]
    True
    """
    row = next((r for r in rows if r["page_size"] == page_size), None)
    if row is None:
        return None
    return {"page_size": page_size, "points_per_1000_prs": row["points_per_1000_prs"],
            "by_operation": row["by_operation"], "target": TARGET_POINTS_PER_1000_PRS,
            "within_target": row["points_per_1000_prs"] <= TARGET_POINTS_PER_1000_PRS}


def points_by_operation(entries: list[Any]) -> dict[str, int]:
    """Points the ledger ``entries`` spent, per kind of query the extract sends."""
    spent = {kind: 0 for kind in OPERATIONS.values()}
    for entry in entries:
        kind = OPERATIONS.get(entry.operation_name or "")
        if kind:
            spent[kind] += entry.points
    return spent


def cheapest_page_size(largest: int = 100) -> dict[str, Any]:
    """The page size with the fewest points per PR by GitHub's formula (the largest on a tie).

    Each page costs ``round((1 + 5 x size) / 100)`` points (one pull-request connection plus
    five nested ones per PR), so the price per PR jumps at every rounding step.

    >>> cheapest_page_size()
    {'page_size': 29, 'points_per_page': 1, 'points_per_1000_prs': 34.48...}
    """
    def per_pr(size: int) -> float:
        return emulation.page_query_cost(size)[0] / size

    best = min(range(1, largest + 1), key=lambda size: (per_pr(size), -size))
    return {"page_size": best, "points_per_page": emulation.page_query_cost(best)[0],
            "points_per_1000_prs": 1000 * per_pr(best)}


def _extract_all(client: Any, store: Any, repos: dict[str, datetime | None], run_key: str,
                 page_size: int) -> list[Manifest]:
    from pr_warehouse.client import AdaptivePageSize
    from pr_warehouse.extract.pull_requests import ExtractRequest, extract_repository

    return [
        extract_repository(client, store, ExtractRequest(
            repo=repo, run_key=run_key, page_size=page_size, since=since, use_cache=False),
            AdaptivePageSize(page_size, floor=page_size))
        for repo, since in repos.items()
    ]


def _metered(server: Any, action: Callable[[], Any]) -> tuple[Any, int, int]:
    """Run ``action``; return its value and the points and requests it cost."""
    points, requests = server.ledger.total_points, server.ledger.requests
    value = action()
    return value, server.ledger.total_points - points, server.ledger.requests - requests


def page_size_costs(config: BenchConfig, workdir: Path) -> list[dict[str, Any]]:
    """Points and simulated GitHub time per 1,000 PRs at each page size."""
    from pr_warehouse.storage import RawStore

    world = emulation.org_world([config.cost_repo_prs], config.seed, org="cost")
    repo = emulation.repo_names(world, org="cost")[0]
    store = RawStore(workdir.as_uri())
    server = emulation.emulator(world, unlimited=True)
    rows = []
    try:
        with emulation.client(server) as client:
            for size in config.cost_page_sizes:
                first_entry = len(server.ledger.entries)
                manifests, points, requests = _metered(server, lambda s=size: _extract_all(
                    client, store, {repo: None}, f"pages-{s}", s))
                prs = manifests[0].pull_requests
                spent = points_by_operation(server.ledger.entries[first_entry:])
                per_page, nodes = emulation.page_query_cost(size)
                pages = pages_needed(prs, size)
                simulated = pages * (config.latency.base_seconds
                                     + config.latency.per_node_seconds * nodes)
                rows.append({
                    "page_size": size,
                    "pull_requests": prs,
                    "requests": requests,
                    "followup_requests": len(manifests[0].followup_pages),
                    "points": points,
                    "points_per_1000_prs": 1000 * points / prs,
                    "by_operation": {k: 1000 * v / prs for k, v in spent.items()},
                    "event_requests": len(manifests[0].event_pages),
                    "formula_points_per_page": per_page,
                    "possible_nodes_per_page": nodes,
                    "github_seconds_per_1000_prs": 1000 * simulated / prs,
                })
                log.info("page size %d: %d points for %d PRs", size, points, prs)
    finally:
        server.stop()
    return rows


def touch_fraction(world: Any, repos: list[str], fraction: float, seed: int) -> int:
    """Update ``fraction`` of all PRs (uniformly over the org) now; how many were touched."""
    every = [(repo, pr.number) for repo in repos for pr in world.repo(repo).pull_requests]
    chosen = random.Random(seed).sample(every, max(1, round(fraction * len(every))))
    for repo, number in chosen:
        world.touch(repo, number)
    return len(chosen)


def daily_costs(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    """A full first sync, then the next day: unchanged, and with a fraction changed."""
    from pr_warehouse.load.duckdb_loader import load_manifests
    from pr_warehouse.storage import RawStore

    world = emulation.org_world(config.org_repo_sizes, config.seed)
    repos = emulation.repo_names(world)
    total_prs = sum(config.org_repo_sizes)
    store = RawStore(workdir.as_uri())
    warehouse = workdir / "warehouse.duckdb"
    server = emulation.emulator(world, unlimited=True)
    try:
        with emulation.client(server) as client:
            full = {repo: None for repo in repos}
            manifests, full_points, full_requests = _metered(server, lambda: _extract_all(
                client, store, full, "day0", config.page_size))
            load_manifests(warehouse, store, manifests, run_id="day0")
            seed_full, seed_full_points, _ = _metered(server, lambda: _extract_all(
                client, store, full, "day0-seed", config.baseline_page_size))
            world.advance(hours=24)
            unchanged = _next_day(config, server, client, store, warehouse, repos, "unchanged")
            touched = touch_fraction(world, repos, config.daily_changed_fraction, config.seed)
            changed = _next_day(config, server, client, store, warehouse, repos, "changed")
            teams = teams_costs(world, server, client, store)
    finally:
        server.stop()
    return {
        "emulator_errors": emulation.error_summary(server.ledger.entries),
        "repos": len(repos),
        "pull_requests": total_prs,
        "full_sync": {"points": full_points, "requests": full_requests,
                      "points_per_1000_prs": 1000 * full_points / total_prs,
                      "page_size": config.page_size},
        "full_sync_seed": {"points": seed_full_points,
                           "points_per_1000_prs": 1000 * seed_full_points / total_prs,
                           "page_size": config.baseline_page_size},
        "unchanged": unchanged,
        "changed": {**changed, "fraction": config.daily_changed_fraction,
                    "pull_requests_touched": touched},
        "teams": teams,
    }


# Teams cost per organization per run: at most this many points.
TARGET_TEAM_POINTS_PER_ORG = 2
# A second, larger organization for the teams figure: 150 teams (two pages of 100) of 30
# members each (one member page each), nested two deep.
LARGE_ORG_TEAMS, LARGE_ORG_MEMBERS = 150, 30


def add_large_team_org(world: Any, login: str = "bigteams") -> str:
    """An organization with LARGE_ORG_TEAMS teams, each of LARGE_ORG_MEMBERS people."""
    owner = world.add_owner(login)
    people = [world.add_actor(f"{login}-person-{i:04d}").login
              for i in range(LARGE_ORG_TEAMS * LARGE_ORG_MEMBERS // 3)]
    for t in range(LARGE_ORG_TEAMS):
        world.add_team(owner, f"team-{t:03d}", parent=f"team-{t // 10:03d}" if t >= 10 else None)
        for m in range(LARGE_ORG_MEMBERS):
            world.add_team_member(owner, f"team-{t:03d}", people[(t * 7 + m) % len(people)])
    return login


def teams_costs(world: Any, server: Any, client: Any, store: Any) -> dict[str, Any]:
    """Points the teams step charges per organization: the bench org and a large one."""
    from pr_warehouse.extract.teams import TeamsFile, extract_teams

    out: dict[str, Any] = {"target_points_per_org": TARGET_TEAM_POINTS_PER_ORG, "orgs": []}
    for login in (emulation.ORG, add_large_team_org(world)):
        manifest, points, requests = _metered(server, lambda o=login: extract_teams(
            client, store, f"teams-{o}", [o], TeamsFile(), use_cache=False))
        org = manifest.orgs[0]
        out["orgs"].append({"org": login, "teams": len(world.owners[login].teams),
                            "status": org.status.value, "points": points,
                            "requests": requests})
    out["within_target"] = all(o["points"] <= TARGET_TEAM_POINTS_PER_ORG for o in out["orgs"])
    return out


def _next_day(config: BenchConfig, server: Any, client: Any, store: Any, warehouse: Path,
              repos: list[str], label: str) -> dict[str, Any]:
    """Ours (probe + incremental extract of what changed) vs the seed's (every repo)."""
    from pr_warehouse.extract.plan import plan_sync, read_watermarks

    watermarks = read_watermarks(warehouse, repos)

    def ours() -> tuple[Any, list[Manifest]]:
        plan = plan_sync(client, repos, watermarks=watermarks)
        return plan, _extract_all(client, store, plan.extract, f"{label}-ours", config.page_size)

    def seed() -> list[Manifest]:
        return _extract_all(client, store, {r: watermarks.get(r) for r in repos},
                            f"{label}-seed", config.baseline_page_size)

    (plan, manifests), points, requests = _metered(server, ours)
    seed_manifests, seed_points, seed_requests = _metered(server, seed)
    log.info("daily %s: ours %d points (%d repos extracted), seed %d points", label, points,
             len(plan.extract), seed_points)
    return {
        "ours": {"points": points, "requests": requests, "probe_points": plan.probe_points,
                 "repos_extracted": len(plan.extract), "repos_skipped": len(plan.skipped),
                 "pull_requests_fetched": sum(m.pull_requests for m in manifests)},
        "seed": {"points": seed_points, "requests": seed_requests,
                 "pull_requests_fetched": sum(m.pull_requests for m in seed_manifests)},
    }
