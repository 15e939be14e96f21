"""What each chart shows, read from the read-only snapshot: one query per chart.

Every chart's numbers are a :class:`Table` (its columns and rows, the same rows the chart,
the table beside it and its CSV carry). A chart whose mart is not in the snapshot gets no
table but a message saying which mart it needs, so one missing mart never breaks the page.
A missing or empty snapshot gives a :class:`Report` with no sections and a message instead.

The snapshot is opened read-only for the length of one report: the DAG replaces it by an
atomic rename, so a reader never blocks the pipeline and never sees half a run.

Hours are rounded to one decimal in SQL, so the chart, the table and the CSV agree.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

NO_SYNC_YET = "No sync has finished yet"
# Marts and their sources, by the name the queries use.
PULL_REQUESTS = "analytics.fct_pull_requests"
CYCLE_TIME_FACT = "analytics.fct_pull_request_cycle_time"
REVIEWS = "staging.stg_github__pull_request_reviews"
USERS = "analytics.dim_github_users"
ASSIGNEES = "analytics.bridge_pull_request_assignees"
WORKLOAD = "analytics.mart_assignee_workload"
MILESTONES = "analytics.mart_milestone_progress"
OPEN_PULL_REQUESTS = "analytics.mart_open_pull_requests"
LABEL_ACTIVITY = "analytics.mart_label_activity"
SYNCS = "analytics.fct_syncs"
# The cycle-time fact's columns the phase chart reads; without any of them it falls back.
CYCLE_TIME_COLUMNS = ("merged_at", "repo", "is_bot_author", "coding_hours", "pickup_hours",
                      "review_hours", "cycle_hours")
# Bars beyond this many reviewers or assignees are unreadable; the table has them all.
TOP_PEOPLE = 25


@dataclass(frozen=True)
class Filters:
    """What the reader narrowed the page to; the report uses the defaults.

    >>> Filters.from_query(repo="acme/api", since="2025-01-06", until="", bots="on")
    Filters(repo='acme/api', since=datetime.date(2025, 1, 6), until=None, include_bots=True)
    >>> Filters.from_query(repo="", since="not a date", until=None, bots=None).describe()
    'all repositories, all dates, bots excluded'
    """

    repo: str | None = None
    since: date | None = None
    until: date | None = None
    include_bots: bool = False

    @classmethod
    def from_query(cls, repo: str | None, since: str | None, until: str | None,
                   bots: str | None) -> Filters:
        """From a query string's values; blanks and malformed dates mean "no filter"."""
        return cls(repo=(repo or "").strip() or None, since=_parse_date(since),
                   until=_parse_date(until), include_bots=(bots or "").lower() in
                   ("on", "true", "1", "yes"))

    def describe(self) -> str:
        """The filters in words, for the page's header and the report."""
        dates = (f"{self.since or '…'} to {self.until or '…'}" if self.since or self.until
                 else "all dates")
        bots = "bots included" if self.include_bots else "bots excluded"
        return f"{self.repo or 'all repositories'}, {dates}, {bots}"


def _parse_date(text: str | None) -> date | None:
    """``YYYY-MM-DD`` or nothing.

    >>> _parse_date("2025-02-03"), _parse_date("03/02/2025"), _parse_date(None)
    (datetime.date(2025, 2, 3), None, None)
    """
    try:
        return date.fromisoformat((text or "").strip()) if text and text.strip() else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Table:
    """A chart's numbers: column names and rows of plain values (str, int, float, None).

    >>> t = Table(("week", "prs"), (("2025-W01", 3), ("2025-W02", None)))
    >>> t.records()
    [{'week': '2025-W01', 'prs': 3}, {'week': '2025-W02', 'prs': None}]
    >>> t.to_csv().splitlines()
    ['week,prs', '2025-W01,3', '2025-W02,']
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts (what a Vega-Lite spec inlines)."""
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()


@dataclass(frozen=True)
class Section:
    """One chart of the page: what it answers, its numbers, or why it has none."""

    key: str
    title: str
    question: str
    table: Table | None = None
    missing: str | None = None
    source: str = ""
    notes: tuple[str, ...] = ()
    variant: str = ""  # which chart builder (e.g. phases stacked or not)


