"""
### GitHub pull requests → object storage → DuckDB → dbt

Syncs pull requests from GitHub's GraphQL API into a DuckDB warehouse that analysts query.

1. **resolve_repositories**: the union of the `repos`, `orgs` and `project` Params
   (`pull_requests` refetches single PRs by number).
2. **plan**: each repository's watermark (its newest `updatedAt` already stored) and one cheap
   batched probe; repositories with nothing new spawn no extract.
   **extract_teams**: the GitHub teams (parent team, members and roles) of every
   organization owning a synced repository, 1 point each, and the teams file; their pages
   go to object storage too. An organization whose teams the token may not read logs a
   warning and the run goes on.
3. **extract** (one mapped task per repository, named after it; an org with more than
   `PR_WAREHOUSE_MAX_EXTRACT_TASKS` repositories shares tasks between them): pages
   `repository.pullRequests` newest-update first and writes every response page, untouched,
   to object storage (`PR_WAREHOUSE_RAW_URL`; a local folder by default). Stored pages are
   checkpoints: a retried task resumes from its last page.
4. **load**: writes the pages into DuckDB (`PR_WAREHOUSE_DUCKDB`), upserting by node id so
   the newest `updatedAt` wins, and each organization's teams at their sync time. Runs even
   when some repositories failed.
5. **transform**: `dbt build` of the project in `dbt/` (staging views, `analytics` marts, tests).
6. **publish**: a read-only snapshot of the warehouse for analysts; then **publish_postgres**
   copies the `analytics` marts into Postgres in one transaction, for BI tools (only when
   the Airflow connection `warehouse_postgres` exists).
   **report** writes the charts of the *PR analytics* page as one self-contained HTML file
   beside the run's raw pages.
7. **check_extracts**: fails the run, naming them, if any repository could not be extracted
   (or an organization's teams could not be read for a reason other than permission).

GitHub credentials come from the Airflow connection `github_default`, in the GitHub
provider's shape: a token in *password* or a GitHub App in the extras (`app_id`,
`installation_id`, `private_key` or `key_path`); *host* empty (github.com), GitHub Enterprise
Server's `https://HOST/api/v3`, or a GraphQL URL. Extracts run in the
`github_api` pool, which bounds concurrent requests to GitHub. The tasks that open the
DuckDB file or its snapshot (plan, load, transform, publish, publish_postgres, report) run
on the queue `PR_WAREHOUSE_WAREHOUSE_QUEUE` (default: `default`), which only the worker on
the host holding the file serves; extracts run on any worker.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pendulum
from airflow.sdk import Asset, Param, dag, task

# Both stdlib only: cheap at parse time. Heavy imports happen inside the tasks.
from pr_warehouse.config import Settings
from pr_warehouse.constants import (
    DAG_ID,
    DEFAULT_PAGE_SIZE,
    LOGIN_PATTERN,
    MAX_PAGE_SIZE,
    PULL_REQUEST_PATTERN,
    REPO_PATTERN,
)

SETTINGS = Settings.from_env()
MARTS = Asset("duckdb://pr_warehouse/analytics")
# Every task that opens the DuckDB file (or its snapshot) is a warehouse task: it must run
# where the file is. Declare new ones with @warehouse_task(...) instead of @task(...).
warehouse_task = partial(task, queue=SETTINGS.warehouse_queue)
WHAT = "What to sync"
HOW_FAR = "How far back"
TUNING = "Tuning"


@dag(
    dag_id=DAG_ID,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["github", "duckdb", "dbt"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    params={
        "repos": Param(
            [], type="array", items={"type": "string", "pattern": REPO_PATTERN},
            title="Repositories", description="owner/name, one per line.", section=WHAT,
        ),
        "orgs": Param(
            [], type="array", items={"type": "string", "pattern": LOGIN_PATTERN},
            title="Organizations or users",
            description="Every non-archived repository they own is synced.", section=WHAT,
        ),
        "project": Param(
            None, type=["null", "string"], title="Project preset",
            description="A preset from projects.yaml (for example `antiwork`).", section=WHAT,
        ),
        "pull_requests": Param(
            [], type="array", items={"type": "string", "pattern": PULL_REQUEST_PATTERN},
            title="Single pull requests",
            description="owner/name#number, one per line: refetch just these PRs.", section=WHAT,
        ),
        "since": Param(
            None, type=["null", "string"], format="date-time", title="Since",
            description="Sync PRs updated since then. Empty: since the last sync.",
            section=HOW_FAR,
        ),
        "full_refresh": Param(
            False, type="boolean", title="Full refresh",
            description="Ignore the last sync and refetch every PR's whole history; rebuild "
                        "every dbt model from scratch.",
            section=HOW_FAR,
        ),
        "clear": Param(
            False, type="boolean", title="Clear before loading",
            description="Delete the selected repositories' rows from the warehouse first "
                        "(implies a full refresh).",
            section=HOW_FAR,
        ),
        "use_cache": Param(
            True, type="boolean", title="Use cached pages",
            description="Reuse pages already stored for this run (a retry spends no points "
                        "on them). A full refresh never does.",
            section=TUNING,
        ),
        "page_size": Param(
            DEFAULT_PAGE_SIZE, type="integer", minimum=1, maximum=MAX_PAGE_SIZE, title="Page size",
            description=f"PRs per GraphQL page (1-{MAX_PAGE_SIZE}; {DEFAULT_PAGE_SIZE} is the "
                        "cheapest); shrunk automatically when GitHub times out.",
            section=TUNING,
        ),
    },
)
def github_pull_requests() -> None:
    @task
    def resolve_repositories(params: dict | None = None) -> list[str]:
        """The repositories this run covers: the union of repos, orgs and the project preset."""
        from pr_warehouse import pipeline
        from pr_warehouse.options import RunOptions

        return pipeline.resolve_repositories(RunOptions.from_params(params))

    @warehouse_task()  # reads the watermarks from the warehouse
    def plan(repos: list[str], params: dict | None = None, run_id: str | None = None) -> list[dict]:
        """Which repositories changed since their watermark, batched into extract tasks."""
        from pr_warehouse import pipeline
        from pr_warehouse.options import RunOptions

        batches = pipeline.plan(repos, RunOptions.from_params(params), run_id or "manual")
        return [batch.task_kwargs() for batch in batches]  # what extract.expand_kwargs maps

    @task(pool=SETTINGS.pool, retries=3)
    def extract_teams(repos: list[str], params: dict | None = None,
                      run_id: str | None = None) -> dict:
        """Each synced organization's teams and members, and the teams file, to object storage."""
        from pr_warehouse import pipeline
        from pr_warehouse.options import RunOptions

        return pipeline.extract_teams(repos, RunOptions.from_params(params),
                                      run_id or "manual").to_json()

    @task(
        map_index_template="{{ task.op_kwargs['label'] }}",
        pool=SETTINGS.pool,
        retries=3,
        execution_timeout=timedelta(hours=3),
    )
    def extract(label: str, jobs: list[dict], params: dict | None = None,
                run_id: str | None = None) -> list[dict]:
        """Page GitHub's GraphQL API for one repository; store every response page untouched."""
        from pr_warehouse import pipeline
        from pr_warehouse.contracts import ExtractBatch
        from pr_warehouse.options import RunOptions

        manifests = pipeline.extract(ExtractBatch.from_task_kwargs(label, jobs),
                                     RunOptions.from_params(params), run_id or "manual")
        return [manifest.to_json() for manifest in manifests]

    @warehouse_task(trigger_rule="all_done")
    def load(manifests: list[list[dict]], batches: list[dict], teams: dict | None = None,
             params: dict | None = None, run_id: str | None = None) -> dict:
        """Upsert the run's pages into DuckDB (newest updatedAt wins), teams at their sync time."""
        from pr_warehouse import pipeline
        from pr_warehouse.contracts import batches_from_xcom, manifests_from_xcom, teams_from_xcom
        from pr_warehouse.options import RunOptions

        return pipeline.load(manifests_from_xcom(manifests), batches_from_xcom(batches),
                             RunOptions.from_params(params), run_id or "manual",
                             teams=teams_from_xcom(teams)).to_json()

    @warehouse_task(outlets=[MARTS])
    def transform(data_interval_end=None, params: dict | None = None) -> str:
        """dbt build: staging views, marts (incremental: PRs loaded since the last build), tests."""
        from pr_warehouse import pipeline
        from pr_warehouse.options import RunOptions

        return pipeline.transform(data_interval_end, RunOptions.from_params(params))

    @warehouse_task()
    def publish() -> str:
        """Replace the read-only snapshot analysts open, atomically."""
        from pr_warehouse import pipeline

        return pipeline.publish()

    @warehouse_task()  # reads the snapshot beside the warehouse
    def publish_postgres(snapshot: str, run_id: str | None = None) -> dict:
        """Copy the marts to Postgres for BI tools; a no-op without that connection."""
        from pr_warehouse import pipeline

        return pipeline.publish_postgres(snapshot, run_id)

    @warehouse_task()  # reads the snapshot beside the warehouse
    def report(snapshot: str, run_id: str | None = None) -> str:
        """Write the run's self-contained HTML report of the charts beside its raw pages."""
        from pr_warehouse import pipeline

        return pipeline.report(snapshot, run_id or "manual")

    @task(trigger_rule="all_done", retries=0)  # a verdict on finished work: retrying can't change it
    def check_extracts(batches: list[dict], manifests: list[list[dict]],
                       teams: dict | None = None, run_id: str | None = None) -> dict:
        """Fail the run, naming each repository whose extract failed (the rest is loaded)."""
        from pr_warehouse import pipeline
        from pr_warehouse.contracts import batches_from_xcom, manifests_from_xcom, teams_from_xcom

        return pipeline.check_extracts(batches_from_xcom(batches), manifests_from_xcom(manifests),
                                       run_id or "manual", teams=teams_from_xcom(teams))

    repos = resolve_repositories()
    batches = plan(repos)  # one mapped extract task per batch of repositories
    teams = extract_teams(repos)
    # A mapped TaskFlow task does not take its docstring as doc by itself.
    manifests = extract.override(doc_md=extract.function.__doc__).expand_kwargs(batches)
    snapshot = publish()
    load(manifests, batches, teams) >> transform() >> snapshot
    publish_postgres(snapshot)
    report(snapshot)
    check_extracts(batches, manifests, teams)


github_pull_requests()
