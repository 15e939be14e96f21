"""GitHub's cost formula (pure) and what the server reports for it."""

from __future__ import annotations

import pytest
from graphql import parse

from github_emulator import EmulatorServer, points_for, query_cost
from github_emulator.schema import load_schema
from pr_warehouse.queries import load_query

from .conftest import Gql

DOCS_EXAMPLE = """query {
  viewer {
    login
    repositories(first: 100) {
      edges { node { id
        issues(first: 50) {
          edges { node { id
            labels(first: 60) { edges { node { id name } } }
          } }
        }
      } }
    }
  }
}"""


def cost_of(query: str, variables: dict | None = None, operation: str | None = None):
    return query_cost(load_schema(), parse(query), variables, operation)


def test_docs_example_is_51_points() -> None:
    cost = cost_of(DOCS_EXAMPLE)
    assert (cost.requests, cost.points, cost.nodes) == (5101, 51, 305_100)


@pytest.mark.parametrize(("page_size", "requests", "points", "nodes"), [
    (100, 501, 5, 17_600),  # 1 + 5 nested connections x 100 parents; 100 + 100 x (50+25+25+50+25)
    (50, 251, 3, 8_800),
    (10, 51, 1, 1_760),
    (1, 6, 1, 176),
])
def test_product_pr_page_cost(page_size: int, requests: int, points: int, nodes: int) -> None:
    cost = cost_of(load_query("repository_pull_requests"), {"pageSize": page_size})
    assert (cost.requests, cost.points, cost.nodes) == (requests, points, nodes)


def test_owner_repositories_costs_one_point() -> None:
    cost = cost_of(load_query("owner_repositories"))
    assert (cost.requests, cost.points, cost.nodes) == (1, 1, 100)


def test_batched_aliases_fragments_and_directives() -> None:
    batch = "{" + " ".join(
        f'r{i}: repository(owner: "a", name: "n{i}") {{ pullRequests(first: 1) {{ nodes {{ updatedAt }} }} }}'
        for i in range(30)
    ) + "}"
    assert (cost_of(batch).requests, cost_of(batch).points) == (30, 1)
    query = """query($skip: Boolean!, $n: Int = 40) { viewer {
        ...F
        following(first: 10) @skip(if: $skip) { nodes { login } }
    } }
    fragment F on User { repositories(first: $n) { nodes { issues(last: 10) { totalCount } } } }"""
    assert cost_of(query, {"skip": True}).requests == 1 + 40
    assert cost_of(query, {"skip": False}).requests == 1 + 40 + 1
    assert cost_of(query, {"skip": True, "n": 100}).nodes == 100 + 100 * 10
    # a connection without first/last (totalCount only) is one request and no nodes
    assert cost_of('{ viewer { followers { totalCount } } }').nodes == 0


def test_points_rounding_is_half_up_with_minimum_one() -> None:
    assert [points_for(n) for n in (0, 1, 49, 50, 149, 150, 250, 5101)] == [1, 1, 1, 1, 1, 2, 3, 51]


def test_rate_limit_object_and_headers_track_the_budget(gql: Gql, server: EmulatorServer) -> None:
    variables = {"owner": "acme", "name": "api", "pageSize": 100}
    first = gql(load_query("repository_pull_requests"), variables)
    second = gql(load_query("repository_pull_requests"), variables)
    rate = second.json()["data"]["rateLimit"]
    assert rate["cost"] == 5 and rate["limit"] == 5000 and rate["nodeCount"] == 17_600
    assert rate["used"] == 10 and rate["remaining"] == 4990
    assert rate["resetAt"].endswith("Z")
    for response, used in ((first, 5), (second, 10)):
        assert response.headers["x-ratelimit-used"] == str(used)
        assert response.headers["x-ratelimit-remaining"] == str(5000 - used)
        assert response.headers["x-ratelimit-limit"] == "5000"
        assert response.headers["x-ratelimit-resource"] == "graphql"
        assert int(response.headers["x-ratelimit-reset"]) > 0
    assert first.headers["X-GitHub-Request-Id"] != second.headers["X-GitHub-Request-Id"]
    assert server.ledger.total_points == 10 and server.ledger.requests == 2
    entry = server.ledger.last
    assert entry is not None
    assert (entry.operation_name, entry.variables, entry.cost, entry.node_count) == (
        "RepositoryPullRequests", variables, 5, 17_600)