@dataclass(frozen=True)
class Freshness:
    """How current the snapshot is and what the last run cost."""

    as_of: str | None = None
    published_at: str | None = None
    last_run_id: str | None = None
    last_run_points: int | None = None
    last_run_loaded_at: str | None = None


@dataclass(frozen=True)
class Report:
    """Everything the page and the report show; ``empty`` explains a missing snapshot."""

    filters: Filters
    snapshot: str
    repos: tuple[str, ...] = ()
    freshness: Freshness = field(default_factory=Freshness)
    sections: tuple[Section, ...] = ()
    empty: str | None = None


# --- values -------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A DuckDB value as something JSON and CSV print faithfully.

    >>> from decimal import Decimal
    >>> plain(date(2025, 1, 6)), plain(Decimal("12")), plain(Decimal("1.5")), plain(True)
    ('2025-01-06', 12, 1.5, True)
    >>> plain(datetime(2025, 1, 6, 12, 30, tzinfo=timezone.utc))
    '2025-01-06 12:30 UTC'
    """
    from decimal import Decimal

    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _table(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> Table:
    cursor = con.execute(sql, list(params))
    columns = tuple(d[0] for d in cursor.description)
    return Table(columns, tuple(tuple(plain(v) for v in row) for row in cursor.fetchall()))


@dataclass(frozen=True)
class Where:
    """SQL conditions and their parameters, built from the filters per query.

    >>> w = Where().add("p.repo = ?", "acme/api").add("p.author_kind <> 'Bot'")
    >>> print(w.sql(), w.params)
    where p.repo = ? and p.author_kind <> 'Bot' ('acme/api',)
    """

    conditions: tuple[str, ...] = ()
    params: tuple[Any, ...] = ()

    def add(self, condition: str, *params: Any) -> Where:
        return replace(self, conditions=(*self.conditions, condition),
                       params=(*self.params, *params))

    def sql(self) -> str:
        return ("where " + " and ".join(self.conditions)) if self.conditions else ""


def _where(filters: Filters, *, repo: str | None, day: str | None,
           bot: str | None = None) -> Where:
    """The filters as SQL on the given columns (None: the filter does not apply)."""
    where = Where()
    if repo and filters.repo:
        where = where.add(f"{repo} = ?", filters.repo)
    if day and filters.since:
        where = where.add(f"cast(timezone('UTC', {day}) as date) >= ?", filters.since)
    if day and filters.until:
        where = where.add(f"cast(timezone('UTC', {day}) as date) <= ?", filters.until)
    if bot and not filters.include_bots:
        where = where.add(f"not ({bot})")
    return where


def week_start(ts: str) -> str:
    """The Monday of ``ts``'s ISO week in UTC: the expression dbt's ``week_start`` macro uses,
    so the page's weeks are the marts' weeks.

    >>> week_start("merged_at")
    "cast(date_trunc('week', timezone('UTC', merged_at)) as date)"
    """
    return f"cast(date_trunc('week', timezone('UTC', {ts})) as date)"


def missing_message(relation: str, instead: str = "") -> str:
    """What a chart says when the mart it reads is not in the snapshot.

    >>> missing_message("analytics.mart_x")
    'No data: analytics.mart_x is not in this snapshot (its dbt model has not been built yet).'
    """
    tail = f" {instead}" if instead else ""
    return (f"No data: {relation} is not in this snapshot "
            f"(its dbt model has not been built yet).{tail}")


# --- the charts' queries ----------------------------------------------------------------


class Snapshot:
    """A read-only view of the snapshot: which relations and columns exist, and queries."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        rows = con.execute(
            "select table_schema || '.' || table_name, column_name "
            "from information_schema.columns").fetchall()
        self.columns: dict[str, set[str]] = {}
        for relation, column in rows:
            self.columns.setdefault(relation, set()).add(column)

    def has(self, relation: str, *columns: str) -> bool:
        return relation in self.columns and set(columns) <= self.columns[relation]

    def table(self, sql: str, params: Sequence[Any] = ()) -> Table:
        return _table(self.con, sql, params)


