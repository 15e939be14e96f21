"""The analytics page and report without a browser: what each chart reads, its numbers under
the filters, older snapshots, missing data, the CLI.

The snapshot here is a small DuckDB file holding exactly the relations and columns the
charts declare they read (a test checks it; another checks that the dbt models document
every one of them). Expected numbers are computed in Python from the same rows; the browser
test compares the page with the marts of a real run.
"""

from __future__ import annotations

import functools
import importlib.util
import statistics
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from pr_warehouse.report import Filters, build_report, render_html
from pr_warehouse.report.build import NO_SYNC_YET
from pr_warehouse.report.chart import Section
from pr_warehouse.report.charts import CHARTS
from pr_warehouse.report.data import (
    CYCLE_TIME_FACT,
    DEPLOYMENTS,
    DORA_WEEKLY,
    LABEL_ACTIVITY,
    LABEL_TIME,
    MILESTONES,
    OPEN_PULL_REQUESTS,
    PR_TEAMS,
    PULL_REQUESTS,
    REVIEW_REQUESTS,
    REVIEWER_WEEKLY,
    REVIEWS,
    SYNCS,
    TEAM_WEEKLY,
    WORKLOAD,
    Snapshot,
    connect_read_only,
)
from pr_warehouse.report.tiles import TILES

MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
AS_OF = datetime(2025, 3, 20, tzinfo=timezone.utc)

# Merged PRs in acme/api over two weeks, one by a bot (as the cycle-time fact says: its
# login ends in [bot]); one open PR in acme/web.
PRS = [  # id, repo, author, is_bot_author, merged_at, cycle_hours, hours_to_first_review
    ("P1", "acme/api", "ana", False, MONDAY, 10.0, 1.0),
    ("P2", "acme/api", "ben", False, MONDAY + timedelta(days=1), 30.0, 2.0),
    ("P3", "acme/api", "ana", False, MONDAY + timedelta(days=2), 50.0, None),
    ("P4", "acme/api", "dependabot[bot]", True, MONDAY + timedelta(days=3), 1.0, 0.5),
    ("P5", "acme/api", "ben", False, MONDAY + timedelta(days=7), 7.0, 3.0),
    ("P6", "acme/api", "ana", False, MONDAY + timedelta(days=8), 9.0, 4.0),
    ("P7", "acme/web", "cat", False, None, None, None),
    ("P8", "acme/api", "ana", False, None, None, None),
    ("P9", "acme/api", "ben", False, None, None, None),
    ("P10", "acme/api", "ben", False, None, None, None),
    ("P11", "acme/api", "dependabot[bot]", True, None, None, None),
]
# Open PRs (mart_open_pull_requests): id, repo, number, is_draft, hours_open; and whether
# they had a first response (the cycle-time fact's first_response_at).
OPEN = [("P7", "acme/web", 7, False, 300.0, False), ("P8", "acme/api", 8, False, 100.0, True),
        ("P9", "acme/api", 9, True, 500.0, False), ("P10", "acme/api", 10, False, 50.0, True),
        ("P11", "acme/api", 11, False, 20.0, False)]
# PRs merged without review, as the fact flags them.
UNREVIEWED = {"P3", "P6"}
# The teams' PRs (bridge_pull_request_teams: the author's teams when opening the PR).
TEAM_PRS = [("P1", "acme/core"), ("P5", "acme/core"), ("P2", "acme/web-team"),
            ("P7", "acme/web-team")]
# Review-request spells: id, PR, repo, reviewer, team, requested_at, bot, outcome, hours.
REQUESTS = [
    ("R1", "P1", "acme/api", "ben", None, MONDAY, False, "responded", 2.0),
    ("R2", "P2", "acme/api", "ana", None, MONDAY + timedelta(days=1), False, "responded", 4.0),
    ("R3", "P5", "acme/api", "ana", None, MONDAY + timedelta(days=7), False, "responded", 6.0),
    ("R4", "P6", "acme/api", None, "acme/core", MONDAY + timedelta(days=8), False,
     "responded", 1.0),
    ("R5", "P7", "acme/web", "finn", None, MONDAY + timedelta(days=9), False, "waiting", None),
    ("R6", "P7", "acme/web", None, "acme/web-team", MONDAY + timedelta(days=9), False,
     "waiting", None),
    ("R7", "P8", "acme/api", "ben", None, MONDAY + timedelta(days=10), False, "waiting", None),
    ("R8", "P8", "acme/api", "ci-bot", None, MONDAY + timedelta(days=10), True, "removed", None),
]
# Phases as fixed shares of the cycle, so their medians are predictable.
CODING, PICKUP, REVIEW = 0.5, 0.2, 0.3

# Rows of the reviews fact, its flags as dbt sets them: the page decides neither who is a
# bot nor what counts as a review given.
REVIEW_ROWS = [  # pull request, repo, reviewer, state, submitted_at, is_bot, is_given
    ("P1", "acme/api", "ben", "APPROVED", MONDAY, False, True),
    ("P1", "acme/api", "ana", "COMMENTED", MONDAY, False, False),  # her own PR: self-review
    ("P2", "acme/api", "ana", "CHANGES_REQUESTED", MONDAY + timedelta(days=1), False, True),
    ("P2", "acme/api", "ana", "APPROVED", MONDAY + timedelta(days=1), False, True),
    ("P3", "acme/api", "ci-bot", "COMMENTED", MONDAY + timedelta(days=2), True, True),
    ("P5", "acme/api", "ana", "PENDING", None, False, False),  # not submitted
    ("P6", "acme/api", "renovate[bot]", "COMMENTED", MONDAY + timedelta(days=8), True, True),
    ("P7", "acme/web", "ghost", "COMMENTED", MONDAY + timedelta(days=8), False, True),  # deleted
]


