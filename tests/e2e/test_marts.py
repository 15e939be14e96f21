"""The analytics marts' numbers, recomputed from the emulator's world by their definitions."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from .conftest import built_resource_types, task_states
from .truth import (
    CYCLE_TIME_COLUMNS,
    cycle_time_row,
    cycle_time_weekly_rows,
    label_time_rows,
    pull_requests,
    repositories,
)

pytestmark = pytest.mark.e2e

AS_OF = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def synced(make_module_pipeline):
    """One DAG run over the demo org, anchored at AS_OF (its logical date), with the
    transform's default build: its data tests check this world's warehouse."""
    pipeline = make_module_pipeline()
    run = pipeline.run({"orgs": ["acme"], "page_size": 100}, logical_date=AS_OF)
    assert str(run.state) == "success", task_states(run)
    return pipeline, pull_requests(repositories(pipeline.world))


def test_the_default_build_runs_the_data_tests_not_the_unit_tests(synced) -> None:
    """Models and data tests; never the unit tests (they check the SQL, in tests/dbt)."""
    built = built_resource_types(synced[0])
    assert {"model", "test"} <= built and "unit_test" not in built


def test_assignee_workload(synced) -> None:
    pipeline, prs = synced
    open_prs, drafts, merged_7, merged_30 = Counter(), Counter(), Counter(), Counter()
    for pr in prs.values():
        for person in {a.login for a in pr.assignees if not a.deleted}:
            if pr.state == "OPEN":
                open_prs[person] += 1
                drafts[person] += pr.is_draft
            if pr.merged_at and AS_OF - timedelta(days=7) < pr.merged_at <= AS_OF:
                merged_7[person] += 1
            if pr.merged_at and AS_OF - timedelta(days=30) < pr.merged_at <= AS_OF:
                merged_30[person] += 1
    rows = pipeline.query("select assignee_login, open_prs, open_draft_prs, merged_last_7_days, "
                          "merged_last_30_days from analytics.mart_assignee_workload")
    assert rows, "no workload rows"
    for login, open_count, draft_count, m7, m30 in rows:
        assert (open_count, draft_count, m7, m30) == (
            open_prs[login], drafts[login], merged_7[login], merged_30[login]), login
    # Someone carries two or more open PRs with a draft among them, as the mart shows.
    assert any(o >= 2 and d >= 1 for _, o, d, _, _ in rows)


def test_milestone_progress_and_overdue(synced) -> None:
    pipeline, prs = synced
    by_milestone: dict[tuple[str, int], list] = defaultdict(list)
    for (repo, _), pr in prs.items():
        if pr.milestone:
            by_milestone[(repo, pr.milestone.number)].append(pr)
    rows = pipeline.query("select repo, milestone_number, prs_total, prs_open, prs_merged, "
                          "is_overdue from analytics.mart_milestone_progress")
    assert {(r, n) for r, n, *_ in rows} == set(by_milestone)
    for repo, number, total, open_count, merged, overdue in rows:
        group = by_milestone[(repo, number)]
        due = group[0].milestone.due_on
        still_open = sum(p.state == "OPEN" for p in group)
        assert (total, open_count, merged) == (
            len(group), still_open, sum(p.state == "MERGED" for p in group)), (repo, number)
        assert overdue == bool(due is not None and due < AS_OF and still_open), (repo, number)
    assert any(row[-1] for row in rows), "the demo org has an overdue milestone"


def test_cycle_time_fact_recomputed_from_the_world_for_every_pr(synced) -> None:
    """Every column of fct_pull_request_cycle_time equals its definition, computed in
    Python from the emulator's objects (tests/e2e/truth.py), for every PR."""
    pipeline, prs = synced
    columns = ["repo", "pr_number", *CYCLE_TIME_COLUMNS]
    rows = pipeline.query(f"select {', '.join(columns)} from analytics.fct_pull_request_cycle_time")
    assert len(rows) == len(prs)
    got = {(r[0], r[1]): dict(zip(CYCLE_TIME_COLUMNS, r[2:])) for r in rows}
    assert set(got) == set(prs)
    mismatches = []
    for key, pr in prs.items():
        expected = cycle_time_row(pr, AS_OF)
        for column, value in expected.items():
            if got[key][column] != (pytest.approx(value, abs=1e-6) if isinstance(value, float)
                                    else value):
                mismatches.append((key, column, got[key][column], value))
    assert not mismatches, mismatches[:20]
    # The world exercises every rule: bounced drafts, pickups, bots, merges without review.
    values = list(got.values())
    assert any(v["draft_hours"] > 0 and v["merged_at"] for v in values)
    assert any(v["merged_without_review"] for v in values)
    assert any(v["is_bot_author"] for v in values) and any(v["first_commit_at"] is None
                                                          for v in values)
    assert any(v["coding_hours"] == 0 for v in values)
    bounced = got[("acme/api", pipeline.world.special["draft_bounced"][1])]
    assert (bounced["draft_hours"], bounced["pickup_hours"], bounced["review_hours"]) == (5, 1, 6)
    # Review depth and rework, by heart: a re-request after changes requested (the author
    # committing between) and a force push after review (demo cases 31 and 32).
    rework = ("review_count", "review_rounds", "commits_after_first_response",
              "force_pushes_after_first_response")
    for case, figures in (("rework_after_changes_requested", (2, 2, 2, 0)),
                          ("force_pushed_after_review", (3, 1, 1, 1))):
        row = got[("acme/api", pipeline.world.special[case][1])]
        assert tuple(row[c] for c in rework) == figures, case
    assert any(v["review_rounds"] > 1 for v in values)
    # Review-thread comments (demo case 32): dave's three count, the bot's two do not.
    case = got[("acme/api", pipeline.world.special["force_pushed_after_review"][1])]
    assert case["review_comment_count"] == 3
    assert sum(v["review_comment_count"] > 1 for v in values) >= 10
    assert sum(v["commits_after_first_response"] > 0 for v in values) >= 10
    assert sum(v["force_pushes_after_first_response"] > 0 for v in values) >= 3