def cycle_time(snap: Snapshot, filters: Filters) -> Section:
    """Median and p90 cycle time per ISO week of merge; phases when the fact has them."""
    section = Section(
        "cycle_time", "Cycle time by week of merge",
        "Is getting a pull request merged getting slower? Median and p90 hours, by the "
        "ISO week the PRs were merged in.")
    if snap.has(CYCLE_TIME_FACT, *CYCLE_TIME_COLUMNS):
        where = _where(filters, repo="repo", day="merged_at", bot="is_bot_author")
        where = where.add("merged_at is not null")
        table = snap.table(f"""
            select {week_start('merged_at')} as week_start,
                   strftime({week_start('merged_at')}, '%G-W%V') as iso_week,
                   count(*) as prs_merged,
                   round(quantile_cont(coding_hours, 0.5), 1) as median_coding_hours,
                   round(quantile_cont(pickup_hours, 0.5), 1) as median_pickup_hours,
                   round(quantile_cont(review_hours, 0.5), 1) as median_review_hours,
                   round(quantile_cont(cycle_hours, 0.5), 1) as median_cycle_hours,
                   round(quantile_cont(cycle_hours, 0.9), 1) as p90_cycle_hours
            from {CYCLE_TIME_FACT} {where.sql()}
            group by 1, 2 order by 1""", where.params)
        return replace(section, table=table, source=CYCLE_TIME_FACT, variant="phases",
                       notes=("Bars: median hours of each phase (coding: first commit → "
                              "ready for review; pickup: → first response; review: → merge), "
                              "stacked. Lines: median and p90 of the whole cycle.",))
    if not snap.has(PULL_REQUESTS, "hours_to_merge", "merged_at", "author_kind"):
        return replace(section, missing=missing_message(PULL_REQUESTS))
    where = _where(filters, repo="repo", day="merged_at", bot="author_kind = 'Bot'")
    where = where.add("merged_at is not null")
    table = snap.table(f"""
        select {week_start('merged_at')} as week_start,
               strftime({week_start('merged_at')}, '%G-W%V') as iso_week,
               count(*) as prs_merged,
               round(quantile_cont(hours_to_merge, 0.5), 1) as median_hours_to_merge,
               round(quantile_cont(hours_to_merge, 0.9), 1) as p90_hours_to_merge
        from {PULL_REQUESTS} {where.sql()}
        group by 1, 2 order by 1""", where.params)
    return replace(section, table=table, source=PULL_REQUESTS, variant="total",
                   notes=("Cycle time = opened → merged. Phases (coding, pickup, review) "
                          f"appear stacked once {CYCLE_TIME_FACT} is in the snapshot.",))


def first_review(snap: Snapshot, filters: Filters) -> Section:
    """Hours to the first review (and to the first response, from the cycle-time fact)."""
    section = Section(
        "first_review", "Time to first review by week of merge",
        "Is review pickup getting slower? Median and p90 hours from opening a PR to its "
        "first review by someone else, by ISO week of merge.")
    if not snap.has(PULL_REQUESTS, "hours_to_first_review", "merged_at", "author_kind"):
        return replace(section, missing=missing_message(PULL_REQUESTS))
    where = _where(filters, repo="repo", day="merged_at", bot="author_kind = 'Bot'")
    where = where.add("merged_at is not null")
    reviews = f"""
        select {week_start('merged_at')} as week_start,
               count(*) as prs_merged,
               count(hours_to_first_review) as prs_reviewed,
               round(quantile_cont(hours_to_first_review, 0.5), 1) as median_hours_to_first_review,
               round(quantile_cont(hours_to_first_review, 0.9), 1) as p90_hours_to_first_review
        from {PULL_REQUESTS} {where.sql()} group by 1"""
    if not snap.has(CYCLE_TIME_FACT, "merged_at", "repo", "is_bot_author", "pickup_hours"):
        table = snap.table(f"""
            select week_start, strftime(week_start, '%G-W%V') as iso_week, * exclude (week_start)
            from ({reviews}) order by week_start""", where.params)
        return replace(section, table=table, source=PULL_REQUESTS, variant="review",
                       notes=("First review = the earliest submitted review by someone other "
                              "than the author. Time to first response appears once "
                              f"{CYCLE_TIME_FACT} is in the snapshot.",))
    fact_where = _where(filters, repo="repo", day="merged_at", bot="is_bot_author")
    fact_where = fact_where.add("merged_at is not null")
    table = snap.table(f"""
        with reviews as ({reviews}),
        responses as (
            select {week_start('merged_at')} as week_start,
                   round(quantile_cont(pickup_hours, 0.5), 1) as median_hours_to_first_response,
                   round(quantile_cont(pickup_hours, 0.9), 1) as p90_hours_to_first_response
            from {CYCLE_TIME_FACT} {fact_where.sql()} group by 1)
        select week_start, strftime(week_start, '%G-W%V') as iso_week,
               reviews.* exclude (week_start), responses.* exclude (week_start)
        from reviews full outer join responses using (week_start)
        order by week_start""", [*where.params, *fact_where.params])
    return replace(section, table=table, source=f"{PULL_REQUESTS}, {CYCLE_TIME_FACT}",
                   variant="review_and_response",
                   notes=("First review = the earliest submitted review by someone other than "
                          "the author, from opening. First response = pickup: ready for "
                          "review → first comment or review by someone else.",))


