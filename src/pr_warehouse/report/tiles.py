"""The headline tiles: a figure for the selected period against the previous one.

Each :class:`Tile` is one unit like a chart: the model that defines it (its docs link), the
relations and columns it reads, and one query giving its value for a date range. The value
is a plain aggregate over the fact's rows in the range (a count, a median of a column the
model defines, a share of a flag the model sets): what the measure means stays the model's.

The previous period has the selected one's length and ends the day before it starts, so
"median cycle time this month, up 12 % on last month" compares like with like.

>>> t = TileValue(TILES[1], current=30.0, previous=20.0)
>>> t.change_text, t.good
('+50%', False)
>>> TileValue(TILES[0], current=12, previous=10).good
True
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pr_warehouse.report.chart import model_name, not_collected
from pr_warehouse.report.data import (
    CYCLE_TIME_FACT,
    DEPLOYMENTS,
    DORA_WEEKLY,
    REVIEW_REQUESTS,
    Filters,
    Snapshot,
    Where,
    older_snapshot,
    where,
)

log = logging.getLogger(__name__)

# The default period: the last four whole weeks with data (the same weekdays in both).
DEFAULT_PERIOD_DAYS = 28


@dataclass(frozen=True)
class Period:
    """A closed range of days, and the one of the same length just before it.

    >>> p = Period(date(2025, 3, 1), date(2025, 3, 28))
    >>> p.days, p.previous()
    (28, Period(start=datetime.date(2025, 2, 1), end=datetime.date(2025, 2, 28)))
    """

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def __str__(self) -> str:
        return f"{self.start} to {self.end}"


def selected_period(filters: Filters, last_day: date | None) -> Period | None:
    """The filters' dates; without them the last four weeks up to the last day with data.

    >>> selected_period(Filters(), date(2025, 3, 28))
    Period(start=datetime.date(2025, 3, 1), end=datetime.date(2025, 3, 28))
    >>> selected_period(Filters(since=date(2025, 1, 1)), date(2025, 3, 28)).days
    87
    >>> selected_period(Filters(), None) is None
    True
    """
    end = filters.until or last_day
    if end is None:
        return None
    start = filters.since or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    return Period(min(start, end), end)


def utc_day(column: str) -> str:
    """The UTC day of a timestamp column, as the tiles' periods count days."""
    return f"cast(timezone('UTC', {column}) as date)"


# A tile's figures for a period and the one before: ``(current, previous)``.
Query = Callable[[Snapshot, Filters, Period], tuple[Any, Any]]

@dataclass(frozen=True)
class Tile:
    """One headline figure: its words, what it reads, its query per period, which way is
    good (``better``: ``up`` or ``down``), how it prints (``unit``: ``h``, ``%`` or none)."""

    key: str
    label: str
    reads: Mapping[str, tuple[str, ...]]
    query: Query
    better: str
    unit: str = ""
    delivery: bool = False
    note: str = ""

    @property
    def model(self) -> str:
        return model_name(next(iter(self.reads)))

    def value(self, snap: Snapshot, filters: Filters, period: Period | None) -> TileValue:
        """This tile's figures for ``period`` and the one before, or why there are none."""
        import duckdb

        lacking = snap.lacking(self.reads)
        if lacking:
            return TileValue(self, missing=(not_collected(lacking) if self.delivery
                                            else older_snapshot(lacking)))
        if period is None:
            return TileValue(self, missing="No data for these filters.")
        try:
            current, previous = self.query(snap, filters, period)
            return TileValue(self, current=current, previous=previous)
        except duckdb.Error as exc:
            log.warning("tile %s failed: %s", self.key, exc)
            return TileValue(self, missing=f"No data: the query failed ({exc}).")


@dataclass(frozen=True)
class TileValue:
    """A tile's figure now and before; ``missing`` says why there is none."""

    tile: Tile
    current: Any = None
    previous: Any = None
    missing: str | None = None

    @property
    def change(self) -> float | None:
        """Relative change in percent (points for a share); None without a base."""
        if self.current is None or self.previous is None:
            return None
        if self.tile.unit == "%":
            return round(self.current - self.previous, 1)
        if self.previous == 0:
            return None
        return round(100.0 * (self.current - self.previous) / self.previous)

    @property
    def change_text(self) -> str:
        """``+12%``, ``-3 pts`` or ``–``.

        >>> TileValue(TILES[4], current=10.0, previous=25.0).change_text
        '-15 pts'
        """
        if self.change is None:
            return "–"
        unit = " pts" if self.tile.unit == "%" else "%"
        return f"{self.change:+g}{unit}"

    @property
    def good(self) -> bool | None:
        """Whether the change goes the good way; None when there is no change to judge."""
        if not self.change:
            return None
        return (self.change > 0) == (self.tile.better == "up")

    @property
    def text(self) -> str:
        """The current value as it prints.

        >>> TileValue(TILES[1], current=12.34).text, TileValue(TILES[0], current=None).text
        ('12.3 h', '–')
        """
        return show(self.current, self.tile.unit)

    @property
    def previous_text(self) -> str:
        return show(self.previous, self.tile.unit)


def show(value: Any, unit: str) -> str:
    """A figure with its unit.

    >>> show(3, ""), show(12.25, "h"), show(8.0, "%"), show(None, "h")
    ('3', '12.2 h', '8.0%', '–')
    """
    if value is None:
        return "–"
    if unit == "h":
        return f"{value:.1f} h"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:g}" if isinstance(value, float) else str(value)


