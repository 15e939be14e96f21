"""Every environment variable the product reads, read here and nowhere else.

Read at call time (never at import time); every setting has an embedded default, so
``make demo`` needs no configuration. The README's configuration table lists exactly
:data:`ENVIRONMENT` (a test holds the two to the same list).

>>> s = Settings.from_env({"PR_WAREHOUSE_HOME": "/srv/prw"})
>>> s.raw_url, str(s.duckdb_path)
('file:///srv/prw/data/raw', '/srv/prw/data/warehouse.duckdb')
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from pr_warehouse.constants import (
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    DEFAULT_EXTRACT_TASKS_TARGET,
    DEFAULT_GITHUB_CONN_ID,
    DEFAULT_MAX_EXTRACT_TASKS,
    DEFAULT_POOL,
    DEFAULT_POSTGRES_CONN_ID,
    DEFAULT_PRODUCTION_ENVIRONMENTS,
    DEPLOY_SOURCES,
    DEFAULT_WAREHOUSE_QUEUE,
)

PACKAGE_DIR = Path(__file__).resolve().parent
# src/pr_warehouse -> the checkout's root (editable install); an installed image sets
# PR_WAREHOUSE_HOME instead.
DEFAULT_HOME = PACKAGE_DIR.parent.parent

# Every variable Settings reads, with what it sets (the README's configuration table).
ENVIRONMENT: dict[str, str] = {
    "PR_WAREHOUSE_HOME": "the project folder (holds `data/`, `dbt/`, `projects.yaml`)",
    "PR_WAREHOUSE_RAW_URL": "raw pages; `s3://<conn_id>@<bucket>/<prefix>` works too",
    "PR_WAREHOUSE_DUCKDB": "the warehouse (one writer: the DAG)",
    "PR_WAREHOUSE_SNAPSHOT": "the read-only copy analysts open",
    "PR_WAREHOUSE_DBT_DIR": "the dbt project",
    "PR_WAREHOUSE_PROJECTS": "presets for the `project` Param",
    "PR_WAREHOUSE_TEAMS": "the teams file: its `teams:` section maps a team name to logins "
                          "(for a login it lists, it wins over GitHub teams)",
    "PR_WAREHOUSE_GITHUB_CONN_ID": "the Airflow connection holding GitHub's URL and credentials "
                                   "(several, pooled: comma-separated)",
    "PR_WAREHOUSE_POSTGRES_CONN_ID": "the Airflow connection marts are published to (optional)",
    "PR_WAREHOUSE_POOL": "the Airflow pool extracts run in",
    "PR_WAREHOUSE_WAREHOUSE_QUEUE": "the Airflow queue of the tasks that open the DuckDB file",
    "PR_WAREHOUSE_MAX_EXTRACT_TASKS": "beyond this many repositories, several share a mapped extract task",
    "PR_WAREHOUSE_EXTRACT_TASKS_TARGET": "with more repositories than this, small ones share "
                                         "mapped extract tasks of at most 1/this of the pages",
    "PR_WAREHOUSE_DUCKDB_MEMORY_LIMIT": "DuckDB's memory limit during the load (higher: faster big loads)",
    "PR_WAREHOUSE_PRODUCTION_ENVIRONMENTS": "deployment environments that count as production, "
                                            "comma-separated, case-insensitive "
                                            "(default `production,prod,live`)",
    "PR_WAREHOUSE_DEPLOY_SOURCES": "per repository, what counts as a deploy: "
                                   "`owner/name=release,owner/name=deployment` (default: "
                                   "deployments when it has any, else releases)",
    "PR_WAREHOUSE_CACHE_DIR": "files the product can make again, kept between runs (the "
                              "report's Vega script, built once per installed version)",
    "GITHUB_TOKEN": "`make run` only: the token the CLI puts into the GitHub connection",
    "GITHUB_GRAPHQL_URL": "`make run` only: GitHub Enterprise Server's GraphQL URL (empty: github.com)",
}


@dataclass(frozen=True)
class Settings:
    """Locations and knobs of one deployment."""

    home: Path
    raw_url: str
    duckdb_path: Path
    snapshot_path: Path
    dbt_dir: Path
    projects_file: Path
    teams_file: Path
    cache_dir: Path
    github_conn_id: str = DEFAULT_GITHUB_CONN_ID
    postgres_conn_id: str = DEFAULT_POSTGRES_CONN_ID
    pool: str = DEFAULT_POOL
    warehouse_queue: str = DEFAULT_WAREHOUSE_QUEUE
    max_extract_tasks: int = DEFAULT_MAX_EXTRACT_TASKS
    extract_tasks_target: int = DEFAULT_EXTRACT_TASKS_TARGET
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    # Only the CLI uses these (it builds the Airflow connection from them); repr=False
    # keeps the token out of any log line that prints the settings.
    # DORA: which environments are production, and per repository whether deploys are
    # its deployments or its releases (extract/deployments.py, dbt's fct_deployments).
    production_environments: tuple[str, ...] = DEFAULT_PRODUCTION_ENVIRONMENTS
    deploy_sources: tuple[tuple[str, str], ...] = ()
    github_token: str | None = field(default=None, repr=False)
    github_graphql_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        home = Path(env.get("PR_WAREHOUSE_HOME") or DEFAULT_HOME)
        data = home / "data"
        duckdb_path = Path(env.get("PR_WAREHOUSE_DUCKDB") or data / "warehouse.duckdb")
        projects_file = Path(env.get("PR_WAREHOUSE_PROJECTS") or home / "projects.yaml")
        return cls(
            home=home,
            raw_url=env.get("PR_WAREHOUSE_RAW_URL") or (data / "raw").as_uri(),
            duckdb_path=duckdb_path,
            snapshot_path=Path(
                env.get("PR_WAREHOUSE_SNAPSHOT")
                or duckdb_path.with_name(duckdb_path.stem + ".snapshot.duckdb")
            ),
            dbt_dir=Path(env.get("PR_WAREHOUSE_DBT_DIR") or home / "dbt"),
            projects_file=projects_file,
            # The teams may have a file of their own; by default they are a section of the
            # projects file.
            teams_file=Path(env.get("PR_WAREHOUSE_TEAMS") or projects_file),
            cache_dir=Path(env.get("PR_WAREHOUSE_CACHE_DIR") or user_cache_dir(env)),
            github_conn_id=env.get("PR_WAREHOUSE_GITHUB_CONN_ID") or DEFAULT_GITHUB_CONN_ID,
            postgres_conn_id=env.get("PR_WAREHOUSE_POSTGRES_CONN_ID") or DEFAULT_POSTGRES_CONN_ID,
            pool=env.get("PR_WAREHOUSE_POOL") or DEFAULT_POOL,
            warehouse_queue=env.get("PR_WAREHOUSE_WAREHOUSE_QUEUE") or DEFAULT_WAREHOUSE_QUEUE,
            max_extract_tasks=int(env.get("PR_WAREHOUSE_MAX_EXTRACT_TASKS")
                                  or DEFAULT_MAX_EXTRACT_TASKS),
            extract_tasks_target=int(env.get("PR_WAREHOUSE_EXTRACT_TASKS_TARGET")
                                     or DEFAULT_EXTRACT_TASKS_TARGET),
            duckdb_memory_limit=(env.get("PR_WAREHOUSE_DUCKDB_MEMORY_LIMIT")
                                 or DEFAULT_DUCKDB_MEMORY_LIMIT),
            production_environments=parse_environments(
                env.get("PR_WAREHOUSE_PRODUCTION_ENVIRONMENTS")),
            deploy_sources=parse_deploy_sources(env.get("PR_WAREHOUSE_DEPLOY_SOURCES")),
            github_token=env.get("GITHUB_TOKEN") or None,
            github_graphql_url=env.get("GITHUB_GRAPHQL_URL") or "",
        )


def user_cache_dir(env: Mapping[str, str]) -> Path:
    """The user's cache folder for the product (the XDG base directory convention).

    >>> user_cache_dir({"XDG_CACHE_HOME": "/c", "HOME": "/h"}), user_cache_dir({"HOME": "/h"})
    (PosixPath('/c/pr-warehouse'), PosixPath('/h/.cache/pr-warehouse'))
    """
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "pr-warehouse"


class InvalidDeploySources(ValueError):
    """``PR_WAREHOUSE_DEPLOY_SOURCES`` names a source other than deployment or release."""


def parse_environments(text: str | None) -> tuple[str, ...]:
    """Production environment names, lower-cased (compared case-insensitively).

    >>> parse_environments(" Production, PROD ,"), parse_environments(None)
    (('production', 'prod'), ('production', 'prod', 'live'))
    """
    names = tuple(n.strip().lower() for n in (text or "").split(",") if n.strip())
    return names or DEFAULT_PRODUCTION_ENVIRONMENTS


def parse_deploy_sources(text: str | None) -> tuple[tuple[str, str], ...]:
    """``owner/name=release`` pairs, the repository lower-cased.

    >>> parse_deploy_sources("Acme/Docs=release, acme/api=deployment")
    (('acme/docs', 'release'), ('acme/api', 'deployment'))
    """
    pairs = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        repo, _, source = item.partition("=")
        source = source.strip().lower()
        if source not in DEPLOY_SOURCES:
            raise InvalidDeploySources(
                f"PR_WAREHOUSE_DEPLOY_SOURCES: {item.strip()!r}: the source must be one of "
                f"{', '.join(DEPLOY_SOURCES)}")
        pairs.append((repo.strip().lower(), source))
    return tuple(pairs)


def deploy_vars(settings: Settings) -> dict[str, object]:
    """The dbt vars the deployment models read (fct_deployments).

    >>> deploy_vars(Settings.from_env({"PR_WAREHOUSE_DEPLOY_SOURCES": "a/b=release"}))
    {'production_environments': ['production', 'prod', 'live'], 'deploy_sources': {'a/b': 'release'}}
    """
    return {"production_environments": list(settings.production_environments),
            "deploy_sources": dict(settings.deploy_sources)}


def project_airflow_settings(settings: Settings) -> dict[str, str]:
    """Airflow's settings for running this project from its folder: a home in it, its DAGs
    and plugins (only where they exist: an image ships its DAGs in Airflow's own folders),
    no example DAGs.

    >>> project_airflow_settings(Settings.from_env({"PR_WAREHOUSE_HOME": "/nowhere"}))
    {'AIRFLOW_HOME': '/nowhere/.airflow', 'AIRFLOW__CORE__LOAD_EXAMPLES': 'False'}
    >>> sorted(project_airflow_settings(Settings.from_env({})))  # a checkout
    ['AIRFLOW_HOME', 'AIRFLOW__CORE__DAGS_FOLDER', 'AIRFLOW__CORE__LOAD_EXAMPLES', 'AIRFLOW__CORE__PLUGINS_FOLDER']
    """
    found = {"AIRFLOW_HOME": str(settings.home / ".airflow"),
             "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    for setting, folder in (("AIRFLOW__CORE__DAGS_FOLDER", settings.home / "dags"),
                            ("AIRFLOW__CORE__PLUGINS_FOLDER", settings.home / "plugins")):
        if folder.is_dir():
            found[setting] = str(folder)
    return found


def point_airflow_at_project(settings: Settings,
                             environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set :func:`project_airflow_settings` wherever ``environ`` (default: this process's
    environment) leaves them unset; what was set.

    Run from a plain shell (``.venv/bin/pr-warehouse demo``, without the Makefile's
    exports), Airflow would look for DAGs in ``~/airflow/dags`` and stop with "Dag ... could
    not be found"; whatever ``environ`` sets wins.

    >>> env = {"AIRFLOW_HOME": "/srv/a"}
    >>> point_airflow_at_project(Settings.from_env({"PR_WAREHOUSE_HOME": "/nowhere"}), env)
    {'AIRFLOW__CORE__LOAD_EXAMPLES': 'False'}
    >>> env["AIRFLOW_HOME"]
    '/srv/a'
    """
    environ = os.environ if environ is None else environ
    added = {name: value for name, value in project_airflow_settings(settings).items()
             if name not in environ}
    environ.update(added)
    return added