def reviews_given(snap: Snapshot, filters: Filters) -> Section:
    """Submitted reviews per reviewer on other people's PRs, by outcome."""
    section = Section(
        "reviews_given", "Review load: reviews given per reviewer",
        f"Who carries the review load? Reviews submitted on someone else's PR (top "
        f"{TOP_PEOPLE} reviewers), by outcome.")
    if not snap.has(REVIEWS, "reviewer_login", "review_state", "submitted_at"):
        return replace(section, missing=missing_message(REVIEWS))
    kind = "coalesce(u.kind, r.reviewer_kind, 'User')"
    where = _where(filters, repo="p.repo", day="r.submitted_at", bot=f"{kind} = 'Bot'")
    where = where.add("r.review_state <> 'PENDING'").add(
        "coalesce(r.reviewer_login, 'ghost') <> p.author_login")
    table = snap.table(f"""
        select coalesce(r.reviewer_login, 'ghost') as reviewer,
               count(*) as reviews,
               count(*) filter (where r.review_state = 'APPROVED') as approved,
               count(*) filter (where r.review_state = 'CHANGES_REQUESTED') as changes_requested,
               count(*) filter (where r.review_state not in ('APPROVED', 'CHANGES_REQUESTED'))
                   as commented,
               count(distinct r.pull_request_id) as prs_reviewed
        from {REVIEWS} r
        join {PULL_REQUESTS} p using (pull_request_id)
        left join {USERS} u on u.login = coalesce(r.reviewer_login, 'ghost')
        {where.sql()}
        group by 1 order by reviews desc, reviewer limit {TOP_PEOPLE}""", where.params)
    return replace(section, table=table, source=f"{REVIEWS}, {PULL_REQUESTS}",
                   notes=("Dates filter on when the review was submitted. Self-reviews "
                          "(replies on one's own PR) are not counted.",))


