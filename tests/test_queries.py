"""Every query the project sends validates against GitHub's published schema and limits."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from github_emulator.cost import MAX_NODES, query_cost
from github_emulator.schema import load_schema
from pr_warehouse.queries import load_query, query_names
from pr_warehouse.queries.builders import (
    FOLLOWUP_BATCH,
    NESTED_CONNECTIONS,
    PROBE_BATCH,
    nested_connection_query,
    newest_update_query,
)

SAMPLES = {
    "repository_pull_requests": {"owner": "o", "name": "n", "pageSize": 100, "after": None},
    "owner_repositories": {"login": "o", "after": None},
    "pull_request_by_number": {"owner": "o", "name": "n", "number": 1},
}


def documents() -> list[tuple[str, str, dict]]:
    """Every operation file, plus the builders at their largest batch."""
    docs = [(name, load_query(name), SAMPLES[name]) for name in query_names()]
    connections = list(NESTED_CONNECTIONS)
    items = [(f"PR_{i}", connections[i % len(connections)], f"c{i}") for i in range(FOLLOWUP_BATCH)]
    docs.append(("nested_connection_query", *nested_connection_query(items)))
    docs.append(("newest_update_query",
                 *newest_update_query([f"o/r{i}" for i in range(PROBE_BATCH)])))
    return docs


def test_every_operation_file_has_sample_variables() -> None:
    assert set(query_names()) == set(SAMPLES)


@pytest.mark.parametrize("name,text,variables", documents(), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_query_validates_and_fits_githubs_limits(name: str, text: str, variables: dict) -> None:
    document = parse(text)
    assert validate(load_schema(), document) == [], name
    cost = query_cost(load_schema(), document, variables)
    assert cost.nodes <= MAX_NODES
    assert 1 <= cost.points <= 10, (name, cost)  # every query is cheap by GitHub's formula
    assert "rateLimit" in text and ("pageInfo" in text or name in {"newest_update_query",
                                                                   "pull_request_by_number"})


def test_default_page_size_is_the_largest_one_point_page() -> None:
    """The DAG's default page is the cheapest per PR by GitHub's cost formula."""
    from pr_warehouse.constants import DEFAULT_PAGE_SIZE

    document = parse(load_query("repository_pull_requests"))
    points = {n: query_cost(load_schema(), document, {**SAMPLES["repository_pull_requests"],
                                                      "pageSize": n}).points
              for n in range(1, 101)}
    assert max(n for n, p in points.items() if p == 1) == DEFAULT_PAGE_SIZE
    best = min(points, key=lambda n: (points[n] / n, -n))
    assert best == DEFAULT_PAGE_SIZE
