"""Reading the read-only snapshot: the relations the page reads, filters, tables of numbers.

Every chart's numbers are a :class:`Table` (its columns and rows: the same rows the chart,
the table beside it and its CSV carry), computed by one query on a fact or a mart. The
page aggregates those for its filters (repository, dates, bots) and nothing else: what a
measure means is the dbt model's, so a filter that needs a column reads it from the model.

The snapshot is opened read-only for the length of one report: the DAG replaces it by an
atomic rename, so a reader never blocks the pipeline and never sees half a run.

Hours are rounded to one decimal in SQL, so the chart, the table and the CSV agree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

# The facts and marts the page reads, by the name the queries use.
PULL_REQUESTS = "analytics.fct_pull_requests"
CYCLE_TIME_FACT = "analytics.fct_pull_request_cycle_time"
REVIEWS = "analytics.fct_pull_request_reviews"
WORKLOAD = "analytics.mart_assignee_workload"
MILESTONES = "analytics.mart_milestone_progress"
OPEN_PULL_REQUESTS = "analytics.mart_open_pull_requests"
LABEL_ACTIVITY = "analytics.mart_label_activity"
SYNCS = "analytics.fct_syncs"
REVIEW_REQUESTS = "analytics.fct_review_requests"
PR_TEAMS = "analytics.bridge_pull_request_teams"
TEAM_WEEKLY = "analytics.mart_team_weekly"
REVIEWER_WEEKLY = "analytics.mart_reviewer_weekly"
LABEL_TIME = "analytics.fct_pull_request_label_time"
# Delivery (CI checks, deployments, DORA): read when the snapshot has them.
DEPLOYMENTS = "analytics.fct_deployments"
DORA_WEEKLY = "analytics.mart_dora_weekly"

# The grains a chart of medians groups by; "auto" picks month beyond this many days.
GRAINS = ("week", "month")
AUTO_MONTH_AFTER_DAYS = 12 * 7

# What to do about a snapshot that lacks what a chart reads: rebuild it, never work around.
REBUILD = "run the DAG github_pull_requests (or `make demo`) to rebuild it"


@dataclass(frozen=True)
class Filters:
    """What the reader narrowed the page to; the report uses the defaults.

    ``team``: only PRs whose author was in the team when opening them
    (``bridge_pull_request_teams``); ``grain``: ``week`` or ``month`` for the charts over
    time, None for the default (month when the range is longer than 12 weeks).

    >>> Filters.from_query(repo="acme/api", since="2025-01-06", until="", bots="on")
    ... # doctest: +NORMALIZE_WHITESPACE
    Filters(repo='acme/api', since=datetime.date(2025, 1, 6), until=None, include_bots=True,
            team=None, grain=None)
    >>> Filters.from_query(repo="", since="not a date", until=None, bots=None).describe()
    'all repositories, all teams, all dates, bots excluded'
    >>> Filters.from_query(None, None, None, None, team="acme/core", grain="fortnight")
    ... # doctest: +NORMALIZE_WHITESPACE
    Filters(repo=None, since=None, until=None, include_bots=False, team='acme/core',
            grain=None)
    """

    repo: str | None = None
    since: date | None = None
    until: date | None = None
    include_bots: bool = False
    team: str | None = None
    grain: str | None = None

    @classmethod
    def from_query(cls, repo: str | None, since: str | None, until: str | None,
                   bots: str | None, team: str | None = None,
                   grain: str | None = None) -> Filters:
        """From a query string's values; blanks and malformed values mean "no filter"."""
        return cls(repo=(repo or "").strip() or None, since=_parse_date(since),
                   until=_parse_date(until), include_bots=(bots or "").lower() in
                   ("on", "true", "1", "yes"), team=(team or "").strip() or None,
                   grain=grain if grain in GRAINS else None)

    def describe(self) -> str:
        """The filters in words, for the page's header and the report."""
        dates = (f"{self.since or '…'} to {self.until or '…'}" if self.since or self.until
                 else "all dates")
        bots = "bots included" if self.include_bots else "bots excluded"
        return f"{self.repo or 'all repositories'}, {self.team or 'all teams'}, {dates}, {bots}"

    @property
    def by(self) -> str:
        """The grain the charts group by (a resolved report sets it; week until then)."""
        return self.grain or "week"