def assignee_workload(snap: Snapshot, filters: Filters) -> Section:
    """Open PRs per assignee, drafts apart: the workload mart, or one repository's share."""
    section = Section(
        "assignee_workload", "Review load: open PRs per assignee",
        f"Who has the most open pull requests assigned right now (top {TOP_PEOPLE})? Ready "
        "for review and drafts.")
    notes = ("Current state as of the snapshot: the date range and the bots filter do not "
             "apply (assignees are people).",)
    if not snap.has(WORKLOAD, "assignee_login", "open_prs"):
        return replace(section, missing=missing_message(WORKLOAD))
    columns = """open_prs, open_ready_prs, open_draft_prs,
                 round(oldest_open_pr_hours / 24, 1) as oldest_open_days, merged_last_30_days"""
    if not filters.repo:
        table = snap.table(f"""
            select assignee_login as assignee, {columns} from {WORKLOAD}
            where open_prs > 0 order by open_prs desc, assignee limit {TOP_PEOPLE}""")
        return replace(section, table=table, source=WORKLOAD, notes=notes)
    if not snap.has(ASSIGNEES, "assignee_login", "pull_request_id"):
        return replace(section, missing=missing_message(ASSIGNEES))
    if not snap.has(OPEN_PULL_REQUESTS, "pull_request_id", "hours_open"):
        return replace(section, missing=missing_message(OPEN_PULL_REQUESTS))
    # The mart sums every repository; one repository's share is the same definition
    # computed from its PRs (open, drafts, oldest open, merged within 30 days of as_of).
    # Ages live in the open-PR mart (the fact is incremental: it holds no ages), and
    # as_of is the workload mart's own.
    table = snap.table(f"""
        with as_of as (select max(as_of) as as_of from {WORKLOAD}),
        per_assignee as (
            select a.assignee_login,
                   count(*) filter (where p.state = 'OPEN') as open_prs,
                   count(*) filter (where p.state = 'OPEN' and not p.is_draft) as open_ready_prs,
                   count(*) filter (where p.state = 'OPEN' and p.is_draft) as open_draft_prs,
                   max(o.hours_open) as oldest_open_pr_hours,
                   count(*) filter (where p.merged_at > as_of.as_of - interval 30 day
                                      and p.merged_at <= as_of.as_of) as merged_last_30_days
            from {ASSIGNEES} a join {PULL_REQUESTS} p using (pull_request_id)
            left join {OPEN_PULL_REQUESTS} o using (pull_request_id)
            cross join as_of
            where p.repo = ? group by 1)
        select assignee_login as assignee, {columns} from per_assignee
        where open_prs > 0 order by open_prs desc, assignee limit {TOP_PEOPLE}""",
                       [filters.repo])
    return replace(section, table=table,
                   source=f"{ASSIGNEES}, {PULL_REQUESTS}, {OPEN_PULL_REQUESTS}", notes=notes)


def milestone_progress(snap: Snapshot, filters: Filters) -> Section:
    """Open, merged and closed PRs per milestone; overdue milestones marked."""
    section = Section(
        "milestone_progress", "Milestone progress",
        "Which milestone is slipping? Pull requests per milestone by state; overdue "
        "milestones (due date passed, PRs still open) are marked ⚠.")
    if not snap.has(MILESTONES, "milestone_title", "prs_open", "is_overdue"):
        return replace(section, missing=missing_message(MILESTONES))
    where = _where(filters, repo="repo", day=None)
    table = snap.table(f"""
        select repo, milestone_number, milestone_title,
               cast(timezone('UTC', milestone_due_on) as date) as due_on,
               is_overdue, prs_open, prs_merged, prs_closed_unmerged, prs_total
        from {MILESTONES} {where.sql()}
        order by is_overdue desc, due_on nulls last, repo, milestone_number""", where.params)
    return replace(section, table=table, source=MILESTONES,
                   notes=("Every PR of the milestone counts, whoever wrote it: the date range "
                          "and the bots filter do not apply.",))


def label_activity(snap: Snapshot, filters: Filters) -> Section:
    """PRs opened and merged per label per ISO week."""
    section = Section(
        "label_activity", "Label activity by week",
        "Where does the work go? Pull requests opened and merged per label, by ISO week.")
    if not snap.has(LABEL_ACTIVITY, "label_name", "week_start", "prs_opened", "prs_merged"):
        return replace(section, missing=missing_message(LABEL_ACTIVITY))
    where = _where(filters, repo="repo", day=None)
    if filters.since:
        where = where.add("week_start >= ?", filters.since)
    if filters.until:
        where = where.add("week_start <= ?", filters.until)
    table = snap.table(f"""
        select label_name as label, week_start, strftime(week_start, '%G-W%V') as iso_week,
               sum(prs_opened)::bigint as prs_opened, sum(prs_merged)::bigint as prs_merged
        from {LABEL_ACTIVITY} {where.sql()}
        group by 1, 2, 3 order by week_start, label""", where.params)
    return replace(section, table=table, source=LABEL_ACTIVITY,
                   notes=("A PR counts under the labels it carries now. Dates filter on the "
                          "week; the bots filter does not apply (the mart counts every PR).",))


