"""The PR analytics page: a FastAPI app that Airflow's API server mounts (see ``plugins/``).

``GET /`` renders the charts from the read-only snapshot for the filters in the query
string (``repo``, ``since``, ``until``, ``bots``); ``GET /static/vega.js`` serves Vega's
JavaScript from the installed package, so the page needs nothing from the internet. Each
request opens the snapshot read-only and closes it: the DAG's publish replaces the file by
an atomic rename and is never blocked.

Inside Airflow the page asks for a signed-in user (the UI's session cookie, as Airflow's
own API does); ``create_app(require_login=False)`` serves it without (tests, previews).

Example::

    uvicorn --factory pr_warehouse.report.app:create_app
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from pr_warehouse.config import Settings

log = logging.getLogger(__name__)

# Vega's script changes only with the installed package: let browsers keep it a day.
SCRIPT_CACHE_SECONDS = 86_400


def _login_required() -> list[Any]:
    """Airflow's own check that the caller is signed in (only inside its API server)."""
    from airflow.api_fastapi.core_api.security import requires_authenticated

    return [Depends(requires_authenticated())]


def create_app(settings: Callable[[], Settings] = Settings.from_env,
               require_login: bool = True) -> FastAPI:
    """The page's app; ``settings`` is read per request (the snapshot path may change)."""
    app = FastAPI(title="PR analytics", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=_login_required() if require_login else [])

    @app.get("/", response_class=HTMLResponse)
    def page(request: Request, repo: str | None = None, since: str | None = None,
             until: str | None = None, bots: str | None = None) -> HTMLResponse:
        # A plain (sync) handler: FastAPI runs it in a worker thread, so the DuckDB queries
        # never stall the API server's event loop.
        from pr_warehouse.report import Filters, build_report, render_html

        filters = Filters.from_query(repo, since, until, bots)
        report = build_report(settings().snapshot_path, filters)
        script = f"{request.scope.get('root_path', '')}/static/vega.js"
        return HTMLResponse(render_html(report, script_src=script, interactive=True))

    @app.get("/static/vega.js")
    def vega_script() -> Response:
        from pr_warehouse.report.render import vega_bundle

        return Response(vega_bundle(), media_type="text/javascript",
                        headers={"Cache-Control": f"max-age={SCRIPT_CACHE_SECONDS}"})

    return app
