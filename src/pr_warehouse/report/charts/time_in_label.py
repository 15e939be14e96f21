"""Time in label: the labels that hold pull requests longest.

Reads ``fct_pull_request_label_spans`` (one row per time a label was on a PR: added,
removed) and ends a span still open at the PR's close, or at the data's as-of while the
PR is open: a label left on a merged PR does not hold it any more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pr_warehouse.report.chart import Chart
from pr_warehouse.report.data import (
    CYCLE_TIME_FACT,
    LABEL_SPANS,
    PULL_REQUESTS,
    Filters,
    Snapshot,
    Table,
    where,
)
from pr_warehouse.report.vega import FEW_PRS, data

if TYPE_CHECKING:
    import altair as alt

TOP_LABELS = 12


def query(snap: Snapshot, filters: Filters) -> Table:
    """Per label (the :data:`TOP_LABELS` longest by median): spans, PRs, median and p90."""
    chosen = where(filters, repo="s.repo", day="s.added_at", bot="c.is_bot_author",
                   pr="s.pull_request_id")
    return snap.table(f"""
        with spans as (
            select s.label_name, s.pull_request_id,
                   date_diff('second', s.added_at,
                             least(coalesce(s.removed_at, p.closed_at, c.as_of),
                                   coalesce(p.closed_at, c.as_of))) / 3600.0 as hours
            from {LABEL_SPANS} s
            join {PULL_REQUESTS} p using (pull_request_id)
            join {CYCLE_TIME_FACT} c using (pull_request_id)
            {chosen.sql()})
        select label_name as label, count(*) as spans,
               count(distinct pull_request_id) as prs,
               round(quantile_cont(hours, 0.5), 1) as median_hours,
               round(quantile_cont(hours, 0.9), 1) as p90_hours
        from spans where hours >= 0
        group by 1 having count(distinct pull_request_id) >= {FEW_PRS}
        order by median_hours desc, label limit {TOP_LABELS}""", chosen.params)


def draw(table: Table) -> alt.TopLevelMixin:
    """A bar per label: median hours in it; a tick at its p90."""
    import altair as alt

    order = [r["label"] for r in table.records()]
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=240))
    tooltip = ["label:N", "median_hours:Q", "p90_hours:Q",
               alt.Tooltip("spans:Q", title="spans it rests on"), "prs:Q"]
    bars = alt.Chart(data(table.records())).mark_bar(color="#b279a2").encode(
        y=y, x=alt.X("median_hours:Q", title="hours in label (median; tick: p90)"),
        tooltip=tooltip)
    ticks = alt.Chart(data(table.records())).mark_tick(color="#222", thickness=2).encode(
        y=y, x="p90_hours:Q", tooltip=tooltip)
    return alt.layer(bars, ticks)


CHART = Chart(
    key="time_in_label",
    title="Time in label",
    question=f"Which labels hold pull requests longest? The {TOP_LABELS} labels with the "
             f"longest median time on a PR (among labels on at least {FEW_PRS} PRs), with "
             f"their p90.",
    reads={LABEL_SPANS: ("pull_request_id", "repo", "label_name", "added_at", "removed_at"),
           PULL_REQUESTS: ("pull_request_id", "closed_at"),
           CYCLE_TIME_FACT: ("pull_request_id", "is_bot_author", "as_of")},
    query=query,
    draw=draw,
    notes=("A span: from the label's adding to its removal, or to the PR's close (or the "
           "data's as-of while open) if it stayed. Dates filter on when it was added.",),
)
