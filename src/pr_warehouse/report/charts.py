"""Each chart's Table as a Vega-Lite spec, built with Vega-Altair.

A spec is plain JSON with its numbers inlined (``alt.Data(values=...)``): the page and the
report embed it as is and Vega renders it in the browser, offline. Nothing here touches the
snapshot; the functions are pure (a Section in, a dict out).

>>> from pr_warehouse.report.data import Section, Table
>>> table = Table(("reviewer", "reviews", "approved", "changes_requested", "commented",
...                "prs_reviewed"), (("ana", 3, 2, 1, 0, 2),))
>>> spec = chart_spec(Section("reviews_given", "t", "q", table=table))
>>> spec["mark"]["type"], spec["data"]["values"][0]["reviewer"]
('bar', 'ana')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pr_warehouse.report.data import Section, Table

if TYPE_CHECKING:
    import altair as alt

HOURS = "hours"
# How many labels the heat map shows (the busiest); the table beside it has every label.
TOP_LABELS = 15
# Faceted charts cannot follow the container's width.
FIXED_WIDTH = 720

# Readable series names for the columns the charts fold into one "measure" field.
MEASURES = {
    "median_coding_hours": "coding (median)",
    "median_pickup_hours": "pickup (median)",
    "median_review_hours": "review (median)",
    "median_cycle_hours": "cycle, median",
    "p90_cycle_hours": "cycle, p90",
    "median_hours_to_merge": "median",
    "p90_hours_to_merge": "p90",
    "median_hours_to_first_review": "first review, median",
    "p90_hours_to_first_review": "first review, p90",
    "median_hours_to_first_response": "first response, median",
    "p90_hours_to_first_response": "first response, p90",
    "approved": "approved",
    "changes_requested": "changes requested",
    "commented": "commented",
    "open_ready_prs": "ready for review",
    "open_draft_prs": "draft",
    "prs_open": "open",
    "prs_merged": "merged",
    "prs_closed_unmerged": "closed unmerged",
    "prs_opened": "opened",
}


def _data(records: list[dict[str, Any]]) -> alt.Data:
    import altair as alt

    return alt.Data(values=records)


def _named(base: alt.Chart, columns: list[str]) -> alt.Chart:
    """``base`` with ``columns`` folded and each given its readable name (``measure``)."""
    names = {c: MEASURES.get(c, c) for c in columns}
    expr = " : ".join(f"datum.measure_column === {_js(c)} ? {_js(n)}" for c, n in names.items())
    return (base.transform_fold(columns, as_=["measure_column", "value"])
            .transform_calculate(measure=f"{expr} : datum.measure_column"))


def _js(text: str) -> str:
    """A string literal in Vega's expression language (JavaScript's syntax).

    >>> print(_js('say "hi"'))
    "say \\"hi\\""
    """
    import json

    return json.dumps(text)


def _order(columns: list[str]) -> list[str]:
    return [MEASURES.get(c, c) for c in columns]


def _week_x() -> alt.X:
    import altair as alt

    return alt.X("week_start:T", title="ISO week (Monday)", timeUnit="yearmonthdate")


def _lines(table: Table, columns: list[str], title: str) -> alt.Chart:
    """Median/p90 lines per week; p90 dashed."""
    import altair as alt

    present = [c for c in columns if c in table.columns]
    base = _named(alt.Chart(_data(table.records())), present)
    return base.mark_line(point=True).encode(
        x=_week_x(),
        y=alt.Y("value:Q", title=title),
        color=alt.Color("measure:N", title=None, sort=_order(present)),
        strokeDash=alt.condition("indexof(datum.measure, 'p90') >= 0",
                                 alt.value([5, 3]), alt.value([1, 0])),
        tooltip=["iso_week:N", "measure:N", alt.Tooltip("value:Q", title=HOURS),
                 "prs_merged:Q"],
    )


def cycle_time(section: Section, table: Table) -> alt.TopLevelMixin:
    import altair as alt

    if section.variant != "phases":
        return _lines(table, ["median_hours_to_merge", "p90_hours_to_merge"], "hours to merge")
    phases = ["median_coding_hours", "median_pickup_hours", "median_review_hours"]
    base = alt.Chart(_data(table.records()))
    bars = _named(base, phases).mark_bar(opacity=0.8).encode(
        x=_week_x(), y=alt.Y("value:Q", stack="zero", title=HOURS),
        color=alt.Color("measure:N", title="phase (median)", sort=_order(phases)),
        tooltip=["iso_week:N", "measure:N", alt.Tooltip("value:Q", title=HOURS),
                 "prs_merged:Q"],
    )
    lines = _lines(table, ["median_cycle_hours", "p90_cycle_hours"], HOURS).encode(
        color=alt.Color("measure:N", title="whole cycle",
                        scale=alt.Scale(range=["#222222", "#d62728"])))
    return alt.layer(bars, lines).resolve_scale(color="independent")


def first_review(section: Section, table: Table) -> alt.TopLevelMixin:
    return _lines(table, ["median_hours_to_first_review", "p90_hours_to_first_review",
                          "median_hours_to_first_response", "p90_hours_to_first_response"],
                  HOURS)


def _stacked_bars(table: Table, category: str, columns: list[str], title: str,
                  total: str) -> alt.Chart:
    """Horizontal bars, one per ``category`` value in the table's order, stacked by column."""
    import altair as alt

    order = [row[category] for row in table.records()]
    return _named(alt.Chart(_data(table.records())), columns).mark_bar().encode(
        y=alt.Y(f"{category}:N", sort=order, title=None, axis=alt.Axis(labelLimit=360)),
        x=alt.X("value:Q", stack="zero", title=title),
        color=alt.Color("measure:N", title=None, sort=_order(columns)),
        tooltip=[f"{category}:N", "measure:N", "value:Q", f"{total}:Q"],
    )


