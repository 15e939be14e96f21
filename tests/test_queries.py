"""Every query the project sends validates against GitHub's published schema and limits."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse, validate

from github_emulator.cost import MAX_NODES, points_for, query_cost
from github_emulator.schema import load_schema
from pr_warehouse.queries import load_query, query_names
from pr_warehouse.queries.builders import (
    CHECKS_BATCH,
    EVENTS_BATCH,
    FOLLOWUP_BATCH,
    NESTED_CONNECTIONS,
    PROBE_BATCH,
    REVIEW_COMMENTS_BATCH,
    TEAM_MEMBERS_BATCH,
    TIMELINE_ITEM_TYPES,
    checks_query,
    events_variables,
    nested_connection_query,
    newest_update_query,
    review_comments_variables,
    team_members_query,
)

SAMPLES = {
    "repository_pull_requests": {"owner": "o", "name": "n", "pageSize": 100, "after": None},
    "owner_repositories": {"login": "o", "after": None},
    "pull_request_by_number": {"owner": "o", "name": "n", "number": 1},
    "pull_request_events": events_variables([f"PR_{i}" for i in range(EVENTS_BATCH)]),
    "organization_teams": {"login": "o", "after": None},
    "pull_request_review_comments": review_comments_variables(
        [f"PRR_{i}" for i in range(REVIEW_COMMENTS_BATCH)]),
    "repository_deployments": {"owner": "o", "name": "n", "since": "2026-01-01T00:00:00Z",
                               "withDeployments": True, "withReleases": True,
                               "withHistory": True},
    "deployment_statuses": {"id": "D_1", "after": None},
}


def documents() -> list[tuple[str, str, dict]]:
    """Every operation file, plus the builders at their largest batch."""
    docs = [(name, load_query(name), SAMPLES[name]) for name in query_names()]
    connections = list(NESTED_CONNECTIONS)
    items = [(f"PR_{i}", connections[i % len(connections)], f"c{i}") for i in range(FOLLOWUP_BATCH)]
    docs.append(("nested_connection_query", *nested_connection_query(items)))
    docs.append(("newest_update_query",
                 *newest_update_query([f"o/r{i}" for i in range(PROBE_BATCH)])))
    docs.append(("checks_query",
                 *checks_query([(f"PR_{i}", f"c{i}" if i % 2 else None)
                                for i in range(CHECKS_BATCH)])))
    docs.append(("team_members_query",
                 *team_members_query([(f"T_{i}", f"c{i}") for i in range(TEAM_MEMBERS_BATCH)])))
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


def test_teams_cost_one_point_per_organization_of_up_to_100_teams() -> None:
    """The teams query, by GitHub's formula: teams(first: 100) is 1 request, each of its
    100 teams' members(first: 100) one more: 101 requests, 1 point (an org of up to 100
    teams of up to 100 immediate members each). A team with more members costs a follow-up
    alias (TEAM_MEMBERS_BATCH of them per point); more than 100 teams, a second page. So a
    usual org costs 1 point per run, and 2 covers 200 teams or a page of long lists."""
    document = parse(load_query("organization_teams"))
    cost = query_cost(load_schema(), document, SAMPLES["organization_teams"])
    assert (cost.requests, cost.points) == (101, 1)
    assert cost.nodes == 100 + 100 * 100
    text, variables = team_members_query([(f"T_{i}", "c") for i in range(TEAM_MEMBERS_BATCH)])
    followup = query_cost(load_schema(), parse(text), variables)
    assert (followup.requests, followup.points) == (TEAM_MEMBERS_BATCH, 1)
    # Every member's login, role and the parent team, immediate members only.
    text = load_query("organization_teams")
    assert "membership: IMMEDIATE" in text and "role" in text and "parentTeam" in text
    with pytest.raises(ValueError):
        team_members_query([(f"T_{i}", None) for i in range(TEAM_MEMBERS_BATCH + 1)])


def _points(name: str, variables: dict) -> int:
    return query_cost(load_schema(), parse(load_query(name)), variables).points


def test_events_batch_is_the_largest_one_point_batch() -> None:
    """EVENTS_BATCH PRs of events cost 1 point by GitHub's formula; one more costs 2."""
    ids = [f"PR_{i}" for i in range(EVENTS_BATCH + 1)]
    assert _points("pull_request_events", {"ids": ids[:-1]}) == 1
    assert _points("pull_request_events", {"ids": ids}) == 2


