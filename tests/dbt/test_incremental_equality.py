"""The incremental build equals a full rebuild, row for row, day after day.

Four simulated days of GitHub changes go through the product's own load
(``load_manifests`` of raw pages in GitHub's response shape, ``clear`` included); after
each, ``dbt build`` runs incrementally on the warehouse (as the transform task runs it;
its data tests on the last day), and from the second day on (the first
build finds no table, so it already runs the full-refresh SQL) a copy of the same file is
rebuilt with ``dbt run --full-refresh``. Every table dbt builds (marts and incremental
intermediates) must hold exactly the same rows (``EXCEPT ALL`` both ways) in the two.

The days cover what incremental models get wrong: new PRs, edits, merges, a label
removed, a PR's last label and last assignee removed (no new bridge row to replace the
old ones), a new review moving the first review, a milestone change, a ``clear``ed
repository reloaded without a PR deleted on GitHub, a day with no change at all, and
``as_of`` moving every day (open PRs age while their rows do not change). Timelines go in
too: a PR created as a draft and made ready, an open PR still in draft (its draft time
grows with ``as_of``), a ready PR sent back to draft, a merged PR whose events alone
are fetched again with a new comment (its node unchanged), and a force push and a commit
after review arriving on a later day; review-thread comments over two days, one of them
outliving a ``clear``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import ROOT
from pr_warehouse.contracts import Manifest
from pr_warehouse.load.duckdb_loader import load_manifests
from pr_warehouse.storage import PageKind, RawStore
from pr_warehouse.transform.dbt import AS_OF_ENV, EXCLUDE_ENV, MODELS_ONLY, build_args, log_dir
from test_dbt_project import actor, issue, label, milestone, pr_node, review, run_dbt, ts, user

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

A, B = "acme/api", "acme/web"
MS_A1 = milestone(A, 1, "v1", "OPEN", "2024-05-10T00:00:00Z")
MS_A2 = milestone(A, 2, "v2", "OPEN", "2024-06-10T00:00:00Z")
# Schemas dbt builds tables in: the marts and the incremental intermediates.
BUILT_SCHEMAS = ("analytics", "intermediate")


def edited(node: dict[str, Any], hours_later: float, **fields: Any) -> dict[str, Any]:
    """``node`` as GitHub returns it after an edit ``hours_later``: new fields, newer
    ``updatedAt`` (the load keeps the newest version).

    >>> n = {"id": "x", "updatedAt": "2024-05-01T00:00:00Z", "title": "a"}
    >>> edited(n, 2, title="b")
    {'id': 'x', 'updatedAt': '2024-05-01T02:00:00Z', 'title': 'b'}
    """
    return {**node, **fields, "updatedAt": ts(node["updatedAt"], hours_later)}


def connection(nodes: list[Any]) -> dict[str, Any]:
    return {"totalCount": len(nodes), "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": nodes}


def timeline(node: dict[str, Any], *items: tuple[Any, ...],
             first_commit_h: float | None = None, commits: int = 1) -> dict[str, Any]:
    """The events node (``PullRequestEventFields``) of ``node``: timeline ``items`` as
    (``__typename``, id, hours after opening, actor login[, what the event names, e.g.
    ``{"label": {"name": "bug"}}``]), in timeline order; its first commit.

    >>> e = timeline({"id": "P", "number": 1, "updatedAt": "2024-05-01T00:00:00Z",
    ...               "createdAt": "2024-05-01T00:00:00Z"}, ("IssueComment", "c", 1, "bob"))
    >>> e["timelineItems"]["nodes"][0]["author"], e["commits"]["totalCount"]
    ({'__typename': 'User', 'login': 'bob'}, 0)
    """
    opened = node["createdAt"]
    nodes = []
    for typename, item_id, hours, login, *named in items:
        if typename == "PullRequestCommit":  # no createdAt: the commit's committedDate
            nodes.append({"__typename": typename, "id": item_id, "commit": {
                "oid": f"{item_id}-oid", "committedDate": ts(opened, hours)}})
            continue
        item = {"__typename": typename, "id": item_id, "createdAt": ts(opened, hours)}
        item["author" if typename == "IssueComment" else "actor"] = actor(login)
        nodes.append({**item, **(named[0] if named else {})})
    commit_nodes = [] if first_commit_h is None else [{"commit": {
        "oid": f"{node['id']}-c1", "authoredDate": ts(opened, first_commit_h),
        "committedDate": ts(opened, first_commit_h), "author": {"user": actor("alice")}}}]
    return {"id": node["id"], "number": node["number"], "updatedAt": node["updatedAt"],
            "timelineItems": connection(nodes),
            "commits": {**connection(commit_nodes),
                        "totalCount": commits if commit_nodes else 0},
            "reviewThreads": {"totalCount": 1}}


# --- the days ----------------------------------------------------------------------------

A1 = pr_node(A, 1, title="Add API", created="2024-04-29T08:00:00Z", author=actor("alice"),
             milestone_=MS_A1, labels=[label("bug"), label("api"), label("docs")],
             assignees=[user("erin")], issues=[issue(10, "OPEN", A)],
             reviews=[review("A1R1", "COMMENTED", ts("2024-04-29T08:00:00Z", 5), actor("bob"))],
             review_requests=[])
A2 = pr_node(A, 2, title="Refactor", created="2024-04-20T00:00:00Z", author=actor("bob"),
             labels=[label("refactor")], assignees=[user("frank"), user("erin")], issues=[],
             reviews=[], review_requests=[])
A3 = pr_node(A, 3, title="Bump deps", created="2024-04-01T00:00:00Z", state="MERGED",
             author=actor("dependabot", "Bot"), merged_by=actor("carol"), merged_after_h=30,
             labels=[label("dependencies")], assignees=[], issues=[],
             reviews=[review("A3R1", "APPROVED", ts("2024-04-01T00:00:00Z", 2), actor("carol"))],
             review_requests=[])
B1 = pr_node(B, 1, title="Landing page", created="2024-04-25T00:00:00Z", author=actor("dave"),
             labels=[label("ui"), label("bug")], assignees=[user("dave")], issues=[],
             reviews=[], review_requests=[])
B2 = pr_node(B, 2, title="Old experiment", created="2024-03-01T00:00:00Z", state="CLOSED",
             author=None, closed_after_h=48, labels=[label("wontfix")], assignees=[user("erin")],
             issues=[], reviews=[], review_requests=[])
B3 = pr_node(B, 3, title="Typo", created="2024-04-30T00:00:00Z", author=actor("erin"),
             labels=[], assignees=[], issues=[], reviews=[], review_requests=[])

# Day 2: a new PR, a merge, a label removed, a PR losing its only label and every assignee,
# a new review moving the first review earlier, a milestone change.
A1_D2 = edited(A1, 30, labels=connection([label("api"), label("docs")]), milestone=MS_A2,
               reviews=connection([
                   review("A1R0", "APPROVED", ts("2024-04-29T08:00:00Z", 2), actor("carol")),
                   review("A1R1", "COMMENTED", ts("2024-04-29T08:00:00Z", 5), actor("bob")),
               ]))
A2_D2 = edited(A2, 24 * 11, labels=connection([]), assignees=connection([]))
B1_D2 = edited(B1, 24 * 6, state="MERGED", mergedAt=ts(B1["createdAt"], 24 * 5),
               closedAt=ts(B1["createdAt"], 24 * 5), mergedBy=actor("alice"))
A4 = pr_node(A, 4, title="New endpoint", created="2024-05-01T09:00:00Z", author=actor("carol"),
             milestone_=MS_A2, labels=[label("api")], assignees=[user("carol")], issues=[],
             reviews=[], review_requests=[])

# Day 3: `clear` on acme/web, reloaded without B2 (deleted on GitHub); B3 now has a label.
B3_D3 = edited(B3, 24 * 2, labels=connection([label("docs")]))

# Timelines. Day 1: A1 created as a draft with its labels, assigned and put in v1 in its
# first hour, ready at 3 h, a comment by bob; A2 labelled and given frank at the opening
# (erin with no event: assigned before events were recorded), sent back to draft on
# 2024-04-28 and still there (open: its draft time grows each day); A3 (merged) with a
# comment (its label has no event); B1 asked for a review. Day 2: A1's `bug` removed and
# A1 moved from v1 to v2 (a label removed on a later day: its span ends); A2 loses its
# label and both assignees (erin's span, never assigned by an event, ends too), then is
# ready again; A3's events alone fetched again (same updatedAt, one more comment).
A1_HISTORY = (
    ("LabeledEvent", "A1L1", 0, "alice", {"label": {"name": "bug"}}),
    ("LabeledEvent", "A1L2", 0, "alice", {"label": {"name": "api"}}),
    ("LabeledEvent", "A1L3", 0, "alice", {"label": {"name": "docs"}}),
    ("AssignedEvent", "A1S1", 0.5, "alice", {"assignee": actor("erin")}),
    ("MilestonedEvent", "A1M1", 1, "alice", {"milestoneTitle": "v1"}),
    ("PullRequestCommit", "A1K1", -2, "alice"),
    ("ReadyForReviewEvent", "A1E1", 3, "alice"), ("IssueComment", "A1C1", 4, "bob"),
)
A1_EVENTS = timeline(A1, *A1_HISTORY, first_commit_h=-2, commits=3)
A2_HISTORY = (
    ("LabeledEvent", "A2L1", 0, "bob", {"label": {"name": "refactor"}}),
    ("AssignedEvent", "A2S1", 0, "bob", {"assignee": actor("frank")}),
    ("ConvertToDraftEvent", "A2E1", 24 * 8, "bob"),
)
A2_EVENTS = timeline(A2, *A2_HISTORY, first_commit_h=-1)
A3_EVENTS = timeline(A3, ("IssueComment", "A3C1", 1, "carol"), first_commit_h=0)
B1_EVENTS = timeline(B1, ("ReviewRequestedEvent", "B1E1", 1, "dave"), first_commit_h=-5)
A1_D2_EVENTS = timeline(
    A1_D2, *A1_HISTORY,
    ("UnlabeledEvent", "A1L4", 29, "bob", {"label": {"name": "bug"}}),
    ("DemilestonedEvent", "A1M2", 29.5, "bob", {"milestoneTitle": "v1"}),
    ("MilestonedEvent", "A1M3", 29.5, "bob", {"milestoneTitle": "v2"}),
    ("HeadRefForcePushedEvent", "A1F1", 30, "alice"), ("PullRequestCommit", "A1K2", 30, "alice"),
    first_commit_h=-2, commits=3)
A2_D2_EVENTS = timeline(
    A2_D2, *A2_HISTORY,
    ("UnlabeledEvent", "A2L2", 24 * 11, "bob", {"label": {"name": "refactor"}}),
    ("UnassignedEvent", "A2S2", 24 * 11, "bob", {"assignee": actor("frank")}),
    ("UnassignedEvent", "A2S3", 24 * 11, "bob", {"assignee": actor("erin")}),
    ("ReadyForReviewEvent", "A2E2", 24 * 11.5, "bob"), first_commit_h=-1)
A3_D2_EVENTS = timeline(A3, ("IssueComment", "A3C1", 1, "carol"),
                        ("IssueComment", "A3C2", 1.5, "frank"), first_commit_h=0)



def review_comments(review_id: str, node: dict[str, Any],
                    *comments: tuple[str, float, str]) -> dict[str, Any]:
    """A review node of ``PullRequestReviewComments``: its thread ``comments`` as (id,
    hours after the PR's opening, author login)."""
    return {"id": review_id, "pullRequest": {"id": node["id"]}, "comments": connection([
        {"id": cid, "createdAt": ts(node["createdAt"], hours), "author": actor(login)}
        for cid, hours, login in comments])}


# Review-thread comments: bob's review of A1 (day 1) with two, carol's (day 2) with one;
# a review of B1 with one comment on day 1, whose row outlives day 3's `clear` of acme/web
# (B1 reloaded then without review pages: it keeps its comment, on B1's new loaded_at).
A1R1_COMMENTS = review_comments("A1R1", A1, ("A1RC1", 4.9, "bob"), ("A1RC2", 4.95, "bob"))
A1R0_COMMENTS = review_comments("A1R0", A1, ("A1RC3", 1.9, "carol"))
B1R1_COMMENTS = review_comments("B1R1", B1, ("B1RC1", 2, "erin"))

DAYS: list[dict[str, Any]] = [
    {"as_of": "2024-05-01T00:00:00+00:00", "pages": {A: [A1, A2, A3], B: [B1, B2, B3]},
     "events": {A: [A1_EVENTS, A2_EVENTS, A3_EVENTS], B: [B1_EVENTS]},
     "reviews": {A: [A1R1_COMMENTS], B: [B1R1_COMMENTS]}},
    {"as_of": "2024-05-02T00:00:00+00:00", "pages": {A: [A1_D2, A2_D2, A4], B: [B1_D2]},
     "events": {A: [A1_D2_EVENTS, A2_D2_EVENTS, A3_D2_EVENTS]},
     "reviews": {A: [A1R0_COMMENTS]}},
    {"as_of": "2024-05-03T00:00:00+00:00", "pages": {B: [B1_D2, B3_D3]}, "clear": [B]},
    {"as_of": "2024-05-04T00:00:00+00:00", "pages": {}},  # nothing changed; PRs age
]


def page_body(repo: str, nodes: list[dict[str, Any]]) -> bytes:
    """A ``RepositoryPullRequests`` response page holding ``nodes``."""
    return json.dumps({"data": {"repository": {
        "nameWithOwner": repo,
        "pullRequests": {"totalCount": len(nodes),
                         "pageInfo": {"hasNextPage": False, "endCursor": None},
                         "nodes": nodes},
    }}}).encode()


def events_body(nodes: list[dict[str, Any]]) -> bytes:
    """A ``PullRequestEvents`` response page holding ``nodes``."""
    return json.dumps({"data": {"nodes": nodes}}).encode()


def load_day(db: Path, store: RawStore, number: int, day: dict[str, Any]) -> None:
    """Store the day's pages and load them as the DAG's load task does."""
    run_key = f"day{number}"
    manifests = []
    events = day.get("events", {})
    for repo in {**day["pages"], **events}:
        nodes = day["pages"].get(repo, [])
        pages = [store.write_page(run_key, repo, 1, page_body(repo, nodes), {"repo": repo})
                 ] if nodes else []
        event_pages = [store.write_page(run_key, repo, 1, events_body(events[repo]),
                                        {"repo": repo}, kind=PageKind.EVENTS)
                       ] if repo in events else []
        reviews = day.get("reviews", {}).get(repo)
        review_pages = [store.write_page(run_key, repo, 1, events_body(reviews),
                                         {"repo": repo, "ids": [r["id"] for r in reviews]},
                                         kind=PageKind.REVIEW_COMMENTS)] if reviews else []
        manifests.append(Manifest(repo=repo, run_key=run_key, pages=pages,
                                  event_pages=event_pages, review_comment_pages=review_pages,
                                  pull_requests=len(nodes)))
    loaded_at = datetime.fromisoformat(day["as_of"]).replace(hour=1).astimezone(timezone.utc)
    result = load_manifests(db, store, manifests, run_id=run_key, loaded_at=loaded_at,
                            clear_repos=day.get("clear"))
    assert not result.corrupt_pages and not result.failed_repos


# --- comparing two warehouses ------------------------------------------------------------


def built_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_catalog = ? and table_type = 'BASE TABLE' and table_schema in "
        "(select unnest(?)) order by 1", [catalog, list(BUILT_SCHEMAS)]).fetchall()
    return [r[0] for r in rows]


