"""The product's queries, and the dynamic ones it will send, answered as GitHub would."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse, validate

from github_emulator import DEMO_CASES, EmulatorServer, World
from github_emulator.ids import node_id
from github_emulator.schema import load_schema
from pr_warehouse.queries import load_query, query_names, with_fragments

from .conftest import Gql

# Values for the variables the product's documents declare; a new document with a new
# required variable fails loudly here until it is given one.
SAMPLE_VARIABLES: dict[str, Any] = {"owner": "acme", "name": "api", "login": "acme", "pageSize": 100,
                                    "number": 2, "ids": [node_id("PullRequest", 1, 21)],
                                    # acme/api's first deployment (deploys.py)
                                    "id": node_id("Deployment", 1, 1),
                                    "withDeployments": True, "withReleases": True,
                                    "withHistory": True}

PR_BY_NUMBER = with_fragments(
    """query One($owner: String!, $name: String!, $number: Int!) {
      repository(owner: $owner, name: $name) { pullRequest(number: $number) { ...PullRequestFields } }
    }"""
)


Json = dict[str, Any]


def page_prs(gql: Gql, owner: str, name: str, page_size: int = 100) -> tuple[list[Json], list[Json]]:
    """Every PR node of a repository via the product's query, and every page's connection."""
    nodes: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    after = None
    while True:
        r = gql(load_query("repository_pull_requests"),
                {"owner": owner, "name": name, "pageSize": page_size, "after": after})
        body = r.json()
        assert r.status_code == 200 and "errors" not in body, body.get("errors")
        connection = body["data"]["repository"]["pullRequests"]
        pages.append(connection)
        nodes.extend(connection["nodes"])
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes, pages
        after = connection["pageInfo"]["endCursor"]


def one_pr(gql: Gql, number: int, repo: str = "acme/api") -> dict[str, Any]:
    owner, name = repo.split("/")
    body = gql(PR_BY_NUMBER, {"owner": owner, "name": name, "number": number}).json()
    assert "errors" not in body, body["errors"]
    return body["data"]["repository"]["pullRequest"]


@pytest.mark.parametrize("name", query_names())
def test_every_product_query_validates_and_is_answered(gql: Gql, name: str) -> None:
    document = load_query(name)
    assert validate(load_schema(), parse(document)) == []
    operation = next(d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode))
    variables = {}
    for definition in operation.variable_definitions:
        var = definition.variable.name.value
        if definition.type.kind == "non_null_type":
            assert var in SAMPLE_VARIABLES, f"add a sample value for ${var} of {name}"
        if var in SAMPLE_VARIABLES:
            variables[var] = SAMPLE_VARIABLES[var]
    r = gql(document, variables)
    body = r.json()
    assert r.status_code == 200
    assert "errors" not in body, body.get("errors")
    assert all(value is not None for value in body["data"].values())


def test_paging_returns_every_pr_once_newest_update_first(gql: Gql, world: World) -> None:
    nodes, pages = page_prs(gql, "acme", "api")
    repo = world.repo("acme/api")
    expected = sorted(repo.pull_requests, key=lambda pr: (pr.updated_at, pr.number), reverse=True)
    assert [n["number"] for n in nodes] == [pr.number for pr in expected]
    assert len({n["id"] for n in nodes}) == len(nodes) == 300
    assert [len(p["nodes"]) for p in pages] == [100, 100, 100]
    assert all(p["totalCount"] == 300 for p in pages)
    updated = [n["updatedAt"] for n in nodes]
    assert updated == sorted(updated, reverse=True)


def test_paging_odd_page_size_and_small_repo(gql: Gql) -> None:
    nodes, pages = page_prs(gql, "acme", "web", page_size=33)
    assert len(nodes) == 120 and [len(p["nodes"]) for p in pages] == [33, 33, 33, 21]
    nodes, pages = page_prs(gql, "acme", "docs")
    assert len(nodes) == 6 and len(pages) == 1 and pages[0]["pageInfo"]["hasNextPage"] is False


def test_nested_lists_are_capped_and_follow_up_pages_return_the_rest(gql: Gql, world: World) -> None:
    pr = one_pr(gql, DEMO_CASES["many_labels"])
    labels = pr["labels"]
    assert labels["totalCount"] == 150 and len(labels["nodes"]) == 50
    assert labels["pageInfo"]["hasNextPage"] is True
    follow_up = """query($id: ID!, $after: String) { node(id: $id) { ... on PullRequest {
        labels(first: 100, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } nodes { id name } } } } }"""
    variables = {"id": pr["id"], "after": labels["pageInfo"]["endCursor"]}
    rest = gql(follow_up, variables).json()["data"]["node"]["labels"]
    assert len(rest["nodes"]) == 100 and rest["pageInfo"]["hasNextPage"] is False
    names = [n["name"] for n in labels["nodes"] + rest["nodes"]]
    assert len(set(names)) == 150
    assert set(names) == {lb.name for lb in world.pull_request("acme/api", 2).labels}

    assert (pr3 := one_pr(gql, DEMO_CASES["many_assignees"])["assignees"])["totalCount"] == 30
    assert len(pr3["nodes"]) == 25 and pr3["pageInfo"]["hasNextPage"]
    assert (pr4 := one_pr(gql, DEMO_CASES["many_reviews"])["reviews"])["totalCount"] == 120
    assert len(pr4["nodes"]) == 50 and pr4["pageInfo"]["hasNextPage"]
    closing = one_pr(gql, DEMO_CASES["many_closing_issues"])["closingIssuesReferences"]
    assert closing["totalCount"] == 30 and len(closing["nodes"]) == 25


def test_nodes_lookup_batch_with_an_unknown_id(gql: Gql) -> None:
    pr = one_pr(gql, 4)
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on PullRequest {
        number reviews(first: 100, after: null) { nodes { state } } } } }"""
    body = gql(query, {"ids": [pr["id"], "PR_kwDOnonsense"]}).json()
    assert body["data"]["nodes"][0]["number"] == 4
    assert len(body["data"]["nodes"][0]["reviews"]["nodes"]) == 100
    assert body["data"]["nodes"][1] is None
    assert body["errors"] == [{
        "type": "NOT_FOUND", "path": ["nodes", 1], "locations": [{"line": 1, "column": 23}],
        "message": "Could not resolve to a node with the global id of 'PR_kwDOnonsense'",
    }]


