"""Cycle time by week or month of merge: its phases' medians stacked, the whole cycle's p90.

Reads the cycle-time fact, which owns the phases and who counts as a bot; the page only
groups its rows by period under the filters.
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
from pr_warehouse.report.vega import FEW_PRS, HOURS, data, grain_of, named, period_x, tooltips

if TYPE_CHECKING:
    import altair as alt

PHASES = {"median_coding_hours": "coding", "median_pickup_hours": "pickup",
          "median_review_hours": "review"}
# Solid, distinct colours: the bars must read at a glance (and in grey print).
PHASE_COLOURS = ["#4c78a8", "#f58518", "#54a24b"]


def query(snap: Snapshot, filters: Filters) -> Table:
    """Per period of merge: PRs merged, the median of each phase, median and p90 cycle."""
    merged = where(filters, repo="repo", day="merged_at", bot="is_bot_author",
                   pr="pull_request_id").add("merged_at is not null")
    return snap.table(f"""
        select {period_columns('merged_at', filters.by)},
               count(*) as prs_merged,
               round(quantile_cont(coding_hours, 0.5), 1) as median_coding_hours,
               round(quantile_cont(pickup_hours, 0.5), 1) as median_pickup_hours,
               round(quantile_cont(review_hours, 0.5), 1) as median_review_hours,
               round(quantile_cont(cycle_hours, 0.5), 1) as median_cycle_hours,
               round(quantile_cont(cycle_hours, 0.9), 1) as p90_cycle_hours
        from {CYCLE_TIME_FACT} {merged.sql()}
        group by all order by 1""", merged.params)


def draw(table: Table) -> alt.TopLevelMixin:
    """Bars: the phases' medians stacked, the PR count above; line: the cycle's p90;
    periods resting on fewer than five PRs are drawn pale with a hollow p90 point."""
    import altair as alt

    label = "iso_week" if grain_of(table) == "week" else "month"
    records = table.records()
    few = f"datum.prs_merged < {FEW_PRS}"
    bars = named(alt.Chart(data(records)), PHASES).mark_bar().encode(
        x=period_x(table), y=alt.Y("value:Q", stack="zero", title=HOURS),
        color=alt.Color("measure:N", title="median of phase",
                        sort=list(PHASES.values()),
                        scale=alt.Scale(domain=list(PHASES.values()), range=PHASE_COLOURS)),
        opacity=alt.OpacityValue(**alt.condition(few, alt.value(0.35), alt.value(1.0))),
        tooltip=tooltips(f"{label}:N", "measure:N",
                         alt.Tooltip("value:Q", title="median hours"),
                         alt.Tooltip("prs_merged:Q", title="PRs it rests on")),
    )
    base = alt.Chart(data(records)).encode(x=period_x(table))
    p90 = base.mark_line(color="#d62728", strokeDash=[5, 3]).encode(
        y=alt.Y("p90_cycle_hours:Q"))
    p90_points = base.mark_point(color="#d62728", size=40, strokeWidth=1.5).encode(
        y=alt.Y("p90_cycle_hours:Q"),
        fill=alt.FillValue(**alt.condition(few, alt.value("white"), alt.value("#d62728"))),
        tooltip=tooltips(f"{label}:N", alt.Tooltip("p90_cycle_hours:Q", title="p90 cycle hours"),
                         alt.Tooltip("median_cycle_hours:Q", title="median cycle hours"),
                         alt.Tooltip("prs_merged:Q", title="PRs it rests on")))
    counts = base.mark_text(dy=-6, fontSize=10, color="#4a5565").encode(
        y=alt.Y("stacked:Q"), text=alt.Text("prs_merged:Q")).transform_calculate(
        stacked="datum.median_coding_hours + datum.median_pickup_hours + "
                "datum.median_review_hours")
    return alt.layer(bars, counts, p90, p90_points)


CHART = Chart(
    key="cycle_time",
    title="Cycle time by phase",
    question="Is getting a pull request merged getting slower, and in which phase? Median "
             "hours of each phase by the week or month the PRs were merged in, and the whole "
             "cycle's p90.",
    reads={CYCLE_TIME_FACT: ("pull_request_id", "repo", "merged_at", "is_bot_author",
                             "coding_hours", "pickup_hours", "review_hours", "cycle_hours")},
    query=query,
    draw=draw,
    notes=("Bars: median hours of each phase (coding: first commit → ready for review; "
           "pickup: → first response; review: → merge), stacked; the number above a bar is "
           "how many PRs it rests on, and periods of fewer than 5 PRs are pale. Red dashed "
           "line: p90 of the whole cycle (hollow points: fewer than 5 PRs).",),
    wide=True,
)
