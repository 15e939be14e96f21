"""The UI trigger path in a real browser: Airflow's api-server, scheduler and dag-processor
run on loopback (LocalExecutor, the real pool), headless Chromium fills the Trigger DAG form
(repos, page size) and submits it, the run succeeds against the emulator, and the marts hold
exactly the chosen repositories.

Needs Debian's ``chromium`` (``make test`` installs it when missing) and Playwright's Python
package, which drives that browser through ``executable_path`` (it cannot download its own).
A screenshot of the filled form is saved to ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from pr_warehouse.config import Settings
from pr_warehouse.transform.dbt import EXCLUDE_ENV, MODELS_ONLY
from tests.support.airflow import Airflow, get_json
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.support.connections import github_conn_env
from tests.support.docs import docs_shared

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.services, pytest.mark.timeout(600)]

DAG_ID = "github_pull_requests"
TOKEN = "ui-e2e-token"


@dataclass
class Stack:
    """A running Airflow on loopback and where its pipeline writes."""

    base_url: str
    duckdb_path: Path
    logs: Path
    world: Any

    def api(self, path: str) -> Any:
        status, body = get_json(f"{self.base_url}/api/v2/{path}")
        assert status == 200, f"GET {path}: {status}"
        return body


@pytest.fixture(scope="module")
def airflow_stack(tmp_path_factory: pytest.TempPathFactory, docs_cache: Path,
                  migrated_metadata_db: Path) -> Iterator[Stack]:
    require_chromium()
    from github_emulator import EmulatorServer, build_world

    tmp = tmp_path_factory.mktemp("ui")
    logs = tmp / "logs"
    world = build_world()
    github = EmulatorServer(world, tokens={TOKEN})
    github.start()
    try:
        env = {
            "AIRFLOW_CONN_GITHUB_DEFAULT": github_conn_env(github.url, TOKEN),
            "AIRFLOW_CONN_WAREHOUSE_POSTGRES": None,
            "PR_WAREHOUSE_RAW_URL": (tmp / "raw").as_uri(),
            "PR_WAREHOUSE_DUCKDB": str(tmp / "warehouse.duckdb"),
            "PR_WAREHOUSE_SNAPSHOT": str(tmp / "snapshot.duckdb"),
            # The subject is the trigger form: the models without their data tests
            # (tests/e2e/conftest.py).
            EXCLUDE_ENV: MODELS_ONLY,
        }
        with docs_shared(Settings.from_env(env), docs_cache), \
                Airflow(tmp / "airflow", env, logs=logs, cwd=ROOT,
                        metadata_db=migrated_metadata_db) as airflow:
            airflow.setup()  # without the pool the real scheduler never runs the extracts
            for name in ("api-server", "scheduler", "dag-processor"):
                airflow.spawn(name)
            started = time.monotonic()
            airflow.wait_healthy()
            # Otherwise the first task's call stalls the server's worker ~15 s and it retries.
            airflow.warm_execution_api()
            airflow.wait_for("the DAG to be parsed",
                             lambda: airflow.get(f"/api/v2/dags/{DAG_ID}")[0] == 200)
            # A new DAG starts paused, and the scheduler never starts a paused DAG's runs.
            # The form's "unpause on trigger" did not always land on a busy CI machine (the
            # run stayed queued behind a paused DAG); this test is about the form's Params.
            airflow.cli("dags", "unpause", DAG_ID)
            print(f"Airflow ready in {time.monotonic() - started:.1f}s at {airflow.base_url} "
                  f"(logs: {logs})")
            yield Stack(airflow.base_url, tmp / "warehouse.duckdb", logs, world)
    finally:
        github.stop()


def _failure_report(stack: Stack, run_id: str) -> str:
    """Task states and the tail of each failed task's log, for a useful failure message."""
    quoted = urllib.parse.quote(run_id, safe="")
    tis = stack.api(f"dags/{DAG_ID}/dagRuns/{quoted}/taskInstances?limit=100")
    lines = [f"{t['task_id']}[{t.get('rendered_map_index') or t['map_index']}]: {t['state']}"
             for t in tis["task_instances"]]
    for log in sorted(stack.logs.glob("*.log")):
        lines.append(f"--- {log.name} (tail)")
        lines += log.read_text(errors="replace").splitlines()[-15:]
    return "\n".join(lines)


