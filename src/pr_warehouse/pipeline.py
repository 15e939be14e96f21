"""The bodies of the DAG's tasks, one function per step, free of Airflow wiring.

The DAG file only connects these, and every task body goes through here. Each takes the
run's ``RunOptions`` (built once from the Params), the run id and the typed hand-offs of
:mod:`pr_warehouse.contracts` (batches, manifests, the load's result), and returns one; the
DAG turns them into XCom's JSON at the task boundary (``to_json`` / ``from_json``). Heavy
imports happen inside the functions, never when the DAG file is parsed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pr_warehouse.config import Settings
from pr_warehouse.contracts import (
    ExtractBatch,
    LoadResult,
    Manifest,
    SyncPlan,
    TeamsManifest,
    planned_repos,
)
from pr_warehouse.options import RunOptions
from pr_warehouse.repos import (
    NoRepositories,
    check_login,
    parse_pull_request,
    project_members,
    unique_repos,
)

if TYPE_CHECKING:
    from pr_warehouse.storage import RawStore

log = logging.getLogger(__name__)


def retry_cannot_help(exc: BaseException) -> bool:
    """A malformed name, an unknown org or project, a missing or bad token, a missing repo:
    the same input fails the same way on every try, so Airflow's retries only add delay."""
    from pr_warehouse.client.errors import GitHubError
    from pr_warehouse.repos import InvalidRepoName, NoRepositories, UnknownProject

    from pr_warehouse.extract.teams import InvalidTeamsFile

    if isinstance(exc, GitHubError):
        return not exc.retriable
    return isinstance(exc, (InvalidRepoName, NoRepositories, UnknownProject, InvalidTeamsFile))


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


def require_plan(batches: list[ExtractBatch] | None) -> list[ExtractBatch]:
    """The plan's batches; without them (``plan`` failed) fail clearly, not with a TypeError."""
    if batches is None:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("no plan for this run: resolve_repositories or plan failed "
                                   "(see their logs); nothing was extracted or loaded")
    return batches


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
         settings: Settings | None = None) -> list[ExtractBatch]:
    """Watermarks and the probe: which repositories need an extract, and from when.

    Returns the mapped extract tasks' batches; the whole plan (skipped repositories and
    probe cost included) is stored beside the run's pages for the load.
    """
    from pr_warehouse.extract.deployments import stored_deploy_instants, with_deploy_watermarks
    from pr_warehouse.extract.plan import batch_jobs, expected_pages, plan_sync, read_watermarks
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    watermarks = {} if options.reseed else read_watermarks(settings.duckdb_path, repos)
    stored_deploys = stored_deploy_instants(settings.duckdb_path)
    watermarks = with_deploy_watermarks(watermarks, stored_deploys)
    with fail_fast_on_bad_input(), _client(settings) as client:
        sync_plan = plan_sync(client, repos, watermarks=watermarks, since=options.since,
                              full_refresh=options.reseed, stored_deploys=stored_deploys)
    singles = single_pull_requests(list(options.pull_requests), repos)
    sync_plan.singles = {repo: tuple(numbers) for repo, numbers in singles.items()}
    RawStore(settings.raw_url).write_plan(run_key_for(run_id), sync_plan)
    pages = {repo: expected_pages(size, options.page_size)
             for repo, size in sync_plan.sizes.items()}
    return batch_jobs(sync_plan.jobs(), settings.max_extract_tasks, pages,
                      settings.extract_tasks_target)


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


def extract(batch: ExtractBatch, options: RunOptions, run_id: str,
            settings: Settings | None = None) -> list[Manifest]:
    """Extract each repository of one mapped task's batch with one client; their manifests.

    A repository that fails leaves a failed manifest (the load records it) and the others
    still run; the task then fails, naming them. Usually a batch holds one repository; an
    org with more repositories than Airflow should map gets several per task, and their
    events are then fetched in queries they share (a query costs at least 1 point).
    """
    from pr_warehouse.client.errors import GitHubError
    from pr_warehouse.extract.checks import fetch_batch_checks, unsettled_checks, with_rechecks
    from pr_warehouse.extract.deployments import add_deployments
    from pr_warehouse.extract.pull_requests import (
        ExtractRequest,
        events_folder,
        extract_repository,
        fetch_batch_events,
    )
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    store = RawStore(settings.raw_url)
    run_key = run_key_for(run_id)
    folder = events_folder(batch)
    if not options.reuse_pages and folder not in batch.repos:
        store.delete_folder_run(run_key, folder)
    manifests: list[Manifest] = []
    failures: list[tuple[str, Exception]] = []
    # PR ids whose events are due, per repository: fetched once all listings are in.
    due: dict[str, list[str]] = {}
    with _client(settings) as client:
        for job in batch.jobs:
            request = ExtractRequest.for_job(job, run_key, page_size=options.page_size,
                                             use_cache=options.reuse_pages)
            started = datetime.now(timezone.utc)
            try:
                with _reschedule_on_rate_limit(job.repo):
                    manifests.append(extract_repository(
                        client, store, request, pending_events=due.setdefault(job.repo, [])))
                    if not job.numbers and job.deploys:  # a whole repository's deploys
                        add_deployments(client, store, manifests[-1], job.deploys_since,
                                        use_cache=options.reuse_pages)
            except (GitHubError, ValueError) as exc:
                _record_failure(store, Manifest.failed(job.repo, run_key, exc, started))
                failures.append((job.repo, exc))
        if manifests:
            started = datetime.now(timezone.utc)
            try:
                with _reschedule_on_rate_limit(batch.label):
                    fetch_batch_events(client, store, run_key, folder, manifests, due)
                    fetch_batch_checks(client, store, run_key, folder, manifests, with_rechecks(
                        due, unsettled_checks(settings.duckdb_path, batch.repos)))
            except (GitHubError, ValueError) as exc:
                # Without their events the listings would be loaded short: fail them all.
                for manifest in manifests:
                    _record_failure(store, Manifest.failed(manifest.repo, run_key, exc, started))
                    failures.append((manifest.repo, exc))
                manifests = []
        for manifest in manifests:
            store.write_manifest(manifest)
    if failures:
        _raise_extract_failures(failures, len(batch.jobs))
    return manifests


