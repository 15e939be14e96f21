"""
### GitHub pull requests → object storage → DuckDB → dbt

Syncs pull requests from GitHub's GraphQL API into a DuckDB warehouse that analysts query.

1. **resolve_repositories**: the union of the `repos`, `orgs` and `project` Params
   (`pull_requests` refetches single PRs by number).
2. **plan**: each repository's watermark (its newest `updatedAt` already stored) and one cheap
   batched probe; repositories with nothing new spawn no extract.
3. **extract** (one mapped task per repository, named after it; an org with more than
   `PR_WAREHOUSE_MAX_EXTRACT_TASKS` repositories shares tasks between them): pages
   `repository.pullRequests` newest-update first and writes every response page, untouched,
   to object storage (`PR_WAREHOUSE_RAW_URL`; a local folder by default). Stored pages are
   checkpoints: a retried task resumes from its last page.
4. **load**: writes the pages into DuckDB (`PR_WAREHOUSE_DUCKDB`), upserting by node id so
   the newest `updatedAt` wins. Runs even when some repositories failed.
5. **transform**: `dbt build` of the project in `dbt/` (staging views, `analytics` marts, tests).
6. **publish**: a read-only snapshot of the warehouse for analysts; then **publish_postgres**
   copies the `analytics` marts into Postgres in one transaction, for BI tools (only when
   the Airflow connection `warehouse_postgres` exists).
7. **check_extracts**: fails the run, naming them, if any repository could not be extracted.

GitHub credentials come from the Airflow connection `github_default` (token in *password*,
GraphQL URL in *host*; empty means `https://api.github.com/graphql`). Extracts run in the
`github_api` pool, which bounds concurrent requests to GitHub.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, task

from pr_warehouse.config import Settings  # stdlib only: cheap at parse time

# Patterns are GitHub's naming rules; kept in sync with pr_warehouse.repos by a test.
OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
NAME = r"(?!\.\.?$)[A-Za-z0-9._-]{1,100}"
ISO_DATE_OR_EMPTY = r"^$|^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"

MARTS = Asset("duckdb://pr_warehouse/analytics")


@dag(
    dag_id="github_pull_requests",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["github", "duckdb", "dbt"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    params={
        "repos": Param(
            [], type="array", items={"type": "string", "pattern": f"^{OWNER}/{NAME}$"},
            title="Repositories", description="owner/name, one per line.",
        ),
        "orgs": Param(
            [], type="array", items={"type": "string", "pattern": f"^{OWNER}$"},
            title="Organizations or users",
            description="Every non-archived repository they own is synced.",
        ),
        "project": Param(
            None, type=["null", "string"], title="Project preset",
            description="A preset from projects.yaml (for example `antiwork`).",
        ),
        "pull_requests": Param(
            [], type="array", items={"type": "string", "pattern": f"^{OWNER}/{NAME}#[1-9][0-9]*$"},
            title="Single pull requests",
            description="owner/name#number, one per line: refetch just these PRs.",
        ),
        "since": Param(
            "", type=["null", "string"], pattern=ISO_DATE_OR_EMPTY, title="Since",
            description="ISO date: sync PRs updated since then. Empty: since the last sync.",
        ),
        "full_refresh": Param(
            False, type="boolean", title="Full refresh",
            description="Ignore the last sync and refetch every PR's whole history.",
        ),
        "use_cache": Param(
            True, type="boolean", title="Use cached pages",
            description="Reuse pages already stored for this run (a retry spends no points on them).",
        ),
        "clear": Param(
            False, type="boolean", title="Clear before loading",
            description="Delete the selected repositories' rows from the warehouse first.",
        ),
        "page_size": Param(
            # The largest page GitHub charges 1 point for (see extract.DEFAULT_PAGE_SIZE).
            29, type="integer", minimum=1, maximum=100, title="Page size",
            description="PRs per GraphQL page (1-100); shrunk automatically when GitHub times out.",
        ),
    },
)
def github_pull_requests() -> None:
    @task
    def resolve_repositories(params: dict | None = None) -> list[str]:
        from pr_warehouse import pipeline

        return pipeline.resolve_repositories(params or {})

    @task
    def plan(repos: list[str], params: dict | None = None, run_id: str | None = None) -> list[dict]:
        from pr_warehouse import pipeline

        return pipeline.plan(repos, params or {}, run_id or "manual")

    @task(
        map_index_template="{{ task.op_kwargs['label'] }}",
        pool=Settings.from_env().pool,
        retries=3,
        execution_timeout=timedelta(hours=3),
    )
    def extract(label: str, jobs: list[dict], params: dict | None = None,
                run_id: str | None = None) -> list[dict]:
        from pr_warehouse import pipeline

        return pipeline.extract_jobs(jobs, params or {}, run_id or "manual")

    @task(trigger_rule="all_done")
    def load(manifests: list[list[dict]], tasks: list[dict], params: dict | None = None,
             run_id: str | None = None) -> dict:
        from pr_warehouse import pipeline

        return pipeline.load(pipeline.flatten(manifests), tasks, params or {}, run_id or "manual")

    @task(outlets=[MARTS])
    def transform(report: dict, data_interval_end=None) -> str:
        from pr_warehouse import pipeline

        return pipeline.transform(data_interval_end)

    @task
    def publish(warehouse: str) -> str:
        from pr_warehouse import pipeline

        return pipeline.publish()

    @task
    def publish_postgres(snapshot: str, run_id: str | None = None) -> dict:
        """Copy the marts to Postgres for BI tools; a no-op without `warehouse_postgres`."""
        from pr_warehouse.publish.postgres import publish_postgres

        return publish_postgres(snapshot, run_id)

    @task(trigger_rule="all_done", retries=0)  # a verdict on finished work: retrying can't change it
    def check_extracts(tasks: list[dict], manifests: list[list[dict]],
                       run_id: str | None = None) -> dict:
        from pr_warehouse import pipeline

        return pipeline.check_extracts(tasks, pipeline.flatten(manifests), run_id or "manual")

    tasks = plan(resolve_repositories())  # [{"label", "jobs"}]: repositories needing an extract
    manifests = extract.expand_kwargs(tasks)
    publish_postgres(publish(transform(load(manifests, tasks))))
    check_extracts(tasks, manifests)


github_pull_requests()
