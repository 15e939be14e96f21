"""The analytics page and report without a browser: missing data, fallbacks, the CLI.

Snapshots here are small DuckDB files holding only the relations a case needs; the
expected numbers are computed in Python from the same rows (the browser test compares the
page with real marts built by a real run).
"""

from __future__ import annotations

import importlib.util
import statistics
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import ROOT
from pr_warehouse.report import Filters, build_report, render_html
from pr_warehouse.report.charts import chart_spec
from pr_warehouse.report.data import CYCLE_TIME_FACT, NO_SYNC_YET

MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)


def _p90(values: list[float]) -> float:
    """DuckDB's quantile_cont: linear interpolation between closest ranks."""
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def _snapshot(path: Path, *statements: str) -> Path:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("create schema analytics")
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()
    return path


# Six merged PRs in one repository over two weeks, one by a bot; one open PR elsewhere.
PRS = [  # repo, author_kind, merged_at, hours_to_merge, hours_to_first_review
    ("acme/api", "User", MONDAY, 10.0, 1.0),
    ("acme/api", "User", MONDAY + timedelta(days=1), 30.0, 2.0),
    ("acme/api", "User", MONDAY + timedelta(days=2), 50.0, None),
    ("acme/api", "Bot", MONDAY + timedelta(days=3), 1.0, None),
    ("acme/api", "User", MONDAY + timedelta(days=7), 7.0, 3.0),
    ("acme/api", "User", MONDAY + timedelta(days=8), 9.0, 4.0),
    ("acme/web", "User", None, None, None),
]


def _fct_pull_requests() -> str:
    values = ", ".join(
        f"('{repo}', '{kind}', {f'timestamptz {str(m)!r}' if m else 'null'}, "
        f"{h if h is not None else 'null'}, {r if r is not None else 'null'})"
        for repo, kind, m, h, r in PRS)
    return ("create table analytics.fct_pull_requests as select *, "
            "timestamptz '2025-03-20 00:00:00+00' as as_of from (values " + values +
            ") t(repo, author_kind, merged_at, hours_to_merge, hours_to_first_review)")


@pytest.fixture()
def client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from fastapi.testclient import TestClient

    from pr_warehouse.report.app import create_app

    monkeypatch.setenv("PR_WAREHOUSE_SNAPSHOT", str(tmp_path / "snapshot.duckdb"))
    return TestClient(create_app(require_login=False))


