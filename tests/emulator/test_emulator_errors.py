"""GitHub's error shapes: validation, pagination, node limit, credentials, NOT_FOUND."""

from __future__ import annotations

import requests

from github_emulator import EmulatorServer
from pr_warehouse.queries import load_query

from .conftest import TOKEN, Gql, make_gql


def test_undefined_field_is_rejected_in_graphql_ruby_words(gql: Gql, server: EmulatorServer) -> None:
    r = gql('query Op { repository(owner: "acme", name: "api") { nameWithOwner foo } }')
    assert r.status_code == 200
    assert r.json() == {"errors": [{
        "path": ["query Op", "repository", "foo"],
        "extensions": {"code": "undefinedField", "typeName": "Repository", "fieldName": "foo"},
        "locations": [{"line": 1, "column": 67}],
        "message": "Field 'foo' doesn't exist on type 'Repository'",
    }]}
    assert server.ledger.last is not None and server.ledger.last.points == 0


def test_other_validation_errors_are_translated(gql: Gql) -> None:
    errors = gql('{ repository(owner: "acme") { nameWithOwner } }').json()["errors"]
    assert errors[0]["message"] == "Field 'repository' is missing required arguments: name"
    assert errors[0]["extensions"]["code"] == "missingRequiredArguments"
    errors = gql('{ repository(owner: "acme", name: "api", bogus: 1) { id } }').json()["errors"]
    assert errors[0]["message"] == "Field 'repository' doesn't accept argument 'bogus'"
    errors = gql("query Q($unused: Int) { viewer { login } }").json()["errors"]
    assert errors[0]["message"] == "Variable $unused is declared by Q but not used"


def test_parse_and_variable_errors(gql: Gql) -> None:
    body = gql("{ viewer { login }").json()
    assert "data" not in body and body["errors"][0]["message"].startswith("Parse error on ")
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 19}]
    body = gql(load_query("repository_pull_requests"), {"owner": "acme", "name": "api"}).json()
    assert "data" not in body
    assert body["errors"][0]["message"] == "Variable $pageSize of type Int! was provided invalid value"
    assert body["errors"][0]["extensions"]["problems"] == [{"path": [], "explanation": "Expected value to not be null"}]


def test_missing_pagination_boundaries(gql: Gql) -> None:
    body = gql('{ repository(owner: "acme", name: "api") { pullRequests { nodes { number } } } }').json()
    # pullRequests is non-null, so the error nulls its parent (GitHub answers the same way).
    assert body == {"data": {"repository": None}, "errors": [{
        "type": "MISSING_PAGINATION_BOUNDARIES", "path": ["repository", "pullRequests"],
        "locations": [{"line": 1, "column": 44}],
        "message": "You must provide a `first` or `last` value to properly paginate the `pullRequests` connection.",
    }]}
    # ...but a bare totalCount needs no boundary.
    ok = gql('{ repository(owner: "acme", name: "api") { pullRequests(states: OPEN) { totalCount } } }').json()
    assert "errors" not in ok and ok["data"]["repository"]["pullRequests"]["totalCount"] > 0


def test_excessive_pagination_in_a_nested_nullable_connection(gql: Gql) -> None:
    query = """query($n: Int!) { repository(owner: "acme", name: "api") {
        pullRequest(number: 2) { number labels(first: $n) { nodes { name } } } } }"""
    body = gql(query, {"n": 101}).json()
    assert body["data"] == {"repository": {"pullRequest": {"number": 2, "labels": None}}}
    assert body["errors"] == [{
        "type": "EXCESSIVE_PAGINATION", "path": ["repository", "pullRequest", "labels"],
        "locations": [{"line": 2, "column": 41}],
        "message": "Requesting 101 records on the `labels` connection exceeds the `first` limit of 100 records.",
    }]
    assert gql(query, {"n": 0}).json()["errors"][0]["type"] == "EXCESSIVE_PAGINATION"
    assert gql(query, {"n": 100}).json()["data"]["repository"]["pullRequest"]["labels"]["nodes"]


def test_node_limit(gql: Gql, server: EmulatorServer) -> None:
    query = """{ repositoryOwner(login: "acme") { repositories(first: 100) { nodes {
        pullRequests(first: 100) { nodes { labels(first: 100) { nodes { name } } } } } } } }"""
    r = gql(query)
    assert r.status_code == 200
    assert r.json() == {"errors": [{
        "type": "MAX_NODE_LIMIT_EXCEEDED",
        "message": "This query requests up to 1,010,100 possible nodes which exceeds the maximum limit of 500,000.",
    }]}
    assert server.ledger.last is not None and server.ledger.last.points == 0


def test_bad_credentials(server: EmulatorServer) -> None:
    for auth in (None, "bearer wrong", "Basic abc", "bearer "):
        headers = {"Authorization": auth} if auth else {}
        r = requests.post(server.url, json={"query": "{ viewer { login } }"}, headers=headers, timeout=5)
        assert r.status_code == 401
        assert r.json() == {"message": "Bad credentials", "documentation_url": "https://docs.github.com/graphql"}
        assert r.headers["X-GitHub-Request-Id"]
    r = requests.post(server.url, json={"query": "{ viewer { login } }"},
                      headers={"Authorization": f"token {TOKEN}"}, timeout=5)
    assert r.status_code == 200
    # The ledger never holds a credential, in any field.
    assert all(TOKEN not in repr(e) and "wrong" not in repr(e) for e in server.ledger)
    assert [e.status for e in server.ledger] == [401, 401, 401, 401, 200]


def test_any_token_mode(world: object) -> None:
    with EmulatorServer(world, tokens=None) as server:  # type: ignore[arg-type]
        gql = make_gql(server)
        assert gql("{ viewer { login } }", token="anything").status_code == 200
        assert gql("{ viewer { login } }", token=None).status_code == 401


def test_transport_errors(server: EmulatorServer) -> None:
    auth = {"Authorization": f"bearer {TOKEN}"}
    r = requests.post(server.url, data=b"{not json", headers=auth, timeout=5)
    assert r.status_code == 400 and r.json()["message"] == "Problems parsing JSON"
    r = requests.post(server.url.replace("/graphql", "/nope"), json={}, headers=auth, timeout=5)
    assert r.status_code == 404
    r = requests.post(server.url, json={"variables": {}}, headers=auth, timeout=5)
    assert r.json() == {"errors": [{"message": "A query attribute must be specified and must be a string."}]}


def test_not_found_repository_shape(gql: Gql) -> None:
    body = gql(load_query("repository_pull_requests"), {"owner": "acme", "name": "gone", "pageSize": 10}).json()
    assert body["data"]["repository"] is None
    assert body["errors"] == [{
        "type": "NOT_FOUND", "path": ["repository"], "locations": [{"line": 5, "column": 3}],
        "message": "Could not resolve to a Repository with the name 'acme/gone'.",
    }]
