"""The PR analytics page and the per-run report, in a real browser.

One real DAG run (``dag.test()`` against the emulator) builds the snapshot and writes the
run's report. Then Airflow's api-server starts with the plugin folder, and headless
Chromium opens the page where the UI embeds it (``/plugin/pr-analytics``), with every
request off loopback blocked: every chart renders, one repository's numbers equal the
marts', changing the filters changes them, and a missing snapshot reads "No sync has
finished yet". The report opens from disk with the network blocked, every chart drawn.

Screenshots go to ``tests/artifacts/`` (git-ignored); ``docs/pr-analytics.png`` in the README
is one of them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from pr_warehouse.constants import (
    ANALYTICS_UI_ROUTE,
    ANALYTICS_URL_PREFIX,
    ANALYTICS_VIEW_NAME,
    DOCS_URL_PREFIX,
    DOCS_VIEW_NAME,
)
from pr_warehouse.report.charts import CHARTS
from tests.support.airflow import Airflow
from tests.support.airflow import get_json as _get
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, require_chromium

from .conftest import Pipeline, task_states

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.services, pytest.mark.timeout(600)]

# The charts the demo world always fills, besides the delivery ones.
SECTIONS = ["cycle_time", "first_review", "reviewer_response", "reviews_given", "teams",
            "assignee_workload", "milestone_progress", "label_activity"]
LOOPBACK = re.compile(r"^(https?://127\.0\.0\.1[:/]|file:|data:|about:|blob:)")


@dataclass
class Synced:
    pipeline: Pipeline
    run: Any


@pytest.fixture(scope="module")
def synced(make_module_pipeline) -> Synced:
    require_chromium()
    pipeline = make_module_pipeline(data_tests=False)  # the subject is the page
    run = pipeline.run({"orgs": ["acme"], "page_size": 100})
    assert str(run.state) == "success", task_states(run)
    return Synced(pipeline, run)


@pytest.fixture(scope="module")
def api_server(synced: Synced, tmp_path_factory: pytest.TempPathFactory,
               migrated_metadata_db: Path) -> Iterator[str]:
    """Airflow's api-server alone (the page needs no scheduler), reading the run's snapshot,
    on a copy of the session's migrated metadata DB."""
    tmp = tmp_path_factory.mktemp("analytics-ui")
    with Airflow(tmp / "airflow", {"PR_WAREHOUSE_SNAPSHOT": str(synced.pipeline.snapshot_path)},
                 logs=tmp / "logs", cwd=ROOT, metadata_db=migrated_metadata_db) as airflow:
        airflow.spawn("api-server")
        started = time.monotonic()
        airflow.wait_healthy()
        print(f"api-server ready in {time.monotonic() - started:.1f}s at {airflow.base_url}")
        yield airflow.base_url