SECTIONS: tuple[Callable[[Snapshot, Filters], Section], ...] = (
    cycle_time, first_review, reviews_given, assignee_workload, milestone_progress,
    label_activity,
)


# --- the whole report -------------------------------------------------------------------


# Marts measured against the run's as_of, in the order to ask them (one may be empty: no
# open PR, no assignee). The fact held as_of before it became incremental: older snapshots.
AS_OF_MARTS = (OPEN_PULL_REQUESTS, WORKLOAD, MILESTONES, PULL_REQUESTS)


def data_as_of(snap: Snapshot) -> Any:
    """The run's ``as_of``, from the first mart that holds it; None if none does."""
    for relation in AS_OF_MARTS:
        if snap.has(relation, "as_of"):
            value = snap.con.execute(f"select max(as_of) from {relation}").fetchall()[0][0]
            if value is not None:
                return value
    return None


def freshness(snap: Snapshot, path: Path) -> Freshness:
    """The data's ``as_of``, when the snapshot file was published, the last run's points."""
    published = datetime.fromtimestamp(os.stat(path).st_mtime, timezone.utc)
    as_of = data_as_of(snap)
    run: tuple[Any, ...] = (None, None, None)
    if snap.has(SYNCS, "run_id", "total_points", "loaded_at"):
        rows = snap.con.execute(f"select run_id, total_points, loaded_at from {SYNCS} "
                                "order by loaded_at desc limit 1").fetchall()
        run = rows[0] if rows else run
    return Freshness(as_of=plain(as_of), published_at=plain(published), last_run_id=run[0],
                     last_run_points=plain(run[1]), last_run_loaded_at=plain(run[2]))


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the snapshot without ever writing to it (nor to its folder)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    # Timestamps print and truncate to weeks in UTC, whatever the server's zone.
    con.execute("set TimeZone = 'UTC'")
    return con


def build_report(snapshot_path: Path, filters: Filters) -> Report:
    """Every chart's numbers under ``filters``; a clear message instead when there is no data.

    >>> build_report(Path("/nonexistent/snapshot.duckdb"), Filters()).empty[:24]
    'No sync has finished yet'
    """
    import duckdb

    report = Report(filters=filters, snapshot=str(snapshot_path))
    if not snapshot_path.exists():
        return replace(report, empty=f"{NO_SYNC_YET}: there is no snapshot at {snapshot_path}. "
                       "It appears when a run of the DAG github_pull_requests finishes its "
                       "publish task.")
    try:
        con = connect_read_only(snapshot_path)
    except duckdb.Error as exc:
        log.warning("cannot open the snapshot %s: %s", snapshot_path, exc)
        return replace(report, empty=f"{NO_SYNC_YET}: the snapshot at {snapshot_path} cannot "
                       f"be opened ({type(exc).__name__}: {exc}).")
    try:
        snap = Snapshot(con)
        if not snap.has(PULL_REQUESTS, "repo"):
            return replace(report, empty=f"{NO_SYNC_YET}: the snapshot at {snapshot_path} has "
                           f"no {PULL_REQUESTS} (dbt has not built the marts).")
        repos = tuple(r[0] for r in con.execute(
            f"select distinct repo from {PULL_REQUESTS} order by 1").fetchall())
        if not repos:
            return replace(report, empty=f"{NO_SYNC_YET}: the snapshot at {snapshot_path} "
                           "holds no pull requests.")
        sections = tuple(_section(build, snap, filters) for build in SECTIONS)
        return replace(report, repos=repos, freshness=freshness(snap, snapshot_path),
                       sections=sections)
    finally:
        con.close()


def _section(build: Callable[[Snapshot, Filters], Section], snap: Snapshot,
             filters: Filters) -> Section:
    """One chart's numbers; a mart whose columns changed under us costs that chart only."""
    import duckdb

    try:
        return build(snap, filters)
    except duckdb.Error as exc:
        log.warning("chart %s failed: %s", build.__name__, exc)
        return Section(build.__name__, build.__name__.replace("_", " ").capitalize(), "",
                       missing=f"No data: the query failed ({type(exc).__name__}: {exc}).")
