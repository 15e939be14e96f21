"""The world model: determinism, the clock, mutators seen by the next query, big worlds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from github_emulator import (
    DEFAULT_NOW,
    DEMO_CASES,
    EmulatorServer,
    World,
    WorldSpec,
    build_world,
)
from github_emulator.resolvers import render_node
from pr_warehouse.queries import load_query

from .conftest import Gql, make_gql

PAGE = load_query("repository_pull_requests")


def snapshot(world: World) -> list[tuple[object, ...]]:
    return [
        (r.name_with_owner, pr.number, pr.title, pr.updated_at, pr.state, pr.author and pr.author.login,
         [lb.name for lb in pr.labels], [(rv.state, rv.submitted_at) for rv in pr.reviews], pr.id)
        for r in world.repositories() for pr in r.pull_requests
    ]


def test_builds_are_deterministic_whatever_the_read_order() -> None:
    a, b = build_world(), build_world()
    b.repo("acme/legacy").materialize()  # read repositories in another order first
    b.repo("acme/web").materialize()
    assert snapshot(a) == snapshot(b)
    assert snapshot(build_world(1)) != snapshot(a)


def test_demo_world_contents(world: World) -> None:
    sizes = {r.name_with_owner: len(r.pull_requests) for r in world.repositories()}
    assert sizes == {"acme/api": 300, "acme/web": 120, "acme/infra": 45, "acme/docs": 6,
                     "acme/legacy": 15, "mona/dotfiles": 3}
    assert world.repo("acme/legacy").is_archived
    assert world.now == DEFAULT_NOW == datetime(2026, 11, 1, tzinfo=UTC)
    assert world.special["many_labels"] == ("acme/api", DEMO_CASES["many_labels"])
    prs = [pr for r in world.repositories() for pr in r.pull_requests]
    assert {pr.state for pr in prs} == {"OPEN", "CLOSED", "MERGED"}
    assert all(pr.updated_at < world.now and pr.created_at <= pr.updated_at for pr in prs)
    assert any(pr.author is None for pr in prs) and any(pr.is_draft for pr in prs)


def test_every_node_id_resolves_back(world: World) -> None:
    pr = world.pull_request("acme/api", DEMO_CASES["review_requests"])
    objects = [
        pr, pr.repository, pr.repository.owner, pr.author, pr.repository.labels[0],
        world.pull_request("acme/api", 4).reviews[7], pr.review_requests[0],
        pr.review_requests[0].requested_reviewer, world.pull_request("acme/api", 12).milestone,
        world.repo("acme/web").issues[0],
    ]
    for obj in objects:
        assert world.find_node(obj.id) is obj  # type: ignore[union-attr]
        assert render_node(obj)["id"] == obj.id  # type: ignore[index,union-attr]
    assert world.find_node("PR_kwDOAAAAAQ") is None and world.find_node("garbage") is None


def newest(gql: Gql, repo: str = "api") -> list[dict[str, object]]:
    body = gql(PAGE, {"owner": "acme", "name": repo, "pageSize": 5}).json()
    return body["data"]["repository"]["pullRequests"]["nodes"]


def test_mutations_show_up_in_the_next_query(world: World, gql: Gql) -> None:
    before = newest(gql)
    oldest = min(world.repo("acme/api").pull_requests, key=lambda pr: pr.updated_at)
    world.advance(hours=24)
    world.touch("acme/api", oldest.number)
    top = newest(gql)[0]
    assert top["number"] == oldest.number and top["updatedAt"] == "2026-11-02T00:00:00Z"

    world.advance(minutes=5)
    new = world.add_pull_request("acme/api", title="Brand new", author="alice", labels=["bug", "fresh"], draft=True)
    assert new.number == 376  # after 300 PRs and 75 issues: one shared number sequence
    top = newest(gql)[0]
    assert (top["number"], top["title"], top["isDraft"], top["author"]) == (376, "Brand new", True,
                                                                           {"__typename": "User", "login": "alice"})
    assert [n["name"] for n in top["labels"]["nodes"]] == ["bug", "fresh"]

    world.advance(minutes=5)
    world.merge("acme/api", 376, by="dependabot")
    world.advance(minutes=5)
    world.close("acme/api", before[0]["number"])
    world.add_labels("acme/api", 376, "security")
    nodes = newest(gql)
    assert nodes[0]["number"] == 376 and nodes[0]["state"] == "MERGED"
    assert nodes[0]["mergedBy"] == {"__typename": "Bot", "login": "dependabot"}
    assert nodes[0]["mergedAt"] == "2026-11-02T00:10:00Z" and nodes[0]["updatedAt"] == "2026-11-02T00:15:00Z"
    assert nodes[1]["number"] == before[0]["number"] and nodes[1]["state"] in ("CLOSED", "MERGED")
    page = gql(PAGE, {"owner": "acme", "name": "api", "pageSize": 1}).json()
    assert page["data"]["repository"]["pullRequests"]["totalCount"] == 301

    world.delete_account("alice")
    assert newest(gql)[0]["author"] is None
    world.edit("acme/api", 376, title="Renamed")  # a direct edit also touches updatedAt
    assert newest(gql)[0]["title"] == "Renamed"


def test_direct_field_assignment_reorders_too(world: World, gql: Gql) -> None:
    pr = min(world.repo("acme/web").pull_requests, key=lambda p: p.updated_at)
    newest(gql, "web")  # populate the sort cache first
    pr.updated_at = datetime(2026, 10, 31, 23, 59, tzinfo=UTC)
    assert newest(gql, "web")[0]["number"] == pr.number


def test_reviews_and_requests_mutators(world: World, gql: Gql) -> None:
    pr = world.add_pull_request("acme/docs", title="Docs", author="carol")
    world.request_review("acme/docs", pr.number, "acme/platform")
    world.advance(hours=3)
    world.add_review("acme/docs", pr.number, author="dave", state="APPROVED")
    query = """{ repository(owner: "acme", name: "docs") { pullRequest(number: %d) {
        reviewDecision reviews(first: 5) { nodes { state submittedAt author { login } } }
        reviewRequests(first: 5) { nodes { requestedReviewer { ... on Team { slug } } } } } } }""" % pr.number
    got = gql(query).json()["data"]["repository"]["pullRequest"]
    assert got["reviewDecision"] == "APPROVED"
    review = {"state": "APPROVED", "submittedAt": "2026-11-01T03:00:00Z", "author": {"login": "dave"}}
    assert got["reviews"]["nodes"] == [review]
    assert got["reviewRequests"]["nodes"] == [{"requestedReviewer": {"slug": "platform"}}]
    with pytest.raises(ValueError):
        world.advance(hours=-1)


def test_large_worlds_build_fast_and_serve() -> None:
    # How fast it builds is a benchmark's business, never a timed assertion here.
    big = build_world(3, spec=WorldSpec.uniform("big", repo_count=3000, prs_per_repo=2))
    with EmulatorServer(big) as server:
        gql = make_gql(server)
        names: list[str] = []
        after = None
        while True:
            body = gql(load_query("owner_repositories"), {"login": "big", "after": after}).json()
            connection = body["data"]["repositoryOwner"]["repositories"]
            names += [n["nameWithOwner"] for n in connection["nodes"]]
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
        assert len(names) == len(set(names)) == 3000 and names == sorted(names)

    sized = build_world(0, spec=WorldSpec(org="bench", repo_sizes=(10, 5000)))
    assert [len(r.pull_requests) for r in sized.repositories()] == [10, 5000]