def test_cycle_time_weekly_recomputed_from_the_world(synced) -> None:
    pipeline, prs = synced
    expected = cycle_time_weekly_rows(prs, AS_OF)
    names = list(next(iter(expected.values())))
    rows = pipeline.query(f"select repo, iso_week, {', '.join(names)} "
                          "from analytics.mart_cycle_time_weekly")
    got = {(r[0], r[1]): dict(zip(names, r[2:])) for r in rows}
    assert set(got) == set(expected)
    for key, figures in expected.items():
        assert got[key] == {name: pytest.approx(value) if isinstance(value, float) else value
                            for name, value in figures.items()}, key


def test_label_time_recomputed_from_the_world_for_every_span(synced) -> None:
    """fct_pull_request_label_time (the page's *Time in label*): every span that held an
    open PR, its end and its hours, replayed from each PR's timeline in Python."""
    pipeline, prs = synced
    rows = pipeline.query("select repo, pr_number, label_name, added_at, held_until, "
                          "hours_held, is_holding from analytics.fct_pull_request_label_time")
    expected = label_time_rows(prs, AS_OF)
    assert Counter(r[:5] for r in rows) == expected
    for _, _, _, added, until, hours, holding in rows:
        assert hours == pytest.approx((until - added).total_seconds() / 3600)
        assert holding == (until == AS_OF)
    # Both ends occur: spans ended by a removal or a close, and spans still holding.
    assert any(r[6] for r in rows) and sum(not r[6] for r in rows) >= 10


def test_hours_open_is_relative_to_the_run_not_the_wall_clock(synced) -> None:
    pipeline, prs = synced
    rows = pipeline.query("select repo, pr_number, hours_open from analytics.mart_open_pull_requests")
    assert len(rows) == pipeline.query(
        "select count(*) from analytics.fct_pull_requests where state = 'OPEN'")[0][0] > 0
    for repo, number, hours in rows:
        created = prs[(repo, number)].created_at
        assert hours == pytest.approx(max((AS_OF - created).total_seconds() / 3600, 0)), number


def test_readme_analyst_queries_run_on_the_snapshot(synced) -> None:
    """The README's example queries run, read-only, on the snapshot analysts open."""
    import re

    import duckdb

    from conftest import ROOT

    pipeline, _ = synced
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## For analysts"):readme.index("## Run in production")]
    queries = re.findall(r"```sql\n(.*?)```", section, re.S)
    # four questions, one query per cycle-time phase, review depth and rework, per history
    # span, time in label, team memberships, team weeks, waiting requests and reviewer weeks, two on CI
    # checks, one per DORA key
    assert len(queries) == 23
    con = duckdb.connect(str(pipeline.snapshot_path), read_only=True)
    try:
        results = [con.execute(q).fetchall() for q in queries]
    finally:
        con.close()
    assert all(results), "every example returns rows on the demo org"
