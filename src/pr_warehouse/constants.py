"""Every name and default the DAG, the CLI, the package and the benchmarks share, defined once.

Standard library only (nothing at all is imported), so the DAG file can read it at parse time.

GitHub's naming rules: an owner login is 1-39 characters of letters, digits and hyphens,
starting with a letter or digit; a repository name is letters, digits, ``.``, ``_`` and
``-``, but never ``.`` or ``..``.

>>> import re
>>> bool(re.match(REPO_PATTERN, "apache/airflow")), bool(re.match(REPO_PATTERN, "a/.."))
(True, False)
"""

from __future__ import annotations

DAG_ID = "github_pull_requests"

# Patterns (JSON-schema and Python regex alike) for the DAG's Params and repos.py.
OWNER_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
NAME_PATTERN = r"(?!\.\.?$)[A-Za-z0-9._-]{1,100}"
REPO_PATTERN = rf"^{OWNER_PATTERN}/{NAME_PATTERN}$"
LOGIN_PATTERN = rf"^{OWNER_PATTERN}$"
PULL_REQUEST_PATTERN = rf"^{OWNER_PATTERN}/{NAME_PATTERN}#[1-9][0-9]*$"

# GitHub charges round((1 + 5n) / 100) points for an n-PR page of our query (one PR
# connection plus five nested 100-wide lists per PR): 29 is the largest page that costs
# 1 point, so the cheapest per PR (tests/test_queries.py recomputes it from the schema).
DEFAULT_PAGE_SIZE = 29
# GitHub's own cap on `first`/`last` of any connection.
MAX_PAGE_SIZE = 100

GITHUB_GRAPHQL_URL = "https://api.github.com/graphql"

# Airflow names: the connections and the pool are created by the operator (README).
DEFAULT_GITHUB_CONN_ID = "github_default"
DEFAULT_POSTGRES_CONN_ID = "warehouse_postgres"
DEFAULT_POOL = "github_api"
DEFAULT_POOL_SLOTS = 4
# The Airflow queue of every task that opens the DuckDB warehouse file (plan reads the
# watermarks; load, transform, the publishes and the report write, copy or read it). Airflow's own default queue, so
# a single host needs nothing; with Celery workers on several hosts, only the worker on
# the host holding the file listens to it (README: scaling).
DEFAULT_WAREHOUSE_QUEUE = "default"

# Beyond this many repositories, several share one mapped extract task (Airflow's
# max_map_length is 1024 by default, and each task instance has a fixed overhead).
DEFAULT_MAX_EXTRACT_TASKS = 500
# DuckDB's memory limit during the load: bounds the peak of large loads.
DEFAULT_DUCKDB_MEMORY_LIMIT = "2GB"

# The PR analytics page (plugins/pr_analytics.py): where Airflow's API server mounts it,
# the UI route it is embedded at, and its name in the navigation.
ANALYTICS_URL_PREFIX = "/pr-analytics"
ANALYTICS_UI_ROUTE = "pr-analytics"
ANALYTICS_VIEW_NAME = "PR analytics"
# The per-run HTML report, stored under the run's key beside its raw pages.
REPORT_FILE_NAME = "report.html"

# DORA: environments that count as production unless PR_WAREHOUSE_PRODUCTION_ENVIRONMENTS
# says otherwise, and what a repository's deploys can be.
DEFAULT_PRODUCTION_ENVIRONMENTS = ("production", "prod", "live")
DEPLOY_SOURCES = ("deployment", "release")
