"""API cost of deployments, releases and default-branch history, per repository.

A first sync of the benchmark org's deployments (every page), then the next day with a
deployment in every other repository: the daily read is what the issue budgets (at most
2 points per repository; the query's arithmetic says 1).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bench import emulation
from bench.config import BenchConfig

log = logging.getLogger(__name__)


def deploy_costs(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    """Points per repository: first sync and a daily run."""
    from github_emulator.deploys import deploy, head_at
    from pr_warehouse.contracts import Manifest
    from pr_warehouse.extract.deployments import add_deployments
    from pr_warehouse.storage import RawStore

    world = emulation.org_world(config.org_repo_sizes, config.seed)
    repos = emulation.repo_names(world)
    store = RawStore(workdir.as_uri())
    server = emulation.emulator(world, unlimited=True)
    try:
        with emulation.client(server) as client:
            first = [add_deployments(client, store, Manifest(repo, run_key="day0"), None)
                     for repo in repos]
            synced_at = world.now
            world.advance(hours=24)
            for repo in repos[::2]:
                if head_at(world.repo(repo), world.now) is not None:
                    deploy(world, repo, "production")
            daily = [add_deployments(client, store, Manifest(repo, run_key="day1"), synced_at)
                     for repo in repos]
    finally:
        server.stop()
    first_points = sum(m.deploy_points for m in first)
    daily_points = [m.deploy_points for m in daily]
    result = {
        "repos": len(repos),
        "first_sync_points": first_points,
        "first_sync_points_per_repo": first_points / len(repos),
        "daily_points": sum(daily_points),
        "daily_points_per_repo": sum(daily_points) / len(repos),
        "daily_points_max_repo": max(daily_points),
    }
    log.info("deployments cost: first sync %.2f points per repository, daily %.2f (max %d)",
             result["first_sync_points_per_repo"], result["daily_points_per_repo"],
             result["daily_points_max_repo"])
    return result
