"""Reporting: the last step of the data flow, the marts as charts people can look at.

The same charts serve two readers:

* the **PR analytics** page inside Airflow's UI (``app.py``, mounted by the plugin in
  ``plugins/``), which reads the read-only snapshot on every request, with filters;
* one self-contained **HTML report per run** (``render.py``), written by the DAG's
  ``report`` task next to the run's raw pages, and by ``make report``.

``data.py`` holds the queries (one function per chart, each saying what to show when its
mart is missing), ``charts.py`` turns their tables into Vega-Lite specs with Vega-Altair,
``render.py`` lays them out as HTML.

Example::

    from pr_warehouse.report import Filters, build_report, render_html
    html = render_html(build_report(Path("data/warehouse.snapshot.duckdb"), Filters()))
"""

from __future__ import annotations

from pr_warehouse.report.data import Filters, Report, build_report
from pr_warehouse.report.render import render_html

__all__ = ["Filters", "Report", "build_report", "render_html"]