def both_periods(snap: Snapshot, aggregate: str, relation: str, w: Where, day: str,
                 period: Period, empty: Any = None) -> tuple[Any, Any]:
    """``aggregate`` over ``relation``'s rows chosen by ``w`` whose ``day`` falls in
    ``period``, and in the period before it: one scan of the relation for both. ``empty``
    is the figure of a period with no rows (0 for a count; None, shown as a dash, for a
    median or a share of nothing)."""
    before = period.previous()
    span = w.add(f"{day} between ? and ?", before.start, period.end)
    rows = snap.table(f"select {day} >= ? as is_current, {aggregate} from {relation} "
                      f"{span.sql()} group by 1", (period.start, *span.params)).rows
    figures = dict(rows)
    return figures.get(True, empty), figures.get(False, empty)


def _cycle(aggregate: str, empty: Any = None) -> Query:
    """An aggregate over the cycle-time fact's PRs merged in the period."""
    def query(snap: Snapshot, filters: Filters, period: Period) -> tuple[Any, Any]:
        w = where(filters, repo="repo", day=None, bot="is_bot_author", pr="pull_request_id")
        return both_periods(snap, aggregate, CYCLE_TIME_FACT, w, utc_day("merged_at"), period,
                            empty)
    return query


def _median(column: str) -> Query:
    return _cycle(f"round(quantile_cont({column}, 0.5), 1)")


def _response(snap: Snapshot, filters: Filters, period: Period) -> tuple[Any, Any]:
    """Median response hours of the review requests made in the period and answered."""
    w = where(filters, repo="repo", day=None, bot="is_bot_reviewer", pr="pull_request_id")
    return both_periods(snap, "round(quantile_cont(response_hours, 0.5), 1)", REVIEW_REQUESTS,
                        w.add("outcome = 'responded'"), utc_day("requested_at"), period)


def _deployments(snap: Snapshot, filters: Filters, period: Period) -> tuple[Any, Any]:
    """Successful production deployments created in the period (mart_dora_weekly's count)."""
    w = where(filters, repo="repo", day=None).add("is_production").add("outcome = 'SUCCESS'")
    return both_periods(snap, "count(*)", DEPLOYMENTS, w, utc_day("created_at"), period, 0)


def _lead_time(snap: Snapshot, filters: Filters, period: Period) -> tuple[Any, Any]:
    w = where(filters, repo="repo", day=None, bot="is_bot_author", pr="pull_request_id")
    return both_periods(snap, "round(quantile_cont(lead_time_hours, 0.5), 1)", CYCLE_TIME_FACT,
                        w, utc_day("deployed_at"), period)


def _change_failure_rate(snap: Snapshot, filters: Filters, period: Period) -> tuple[Any, Any]:
    """mart_dora_weekly's rate over the weeks starting in the period: failed and rolled-back
    production deployments over all finished ones."""
    return both_periods(snap, "round(100.0 * sum(failed_deployments + rolled_back_deployments)"
                        " / nullif(sum(production_deployments), 0), 1)", DORA_WEEKLY,
                        where(filters, repo="repo", day=None), "week_start", period)


_MERGED = ("pull_request_id", "repo", "merged_at", "is_bot_author")

TILES: tuple[Tile, ...] = (
    Tile("prs_merged", "PRs merged", {CYCLE_TIME_FACT: _MERGED}, _cycle("count(*)", 0), "up"),
    Tile("median_cycle", "Median cycle time", {CYCLE_TIME_FACT: (*_MERGED, "cycle_hours")},
         _median("cycle_hours"), "down", "h", note="first commit → merge"),
    Tile("median_pickup", "Median pickup", {CYCLE_TIME_FACT: (*_MERGED, "pickup_hours")},
         _median("pickup_hours"), "down", "h", note="ready → first response"),
    Tile("median_review", "Median review time", {CYCLE_TIME_FACT: (*_MERGED, "review_hours")},
         _median("review_hours"), "down", "h", note="first response → merge"),
    Tile("merged_without_review", "Merged without review",
         {CYCLE_TIME_FACT: (*_MERGED, "merged_without_review")},
         _cycle("round(100.0 * avg(case when merged_without_review then 1 else 0 end), 1)"),
         "down", "%", note="share of PRs merged"),
    Tile("median_response", "Median review-request response",
         {REVIEW_REQUESTS: ("pull_request_id", "repo", "requested_at", "is_bot_reviewer",
                            "outcome", "response_hours")},
         _response, "down", "h", note="request → reviewer's response"),
    Tile("deployments", "Deployments to production", {DEPLOYMENTS: ("repo", "created_at", "is_production", "outcome")},
         _deployments, "up", delivery=True),
    Tile("lead_time", "Lead time for changes",
         {CYCLE_TIME_FACT: ("pull_request_id", "repo", "is_bot_author", "deployed_at",
                            "lead_time_hours")},
         _lead_time, "down", "h", delivery=True, note="first commit → production"),
    Tile("change_failure_rate", "Change failure rate",
         {DORA_WEEKLY: ("repo", "week_start", "production_deployments", "failed_deployments",
                        "rolled_back_deployments")},
         _change_failure_rate, "down", "%", delivery=True),
)
