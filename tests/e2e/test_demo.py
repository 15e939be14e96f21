"""``pr-warehouse demo`` (what ``make demo`` runs): a newcomer's first minute."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pr_warehouse.config import Settings, project_airflow_settings
from pr_warehouse.transform.dbt import EXCLUDE_ENV, MODELS_ONLY
from tests.support.docs import docs_shared

pytestmark = pytest.mark.e2e


@pytest.mark.slow
def test_demo_prints_a_line_per_task_then_the_marts_and_names_its_log(tmp_path: Path,
                                                                      docs_cache: Path) -> None:
    # A plain shell, not the Makefile's: the command finds the project's DAGs by itself.
    project = project_airflow_settings(Settings.from_env({}))
    env = {name: value for name, value in os.environ.items() if name not in project}
    env = {**env, "AIRFLOW_HOME": str(tmp_path / "airflow"),
           "PR_WAREHOUSE_DUCKDB": str(tmp_path / "warehouse.duckdb"),
           "PR_WAREHOUSE_RAW_URL": (tmp_path / "raw").as_uri(),
           # The subject is what a newcomer reads, not the numbers: the models without
           # their data tests (tests/e2e/conftest.py).
           EXCLUDE_ENV: MODELS_ONLY}
    exe = Path(sys.executable).with_name("pr-warehouse")
    with docs_shared(Settings.from_env(env), docs_cache):
        out = subprocess.run([str(exe), "demo"], env=env, capture_output=True, text=True,
                             timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert len(lines) <= 60, out.stdout
    assert out.stderr.strip() == ""  # Airflow's own output went to the log file

    finished = [line for line in lines if line.startswith("  ✔ ")]
    names = [line.split()[1] for line in finished]
    assert {"resolve_repositories", "plan", "load", "transform", "publish"} <= set(names)
    extracts = [line for line in finished if line.split()[1].startswith("extract[acme/")]
    assert extracts and all(re.search(r"\d+ PRs, \d+ points", line) for line in extracts)
    (report,) = [line for line in finished if line.split()[1] == "report"]
    assert report.endswith("/report.html") and Path(report.split()[-1].removeprefix("file://")).exists()

    marts = dict(re.findall(r"^  analytics\.(\w+)\s+([\d,]+) rows$", out.stdout, re.M))
    assert int(marts["fct_pull_requests"].replace(",", "")) > 0

    (log_path,) = set(re.findall(r"Airflow.s full log: (\S+?)\)?$", out.stdout, re.M))
    log = Path(log_path)
    assert log.parent == tmp_path / "logs" and "DagRun Finished" in log.read_text()
