"""A 100-PR page of the product's full query, served over real HTTP, page after page.

How fast is printed, not asserted (speed belongs to ``make bench``)."""

from __future__ import annotations

import logging
import statistics
import time

from github_emulator import EmulatorServer, World
from pr_warehouse.queries import load_query

from .conftest import make_gql

log = logging.getLogger(__name__)


def test_100_pr_pages_of_the_full_query_are_served_in_order(world: World) -> None:
    with EmulatorServer(world) as server:
        gql = make_gql(server)
        query = load_query("repository_pull_requests")
        variables = {"owner": "acme", "name": "api", "pageSize": 100}
        assert gql(query, variables).status_code == 200  # warm: parse/validate cache, sort cache
        timings, seen = [], []
        after = None
        for _ in range(3):  # acme/api holds 300 PRs: three full pages
            started = time.perf_counter()
            body = gql(query, {**variables, "after": after}).json()
            timings.append(time.perf_counter() - started)
            connection = body["data"]["repository"]["pullRequests"]
            seen += [node["id"] for node in connection["nodes"]]
            after = connection["pageInfo"]["endCursor"]
        assert connection["pageInfo"]["hasNextPage"] is False
        assert len(seen) == len(set(seen)) == connection["totalCount"]
        log.warning("100-PR page: median %.1f ms, max %.1f ms",
                    statistics.median(timings) * 1000, max(timings) * 1000)
