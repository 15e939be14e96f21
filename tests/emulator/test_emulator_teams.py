"""The emulator's teams: nesting, members with roles, changes between syncs recorded in the
world's history, and the answers GitHub gives a credential that may not read them."""

from __future__ import annotations

import email.utils
import time

import jwt
import pytest
import requests

from app_keys import APP_ID, INSTALLATION_ID, key_pair
from github_emulator import Credentials, EmulatorServer, GitHubApp, World, build_world
from github_emulator.generate import TEAM_SLUGS

from .conftest import Gql, make_gql

TEAMS = """
query Teams($login: String!, $membership: TeamMembershipType!) {
  repositoryOwner(login: $login) {
    __typename
    ... on Organization {
      teams(first: 100) {
        totalCount
        nodes { slug name parentTeam { slug }
                members(first: 100, membership: $membership) {
                  totalCount edges { role node { login } } } }
      }
    }
  }
}
"""


def teams(gql: Gql, membership: str = "IMMEDIATE", login: str = "acme") -> dict:
    answer = gql(TEAMS, {"login": login, "membership": membership}).json()
    owner = answer["data"]["repositoryOwner"]
    return {t["slug"]: (t["parentTeam"] and t["parentTeam"]["slug"],
                        {e["node"]["login"]: e["role"] for e in t["members"]["edges"]})
            for t in owner["teams"]["nodes"]}


def test_the_demo_org_has_nested_teams_and_people_in_two_teams(gql: Gql) -> None:
    got = teams(gql)
    assert got["platform"] == (None, {"alice": "MAINTAINER"})
    assert got["backend"] == ("platform", {"bob": "MAINTAINER", "carol": "MEMBER",
                                           "dave": "MEMBER"})
    assert got["api-core"] == ("backend", {"carol": "MEMBER", "erin": "MAINTAINER"})
    in_two = {login for login in ("carol", "grace")
              if sum(login in members for _, members in got.values()) == 2}
    assert in_two == {"carol", "grace"}


def test_membership_all_adds_child_teams_members_as_members(gql: Gql) -> None:
    everyone = teams(gql, "ALL")
    # platform > backend > api-core, platform > frontend: platform holds them all.
    assert set(everyone["platform"][1]) == {"alice", "bob", "carol", "dave", "erin", "frank",
                                            "grace", "heidi"}
    assert everyone["platform"][1]["bob"] == "MEMBER"  # a maintainer below, a member here
    assert everyone["backend"][1]["carol"] == "MEMBER"
    assert set(teams(gql, "CHILD_TEAM")["backend"][1]) == {"erin"}


def test_a_move_between_syncs_is_served_and_recorded_with_its_time(world: World,
                                                                   gql: Gql) -> None:
    before = world.now
    world.advance(days=1)
    world.move_team_member("acme", "dave", "backend", "frontend")
    got = teams(gql)
    assert "dave" not in got["backend"][1] and got["frontend"][1]["dave"] == "MEMBER"
    history = world.owners["acme"].team_history
    assert [at for at, _ in history] == [before, world.now]
    assert "dave" in history[0][1]["backend"][2] and "dave" in history[1][1]["frontend"][2]
    world.remove_team_member("acme", "frontend", "dave")
    assert "dave" not in teams(gql)["frontend"][1]
    assert len(history) == 2  # the same instant: one entry, the latest state


def test_the_date_header_is_the_world_clock(world: World, gql: Gql) -> None:
    world.advance(hours=5)
    sent = gql("{ viewer { login } }").headers["Date"]
    assert email.utils.parsedate_to_datetime(sent) == world.now


def test_an_org_whose_teams_the_token_cannot_read_answers_forbidden(world: World,
                                                                    gql: Gql) -> None:
    world.deny_team_access("acme")
    answer = gql(TEAMS, {"login": "acme", "membership": "IMMEDIATE"}).json()
    # teams is non-null, so the null climbs to the (nullable) owner, as on GitHub.
    assert answer["data"] == {"repositoryOwner": None}
    (error,) = answer["errors"]
    assert (error["type"], error["path"]) == ("FORBIDDEN", ["repositoryOwner", "teams"])
    assert error["message"] == "Resource not accessible by personal access token"
    # The rest of the org is still readable.
    repos = gql('{ organization(login: "acme") { repositories(first: 1) { totalCount } } }')
    assert "errors" not in repos.json()


