"""Section 2, CI checks: what fetching every PR's head-commit checks costs in points.

One repository of ``cost_repo_prs`` PRs is listed (the product's extract, events left
pending), then the checks of every PR are fetched as the DAG fetches them
(``fetch_batch_checks``): first pages and follow-ups of rollups past 100 contexts. The
figure held to the target is points per 1,000 PRs (<= 15 on top of the rest).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bench import emulation
from bench.config import BenchConfig
Row = tuple[str, str, str]  # a report line: (section, what, figure), as bench.report

log = logging.getLogger(__name__)

TARGET_CHECKS_POINTS_PER_1000_PRS = 15
CHECKS_OPERATION = "PullRequestChecks"


def checks_cost(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    """Points and queries the checks of every PR of one repository cost."""
    from pr_warehouse.contracts import Manifest
    from pr_warehouse.extract.checks import fetch_batch_checks
    from pr_warehouse.extract.pull_requests import ExtractRequest, extract_repository
    from pr_warehouse.storage import RawStore

    world = emulation.org_world([config.cost_repo_prs], config.seed, org="checks")
    repo = emulation.repo_names(world, org="checks")[0]
    store = RawStore(workdir.as_uri())
    server = emulation.emulator(world, unlimited=True)
    try:
        with emulation.client(server) as client:
            due: list[str] = []
            manifest: Manifest = extract_repository(
                client, store, ExtractRequest(repo=repo, run_key="checks",
                                              page_size=config.page_size),
                pending_events=due)
            first = len(server.ledger.entries)
            fetch_batch_checks(client, store, "checks", repo, [manifest], {repo: due})
            entries = [e for e in server.ledger.entries[first:]
                       if e.operation_name == CHECKS_OPERATION]
    finally:
        server.stop()
    points = sum(e.points for e in entries)
    prs = len(due)
    per_1000 = 1000 * points / prs if prs else 0.0
    log.info("checks: %d points in %d queries for %d PRs", points, len(entries), prs)
    return {"pull_requests": prs, "queries": len(entries), "points": points,
            "points_per_1000_prs": per_1000, "target": TARGET_CHECKS_POINTS_PER_1000_PRS,
            "within_target": per_1000 <= TARGET_CHECKS_POINTS_PER_1000_PRS}


def checks_rows(data: dict[str, Any] | None) -> list[Row]:
    """The report's line for the checks cost (none when the section did not run).

    >>> checks_rows({"pull_requests": 500, "queries": 5, "points": 4,
    ...              "points_per_1000_prs": 8.0, "target": 15, "within_target": True})[0][2]
    '8.0 (4 points, 5 queries, 500 PRs)'
    """
    if not data:
        return []
    return [("2. API cost (points)",
             f"CI checks per 1,000 PRs (target <= {data['target']})",
             f"{data['points_per_1000_prs']:.1f} ({data['points']} points, {data['queries']} "
             f"queries, {data['pull_requests']} PRs)"
             + ("" if data["within_target"] else " OVER TARGET"))]