def test_special_cases_render_like_github(gql: Gql) -> None:
    first = one_pr(gql, DEMO_CASES["reviewed_3h_after_open"])
    assert first["createdAt"] == "2026-10-05T09:00:00Z"
    assert first["reviews"]["nodes"][0]["submittedAt"] == "2026-10-05T12:00:00Z"
    assert first["state"] == "MERGED" and first["mergedBy"] == {"__typename": "User", "login": "bob"}

    ghost = one_pr(gql, DEMO_CASES["ghost_author"])
    assert ghost["author"] is None and ghost["reviews"]["nodes"][0]["author"] is None
    assert one_pr(gql, DEMO_CASES["bot_author"])["author"] == {"__typename": "Bot", "login": "dependabot"}
    assert one_pr(gql, DEMO_CASES["mannequin_author"])["author"]["__typename"] == "Mannequin"
    assert one_pr(gql, DEMO_CASES["draft"])["isDraft"] is True
    merged_by_bot = one_pr(gql, DEMO_CASES["merged_by_bot"])["mergedBy"]
    assert merged_by_bot == {"__typename": "Bot", "login": "github-actions"}

    requests_ = one_pr(gql, DEMO_CASES["review_requests"])["reviewRequests"]["nodes"]
    requested = [n["requestedReviewer"] for n in requests_]
    kinds = [r and r["__typename"] for r in requested]
    assert kinds == ["Team", "Team", "User", "Bot", "Mannequin", None]
    assert requested[0] == {"__typename": "Team", "slug": "backend"}

    linked = one_pr(gql, DEMO_CASES["linked_issues"])["closingIssuesReferences"]["nodes"]
    assert sorted(i["repository"]["nameWithOwner"] for i in linked) == ["acme/api", "acme/web"]

    cases = ("milestone_past_due", "milestone_future_due", "milestone_no_due")
    due = {n: one_pr(gql, DEMO_CASES[n])["milestone"] for n in cases}
    assert due["milestone_past_due"]["dueOn"] == "2026-09-15T00:00:00Z"
    assert due["milestone_future_due"]["dueOn"] == "2027-03-01T00:00:00Z"
    assert due["milestone_no_due"]["dueOn"] is None
    assert one_pr(gql, DEMO_CASES["no_labels"])["milestone"] is None

    odd = one_pr(gql, DEMO_CASES["odd_unicode"])
    assert "\x00" in odd["title"] and "\x00" in odd["body"]
    assert "🧑🏽‍💻" in odd["title"] and "\r\n" in odd["body"]
    assert len(one_pr(gql, DEMO_CASES["huge_body"])["body"]) == 70_000
    closed = one_pr(gql, DEMO_CASES["closed_unmerged"])
    assert (closed["state"], closed["mergedAt"]) == ("CLOSED", None) and closed["closedAt"]