def test_trigger_form_in_a_real_browser_runs_the_dag(airflow_stack: Stack) -> None:
    from playwright.sync_api import expect, sync_playwright

    stack = airflow_stack
    acme = sorted((r for r in stack.world.repositories()
                   if r.owner.login == "acme" and not r.is_archived and r.pull_requests),
                  key=lambda r: r.name_with_owner)
    chosen = [r.name_with_owner for r in acme[:2]]
    page_size = 17
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    form_png = ARTIFACTS / "ui_trigger_form.png"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        # Tall enough that the whole dialog, every Param, fits in the screenshot.
        page = browser.new_page(viewport={"width": 1400, "height": 3000})
        page.set_default_timeout(60_000)
        try:
            # The UI keeps polling: wait for elements, never for network idle.
            page.goto(f"{stack.base_url}/dags/{DAG_ID}", wait_until="domcontentloaded")
            page.get_by_role("button", name="Trigger Dag").first.click()
            dialog = page.get_by_role("dialog")
            expect(dialog).to_be_visible()
            # The Params sit in collapsed sections (`section=`), one open at a time: open
            # each just before filling it.
            dialog.get_by_role("button", name="What to sync").click()
            # An array-of-strings Param is a textarea, one item per line (its <label for>
            # does not match the field, so it is found by id).
            repos = dialog.locator("#element_repos")
            expect(repos).to_be_visible()
            repos.fill("\n".join(chosen))
            dialog.get_by_role("button", name="Tuning").click()
            size = dialog.get_by_role("spinbutton", name="Page size")
            size.fill(str(page_size))
            expect(size).to_have_value(str(page_size))
            dialog.screenshot(path=str(form_png))
            print(f"screenshot of the filled form: {form_png}")
            dialog.get_by_test_id("trigger-dag-submit").click()
            expect(dialog).to_be_hidden()
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "ui_trigger_failure.png"), full_page=True)
            raise
        finally:
            browser.close()

    # The run the form created, with the form's values as its conf.
    runs = stack.api(f"dags/{DAG_ID}/dagRuns?limit=20")["dag_runs"]
    assert [r["run_type"] for r in runs] == ["manual"], runs
    run = runs[0]
    assert run["conf"]["repos"] == chosen and int(run["conf"]["page_size"]) == page_size
    run_id = run["dag_run_id"]
    quoted = urllib.parse.quote(run_id, safe="")

    def finished() -> str | None:
        state = stack.api(f"dags/{DAG_ID}/dagRuns/{quoted}")["state"]
        return state if state in ("success", "failed") else None

    started = time.monotonic()
    deadline = started + 300
    state = None
    while time.monotonic() < deadline and not (state := finished()):
        time.sleep(2)
    print(f"trigger to {state}: {time.monotonic() - started:.1f}s")
    assert state == "success", _failure_report(stack, run_id)

    tis = stack.api(f"dags/{DAG_ID}/dagRuns/{quoted}/taskInstances?limit=100")["task_instances"]
    extracts = {t["rendered_map_index"]: t["state"] for t in tis if t["task_id"] == "extract"}
    assert extracts == {repo: "success" for repo in chosen}

    # The marts hold exactly the chosen repositories, every PR of each.
    import duckdb

    con = duckdb.connect(str(stack.duckdb_path), read_only=True)
    try:
        facts = dict(con.execute("select repo, count(*) from analytics.fct_pull_requests "
                                 "group by repo").fetchall())
        sizes = {r[0] for r in con.execute("select distinct page_size_final "
                                           "from analytics.fct_sync_runs").fetchall()}
    finally:
        con.close()
    assert facts == {r.name_with_owner: len(r.pull_requests) for r in acme[:2]}
    assert sizes <= {page_size}, sizes  # the form's page size reached the extract
