"""Timelines, comments, commits and review threads, served as GitHub serves them: the
itemTypes filter, first/last/after paging, and the cost of batched ``nodes(ids:)``."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from github_emulator import DEMO_CASES, World, query_cost
from github_emulator.schema import load_schema
from pr_warehouse.queries import load_query
from pr_warehouse.queries.builders import EVENTS_BATCH, events_variables

from .conftest import Gql

TIMELINE = """query($id: ID!, $types: [PullRequestTimelineItemsItemType!], $first: Int,
                     $last: Int, $after: String) {
  node(id: $id) { ... on PullRequest {
    timelineItems(itemTypes: $types, first: $first, last: $last, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { __typename ... on ReviewRequestRemovedEvent { requestedReviewer { ... on User { login } } }
              ... on IssueComment { author { login } createdAt } }
    }
    commits(first: 1) { totalCount nodes { commit { oid authoredDate author { user { login } } } } }
    comments(last: 2) { totalCount nodes { author { login } } }
    reviewThreads { totalCount }
  } }
}"""


def ask(gql: Gql, variables: dict[str, Any]) -> dict[str, Any]:
    body = gql(TIMELINE, variables).json()
    assert "errors" not in body, body
    return body["data"]["node"]


def demo_pr(world: World, case: str) -> Any:
    return world.repo("acme/api").pull_request(DEMO_CASES[case])


def test_item_types_filter_and_order(gql: Gql, world: World) -> None:
    pr = demo_pr(world, "review_request_removed")
    every = ask(gql, {"id": pr.id, "first": 100})["timelineItems"]
    removed = ask(gql, {"id": pr.id, "first": 100, "types": ["REVIEW_REQUEST_REMOVED_EVENT"]})
    assert removed["timelineItems"]["totalCount"] == 1
    assert removed["timelineItems"]["nodes"][0]["requestedReviewer"]["login"] == "dave"
    # Unfiltered, the submitted review shows too (PULL_REQUEST_REVIEW), oldest first.
    assert [n["__typename"] for n in every["nodes"]] == [
        "ReviewRequestedEvent", "ReviewRequestRemovedEvent", "ReviewRequestedEvent",
        "PullRequestReview"]


def test_first_after_and_last_page_a_long_conversation(gql: Gql, world: World) -> None:
    pr = demo_pr(world, "long_conversation")
    first = ask(gql, {"id": pr.id, "first": 100, "types": ["ISSUE_COMMENT"]})
    page = first["timelineItems"]
    assert page["totalCount"] == 130 and len(page["nodes"]) == 100
    assert page["pageInfo"]["hasNextPage"]
    rest = ask(gql, {"id": pr.id, "first": 100, "types": ["ISSUE_COMMENT"],
                     "after": page["pageInfo"]["endCursor"]})["timelineItems"]
    assert len(rest["nodes"]) == 30 and not rest["pageInfo"]["hasNextPage"]
    times = [n["createdAt"] for n in page["nodes"] + rest["nodes"]]
    assert times == sorted(times) and len(set(times)) == 130
    last = ask(gql, {"id": pr.id, "last": 2, "types": ["ISSUE_COMMENT"]})["timelineItems"]
    assert [n["createdAt"] for n in last["nodes"]] == times[-2:]
    assert first["comments"]["totalCount"] == 130


def test_first_commit_counts_and_deleted_commenters(gql: Gql, world: World) -> None:
    pr = demo_pr(world, "deleted_commenter")
    node = ask(gql, {"id": pr.id, "first": 10, "types": ["ISSUE_COMMENT"]})
    assert node["commits"]["totalCount"] == len(pr.commits) == 1
    commit = node["commits"]["nodes"][0]["commit"]
    assert commit["author"]["user"]["login"] == "alice"
    assert commit["oid"] == pr.commits[0].oid
    assert node["timelineItems"]["nodes"][0]["author"] is None  # a deleted account
    assert node["reviewThreads"]["totalCount"] == pr.review_thread_count


def test_the_demo_world_has_every_case_cycle_time_metrics_trip_over(world: World) -> None:
    prs = [pr for repo in world.repositories() for pr in repo.pull_requests]
    kinds = {e.kind for pr in prs for e in pr.timeline}
    assert kinds == {"ReadyForReviewEvent", "ConvertToDraftEvent", "ReviewRequestedEvent",
                     "ReviewRequestRemovedEvent", "ClosedEvent", "ReopenedEvent", "MergedEvent"}
    bounced = [pr for pr in prs
               if sum(e.kind == "ConvertToDraftEvent" for e in pr.timeline) >= 1
               and sum(e.kind == "ReadyForReviewEvent" for e in pr.timeline) >= 2]
    assert bounced
    commenters = [c.author for pr in prs for c in pr.comments]
    assert any(a is not None and a.kind.value == "Bot" for a in commenters)
    assert any(a is not None and a.login.endswith("[bot]") for a in commenters)
    assert None in commenters  # deleted accounts
    assert any(pr.comments and pr.comments[0].author is pr.author is not None for pr in prs)
    assert any(pr.merged_at and not [r for r in pr.reviews if r.author is not pr.author
                                     and r.author is not None and r.author.kind.value != "Bot"]
               for pr in prs)  # merged without a human review
    assert any(not pr.commits for pr in prs)


def test_world_mutators_record_their_events(world: World) -> None:
    pr = world.add_pull_request("acme/docs", author="alice", draft=True)
    world.advance(hours=1)
    world.set_draft("acme/docs", pr.number, False)
    request = world.request_review("acme/docs", pr.number, "bob")
    world.remove_review_request("acme/docs", pr.number, request)
    world.add_comment("acme/docs", pr.number, author="carol")
    world.merge("acme/docs", pr.number, by="bob")
    assert [e.kind for e in pr.timeline] == [
        "ReadyForReviewEvent", "ReviewRequestedEvent", "ReviewRequestRemovedEvent",
        "MergedEvent", "ClosedEvent"]
    assert len(pr.comments) == 1 and pr.commits[0].authored_at == pr.created_at


def test_nodes_ids_cost_counts_each_node_and_refuses_over_100(gql: Gql) -> None:
    document = parse(load_query("pull_request_events"))
    for n in (1, 10, EVENTS_BATCH):
        cost = query_cost(load_schema(), document, events_variables([f"x{i}" for i in range(n)]))
        assert cost.requests == 3 * n  # timelineItems, commits, reviewThreads per PR
    body = gql(load_query("pull_request_events"),
               {"ids": ["x"] * 101, "itemTypes": ["ISSUE_COMMENT"]}).json()
    assert body["errors"][0]["type"] == "ARGUMENT_LIMIT"


@pytest.mark.parametrize("page", [1, 3])
def test_events_query_answers_a_batch(gql: Gql, world: World, page: int) -> None:
    prs = world.repo("acme/web").pull_requests[:page]
    body = gql(load_query("pull_request_events"), events_variables([pr.id for pr in prs])).json()
    assert "errors" not in body
    nodes = body["data"]["nodes"]
    assert [n["number"] for n in nodes] == [pr.number for pr in prs]
    assert body["data"]["rateLimit"]["cost"] == 1
    for node, pr in zip(nodes, prs, strict=True):
        assert node["timelineItems"]["totalCount"] == len(pr.timeline) + len(pr.comments)
