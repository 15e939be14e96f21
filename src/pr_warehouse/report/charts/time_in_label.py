"""Time in label: the labels that hold pull requests longest.

Reads ``fct_pull_request_label_time``, where the model says how long each label span held
its PR (until its removal, the PR's close, or the run's as-of); the page only takes the
median and p90 per label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pr_warehouse.report.chart import Chart
from pr_warehouse.report.data import LABEL_TIME, Filters, Snapshot, Table, where
from pr_warehouse.report.vega import FEW_PRS, data, tooltips

if TYPE_CHECKING:
    import altair as alt

TOP_LABELS = 12


def query(snap: Snapshot, filters: Filters) -> Table:
    """Per label (the :data:`TOP_LABELS` longest by median): spans, PRs, median and p90."""
    chosen = where(filters, repo="repo", day="added_at", bot="is_bot_author",
                   pr="pull_request_id")
    return snap.table(f"""
        select label_name as label, count(*) as spans,
               count(distinct pull_request_id) as prs,
               round(quantile_cont(hours_held, 0.5), 1) as median_hours,
               round(quantile_cont(hours_held, 0.9), 1) as p90_hours
        from {LABEL_TIME}
        {chosen.sql()}
        group by 1 having count(distinct pull_request_id) >= {FEW_PRS}
        order by median_hours desc, label limit {TOP_LABELS}""", chosen.params)


def draw(table: Table) -> alt.TopLevelMixin:
    """A bar per label: median hours in it; a tick at its p90."""
    import altair as alt

    order = [r["label"] for r in table.records()]
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=240))
    tooltip = tooltips("label:N", "median_hours:Q", "p90_hours:Q",
                       alt.Tooltip("spans:Q", title="spans it rests on"), "prs:Q")
    bars = alt.Chart(data(table.records())).mark_bar(color="#b279a2").encode(
        y=y, x=alt.X("median_hours:Q", title="hours in label (median; tick: p90)"),
        tooltip=tooltip)
    ticks = alt.Chart(data(table.records())).mark_tick(color="#222", thickness=2).encode(
        y=y, x=alt.X("p90_hours:Q"), tooltip=tooltip)
    return alt.layer(bars, ticks)


CHART = Chart(
    key="time_in_label",
    title="Time in label",
    question=f"Which labels hold pull requests longest? The {TOP_LABELS} labels with the "
             f"longest median time on a PR (among labels on at least {FEW_PRS} PRs), with "
             f"their p90.",
    reads={LABEL_TIME: ("pull_request_id", "repo", "label_name", "added_at", "hours_held",
                        "is_bot_author")},
    query=query,
    draw=draw,
    notes=("A span: from the label's adding to its removal, or to the PR's close (or the "
           "data's as-of while open) if it stayed. Dates filter on when it was added.",),
)
