"""CI checks through the whole DAG: every check row and every checks column of the cycle
time, recomputed from the emulator's world (tests/e2e/truth_checks.py), equal."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from .conftest import task_states
from .truth import pull_requests, repositories
from .truth_checks import (
    CHECK_COLUMNS,
    CHECKS_SQL,
    CYCLE_CHECK_COLUMNS,
    check_rows,
    cycle_check_row,
)

pytestmark = pytest.mark.e2e

AS_OF = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
CYCLE_SQL = (f"select repo, pr_number, {', '.join(CYCLE_CHECK_COLUMNS)} "
             "from analytics.fct_pull_request_cycle_time")


@pytest.fixture(scope="module")
def synced(make_module_pipeline):
    """One DAG run over the demo org, anchored at AS_OF."""
    # The same world, conf and date as test_marts' sync, whose run data-tests this very
    # warehouse: here the models only (tests/e2e/conftest.py).
    pipeline = make_module_pipeline()
    run = pipeline.run({"orgs": ["acme"], "page_size": 100}, logical_date=AS_OF,
                       data_tests=False)
    assert str(run.state) == "success", task_states(run)
    return pipeline


def assert_checks_match(pipeline, as_of: datetime) -> dict:
    """Every check row and every cycle-time checks column equals the truth; the rows."""
    prs = pull_requests(repositories(pipeline.world))
    got = pipeline.query(CHECKS_SQL)
    assert len(got) == len({r[0] for r in got})
    expected = check_rows(prs)
    rows = {r[0]: r[1:] for r in got}
    assert set(rows) == set(expected)
    mismatches = [(k, c, g, e) for k, row in rows.items()
                  for c, g, e in zip(CHECK_COLUMNS, row, expected[k], strict=True) if g != e]
    assert not mismatches, mismatches[:20]
    cycle = {(r[0], r[1]): dict(zip(CYCLE_CHECK_COLUMNS, r[2:], strict=True))
             for r in pipeline.query(CYCLE_SQL)}
    assert set(cycle) == set(prs)
    wrong = []
    for key, pr in prs.items():
        for column, value in cycle_check_row(pr, as_of).items():
            want = pytest.approx(value, abs=1e-6) if isinstance(value, float) else value
            if cycle[key][column] != want:
                wrong.append((key, column, cycle[key][column], value))
    assert not wrong, wrong[:20]
    return cycle


@pytest.mark.slow
def test_every_check_and_checks_column_recomputed_from_the_world(synced) -> None:
    cycle = assert_checks_match(synced, AS_OF)
    rows = synced.query(CHECKS_SQL)
    # The world exercises every rule: required and optional checks, re-runs, statuses
    # beside check runs, PRs without checks, a rollup longer than one page.
    assert any(r[6] for r in rows) and any(r[6] is False for r in rows)
    assert any(r[-1] is False for r in rows)  # a superseded first run of a flaky check
    assert {r[5] for r in rows} == {"check_run", "status"}
    assert any(v["checks_state"] is None and v["checks_failed"] == 0 for v in cycle.values())
    assert any(v["checks_failed"] for v in cycle.values())
    assert any(v["time_to_green_hours"] == 0 for v in cycle.values())
    assert any((v["time_to_green_hours"] or 0) > 0 for v in cycle.values())
    per_pr = synced.query("select pull_request_id, count(*) from analytics.fct_pull_request_checks"
                          " group by 1 having count(*) > 100")
    assert per_pr, "no rollup needed a follow-up page"


@pytest.mark.slow
def test_checks_cost_at_most_15_points_per_1000_prs(synced) -> None:
    import json

    metas = [json.loads(p.read_text()) for p in synced.raw_dir.rglob("checks-*.meta.json")]
    first_pages = {r["id"] for m in metas for r in m["requests"] if r["after"] is None}
    points = sum(m["cost"] for m in metas)
    assert first_pages and points * 1000 / len(first_pages) <= 15


@pytest.mark.slow
def test_a_push_with_new_checks_updates_an_incremental_build(synced) -> None:
    """A new head commit brings new checks; the next (incremental) sync replaces the PR's
    checks rows and its checks columns, and leaves every other PR as it was."""
    world = synced.world
    pr = next(p for p in world.repo("acme/api").pull_requests
              if p.state == "OPEN" and p.checks and p.commits)
    from github_emulator.checks import CheckContext

    world.advance(hours=2)
    world.add_commit("acme/api", pr.number)
    head = max(c.committed_at for c in pr.commits)
    pr.checks = [CheckContext(pr, 100 + i, "CheckRun", name, True, head + timedelta(minutes=1),
                              head + timedelta(minutes=9), status="COMPLETED",
                              conclusion=conclusion, workflow="CI", event="pull_request",
                              app=("GitHub Actions", "github-actions"))
                 for i, (name, conclusion) in enumerate((("build", "SUCCESS"),
                                                         ("test", "TIMED_OUT")))]
    as_of = AS_OF + timedelta(days=1)
    # The models only: the next test's incremental build (on top of this one) runs the
    # data tests on this warehouse.
    run = synced.run({"orgs": ["acme"], "page_size": 100}, logical_date=as_of,
                     data_tests=False)
    assert str(run.state) == "success", task_states(run)
    cycle = assert_checks_match(synced, as_of)
    row = cycle[("acme/api", pr.number)]
    assert (row["checks_state"], row["checks_failed"], row["checks_passed_at"]) == (
        "FAILURE", 1, None)


@pytest.mark.slow
def test_a_rerun_that_turns_an_open_pr_green_is_seen_without_a_pr_update(synced) -> None:
    """A re-run moves no PR's updatedAt: the next sync asks again for the open PRs whose
    stored checks were not settled, and the incremental build takes the new checks."""
    from github_emulator.checks import CheckContext, latest_per_name, rollup_state

    world = synced.world
    repo = world.repo("acme/api")
    pr = next(p for p in repo.pull_requests
              if p.state == "OPEN" and rollup_state(p.checks) == "FAILURE"
              and all(c.kind == "CheckRun" for c in latest_per_name(p.checks) if c.failed))
    updated = pr.updated_at
    world.advance(hours=3)
    for failed in [c for c in latest_per_name(pr.checks) if c.failed]:
        start = world.now - timedelta(minutes=30)
        pr.checks.append(CheckContext(
            pr, len(pr.checks) + 1, "CheckRun", failed.name, failed.is_required, start,
            start + timedelta(minutes=10), status="COMPLETED", conclusion="SUCCESS",
            workflow=failed.workflow, event=failed.event, app=failed.app))
    assert pr.updated_at == updated and rollup_state(pr.checks) == "SUCCESS"
    # Another PR of the repository changes, so the plan extracts it (a repository with no
    # change at all is skipped by the probe, its checks asked again on its next change).
    other = next(p for p in repo.pull_requests if p.state == "OPEN" and p is not pr)
    world.touch("acme/api", other.number)
    as_of = AS_OF + timedelta(days=2)
    run = synced.run({"orgs": ["acme"], "page_size": 100}, logical_date=as_of)
    assert str(run.state) == "success", task_states(run)
    cycle = assert_checks_match(synced, as_of)
    row = cycle[("acme/api", pr.number)]
    assert row["checks_state"] == "SUCCESS" and row["checks_failed"] == 0
    assert row["checks_passed_at"] is not None
