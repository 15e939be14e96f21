"""Teams through the real extract and load: the product's client against the emulator's
HTTP server, a local object store and DuckDB files."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from github_emulator import Credentials, EmulatorServer, build_world
from pr_warehouse.client import GraphQLClient
from pr_warehouse.contracts import TeamsStatus
from pr_warehouse.extract.teams import (
    InvalidTeamsFile,
    TeamsFile,
    extract_teams,
)
from pr_warehouse.load.duckdb_loader import load_manifests, org_team_nodes
from pr_warehouse.storage import PageKind, RawStore, org_folder

TOKEN = "teams-test-token"
TEAMS_OP, MEMBERS_OP = "OrganizationTeams", "TeamMemberPages"


@pytest.fixture()
def world():
    return build_world()


@pytest.fixture()
def serve(world, tmp_path: Path):
    """``serve(**server_kwargs)`` -> (server, client, store) for the fixture's world."""
    opened: list = []

    def start(token: str = TOKEN, **kwargs):
        kwargs.setdefault("tokens", {token})
        server = EmulatorServer(world, **kwargs).start()
        client = GraphQLClient(server.url, token)
        opened.append((server, client))
        return server, client, RawStore((tmp_path / "raw").as_uri())

    yield start
    for server, client in opened:
        client.close()
        server.stop()


def ops(server: EmulatorServer, start: int = 0) -> Counter:
    return Counter(e.operation_name for e in server.ledger.entries[start:])


def members_by_team(store: RawStore, manifest, org: str = "acme") -> dict[str, dict[str, str]]:
    read = next(o for o in manifest.orgs if o.org == org)
    return {node["slug"]: {e["node"]["login"]: e["role"] for e in node["members"]["edges"]}
            for node, _ in org_team_nodes(store, read)}


def test_an_org_costs_one_point_users_are_skipped_and_pages_are_stored(world, serve) -> None:
    server, client, store = serve()
    manifest = extract_teams(client, store, "r1", ["acme", "mona"], TeamsFile())
    acme, mona = manifest.orgs
    assert (acme.status, mona.status) == (TeamsStatus.OK, TeamsStatus.NOT_AN_ORGANIZATION)
    assert acme.team_count == len(world.owners["acme"].teams) == 5
    assert acme.points_spent == 1 and acme.requests == 1 and acme.followup_pages == []
    assert ops(server) == {TEAMS_OP: 2}  # one question each; mona's answer says "User"
    # GitHub's clock (the emulator's world clock) is the sync time, not the worker's.
    assert acme.synced_at == world.now.isoformat()
    assert acme.pages == [f"runs/r1/{org_folder('acme')}/pages/teams-000001.json"]
    assert store.read_teams_manifest("r1") == manifest
    got = members_by_team(store, manifest)
    assert got["backend"] == {"bob": "MAINTAINER", "carol": "MEMBER", "dave": "MEMBER"}
    assert got["api-core"] == {"carol": "MEMBER", "erin": "MAINTAINER"}  # immediate only
    parents = {n["slug"]: (n["parentTeam"] or {}).get("slug")
               for n, _ in org_team_nodes(store, acme)}
    assert parents == {"platform": None, "backend": "platform", "frontend": "platform",
                       "api-core": "backend", "docs-team": None}


def test_a_rerun_with_the_cache_spends_nothing(world, serve) -> None:
    server, client, store = serve()
    first = extract_teams(client, store, "r1", ["acme"], TeamsFile())
    before = len(server.ledger.entries)
    again = extract_teams(client, store, "r1", ["acme"], TeamsFile())
    assert len(server.ledger.entries) == before
    assert again.orgs[0].pages_cached == 1 and again.orgs[0].synced_at == first.orgs[0].synced_at
    fresh = extract_teams(client, store, "r1", ["acme"], TeamsFile(), use_cache=False)
    assert ops(server, before) == {TEAMS_OP: 1} and fresh.orgs[0].pages_cached == 0


def test_long_member_lists_and_many_teams_stay_within_two_points(world, serve) -> None:
    """150 teams (two pages) and a team of 230 members (two follow-ups): nothing is cut
    short, and the whole org costs 2 points plus one per 100 long lists' pages."""
    org = world.add_owner("bigco")
    for i in range(150):
        world.add_team(org, f"team-{i:03d}")
    for i in range(230):
        world.add_team_member(org, "team-007", f"person-{i:03d}")
    server, client, store = serve()
    manifest = extract_teams(client, store, "r1", ["bigco"], TeamsFile())
    read = manifest.orgs[0]
    assert read.status is TeamsStatus.OK and read.team_count == 150
    assert ops(server) == {TEAMS_OP: 2, MEMBERS_OP: 2}
    assert read.points_spent == 4 and len(read.followup_pages) == 2
    assert len(members_by_team(store, manifest, "bigco")["team-007"]) == 230
    # A usual org of up to 100 teams of up to 100 members: 1 point (the test above).


def test_without_permission_one_warning_names_the_org_and_the_run_goes_on(world, serve,
                                                                         caplog) -> None:
    world.deny_team_access("acme")
    server, client, store = serve()
    with caplog.at_level(logging.DEBUG):
        manifest = extract_teams(client, store, "r1", ["acme", "mona"],
                                 TeamsFile(None, {"payments": ["alice"]}))
    acme = manifest.orgs[0]
    assert acme.status is TeamsStatus.FORBIDDEN and acme.pages == []
    assert "fine-grained" in acme.missing_permission and "Members: read" in acme.missing_permission
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "acme" in warnings[0] and "Members: read" in warnings[0]
    assert acme.synced_at == world.now.isoformat()  # the refusal's Date
    assert manifest.file_teams == {"payments": ["alice"]}
    assert ops(server)[TEAMS_OP] == 2  # fatal: asked once, not retried


