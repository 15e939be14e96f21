"""Reporting: the last step of the data flow, the marts as charts people can look at.

The same charts serve two readers:

* the **PR analytics** page inside Airflow's UI (``app.py``, mounted by the plugin in
  ``plugins/``), which reads the read-only snapshot on every request, with filters;
* one self-contained **HTML report per run** (``render.py``), written by the DAG's
  ``report`` task next to the run's raw pages, and by ``make report``.

Each chart is one unit, a module of ``charts/`` (its query on a fact or mart, its
Vega-Altair drawing, its words; :class:`~pr_warehouse.report.chart.Chart`), listed once in
``charts.CHARTS``. ``data.py`` reads the snapshot (filters, tables, what it holds),
``vega.py`` holds the drawing the charts share, ``build.py`` runs every chart into a
:class:`Report`, ``render.py`` lays it out as HTML. A snapshot lacking a model or column a
chart reads was built by an older version: that chart says to rebuild it.

Example::

    from pr_warehouse.report import Filters, build_report, render_html
    html = render_html(build_report(Path("data/warehouse.snapshot.duckdb"), Filters()))
"""

from __future__ import annotations

from pr_warehouse.report.build import Report, build_report
from pr_warehouse.report.data import Filters
from pr_warehouse.report.render import render_html

__all__ = ["Filters", "Report", "build_report", "render_html"]
