"""Smoke tests of ``bench`` (``make bench``): structure only, never timings.

The Airflow-driven extract section is not run here (it starts a scheduler and an API
server); its arithmetic is checked on made-up timings instead. The cost and memory
sections run for real on tiny sizes (a few seconds).
"""

from __future__ import annotations

import doctest
import importlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import ROOT

from bench import report, schedule, synth
from bench.airflow_run import TaskTiming
from bench.config import BenchConfig, Latency  # noqa: E402
from bench.emulation import RepoSpan  # noqa: E402

MODULES = ["bench.config", "bench.schedule", "bench.synth", "bench.report", "bench.emulation",
           "bench.cost_bench", "bench.checks_cost", "bench.extract_bench",
           "bench.airflow_run", "bench.worker", "bench.procs"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    failures, _ = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert failures == 0


def tiny_config() -> BenchConfig:
    return replace(BenchConfig.quick(), org_repo_sizes=(10, 60, 3), cost_repo_prs=120,
                   cost_page_sizes=(25, 100), memory_extract_prs=150,
                   latency=Latency(time_scale=0.0))


def test_ideal_schedule_bounds() -> None:
    sizes = [5000, 10, 10, 2500, 2500]
    ideal = schedule.IdealSchedule.compute(sizes, page_size=50, page_seconds=1.0, slots=4)
    assert ideal.pages == 202  # 100 + 1 + 1 + 50 + 50
    assert ideal.lower_bound_seconds == 100.0  # the 5,000-PR repository is the critical path
    assert ideal.lower_bound_seconds <= ideal.lpt_seconds <= ideal.in_order_seconds


def test_extract_phase_arithmetic() -> None:
    from bench.extract_bench import extract_phase, task_repos

    config = replace(tiny_config(), pool_slots=2, page_size=50, latency=Latency(time_scale=1))
    size_of = {"bench/a": 100, "bench/b": 50}
    tasks = [TaskTiming("extract", 0, "bench/a", "success", 1, 100.0, 100.5, 106.0),
             TaskTiming("extract", 1, "bench/b", "success", 1, 100.0, 100.4, 104.0)]
    spans = {"bench/a": RepoSpan("bench/a", 2, 101.0, 105.5, 4.4, 6, model_seconds=4.0),
             "bench/b": RepoSpan("bench/b", 1, 101.0, 103.5, 2.2, 3, model_seconds=2.0)}
    phase = extract_phase(tasks, spans, config, size_of, task_repos(None, tasks))
    assert phase["extract_phase_seconds"] == 6.0
    assert phase["ideal"]["pages"] == 3
    # Two slots: the ideal is the longer repository's requests at the model's time.
    assert phase["ideal"]["lower_bound_seconds"] == 4.0
    assert phase["measured_over_ideal"] == 1.5
    assert phase["overhead"]["queued_to_first_request"]["max"] == 1.0
    assert phase["overhead"]["last_response_to_end"]["median"] == 0.5
    assert 0 < phase["slot_utilisation"] < 1


def test_extract_phase_of_a_task_shared_by_two_repositories() -> None:
    """The ideal still packs repositories; the shared task's figures merge its two."""
    from bench.extract_bench import extract_phase, task_repos

    config = replace(tiny_config(), pool_slots=2, page_size=50, latency=Latency(time_scale=1))
    size_of = {"bench/a": 100, "bench/b": 50, "bench/c": 50}
    tasks = [TaskTiming("extract", 0, "bench/a", "success", 1, 100.0, 100.5, 106.0),
             TaskTiming("extract", 1, "bench/b (+1 more)", "success", 1, 100.0, 100.4, 106.0)]
    plan = [{"label": "bench/a", "jobs": [{"repo": "bench/a"}]},
            {"label": "bench/b (+1 more)", "jobs": [{"repo": "bench/b"}, {"repo": "bench/c"}]}]
    spans = {"bench/a": RepoSpan("bench/a", 2, 101.0, 105.5, 4.4, 6, model_seconds=4.0),
             "bench/b": RepoSpan("bench/b", 1, 101.0, 103.5, 2.2, 3, model_seconds=2.0),
             "bench/c": RepoSpan("bench/c", 1, 103.6, 105.8, 2.2, 3, model_seconds=2.0)}
    phase = extract_phase(tasks, spans, config, size_of, task_repos(plan, tasks))
    assert (phase["repos"], phase["tasks"], phase["pull_requests"]) == (3, 2, 200)
    assert phase["ideal"]["pages"] == 4
    shared = phase["task_timings"][1]
    assert (shared["requests"], shared["pull_requests"], shared["last_response"]) == (2, 100, 105.8)
    assert phase["overhead"]["last_response_to_end"]["max"] == pytest.approx(0.5)
    # b and c share a task but pack as two repositories: 4 s of 8 s on two slots.
    assert phase["ideal"]["lower_bound_seconds"] == 4.0


def test_repo_spans_split_a_shared_request_and_skip_the_plans() -> None:
    """A batch's events query works for two repositories: each gets half of it; the
    plan's probe is not extract work."""
    from github_emulator.ids import node_id
    from github_emulator.ledger import LedgerEntry

    from bench.emulation import repo_spans

    names = {1: "bench/a", 2: "bench/b"}
    latency = Latency(base_seconds=1.0, per_node_seconds=0.01, time_scale=1.0)
    entries = [
        LedgerEntry("1", 200, points=1, operation_name="NewestPullRequestUpdates",
                    variables={"q": "x"}, node_count=10, duration_seconds=1.0, received_at=9.0),
        LedgerEntry("2", 200, points=2, operation_name="RepositoryPullRequests",
                    variables={"owner": "bench", "name": "a", "after": None},
                    node_count=100, duration_seconds=2.0, received_at=12.0),
        LedgerEntry("3", 200, points=4, operation_name="PullRequestEvents",
                    variables={"ids": [node_id("PullRequest", 1, 1), node_id("PullRequest", 2, 5)]},
                    node_count=300, duration_seconds=4.0, received_at=20.0),
    ]
    spans = repo_spans(entries, names, latency)
    assert set(spans) == {"bench/a", "bench/b"}
    a, b = spans["bench/a"], spans["bench/b"]
    assert (a.requests, a.points, a.busy_seconds) == (1.5, 4.0, 4.0)
    assert (b.requests, b.points, b.first_request, b.last_response) == (0.5, 2.0, 16.0, 20.0)
    assert a.model_seconds == pytest.approx(2.0 + 4.0 / 2)
    assert b.model_seconds == pytest.approx(2.0)


def templates_with_events(count: int = 30) -> synth.Templates:
    return synth.Templates.from_emulator(count, seed=1)


def test_template_events_have_the_timelines_cycle_time_needs() -> None:
    """The template PRs' events come from the emulator through the product's events query:
    drafts, ready for review, review requests and comments, the first commit, counts."""
    nodes, events = synth.template_nodes_with_events(30, seed=1)
    assert [e["id"] for e in events] == [n["id"] for n in nodes]
    assert all(e["updatedAt"] == n["updatedAt"] for e, n in zip(events, nodes, strict=True))
    kinds = {item["__typename"] for e in events for item in e["timelineItems"]["nodes"]}
    assert {"ReadyForReviewEvent", "ConvertToDraftEvent", "ReviewRequestedEvent",
            "IssueComment"} <= kinds
    assert any(e["commits"]["nodes"] for e in events)
    assert all("totalCount" in e["reviewThreads"] for e in events)


def test_synthetic_pages_load_as_written(tmp_path: Path) -> None:
    """Synthetic pages are in GitHub's shape: the product's load takes every PR and its
    events, one ``raw.pull_request_events`` row per PR."""
    import duckdb

    from pr_warehouse.load.duckdb_loader import load_manifests
    from pr_warehouse.storage import RawStore

    templates = templates_with_events()
    pages = synth.write_pages(tmp_path / "raw", total=130, per_repo=100, page_size=25,
                              templates=templates)
    assert (pages.pull_requests, pages.pages, len(pages.manifests)) == (130, 6, 2)
    # 49 PRs per events page, as the extract batches them: 100 -> 3 pages, 30 -> 1.
    assert pages.event_pages == 4 and pages.event_bytes > 0
    assert [len(m.event_pages) for m in pages.manifests] == [3, 1]
    assert pages.event_page_paths[0].endswith("/repo-0000/pages/events-000001.json")
    body = json.loads(Path(pages.page_paths[0]).read_text())
    nodes = body["data"]["repository"]["pullRequests"]["nodes"]
    assert [n["number"] for n in nodes] == list(range(1, 26))
    assert len({n["id"] for n in nodes}) == 25
    events = json.loads(Path(pages.event_page_paths[0]).read_text())["data"]["nodes"]
    assert [e["id"] for e in events] == [f"PR_r0000_{n}" for n in range(1, 50)]
    assert {e["repository"]["nameWithOwner"] for e in events} == {"synth/repo-0000"}
    db = tmp_path / "w.duckdb"
    report_ = load_manifests(db, RawStore(pages.base_url), pages.manifests, run_id="smoke")
    assert report_.rows_written == 130 and not report_.corrupt_pages
    assert (report_.event_pages, report_.event_rows_written) == (4, 130)
    con = duckdb.connect(str(db), read_only=True)
    # Each PR's events row matches its PR row, and timeline item ids are unique across
    # copies of the same template (staging keeps one row per item id).
    mismatched = con.execute("""
        select count(*) from raw.pull_requests p full join raw.pull_request_events e
            using (node_id)
        where e.node_id is null or p.node_id is null or e.repo <> p.repo
           or e.pr_number <> p.pr_number or e.updated_at <> p.updated_at""").fetchall()[0][0]
    items, distinct = con.execute("""
        select count(*), count(distinct item ->> '$.id') from raw.pull_request_events,
            unnest(cast(events -> '$.timelineItems.nodes' as json[])) as t(item)""").fetchall()[0]
    con.close()
    assert mismatched == 0
    assert items > 0 and items == distinct


def test_cost_and_memory_sections_and_table(tmp_path: Path) -> None:
    from bench import cost_bench, memory_bench

    config = tiny_config()
    cost = cost_bench.run(config, tmp_path / "cost")
    assert [row["page_size"] for row in cost["page_sizes"]] == [25, 100]
    assert all(row["points"] > 0 for row in cost["page_sizes"])
    # Everything collected, events included, is measured and split by kind of query.
    assert all(row["by_operation"]["events"] > 0 and row["event_requests"] > 0
               for row in cost["page_sizes"])
    for row in cost["page_sizes"]:
        assert sum(row["by_operation"].values()) == pytest.approx(row["points_per_1000_prs"])
    daily = cost["daily"]
    assert daily["unchanged"]["ours"]["repos_extracted"] == 0  # the probe skips them all
    assert daily["changed"]["pull_requests_touched"] >= 1
    memory = memory_bench.run(config, tmp_path / "memory")
    assert memory["pull_requests"] == 150 and memory["max_rss_mib"] > 0

    # The tiny config measures page 25 and 100; the target row reads the default page.
    assert cost["all_data"] is None
    cost["all_data"] = cost_bench.all_data_cost(
        [{**cost["page_sizes"][0], "page_size": config.page_size}], config.page_size)
    assert cost["all_data"]["target"] == 80  # issue 19's cap with everything collected
    # the teams step: 1 point for the bench org, 2 for the one of 150 teams
    assert [o["points"] for o in cost["daily"]["teams"]["orgs"]] == [1, 2]
    results = {"config": config.as_dict(),
               "sections": {"cost": {"data": cost}, "memory": {"data": memory},
                            "load": {"error": "RuntimeError: boom"}}}
    rows = report.table_rows(results)
    assert {section for section, _, _ in rows} == {
        "2. API cost (points)", "5. Memory (peak RSS)", "load"}
    assert any("all PR data incl. events" in label for _, label, _ in rows)
    assert cost["checks"]["points"] > 0 and cost["checks"]["pull_requests"] == 120
    assert any("CI checks per 1,000 PRs" in label for _, label, _ in rows)
    assert any("teams, per organization" in label for _, label, _ in rows)
    table = report.render(rows)
    assert "FAILED" in table and table.count("\n") == len(rows) + 1
    path = report.write_json(results, tmp_path / "out" / "result.json")
    assert json.loads(path.read_text())["sections"]["cost"]["data"]["daily"]["repos"] == 3


def test_changed_day_pages_update_one_percent_of_the_loaded_prs(tmp_path: Path) -> None:
    """The transform's daily-run figure loads 1% of the PRs again, edited: the load
    rewrites exactly those rows, with a label fewer where they had one, and their events
    rows, re-fetched with the PRs' new updatedAt."""
    import duckdb

    from pr_warehouse.load.duckdb_loader import load_manifests
    from pr_warehouse.storage import RawStore

    templates = templates_with_events()
    full = synth.write_pages(tmp_path / "raw", total=250, per_repo=200, page_size=25,
                             templates=templates)
    changed = synth.write_changed_pages(tmp_path / "raw", total=250, per_repo=200,
                                        page_size=25, templates=templates,
                                        fraction=0.01)
    assert changed.pull_requests == 3  # PRs 1 and 101 of the first repository, 1 of the second
    assert changed.event_pages == 2  # one per repository
    db, store = tmp_path / "w.duckdb", RawStore(full.base_url)
    load_manifests(db, store, full.manifests, run_id="day1")
    con = duckdb.connect(str(db))
    before = dict(con.execute("select node_id, json_array_length(pr -> '$.labels.nodes') "
                              "from raw.pull_requests").fetchall())
    con.close()
    report_ = load_manifests(db, store, changed.manifests, run_id="day2")
    assert report_.rows_written == 3 and report_.event_rows_written == 3
    con = duckdb.connect(str(db), read_only=True)
    after = dict(con.execute("select node_id, json_array_length(pr -> '$.labels.nodes') "
                             "from raw.pull_requests where run_id = 'day2'").fetchall())
    events = con.execute("""
        select e.node_id, e.updated_at = p.updated_at, e.events ->> '$.updatedAt'
        from raw.pull_request_events e join raw.pull_requests p using (node_id)
        where e.run_id = 'day2' order by 1""").fetchall()
    con.close()
    assert set(after) == {"PR_r0000_1", "PR_r0000_101", "PR_r0001_1"}
    assert all(after[n] == max(before[n] - 1, 0) for n in after)
    assert events == [(n, True, synth.CHANGED_AT) for n in sorted(after)]


def test_transform_rows_report_full_and_incremental_builds() -> None:
    size = {"pull_requests": 1_000_000,
            "load": {"seconds": 30.0, "rows_per_second": 33_000.0, "max_rss_mib": 2000.0},
            "bare": {"read_text": {"seconds": 12.0, "rows_per_second": 83_000.0,
                                   "load_time_ratio": 2.5, "max_rss_mib": 900.0}},
            "transform": {"seconds": 120.0, "statuses": {"pass": 150}},
            "changed": {"fraction": 0.01, "pull_requests": 10_000, "days": 3},
            "transform_incremental": {"seconds": 12.0, "statuses": {"pass": 150}},
            "incremental_over_full": 0.1}
    rows = report.load_rows({"sizes": [size], "incremental_over_full": 0.1}, {})
    transform = [(figure, value) for section, figure, value in rows if section == "4. Transform"]
    assert transform == [
        ("dbt build, 1M PRs", "120 s (150 pass)"),
        ("dbt build, 1M PRs: 1% changed, median of 3 days, incremental / full",
         "12.0 s / 120 s = 10% (10,000 PRs changed)"),
    ]