def _share(repo: str, open_prs: int, drafts: int, oldest: float | None,
           merged_30: int) -> dict[str, Any]:
    """One entry of the workload mart's ``by_repo``, as dbt builds it."""
    return {"repo": repo, "assigned_prs": open_prs + merged_30, "open_prs": open_prs,
            "open_draft_prs": drafts, "open_ready_prs": open_prs - drafts,
            "oldest_open_pr_hours": oldest, "merged_last_7_days": 0,
            "merged_last_30_days": merged_30}


WORKLOAD_BY_REPO = {  # assignee -> their shares; the mart's totals are the sums
    "erin": [_share("acme/api", 2, 1, 48.0, 1), _share("acme/web", 1, 0, 500.0, 0)],
    "finn": [_share("acme/web", 1, 0, 24.0, 0)],
    "gus": [_share("acme/api", 0, 0, None, 2)],
}
MILESTONE_ROWS = [  # repo, number, title, due_on, overdue, open, merged, closed, total
    ("acme/api", 1, "v1", datetime(2025, 3, 10, tzinfo=timezone.utc), True, 1, 2, 0, 3),
    ("acme/web", 1, "web v1", None, False, 0, 1, 0, 1),
]
LABEL_ROWS = [  # repo, label, week_start, opened, merged
    ("acme/api", "bug", date(2025, 3, 3), 2, 1),
    ("acme/web", "bug", date(2025, 3, 3), 1, 0),
    ("acme/api", "docs", date(2025, 3, 10), 0, 1),
]
# What each section's table (and CSV) holds: the page's contract with its readers (None:
# a delivery chart, "not collected yet" on a snapshot without the delivery models).
CSV_COLUMNS = {
    "waiting_now": ("repo", "pr_number", "url", "title", "author", "age_hours", "waiting_on",
                    "status", "size_bucket", "ci_state"),
    "cycle_time": ("week_start", "iso_week", "prs_merged", "median_coding_hours",
                   "median_pickup_hours", "median_review_hours", "median_cycle_hours",
                   "p90_cycle_hours"),
    "first_review": ("week_start", "iso_week", "prs_merged", "prs_reviewed",
                     "median_hours_to_first_review", "p90_hours_to_first_review",
                     "median_hours_to_first_response", "p90_hours_to_first_response"),
    "reviewer_response": ("reviewer", "requests", "answered", "waiting", "other",
                          "median_response_hours", "p90_response_hours"),
    "reviews_given": ("reviewer", "reviews", "approved", "changes_requested", "commented",
                      "prs_reviewed"),
    "teams": ("team", "prs_merged", "median_pickup_hours", "median_review_hours",
              "median_cycle_hours", "review_requests_received", "review_requests_answered",
              "reviews_given"),
    "ci_checks": None,
    "dora": None,
    "time_in_label": ("label", "spans", "prs", "median_hours", "p90_hours"),
    "assignee_workload": ("assignee", "open_prs", "open_ready_prs", "open_draft_prs",
                          "oldest_open_days", "merged_last_30_days"),
    "milestone_progress": ("repo", "milestone_number", "milestone_title", "due_on",
                           "is_overdue", "prs_open", "prs_merged", "prs_closed_unmerged",
                           "prs_total"),
    "label_activity": ("label", "week_start", "iso_week", "prs_opened", "prs_merged"),
}


def _p90(values: list[float]) -> float:
    """DuckDB's quantile_cont: linear interpolation between closest ranks."""
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def _write(path: Path, *statements: str | Callable[[Any], None]) -> Path:
    """A DuckDB file with the ``analytics`` schema, then ``statements`` (SQL, or a function
    given the connection)."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("create schema analytics")
        for statement in statements:
            con.execute(statement) if isinstance(statement, str) else statement(con)
    finally:
        con.close()
    return path


def _responded(pr: str, merged: datetime | None) -> datetime | None:
    """The fact's first response: an hour before the merge; for open PRs, OPEN says."""
    if merged:
        return merged - timedelta(hours=1)
    return AS_OF - timedelta(hours=5) if any(o[0] == pr and o[5] for o in OPEN) else None


def _facts(con: Any) -> None:
    con.execute(f"create table {PULL_REQUESTS} (pull_request_id varchar, repo varchar, "
                "hours_to_first_review double)")
    con.executemany(f"insert into {PULL_REQUESTS} values (?, ?, ?)",
                    [(i, repo, first) for i, repo, _, _, _, _, first in PRS])
    con.execute(f"create table {CYCLE_TIME_FACT} (pull_request_id varchar, repo varchar, "
                "merged_at timestamptz, is_bot_author boolean, coding_hours double, "
                "pickup_hours double, review_hours double, cycle_hours double, "
                "merged_without_review boolean, first_response_at timestamptz, "
                "size_bucket varchar)")
    con.executemany(f"insert into {CYCLE_TIME_FACT} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "?)", [
        (i, repo, merged, bot, *((h * s if h is not None else None)
                                 for s in (CODING, PICKUP, REVIEW, 1.0)),
         (i in UNREVIEWED) if merged else None, _responded(i, merged), "S")
        for i, repo, _, bot, merged, h, _ in PRS])


def _open(con: Any) -> None:
    con.execute(f"create table {OPEN_PULL_REQUESTS} (pull_request_id varchar, repo varchar, "
                "pr_number integer, url varchar, title varchar, author_login varchar, "
                "is_draft boolean, hours_open double)")
    authors = {i: author for i, _, author, *_ in PRS}
    con.executemany(f"insert into {OPEN_PULL_REQUESTS} values (?, ?, ?, ?, ?, ?, ?, ?)", [
        (i, repo, n, f"https://github.com/{repo}/pull/{n}", f"PR {n}", authors[i], draft, age)
        for i, repo, n, draft, age, _ in OPEN])


