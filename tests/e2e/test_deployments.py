"""Deployments through the whole DAG: fct_deployments, the cycle-time deploy columns and
mart_dora_weekly, every row recomputed from the emulator's world (truth_deployments.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from github_emulator.deploys import deploy, deploy_state

from .conftest import task_states
from .truth import repositories
from .truth_deployments import cycle_time_deploy_rows, deploy_rows, dora_weekly_rows

pytestmark = pytest.mark.e2e

AS_OF = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
DEPLOY_COLUMNS = ("deployment_id", "repo", "environment", "is_production", "commit_oid",
                  "created_at", "final_state", "finished_at", "source", "outcome",
                  "is_rolled_back", "restored_at")
DORA_COLUMNS = ("deployments", "production_deployments", "failed_deployments",
                "rolled_back_deployments", "change_failure_rate", "deployed_pull_requests",
                "lead_time_median_hours", "time_to_restore_median_hours",
                "deployment_frequency_band", "lead_time_band", "change_failure_rate_band",
                "time_to_restore_band", "dora_report_year")
CYCLE_SQL = ("select pull_request_id, deployed_at, deploy_hours, lead_time_hours "
             "from analytics.fct_pull_request_cycle_time")


@pytest.fixture(scope="module")
def synced(make_module_pipeline):
    """One DAG run over the demo org."""
    # The same world, conf and date as test_marts' sync, whose run data-tests this very
    # warehouse: here the models only (tests/e2e/conftest.py).
    pipeline = make_module_pipeline()
    run = pipeline.run({"orgs": ["acme"], "page_size": 100}, logical_date=AS_OF,
                       data_tests=False)
    assert str(run.state) == "success", task_states(run)
    repos = repositories(pipeline.world)
    return pipeline, repos, deploy_rows(repos)


def close(a: float | None, b: float | None) -> bool:
    return (a is None) == (b is None) and (a is None or abs(a - b) < 1e-6)


def assert_deploys_match(pipeline, expected: dict) -> None:
    got = pipeline.query(f"select {', '.join(DEPLOY_COLUMNS)} from analytics.fct_deployments")
    assert len(got) == len(expected)
    for row in got:
        want = expected[row[0]]
        assert row == tuple(want[c] for c in DEPLOY_COLUMNS), (row, want)


def assert_cycle_columns_match(pipeline, repos, deploys: dict) -> None:
    expected = cycle_time_deploy_rows(repos, deploys)
    got = {row[0]: row[1:] for row in pipeline.query(CYCLE_SQL)}
    assert set(got) == set(expected)
    for pr_id, (at, deploy_hours, lead_hours) in expected.items():
        row = got[pr_id]
        assert row[0] == at and close(row[1], deploy_hours) and close(row[2], lead_hours), (
            pr_id, row, expected[pr_id])


def test_every_deployment_matches_the_world(synced) -> None:
    pipeline, _, expected = synced
    assert_deploys_match(pipeline, expected)


def test_the_world_has_every_case(synced) -> None:
    """Failures, rollbacks, restores, staging beside production, a repository shipping
    by release, and merge commits deployed by a later deployment than their own merge."""
    pipeline, repos, expected = synced
    rows = list(expected.values())
    assert {r["outcome"] for r in rows if r["is_production"]} >= {"SUCCESS", "FAILURE", "ERROR"}
    assert any(r["is_rolled_back"] for r in rows)
    assert any(r["restored_at"] for r in rows)
    assert any(not r["is_production"] for r in rows)
    assert {r["repo"] for r in rows if r["source"] == "release"} == {"acme/docs"}
    deployed = cycle_time_deploy_rows(repos, expected)
    later = [at for at, hours, _ in deployed.values() if at is not None and hours > 24]
    assert later, "no merge commit waited for a later deployment"
    assert any(at is None for at, _, _ in deployed.values())


def test_cycle_time_deploy_columns_match(synced) -> None:
    pipeline, repos, expected = synced
    assert_cycle_columns_match(pipeline, repos, expected)


def test_dora_weekly_matches(synced) -> None:
    pipeline, repos, expected = synced
    want = dora_weekly_rows(repos, expected)
    got = pipeline.query(f"select repo, week_start, {', '.join(DORA_COLUMNS)} "
                         "from analytics.mart_dora_weekly")
    assert len(got) == len(want)
    for repo, week, *values in got:
        row = want[(repo, week)]
        for column, value in zip(DORA_COLUMNS, values, strict=True):
            assert (close(value, row[column]) if isinstance(row[column], float)
                    else value == row[column]), (repo, week, column, value, row[column])


def test_a_first_sync_walks_every_page_and_records_the_points(synced) -> None:
    pipeline, repos, _ = synced
    manifests = [json.loads(p.read_text())
                 for p in pipeline.raw_dir.glob("runs/*/acme/*/manifest.json")]
    by_repo = {m["repo"]: m for m in manifests}
    for repo in repos:
        manifest = by_repo[repo.name_with_owner]
        deployments = len(deploy_state(repo).deployments)
        # 50 deployments a page; at least one page (releases and history share it)
        assert len(manifest["deploy_pages"]) >= max(1, -(-deployments // 50))
        assert manifest["deploy_points"] == len(manifest["deploy_pages"])


@pytest.mark.slow
def test_a_deploy_after_the_merge_reaches_the_pr_on_the_next_day(make_pipeline) -> None:
    """A deployment changes no PR (no updatedAt): the next run still reads it (the probe
    sees it), and the merged PR awaiting it gets its deployed_at, for 1 point."""
    pipeline = make_pipeline()
    world = pipeline.world
    pr = world.add_pull_request("acme/web", title="Ship me", author="alice")
    world.advance(hours=3)
    world.merge("acme/web", pr.number, by="bob")
    world.advance(hours=2)
    # dbt's data tests check the last run's warehouse (tests/e2e/conftest.py).
    first = pipeline.run({"orgs": ["acme"], "page_size": 100}, data_tests=False)
    assert str(first.state) == "success", task_states(first)
    repos = repositories(world)
    assert_cycle_columns_match(pipeline, repos, deploy_rows(repos))
    assert pipeline.query(CYCLE_SQL + " where pull_request_id = ?", [pr.id])[0][1] is None

    world.advance(days=1)
    shipped = deploy(world, "acme/web", "Production", minutes=12)
    world.advance(hours=1)
    second = pipeline.run({"orgs": ["acme"], "page_size": 100})
    assert str(second.state) == "success", task_states(second)
    expected = deploy_rows(repos)
    assert_deploys_match(pipeline, expected)
    assert_cycle_columns_match(pipeline, repos, expected)
    (deployed_at,), = [r[1:2] for r in pipeline.query(CYCLE_SQL + " where pull_request_id = ?",
                                                      [pr.id])]
    assert deployed_at == shipped.statuses[1][1]
    run_key = sorted(p.parents[2].name for p in
                     pipeline.raw_dir.glob("runs/*/acme/web/manifest.json"))
    daily = json.loads((pipeline.raw_dir / "runs" / run_key[-1] / "acme/web/manifest.json")
                       .read_text())
    assert (len(daily["deploy_pages"]), daily["deploy_points"]) == (1, 1)