def test_batched_aliases_with_a_missing_repository(gql: Gql) -> None:
    newest = "pullRequests(first: 1, orderBy: {field: UPDATED_AT, direction: DESC}) { nodes { updatedAt } }"
    query = f"""{{
      r0: repository(owner: "acme", name: "api") {{ {newest} }}
      r1: repository(owner: "acme", name: "nope") {{ {newest} }}
      r2: repository(owner: "ACME", name: "Web") {{ nameWithOwner }}
    }}"""
    body = gql(query).json()
    assert body["data"]["r0"]["pullRequests"]["nodes"][0]["updatedAt"].startswith("2026-10")
    assert body["data"]["r1"] is None
    assert body["data"]["r2"] == {"nameWithOwner": "acme/web"}  # names are case-insensitive
    assert body["errors"] == [{
        "type": "NOT_FOUND", "path": ["r1"], "locations": [{"line": 3, "column": 7}],
        "message": "Could not resolve to a Repository with the name 'acme/nope'.",
    }]


def test_owner_repositories_excludes_archived_and_user_owners_work(gql: Gql) -> None:
    body = gql(load_query("owner_repositories"), {"login": "acme"}).json()
    repos = body["data"]["repositoryOwner"]["repositories"]
    assert [n["nameWithOwner"] for n in repos["nodes"]] == ["acme/api", "acme/docs", "acme/infra", "acme/web"]
    assert repos["totalCount"] == 4
    everything = gql('{ repositoryOwner(login: "acme") { repositories(first: 10) { totalCount } } }').json()
    assert everything["data"]["repositoryOwner"]["repositories"]["totalCount"] == 5
    user = gql(load_query("owner_repositories"), {"login": "mona"}).json()["data"]["repositoryOwner"]
    assert user["repositories"]["nodes"] == [{"nameWithOwner": "mona/dotfiles", "isArchived": False}]


def test_unknown_owner_is_null_without_error(gql: Gql) -> None:
    body = gql(load_query("owner_repositories"), {"login": "no-such-org"}).json()
    assert body == {"data": {"rateLimit": body["data"]["rateLimit"], "repositoryOwner": None}}


def test_edges_last_and_before(gql: Gql, world: World) -> None:
    query = """query($before: String) { repository(owner: "acme", name: "docs") {
        pullRequests(last: 2, before: $before) { pageInfo { hasNextPage hasPreviousPage startCursor }
          edges { cursor node { number } } } } }"""
    last = gql(query).json()["data"]["repository"]["pullRequests"]
    assert [e["node"]["number"] for e in last["edges"]] == [5, 6]
    start = last["edges"][0]["cursor"]
    assert last["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True, "startCursor": start}
    before = gql(query, {"before": start}).json()["data"]["repository"]["pullRequests"]
    assert [e["node"]["number"] for e in before["edges"]] == [3, 4]


def test_filters_states_and_invalid_cursor(gql: Gql, world: World) -> None:
    query = """{ repository(owner: "acme", name: "api") {
        pullRequests(first: 1, states: [OPEN]) { totalCount } } }"""
    total = gql(query).json()["data"]["repository"]["pullRequests"]["totalCount"]
    assert total == sum(pr.state == "OPEN" for pr in world.repo("acme/api").pull_requests)
    bad = gql("""{ repository(owner: "acme", name: "api") {
        pullRequests(first: 1, after: "bm9wZQ==") { totalCount } } }""").json()
    assert bad["data"] == {"repository": None}
    assert bad["errors"][0]["type"] == "INVALID_CURSOR_ARGUMENTS"


def test_unmodeled_fields_follow_nullability(gql: Gql) -> None:
    query = """{ repository(owner: "acme", name: "api") {
        stargazerCount homepageUrl isTemplate
        pullRequest(number: 1) {
          bodyHTML headRefOid mergeable totalCommentsCount commits(first: 5) { totalCount nodes { id } }
        }
    } }"""
    body = gql(query).json()
    assert "errors" not in body
    repo = body["data"]["repository"]
    assert (repo["stargazerCount"], repo["homepageUrl"], repo["isTemplate"]) == (0, None, False)
    assert repo["pullRequest"]["commits"] == {"totalCount": 0, "nodes": []}


def test_viewer_and_typename_of_root(server: EmulatorServer, gql: Gql) -> None:
    expected = {"data": {"__typename": "Query", "viewer": {"login": "emulator-viewer"}}}
    assert gql("{ __typename viewer { login } }").json() == expected
