"""Daily sync: watermarks, the probe, caching and resuming, against the emulator's clock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from conftest import ROOT
from pr_warehouse.contracts import ExtractBatch, ExtractJob, Manifest
from .conftest import task_states
from .truth import assert_warehouse_matches, repositories

pytestmark = pytest.mark.e2e

PAGE_OP = "RepositoryPullRequests"


def ledger_since(pipeline, start: int) -> list:
    return pipeline.emulator.ledger.entries[start:]


@pytest.mark.slow
def test_daily_run_fetches_only_what_changed(make_pipeline) -> None:
    # The models only: dbt's data tests check an incremental build's warehouse in
    # test_clear_reseeds_the_selected_repositories and on the last day of
    # tests/dbt/test_incremental_equality.py (tests/e2e/conftest.py).
    pipeline = make_pipeline(data_tests=False)
    world = pipeline.world
    first = pipeline.run({"orgs": ["acme"], "page_size": 50})
    assert str(first.state) == "success", task_states(first)
    first_points = pipeline.emulator.ledger.total_points

    # A day passes: an old PR is commented on, one is closed, an old one merged, one opened.
    world.advance(hours=24)
    world.touch("acme/api", 250)
    api_open = next(pr for pr in world.repo("acme/api").pull_requests
                    if pr.state == "OPEN" and pr.number > 100)
    world.close("acme/api", api_open.number)
    web_open = next(pr for pr in world.repo("acme/web").pull_requests if pr.state == "OPEN")
    world.merge("acme/web", web_open.number)
    world.add_pull_request("acme/infra", title="Brand new", author="alice", labels=["bug"])
    start = len(pipeline.emulator.ledger.entries)

    second = pipeline.run({"orgs": ["acme"], "page_size": 50})
    states = task_states(second)
    assert str(second.state) == "success", states
    # acme/docs did not change: the probe skipped it, so no extract task was even mapped.
    assert "extract[acme/docs]" not in states
    assert {k for k in states if k.startswith("extract[")} == {
        "extract[acme/api]", "extract[acme/web]", "extract[acme/infra]"}
    entries = ledger_since(pipeline, start)
    ops = [e.operation_name for e in entries]
    assert ops.count(PAGE_OP) == 3  # one page per changed repository
    assert ops.count("NewestPullRequestUpdates") == 1  # one probe for all four repos
    second_points = sum(e.points for e in entries)
    # Each changed repository asks for the events of its changed PRs in one batch.
    assert ops.count("PullRequestEvents") == 3
    # ... and for their checks, with the open PRs whose checks were not settled, in one.
    assert ops.count("PullRequestChecks") == 3
    # ... and for their deployments and releases since the watermark.
    assert ops.count("RepositoryDeployments") == 3
    # Probe (1) + 3 repos x (one 50-PR page (3 points) + one events batch (1) + one checks
    # batch (1) + one deployments page (1)) + the org listing (1) + the org's teams (1).
    assert ops.count("OrganizationTeams") == 1
    assert second_points == 1 + 3 * (3 + 1 + 1 + 1) + 1 + 1, "; ".join(
        f"{e.operation_name}={e.points}" for e in entries)
    assert ops.count("NestedConnectionPages") == 0  # unchanged long lists are not refetched
    assert second_points < first_points / 3
    (skipped, probe_points), = pipeline.query(
        "select repos_skipped, probe_points from raw.sync_plans where run_id = ?",
        [second.run_id])
    assert (skipped, probe_points) == (1, 1)
    # The org listing (1 point) happens before planning, outside any sync record; the mart
    # counts the probe, the extracts and the teams.
    assert pipeline.query("select repos_extracted, repos_skipped, teams_points, total_points "
                          "from analytics.fct_syncs where run_id = ?", [second.run_id]
                          ) == [(3, 1, 1, second_points - 1)]
    assert_warehouse_matches(pipeline, repositories(world))
    states_now = dict(pipeline.query(
        "select pr_number, state from analytics.fct_pull_requests where repo = 'acme/api'"))
    assert states_now[api_open.number] == "CLOSED"


def test_nothing_changed_costs_one_probe_and_the_teams(make_pipeline) -> None:
    pipeline = make_pipeline(data_tests=False)
    assert str(pipeline.run({"repos": ["acme/web", "acme/docs"]}).state) == "success"
    start = len(pipeline.emulator.ledger.entries)
    run = pipeline.run({"repos": ["acme/web", "acme/docs"]})
    assert str(run.state) == "success"
    entries = ledger_since(pipeline, start)
    # The teams are recorded at every sync (their history is what the marts need): 1 point
    # for the repositories' one organization.
    assert sorted(e.operation_name for e in entries) == ["NewestPullRequestUpdates",
                                                         "OrganizationTeams"]
    assert sum(e.points for e in entries) == 2
    assert pipeline.query("select status, count(*) from raw.sync_runs where run_id = ? "
                          "group by 1", [run.run_id]) == [("skipped", 2)]


def extract_in_process(repo: str, run_id: str, **params) -> Manifest:
    """The extract task's body for a batch of one repository, in this process."""
    from pr_warehouse import pipeline as steps
    from pr_warehouse.options import RunOptions

    batch = ExtractBatch.of([ExtractJob(repo)])
    return steps.extract(batch, RunOptions(**{"page_size": 20, **params}), run_id)[0]


