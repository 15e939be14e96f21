"""The "PR analytics" page and the "Warehouse docs" in Airflow's UI: the apps live in
``pr_warehouse.report.app``.

Airflow's API server mounts the page at ``/pr-analytics`` and the dbt docs at
``/warehouse-docs``; their navigation entries embed them in the UI at
``/plugin/pr-analytics`` and ``/plugin/warehouse-docs``.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from pr_warehouse.constants import (
    ANALYTICS_UI_ROUTE,
    ANALYTICS_URL_PREFIX,
    ANALYTICS_VIEW_NAME,
    DOCS_UI_ROUTE,
    DOCS_URL_PREFIX,
    DOCS_VIEW_NAME,
)
from pr_warehouse.report.app import create_app, create_docs_app


class PrAnalyticsPlugin(AirflowPlugin):
    """Headline figures, what waits on whom and charts of the marts, from the snapshot;
    and the definitions of every model beside them."""

    name = "pr_analytics"
    fastapi_apps = [{"app": create_app(), "url_prefix": ANALYTICS_URL_PREFIX,
                     "name": ANALYTICS_VIEW_NAME},
                    {"app": create_docs_app(), "url_prefix": DOCS_URL_PREFIX,
                     "name": DOCS_VIEW_NAME}]
    # Each its own button in the navigation bar, not inside "Plugins".
    external_views = [{"name": ANALYTICS_VIEW_NAME, "href": f"{ANALYTICS_URL_PREFIX}/",
                       "destination": "nav", "url_route": ANALYTICS_UI_ROUTE,
                       "nav_top_level": True},
                      {"name": DOCS_VIEW_NAME, "href": f"{DOCS_URL_PREFIX}/",
                       "destination": "nav", "url_route": DOCS_UI_ROUTE,
                       "nav_top_level": True}]