def extract_teams(repos: list[str], options: RunOptions, run_id: str,
                  settings: Settings | None = None) -> TeamsManifest:
    """The teams of every organization owning a synced repository, and the teams file.

    Users own no teams (skipped); an organization whose teams the token may not read
    logs one warning and the run goes on with the file. The pages and the manifest go to
    the raw store; the load records them with their sync time.
    """
    from pr_warehouse.extract.teams import TeamsFile, owners_of
    from pr_warehouse.extract.teams import extract_teams as read_teams
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    store = RawStore(settings.raw_url)
    run_key = run_key_for(run_id)
    with fail_fast_on_bad_input():
        teams_file = TeamsFile.read(settings.teams_file)
    owners = owners_of(repos)
    if not owners:
        manifest = TeamsManifest(run_key=run_key, file_teams=dict(teams_file.teams),
                                 file_path=str(teams_file.path) if teams_file.path else None,
                                 synced_at=datetime.now(timezone.utc).isoformat())
        store.write_teams_manifest(manifest)
        return manifest
    with fail_fast_on_bad_input(), _client(settings) as client, \
            _reschedule_on_rate_limit("teams"):
        return read_teams(client, store, run_key, owners, teams_file,
                          use_cache=options.reuse_pages)


@contextmanager
def _reschedule_on_rate_limit(what: str) -> Iterator[None]:
    """Sleeping for most of an hour would hold a worker slot; Airflow reschedules the task
    at the reset instead, and the stored pages make the rerun cheap."""
    from pr_warehouse.client.errors import RateLimitWait

    try:
        yield
    except RateLimitWait as wait:
        from airflow.sdk.exceptions import AirflowRescheduleException

        log.warning("%s: %s; rescheduling at %s", what, wait, wait.reset_at.isoformat())
        raise AirflowRescheduleException(reschedule_date=wait.reset_at) from None


def _record_failure(store: RawStore, manifest: Manifest) -> None:
    log.error("%s failed: %s", manifest.repo, manifest.error)
    store.write_manifest(manifest)


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


def load(manifests: list[Manifest], batches: list[ExtractBatch] | None, options: RunOptions,
         run_id: str, settings: Settings | None = None,
         teams: TeamsManifest | None = None) -> LoadResult:
    """Load the run's pages; failed and skipped repositories are recorded, not loaded.

    ``teams``: the teams step's manifest (None when that step failed: what it stored
    before failing is read from the raw store and loaded).
    """
    from pr_warehouse.load.duckdb_loader import load_manifests
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    store = RawStore(settings.raw_url)
    run_key = run_key_for(run_id)
    repos = planned_repos(require_plan(batches))
    sync_plan = store.read_plan(run_key) or SyncPlan(extract=dict.fromkeys(repos))
    got = {m.repo: m for m in manifests}
    for repo in repos:
        # A failed task returns no XCom: its repositories' manifests are in the store.
        if repo not in got:
            got[repo] = store.read_manifest(run_key, repo) or Manifest.missing(repo, run_key)
    skipped = [Manifest.skipped(repo, run_key) for repo in sync_plan.skipped]
    result = load_manifests(
        settings.duckdb_path, store, [got[r] for r in repos] + skipped, run_id=run_id,
        clear_repos=repos + list(sync_plan.skipped) if options.clear else None,
        sync_plan=sync_plan, memory_limit=settings.duckdb_memory_limit,
        teams=teams or store.read_teams_manifest(run_key),
    )
    if result.corrupt_pages:
        # The good pages are committed; these need a fresh fetch, which retrying this
        # load cannot give, so fail without Airflow's retries.
        from airflow.sdk.exceptions import AirflowFailException

        listed = "\n".join(f"{key}: {why}" for key, why in sorted(result.corrupt_pages.items()))
        raise AirflowFailException(
            f"{len(result.corrupt_pages)} corrupt raw page(s) were not loaded (every other page "
            f"was); rerun the affected repositories with use_cache=false:\n{listed}")
    return result


