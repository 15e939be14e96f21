"""The bodies of the DAG's tasks, one function per step, free of Airflow wiring.

The DAG file only connects these. Each takes plain values (Params, the run id) and
returns something small for XCom: repo names, manifests, a load report. Heavy imports
happen inside the functions, never when the DAG file is parsed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from pr_warehouse.config import Settings
from pr_warehouse.repos import (
    NoRepositories,
    check_login,
    project_members,
    unique_repos,
)

log = logging.getLogger(__name__)


def _client(settings: Settings) -> Any:
    from pr_warehouse.client import client_from_connection

    return client_from_connection(settings.github_conn_id)


def resolve_repositories(params: Mapping[str, Any], settings: Settings | None = None) -> list[str]:
    """The union of the ``repos``, ``orgs`` and ``project`` Params, validated, de-duplicated."""
    from pr_warehouse.extract.owners import owner_repositories

    settings = settings or Settings.from_env()
    repos = list(params.get("repos") or [])
    orgs = [check_login(o) for o in params.get("orgs") or []]
    if params.get("project"):
        preset_repos, preset_orgs = project_members(settings.projects_file, params["project"])
        repos += preset_repos
        orgs += [check_login(o) for o in preset_orgs]
    if orgs:
        with _client(settings) as client:
            for org in orgs:
                found = owner_repositories(client, org)
                log.info("org %s: %d non-archived repositories", org, len(found))
                repos += found
    resolved = unique_repos(repos)
    if not resolved:
        raise NoRepositories(
            "nothing to sync: give the run `repos` (owner/name), `orgs`, or a `project` preset "
            f"from {settings.projects_file} (orgs given: {orgs or 'none'})"
        )
    log.info("%d repositories: %s", len(resolved), ", ".join(resolved))
    return resolved


def parse_since(value: str | None) -> datetime | None:
    """The ``since`` Param: an ISO date or datetime, or empty.

    >>> parse_since("2026-01-02")
    datetime.datetime(2026, 1, 2, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_since("") is None
    True
    """
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def extract_repository(repo: str, params: Mapping[str, Any], run_id: str,
                       settings: Settings | None = None) -> dict[str, Any]:
    """Extract one repository; on failure leave a failed manifest and re-raise."""
    from pr_warehouse.client.errors import GitHubError, RateLimitWait
    from pr_warehouse.extract.pull_requests import ExtractRequest, extract_repository as run
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    store = RawStore(settings.raw_url)
    run_key = run_key_for(run_id)
    request = ExtractRequest(
        repo=repo,
        run_key=run_key,
        page_size=int(params.get("page_size") or 50),
        since=None if params.get("full_refresh") else parse_since(params.get("since")),
        use_cache=bool(params.get("use_cache", True)) and not params.get("full_refresh"),
    )
    started = datetime.now(timezone.utc)
    try:
        with _client(settings) as client:
            manifest = run(client, store, request)
    except RateLimitWait as wait:
        # Sleeping for most of an hour would hold a worker slot; Airflow reschedules the
        # task at the reset time and the stored pages let it resume where it stopped.
        from airflow.sdk.exceptions import AirflowRescheduleException

        log.warning("%s: %s; rescheduling at %s", repo, wait, wait.reset_at.isoformat())
        raise AirflowRescheduleException(reschedule_date=wait.reset_at) from None
    except (GitHubError, ValueError) as exc:
        store.write_manifest(run_key, repo, {
            "repo": repo, "run_key": run_key, "status": "failed", "error": str(exc),
            "error_class": type(exc).__name__, "started_at": started.isoformat(),
            "finished_at": datetime.now(timezone.utc).isoformat(), "pages": [],
        })
        raise
    store.write_manifest(run_key, repo, manifest)
    return manifest


def load(manifests: list[dict[str, Any]] | None, repos: list[str], params: Mapping[str, Any],
         run_id: str, settings: Settings | None = None) -> dict[str, Any]:
    """Load the run's pages; repos whose extract failed are recorded, not loaded."""
    from pr_warehouse.load.duckdb_loader import load_manifests
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    store = RawStore(settings.raw_url)
    run_key = run_key_for(run_id)
    got = {m["repo"]: m for m in manifests or [] if m}
    for stored in store.manifests(run_key):
        got.setdefault(stored["repo"], stored)
    for repo in repos:
        got.setdefault(repo, {"repo": repo, "status": "failed", "pages": [],
                              "error": "the extract left no manifest (it never finished)"})
    report = load_manifests(
        settings.duckdb_path, store, [got[r] for r in repos if r in got],
        run_id=run_id, clear_repos=repos if params.get("clear") else None,
    )
    return report.as_dict()


def transform(as_of: datetime | None, settings: Settings | None = None) -> str:
    """``dbt build`` (models and tests); ``as_of`` anchors ages to the run, not wall clock."""
    from pr_warehouse.transform.dbt import run_dbt

    settings = settings or Settings.from_env()
    as_of = as_of or datetime.now(timezone.utc)
    run_dbt(settings, ["build"], {"as_of": as_of.isoformat()})
    return str(settings.duckdb_path)


def publish(settings: Settings | None = None) -> str:
    """Publish the read-only snapshot analysts open."""
    from pr_warehouse.transform.dbt import publish_snapshot

    settings = settings or Settings.from_env()
    return str(publish_snapshot(settings.duckdb_path, settings.snapshot_path))


class ExtractsFailed(RuntimeError):
    """Some repositories' extracts failed; the others were loaded."""


def check_extracts(repos: list[str], manifests: list[dict[str, Any]] | None, run_id: str,
                   settings: Settings | None = None) -> dict[str, Any]:
    """Fail the run, naming each repository whose extract failed and why."""
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    done = {m["repo"] for m in manifests or [] if m and m.get("status") == "success"}
    missing = [r for r in repos if r not in done]
    if not missing:
        return {"repos": len(repos), "failed": 0}
    stored = {m["repo"]: m for m in RawStore(settings.raw_url).manifests(run_key_for(run_id))}
    reasons = [f"{r}: {stored.get(r, {}).get('error', 'no manifest')}" for r in missing]
    raise ExtractsFailed(f"{len(missing)} of {len(repos)} repositories failed (the others "
                         "were loaded):\n" + "\n".join(reasons))