def test_a_classic_token_without_read_org_gets_no_data_at_all(world: World) -> None:
    creds = Credentials({"ghp-with-org", "ghp-repo-only"},
                        scopes={"ghp-repo-only": ["repo"], "ghp-with-org": ["repo", "read:org"]})
    with EmulatorServer(world, credentials=creds) as server:
        gql = make_gql(server)
        refused = gql(TEAMS, {"login": "acme", "membership": "IMMEDIATE"},
                      token="ghp-repo-only").json()
        assert refused["data"] is None
        (error,) = refused["errors"]
        assert error["type"] == "INSUFFICIENT_SCOPES" and "path" not in error
        assert "['read:org']" in error["message"] and "'repo'" in error["message"]
        assert server.ledger.entries[-1].error_type == "INSUFFICIENT_SCOPES"
        assert teams(lambda *a, **k: gql(*a, token="ghp-with-org", **k))["platform"]
        # A query that reads no teams is unaffected.
        assert "errors" not in gql("{ viewer { login } }", token="ghp-repo-only").json()


@pytest.mark.parametrize("granted, readable", [
    ((("metadata", "read"), ("pull_requests", "read")), False),
    ((("members", "read"), ("metadata", "read"), ("pull_requests", "read")), True),
])
def test_an_app_needs_members_read(world: World, granted, readable: bool) -> None:
    app = GitHubApp(APP_ID, key_pair()[1], frozenset({INSTALLATION_ID}), permissions=granted)
    with EmulatorServer(world, credentials=Credentials(set(), apps=[app])) as server:
        now = int(time.time())
        jwt_text = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": APP_ID},
                              key_pair()[0], algorithm="RS256")
        issued = requests.post(
            f"http://127.0.0.1:{server.port}/app/installations/{INSTALLATION_ID}/access_tokens",
            headers={"Authorization": f"Bearer {jwt_text}"}, timeout=10).json()
        assert ("members" in issued["permissions"]) is readable
        answer = make_gql(server)(TEAMS, {"login": "acme", "membership": "IMMEDIATE"},
                                  token=issued["token"]).json()
        if readable:
            assert answer["data"]["repositoryOwner"]["teams"]["totalCount"] == 5
        else:
            assert answer["errors"][0]["message"] == "Resource not accessible by integration"


def test_users_have_no_teams(gql: Gql) -> None:
    answer = gql(TEAMS, {"login": "mona", "membership": "IMMEDIATE"}).json()
    assert answer["data"]["repositoryOwner"] == {"__typename": "User"}


def test_teams_added_later_leave_generated_prs_as_they_were() -> None:
    """The generator's review requests pick among TEAM_SLUGS only: the nested team added
    after them changes no generated PR."""
    world = build_world()
    org = world.owners["acme"]
    assert list(org.teams)[: len(TEAM_SLUGS)] == list(TEAM_SLUGS)
    requested = {r.requested_reviewer.slug for pr in world.repo("acme/api").pull_requests
                 for r in pr.review_requests if hasattr(r.requested_reviewer, "slug")}
    assert requested <= set(TEAM_SLUGS)


def test_a_team_cannot_be_nested_under_its_descendant(world: World) -> None:
    with pytest.raises(ValueError, match="descendant"):
        world.set_team_parent("acme", "platform", "api-core")
    with pytest.raises(ValueError, match="only users"):
        world.add_team_member("acme", "backend", "dependabot")


@pytest.mark.parametrize("selection, error_type", [
    ("teams(first: 101) { nodes { slug } }", "EXCESSIVE_PAGINATION"),
    ("teams { nodes { slug } }", "MISSING_PAGINATION_BOUNDARIES"),
    ("teams(first: 1) { nodes { members(first: 101) { edges { role } } } }",
     "EXCESSIVE_PAGINATION"),
    ("teams(first: 1) { nodes { members { nodes { login } } } }",
     "MISSING_PAGINATION_BOUNDARIES"),
])
def test_team_connections_are_paginated_as_on_github(gql: Gql, selection: str,
                                                     error_type: str) -> None:
    answer = gql('{ organization(login: "acme") { %s } }' % selection).json()
    assert answer["errors"][0]["type"] == error_type


def test_a_team_is_a_node_and_its_members_page_on(world: World, gql: Gql) -> None:
    for i in range(3):
        world.add_team_member("acme", "docs-team", f"writer-{i}")
    team_id = world.owners["acme"].teams["docs-team"].id
    query = ("query($id: ID!, $after: String) { node(id: $id) { ... on Team { slug "
             "members(first: 2, after: $after, membership: IMMEDIATE) { totalCount "
             "pageInfo { hasNextPage endCursor } edges { role node { login } } } } } }")
    logins, after = [], None
    while True:
        members = gql(query, {"id": team_id, "after": after}).json()["data"]["node"]["members"]
        logins += [e["node"]["login"] for e in members["edges"]]
        if not members["pageInfo"]["hasNextPage"]:
            break
        after = members["pageInfo"]["endCursor"]
    assert logins == ["grace", "ivan", "judy", "writer-0", "writer-1", "writer-2"]
