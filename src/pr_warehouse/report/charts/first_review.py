"""Time to the first review and to the first response, by week or month of merge.

One cohort, the cycle-time chart's: the PRs merged in the period, bots as the cycle-time fact
defines them. The first review comes from ``fct_pull_requests``, the first response
(pickup) from the cycle-time fact, joined per pull request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pr_warehouse.report.chart import Chart
from pr_warehouse.report.data import (
    CYCLE_TIME_FACT,
    PULL_REQUESTS,
    Filters,
    Snapshot,
    Table,
    period_columns,
    period_names,
    where,
)
from pr_warehouse.report.vega import HOURS, lines

if TYPE_CHECKING:
    import altair as alt

SERIES = {
    "median_hours_to_first_review": "first review, median",
    "p90_hours_to_first_review": "first review, p90",
    "median_hours_to_first_response": "first response, median",
    "p90_hours_to_first_response": "first response, p90",
}


def query(snap: Snapshot, filters: Filters) -> Table:
    """Per period of merge: PRs merged and reviewed, median and p90 of both waits."""
    merged = where(filters, repo="c.repo", day="c.merged_at", bot="c.is_bot_author",
                   pr="c.pull_request_id").add("c.merged_at is not null")
    start, label = period_names(filters.by)
    return snap.table(f"""
        with merged as (
            select {period_columns('c.merged_at', filters.by)},
                   p.hours_to_first_review, c.pickup_hours
            from {CYCLE_TIME_FACT} c join {PULL_REQUESTS} p using (pull_request_id)
            {merged.sql()})
        select {start}, {label},
               count(*) as prs_merged,
               count(hours_to_first_review) as prs_reviewed,
               round(quantile_cont(hours_to_first_review, 0.5), 1) as median_hours_to_first_review,
               round(quantile_cont(hours_to_first_review, 0.9), 1) as p90_hours_to_first_review,
               round(quantile_cont(pickup_hours, 0.5), 1) as median_hours_to_first_response,
               round(quantile_cont(pickup_hours, 0.9), 1) as p90_hours_to_first_response
        from merged group by all order by 1""", merged.params)


def draw(table: Table) -> alt.TopLevelMixin:
    """Four lines: both waits' median and p90 (p90 dashed)."""
    return lines(table, SERIES, HOURS)


CHART = Chart(
    key="first_review",
    title="Time to first review by period of merge",
    question="Is review pickup getting slower? Median and p90 hours from opening a PR to its "
             "first review by someone else, by week or month of merge.",
    reads={CYCLE_TIME_FACT: ("pull_request_id", "repo", "merged_at", "is_bot_author",
                             "pickup_hours"),
           PULL_REQUESTS: ("pull_request_id", "hours_to_first_review")},
    query=query,
    draw=draw,
    notes=("First review = the earliest submitted review by someone other than the author, "
           "from opening. First response = pickup: ready for review → first comment or "
           "review by someone else. Hollow points rest on fewer than 5 PRs (hover: how "
           "many).",),
)
