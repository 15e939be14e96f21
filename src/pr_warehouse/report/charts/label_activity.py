"""Label activity: pull requests opened and merged per label, by ISO week.

Reads ``mart_label_activity``; with every repository, a label's weeks add up across them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pr_warehouse.report.chart import Chart
from pr_warehouse.report.data import LABEL_ACTIVITY, Filters, Snapshot, Table, where
from pr_warehouse.report.vega import FIXED_WIDTH, data, named, tooltips

if TYPE_CHECKING:
    import altair as alt

# How many labels the heat map shows (the busiest); the table beside it has every label.
TOP_LABELS = 15
MEASURES = {"prs_opened": "opened", "prs_merged": "merged"}


def query(snap: Snapshot, filters: Filters) -> Table:
    """Per label and week: PRs opened and merged, summed over the chosen repositories."""
    chosen = where(filters, repo="repo", day=None)
    # The mart's grain is the week: the date range keeps whole weeks.
    if filters.since:
        chosen = chosen.add("week_start >= ?", filters.since)
    if filters.until:
        chosen = chosen.add("week_start <= ?", filters.until)
    return snap.table(f"""
        select label_name as label, week_start, strftime(week_start, '%G-W%V') as iso_week,
               sum(prs_opened)::bigint as prs_opened, sum(prs_merged)::bigint as prs_merged
        from {LABEL_ACTIVITY} {chosen.sql()}
        group by 1, 2, 3 order by week_start, label""", chosen.params)


def busiest_labels(table: Table, top: int = TOP_LABELS) -> list[str]:
    """The labels with the most PRs opened plus merged, busiest first.

    >>> t = Table(("label", "prs_opened", "prs_merged"), (("a", 1, 0), ("b", 2, 2), ("a", 1, 1)))
    >>> busiest_labels(t, top=1)
    ['b']
    """
    totals: dict[str, int] = {}
    for rec in table.records():
        totals[rec["label"]] = totals.get(rec["label"], 0) + rec["prs_opened"] + rec["prs_merged"]
    return sorted(totals, key=lambda name: (-totals[name], name))[:top]


def draw(table: Table) -> alt.TopLevelMixin:
    """A heat map per measure: busiest labels × ISO week, opened above merged."""
    import altair as alt

    labels = busiest_labels(table)
    records = [r for r in table.records() if r["label"] in labels]
    return named(alt.Chart(data(records)), MEASURES).mark_rect().encode(
        x=alt.X("week_start:O", title="ISO week (Monday)", timeUnit="yearmonthdate",
                axis=alt.Axis(labelOverlap=True)),
        y=alt.Y("label:N", sort=labels, title=None),
        color=alt.Color("value:Q", title="PRs", scale=alt.Scale(scheme="blues")),
        tooltip=tooltips("label:N", "iso_week:N", "measure:N", alt.Tooltip("value:Q", title="PRs")),
    ).properties(width=FIXED_WIDTH).facet(
        row=alt.Row("measure:N", title=None, sort=list(MEASURES.values())))


CHART = Chart(
    key="label_activity",
    title="Label activity by week",
    question="Where does the work go? Pull requests opened and merged per label, by ISO week.",
    reads={LABEL_ACTIVITY: ("repo", "label_name", "week_start", "prs_opened", "prs_merged")},
    query=query,
    draw=draw,
    notes=("A PR counts under the labels it carries now. Dates filter on the week; the bots "
           "filter does not apply (the mart counts every PR).",),
    wide=True,
)
