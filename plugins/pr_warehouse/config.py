"""Where things live, read from the environment at call time (never at import time).

Every setting has an embedded default so ``make demo`` needs no configuration:

>>> s = Settings.from_env({"PR_WAREHOUSE_HOME": "/srv/prw"})
>>> s.raw_url, str(s.duckdb_path)
('file:///srv/prw/data/raw', '/srv/prw/data/warehouse.duckdb')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# plugins/pr_warehouse -> project root; overridable for installs outside the checkout.
DEFAULT_HOME = PACKAGE_DIR.parent.parent


@dataclass(frozen=True)
class Settings:
    """Locations and knobs of one deployment."""

    home: Path
    raw_url: str
    duckdb_path: Path
    snapshot_path: Path
    dbt_dir: Path
    projects_file: Path
    github_conn_id: str = "github_default"
    pool: str = "github_api"
    # Beyond this many repositories, several share one mapped extract task (Airflow's
    # max_map_length is 1024 by default, and each task instance has a fixed overhead).
    max_extract_tasks: int = 500

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        home = Path(env.get("PR_WAREHOUSE_HOME") or DEFAULT_HOME)
        data = home / "data"
        duckdb_path = Path(env.get("PR_WAREHOUSE_DUCKDB") or data / "warehouse.duckdb")
        return cls(
            home=home,
            raw_url=env.get("PR_WAREHOUSE_RAW_URL") or (data / "raw").as_uri(),
            duckdb_path=duckdb_path,
            snapshot_path=Path(
                env.get("PR_WAREHOUSE_SNAPSHOT")
                or duckdb_path.with_name(duckdb_path.stem + ".snapshot.duckdb")
            ),
            dbt_dir=Path(env.get("PR_WAREHOUSE_DBT_DIR") or home / "dbt"),
            projects_file=Path(env.get("PR_WAREHOUSE_PROJECTS") or home / "projects.yaml"),
            github_conn_id=env.get("PR_WAREHOUSE_GITHUB_CONN_ID") or "github_default",
            pool=env.get("PR_WAREHOUSE_POOL") or "github_api",
            max_extract_tasks=int(env.get("PR_WAREHOUSE_MAX_EXTRACT_TASKS") or 500),
        )
