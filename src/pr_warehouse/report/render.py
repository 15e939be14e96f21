"""A :class:`Report` as one HTML document: the Airflow page and the per-run report alike.

The page (``interactive=True``) carries the filter form and loads Vega's JavaScript from
the plugin itself (``script_src``); the report inlines that JavaScript, its CSVs and its
specs, so the file opens anywhere, offline: no script, font or style from the internet.
Vega's JavaScript comes from ``vl-convert-python``, which ships it in its wheel.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
from functools import lru_cache
from typing import Any

from pr_warehouse.report.build import Report
from pr_warehouse.report.chart import Section

log = logging.getLogger(__name__)

TITLE = "PR analytics"


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script (~0.9 MB), matching Altair's Vega-Lite;
    it defines ``window.vegaEmbed``.

    vl-convert builds it in ~1.8 s of CPU, the same script for as long as the same versions
    are installed: it is kept in the cache folder (``PR_WAREHOUSE_CACHE_DIR``), so a report
    task or a page's process reads it instead. A folder it cannot write to only costs the
    build.
    """
    from importlib.metadata import version

    import altair as alt

    from pr_warehouse.config import Settings

    wanted = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]  # "v6.4.1" -> "6.4"
    cached = Settings.from_env().cache_dir / bundle_file_name(version("vl-convert-python"), wanted)
    try:
        bundle = cached.read_text(encoding="utf-8")
        if bundle:
            return bundle
    except OSError:
        pass
    import vl_convert as vlc

    vl_version = wanted if wanted in vlc.get_vegalite_versions() else None
    # A "</script" inside would end the inline <script> early.
    bundle = vlc.javascript_bundle(vl_version=vl_version).replace("</script", "<\\/script")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        # Renamed into place: a process reading it never sees half a script.
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.partial")
        partial.write_text(bundle, encoding="utf-8")
        os.replace(partial, cached)
    except OSError as exc:
        log.info("the Vega script is not cached (%s): built again by the next process", exc)
    return bundle


def bundle_file_name(vl_convert_version: str, vega_lite_version: str) -> str:
    """The cached script's name: one per vl-convert and Vega-Lite version.

    >>> bundle_file_name("1.8.0", "6.4")
    'vega-bundle-vl-convert-1.8.0-vega-lite-6.4.js'
    """
    return f"vega-bundle-vl-convert-{vl_convert_version}-vega-lite-{vega_lite_version}.js"


def script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``<``, ``>`` or ``&`` left to parse).

    >>> script_json({"a": "</script>"})
    '{"a": "\\\\u003c/script\\\\u003e"}'
    """
    return (json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def csv_href(section: Section) -> str:
    """A ``data:`` URL holding the section's CSV: a download that needs no server.

    >>> from pr_warehouse.report.charts import CHARTS
    >>> from pr_warehouse.report.data import Table
    >>> csv_href(Section(CHARTS[0], table=Table(("a",), ((1,),))))
    'data:text/csv;charset=utf-8,a%0A1%0A'
    """
    assert section.table is not None
    return "data:text/csv;charset=utf-8," + urllib.parse.quote(section.table.to_csv())


def cell(value: Any) -> str:
    """How a value reads in a table cell.

    >>> cell(None), cell(True), cell(False), cell(12.5), cell(3)
    ('–', 'yes', 'no', '12.5', '3')
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@lru_cache(maxsize=1)
def _template() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pr_warehouse.report", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["cell"] = cell
    env.filters["script_json"] = lambda v: jinja2.utils.markupsafe.Markup(script_json(v))
    env.filters["csv_href"] = csv_href
    return env.get_template("page.html")


def render_html(report: Report, *, script_src: str | None = None,
                interactive: bool = False, docs_href: str | None = None) -> str:
    """The report as HTML. ``script_src``: where the page loads Vega from; None inlines it.
    ``docs_href``: where the warehouse's dbt docs are served (each tile and chart links to
    its model there); None names the model instead.

    >>> from pathlib import Path
    >>> from pr_warehouse.report.data import Filters
    >>> html = render_html(Report(Filters(), "/x.duckdb", empty="No sync has finished yet"),
    ...                    script_src="vega.js")
    >>> "No sync has finished yet" in html, "<svg" in html
    (True, False)
    """
    from markupsafe import Markup

    charts = [(section, section.spec()) for section in report.sections]
    inline = None if script_src or report.empty else Markup(vega_bundle())
    return _template().render(title=TITLE, report=report, charts=charts, script_src=script_src,
                              inline_script=inline, interactive=interactive,
                              docs_href=docs_href)