def _teams(con: Any) -> None:
    con.execute(f"create table {PR_TEAMS} (pull_request_id varchar, team varchar)")
    con.executemany(f"insert into {PR_TEAMS} values (?, ?)", TEAM_PRS)
    con.execute(f"create table {REVIEW_REQUESTS} ("
                "pull_request_id varchar, repo varchar, reviewer_login varchar, team varchar, "
                "requested_at timestamptz, is_bot_reviewer boolean, outcome varchar, "
                "response_hours double)")
    con.executemany(f"insert into {REVIEW_REQUESTS} values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [request[1:] for request in REQUESTS])
    # The reviewer mart's people: no bot (its rule, which the page takes from it).
    con.execute(f"create table {REVIEWER_WEEKLY} as select * from (values ('ana'), ('ben'), "
                "('finn')) t(reviewer_login)")
    con.execute(f"create table {TEAM_WEEKLY} (team varchar, week_start date, "
                "review_requests_received bigint, review_requests_answered bigint, "
                "reviews_given bigint)")
    con.executemany(f"insert into {TEAM_WEEKLY} values (?, ?, ?, ?, ?)", [
        ("acme/core", date(2025, 3, 3), 2, 2, 1), ("acme/core", date(2025, 3, 10), 1, 1, 0),
        ("acme/web-team", date(2025, 3, 10), 1, 0, 0)])
    con.execute(f"create table {LABEL_TIME} (pull_request_id varchar, repo varchar, "
                "label_name varchar, added_at timestamptz, hours_held double, "
                "is_bot_author boolean)")
    # "blocked" held five PRs 10, 20, ... 50 hours each; "wip" one only; "deps" five PRs
    # of a bot, which the page leaves out by default.
    con.executemany(f"insert into {LABEL_TIME} values (?, ?, ?, ?, ?, ?)", [
        *((pr, "acme/api", "blocked", MONDAY - timedelta(days=3), 10.0 * (n + 1), False)
          for n, pr in enumerate(["P1", "P2", "P3", "P5", "P6"])),
        ("P1", "acme/api", "wip", MONDAY - timedelta(days=9), 200.0, False),
        *((f"B{n}", "acme/api", "deps", MONDAY - timedelta(days=3), 90.0, True)
          for n in range(5))])


def _reviews(con: Any) -> None:
    con.execute(f"create table {REVIEWS} (pull_request_id varchar, repo varchar, "
                "reviewer_login varchar, review_state varchar, submitted_at timestamptz, "
                "is_bot_reviewer boolean, is_review_given boolean)")
    con.executemany(f"insert into {REVIEWS} values (?, ?, ?, ?, ?, ?, ?)", REVIEW_ROWS)


def _workload(con: Any) -> None:
    con.execute(f"""create table {WORKLOAD} (assignee_login varchar, open_prs bigint,
        open_ready_prs bigint, open_draft_prs bigint, oldest_open_pr_hours double,
        merged_last_30_days bigint,
        by_repo struct(repo varchar, assigned_prs bigint, open_prs bigint,
                       open_draft_prs bigint, open_ready_prs bigint,
                       oldest_open_pr_hours double, merged_last_7_days bigint,
                       merged_last_30_days bigint)[],
        as_of timestamptz)""")
    for login, shares in WORKLOAD_BY_REPO.items():
        oldest = [s["oldest_open_pr_hours"] for s in shares if s["oldest_open_pr_hours"]]
        con.execute(f"insert into {WORKLOAD} values (?, ?, ?, ?, ?, ?, ?, ?)", [
            login, sum(s["open_prs"] for s in shares), sum(s["open_ready_prs"] for s in shares),
            sum(s["open_draft_prs"] for s in shares), max(oldest, default=None),
            sum(s["merged_last_30_days"] for s in shares), shares, AS_OF])


def _marts(con: Any) -> None:
    con.execute(f"create table {MILESTONES} (repo varchar, milestone_number integer, "
                "milestone_title varchar, milestone_due_on timestamptz, is_overdue boolean, "
                "prs_open bigint, prs_merged bigint, prs_closed_unmerged bigint, "
                "prs_total bigint)")
    con.executemany(f"insert into {MILESTONES} values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    MILESTONE_ROWS)
    con.execute(f"create table {LABEL_ACTIVITY} (repo varchar, label_name varchar, "
                "week_start date, prs_opened bigint, prs_merged bigint)")
    con.executemany(f"insert into {LABEL_ACTIVITY} values (?, ?, ?, ?, ?)", LABEL_ROWS)
    con.execute(f"create table {SYNCS} as select 'run-1' as run_id, 42 as total_points, "
                f"timestamptz '2025-03-20 01:00:00+00' as loaded_at")


CURRENT = (_facts, _reviews, _workload, _marts, _open, _teams)


@pytest.fixture()
def snapshot(tmp_path: Path) -> Path:
    """A snapshot of the current shape: every relation and column the charts read."""
    return _write(tmp_path / "snapshot.duckdb", *CURRENT)


def _sections(path: Path, filters: Filters = Filters()) -> dict[str, Section]:
    report = build_report(path, filters)
    assert report.empty is None, report.empty
    return {s.key: s for s in report.sections}


def _records(path: Path, key: str, filters: Filters = Filters()) -> list[dict[str, Any]]:
    section = _sections(path, filters)[key]
    assert section.missing is None and section.table is not None, section.missing
    return section.table.records()


@pytest.fixture()
def client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from fastapi.testclient import TestClient

    from pr_warehouse.report.app import create_app

    monkeypatch.setenv("PR_WAREHOUSE_SNAPSHOT", str(tmp_path / "snapshot.duckdb"))
    return TestClient(create_app(require_login=False))


# --- what the charts read ---------------------------------------------------------------


def test_every_chart_is_listed_once() -> None:
    keys = [chart.key for chart in CHARTS]
    assert keys == list(CSV_COLUMNS) and len(set(keys)) == len(keys)


def test_the_snapshot_here_holds_exactly_what_the_charts_and_tiles_read(
        snapshot: Path) -> None:
    """So every query below runs on nothing more than its chart or tile declares (the
    delivery ones read models this snapshot does not have yet)."""
    declared: dict[str, set[str]] = {}
    for unit in (*CHARTS, *TILES):
        for relation, columns in ({} if unit.delivery else unit.reads).items():
            declared.setdefault(relation, set()).update(columns)
    con = connect_read_only(snapshot)
    try:
        held = Snapshot(con).columns
    finally:
        con.close()
    # what the header's freshness and the repository picker read
    extras = {WORKLOAD: {"as_of"}, PULL_REQUESTS: {"repo"}}
    declared[PR_TEAMS].add("team")  # the team picker
    assert {r: held[r] - extras.get(r, set()) for r in declared} == declared


def test_the_page_reads_facts_and_marts_never_staging() -> None:
    """What a measure means (who is a bot, what a review given is) is a model's."""
    read = {relation for unit in (*CHARTS, *TILES) for relation in unit.reads}
    assert read and all(relation.startswith("analytics.") for relation in read), read


@functools.cache  # read once for every chart's case: the project's YAML takes ~0.4 s to parse
def _documented_columns() -> dict[str, set[str]]:
    """Every dbt model's documented columns, by ``schema.model`` as the snapshot names it."""
    import yaml

    documented: dict[str, set[str]] = {}
    for path in (ROOT / "dbt" / "models").rglob("*.yml"):
        schema = "staging" if "staging" in path.parts else "analytics"
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            documented[f"{schema}.{model['name']}"] = {c["name"] for c in
                                                       model.get("columns", [])}
    return documented


@pytest.mark.parametrize("unit", [*CHARTS, *TILES], ids=lambda unit: unit.key)
def test_every_column_a_chart_reads_is_a_documented_model_column(unit) -> None:
    """The page reads what the models own: a column it needs is added to the model."""
    documented = _documented_columns()
    for relation, columns in unit.reads.items():
        assert relation in documented, f"{relation} is not a documented dbt model"
        assert set(columns) <= documented[relation], (relation,
                                                      set(columns) - documented[relation])


# --- the page ----------------------------------------------------------------------------


DRAWN = [chart for chart in CHARTS if chart.draw and not chart.delivery]


def test_every_chart_renders_from_the_facts_and_marts(client, snapshot: Path) -> None:
    report = build_report(snapshot, Filters(grain="week"))
    assert [s.key for s in report.sections] == list(CSV_COLUMNS)
    assert {s.key: s.table.columns for s in report.sections if s.table} == \
        {k: v for k, v in CSV_COLUMNS.items() if v}
    assert all(s.missing is None and (s.is_list or s.spec() is not None)
               for s in report.sections if not s.chart.delivery)
    assert report.freshness.as_of == "2025-03-20 00:00 UTC"
    assert report.freshness.last_run_points == 42
    html = client.get("/?grain=week").text
    assert html.count('data-chart="') == len(DRAWN)
    # Only the delivery units (and tiles) say their models are not collected yet.
    assert html.count("data-missing") == sum(c.delivery for c in CHARTS)
    assert html.count("Not collected yet") >= sum(c.delivery for c in (*CHARTS, *TILES))
    assert html.count('class="card wide"') == sum(chart.wide for chart in CHARTS)
    assert 'download="assignee_workload.csv"' in html and 'download="waiting_now.csv"' in html


def test_no_snapshot_says_no_sync_has_finished(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert NO_SYNC_YET in response.text and "Traceback" not in response.text
    assert "data-chart" not in response.text


@pytest.mark.parametrize("statements", [
    (),  # a DuckDB file without the marts (dbt never ran)
    (f"create table {PULL_REQUESTS} (repo varchar)",),  # built, but empty
], ids=["no-marts", "no-rows"])
def test_empty_snapshot_says_no_sync_has_finished(client, tmp_path: Path, statements) -> None:
    _write(tmp_path / "snapshot.duckdb", *statements)
    response = client.get("/?repo=acme/api")
    assert response.status_code == 200
    assert NO_SYNC_YET in response.text and "Traceback" not in response.text


def test_not_a_duckdb_file_is_a_message_not_a_stack_trace(client, tmp_path: Path) -> None:
    (tmp_path / "snapshot.duckdb").write_bytes(b"half a copy")
    response = client.get("/")
    assert response.status_code == 200
    assert NO_SYNC_YET in response.text and "Traceback" not in response.text


@pytest.mark.parametrize(("older", "lacking", "charts"), [
    (f"alter table {WORKLOAD} drop column by_repo", f"{WORKLOAD}.by_repo",
     {"assignee_workload"}),
    (f"drop table {CYCLE_TIME_FACT}", CYCLE_TIME_FACT,
     {"cycle_time", "first_review", "waiting_now", "teams"}),
    (f"alter table {CYCLE_TIME_FACT} drop column pickup_hours",
     f"{CYCLE_TIME_FACT}.pickup_hours", {"cycle_time", "first_review", "teams"}),
    (f"drop table {MILESTONES}", MILESTONES, {"milestone_progress"}),
    (f"drop table {REVIEWS}", REVIEWS, {"reviews_given"}),
    (f"alter table {REVIEWS} drop column is_review_given", f"{REVIEWS}.is_review_given",
     {"reviews_given"}),
    # a snapshot from before the label time model: the chart does not fall back to spans
    (f"drop table {LABEL_TIME}", LABEL_TIME, {"time_in_label"}),
], ids=["workload-without-by_repo", "no-cycle-time-fact", "fact-without-pickup",
        "no-milestone-mart", "no-reviews-fact", "reviews-fact-without-is_review_given",
        "no-label-time-model"])
def test_an_older_snapshot_says_to_rebuild_and_never_recomputes(
        client, tmp_path: Path, older: str, lacking: str, charts: set[str]) -> None:
    """A snapshot built by an older version lacks a model or column: the charts that read
    it say so and how to rebuild; nothing is computed another way, the others are drawn."""
    _write(tmp_path / "snapshot.duckdb", *CURRENT, older)
    sections = _sections(tmp_path / "snapshot.duckdb", Filters(repo="acme/api"))
    missing = {key: s.missing for key, s in sections.items()
               if s.missing and not s.chart.delivery}
    assert set(missing) == charts
    for key in charts:
        assert sections[key].table is None
        assert "built by an older version" in missing[key] and lacking in missing[key]
        assert "run the DAG github_pull_requests (or `make demo`) to rebuild it" in missing[key]
    html = client.get("/?repo=acme/api").text
    delivery = sum(c.delivery for c in CHARTS)
    assert html.count("data-missing") == len(charts) + delivery
    assert html.count('data-chart="') == len(DRAWN) - len(charts & {c.key for c in DRAWN})


def test_a_failing_query_costs_its_chart_only(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.duckdb", *CURRENT, f"alter table {WORKLOAD} drop column "
                  "by_repo", f"alter table {WORKLOAD} add column by_repo varchar")
    sections = _sections(path, Filters(repo="acme/api"))
    assert sections["assignee_workload"].missing.startswith("No data: the query failed")
    assert all(s.missing is None for key, s in sections.items()
               if key != "assignee_workload" and not s.chart.delivery)


# --- each chart's numbers under the filters ----------------------------------------------


def _hours(week: int, bots: bool = False) -> list[float]:
    """The cycle hours of acme/api's PRs merged in week 0 or 1 (bots as the fact says)."""
    start = MONDAY + timedelta(days=7 * week)
    return [h for _, _, _, bot, merged, h, _ in PRS
            if merged and start <= merged < start + timedelta(days=7) and (bots or not bot)]


def test_cycle_time_groups_the_fact_by_week_under_the_filters(snapshot: Path) -> None:
    week = _records(snapshot, "cycle_time", Filters(repo="acme/api"))[0]
    hours = _hours(0)
    assert (week["week_start"], week["iso_week"], week["prs_merged"]) == \
        ("2025-03-03", "2025-W10", len(hours))
    assert week["median_cycle_hours"] == round(statistics.median(hours), 1)
    assert week["p90_cycle_hours"] == round(_p90(hours), 1)
    assert week["median_pickup_hours"] == round(statistics.median(hours) * PICKUP, 1)
    with_bots = _records(snapshot, "cycle_time", Filters(include_bots=True))[0]
    assert with_bots["prs_merged"] == len(_hours(0, bots=True)) == len(hours) + 1
    # A date range keeps only the weeks inside it; another repository, none of these.
    later = _records(snapshot, "cycle_time", Filters(since=(MONDAY + timedelta(days=7)).date()))
    assert [r["week_start"] for r in later] == ["2025-03-10"]
    assert _records(snapshot, "cycle_time", Filters(repo="acme/web")) == []


def test_first_review_has_the_cycle_time_cohort(snapshot: Path) -> None:
    """The same PRs per week as the cycle-time chart: bots as the fact defines them."""
    cycle = _records(snapshot, "cycle_time")
    first = _records(snapshot, "first_review")
    assert [(r["week_start"], r["prs_merged"]) for r in first] == \
        [(r["week_start"], r["prs_merged"]) for r in cycle]
    reviewed = [h for _, _, _, bot, merged, _, h in PRS
                if merged and merged < MONDAY + timedelta(days=7) and not bot and h is not None]
    assert first[0]["prs_reviewed"] == len(reviewed)
    assert first[0]["median_hours_to_first_review"] == round(statistics.median(reviewed), 1)
    assert first[0]["median_hours_to_first_response"] == cycle[0]["median_pickup_hours"]


def test_reviews_given_count_the_facts_reviews_given_under_the_filters(snapshot: Path) -> None:
    """The fact's ``is_review_given`` rows (no self-review, no pending one) per reviewer;
    bots are the fact's ``is_bot_reviewer``, a deleted reviewer its ``ghost``."""
    assert _records(snapshot, "reviews_given") == [
        {"reviewer": "ana", "reviews": 2, "approved": 1, "changes_requested": 1,
         "commented": 0, "prs_reviewed": 1},
        {"reviewer": "ben", "reviews": 1, "approved": 1, "changes_requested": 0,
         "commented": 0, "prs_reviewed": 1},
        {"reviewer": "ghost", "reviews": 1, "approved": 0, "changes_requested": 0,
         "commented": 1, "prs_reviewed": 1}]
    with_bots = _records(snapshot, "reviews_given", Filters(include_bots=True))
    assert [(r["reviewer"], r["reviews"]) for r in with_bots] == [
        ("ana", 2), ("ben", 1), ("ci-bot", 1), ("ghost", 1), ("renovate[bot]", 1)]
    web = _records(snapshot, "reviews_given", Filters(repo="acme/web", include_bots=True))
    assert [r["reviewer"] for r in web] == ["ghost"]
    later = _records(snapshot, "reviews_given",
                     Filters(since=(MONDAY + timedelta(days=1)).date(),
                             until=(MONDAY + timedelta(days=2)).date(), include_bots=True))
    assert [(r["reviewer"], r["reviews"]) for r in later] == [("ana", 2), ("ci-bot", 1)]


def test_workload_is_the_marts_totals_or_one_repositorys_entry(snapshot: Path) -> None:
    """All repositories: the mart's rows. One repository: each assignee's entry of
    ``by_repo`` for it; nobody without open PRs there. Dates and bots change nothing."""
    everyone = _records(snapshot, "assignee_workload")
    assert everyone == [
        {"assignee": "erin", "open_prs": 3, "open_ready_prs": 2, "open_draft_prs": 1,
         "oldest_open_days": round(500 / 24, 1), "merged_last_30_days": 1},
        {"assignee": "finn", "open_prs": 1, "open_ready_prs": 1, "open_draft_prs": 0,
         "oldest_open_days": 1.0, "merged_last_30_days": 0}]
    api = _records(snapshot, "assignee_workload", Filters(repo="acme/api"))
    assert api == [{"assignee": "erin", "open_prs": 2, "open_ready_prs": 1,
                    "open_draft_prs": 1, "oldest_open_days": 2.0, "merged_last_30_days": 1}]
    narrowed = Filters(repo="acme/api", since=date(2025, 3, 10), include_bots=True)
    assert _records(snapshot, "assignee_workload", narrowed) == api


def test_milestones_and_labels_read_their_marts_per_repository(snapshot: Path) -> None:
    milestones = _records(snapshot, "milestone_progress", Filters(repo="acme/api"))
    assert [(r["milestone_title"], r["due_on"], r["is_overdue"]) for r in milestones] == \
        [("v1", "2025-03-10", True)]
    labels = _records(snapshot, "label_activity")
    assert [(r["label"], r["week_start"], r["prs_opened"]) for r in labels] == \
        [("bug", "2025-03-03", 3), ("docs", "2025-03-10", 0)]
    later = _records(snapshot, "label_activity", Filters(since=date(2025, 3, 10)))
    assert [r["label"] for r in later] == ["docs"]


# --- the report and its readers ----------------------------------------------------------


def test_report_html_is_self_contained(snapshot: Path) -> None:
    html = render_html(build_report(snapshot, Filters()))
    assert "window.vegaEmbed" in html  # Vega inlined, not fetched
    assert "<script src=" not in html and "<link" not in html
    assert "all repositories, all teams, all dates, bots excluded" in html
    assert html.count('data-chart="') == len(DRAWN)


def test_the_vega_script_is_built_once_and_read_from_the_cache_after(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second process (here: the function's own cache cleared) reads the script the first
    one built; a cache folder that cannot be written costs the build, not the report."""
    from pr_warehouse.report.render import vega_bundle

    monkeypatch.setenv("PR_WAREHOUSE_CACHE_DIR", str(tmp_path / "cache"))
    vega_bundle.cache_clear()
    try:
        built = vega_bundle()
        assert "vegaEmbed" in built and "</script" not in built
        (cached,) = (tmp_path / "cache").iterdir()
        assert cached.read_text(encoding="utf-8") == built
        cached.write_text("/* the cached copy */", encoding="utf-8")
        vega_bundle.cache_clear()
        assert vega_bundle() == "/* the cached copy */"

        (tmp_path / "not-a-folder").write_text("")
        monkeypatch.setenv("PR_WAREHOUSE_CACHE_DIR", str(tmp_path / "not-a-folder"))
        vega_bundle.cache_clear()
        assert vega_bundle() == built
    finally:
        vega_bundle.cache_clear()


def test_cli_report_writes_the_file_and_prints_its_path(snapshot: Path, tmp_path: Path,
                                                        monkeypatch, capsys) -> None:
    from pr_warehouse import cli

    monkeypatch.setenv("PR_WAREHOUSE_SNAPSHOT", str(snapshot))
    out = tmp_path / "out" / "report.html"
    assert cli.main(["report", "--output", str(out), "--repo", "acme/api"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert "acme/api, all teams, all dates, bots excluded" in out.read_text()
    monkeypatch.setenv("PR_WAREHOUSE_SNAPSHOT", str(tmp_path / "none.duckdb"))
    assert cli.main(["report", "--output", str(out)]) == 1
    assert NO_SYNC_YET in capsys.readouterr().err


def test_plugin_mounts_the_app_and_adds_the_navigation_entry() -> None:
    from airflow.plugins_manager import AirflowPlugin
    from fastapi import FastAPI

    from pr_warehouse.constants import (
        ANALYTICS_URL_PREFIX,
        ANALYTICS_VIEW_NAME,
        DOCS_URL_PREFIX,
        DOCS_VIEW_NAME,
    )

    spec = importlib.util.spec_from_file_location("pr_analytics", ROOT / "plugins" /
                                                  "pr_analytics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plugin = module.PrAnalyticsPlugin
    assert issubclass(plugin, AirflowPlugin)
    app, docs = plugin.fastapi_apps
    assert isinstance(app["app"], FastAPI) and app["url_prefix"] == ANALYTICS_URL_PREFIX
    assert isinstance(docs["app"], FastAPI) and docs["url_prefix"] == DOCS_URL_PREFIX
    view, docs_view = plugin.external_views
    assert view["name"] == ANALYTICS_VIEW_NAME and view["destination"] == "nav"
    assert view["href"].startswith(ANALYTICS_URL_PREFIX)
    assert docs_view["name"] == DOCS_VIEW_NAME and docs_view["destination"] == "nav"
    assert docs_view["href"].startswith(DOCS_URL_PREFIX)


# --- the headline tiles, the waiting list, the grain, teams and reviewers ----------------

WEEK_2 = Filters(since=date(2025, 3, 10), until=date(2025, 3, 16))


def _tiles(path: Path, filters: Filters) -> dict[str, Any]:
    return {t.tile.key: t for t in build_report(path, filters).tiles}


def test_tiles_compare_the_period_with_the_one_before(snapshot: Path) -> None:
    """Week 2 (P5, P6) against week 1 (P1-P3; P4 is a bot's): counts, medians and shares
    of the fact's rows, coloured by whether the change is good."""
    tiles = _tiles(snapshot, WEEK_2)
    now, before = _hours(1), _hours(0)
    assert (tiles["prs_merged"].current, tiles["prs_merged"].previous) == (2, 3)
    assert tiles["prs_merged"].good is False  # fewer merged
    cycle = tiles["median_cycle"]
    assert (cycle.current, cycle.previous) == (statistics.median(now), statistics.median(before))
    assert cycle.change_text == f"{round(100 * (8.0 - 30.0) / 30.0):+d}%" and cycle.good
    assert tiles["median_pickup"].current == round(statistics.median(now) * PICKUP, 1)
    unreviewed = tiles["merged_without_review"]
    assert (unreviewed.current, unreviewed.previous) == (50.0, round(100 / 3, 1))
    assert unreviewed.good is False and unreviewed.change_text == "+16.7 pts"
    response = tiles["median_response"]  # R3, R4 against R1, R2 (the bot's R8 removed)
    assert (response.current, response.previous) == (3.5, 3.0) and response.good is False
    for key in ("deployments", "lead_time", "change_failure_rate"):
        assert tiles[key].missing.startswith("Not collected yet"), key


def test_tiles_default_to_the_last_four_weeks_with_merges(snapshot: Path) -> None:
    report = build_report(snapshot, Filters())
    assert str(report.period) == "2025-02-12 to 2025-03-11"
    assert str(report.period.previous()) == "2025-01-15 to 2025-02-11"
    tiles = {t.tile.key: t for t in report.tiles}
    assert (tiles["prs_merged"].current, tiles["prs_merged"].previous) == (5, 0)
    assert tiles["prs_merged"].change_text == "–"  # nothing to compare with


def test_tiles_follow_the_team_and_repository(snapshot: Path) -> None:
    core = _tiles(snapshot, Filters(team="acme/core"))
    assert core["prs_merged"].current == 2  # P1 and P5
    assert core["median_cycle"].current == statistics.median([10.0, 7.0])
    # Nothing merged in acme/web: no period to show, said plainly.
    web = _tiles(snapshot, Filters(repo="acme/web"))["prs_merged"]
    assert web.current is None and web.missing == "No data for these filters."


def test_waiting_now_lists_ready_prs_nobody_answered_oldest_first(snapshot: Path) -> None:
    rows = _records(snapshot, "waiting_now")
    assert [(r["repo"], r["pr_number"], r["age_hours"], r["waiting_on"], r["status"])
            for r in rows] == [
        ("acme/web", 7, 300.0, "acme/web-team, finn", "no response yet"),
        ("acme/api", 8, 100.0, "ben", "requests unanswered")]
    assert rows[0]["url"] == "https://github.com/acme/web/pull/7" and rows[0]["ci_state"] is None
    with_bots = _records(snapshot, "waiting_now", Filters(include_bots=True))
    assert with_bots[-1]["pr_number"] == 11
    assert with_bots[-1]["waiting_on"] == "no reviewer requested"
    assert [r["pr_number"] for r in _records(snapshot, "waiting_now",
                                             Filters(team="acme/web-team"))] == [7]


def test_grain_defaults_to_month_beyond_twelve_weeks(snapshot: Path) -> None:
    assert build_report(snapshot, Filters()).filters.grain == "week"
    long = Filters(since=date(2024, 11, 1))
    assert build_report(snapshot, long).filters.grain == "month"
    months = _records(snapshot, "cycle_time", long)
    assert [(r["month_start"], r["month"], r["prs_merged"]) for r in months] == \
        [("2025-03-01", "2025-03", 5)]
    weeks = _records(snapshot, "cycle_time", Filters(since=date(2024, 11, 1), grain="week"))
    assert [r["week_start"] for r in weeks] == ["2025-03-03", "2025-03-10"]


def test_the_team_filter_keeps_the_teams_prs(snapshot: Path) -> None:
    weeks = _records(snapshot, "cycle_time", Filters(team="acme/core"))
    assert [(r["week_start"], r["prs_merged"], r["median_cycle_hours"]) for r in weeks] == \
        [("2025-03-03", 1, 10.0), ("2025-03-10", 1, 7.0)]


def test_reviewers_load_and_response_from_the_requests(snapshot: Path) -> None:
    rows = _records(snapshot, "reviewer_response")
    assert [(r["reviewer"], r["requests"], r["answered"], r["waiting"],
             r["median_response_hours"]) for r in rows] == [
        ("ana", 2, 2, 0, 5.0), ("ben", 2, 1, 1, 2.0), ("finn", 1, 0, 1, None)]


def test_teams_side_by_side(snapshot: Path) -> None:
    rows = {r["team"]: r for r in _records(snapshot, "teams")}
    assert (rows["acme/core"]["prs_merged"], rows["acme/core"]["median_cycle_hours"],
            rows["acme/core"]["review_requests_received"]) == (2, 8.5, 3)
    assert (rows["acme/web-team"]["prs_merged"],
            rows["acme/web-team"]["review_requests_answered"]) == (1, 0)


def test_time_in_label_keeps_labels_on_enough_prs(snapshot: Path) -> None:
    blocked = {"label": "blocked", "spans": 5, "prs": 5, "median_hours": 30.0, "p90_hours": 46.0}
    assert _records(snapshot, "time_in_label") == [blocked]
    assert _records(snapshot, "time_in_label", Filters(include_bots=True)) == [
        {"label": "deps", "spans": 5, "prs": 5, "median_hours": 90.0, "p90_hours": 90.0},
        blocked]


def _delivery(con: Any) -> None:
    """The delivery step's models, with the columns the page expects of them."""
    for column, kind in (("deployed_at", "timestamptz"), ("lead_time_hours", "double"),
                         ("checks_failed", "integer"), ("time_to_green_hours", "double"),
                         ("checks_state", "varchar")):
        con.execute(f"alter table {CYCLE_TIME_FACT} add column {column} {kind}")
    con.execute(f"update {CYCLE_TIME_FACT} set deployed_at = merged_at + interval 2 hour, "
                "lead_time_hours = cycle_hours + 2, checks_failed = 1, "
                "time_to_green_hours = 0.5, checks_state = 'SUCCESS'")
    # one successful production deployment per merged PR, and a failed staging one that
    # counts nowhere
    con.execute(f"create table {DEPLOYMENTS} as select repo, deployed_at as created_at, "
                "true as is_production, 'SUCCESS' as outcome "
                f"from {CYCLE_TIME_FACT} where deployed_at is not null")
    con.execute(f"insert into {DEPLOYMENTS} values ('acme/api', '2025-03-11 10:00:00+00', "
                "false, 'FAILURE')")
    con.execute(f"create table {DORA_WEEKLY} (repo varchar, week_start date, "
                "production_deployments bigint, failed_deployments bigint, "
                "rolled_back_deployments bigint)")
    con.execute(f"insert into {DORA_WEEKLY} values ('acme/api', '2025-03-03', 4, 1, 0), "
                "('acme/api', '2025-03-10', 2, 0, 1)")


def test_delivery_units_read_the_delivery_models_once_they_exist(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.duckdb", *CURRENT, _delivery)
    tiles = _tiles(path, WEEK_2)
    # Deployments are the deployment fact's rows: a bot's change ships too (P4).
    assert (tiles["deployments"].current, tiles["deployments"].previous) == (2, 4)
    assert tiles["lead_time"].current == statistics.median(_hours(1)) + 2
    assert (tiles["change_failure_rate"].current, tiles["change_failure_rate"].previous) == \
        (50.0, 25.0)
    sections = _sections(path)
    assert all(s.missing is None for s in sections.values())
    assert [r["ci_state"] for r in sections["waiting_now"].table.records()] == ["SUCCESS"] * 2
    assert sections["dora"].table.records()[0]["deployments"] == 4  # P1-P4
    assert sections["ci_checks"].spec() is not None and sections["dora"].spec() is not None


def test_every_chart_spec_is_valid_vega_lite(tmp_path: Path) -> None:
    """The page skips Altair's schema checks for speed; here every chart, the delivery ones
    included, is drawn from its table with them on, and renders to SVG."""
    import vl_convert

    path = _write(tmp_path / "s.duckdb", *CURRENT, _delivery)
    for grain in ("week", "month"):
        for key, section in _sections(path, Filters(grain=grain)).items():
            if section.is_list:
                continue
            assert section.table is not None and section.table.rows, key
            spec = section.chart.spec(section.table, validate=True)
            assert spec == section.spec(), key  # the page's spec is the checked one
            assert "<svg" in vl_convert.vegalite_to_svg(spec), key


def test_drawing_a_chart_never_makes_altair_look_up_a_channel_class(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every channel reaches ``encode`` as its object (report/vega.py ``tooltips``): a bare
    string or a condition dict makes Altair hash its whole schema to find the class
    (``_FromDict``), ~2.5-20 ms each, which had been most of a page's drawing."""
    from altair.utils import schemapi

    path = _write(tmp_path / "s.duckdb", *CURRENT, _delivery)
    sections = [s for grain in ("week", "month")
                for s in _sections(path, Filters(grain=grain)).values() if not s.is_list]
    lookups: list[Any] = []
    real = schemapi._FromDict.__init__

    def counted(self: Any, *args: Any) -> None:
        lookups.append(args)
        real(self, *args)

    monkeypatch.setattr(schemapi._FromDict, "__init__", counted)
    specs = [s.spec() for s in sections]
    assert all(specs) and len(specs) == 2 * len([c for c in CHARTS if c.draw])
    assert lookups == []


def test_every_tile_and_chart_links_to_its_model_in_the_docs(client, snapshot: Path) -> None:
    html = client.get("/").text
    for unit in (*TILES, *CHARTS):
        assert f'href="/warehouse-docs/#!/model/model.pr_warehouse.{unit.model}"' in html
    assert html.count("data-docs=") == len(TILES) + len(CHARTS)


def test_docs_app_serves_the_generated_docs_or_says_there_are_none(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from pr_warehouse.report.app import create_docs_app

    monkeypatch.setenv("PR_WAREHOUSE_SNAPSHOT", str(tmp_path / "snapshot.duckdb"))
    docs = TestClient(create_docs_app(require_login=False))
    assert "No warehouse docs yet" in docs.get("/").text
    page = tmp_path / "warehouse_docs" / "index.html"
    page.parent.mkdir()
    page.write_text("<html>dbt docs</html>")
    assert docs.get("/").text == "<html>dbt docs</html>"
