"""Timelines, comments, commits and review threads, served as GitHub serves them: the
itemTypes filter, first/last/after paging, and the cost of batched ``nodes(ids:)``."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from github_emulator import DEMO_CASES, World, query_cost
from github_emulator.world import TIMELINE_EVENT_KINDS
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
    # Unfiltered, the commit (PULL_REQUEST_COMMIT, at its committed date) and the submitted
    # review (PULL_REQUEST_REVIEW) show too, oldest first.
    assert [n["__typename"] for n in every["nodes"]] == [
        "PullRequestCommit", "ReviewRequestedEvent", "ReviewRequestRemovedEvent",
        "ReviewRequestedEvent", "PullRequestReview"]


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
    assert kinds == set(TIMELINE_EVENT_KINDS)
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
        assert node["timelineItems"]["totalCount"] == (
            len(pr.timeline) + len(pr.comments) + len(pr.commits))


# --- label, assignee and milestone history ------------------------------------------------

HISTORY = """query($id: ID!, $types: [PullRequestTimelineItemsItemType!]) {
  node(id: $id) { ... on PullRequest {
    timelineItems(first: 100, itemTypes: $types) { totalCount nodes {
      __typename
      ... on LabeledEvent { createdAt actor { login } label { name } }
      ... on UnlabeledEvent { createdAt actor { login } label { name } }
      ... on AssignedEvent { createdAt assignee { __typename ... on User { login } } }
      ... on UnassignedEvent { createdAt assignee { __typename ... on User { login } } }
      ... on MilestonedEvent { createdAt milestoneTitle }
      ... on DemilestonedEvent { createdAt milestoneTitle }
    } }
  } }
}"""
HISTORY_TYPES = ["LABELED_EVENT", "UNLABELED_EVENT", "ASSIGNED_EVENT", "UNASSIGNED_EVENT",
                 "MILESTONED_EVENT", "DEMILESTONED_EVENT"]


def history(gql: Gql, pr: Any, types: list[str] = HISTORY_TYPES) -> list[tuple[Any, ...]]:
    body = gql(HISTORY, {"id": pr.id, "types": types}).json()
    assert "errors" not in body, body
    out = []
    for node in body["data"]["node"]["timelineItems"]["nodes"]:
        what = (node.get("label") or {}).get("name") or node.get("milestoneTitle") or (
            node["assignee"] and (node["assignee"]["__typename"], node["assignee"]["login"]))
        out.append((node["__typename"], node["createdAt"][11:16], what))
    return out


def test_label_assignee_and_milestone_events_as_github_shapes_them(gql: Gql, world: World) -> None:
    assert history(gql, demo_pr(world, "label_readded")) == [
        ("LabeledEvent", "09:00", "needs-review"), ("LabeledEvent", "10:00", "bug"),
        ("UnlabeledEvent", "11:00", "bug"), ("UnlabeledEvent", "12:00", "needs-review"),
        ("LabeledEvent", "14:00", "bug")]
    assert history(gql, demo_pr(world, "assignees_swapped")) == [
        ("AssignedEvent", "09:00", ("User", "alice")), ("AssignedEvent", "10:00", ("User", "dave")),
        ("UnassignedEvent", "11:00", ("User", "dave")),
        ("UnassignedEvent", "13:00", ("User", "alice")),
        ("AssignedEvent", "13:00", ("User", "carol"))]
    assert history(gql, demo_pr(world, "milestone_reset")) == [
        ("MilestonedEvent", "10:00", "v2.0"), ("DemilestonedEvent", "11:00", "v2.0"),
        ("MilestonedEvent", "12:00", "v3.0"), ("DemilestonedEvent", "14:00", "v3.0"),
        ("MilestonedEvent", "14:00", "v2.0")]
    # itemTypes filters them like any other item; other types are left out.
    assert history(gql, demo_pr(world, "label_readded"), ["UNLABELED_EVENT"]) == [
        ("UnlabeledEvent", "11:00", "bug"), ("UnlabeledEvent", "12:00", "needs-review")]
    # State from before GitHub recorded events: in the PR's fields, not in its timeline.
    old = demo_pr(world, "history_without_events")
    assert {lb.name for lb in old.labels} == {"bug", "enhancement"}
    assert [x[2] for x in history(gql, old)] == [
        "enhancement", "documentation", ("User", "erin"), ("User", "frank")]


def test_world_mutators_record_label_assignee_and_milestone_events(gql: Gql, world: World) -> None:
    pr = world.add_pull_request("acme/docs", author="alice", labels=["bug"])
    world.advance(hours=1)
    world.add_labels("acme/docs", pr.number, "ux", "bug", by="bob")  # bug: already there
    world.remove_labels("acme/docs", pr.number, "bug", "wontfix")  # wontfix: was not there
    world.advance(hours=1)
    world.add_labels("acme/docs", pr.number, "bug")
    world.assign("acme/docs", pr.number, "carol")
    world.advance(hours=1)
    world.unassign("acme/docs", pr.number, "carol")
    world.assign("acme/docs", pr.number, "dave", "dave")
    world.set_milestone("acme/docs", pr.number, 2)
    world.set_milestone("acme/docs", pr.number, 2)  # no change, no event
    world.advance(hours=1)
    world.set_milestone("acme/docs", pr.number, 3, by="erin")  # a move: two events
    world.clear_milestone("acme/docs", pr.number)
    world.delete_account("dave")
    assert [(e.kind, e.actor.login if e.actor else None) for e in pr.timeline] == [
        ("LabeledEvent", "alice"), ("LabeledEvent", "bob"), ("UnlabeledEvent", "alice"),
        ("LabeledEvent", "alice"), ("AssignedEvent", "alice"), ("UnassignedEvent", "alice"),
        ("AssignedEvent", "alice"), ("MilestonedEvent", "alice"), ("DemilestonedEvent", "erin"),
        ("MilestonedEvent", "erin"), ("DemilestonedEvent", "alice")]
    assert [lb.name for lb in pr.labels] == ["ux", "bug"] and pr.milestone is None
    assert pr.updated_at == world.now
    assert history(gql, pr) == [
        ("LabeledEvent", "00:00", "bug"), ("LabeledEvent", "01:00", "ux"),
        ("UnlabeledEvent", "01:00", "bug"), ("LabeledEvent", "02:00", "bug"),
        ("AssignedEvent", "02:00", ("User", "carol")),
        ("UnassignedEvent", "03:00", ("User", "carol")),
        ("AssignedEvent", "03:00", None),  # dave's account was deleted since
        ("MilestonedEvent", "03:00", "v2.0"), ("DemilestonedEvent", "04:00", "v2.0"),
        ("MilestonedEvent", "04:00", "v3.0"), ("DemilestonedEvent", "04:00", "v3.0")]
    with pytest.raises(ValueError):
        pr.add_event("LabeledEvent", world.now)  # a label event names its label
    with pytest.raises(KeyError):
        world.set_milestone("acme/docs", pr.number, 99)


def replay(pr: Any) -> dict[str, dict[str, bool]]:
    """What the history events say the PR carries now, per kind: name -> carried."""
    state: dict[str, dict[str, bool]] = {"label": {}, "assignee": {}, "milestone": {}}
    for event in sorted(pr.timeline, key=lambda e: (e.created_at, e.local_id)):
        if event.label is not None:
            state["label"][event.label.name] = event.kind == "LabeledEvent"
        elif event.assignee is not None:
            state["assignee"][event.assignee.login] = event.kind == "AssignedEvent"
        elif event.milestone_title is not None:
            state["milestone"][event.milestone_title] = event.kind == "MilestonedEvent"
    return state


def test_the_demo_world_has_every_history_case_and_its_events_lead_to_each_pr_state(
        world: World) -> None:
    prs = [pr for repo in world.repositories() for pr in repo.pull_requests]
    readded = swapped = milestone_reset = carried_without_event = 0
    for pr in prs:
        state = replay(pr)
        now = {"label": {lb.name for lb in pr.labels}, "assignee": {a.login for a in pr.assignees},
               "milestone": {pr.milestone.title} if pr.milestone else set()}
        for kind, seen in state.items():
            # every item with events is carried exactly when its last event says so
            assert {name for name, on in seen.items() if on} == now[kind] & set(seen), (pr, kind)
        carried_without_event += bool(now["label"] - set(state["label"]))
        labels = [(e.kind, e.label.name) for e in pr.timeline if e.label]
        readded += any(labels[i:i + 3] == [("LabeledEvent", n), ("UnlabeledEvent", n),
                                          ("LabeledEvent", n)] for i, (_, n) in enumerate(labels))
        events = sorted(pr.timeline, key=lambda e: (e.created_at, e.local_id))
        swapped += any(a.kind == "UnassignedEvent" and b.kind == "AssignedEvent"
                       and a.created_at == b.created_at for a, b in zip(events, events[1:]))
        titles = [(e.kind, e.milestone_title) for e in events if e.milestone_title]
        milestone_reset += any(
            titles[i:i + 3] == [("MilestonedEvent", t), ("DemilestonedEvent", t),
                                ("MilestonedEvent", titles[i + 2][1])]
            for i, (_, t) in enumerate(titles) if len(titles) > i + 2)
    assert readded > 5 and swapped > 5 and milestone_reset > 5
    assert carried_without_event > 5  # the oldest PRs, from before events were recorded
    assert all(e.created_at >= pr.created_at and e.created_at < world.now
               for pr in prs for e in pr.timeline if e.kind in TIMELINE_EVENT_KINDS[7:])


def test_the_events_query_reads_what_each_history_event_names(gql: Gql, world: World) -> None:
    """The product's own query (TimelineItemFields) gets the label, the assignee (login
    and type), the milestone title, the actor and the time of every history event."""
    prs = [demo_pr(world, case) for case in ("label_readded", "assignees_swapped",
                                             "milestone_reset")]
    body = gql(load_query("pull_request_events"), events_variables([pr.id for pr in prs])).json()
    assert "errors" not in body, body
    # each case's commit (PULL_REQUEST_COMMIT) comes first: its history events follow
    labels, assignees, milestones = ([x for x in n["timelineItems"]["nodes"]
                                      if x["__typename"] != "PullRequestCommit"]
                                     for n in body["data"]["nodes"])
    assert labels[-1] == {"__typename": "LabeledEvent", "id": labels[-1]["id"],
                          "createdAt": "2026-10-28T14:00:00Z",
                          "actor": {"__typename": "User", "login": "carol"},
                          "label": {"name": "bug"}}
    assert assignees[-1]["assignee"] == {"__typename": "User", "login": "carol"}
    assert [n["milestoneTitle"] for n in milestones] == ["v2.0", "v2.0", "v3.0", "v3.0", "v2.0"]
    ids = [n["id"] for n in labels + assignees + milestones]
    assert len(set(ids)) == len(ids) and ids[0].startswith("LE_")


REWORK = """query($id: ID!, $types: [PullRequestTimelineItemsItemType!]) {
  node(id: $id) { ... on PullRequest {
    timelineItems(first: 100, itemTypes: $types) { totalCount nodes {
      __typename
      ... on PullRequestCommit { id commit { oid committedDate } }
      ... on HeadRefForcePushedEvent { id createdAt actor { login } }
      ... on ReviewRequestedEvent { id createdAt requestedReviewer { ... on User { login } } }
    } }
    commits(first: 1) { totalCount }
  } }
}"""


def rework(gql: Gql, pr: Any) -> list[dict[str, Any]]:
    body = gql(REWORK, {"id": pr.id, "types": [
        "PULL_REQUEST_COMMIT", "HEAD_REF_FORCE_PUSHED_EVENT", "REVIEW_REQUESTED_EVENT"]}).json()
    assert "errors" not in body, body
    return body["data"]["node"]


def test_commits_and_force_pushes_as_github_shapes_them(gql: Gql, world: World) -> None:
    pr = demo_pr(world, "rework_after_changes_requested")
    answer = rework(gql, pr)
    items = answer["timelineItems"]["nodes"]
    assert answer["commits"]["totalCount"] == 3
    # commits at their committed dates, the re-request after them
    assert [(n["__typename"], n.get("commit", {}).get("committedDate") or n.get("createdAt"))
            for n in items] == [
        ("PullRequestCommit", "2026-10-11T13:00:00Z"),
        ("ReviewRequestedEvent", "2026-10-11T15:00:00Z"),
        ("PullRequestCommit", "2026-10-11T18:00:00Z"),
        ("PullRequestCommit", "2026-10-11T18:30:00Z"),
        ("ReviewRequestedEvent", "2026-10-11T19:00:00Z")]
    assert len({n["id"] for n in items}) == 5
    pushed = rework(gql, demo_pr(world, "force_pushed_after_review"))["timelineItems"]["nodes"]
    assert [n for n in pushed if n["__typename"] == "HeadRefForcePushedEvent"] == [
        {"__typename": "HeadRefForcePushedEvent", "createdAt": "2026-10-12T17:00:00Z",
         "id": pushed[2]["id"], "actor": {"login": "carol"}}]


def test_world_mutators_record_commits_and_force_pushes(gql: Gql, world: World) -> None:
    pr = demo_pr(world, "draft")
    before = len(pr.commits)
    world.add_commit("acme/api", pr.number, by=pr.author.login)
    world.force_push("acme/api", pr.number)
    items = rework(gql, pr)["timelineItems"]["nodes"]
    assert len(pr.commits) == before + 1 and pr.updated_at == world.now
    # both at now: the commit (rank 2) sorts after the event of the same second
    assert [n["__typename"] for n in items[-2:]] == [
        "HeadRefForcePushedEvent", "PullRequestCommit"]
    assert [n for n in items if n["__typename"] == "PullRequestCommit"][-1]["commit"]["oid"] == (
        pr.commits[-1].oid)


def test_the_random_world_reworks_after_review(world: World) -> None:
    prs = [pr for repo in world.repositories() for pr in repo.pull_requests]

    def after_first_review(pr: Any) -> list[Any]:
        firsts = [r.submitted_at for r in pr.reviews if r.submitted_at is not None]
        return [c for c in pr.commits if firsts and c.committed_at > min(firsts)]
    assert sum(1 for pr in prs if after_first_review(pr)) >= 10
    assert sum(1 for pr in prs for e in pr.timeline if e.kind == "HeadRefForcePushedEvent") >= 5
    for pr in prs:  # a PR is touched by its last commit
        assert all(c.committed_at <= pr.updated_at for c in pr.commits[1:])


REVIEW_COMMENTS = """query($id: ID!) {
  node(id: $id) { ... on PullRequest {
    reviews(first: 10) { nodes {
      author { login }
      comments(first: 10) { totalCount nodes { id createdAt author { login }
                                               pullRequestReview { state } } }
    } }
  } }
}"""


def test_review_thread_comments_belong_to_their_review(gql: Gql, world: World) -> None:
    """Every review-thread comment belongs to a review and is written by its author, a
    bot's too; a totalCount-only ``comments`` is allowed and charged as a connection."""
    pr = demo_pr(world, "force_pushed_after_review")
    body = gql(REVIEW_COMMENTS, {"id": pr.id}).json()
    assert "errors" not in body, body
    reviews = body["data"]["node"]["reviews"]["nodes"]
    assert [(r["author"]["login"], r["comments"]["totalCount"]) for r in reviews] == [
        ("dave", 3), ("github-actions", 2), ("erin", 0), ("dave", 0)]
    first = reviews[0]["comments"]["nodes"]
    assert [c["createdAt"][11:16] for c in first] == ["15:50", "15:55", "15:58"]
    assert {c["author"]["login"] for c in first} == {"dave"}
    assert first[0]["pullRequestReview"] == {"state": "COMMENTED"}
    assert len({c["id"] for r in reviews for c in r["comments"]["nodes"]}) == 5
    counted = parse("""query($id: ID!) { node(id: $id) { ... on PullRequest {
      reviews(first: 50) { nodes { comments { totalCount } } } } } }""")
    assert query_cost(load_schema(), counted, {"id": pr.id}).requests == 51
    prs = [p for repo in world.repositories() for p in repo.pull_requests]
    with_threads = [r for p in prs for r in p.reviews if r.comments]
    assert len(with_threads) >= 20 and any(
        r.author is not None and r.author.kind.value == "Bot" for r in with_threads)
