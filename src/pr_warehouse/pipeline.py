"""The bodies of the DAG's tasks, one function per step, free of Airflow wiring.

The DAG file only connects these. Each takes plain values (the run's ``RunOptions``, built
once from the Params, and the run id) and returns something small for XCom: repo names,
manifests, a load report. Heavy imports happen inside the functions, never when the DAG
file is parsed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from pr_warehouse.config import Settings
from pr_warehouse.options import RunOptions, parse_since
from pr_warehouse.repos import (
    NoRepositories,
    check_login,
    parse_pull_request,
    project_members,
    unique_repos,
)

log = logging.getLogger(__name__)


def retry_cannot_help(exc: BaseException) -> bool:
    """A malformed name, an unknown org or project, a missing or bad token, a missing repo:
    the same input fails the same way on every try, so Airflow's retries only add delay."""
    from pr_warehouse.client.errors import GitHubError
    from pr_warehouse.repos import InvalidRepoName, NoRepositories, UnknownProject

    if isinstance(exc, GitHubError):
        return not exc.retriable
    return isinstance(exc, (InvalidRepoName, NoRepositories, UnknownProject))


@contextmanager
def fail_fast_on_bad_input() -> Iterator[None]:
    """Turn errors no retry can fix into ``AirflowFailException`` (no Airflow retries),
    the message naming the problem."""
    try:
        yield
    except Exception as exc:
        if not retry_cannot_help(exc):
            raise
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc


def require_plan(tasks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The plan's tasks; without them (``plan`` failed) fail clearly, not with a TypeError."""
    if tasks is None:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("no plan for this run: resolve_repositories or plan failed "
                                   "(see their logs); nothing was extracted or loaded")
    return tasks


def _client(settings: Settings) -> Any:
    from pr_warehouse.client import client_from_connection

    return client_from_connection(settings.github_conn_id)


def resolve_repositories(options: RunOptions, settings: Settings | None = None) -> list[str]:
    """The union of the ``repos``, ``orgs`` and ``project`` Params, validated, de-duplicated."""
    with fail_fast_on_bad_input():
        return _resolve_repositories(options, settings)


def _resolve_repositories(options: RunOptions, settings: Settings | None) -> list[str]:
    from pr_warehouse.extract.owners import owner_repositories

    settings = settings or Settings.from_env()
    repos = list(options.repos)
    orgs = [check_login(o) for o in options.orgs]
    if options.project:
        preset_repos, preset_orgs = project_members(settings.projects_file, options.project)
        repos += preset_repos
        orgs += [check_login(o) for o in preset_orgs]
    if orgs:
        with _client(settings) as client:
            for org in orgs:
                found = owner_repositories(client, org)
                log.info("org %s: %d non-archived repositories", org, len(found))
                repos += found
    resolved = unique_repos(repos)
    if not resolved and not options.pull_requests:
        raise NoRepositories(
            "nothing to sync: give the run `repos` (owner/name), `orgs`, `pull_requests` "
            "(owner/name#number) or a `project` preset "
            f"from {settings.projects_file} (orgs given: {orgs or 'none'})"
        )
    log.info("%d repositories: %s", len(resolved), ", ".join(resolved))
    return resolved


def plan(repos: list[str], options: RunOptions, run_id: str,
         settings: Settings | None = None) -> list[dict[str, Any]]:
    """Watermarks and the probe: which repositories need an extract, and from when.

    Returns the mapped extract tasks, ``[{"label", "jobs": [{"repo", "since", "numbers"}]}]``
    (what ``.expand_kwargs`` maps over); the whole plan, skipped repositories and probe
    cost included, is stored beside the run's pages for the load.
    """
    from pr_warehouse.extract.plan import batch_jobs, plan_sync, read_watermarks
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    watermarks = {} if options.reseed else read_watermarks(settings.duckdb_path, repos)
    with fail_fast_on_bad_input(), _client(settings) as client:
        sync_plan = plan_sync(client, repos, watermarks=watermarks, since=options.since,
                              full_refresh=options.reseed)
    summary = sync_plan.as_xcom()
    jobs = [{"repo": repo, "since": summary["since"][repo], "numbers": []}
            for repo in summary["repos"]]
    singles = single_pull_requests(list(options.pull_requests), repos)
    jobs += [{"repo": repo, "since": None, "numbers": numbers} for repo, numbers in singles.items()]
    summary["repos"] += list(singles)
    RawStore(settings.raw_url).write_plan(run_key_for(run_id), summary)
    return batch_jobs(jobs, settings.max_extract_tasks)


def single_pull_requests(refs: list[str], whole_repos: list[str]) -> dict[str, list[int]]:
    """PR numbers to fetch one by one, per repository not already synced whole.

    >>> single_pull_requests(["a/b#2", "a/b#2", "c/d#7", "x/y#1"], ["x/y"])
    {'a/b': [2], 'c/d': [7]}
    """
    whole = {repo.lower() for repo in whole_repos}
    singles: dict[str, list[int]] = {}
    for ref in refs:
        repo, number = parse_pull_request(ref)
        if repo.lower() not in whole and number not in singles.setdefault(repo, []):
            singles[repo].append(number)
    return {repo: numbers for repo, numbers in singles.items() if numbers}


def extract_repository(repo: str, since: str | None, options: RunOptions, run_id: str,
                       settings: Settings | None = None,
                       numbers: list[int] | None = None) -> dict[str, Any]:
    """Extract one repository from ``since`` (None: its whole history).

    >>> # extract_repository("acme/api", None, RunOptions(page_size=50), "manual__1")
    """
    job = {"repo": repo, "since": since, "numbers": numbers or []}
    return extract_jobs([job], options, run_id, settings)[0]


def extract_jobs(jobs: list[dict[str, Any]], options: RunOptions, run_id: str,
                 settings: Settings | None = None) -> list[dict[str, Any]]:
    """Extract each job's repository with one client; return their manifests.

    A repository that fails leaves a failed manifest (the load records it) and the others
    still run; the task then fails, naming them. Usually a task holds one repository; an
    org with more repositories than Airflow should map gets several per task.
    """
    from pr_warehouse.client.errors import GitHubError
    from pr_warehouse.extract.pull_requests import ExtractRequest, extract_repository as run
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    store = RawStore(settings.raw_url)
    run_key = run_key_for(run_id)
    manifests: list[dict[str, Any]] = []
    failures: list[tuple[str, Exception]] = []
    # PR ids whose events are due, per repository: fetched once all listings are in, in
    # batches shared by the task's repositories (a query costs at least 1 point).
    pending: dict[str, list[str]] = {}
    with _client(settings) as client:
        for job in jobs:
            repo = job["repo"]
            request = ExtractRequest(
                repo=repo,
                run_key=run_key,
                page_size=options.page_size,
                since=parse_since(job.get("since")),
                use_cache=options.reuse_pages,
                numbers=tuple(job.get("numbers") or ()),
            )
            started = datetime.now(timezone.utc)
            try:
                with _reschedule_on_rate_limit(repo):
                    manifest = run(client, store, request,
                                   pending_events=pending.setdefault(repo, []))
            except (GitHubError, ValueError) as exc:
                _record_failure(store, run_key, repo, exc, started)
                failures.append((repo, exc))
                continue
            manifests.append(manifest)
        if manifests:
            started = datetime.now(timezone.utc)
            try:
                with _reschedule_on_rate_limit(manifests[0]["repo"]):
                    _fetch_events_of(client, store, run_key, manifests, pending)
            except (GitHubError, ValueError) as exc:
                # Without their events the listings would be loaded short: fail them all.
                for manifest in manifests:
                    _record_failure(store, run_key, manifest["repo"], exc, started)
                    failures.append((manifest["repo"], exc))
                manifests = []
        for manifest in manifests:
            store.write_manifest(run_key, manifest["repo"], manifest)
    if failures:
        _raise_extract_failures(failures, len(jobs))
    return manifests


@contextmanager
def _reschedule_on_rate_limit(repo: str) -> Iterator[None]:
    """Sleeping for most of an hour would hold a worker slot; Airflow reschedules the task
    at the reset instead, and the stored pages make the rerun cheap."""
    from pr_warehouse.client.errors import RateLimitWait

    try:
        yield
    except RateLimitWait as wait:
        from airflow.sdk.exceptions import AirflowRescheduleException

        log.warning("%s: %s; rescheduling at %s", repo, wait, wait.reset_at.isoformat())
        raise AirflowRescheduleException(reschedule_date=wait.reset_at) from None


def _record_failure(store: Any, run_key: str, repo: str, exc: Exception,
                    started: datetime) -> None:
    log.error("%s failed: %s", repo, exc)
    store.write_manifest(run_key, repo, {
        "repo": repo, "run_key": run_key, "status": "failed", "error": str(exc),
        "error_class": type(exc).__name__, "started_at": started.isoformat(),
        "finished_at": datetime.now(timezone.utc).isoformat(), "pages": [],
    })


def _fetch_events_of(client: Any, store: Any, run_key: str, manifests: list[dict[str, Any]],
                     pending: dict[str, list[str]]) -> None:
    """Fetch the events of every extracted repository's due PRs in shared batches; the
    first repository's manifest carries the pages (and their points), the load reads each
    node's repository from the node itself."""
    from pr_warehouse.extract.pull_requests import extract_events

    ids = [node_id for m in manifests for node_id in pending.get(m["repo"], [])]
    for manifest in manifests:
        manifest["pull_requests_with_events"] = len(pending.get(manifest["repo"], []))
        manifest.setdefault("event_pages", [])
    if not ids:
        return
    anchor = manifests[0]
    fetched = extract_events(client, store, run_key, anchor["repo"], ids)
    anchor["event_pages"] = fetched["event_pages"]
    anchor["event_pages_cached"] = fetched["event_pages_cached"]
    anchor["followup_pages"] = [*anchor.get("followup_pages", []), *fetched["followup_pages"]]
    anchor["points_spent"] += fetched["points_spent"]
    anchor["requests"] += fetched["requests"]


def _raise_extract_failures(failures: list[tuple[str, Exception]], total: int) -> None:
    message = "; ".join(f"{repo}: {type(exc).__name__}: {exc}" for repo, exc in failures)
    if total > 1:
        message = f"{len(failures)} of {total} repositories failed: {message}"
    if all(retry_cannot_help(exc) for _, exc in failures):
        # Retriable classes that outlasted the client's own retries (RetriesExhausted) do
        # get Airflow's retries, resuming from the stored pages.
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(message) from failures[0][1]
    raise ExtractFailed(message) from failures[0][1]


class ExtractFailed(RuntimeError):
    """An extract failed in a way a retry may fix (the task's retries resume it)."""


def planned_repos(tasks: list[dict[str, Any]]) -> list[str]:
    """Every repository the mapped extract tasks cover, in order."""
    return [job["repo"] for task in tasks for job in task["jobs"]]


def flatten(manifests: list[list[dict[str, Any]] | None] | None) -> list[dict[str, Any]]:
    """The manifests of every mapped extract (a failed task contributes none)."""
    return [m for batch in manifests or [] if batch for m in batch if m]


def load(manifests: list[dict[str, Any]] | None, tasks: list[dict[str, Any]] | None,
         options: RunOptions, run_id: str,
         settings: Settings | None = None) -> dict[str, Any]:
    """Load the run's pages; failed and skipped repositories are recorded, not loaded."""
    from pr_warehouse.load.duckdb_loader import load_manifests
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    store = RawStore(settings.raw_url)
    run_key = run_key_for(run_id)
    repos = planned_repos(require_plan(tasks))
    sync_plan = store.read_plan(run_key) or {"repos": repos, "skipped": []}
    got = {m["repo"]: m for m in manifests or []}
    for repo in repos:
        # A failed task returns no XCom: its repositories' manifests are in the store.
        if repo not in got:
            got[repo] = store.read_manifest(run_key, repo) or {
                "repo": repo, "status": "failed", "pages": [],
                "error": "the extract left no manifest (it never finished)"}
    skipped = [{"repo": r, "status": "skipped", "pages": []} for r in sync_plan["skipped"]]
    report = load_manifests(
        settings.duckdb_path, store, [got[r] for r in repos] + skipped, run_id=run_id,
        clear_repos=repos + list(sync_plan["skipped"]) if options.clear else None,
        plan=sync_plan, memory_limit=settings.duckdb_memory_limit,
    )
    if report.corrupt_pages:
        # The good pages are committed; these need a fresh fetch, which retrying this
        # load cannot give, so fail without Airflow's retries.
        from airflow.sdk.exceptions import AirflowFailException

        listed = "\n".join(f"{key}: {why}" for key, why in sorted(report.corrupt_pages.items()))
        raise AirflowFailException(
            f"{len(report.corrupt_pages)} corrupt raw page(s) were not loaded (every other page "
            f"was); rerun the affected repositories with use_cache=false:\n{listed}")
    return report.as_dict()


def transform(as_of: datetime | None, options: RunOptions | None = None,
              settings: Settings | None = None) -> str:
    """``dbt build`` (models and data tests); ``as_of`` anchors ages to the run, not wall clock.

    Incremental models rebuild only the PRs loaded since their last build; the
    ``full_refresh`` Param rebuilds every model from scratch (``--full-refresh``), and so
    does the first run after an incremental model's columns changed (a new version of
    the dbt project), which an incremental build cannot apply to the rows it keeps.
    """
    from pr_warehouse.transform.dbt import DbtFailed, build_args, run_dbt

    settings = settings or Settings.from_env()
    variables = {"as_of": (as_of or datetime.now(timezone.utc)).isoformat()}
    full_refresh = bool(options and options.full_refresh)
    try:
        run_dbt(settings, build_args(full_refresh), variables)
    except DbtFailed as exc:
        if full_refresh or not exc.schema_changed:
            raise
        log.warning("an incremental model's columns changed since its table was built: "
                    "rebuilding every model with --full-refresh")
        run_dbt(settings, build_args(full_refresh=True), variables)
    return str(settings.duckdb_path)


def publish(settings: Settings | None = None) -> str:
    """Publish the read-only snapshot analysts open."""
    from pr_warehouse.publish.snapshot import publish_snapshot

    settings = settings or Settings.from_env()
    return str(publish_snapshot(settings.duckdb_path, settings.snapshot_path))


def report(snapshot: str, run_id: str, settings: Settings | None = None) -> str:
    """Write the run's self-contained HTML report beside its raw pages; return its URL."""
    from pathlib import Path

    from pr_warehouse.constants import REPORT_FILE_NAME
    from pr_warehouse.report import Filters, build_report, render_html
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    html = render_html(build_report(Path(snapshot), Filters()))
    store = RawStore(settings.raw_url)
    key = f"runs/{run_key_for(run_id)}/{REPORT_FILE_NAME}"
    store.write_atomic(key, html.encode())
    url = str(store.path(key))
    log.info("report of run %s: %s", run_id, url)
    return url


class RepositoriesFailed(RuntimeError):
    """Some repositories' extracts failed; the others were loaded."""


def check_extracts(tasks: list[dict[str, Any]] | None, manifests: list[dict[str, Any]] | None,
                   run_id: str, settings: Settings | None = None) -> dict[str, Any]:
    """Fail the run, naming each repository whose extract failed and why."""
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    repos = planned_repos(require_plan(tasks))
    done = {m["repo"] for m in manifests or [] if m.get("status") == "success"}
    missing = [r for r in repos if r not in done]
    if not missing:
        return {"repos": len(repos), "failed": 0}
    store, run_key = RawStore(settings.raw_url), run_key_for(run_id)
    reasons = [f"{r}: {(store.read_manifest(run_key, r) or {}).get('error', 'no manifest')}"
               for r in missing]
    raise RepositoriesFailed(f"{len(missing)} of {len(repos)} repositories failed (the others "
                         "were loaded):\n" + "\n".join(reasons))