def test_the_query_split_keeps_all_pr_data_under_60_points_per_1000_prs() -> None:
    """The decision in builders.EVENTS_BATCH, recomputed from the formula: a separate
    events query beats riding in the page query, and both stay near 55 points per 1,000
    PRs, where a `comments` connection of its own would cost over 60."""
    from pr_warehouse.constants import DEFAULT_PAGE_SIZE

    listing = 1000 * _points("repository_pull_requests", {**SAMPLES["repository_pull_requests"],
                                                          "pageSize": DEFAULT_PAGE_SIZE}) / DEFAULT_PAGE_SIZE
    separate = listing + 1000 * 1 / EVENTS_BATCH
    assert round(listing, 1) == 34.5 and round(separate, 1) == 54.9
    assert separate <= 60
    # Riding along: 5 + 3 nested connections per PR in one page; the cheapest page size.
    combined = 1 + 8 * 18
    assert (combined + 50) // 100 == 1 and (1 + 8 * 19 + 50) // 100 == 2
    assert 1000 / 18 > separate
    # With comments as a 4th connection of the events query, 37 PRs fit in a point: > 60.
    assert listing + 1000 / (149 // 4) > 60


def test_events_query_filters_the_timeline_to_the_metric_events() -> None:
    assert set(TIMELINE_ITEM_TYPES) == {
        "READY_FOR_REVIEW_EVENT", "CONVERT_TO_DRAFT_EVENT", "REVIEW_REQUESTED_EVENT",
        "REVIEW_REQUEST_REMOVED_EVENT", "CLOSED_EVENT", "REOPENED_EVENT", "MERGED_EVENT",
        "ISSUE_COMMENT",
        # the label, assignee and milestone histories
        "LABELED_EVENT", "UNLABELED_EVENT", "ASSIGNED_EVENT", "UNASSIGNED_EVENT",
        "MILESTONED_EVENT", "DEMILESTONED_EVENT",
        # rework: commits and force pushes
        "PULL_REQUEST_COMMIT", "HEAD_REF_FORCE_PUSHED_EVENT"}
    schema_values = set(load_schema().type_map["PullRequestTimelineItemsItemType"].values)
    assert set(TIMELINE_ITEM_TYPES) <= schema_values
    assert "timelineItems" in NESTED_CONNECTIONS  # long timelines get follow-up pages
    with pytest.raises(ValueError):
        events_variables([f"PR_{i}" for i in range(EVENTS_BATCH + 1)])


def test_review_comments_cost_one_point_per_100_reviews() -> None:
    """By GitHub's formula each review's comments(first: 100) is one request: a full batch
    of 100 reviews is 100 requests, 1 point, and nodes(ids:) takes no more than 100 ids.
    The alternative, comments under the listing's reviews(first: 50), is 50 requests per PR:
    a page of the default 29 PRs would cost 16 points instead of 1, for every PR listed."""
    from pr_warehouse.constants import DEFAULT_PAGE_SIZE

    text = load_query("pull_request_review_comments")
    variables = review_comments_variables([f"PRR_{i}" for i in range(REVIEW_COMMENTS_BATCH)])
    cost = query_cost(load_schema(), parse(text), variables)
    assert (cost.requests, cost.points) == (100, 1)
    assert cost.nodes == 100 * 100
    with pytest.raises(ValueError):
        review_comments_variables([f"PRR_{i}" for i in range(REVIEW_COMMENTS_BATCH + 1)])
    # Riding in the listing: 1 + 5 connections per PR, plus 50 review comment lists each.
    riding = (1 + DEFAULT_PAGE_SIZE * (5 + 50) + 50) // 100
    assert riding == 16 and riding > _points(
        "repository_pull_requests", {**SAMPLES["repository_pull_requests"],
                                     "pageSize": DEFAULT_PAGE_SIZE})
    # A list longer than 100 is completed by the follow-up query, on the review node.
    assert "comments" in NESTED_CONNECTIONS
    followup, _ = nested_connection_query([("PRR_1", "comments", "c")])
    assert validate(load_schema(), parse(followup)) == []
    assert "... on PullRequestReview" in followup and "...ReviewCommentFields" in followup
def test_checks_batch_is_the_largest_one_point_batch_and_under_15_points_per_1000() -> None:
    """builders.CHECKS_BATCH by GitHub's formula: one alias per PR (isRequired takes the PR
    as an argument) holds one connection, statusCheckRollup.contexts(first: 100): 149
    aliases are 149 requests, 1 point; 150 are 2. 1,000 PRs: 7 queries, 7 points (the cap
    is 15). Through the head commit (commits(last: 1) first) each PR would cost 2 requests:
    74 PRs a point, 14 points per 1,000."""
    def cost(n: int) -> Any:
        text, variables = checks_query([(f"PR_{i}", None) for i in range(n)])
        return query_cost(load_schema(), parse(text), variables)

    assert (cost(CHECKS_BATCH).requests, cost(CHECKS_BATCH).points) == (149, 1)
    # one PR more would round to 2 points
    assert points_for(cost(CHECKS_BATCH).requests + 1) == 2
    per_1000 = -(-1000 // CHECKS_BATCH) * cost(CHECKS_BATCH).points
    assert per_1000 == 7 <= 15
    via_head_commit = 1000 / ((149 + 1) // 2 - 1)
    assert round(via_head_commit) == 14 and via_head_commit > per_1000
    with pytest.raises(ValueError):
        checks_query([(f"PR_{i}", None) for i in range(CHECKS_BATCH + 1)])
def test_a_daily_deployments_page_costs_one_point() -> None:
    """53 requests by GitHub's formula (deployments, 50 status lists, releases, history)."""
    variables = SAMPLES["repository_deployments"]
    cost = query_cost(load_schema(), parse(load_query("repository_deployments")), variables)
    assert (cost.requests, cost.points) == (53, 1)
    only_history = {**variables, "withDeployments": False, "withReleases": False}
    cost = query_cost(load_schema(), parse(load_query("repository_deployments")), only_history)
    assert (cost.requests, cost.points) == (1, 1)