def _browser(pw: Any) -> Any:
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def _offline_context(browser: Any, blocked: list[str], **kwargs: Any) -> Any:
    """A browser context that refuses (and records) every request off loopback."""
    context = browser.new_context(**kwargs)

    def route(route: Any) -> None:
        if LOOPBACK.match(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return context


def _wait_rendered(frame: Any, count: int) -> None:
    """Every chart has been drawn by Vega (an SVG with marks), none failed; at least
    ``count`` are there (the demo's charts), every one drawn."""
    from playwright.sync_api import expect

    expect(frame.locator(f"[data-chart='{SECTIONS[-1]}']")).to_have_count(1)
    drawn = frame.locator("[data-chart]").count()
    assert drawn >= count
    expect(frame.locator("[data-chart][data-rendered='true']")).to_have_count(drawn,
                                                                             timeout=60_000)
    for key in SECTIONS:
        assert frame.locator(f"[data-chart='{key}'] svg .mark-group, "
                             f"[data-chart='{key}'] svg [class*='mark-']").count() > 0, key


def _table(frame: Any, key: str) -> list[dict[str, str]]:
    """The numbers table next to a chart, as the page shows it (header -> cell text)."""
    return frame.locator(f"table[data-table='{key}']").evaluate("""(table) => {
        const head = [...table.tHead.rows[0].cells].map((c) => c.textContent.trim());
        return [...table.tBodies[0].rows].map((r) => Object.fromEntries(
            [...r.cells].map((c, i) => [head[i], c.textContent.trim()])));
    }""")


def _number(text: str) -> float | None:
    return None if text == "–" else float(text)


def _milestones_on_page(frame: Any) -> dict[int, tuple]:
    return {int(r["milestone_number"]): (int(r["prs_open"]), int(r["prs_merged"]),
                                         int(r["prs_closed_unmerged"]), int(r["prs_total"]),
                                         r["is_overdue"] == "yes")
            for r in _table(frame, "milestone_progress")}


def _milestones_in_mart(pipeline: Pipeline, repo: str) -> dict[int, tuple]:
    return {n: (o, m, c, t, bool(d)) for n, o, m, c, t, d in pipeline.query(
        "select milestone_number, prs_open, prs_merged, prs_closed_unmerged, prs_total, "
        "is_overdue from analytics.mart_milestone_progress where repo = ?", [repo])}


def _labels_on_page(frame: Any) -> dict[tuple[str, str], tuple[int, int]]:
    return {(r["label"], r["week_start"]): (int(r["prs_opened"]), int(r["prs_merged"]))
            for r in _table(frame, "label_activity")}


def _labels_in_mart(pipeline: Pipeline, repo: str) -> dict[tuple[str, str], tuple[int, int]]:
    return {(label, str(week)): (opened, merged) for label, week, opened, merged in
            pipeline.query("select label_name, week_start, prs_opened, prs_merged "
                           "from analytics.mart_label_activity where repo = ?", [repo])}


def _workload_on_page(frame: Any) -> dict[str, tuple[int, int, int]]:
    return {r["assignee"]: (int(r["open_prs"]), int(r["open_ready_prs"]),
                            int(r["open_draft_prs"]))
            for r in _table(frame, "assignee_workload")}


def _workload_in_mart(pipeline: Pipeline, repo: str) -> dict[str, tuple[int, int, int]]:
    """Open PRs per assignee in ``repo``: their entry of the mart's ``by_repo``, as dbt
    built it (the unit tests can only imitate its nested type)."""
    return {login: (n, ready, drafts) for login, n, ready, drafts in pipeline.query(
        "select w.assignee_login, r.open_prs, r.open_ready_prs, r.open_draft_prs "
        "from analytics.mart_assignee_workload w, unnest(w.by_repo) as t(r) "
        "where r.repo = ? and r.open_prs > 0", [repo])}


def _check_workload_is_the_marts(frame: Any, pipeline: Pipeline, repo: str) -> None:
    """The page lists the busiest assignees (the bars have a top), each with the mart's
    numbers for ``repo``."""
    mart, shown = _workload_in_mart(pipeline, repo), _workload_on_page(frame)
    assert shown and shown.items() <= mart.items()
    hidden = [mart[login][0] for login in mart.keys() - shown.keys()]
    assert min(n for n, _, _ in shown.values()) >= max(hidden, default=0)


def _merged_prs_on_page(frame: Any) -> int:
    return sum(int(r["prs_merged"]) for r in _table(frame, "cycle_time"))


def _merged_prs_in_mart(pipeline: Pipeline, repo: str, include_bots: bool) -> int:
    # Bots as the cycle-time fact defines them (a Bot, or a login ending in [bot]).
    bots = "" if include_bots else " and not is_bot_author"
    return pipeline.query("select count(*) from analytics.fct_pull_request_cycle_time "
                          f"where repo = ? and merged_at is not null{bots}", [repo])[0][0]


def _tile_numbers(frame: Any) -> dict[str, float | None]:
    """Each tile's current value as the page shows it (None: no value or not collected)."""
    texts = frame.locator("[data-tile]").evaluate_all("""(tiles) => Object.fromEntries(
        tiles.map((t) => [t.dataset.tile, (t.querySelector('[data-value]') || {}).textContent
                                          || null]))""")
    return {key: None if text in (None, "–") else float(text.rstrip(" h%"))
            for key, text in texts.items()}


def _tiles_in_marts(pipeline: Pipeline, frame: Any, repo: str | None, team: str | None,
                    bots: bool) -> dict[str, float | None]:
    """The tiles' figures over the period the page states, from the facts' rows in Python."""
    import statistics

    period = frame.locator("[data-period]")
    start, end = period.get_attribute("data-start"), period.get_attribute("data-end")
    team_prs = {r[0] for r in pipeline.query(
        "select pull_request_id from analytics.bridge_pull_request_teams where team = ?",
        [team])} if team else None

    def chosen(pr: str, r: str, bot: bool) -> bool:
        return ((repo is None or r == repo) and (bots or not bot)
                and (team_prs is None or pr in team_prs))

    merged = [row for row in pipeline.query(
        "select pull_request_id, repo, is_bot_author, cycle_hours, pickup_hours, "
        "review_hours, merged_without_review, strftime(timezone('UTC', merged_at), "
        "'%Y-%m-%d') from analytics.fct_pull_request_cycle_time where merged_at is not null")
        if start <= row[7] <= end and chosen(*row[:3])]
    answered = [row[3] for row in pipeline.query(
        "select pull_request_id, repo, is_bot_reviewer, response_hours, strftime("
        "timezone('UTC', requested_at), '%Y-%m-%d') from analytics.fct_review_requests "
        "where outcome = 'responded'") if start <= row[4] <= end and chosen(*row[:3])]

    # Delivery: a team does not narrow deployments (they belong to repositories, not PRs).
    deployments = [row for row in pipeline.query(
        "select repo, strftime(timezone('UTC', created_at), '%Y-%m-%d') "
        "from analytics.fct_deployments where is_production and outcome = 'SUCCESS'")
        if start <= row[1] <= end and (repo is None or row[0] == repo)]
    lead_times = [row[3] for row in pipeline.query(
        "select pull_request_id, repo, is_bot_author, lead_time_hours, strftime(timezone("
        "'UTC', deployed_at), '%Y-%m-%d') from analytics.fct_pull_request_cycle_time "
        "where deployed_at is not null") if start <= row[4] <= end and chosen(*row[:3])]
    weeks = [row for row in pipeline.query(
        "select repo, strftime(week_start, '%Y-%m-%d'), production_deployments, "
        "failed_deployments + rolled_back_deployments from analytics.mart_dora_weekly")
        if start <= row[1] <= end and (repo is None or row[0] == repo)]
    finished, failed = sum(r[2] for r in weeks), sum(r[3] for r in weeks)

    def median(values: list[float]) -> float | None:
        return round(statistics.median(values), 1) if values else None

    return {"prs_merged": float(len(merged)) if merged else 0.0,
            "median_cycle": median([r[3] for r in merged if r[3] is not None]),
            "median_pickup": median([r[4] for r in merged if r[4] is not None]),
            "median_review": median([r[5] for r in merged if r[5] is not None]),
            "merged_without_review": round(100.0 * sum(bool(r[6]) for r in merged)
                                           / len(merged), 1) if merged else None,
            "median_response": median(answered),
            "deployments": float(len(deployments)),
            "lead_time": median([v for v in lead_times if v is not None]),
            "change_failure_rate": round(100.0 * failed / finished, 1) if finished else None}


def _check_tiles_equal_marts(frame: Any, pipeline: Pipeline, repo: str | None = None,
                             team: str | None = None, bots: bool = False) -> None:
    shown = _tile_numbers(frame)
    expected = _tiles_in_marts(pipeline, frame, repo, team, bots)
    assert shown.keys() == expected.keys()
    for key, value in expected.items():
        assert shown[key] == pytest.approx(value, abs=0.051) if value is not None \
            else shown[key] is None, (key, shown[key], value)
    assert frame.locator("[data-tile-missing]").count() == 0  # delivery is collected too


def _waiting_in_marts(pipeline: Pipeline, repo: str | None) -> list[tuple[str, int, str]]:
    """Open ready PRs (not a bot's) nobody answered, oldest first, with whom they wait on."""
    waiting: dict[str, set[str]] = {}
    for pr, who in pipeline.query("select pull_request_id, coalesce(team, reviewer_login) "
                                  "from analytics.fct_review_requests "
                                  "where outcome = 'waiting'"):
        waiting.setdefault(pr, set()).add(who)
    rows = pipeline.query(
        "select o.pull_request_id, o.repo, o.pr_number, o.hours_open, o.is_draft, "
        "c.is_bot_author, c.first_response_at is null from analytics.mart_open_pull_requests o "
        "join analytics.fct_pull_request_cycle_time c using (pull_request_id)")
    chosen = sorted((r for r in rows if not r[4] and not r[5] and (repo is None or r[1] == repo)
                     and (r[6] or r[0] in waiting)), key=lambda r: (-r[3], r[1], r[2]))[:50]
    return [(r[1], r[2], ", ".join(sorted(waiting[r[0]])) if r[0] in waiting
             else "no reviewer requested") for r in chosen]


def _waiting_on_page(frame: Any) -> list[tuple[str, int, str]]:
    return [(r["repo"], int(r["pr_number"].lstrip("#")), r["waiting_on"])
            for r in _table(frame, "waiting_now")]


def _check_cycle_time_equals_mart(frame: Any, pipeline: Pipeline, repo: str) -> None:
    """Bots excluded, the phases chart is exactly mart_cycle_time_weekly (human-authored PRs)."""
    columns = ("median_coding_hours", "median_pickup_hours", "median_review_hours",
               "median_cycle_hours", "p90_cycle_hours")
    page = {r["week_start"]: (int(r["prs_merged"]), *(_number(r[c]) for c in columns))
            for r in _table(frame, "cycle_time")}
    rounded = ", ".join(f"round({c}, 1)" for c in columns)
    mart = {str(week): (n, *rest) for week, n, *rest in pipeline.query(
        f"select week_start, prs_merged, {rounded} from analytics.mart_cycle_time_weekly "
        "where repo = ?", [repo])}
    assert page and page == mart


def _inner(page: Any) -> Any:
    """The frame the UI embeds the page in."""
    return next(f for f in page.frames
                if f.parent_frame is not None and ANALYTICS_URL_PREFIX in f.url)


def _apply(page: Any, action: Any) -> None:
    """Change one filter (the form submits itself) and wait for the new page."""
    with page.expect_event("framenavigated", predicate=lambda f: f.parent_frame is not None):
        action()
    _inner(page).wait_for_load_state("domcontentloaded")


def test_page_in_the_airflow_ui(synced: Synced, api_server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    pipeline = synced.pipeline
    # The plugin is registered: its app and its navigation entry.
    status, plugins = _get(f"{api_server}/api/v2/plugins")
    assert status == 200
    ours = [p for p in plugins["plugins"] if p["name"] == "pr_analytics"]
    assert ours and ours[0]["external_views"][0]["url_route"] == ANALYTICS_UI_ROUTE
    assert ours[0]["fastapi_apps"][0]["url_prefix"] == ANALYTICS_URL_PREFIX
    assert [v["name"] for v in ours[0]["external_views"]] == [ANALYTICS_VIEW_NAME,
                                                             DOCS_VIEW_NAME]

    repo, other = "acme/api", "acme/web"
    points = pipeline.query("select total_points from analytics.fct_syncs "
                            "order by loaded_at desc limit 1")[0][0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    started = time.monotonic()
    with sync_playwright() as pw:
        browser = _browser(pw)
        context = _offline_context(browser, blocked, viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            # From Airflow's navigation, as a user gets there.
            page.goto(f"{api_server}/", wait_until="domcontentloaded")
            nav = page.get_by_role("link", name=ANALYTICS_VIEW_NAME)
            expect(nav.first).to_be_visible()
            nav.first.click()
            expect(page).to_have_url(re.compile(f"/plugin/{ANALYTICS_UI_ROUTE}"))
            page.wait_for_selector(f"iframe[src*='{ANALYTICS_URL_PREFIX}']")
            frame = page.frame_locator(f"iframe[src*='{ANALYTICS_URL_PREFIX}']")
            _wait_rendered(frame, len(SECTIONS))
            expect(frame.locator("[data-last-run-points]")).to_have_text(str(points))
            # Every tile and the waiting list are the marts' (all repositories, no bots);
            # two years of data: by month.
            _check_tiles_equal_marts(frame, pipeline)
            assert _waiting_on_page(frame) == _waiting_in_marts(pipeline, None)
            expect(frame.locator("#filter-grain")).to_have_value("month")
            assert "month_start" in _table(frame, "cycle_time")[0]
            page.screenshot(path=str(ARTIFACTS / "pr_analytics_in_airflow.png"))

            # A team: its PRs only, other numbers.
            everyone = _tile_numbers(frame)
            team = pipeline.query("select team from analytics.bridge_pull_request_teams "
                                  "group by 1 order by count(*) desc limit 1")[0][0]
            _apply(page, lambda: frame.locator("#filter-team").select_option(team))
            _wait_rendered(frame, len(SECTIONS))
            _check_tiles_equal_marts(frame, pipeline, team=team)
            assert _tile_numbers(frame) != everyone
            _apply(page, lambda: frame.locator("#filter-team").select_option(""))

            # By week: the same PRs, in weeks.
            _apply(page, lambda: frame.locator("#filter-grain").select_option("week"))
            _wait_rendered(frame, len(SECTIONS))
            assert "grain=week" in _inner(page).url
            assert "week_start" in _table(frame, "cycle_time")[0]

            expect(page.get_by_role("link", name=DOCS_VIEW_NAME).first).to_be_visible()

            # One repository, bots included: the marts' own numbers.
            _apply(page, lambda: frame.locator("#filter-repo").select_option(repo))
            _apply(page, lambda: frame.locator("#filter-bots").check())
            inner = _inner(page)
            assert f"repo={repo.replace('/', '%2F')}" in inner.url and "bots=on" in inner.url
            _wait_rendered(frame, len(SECTIONS))
            assert _milestones_on_page(frame) == _milestones_in_mart(pipeline, repo)
            assert _labels_on_page(frame) == _labels_in_mart(pipeline, repo)
            assert _merged_prs_on_page(frame) == _merged_prs_in_mart(pipeline, repo, True)
            _check_workload_is_the_marts(frame, pipeline, repo)
            _check_tiles_equal_marts(frame, pipeline, repo=repo, bots=True)
            page.screenshot(path=str(ARTIFACTS / "pr_analytics_one_repo.png"))

            # Bots excluded: fewer merged PRs (the demo org has bot authors).
            _apply(page, lambda: frame.locator("#filter-bots").uncheck())
            _wait_rendered(frame, len(SECTIONS))
            without_bots = _merged_prs_in_mart(pipeline, repo, False)
            assert without_bots < _merged_prs_in_mart(pipeline, repo, True)
            assert _merged_prs_on_page(frame) == without_bots
            _check_cycle_time_equals_mart(frame, pipeline, repo)

            # Another repository: other numbers, again the mart's.
            _apply(page, lambda: frame.locator("#filter-repo").select_option(other))
            _wait_rendered(frame, len(SECTIONS))
            assert _milestones_on_page(frame) == _milestones_in_mart(pipeline, other)
            assert _milestones_in_mart(pipeline, other) != _milestones_in_mart(pipeline, repo)
            assert _labels_on_page(frame) == _labels_in_mart(pipeline, other)
            _check_tiles_equal_marts(frame, pipeline, repo=other)
            assert _waiting_on_page(frame) == _waiting_in_marts(pipeline, other)

            # A tile's definition opens in the warehouse docs (in the same embedded view:
            # the UI's frame allows no pop-up).
            with page.expect_event("framenavigated",
                                   predicate=lambda f: DOCS_URL_PREFIX in f.url):
                frame.locator("[data-tile='median_response'] a[data-docs]").click()
            docs = next(f for f in page.frames if DOCS_URL_PREFIX in f.url)
            assert docs.url.endswith("#!/model/model.pr_warehouse.fct_review_requests")
            expect(docs.locator("h1").first).to_contain_text("fct_review_requests")
            expect(docs.locator("body")).to_contain_text("one row per review-request spell")
            page.screenshot(path=str(ARTIFACTS / "warehouse_docs.png"))
            print(f"page: rendered, checked and filtered in {time.monotonic() - started:.1f}s")

            # The whole page on its own, for the README.
            direct = context.new_page()
            direct.goto(f"{api_server}{ANALYTICS_URL_PREFIX}/", wait_until="domcontentloaded")
            _wait_rendered(direct, len(SECTIONS))
            direct.screenshot(path=str(ARTIFACTS / "pr_analytics_page.png"), full_page=True)

            # No snapshot (e.g. before the first run): a clear message, no stack trace.
            snapshot = pipeline.snapshot_path
            hidden = snapshot.with_name(snapshot.name + ".away")
            snapshot.rename(hidden)
            try:
                direct.reload(wait_until="domcontentloaded")
                expect(direct.locator("[data-empty]")).to_contain_text(
                    "No sync has finished yet")
                assert "Traceback" not in direct.content()
            finally:
                hidden.rename(snapshot)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "pr_analytics_failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert not errors, errors
    assert not blocked, f"the page asked for something off this machine: {blocked}"


def test_report_of_the_run_opens_offline(synced: Synced) -> None:
    from playwright.sync_api import sync_playwright

    from pr_warehouse.constants import REPORT_FILE_NAME
    from pr_warehouse.storage import run_key_for

    report = synced.pipeline.raw_dir / "runs" / run_key_for(synced.run.run_id) / REPORT_FILE_NAME
    assert report.is_file(), f"the report task wrote no {report}"
    html = report.read_text()
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?:", html), "external asset"
    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = _browser(pw)
        context = _offline_context(browser, blocked, viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            page.goto(report.as_uri(), wait_until="domcontentloaded")
            _wait_rendered(page, len(SECTIONS))
            # The demo world deploys and runs CI: every chart and tile has data, delivery too.
            assert page.locator("[data-missing]").count() == 0
            for key in [c.key for c in CHARTS if c.delivery]:
                assert page.locator(f"[data-chart='{key}'] svg [class*='mark-']").count() > 0, key
            assert page.locator("[data-tile] [data-value]").count() == 9
            assert page.locator("table[data-table='waiting_now'] tbody tr").count() > 0
            page.screenshot(path=str(ARTIFACTS / "pr_analytics_report.png"), full_page=True)
        finally:
            browser.close()
    assert not errors, errors
    assert not blocked, f"the report asked for something off this machine: {blocked}"
