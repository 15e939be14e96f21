"""Teams through the whole DAG: GitHub teams and the teams file become a membership history,
and PRs are attributed to their author's teams when opened, days of syncs later too."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from .conftest import task_states
from .truth import TeamSync, assert_teams_match, assert_warehouse_matches, repositories

pytestmark = pytest.mark.e2e

BRIDGE = ("select pull_request_id, team, member_login, membership_source, attributed_by, "
          "membership_valid_from from analytics.bridge_pull_request_teams")
TEAM_WEEKS = "select * from analytics.mart_team_weekly"
SPANS = ("select team, login, role, is_inherited, source, valid_from, valid_to "
         "from analytics.dim_team_memberships")


@pytest.mark.slow
def test_a_move_between_two_days_leaves_last_weeks_teams_as_they_were(make_pipeline) -> None:
    pipeline = make_pipeline()
    world = pipeline.world
    repos = repositories(world)
    syncs: list[TeamSync] = []

    # The days lead up to the last run's warehouse, which dbt's data tests check (the days
    # before build the models only: tests/e2e/conftest.py).
    def run(data_tests: bool = False) -> None:
        result = pipeline.run({"orgs": ["acme"], "page_size": 100}, data_tests=data_tests)
        assert str(result.state) == "success", task_states(result)
        syncs.append(TeamSync(world.now, ["acme"]))
        assert_teams_match(pipeline, syncs, repos)

    # A week of dave's work, in backend, synced at its end.
    for day in range(7):
        world.add_pull_request("acme/docs", title=f"dave's day {day}", author="dave")
        world.advance(days=1)
    run()
    first_bridge = set(pipeline.query(BRIDGE))
    first_spans = set(pipeline.query(SPANS))
    dave_prs = {pr.id for pr in world.repo("acme/docs").pull_requests
                if pr.author and pr.author.login == "dave"}
    assert {(p, t) for p, t, *_ in first_bridge if p in dave_prs} == {
        (p, t) for p in dave_prs for t in ("acme/backend", "acme/platform")}
    # Case 33's team requests, known by heart: api-core answered by erin (the author's and
    # an outsider's comments before do not count), platform by bob (in backend, below it),
    # frontend's removed before grace answered.
    assert set(pipeline.query(
        "select team, outcome, responder_login, response_kind from analytics.fct_review_requests"
        " where repo = 'acme/api' and pr_number = 33")) == {
        ("acme/api-core", "responded", "erin", "COMMENTED"),
        ("acme/platform", "responded", "bob", "comment"),
        ("acme/frontend", "removed", None, None)}

    # Day 2: dave moves to frontend; the next sync records it.
    world.advance(days=1)
    moved_week = (world.now - timedelta(days=world.now.weekday())).date()
    last_weeks = {row for row in pipeline.query(TEAM_WEEKS) if row[1] < moved_week}
    assert {row[0] for row in last_weeks} >= {"acme/backend", "acme/platform"}
    world.move_team_member("acme", "dave", "backend", "frontend")
    run()
    second_sync = world.now
    # Last week's team figures are what they were: the move rewrites nothing before it.
    assert last_weeks == {row for row in pipeline.query(TEAM_WEEKS) if row[1] < moved_week}
    # Every PR x team row of day 1 is still there, unchanged.
    assert first_bridge <= set(pipeline.query(BRIDGE))
    # Every span of day 1 keeps its start; only the ones the move ended got an end.
    spans_now = {row[:6]: row[6] for row in pipeline.query(SPANS)}
    for *key, valid_to in first_spans:
        assert tuple(key) in spans_now, key
        ended = key[0] == "acme/backend" and key[1] == "dave"
        assert spans_now[tuple(key)] == (second_sync if ended else valid_to), key
    assert spans_now[("acme/frontend", "dave", "MEMBER", False, "github", second_sync)] is None

    # Later that day dave opens a PR: it counts for frontend (and platform above it).
    world.advance(hours=2)
    pr = world.add_pull_request("acme/docs", title="After the move", author="dave")
    run(data_tests=True)
    teams_of_new = {t for p, t, *_ in pipeline.query(BRIDGE) if p == pr.id}
    assert teams_of_new == {"acme/frontend", "acme/platform"}
    assert first_bridge <= set(pipeline.query(BRIDGE))
    assert_warehouse_matches(pipeline, repos)


def test_without_permission_the_file_is_used_and_the_run_succeeds(make_pipeline, monkeypatch,
                                                                  tmp_path: Path,
                                                                  caplog) -> None:
    """globex's teams are refused (one warning naming it and what the token lacks); acme's
    are read; the teams file puts sybil (globex) in payments and takes carol out of her
    GitHub teams; mona owns a repository and no teams."""
    from github_emulator import build_world

    world = build_world()
    globex = world.add_owner("globex")
    world.add_repository(globex, "billing")
    world.add_team(globex, "finance")
    world.add_team_member(globex, "finance", "sybil")
    world.deny_team_access(globex)
    for author in ("sybil", "carol", "alice", "dependabot"):
        world.add_pull_request("globex/billing", title=f"by {author}", author=author)
    teams_file = tmp_path / "teams.yaml"
    teams_file.write_text("teams:\n  payments: [sybil, Carol]\n")
    monkeypatch.setenv("PR_WAREHOUSE_TEAMS", str(teams_file))
    pipeline = make_pipeline(world)
    caplog.set_level(logging.WARNING)
    run = pipeline.run({"orgs": ["acme", "globex"], "repos": ["mona/dotfiles"],
                        "page_size": 100})
    assert str(run.state) == "success", task_states(run)
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno >= logging.WARNING and "globex" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "globex" in warnings[0] and "Members: read" in warnings[0]
    assert pipeline.query("select org, status from raw.org_team_syncs order by org") == [
        ("acme", "ok"), ("globex", "forbidden"), ("mona", "user")]
    repos = [*repositories(world), *repositories(world, "globex"),
             world.repo("mona/dotfiles")]
    syncs = [TeamSync(world.now, ["acme"], {"payments": ["sybil", "Carol"]})]
    assert_teams_match(pipeline, syncs, repos)
    by_pr = {}
    for pull_request_id, team, *_ in pipeline.query(BRIDGE):
        by_pr.setdefault(pull_request_id, set()).add(team)
    billing = {pr.title: by_pr.get(pr.id, set()) for pr in world.repo("globex/billing").pull_requests}
    assert billing == {"by sybil": {"payments"}, "by carol": {"payments"},
                       "by alice": {"acme/platform"}, "by dependabot": set()}
    # The teams query costs 1 point an owner: acme, globex (refused) and mona (a user).
    teams_ops = [e for e in pipeline.emulator.ledger.entries
                 if e.operation_name == "OrganizationTeams"]
    assert len(teams_ops) == 3 and sum(e.points for e in teams_ops) == 3
