"""The "PR analytics" page in Airflow's UI: the app lives in ``pr_warehouse.report.app``.

Airflow's API server mounts the FastAPI app at ``/pr-analytics``; the navigation entry
embeds it in the UI at ``/plugin/pr-analytics``.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from pr_warehouse.constants import (
    ANALYTICS_UI_ROUTE,
    ANALYTICS_URL_PREFIX,
    ANALYTICS_VIEW_NAME,
)
from pr_warehouse.report.app import create_app


class PrAnalyticsPlugin(AirflowPlugin):
    """Charts of the marts (cycle time, review load, milestones, labels) from the snapshot."""

    name = "pr_analytics"
    fastapi_apps = [{"app": create_app(), "url_prefix": ANALYTICS_URL_PREFIX,
                     "name": ANALYTICS_VIEW_NAME}]
    external_views = [{"name": ANALYTICS_VIEW_NAME, "href": f"{ANALYTICS_URL_PREFIX}/",
                       "destination": "nav", "url_route": ANALYTICS_UI_ROUTE,
                       # its own button in the navigation bar, not inside "Plugins"
                       "nav_top_level": True}]
