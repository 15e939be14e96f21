"""The emulator's CI checks: what PullRequest.statusCheckRollup serves and what it costs."""

from __future__ import annotations

from github_emulator import World, build_world
from github_emulator.checks import latest_per_name, rollup_state

from .conftest import Gql

QUERY = """
query($id: ID!, $other: ID!, $after: String) {
  rateLimit { cost }
  node(id: $id) { ... on PullRequest { statusCheckRollup { state
    contexts(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor }
      nodes { __typename
        ... on CheckRun { name conclusion mine: isRequired(pullRequestId: $id)
                          theirs: isRequired(pullRequestId: $other) }
        ... on StatusContext { context state mine: isRequired(pullRequestId: $id) } } } } } }
}"""


def test_the_world_has_every_kind_of_check() -> None:
    prs = [pr for repo in build_world().repositories() for pr in repo.pull_requests]
    items = [c for pr in prs for c in pr.checks]
    assert any(not pr.checks for pr in prs)  # PRs with no checks
    assert {c.kind for c in items} == {"CheckRun", "StatusContext"}
    assert any(c.is_required for c in items) and any(not c.is_required for c in items)
    # a flaky check: failed, then passed on a re-run, and the re-run counts
    flaky = [pr for pr in prs
             if any(c.conclusion == "FAILURE" and c not in latest_per_name(pr.checks)
                    for c in pr.checks)]
    assert flaky
    assert any(len(pr.checks) > 100 for pr in prs)  # a rollup past one page


def test_rollup_pages_contexts_and_answers_is_required_for_its_own_pr(world: World,
                                                                      gql: Gql) -> None:
    prs = [pr for repo in world.repositories() for pr in repo.pull_requests]
    long = next(pr for pr in prs if len(pr.checks) > 100)
    other = next(pr for pr in prs if pr is not long)
    first = gql(QUERY, {"id": long.id, "other": other.id}).json()["data"]
    rollup = first["node"]["statusCheckRollup"]
    assert rollup["state"] == rollup_state(long.checks)
    contexts = rollup["contexts"]
    assert contexts["totalCount"] == len(long.checks) and contexts["pageInfo"]["hasNextPage"]
    assert first["rateLimit"]["cost"] == 1
    rest = gql(QUERY, {"id": long.id, "other": other.id,
                       "after": contexts["pageInfo"]["endCursor"]}).json()["data"]
    nodes = contexts["nodes"] + rest["node"]["statusCheckRollup"]["contexts"]["nodes"]
    assert len(nodes) == len(long.checks)
    assert [n["mine"] for n in nodes] == [c.is_required for c in long.checks]
    assert not any(n.get("theirs") for n in nodes)  # another PR's protection rule
    bare = next(pr for pr in prs if not pr.checks)
    none = gql(QUERY, {"id": bare.id, "other": other.id}).json()["data"]
    assert none["node"]["statusCheckRollup"] is None