def test_rerun_with_cache_spends_no_points(make_pipeline) -> None:
    pipeline = make_pipeline()
    first = extract_in_process("acme/web", "cache-run")
    spent = pipeline.emulator.ledger.total_points
    assert first.points_spent == spent > 0 and len(first.pages) == 6
    again = extract_in_process("acme/web", "cache-run")
    assert pipeline.emulator.ledger.total_points == spent  # zero points: every page reused
    assert again.pages_cached == 6 and again.pages == first.pages
    assert again.pull_requests == first.pull_requests == 120
    fresh = extract_in_process("acme/web", "cache-run", use_cache=False)
    assert pipeline.emulator.ledger.total_points == 2 * spent
    assert fresh.pages_cached == 0


def test_killed_extract_resumes_from_its_last_page(make_pipeline, tmp_path) -> None:
    from github_emulator import LatencyModel
    from pr_warehouse.storage import RawStore

    pipeline = make_pipeline(latency=LatencyModel(base_seconds=0.25))
    code = ("from pr_warehouse import pipeline as p; from pr_warehouse.options import RunOptions; "
            "from pr_warehouse.contracts import ExtractBatch, ExtractJob; "
            "p.extract(ExtractBatch.of([ExtractJob('acme/api')]), RunOptions(page_size=20), "
            "'kill-run')")
    child = subprocess.Popen([sys.executable, "-c", code], env=dict(os.environ),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = RawStore(pipeline.raw_dir.as_uri())
    deadline = time.monotonic() + 60
    while len(store.committed_pages("kill-run", "acme/api")) < 4:
        assert child.poll() is None, "the extract ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)  # no cleanup, like an evicted pod
    child.wait()
    committed = len(store.committed_pages("kill-run", "acme/api"))
    requests_before = [e.operation_name for e in pipeline.emulator.ledger.entries].count(PAGE_OP)

    manifest = extract_in_process("acme/api", "kill-run")
    requests_after = [e.operation_name for e in pipeline.emulator.ledger.entries].count(PAGE_OP)
    total_pages = 300 // 20
    # The retry fetched only the pages not yet stored (plus at most the one in flight).
    assert requests_after - requests_before <= total_pages - committed + 1
    assert requests_before + (requests_after - requests_before) <= total_pages + 1
    assert manifest.pages_cached == committed
    assert manifest.pull_requests == 300 and len(manifest.pages) == total_pages
    keys = [json.loads((pipeline.raw_dir / k).with_suffix(".meta.json").read_text())["page"]
            for k in manifest.pages]
    assert keys == list(range(1, total_pages + 1))


def test_spent_rate_limit_frees_the_worker_and_resumes_after_reset(make_pipeline) -> None:
    from airflow.sdk.exceptions import AirflowRescheduleException

    from github_emulator import Limits

    # 10 points an hour: three 50-PR pages (3 points each), then GitHub says RATE_LIMITED.
    pipeline = make_pipeline(limits=Limits(points_per_hour=10, window_seconds=3600))
    with pytest.raises(AirflowRescheduleException) as wait:
        extract_in_process("acme/api", "rl-run", page_size=50)
    seconds = (wait.value.reschedule_date - datetime.now(timezone.utc)).total_seconds()
    assert 3000 < seconds <= 3601  # at the reset GitHub announced, not a guess
    from pr_warehouse.storage import RawStore

    stored = RawStore(pipeline.raw_dir.as_uri()).committed_pages("rl-run", "acme/api")
    assert len(stored) == 3
    page_requests = [e.operation_name for e in pipeline.emulator.ledger.entries].count(PAGE_OP)
    assert page_requests == 4  # the fourth was refused; nothing hammered the limit after it

    pipeline.emulator.limits = Limits()  # the hour has passed
    manifest = extract_in_process("acme/api", "rl-run", page_size=50)
    assert manifest.pages_cached == 3 and manifest.pull_requests == 300
    assert [e.operation_name for e in pipeline.emulator.ledger.entries].count(PAGE_OP) == 4 + 3


@pytest.mark.slow
def test_clear_reseeds_the_selected_repositories(make_pipeline) -> None:
    import duckdb

    pipeline = make_pipeline()
    # dbt's data tests check the warehouse the clearing run leaves.
    assert str(pipeline.run({"repos": ["acme/docs", "acme/infra"]}, data_tests=False).state
               ) == "success"
    # A row GitHub no longer has (say, loaded by an older, buggier version).
    con = duckdb.connect(str(pipeline.duckdb_path))
    con.execute("insert into raw.pull_requests select 'PR_stale', repo, 9999, updated_at, pr, "
                "page_key, run_id, loaded_at from raw.pull_requests where repo = 'acme/docs' "
                "limit 1")
    con.close()
    run = pipeline.run({"repos": ["acme/docs"], "clear": True})
    assert str(run.state) == "success", task_states(run)
    counts = dict(pipeline.query("select repo, count(*) from raw.pull_requests group by 1"))
    world = pipeline.world
    assert counts == {"acme/docs": len(world.repo("acme/docs").pull_requests),
                      "acme/infra": len(world.repo("acme/infra").pull_requests)}
    assert pipeline.query("select count(*) from raw.pull_requests where node_id = 'PR_stale'"
                          ) == [(0,)]
