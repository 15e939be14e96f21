"""Cycle time by ISO week of merge: its phases stacked, the whole cycle's median and p90.

Reads the cycle-time fact, which owns the phases and who counts as a bot; the page only
groups its rows by week under the filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pr_warehouse.report.chart import Chart
from pr_warehouse.report.data import CYCLE_TIME_FACT, Filters, Snapshot, Table, week_start, where
from pr_warehouse.report.vega import HOURS, data, lines, named, week_x

if TYPE_CHECKING:
    import altair as alt

PHASES = {"median_coding_hours": "coding (median)", "median_pickup_hours": "pickup (median)",
          "median_review_hours": "review (median)"}
CYCLE = {"median_cycle_hours": "cycle, median", "p90_cycle_hours": "cycle, p90"}


def query(snap: Snapshot, filters: Filters) -> Table:
    """Per week of merge: PRs merged, the median of each phase, median and p90 cycle."""
    merged = where(filters, repo="repo", day="merged_at", bot="is_bot_author")
    merged = merged.add("merged_at is not null")
    return snap.table(f"""
        select {week_start('merged_at')} as week_start,
               strftime({week_start('merged_at')}, '%G-W%V') as iso_week,
               count(*) as prs_merged,
               round(quantile_cont(coding_hours, 0.5), 1) as median_coding_hours,
               round(quantile_cont(pickup_hours, 0.5), 1) as median_pickup_hours,
               round(quantile_cont(review_hours, 0.5), 1) as median_review_hours,
               round(quantile_cont(cycle_hours, 0.5), 1) as median_cycle_hours,
               round(quantile_cont(cycle_hours, 0.9), 1) as p90_cycle_hours
        from {CYCLE_TIME_FACT} {merged.sql()}
        group by 1, 2 order by 1""", merged.params)


def draw(table: Table) -> alt.TopLevelMixin:
    """Bars: the phases' medians stacked; lines over them: the whole cycle."""
    import altair as alt

    bars = named(alt.Chart(data(table.records())), PHASES).mark_bar(opacity=0.8).encode(
        x=week_x(), y=alt.Y("value:Q", stack="zero", title=HOURS),
        color=alt.Color("measure:N", title="phase (median)", sort=list(PHASES.values())),
        tooltip=["iso_week:N", "measure:N", alt.Tooltip("value:Q", title=HOURS),
                 "prs_merged:Q"],
    )
    cycle = lines(table, CYCLE, HOURS).encode(
        color=alt.Color("measure:N", title="whole cycle",
                        scale=alt.Scale(range=["#222222", "#d62728"])))
    return alt.layer(bars, cycle).resolve_scale(color="independent")


CHART = Chart(
    key="cycle_time",
    title="Cycle time by week of merge",
    question="Is getting a pull request merged getting slower? Median and p90 hours, by the "
             "ISO week the PRs were merged in.",
    reads={CYCLE_TIME_FACT: ("repo", "merged_at", "is_bot_author", "coding_hours",
                             "pickup_hours", "review_hours", "cycle_hours")},
    query=query,
    draw=draw,
    notes=("Bars: median hours of each phase (coding: first commit → ready for review; "
           "pickup: → first response; review: → merge), stacked. Lines: median and p90 of "
           "the whole cycle.",),
    wide=True,
)