def default_grain(first: date | None, last: date | None) -> str:
    """Month when the range is longer than 12 weeks, else week.

    >>> default_grain(date(2025, 1, 1), date(2025, 3, 26)), default_grain(None, None)
    ('week', 'week')
    >>> default_grain(date(2025, 1, 1), date(2025, 3, 27))
    'month'
    """
    if first is None or last is None:
        return "week"
    return "month" if (last - first).days > AUTO_MONTH_AFTER_DAYS else "week"


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
        """The rows as CSV with a header line (what the page's download link holds)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()


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


# --- filters as SQL -------------------------------------------------------------------------


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
        """These conditions and one more (parameters in the order of the ``?``)."""
        return replace(self, conditions=(*self.conditions, condition),
                       params=(*self.params, *params))

    def sql(self) -> str:
        """The ``where`` clause, or nothing when there is no condition."""
        return ("where " + " and ".join(self.conditions)) if self.conditions else ""


def where(filters: Filters, *, repo: str | None, day: str | None,
          bot: str | None = None, pr: str | None = None) -> Where:
    """The filters as SQL on the given columns (None: that filter does not apply).

    ``bot`` is a boolean expression the model defines (e.g. the fact's ``is_bot_author``):
    the page never decides who is a bot. ``pr``: the pull-request id column the team
    filter applies to (the team's PRs are the bridge's, as the team marts count them).

    >>> w = where(Filters(repo="acme/api"), repo="repo", day=None, bot="is_bot_author")
    >>> print(w.sql(), w.params)
    where repo = ? and not (is_bot_author) ('acme/api',)
    >>> print(where(Filters(team="o/t"), repo=None, day=None, pr="p.pull_request_id").sql())
    where p.pull_request_id in (select pull_request_id from analytics.bridge_pull_request_teams where team = ?)
    """
    result = Where()
    if pr and filters.team:
        result = result.add(f"{pr} in (select pull_request_id from {PR_TEAMS} where team = ?)",
                            filters.team)
    if repo and filters.repo:
        result = result.add(f"{repo} = ?", filters.repo)
    if day and filters.since:
        result = result.add(f"cast(timezone('UTC', {day}) as date) >= ?", filters.since)
    if day and filters.until:
        result = result.add(f"cast(timezone('UTC', {day}) as date) <= ?", filters.until)
    if bot and not filters.include_bots:
        result = result.add(f"not ({bot})")
    return result


def week_start(ts: str) -> str:
    """The Monday of ``ts``'s ISO week in UTC: the expression dbt's ``week_start`` macro uses,
    so the page's weeks are the marts' weeks.

    >>> week_start("merged_at")
    "cast(date_trunc('week', timezone('UTC', merged_at)) as date)"
    """
    return f"cast(date_trunc('week', timezone('UTC', {ts})) as date)"


def period_start(ts: str, grain: str) -> str:
    """The first day of ``ts``'s week (ISO, Monday) or month in UTC.

    >>> period_start("merged_at", "month")
    "cast(date_trunc('month', timezone('UTC', merged_at)) as date)"
    """
    assert grain in GRAINS, grain
    return f"cast(date_trunc('{grain}', timezone('UTC', {ts})) as date)"


def period_names(grain: str) -> tuple[str, str]:
    """A period's two columns: its first day and its label (``week_start``/``iso_week`` or
    ``month_start``/``month``), so a CSV says its grain.

    >>> period_names("week"), period_names("month")
    (('week_start', 'iso_week'), ('month_start', 'month'))
    """
    return ("week_start", "iso_week") if grain == "week" else ("month_start", "month")


def period_columns(ts: str, grain: str) -> str:
    """SQL selecting ``ts``'s period: its first day and its label.

    >>> print(period_columns("merged_at", "month"))  # doctest: +NORMALIZE_WHITESPACE
    cast(date_trunc('month', timezone('UTC', merged_at)) as date) as month_start,
    strftime(cast(date_trunc('month', timezone('UTC', merged_at)) as date), '%Y-%m') as month
    """
    start, label = period_names(grain)
    day = period_start(ts, grain)
    return f"{day} as {start},\n{period_label(day, grain)} as {label}"


def period_label(day: str, grain: str) -> str:
    """How a period reads: ``2025-W10`` for a week, ``2025-03`` for a month.

    >>> period_label("period_start", "week")
    "strftime(period_start, '%G-W%V')"
    """
    return f"strftime({day}, '{'%G-W%V' if grain == 'week' else '%Y-%m'}')"


# --- the snapshot ---------------------------------------------------------------------------


def older_snapshot(lacking: Sequence[str]) -> str:
    """What a chart says when the snapshot lacks a relation or column it reads.

    A snapshot is published only after dbt built every model, so a missing model or column
    means an older version of the models built it: the fix is a rebuild, not a workaround.

    >>> print(older_snapshot(["analytics.mart_x", "analytics.fct_y.z"]))
    No data: this snapshot was built by an older version (it has no analytics.mart_x, \
analytics.fct_y.z): run the DAG github_pull_requests (or `make demo`) to rebuild it.
    """
    return (f"No data: this snapshot was built by an older version (it has no "
            f"{', '.join(lacking)}): {REBUILD}.")


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
        """Whether ``relation`` exists with every one of ``columns``."""
        return relation in self.columns and set(columns) <= self.columns[relation]

    def lacking(self, reads: Mapping[str, Iterable[str]]) -> list[str]:
        """What of ``reads`` (relation -> columns) the snapshot does not have, as
        ``relation`` (missing altogether) or ``relation.column``; empty when it has all."""
        lacking: list[str] = []
        for relation, columns in reads.items():
            if relation not in self.columns:
                lacking.append(relation)
            else:
                lacking += [f"{relation}.{c}" for c in columns if c not in self.columns[relation]]
        return lacking

    def table(self, sql: str, params: Sequence[Any] = ()) -> Table:
        """A query's result as a :class:`Table` of plain values."""
        cursor = self.con.execute(sql, list(params))
        columns = tuple(d[0] for d in cursor.description)
        return Table(columns, tuple(tuple(plain(v) for v in row) for row in cursor.fetchall()))


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the snapshot without ever writing to it (nor to its folder)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    # Timestamps print and truncate to weeks in UTC, whatever the server's zone.
    con.execute("set TimeZone = 'UTC'")
    return con