def test_no_snapshot_says_no_sync_has_finished(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert NO_SYNC_YET in response.text and "Traceback" not in response.text
    assert "data-chart" not in response.text


@pytest.mark.parametrize("statements", [
    (),  # a DuckDB file without the marts (dbt never ran)
    ("create table analytics.fct_pull_requests (repo varchar)",),  # built, but empty
], ids=["no-marts", "no-rows"])
def test_empty_snapshot_says_no_sync_has_finished(client, tmp_path: Path, statements) -> None:
    _snapshot(tmp_path / "snapshot.duckdb", *statements)
    response = client.get("/?repo=acme/api")
    assert response.status_code == 200
    assert NO_SYNC_YET in response.text and "Traceback" not in response.text


def test_not_a_duckdb_file_is_a_message_not_a_stack_trace(client, tmp_path: Path) -> None:
    (tmp_path / "snapshot.duckdb").write_bytes(b"half a copy")
    response = client.get("/")
    assert response.status_code == 200
    assert NO_SYNC_YET in response.text and "Traceback" not in response.text


def test_a_missing_mart_costs_its_chart_only(client, tmp_path: Path) -> None:
    _snapshot(tmp_path / "snapshot.duckdb", _fct_pull_requests())
    report = build_report(tmp_path / "snapshot.duckdb", Filters())
    missing = {s.key: s.missing for s in report.sections if s.missing}
    assert set(missing) == {"reviews_given", "assignee_workload", "milestone_progress",
                            "label_activity"}
    assert "analytics.mart_milestone_progress is not in this snapshot" in \
        missing["milestone_progress"]
    html = client.get("/").text
    assert html.count("data-missing") == 4 and html.count('data-chart="') == 2


def test_cycle_time_falls_back_to_fct_pull_requests(tmp_path: Path) -> None:
    path = _snapshot(tmp_path / "s.duckdb", _fct_pull_requests())
    humans = build_report(path, Filters(repo="acme/api"))
    everyone = build_report(path, Filters(repo="acme/api", include_bots=True))
    cycle = {s.key: s for s in humans.sections}["cycle_time"]
    assert cycle.variant == "total" and cycle.source == "analytics.fct_pull_requests"
    first_week = [h for _, kind, m, h, _ in PRS
                  if m and m < MONDAY + timedelta(days=7) and kind != "Bot"]
    row = cycle.table.records()[0]
    assert row["week_start"] == "2025-03-03" and row["iso_week"] == "2025-W10"
    assert row["prs_merged"] == len(first_week)
    assert row["median_hours_to_merge"] == round(statistics.median(first_week), 1)
    assert row["p90_hours_to_merge"] == round(_p90(first_week), 1)
    with_bots = {s.key: s for s in everyone.sections}["cycle_time"].table.records()[0]
    assert with_bots["prs_merged"] == len(first_week) + 1
    # A date range keeps only the weeks inside it.
    later = build_report(path, Filters(since=(MONDAY + timedelta(days=7)).date()))
    weeks = [r["week_start"] for r in {s.key: s for s in later.sections}["cycle_time"]
             .table.records()]
    assert weeks == ["2025-03-10"]


def _cycle_time_fact() -> str:
    """The cycle-time fact's shape (issue 11): phases per PR, derived from the PR rows."""
    return f"""create table {CYCLE_TIME_FACT} as
        select repo, author_kind = 'Bot' as is_bot_author, merged_at,
               hours_to_merge * 0.5 as coding_hours, hours_to_merge * 0.2 as pickup_hours,
               hours_to_merge * 0.3 as review_hours, hours_to_merge as cycle_hours
        from analytics.fct_pull_requests"""


def test_phases_stacked_when_the_cycle_time_fact_exists(tmp_path: Path) -> None:
    path = _snapshot(tmp_path / "s.duckdb", _fct_pull_requests(), _cycle_time_fact())
    sections = {s.key: s for s in build_report(path, Filters()).sections}
    cycle = sections["cycle_time"]
    assert cycle.variant == "phases" and cycle.source == CYCLE_TIME_FACT
    first_week = [h for _, kind, m, h, _ in PRS
                  if m and m < MONDAY + timedelta(days=7) and kind != "Bot"]
    row = cycle.table.records()[0]
    assert row["median_cycle_hours"] == round(statistics.median(first_week), 1)
    assert row["median_pickup_hours"] == round(statistics.median(first_week) * 0.2, 1)
    spec = chart_spec(cycle)
    bars = spec["layer"][0]
    assert bars["mark"]["type"] == "bar" and bars["encoding"]["y"]["stack"] == "zero"
    # The first-response series joins the first-review one.
    assert "median_hours_to_first_response" in sections["first_review"].table.columns


def test_report_html_is_self_contained(tmp_path: Path) -> None:
    path = _snapshot(tmp_path / "s.duckdb", _fct_pull_requests())
    html = render_html(build_report(path, Filters()))
    assert "window.vegaEmbed" in html  # Vega inlined, not fetched
    assert "<script src=" not in html and "<link" not in html
    assert "all repositories, all dates, bots excluded" in html


def test_cli_report_writes_the_file_and_prints_its_path(tmp_path: Path, monkeypatch,
                                                        capsys) -> None:
    from pr_warehouse import cli

    monkeypatch.setenv("PR_WAREHOUSE_SNAPSHOT",
                       str(_snapshot(tmp_path / "s.duckdb", _fct_pull_requests())))
    out = tmp_path / "out" / "report.html"
    assert cli.main(["report", "--output", str(out), "--repo", "acme/api"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert "acme/api, all dates, bots excluded" in out.read_text()
    monkeypatch.setenv("PR_WAREHOUSE_SNAPSHOT", str(tmp_path / "none.duckdb"))
    assert cli.main(["report", "--output", str(out)]) == 1
    assert NO_SYNC_YET in capsys.readouterr().err


def test_plugin_mounts_the_app_and_adds_the_navigation_entry() -> None:
    from airflow.plugins_manager import AirflowPlugin
    from fastapi import FastAPI

    from pr_warehouse.constants import ANALYTICS_URL_PREFIX, ANALYTICS_VIEW_NAME

    spec = importlib.util.spec_from_file_location("pr_analytics", ROOT / "plugins" /
                                                  "pr_analytics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plugin = module.PrAnalyticsPlugin
    assert issubclass(plugin, AirflowPlugin)
    (app,) = plugin.fastapi_apps
    assert isinstance(app["app"], FastAPI) and app["url_prefix"] == ANALYTICS_URL_PREFIX
    (view,) = plugin.external_views
    assert view["name"] == ANALYTICS_VIEW_NAME and view["destination"] == "nav"
    assert view["href"].startswith(ANALYTICS_URL_PREFIX)


def test_one_repositorys_workload_reads_ages_from_the_open_pr_mart(tmp_path: Path) -> None:
    """The fact holds no ages (it is incremental): a repository's share of the workload
    takes the oldest open PR's age from mart_open_pull_requests, as_of from the workload
    mart, and the data's as_of comes from them too."""
    as_of = "timestamptz '2025-03-20 00:00:00+00'"
    path = _snapshot(
        tmp_path / "s.duckdb",
        "create table analytics.fct_pull_requests as select * from (values "
        "('P1', 'acme/api', 'OPEN', false, null::timestamptz), "
        "('P2', 'acme/api', 'OPEN', true, null), "
        "('P3', 'acme/api', 'MERGED', false, timestamptz '2025-03-10 00:00:00+00'), "
        "('P4', 'acme/web', 'OPEN', false, null)"
        ") t(pull_request_id, repo, state, is_draft, merged_at)",
        "create table analytics.mart_open_pull_requests as select *, "
        f"{as_of} as as_of from (values ('P1', 48.0), ('P2', 12.0), ('P4', 500.0)) "
        "t(pull_request_id, hours_open)",
        "create table analytics.bridge_pull_request_assignees as select * from (values "
        "('P1', 'erin'), ('P2', 'erin'), ('P3', 'erin'), ('P4', 'erin')) "
        "t(pull_request_id, assignee_login)",
        "create table analytics.mart_assignee_workload as select 'erin' as assignee_login, "
        f"3 as open_prs, {as_of} as as_of",
    )
    report = build_report(path, Filters(repo="acme/api"))
    workload = {s.key: s for s in report.sections}["assignee_workload"]
    assert workload.missing is None, workload.missing
    assert workload.table.records() == [{
        "assignee": "erin", "open_prs": 2, "open_ready_prs": 1, "open_draft_prs": 1,
        "oldest_open_days": 2.0, "merged_last_30_days": 1}]
    assert report.freshness.as_of.startswith("2025-03-20")
