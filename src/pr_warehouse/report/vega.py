"""The drawing shared by the charts: Vega-Altair building blocks over a Table.

A spec is plain JSON with its numbers inlined (``alt.Data(values=...)``): the page and the
report embed it as is and Vega renders it in the browser, offline. Nothing here touches
the snapshot; every function is pure (a Table in, an Altair chart out).

Charts fold several columns into one ``measure`` series; each chart passes its columns
with their readable names, in the order the legend lists them (``{column: name}``).

>>> from pr_warehouse.report.data import Table
>>> table = Table(("reviewer", "approved", "commented", "reviews"), (("ana", 2, 1, 3),))
>>> bars = stacked_bars(table, "reviewer", {"approved": "approved", "commented": "commented"},
...                     "reviews", total="reviews").to_dict()
>>> bars["mark"]["type"], bars["encoding"]["x"]["stack"]
('bar', 'zero')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pr_warehouse.report.data import Table

if TYPE_CHECKING:
    import altair as alt

HOURS = "hours"
# Faceted charts cannot follow the container's width.
FIXED_WIDTH = 720


def tooltips(*fields: str | alt.Tooltip) -> list[alt.Tooltip]:
    """Tooltip channels, a shorthand string (``"reviews:Q"``) made ``alt.Tooltip``.

    Every channel is passed to ``encode`` as its object, never as a bare string or dict
    (a condition goes in its value class: ``alt.FillValue(**alt.condition(...))``): Altair
    finds the channel class of a string or dict by hashing each class of its schema
    (~2.5 ms a string, ~20 ms a condition; most of a page's drawing time), and an object
    needs none of that. The spec is the same.

    >>> [t.to_dict() for t in tooltips("reviews:Q")]
    [{'field': 'reviews', 'type': 'quantitative'}]
    """
    import altair as alt

    return [alt.Tooltip(field) if isinstance(field, str) else field for field in fields]


def data(records: list[dict[str, Any]]) -> alt.Data:
    """The rows inlined in the spec (no URL to fetch: the report opens offline)."""
    import altair as alt

    return alt.Data(values=records)


def js(text: str) -> str:
    """A string literal in Vega's expression language (JavaScript's syntax).

    >>> print(js('say "hi"'))
    "say \\"hi\\""
    """
    return json.dumps(text)


def named(base: alt.Chart, names: Mapping[str, str]) -> alt.Chart:
    """``base`` with the columns of ``names`` folded into ``value``, each row's readable
    column name in ``measure``."""
    expr = " : ".join(f"datum.measure_column === {js(c)} ? {js(n)}" for c, n in names.items())
    return (base.transform_fold(list(names), as_=["measure_column", "value"])
            .transform_calculate(measure=f"{expr} : datum.measure_column"))


# A median over fewer PRs than this is drawn hollow: it says little.
FEW_PRS = 5


def grain_of(table: Table) -> str:
    """``week`` or ``month``, from the table's period columns.

    >>> grain_of(Table(("month_start", "month", "n"), ()))
    'month'
    """
    return "week" if "week_start" in table.columns else "month"


def period_x(table: Table) -> alt.X:
    """The period (ISO week's Monday, or month) on the x axis."""
    import altair as alt

    if grain_of(table) == "week":
        return alt.X("week_start:T", title="ISO week (Monday)", timeUnit="yearmonthdate")
    return alt.X("month_start:T", title="month", timeUnit="yearmonth")


def week_x() -> alt.X:
    """The ISO week (its Monday) on the x axis."""
    import altair as alt

    return alt.X("week_start:T", title="ISO week (Monday)", timeUnit="yearmonthdate")


def lines(table: Table, names: Mapping[str, str], title: str,
          count: str = "prs_merged") -> alt.TopLevelMixin:
    """Median/p90 hours per period, one line per column of ``names``; p90 dashed. Each
    point's tooltip says how many PRs it rests on (``count``); fewer than
    :data:`FEW_PRS`: the point is hollow."""
    import altair as alt

    label = "iso_week" if grain_of(table) == "week" else "month"
    base = named(alt.Chart(data(table.records())), names)
    color = alt.Color("measure:N", title=None, sort=list(names.values()))
    line = base.mark_line().encode(
        x=period_x(table), y=alt.Y("value:Q", title=title), color=color,
        strokeDash=alt.StrokeDashValue(**alt.condition("indexof(datum.measure, 'p90') >= 0",
                                                       alt.value([5, 3]), alt.value([1, 0]))))
    points = base.mark_point(size=45, strokeWidth=1.5, opacity=1).encode(
        x=period_x(table), y=alt.Y("value:Q"), color=color,
        fill=alt.condition(f"datum.{count} < {FEW_PRS}", alt.value("white"), color),
        tooltip=tooltips(f"{label}:N", "measure:N", alt.Tooltip("value:Q", title=HOURS),
                         alt.Tooltip(f"{count}:Q", title="PRs it rests on")))
    return alt.layer(line, points)


def stacked_bars(table: Table, category: str, names: Mapping[str, str], title: str,
                 total: str) -> alt.Chart:
    """Horizontal bars, one per ``category`` value in the table's order, stacked by the
    columns of ``names``; ``total`` is the column the tooltip adds."""
    import altair as alt

    order = [row[category] for row in table.records()]
    return named(alt.Chart(data(table.records())), names).mark_bar().encode(
        y=alt.Y(f"{category}:N", sort=order, title=None, axis=alt.Axis(labelLimit=360)),
        x=alt.X("value:Q", stack="zero", title=title),
        color=alt.Color("measure:N", title=None, sort=list(names.values())),
        tooltip=tooltips(f"{category}:N", "measure:N", "value:Q", f"{total}:Q"),
    )