def transform(as_of: datetime | None, options: RunOptions | None = None,
              settings: Settings | None = None) -> str:
    """``dbt build`` (models and data tests); ``as_of`` anchors ages to the run, not wall clock.

    Incremental models rebuild only the PRs loaded since their last build; the
    ``full_refresh`` Param rebuilds every model from scratch (``--full-refresh``), and so
    does the first run after an incremental model's columns changed (a new version of
    the dbt project), which an incremental build cannot apply to the rows it keeps.
    """
    from pr_warehouse.transform.dbt import DbtFailed, build_args, generate_docs, run_dbt

    settings = settings or Settings.from_env()
    from pr_warehouse.config import deploy_vars

    variables = deploy_vars(settings)
    instant = (as_of or datetime.now(timezone.utc)).isoformat()
    full_refresh = bool(options and options.full_refresh)
    try:
        run_dbt(settings, build_args(full_refresh), variables, as_of=instant)
    except DbtFailed as exc:
        if full_refresh or not exc.schema_changed:
            raise
        log.warning("an incremental model's columns changed since its table was built: "
                    "rebuilding every model with --full-refresh")
        run_dbt(settings, build_args(full_refresh=True), variables, as_of=instant)
    generate_docs(settings, variables)
    return str(settings.duckdb_path)


def publish(settings: Settings | None = None) -> str:
    """Publish the read-only snapshot analysts open."""
    from pr_warehouse.publish.snapshot import publish_snapshot

    settings = settings or Settings.from_env()
    return str(publish_snapshot(settings.duckdb_path, settings.snapshot_path))


def publish_postgres(snapshot: str | None, run_id: str | None,
                     settings: Settings | None = None) -> dict[str, Any]:
    """Copy the snapshot's marts to Postgres for BI tools when the connection exists.

    Optional by design: without the connection the task logs why and succeeds, so a
    laptop deployment needs no Postgres.
    """
    from pathlib import Path

    from pr_warehouse.publish.postgres import PublishResult, connection_exists, publish_marts

    settings = settings or Settings.from_env()
    conn_id = settings.postgres_conn_id
    if not connection_exists(conn_id):
        reason = (f"no Airflow connection {conn_id!r}: marts not copied to Postgres "
                  "(create it to publish them for BI tools)")
        log.info(reason)
        return PublishResult(published=False, reason=reason).as_dict()
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    path = Path(snapshot) if snapshot else settings.snapshot_path
    conn = PostgresHook(postgres_conn_id=conn_id).get_conn()
    try:
        return publish_marts(path, conn, run_id=run_id).as_dict()
    finally:
        conn.close()


def report(snapshot: str, run_id: str, settings: Settings | None = None) -> str:
    """Write the run's self-contained HTML report beside its raw pages; return its URL."""
    from pathlib import Path

    from pr_warehouse.report import Filters, build_report, render_html
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    html = render_html(build_report(Path(snapshot), Filters()))
    url = RawStore(settings.raw_url).write_report(run_key_for(run_id), html)
    log.info("report of run %s: %s", run_id, url)
    return url


class RepositoriesFailed(RuntimeError):
    """Some repositories' extracts failed; the others were loaded."""


def check_extracts(batches: list[ExtractBatch] | None, manifests: list[Manifest], run_id: str,
                   settings: Settings | None = None,
                   teams: TeamsManifest | None = None) -> dict[str, Any]:
    """Fail the run, naming each repository whose extract failed and why, and each
    organization whose teams could not be read for a reason other than permission."""
    from pr_warehouse.storage import RawStore, run_key_for

    settings = settings or Settings.from_env()
    repos = planned_repos(require_plan(batches))
    done = {m.repo for m in manifests if m.ok}
    missing = [r for r in repos if r not in done]
    store, run_key = RawStore(settings.raw_url), run_key_for(run_id)
    teams = teams or store.read_teams_manifest(run_key)
    if teams is None:
        team_failures = ["teams: the teams step stored nothing (see its log)"]
    else:
        team_failures = [f"teams of {o.org}: {o.error}" for o in teams.failed]
    if not missing and not team_failures:
        return {"repos": len(repos), "failed": 0}
    reasons = [f"{r}: {(store.read_manifest(run_key, r) or Manifest.missing(r)).error}"
               for r in missing]
    head = (f"{len(missing)} of {len(repos)} repositories failed (the others were loaded)"
            if missing else "every repository was loaded")
    raise RepositoriesFailed(head + ":\n" + "\n".join(reasons + team_failures))