def test_a_classic_token_without_read_org_gets_no_data(world, serve, caplog) -> None:
    """GitHub checks a classic token's scopes before running the query: data null and
    INSUFFICIENT_SCOPES; the warning says which scope is missing."""
    creds = Credentials({TOKEN}, scopes={TOKEN: ["repo"]})
    server, client, store = serve(credentials=creds)
    with caplog.at_level(logging.WARNING):
        manifest = extract_teams(client, store, "r1", ["acme"], TeamsFile())
    body = [e for e in server.ledger.entries if e.operation_name == TEAMS_OP]
    assert body[0].error_type == "INSUFFICIENT_SCOPES"
    assert manifest.orgs[0].status is TeamsStatus.FORBIDDEN
    assert "read:org" in manifest.orgs[0].missing_permission
    assert [r.getMessage() for r in caplog.records if "read:org" in r.getMessage()]


def test_an_unknown_owner_is_recorded_not_fatal(world, serve) -> None:
    server, client, store = serve()
    manifest = extract_teams(client, store, "r1", ["no-such-org"], TeamsFile())
    assert manifest.orgs[0].status is TeamsStatus.NOT_FOUND


def test_the_load_records_each_sync_and_the_file_and_a_reload_changes_nothing(
        world, serve, tmp_path: Path) -> None:
    server, client, store = serve()
    db = tmp_path / "w.duckdb"
    file = TeamsFile(tmp_path / "teams.yaml", {"payments": ["alice", "mallory"]})
    first = extract_teams(client, store, "r1", ["acme", "mona"], file)
    load_manifests(db, store, [], run_id="r1", teams=first)
    world.advance(days=1)
    world.move_team_member("acme", "dave", "backend", "frontend")
    second = extract_teams(client, store, "r2", ["acme"], file)
    result = load_manifests(db, store, [], run_id="r2", teams=second)
    assert result.team_orgs == ["acme"] and result.team_rows_written == 5
    load_manifests(db, store, [], run_id="r2", teams=second)  # a load run again
    con = duckdb.connect(str(db), read_only=True)
    try:
        syncs = con.execute("select org, synced_at, status, team_count, run_id "
                            "from raw.org_team_syncs order by synced_at, org").fetchall()
        points = con.execute("select sum(points_spent) from raw.org_team_syncs").fetchall()
        teams = con.execute("select synced_at, slug, team from raw.org_teams "
                            "where slug = 'frontend' order by synced_at").fetchall()
        files = con.execute("select synced_at, teams, run_id from raw.team_file_syncs "
                            "order by synced_at").fetchall()
    finally:
        con.close()
    t0 = world.now - timedelta(days=1)
    assert [(o, s, st, n, r) for o, s, st, n, r in syncs] == [
        ("acme", t0, "ok", 5, "r1"), ("mona", t0, "user", 0, "r1"),
        ("acme", world.now, "ok", 5, "r2")]
    assert points == [(3,)]  # 1 point an owner and sync: acme twice, mona once
    logins = [{e["node"]["login"] for e in json.loads(team)["members"]["edges"]}
              for _, _, team in teams]
    assert logins == [{"frank", "grace", "heidi"}, {"dave", "frank", "grace", "heidi"}]
    assert [(s, json.loads(t), r) for s, t, r in files] == [
        (t0, {"payments": ["alice", "mallory"]}, "r1"),
        (world.now, {"payments": ["alice", "mallory"]}, "r2")]


@pytest.mark.parametrize("text, problem", [
    ("teams: [a, b]", "must map team names"),
    ("teams:\n  payments: alice", "must list logins"),
    ("teams:\n  payments: [not a login]", "not a GitHub organization or user login"),
    ("teams: {", "not valid YAML"),
])
def test_a_bad_teams_file_is_named(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "projects.yaml"
    path.write_text(text)
    with pytest.raises(InvalidTeamsFile, match=problem):
        TeamsFile.read(path)


def test_the_projects_file_teams_section_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "projects.yaml"
    path.write_text("projects:\n  demo:\n    orgs: [acme]\nteams:\n  payments: [alice, Bob, alice]\n")
    assert TeamsFile.read(path).teams == {"payments": ["alice", "Bob"]}
    assert TeamsFile.read(tmp_path / "absent.yaml") == TeamsFile(None, {})
    path.write_text("projects: {}\n")
    assert TeamsFile.read(path).teams == {}


def test_pages_kinds_do_not_mix(world, serve) -> None:
    """Teams pages and their follow-ups are separate kinds of the org's folder."""
    org = world.add_owner("bigco")
    world.add_team(org, "one")
    for i in range(120):
        world.add_team_member(org, "one", f"person-{i:03d}")
    server, client, store = serve()
    extract_teams(client, store, "r1", ["bigco"], TeamsFile())
    folder = org_folder("bigco")
    assert [r.page for r in store.committed_pages("r1", folder, PageKind.TEAMS)] == [1]
    assert [r.page for r in store.committed_pages("r1", folder, PageKind.TEAMS_FOLLOWUP)] == [1]
