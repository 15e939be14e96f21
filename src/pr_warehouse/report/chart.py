"""One chart of the page as one unit: what it asks, what it reads, its query and its drawing.

A :class:`Chart` says which facts or marts (and which of their columns) it reads, computes
its :class:`~pr_warehouse.report.data.Table` from the snapshot under the page's filters, and
draws that table as a Vega-Lite spec. The charts themselves live in
``pr_warehouse.report.charts`` (one module each), listed once, in page order.

Running a chart on a snapshot gives a :class:`Section`: its table, or why it has none (the
snapshot lacks what it reads: an older version built it; or its query failed). Either way
only that chart is affected.

>>> from pr_warehouse.report.data import Filters, Table
>>> def draw(table):
...     import altair as alt
...     return alt.Chart(alt.Data(values=table.records())).mark_bar().encode(x="n:Q")
>>> demo = Chart("demo", "Demo", "How many?", reads={"analytics.mart_x": ("n",)},
...              query=lambda snap, filters: Table(("n",), ((1,),)), draw=draw)
>>> demo.source
'analytics.mart_x'
>>> spec = demo.spec(Table(("n",), ((3,),)))
>>> spec["mark"]["type"], spec["data"]["values"], spec["width"]
('bar', [{'n': 3}], 'container')
>>> demo.spec(Table(("n",), ())) is None  # nothing to draw
True
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pr_warehouse.report.data import Filters, Snapshot, Table, older_snapshot

if TYPE_CHECKING:
    import altair as alt

log = logging.getLogger(__name__)

# A chart's height on the page (faceted charts size themselves).
HEIGHT = 280
# Bars beyond this many reviewers or assignees are unreadable; the table has them all.
TOP_PEOPLE = 25


@dataclass(frozen=True)
class Chart:
    """One chart: its words, the relations and columns it reads, its query and its drawing.

    ``key`` names the chart's section on the page and its CSV download; ``wide`` makes it
    span the page's grid. ``draw`` None: the unit is a list (its table is what it shows).
    ``delivery``: it reads models the delivery step builds (CI checks, deployments); a
    snapshot without them says "not collected yet" rather than "rebuild".
    """

    key: str
    title: str
    question: str
    reads: Mapping[str, tuple[str, ...]]
    query: Callable[[Snapshot, Filters], Table]
    draw: Callable[[Table], alt.TopLevelMixin] | None
    notes: tuple[str, ...] = ()
    wide: bool = False
    delivery: bool = False

    @property
    def source(self) -> str:
        """The relations it reads, for the page's "Source:" line."""
        return ", ".join(self.reads)

    @property
    def model(self) -> str:
        """The model whose documentation defines what it shows (the first it reads)."""
        return model_name(next(iter(self.reads)))

    def section(self, snap: Snapshot, filters: Filters) -> Section:
        """This chart's numbers in ``snap`` under ``filters``, or why there are none."""
        import duckdb

        lacking = snap.lacking(self.reads)
        if lacking:
            return Section(self, missing=(not_collected(lacking) if self.delivery
                                          else older_snapshot(lacking)))
        try:
            return Section(self, table=self.query(snap, filters))
        except duckdb.Error as exc:  # e.g. a column whose type changed: this chart only
            log.warning("chart %s failed: %s", self.key, exc)
            return Section(self, missing=f"No data: the query failed ({type(exc).__name__}: "
                                         f"{exc}).")

    def spec(self, table: Table, *, validate: bool = False) -> dict[str, Any] | None:
        """The Vega-Lite spec of ``table`` (None when it has no rows to draw).

        Checked against Vega-Lite's schema only when ``validate`` is true, as the tests do
        for every chart: on a page load Altair's checks (each object as it is built, the
        whole spec at the end) cost more than every query of the page together (0.7 s of
        1.2 s at 1M PRs), and the specs differ only in their data from one load to the next.
        """
        if not table.rows or self.draw is None:
            return None
        import altair as alt
        from altair.utils.schemapi import debug_mode

        with debug_mode(validate):
            chart = self.draw(table)
            # A facet or a concatenation sizes its parts itself.
            if not isinstance(chart, (alt.FacetChart, alt.HConcatChart, alt.VConcatChart)):
                chart = chart.properties(width="container", height=HEIGHT)
            return chart.to_dict(validate=validate)


def model_name(relation: str) -> str:
    """``analytics.fct_x`` -> ``fct_x``.

    >>> model_name("analytics.mart_team_weekly")
    'mart_team_weekly'
    """
    return relation.rsplit(".", 1)[-1]


def not_collected(lacking: list[str]) -> str:
    """What a delivery chart or tile says before the delivery models exist.

    >>> not_collected(["analytics.fct_deployments"])
    'Not collected yet: this warehouse has no analytics.fct_deployments (CI checks and deployments are collected by the delivery step).'
    """
    return (f"Not collected yet: this warehouse has no {', '.join(lacking)} (CI checks and "
            "deployments are collected by the delivery step).")


@dataclass(frozen=True)
class Section:
    """A chart run on one snapshot: its table, or ``missing`` saying why it has none."""

    chart: Chart
    table: Table | None = None
    missing: str | None = None

    @property
    def key(self) -> str:
        return self.chart.key

    @property
    def title(self) -> str:
        return self.chart.title

    @property
    def question(self) -> str:
        return self.chart.question

    @property
    def notes(self) -> tuple[str, ...]:
        return self.chart.notes

    @property
    def source(self) -> str:
        return self.chart.source

    @property
    def wide(self) -> bool:
        return self.chart.wide

    @property
    def model(self) -> str:
        return self.chart.model

    @property
    def is_list(self) -> bool:
        return self.chart.draw is None

    def spec(self) -> dict[str, Any] | None:
        """The chart's Vega-Lite spec of this section's table (None: nothing to draw)."""
        return None if self.table is None else self.chart.spec(self.table)