def built_tables_of(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return built_tables(con, con.execute("select current_database()").fetchall()[0][0])
    finally:
        con.close()


def differences(incremental: Path, full: Path) -> dict[str, Any]:
    """Tables whose rows differ between the two files (``EXCEPT ALL`` both ways)."""
    con = duckdb.connect(str(incremental), read_only=True)
    try:
        ours = built_tables(con, con.execute("select current_database()").fetchall()[0][0])
        con.execute(f"attach '{full}' as full_build (read_only)")
        theirs = built_tables(con, "full_build")
        assert ours == theirs
        diff: dict[str, Any] = {}
        for table in ours:
            columns = [r[0] for r in con.execute(f"describe {table}").fetchall()]
            other = [r[0] for r in con.execute(f"describe full_build.{table}").fetchall()]
            if columns != other:
                diff[table] = {"columns": (columns, other)}
                continue
            only_incremental = con.execute(
                f"select * from {table} except all "
                f"select * from full_build.{table}").fetchall()
            only_full = con.execute(
                f"select * from full_build.{table} except all "
                f"select * from {table}").fetchall()
            if only_incremental or only_full:
                diff[table] = {"only_incremental": only_incremental[:5],
                               "only_full_refresh": only_full[:5]}
        return {"tables": ours, "diff": diff}
    finally:
        con.close()


def build(db: Path, tmp: Path, as_of: str, args: list[str], data_tests: bool = True) -> None:
    # as_of as the pipeline passes it (AS_OF_ENV): each day's build re-parses only what
    # reads it, as the daily runs do.
    result = run_dbt(args, db, tmp, {AS_OF_ENV: as_of,
                                     **({} if data_tests else {EXCLUDE_ENV: MODELS_ONLY})})
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def copy_warehouse(db: Path, to: Path) -> Path:
    shutil.copy(db, to)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copy(wal, to.with_name(to.name + ".wal"))
    return to


# --- the test ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory, dbt_parse: Path) -> Iterator[dict[str, Any]]:
    """Load and build each day incrementally; after each, compare with a full refresh."""
    tmp = tmp_path_factory.mktemp("incremental")
    db, store = tmp / "warehouse.duckdb", RawStore((tmp / "raw").as_uri())
    results = []
    for number, day in enumerate(DAYS, start=1):
        load_day(db, store, number, day)
        # The transform task's own arguments: models and data tests (the unit tests run
        # once, in test_dbt_project.py; they check the SQL, not the day's data). The data
        # tests check the last day's warehouse, which holds every PR of the first day but
        # the one deleted on GitHub; the days before are compared row for row with a full
        # refresh, models only.
        data_tests = number == len(DAYS)
        build(db, tmp / "incremental", day["as_of"], build_args(), data_tests=data_tests)
        run_sql = next((tmp / "incremental" / "target" / "run").rglob(
            "bridge_pull_request_labels.sql")).read_text()
        staging_test = next((tmp / "incremental" / "target" / "run").rglob(
            "stg_github__pull_request_labels.yml/unique_combination*.sql")
                            ).read_text() if data_tests else None
        if number == 1:
            # The first build finds no table: every model runs its full-refresh SQL
            # (is_incremental() is false), so a rebuild would compare that SQL with itself.
            results.append({"day": number, "run_sql": run_sql, "staging_test": staging_test,
                            "tables": built_tables_of(db), "diff": {}})
            continue
        # The copy keeps the file's name (in its own folder): dbt names the file relative to
        # its folder, so the session's parse holds for it too.
        (tmp / "full-refresh").mkdir(exist_ok=True)
        full = copy_warehouse(db, tmp / "full-refresh" / db.name)
        # The reference: every model from scratch. Its data tests would test the same
        # rows the incremental build's tests just passed, so `run`, not `build`.
        build(full, tmp / "full", day["as_of"], ["run", "--full-refresh"])
        results.append({"day": number, "run_sql": run_sql, "staging_test": staging_test,
                        **differences(db, full)})
        full.unlink()
    yield {"db": db, "days": results}


def test_every_day_incremental_equals_full_refresh(days: dict[str, Any]) -> None:
    for day in days["days"]:
        assert day["diff"] == {}, f"day {day['day']}: {day['diff']}"
    tables = set(days["days"][0]["tables"])
    assert {"analytics.fct_pull_requests", "analytics.bridge_pull_request_labels",
            "analytics.bridge_pull_request_assignees", "analytics.mart_open_pull_requests",
            "analytics.dim_github_users", "intermediate.int_pull_request_actors",
            "analytics.fct_pull_request_label_spans", "analytics.fct_pull_request_assignee_spans",
            "analytics.fct_pull_request_milestone_spans"} <= tables


def test_later_days_ran_the_incremental_strategy(days: dict[str, Any]) -> None:
    """Day 1 creates the tables; later days delete and insert only what changed, and the
    last day (the later one whose data tests run) tests the staging views on the newest
    load only."""
    first, *later = days["days"]
    assert "delete from" not in first["run_sql"]
    for day in later:
        assert "delete from" in day["run_sql"] and "not exists" in day["run_sql"], day["day"]
    assert "loaded_at >= (select max(loaded_at)" in later[-1]["staging_test"]


def test_each_incremental_model_records_the_load_it_reached(days: dict[str, Any]) -> None:
    """After a build, every incremental model's watermark is the newest raw load, also
    for a model none of whose rows belong to the newest PRs (no linked issue, no draft)."""
    con = duckdb.connect(str(days["db"]), read_only=True)
    try:
        newest = con.execute("select max(loaded_at) from raw.pull_requests").fetchall()[0][0]
        marks = dict(con.execute(
            "select model, loaded_through from main.incremental_watermarks").fetchall())
    finally:
        con.close()
    # The per-PR models are exactly those of the two folders that inherit the config.
    models = ROOT / "dbt" / "models"
    assert set(marks) == (
        # (the deployment intermediates are tables rebuilt each run: a deploy changes no PR)
        {f"intermediate.{p.stem}" for p in (models / "intermediate").glob("*.sql")
         if "materialized='table'" not in p.read_text()}
        | {f"analytics.{p.stem}" for p in (models / "marts" / "per_pull_request").glob("*.sql")})
    assert {"analytics.fct_pull_requests", "intermediate.int_pull_request_responses"} <= set(marks)
    assert set(marks.values()) == {newest}


def test_the_tricky_cases_are_in_the_data(days: dict[str, Any]) -> None:
    """The changes the days make did reach the marts (the equality is not vacuous)."""
    con = duckdb.connect(str(days["db"]), read_only=True)
    try:
        def q(sql: str) -> list[tuple]:
            return con.execute(sql).fetchall()

        labels = q("select pr_number, label_name from analytics.bridge_pull_request_labels "
                   "where repo = 'acme/api' order by 1, 2")
        assert labels == [(1, "api"), (1, "docs"), (3, "dependencies"), (4, "api")]
        assert q("select count(*) from analytics.bridge_pull_request_assignees "
                 "where repo = 'acme/api' and pr_number = 2") == [(0,)]
        assert q("select repo, pr_number from analytics.fct_pull_requests "
                 "where repo = 'acme/web' order by 2") == [(B, 1), (B, 3)]
        assert q("select hours_to_first_review, milestone_number from analytics.fct_pull_requests "
                 "where repo = 'acme/api' and pr_number = 1") == [(2.0, 2)]
        assert q("select pr_number, hours_open from analytics.mart_open_pull_requests "
                 "where repo = 'acme/web'") == [(3, 96.0)]
        assert q("select state from analytics.fct_pull_requests "
                 "where repo = 'acme/web' and pr_number = 1") == [("MERGED",)]
        # A1 a draft for 3 h; A2 back in draft 04-28 until ready again 05-01 12:00 (84 h;
        # 72 h on day 1, against as_of); A3's second comment came in an events-only load.
        assert q("select pr_number, draft_hours, comment_count "
                 "from analytics.fct_pull_request_cycle_time "
                 "where repo = 'acme/api' order by 1") == [
            (1, 3.0, 1), (2, 84.0, 0), (3, 0.0, 2), (4, 0.0, None)]
        # A1 rebased (a force push and a re-dated commit) on day 2, after bob's comment at
        # 4 h (its first response); its commit before opening does not count.
        assert q("select review_count, review_rounds, commits_after_first_response, "
                 "force_pushes_after_first_response from analytics.fct_pull_request_cycle_time "
                 "where repo = 'acme/api' and pr_number = 1") == [(2, 1, 1, 1)]
        # Review-thread comments: A1's from two days; B1's survived the `clear`.
        assert q("select repo, pr_number, review_comment_count "
                 "from analytics.fct_pull_request_cycle_time "
                 "where review_comment_count > 0 order by 1, 2") == [(A, 1, 3), (B, 1, 1)]
        # Spans: A1's `bug`, removed on day 2, ends then; A2's label and assignees all end
        # on day 2 (erin's from the opening: no AssignedEvent); labels and assignees with
        # no event (A3, A4, B3's label given on day 3) start at the opening; A1 moved
        # from v1 to v2 on day 2.
        def spans(fact: str, item: str, start: str, end: str) -> list[tuple]:
            return q(f"select s.repo, s.pr_number, s.{item}, "
                     f"datediff('minute', p.created_at, s.{start}) / 60, "
                     f"datediff('minute', p.created_at, s.{end}) / 60, s.span_id "
                     f"from analytics.{fact} s join analytics.fct_pull_requests p "
                     "using (pull_request_id) order by 1, 2, 4, 3")
        assert spans("fct_pull_request_label_spans", "label_name", "added_at", "removed_at") == [
            (A, 1, "api", 0, None, "A1L2"), (A, 1, "bug", 0, 29, "A1L1"),
            (A, 1, "docs", 0, None, "A1L3"), (A, 2, "refactor", 0, 264, "A2L1"),
            (A, 3, "dependencies", 0, None, "PR_acme/api_3/dependencies"),
            (A, 4, "api", 0, None, "PR_acme/api_4/api"),
            (B, 1, "bug", 0, None, "PR_acme/web_1/bug"), (B, 1, "ui", 0, None, "PR_acme/web_1/ui"),
            (B, 3, "docs", 0, None, "PR_acme/web_3/docs")]
        assert spans("fct_pull_request_assignee_spans", "assignee_login", "assigned_at",
                     "unassigned_at") == [
            (A, 1, "erin", 0.5, None, "A1S1"), (A, 2, "erin", 0, 264, "A2S3"),
            (A, 2, "frank", 0, 264, "A2S1"), (A, 4, "carol", 0, None, "PR_acme/api_4/carol"),
            (B, 1, "dave", 0, None, "PR_acme/web_1/dave")]
        assert spans("fct_pull_request_milestone_spans", "milestone_title", "added_at",
                     "removed_at") == [
            (A, 1, "v1", 1, 29.5, "A1M1"), (A, 1, "v2", 29.5, None, "A1M3"),
            (A, 4, "v2", 0, None, "PR_acme/api_4/v2")]
    finally:
        con.close()


def test_a_changed_model_is_rebuilt_in_full_by_the_transform(
        days: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warehouse built by the project before its models were incremental (the fact still
    has `hours_open`, the label bridge no `loaded_at`) makes dbt's incremental build fail
    (on_schema_change='fail'; no watermark); the transform then rebuilds with
    --full-refresh."""
    from pr_warehouse.config import Settings
    from pr_warehouse.pipeline import transform

    # The models alone: the subject is the rebuild, and the days above ran the data tests.
    monkeypatch.setenv(EXCLUDE_ENV, MODELS_ONLY)
    db = copy_warehouse(days["db"], tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(db))
    con.execute("alter table analytics.fct_pull_requests add column hours_open double")
    con.execute("alter table analytics.bridge_pull_request_labels drop column loaded_at")
    con.close()
    settings = Settings.from_env({"PR_WAREHOUSE_DUCKDB": str(db)})
    transform(datetime(2024, 5, 5, tzinfo=timezone.utc), settings=settings)
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = {r[0] for r in con.execute("describe analytics.fct_pull_requests").fetchall()}
        assert "hours_open" not in columns and "milestone_due_on" in columns
        assert con.execute("select count(*) from analytics.fct_pull_requests").fetchall() == [(6,)]
        bridge = {r[0] for r in con.execute(
            "describe analytics.bridge_pull_request_labels").fetchall()}
        assert "loaded_at" in bridge
    finally:
        con.close()
    log = (log_dir(settings) / "dbt.log").read_text()
    assert "has no loaded_at column" in log and "--full-refresh" in log
