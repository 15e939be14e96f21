"""CI: how long merged pull requests took to get green checks, and how many had failures.

Reads the cycle-time fact's check columns (``time_to_green_hours``, ``checks_failed``),
which the delivery step adds; until it has, the chart says "not collected yet".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pr_warehouse.report.chart import Chart
from pr_warehouse.report.data import (
    CYCLE_TIME_FACT,
    Filters,
    Snapshot,
    Table,
    period_columns,
    where,
)
from pr_warehouse.report.vega import HOURS, lines

if TYPE_CHECKING:
    import altair as alt

SERIES = {"median_time_to_green_hours": "time to green, median",
          "p90_time_to_green_hours": "time to green, p90"}


def query(snap: Snapshot, filters: Filters) -> Table:
    """Per period of merge: PRs, those with failed checks, time to green's median and p90."""
    merged = where(filters, repo="repo", day="merged_at", bot="is_bot_author",
                   pr="pull_request_id").add("merged_at is not null")
    return snap.table(f"""
        select {period_columns('merged_at', filters.by)},
               count(*) as prs_merged,
               count(*) filter (where checks_failed > 0) as prs_with_failed_checks,
               round(quantile_cont(time_to_green_hours, 0.5), 1) as median_time_to_green_hours,
               round(quantile_cont(time_to_green_hours, 0.9), 1) as p90_time_to_green_hours
        from {CYCLE_TIME_FACT} {merged.sql()}
        group by all order by 1""", merged.params)


def draw(table: Table) -> alt.TopLevelMixin:
    return lines(table, SERIES, HOURS)


CHART = Chart(
    key="ci_checks",
    title="CI: time to green and failed checks",
    question="Does CI hold pull requests up? Median and p90 hours until a PR's checks "
             "passed, and how many merged PRs had failing checks, by period of merge.",
    reads={CYCLE_TIME_FACT: ("pull_request_id", "repo", "merged_at", "is_bot_author",
                             "checks_failed", "time_to_green_hours")},
    query=query,
    draw=draw,
    notes=("Hollow points rest on fewer than 5 PRs.",),
    delivery=True,
)
