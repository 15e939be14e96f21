"""The compiled executor answers exactly as graphql-core's does.

Every request of these tests runs through both executors (``COMPARE_EXECUTORS_ENV``) and
a difference fails it with HTTP 500. They cover what the product sends (a whole sync of
the demo world: listings, events, checks, review comments, deployments with their
``@include``s, teams, probes) and the error paths: null propagation, list items, field
errors, scopes, and what the compiled executor hands to graphql-core (introspection).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from graphql import parse

from github_emulator import EmulatorServer, World
from github_emulator.executor import Unsupported, execute_compiled
from github_emulator.resolvers import COMPARE_EXECUTORS_ENV
from github_emulator.schema import load_schema
from pr_warehouse.queries import load_query
from tests.support.connections import github_conn

from .conftest import TOKEN, Gql, make_gql

FALLBACK = "graphql-core executes this query"


@pytest.fixture
def compare(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(COMPARE_EXECUTORS_ENV, "1")
    caplog.set_level(logging.DEBUG, logger="github_emulator.resolvers")


def _served(server: EmulatorServer) -> list[tuple[int, str | None]]:
    return [(e.status, e.operation_name) for e in server.ledger.entries]


def test_a_whole_sync_of_the_demo_world_is_answered_alike(
        compare: None, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from pr_warehouse import pipeline
    from pr_warehouse.options import RunOptions

    with EmulatorServer(world, tokens={TOKEN}) as server:
        monkeypatch.setenv("PR_WAREHOUSE_RAW_URL", (tmp_path / "raw").as_uri())
        monkeypatch.setenv("PR_WAREHOUSE_DUCKDB", str(tmp_path / "warehouse.duckdb"))
        monkeypatch.setenv("AIRFLOW_CONN_GITHUB_DEFAULT", json.dumps(github_conn(server.url)))
        options = RunOptions(orgs=("acme", "mona"), page_size=7)  # several pages a repo
        repos = pipeline.resolve_repositories(options)
        pipeline.extract_teams(repos, options, "compare")
        manifests = [m for batch in pipeline.plan(repos, options, "compare")
                     for m in pipeline.extract(batch, options, "compare")]
        served = _served(server)
    assert {m.repo for m in manifests} == set(repos)
    assert all(status == 200 for status, _ in served), served
    kinds = {name for _, name in served}
    assert {"OwnerRepositories", "OrganizationTeams", "NewestPullRequestUpdates",
            "RepositoryPullRequests", "PullRequestEvents", "PullRequestChecks",
            "RepositoryDeployments"} <= kinds, kinds
    assert FALLBACK not in caplog.text  # every one ran compiled, and matched graphql-core


@pytest.mark.parametrize("query", [
    # A missing repository: a field error, the nullable root field is null.
    '{ repository(owner: "acme", name: "nope") { id } viewer { login } }',
    # Pagination refused inside a list of nodes, beside fields that succeed.
    '{ repository(owner: "acme", name: "api") { pullRequests(first: 2) { nodes {'
    ' number labels(first: 101) { totalCount } } } } }',
    # Aliases, fragments on an interface and a union, and __typename.
    '{ a: repository(owner: "acme", name: "api") { ...R } b: repository(owner: "acme",'
    ' name: "web") { ...R } } fragment R on Repository { __typename nameWithOwner'
    ' owner { __typename ... on Organization { login } ... on User { login } }'
    ' pullRequests(first: 3, states: [MERGED]) { nodes { author { login } timelineItems('
    'first: 5) { nodes { __typename ... on ReviewRequestedEvent { requestedReviewer {'
    ' __typename ... on Team { slug } ... on User { login } } } } } } } }',
    # Introspection: compiled execution hands it to graphql-core.
    '{ __type(name: "PullRequest") { name } viewer { login } }',
])
def test_answers_and_errors_match(compare: None, gql: Gql, query: str) -> None:
    response = gql(query)
    assert response.status_code == 200, response.text
    assert "data" in response.json()


def test_skip_and_include_follow_their_variables(compare: None, gql: Gql) -> None:
    query = ('query Q($a: Boolean!, $b: Boolean!) { viewer { login @include(if: $a)'
             ' name @skip(if: $b) } }')
    for a in (True, False):
        for b in (True, False):
            viewer = gql(query, {"a": a, "b": b}).json()["data"]["viewer"]
            assert ("login" in viewer, "name" in viewer) == (a, not b)


def test_a_non_null_field_error_nulls_its_nearest_nullable_parent(
        compare: None, world: World, gql: Gql) -> None:
    # teams is non-null: an org whose teams may not be read nulls the owner, as on GitHub.
    world.deny_team_access("acme")
    answer = gql('{ organization(login: "mona") { login } repositoryOwner(login: "acme") {'
                 ' login ... on Organization { teams(first: 1) { totalCount } } } }').json()
    assert answer["data"] == {"organization": None, "repositoryOwner": None}
    assert [e.get("type") for e in answer["errors"]] == ["NOT_FOUND", "FORBIDDEN"]


def test_what_it_leaves_to_graphql_core_is_refused_before_any_resolver_runs() -> None:
    calls: list[str] = []

    def resolver(source: object, info: object, **_: object) -> object:
        calls.append(info.field_name)  # type: ignore[attr-defined]
        return {}

    document = parse("{ __schema { queryType { name } } }")
    with pytest.raises(Unsupported, match="__schema"):
        execute_compiled(load_schema(), document, {}, None, {}, None, field_resolver=resolver)
    assert calls == []


def test_a_document_is_compiled_once_per_choice_of_its_directives() -> None:
    from github_emulator.executor import compiled_variants

    query = parse(load_query("repository_deployments"))
    before = compiled_variants()
    for flags in ({"withDeployments": True, "withReleases": True, "withHistory": True},
                  {"withDeployments": True, "withReleases": True, "withHistory": True},
                  {"withDeployments": False, "withReleases": True, "withHistory": True}):
        variables = {"owner": "acme", "name": "api", **flags}
        execute_compiled(load_schema(), query, {}, None, variables, None)
    assert compiled_variants() - before == 2