def reviews_given(section: Section, table: Table) -> alt.TopLevelMixin:
    return _stacked_bars(table, "reviewer", ["approved", "changes_requested", "commented"],
                         "reviews", "reviews")


def assignee_workload(section: Section, table: Table) -> alt.TopLevelMixin:
    return _stacked_bars(table, "assignee", ["open_ready_prs", "open_draft_prs"], "open PRs",
                         "open_prs")


def milestone_progress(section: Section, table: Table) -> alt.TopLevelMixin:
    """Bars per milestone; overdue ones carry a ⚠ in their name (and the table's flag)."""
    several_repos = len({r["repo"] for r in table.records()}) > 1
    labelled = Table(
        (*table.columns, "milestone"),
        tuple((*row, milestone_label(rec, several_repos))
              for row, rec in zip(table.rows, table.records())))
    return _stacked_bars(labelled, "milestone",
                         ["prs_open", "prs_merged", "prs_closed_unmerged"], "pull requests",
                         "prs_total")


def milestone_label(record: dict[str, Any], with_repo: bool) -> str:
    """A milestone's name on the chart: repo when several, due date, ⚠ when overdue.

    >>> milestone_label({"repo": "acme/api", "milestone_title": "v2", "due_on": "2025-03-01",
    ...                  "is_overdue": True}, with_repo=True)
    '⚠ acme/api · v2 (due 2025-03-01, overdue)'
    """
    name = f"{record['repo']} · {record['milestone_title']}" if with_repo \
        else str(record["milestone_title"])
    due = f"due {record['due_on']}" if record.get("due_on") else "no due date"
    if record.get("is_overdue"):
        return f"⚠ {name} ({due}, overdue)"
    return f"{name} ({due})"


def busiest_labels(table: Table, top: int = TOP_LABELS) -> list[str]:
    """The labels with the most PRs opened plus merged, busiest first.

    >>> t = Table(("label", "prs_opened", "prs_merged"), (("a", 1, 0), ("b", 2, 2), ("a", 1, 1)))
    >>> busiest_labels(t, top=1)
    ['b']
    """
    totals: dict[str, int] = {}
    for rec in table.records():
        totals[rec["label"]] = totals.get(rec["label"], 0) + rec["prs_opened"] + rec["prs_merged"]
    return sorted(totals, key=lambda label: (-totals[label], label))[:top]


def label_activity(section: Section, table: Table) -> alt.TopLevelMixin:
    """A heat map per measure: busiest labels × ISO week, opened above merged."""
    import altair as alt

    labels = busiest_labels(table)
    records = [r for r in table.records() if r["label"] in labels]
    columns = ["prs_opened", "prs_merged"]
    return _named(alt.Chart(_data(records)), columns).mark_rect().encode(
        x=alt.X("week_start:O", title="ISO week (Monday)", timeUnit="yearmonthdate",
                axis=alt.Axis(labelOverlap=True)),
        y=alt.Y("label:N", sort=labels, title=None),
        color=alt.Color("value:Q", title="PRs", scale=alt.Scale(scheme="blues")),
        tooltip=["label:N", "iso_week:N", "measure:N", alt.Tooltip("value:Q", title="PRs")],
    ).properties(width=FIXED_WIDTH).facet(
        row=alt.Row("measure:N", title=None, sort=_order(columns)))


BUILDERS: dict[str, Callable[[Section, Table], alt.TopLevelMixin]] = {
    "cycle_time": cycle_time,
    "first_review": first_review,
    "reviews_given": reviews_given,
    "assignee_workload": assignee_workload,
    "milestone_progress": milestone_progress,
    "label_activity": label_activity,
}


def chart_spec(section: Section) -> dict[str, Any] | None:
    """The Vega-Lite spec of a section (None when it has no numbers to draw)."""
    if section.table is None or not section.table.rows or section.key not in BUILDERS:
        return None
    chart = BUILDERS[section.key](section, section.table)
    if "facet" not in chart.to_dict(validate=False):
        chart = chart.properties(width="container", height=280)
    return chart.to_dict()
