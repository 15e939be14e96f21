"""The UI trigger path in a real browser: Airflow's api-server, scheduler and dag-processor
run on loopback (LocalExecutor, the real pool), headless Chromium fills the Trigger DAG form
(repos, page size) and submits it, the run succeeds against the emulator, and the marts hold
exactly the chosen repositories.

Needs Debian's ``chromium`` (``make test`` installs it when missing) and Playwright's Python
package, which drives that browser through ``executable_path`` (it cannot download its own).
A screenshot of the filled form is saved to ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]

DAG_ID = "github_pull_requests"
TOKEN = "ui-e2e-token"
CHROMIUM = os.environ.get("PR_WAREHOUSE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 10) -> tuple[int, Any]:
    """GET a JSON endpoint; ``(status, body)``, status 0 when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
        return 0, None


@dataclass
class Stack:
    """A running Airflow on loopback and where its pipeline writes."""

    base_url: str
    duckdb_path: Path
    logs: Path
    world: Any

    def api(self, path: str) -> Any:
        status, body = _get(f"{self.base_url}/api/v2/{path}")
        assert status == 200, f"GET {path}: {status}"
        return body


def _start(name: str, args: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen:
    """Start one Airflow component in its own process group (so it can be stopped whole)."""
    exe = str(Path(sys.executable).with_name("airflow"))
    out = open(logs / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen([exe, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                            cwd=ROOT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM (each component shuts its children down on it), then kill what is left."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:  # the group: executor workers, gunicorn/uvicorn workers left behind
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def _wait_for(what: str, check, timeout: float, procs: dict[str, subprocess.Popen],
              logs: Path, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        for name, proc in procs.items():
            if proc.poll() is not None:
                tail = (logs / f"{name}.log").read_text(errors="replace").splitlines()[-40:]
                pytest.fail(f"airflow {name} exited {proc.returncode} while waiting for "
                            f"{what}:\n" + "\n".join(tail))
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (logs in {logs})")


@pytest.fixture(scope="module")
def airflow_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (make test installs Debian's chromium; "
                    "or apt-get install -y chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is in requirements.txt")
    from github_emulator import EmulatorServer, build_world

    tmp = tmp_path_factory.mktemp("ui")
    logs = tmp / "logs"
    logs.mkdir()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    world = build_world()
    github = EmulatorServer(world, tokens={TOKEN})
    github.start()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # The default parallelism spawns ~60 processes; 4 is plenty and fits CI.
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        # Unpausing the DAG (the dialog does it) would also create its @daily run, which has
        # no repos and would hold the single active-run slot: only manual runs here.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        # Free ports: a developer's own Airflow may hold the defaults (8793/8794).
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(_free_port()),
        "AIRFLOW_CONN_GITHUB_DEFAULT": json.dumps(
            {"conn_type": "http", "host": github.url, "password": TOKEN}),
        "PR_WAREHOUSE_RAW_URL": (tmp / "raw").as_uri(),
        "PR_WAREHOUSE_DUCKDB": str(tmp / "warehouse.duckdb"),
        "PR_WAREHOUSE_SNAPSHOT": str(tmp / "snapshot.duckdb"),
    }
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)  # the home's own SQLite DB
    env.pop("AIRFLOW_CONN_WAREHOUSE_POSTGRES", None)
    exe = str(Path(sys.executable).with_name("airflow"))
    for args in (["db", "migrate"],
                 # Without the pool the real scheduler never runs the extracts.
                 ["pools", "set", "github_api", "4", "Concurrent extracts against GitHub"]):
        done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    procs: dict[str, subprocess.Popen] = {}
    try:
        for name in ("api-server", "scheduler", "dag-processor"):
            procs[name] = _start(name, [name], env, logs)
        started = time.monotonic()
        _wait_for("the api-server", lambda: _get(f"{base_url}/api/v2/monitor/health")[0] == 200,
                  180, procs, logs)
        # Warm the execution API up: otherwise the first task's call stalls the server's
        # worker ~15 s and the task retries.
        _get(f"{base_url}/execution/health", timeout=60)
        _wait_for("the DAG to be parsed",
                  lambda: _get(f"{base_url}/api/v2/dags/{DAG_ID}")[0] == 200, 180, procs, logs)
        print(f"Airflow ready in {time.monotonic() - started:.1f}s at {base_url} (logs: {logs})")
        yield Stack(base_url, tmp / "warehouse.duckdb", logs, world)
    finally:
        for proc in procs.values():
            _stop(proc)
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
