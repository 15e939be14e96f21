"""A throw-away Airflow deployment that runs the real DAG the way production does.

``airflow dags test --use-executor`` / ``dag.test(use_executor=True)`` run mapped tasks in
parallel but **ignore pools** (checked on Airflow 3.3.2: six extracts started at once in a
pool of 4, and ``queued_dttm`` stays empty). So the benchmark runs the real thing: the
scheduler with its LocalExecutor, the execution API server, the ``github_api`` pool set
with ``airflow pools set``, a SQLite metadata DB in a private ``AIRFLOW_HOME``, and the run
created with ``airflow dags trigger``. Cron scheduling is off
(``[scheduler] use_job_schedule = False``) so unpausing the ``@daily`` DAG does not add a
scheduled run next to ours.

Example::

    with AirflowDeployment(home, extra_env) as airflow:
        airflow.trigger({"orgs": ["bench"]}, run_id="bench")
        state = airflow.wait("bench", timeout=900)
        timings = airflow.task_instances("bench")
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import IO

import requests

from bench.procs import ROOT
from pr_warehouse.constants import DAG_ID
from pr_warehouse.constants import DEFAULT_POOL as POOL

log = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def epoch(value: str | None) -> float | None:
    """A metadata-DB timestamp (naive UTC text in SQLite) as epoch seconds.

    >>> epoch("1970-01-01 00:00:01.500000")
    1.5
    """
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


@dataclass
class TaskTiming:
    """One task instance's life, epoch seconds (``None`` where Airflow did not record it)."""

    task_id: str
    map_index: int
    label: str
    state: str | None
    try_number: int
    queued: float | None
    start: float | None
    end: float | None

    @property
    def seconds(self) -> float | None:
        return None if self.start is None or self.end is None else self.end - self.start


class AirflowFailed(RuntimeError):
    """An Airflow command or component failed; the message says which and where its log is."""


class AirflowDeployment:
    """Scheduler + LocalExecutor + execution API server in a private ``AIRFLOW_HOME``.

    ``executor="CeleryExecutor"`` runs the tasks on Celery workers instead, which the
    caller starts with :meth:`start_celery_worker` (one per queue, each with its own
    environment, as on separate hosts). The broker and result backend are SQLite files
    in the home (kombu's SQLAlchemy transport): no Redis needed.
    """

    def __init__(self, home: Path, extra_env: dict[str, str], *, pool_slots: int = 4,
                 parallelism: int = 8, executor: str = "LocalExecutor") -> None:
        self.home = home
        self.pool_slots = pool_slots
        self.api_port = free_port()
        self.executor = executor
        self.env = self._environment(extra_env, parallelism)
        self._procs: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = []
        self.startup_seconds = 0.0

    def _environment(self, extra: dict[str, str], parallelism: int) -> dict[str, str]:
        api = f"http://127.0.0.1:{self.api_port}"
        return {
            **os.environ,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            "AIRFLOW__CELERY__BROKER_URL": f"sqla+sqlite:///{self.home / 'celery-broker.db'}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+sqlite:///{self.home / 'celery-results.db'}",
            # Above the pool size, so the pool is what bounds the extracts.
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # One secret for every component, or task tokens fail validation.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **extra,
        }

    # -- lifecycle --------------------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 300) -> str:
        """Run one ``airflow`` CLI command; its output, or :class:`AirflowFailed`."""
        exe = str(Path(sys.executable).with_name("airflow"))
        done = subprocess.run([exe, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, cwd=self.home)
        if done.returncode != 0:
            raise AirflowFailed(f"airflow {' '.join(args)} exited {done.returncode}:\n"
                                + (done.stdout + done.stderr)[-3000:])
        return done.stdout

    def _spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        exe = str(Path(sys.executable).with_name("airflow"))
        output = open(self.home / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop())
        # A session of its own: stop() signals the component and every child it forked.
        proc = subprocess.Popen([exe, *args], env={**self.env, **(env or {})}, stdout=output,
                                stderr=subprocess.STDOUT, cwd=self.home, start_new_session=True)
        self._procs.append((name, proc, output))

    def start(self) -> AirflowDeployment:
        """Metadata DB, pool, serialized DAG, then the API server and the scheduler."""
        started = time.perf_counter()
        self.home.mkdir(parents=True, exist_ok=True)
        self.airflow("db", "migrate")
        self.airflow("pools", "set", POOL, str(self.pool_slots), "benchmark: the shipped size")
        self.airflow("dags", "reserialize")
        self.airflow("dags", "unpause", DAG_ID)
        self._spawn("api-server", "api-server", "--apps", "execution", "-H", "127.0.0.1",
                    "-p", str(self.api_port), "-w", "1")
        self._spawn("scheduler", "scheduler")
        self._wait_for_api()
        self.startup_seconds = time.perf_counter() - started
        log.info("Airflow up in %.1fs (home %s, API on :%d)", self.startup_seconds, self.home,
                 self.api_port)
        return self

    def start_celery_worker(self, name: str, queues: list[str],
                            env: dict[str, str] | None = None, concurrency: int = 2) -> Path:
        """A Celery worker serving ``queues``, with ``env`` on top of the deployment's (as a
        worker on another host would have); its log file."""
        overrides = {**(env or {}),
                     # Each worker its own log-server port, as on its own host.
                     "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
        self._spawn(name, "celery", "worker", "--queues", ",".join(queues),
                    "--concurrency", str(concurrency), "--celery-hostname", f"{name}@%h",
                    env=overrides)
        return self.home / f"{name}.log"

    def _wait_for_api(self, timeout: float = 120) -> None:
        """Wait for the execution API; its first answer warms it (else the first task stalls)."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.api_port}/execution/health"
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if requests.get(url, timeout=30).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise AirflowFailed(f"the execution API did not answer on {url} within {timeout:.0f}s; "
                            f"see {self.home / 'api-server.log'}")

    def _check_alive(self) -> None:
        for name, proc, _ in self._procs:
            if proc.poll() is not None:
                raise AirflowFailed(f"airflow {name} exited {proc.returncode}; see "
                                    f"{self.home / (name + '.log')}")

    def stop(self) -> None:
        """SIGTERM each component's process group, SIGKILL what is left after 30 s."""
        for _, proc, _ in reversed(self._procs):
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        for name, proc, output in reversed(self._procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                log.warning("airflow %s ignored SIGTERM; killing it", name)
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=10)
            output.close()
        self._procs.clear()

    def __enter__(self) -> AirflowDeployment:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- runs -------------------------------------------------------------------------------

    def trigger(self, conf: dict[str, object], run_id: str) -> None:
        self.airflow("dags", "trigger", DAG_ID, "-c", json.dumps(conf), "--run-id", run_id)

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.home / 'airflow.db'}?mode=ro", uri=True, timeout=30)

    def wait(self, run_id: str, timeout: float) -> str:
        """Poll the metadata DB until the run ends; its final state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            con = self._db()
            try:
                rows = con.execute("select state from dag_run where dag_id = ? and run_id = ?",
                                   (DAG_ID, run_id)).fetchall()
            except sqlite3.OperationalError:  # locked for a moment by the scheduler
                rows = []
            finally:
                con.close()
            if rows and rows[0][0] in ("success", "failed"):
                return str(rows[0][0])
            time.sleep(1)
        raise AirflowFailed(f"run {run_id} did not finish within {timeout:.0f}s; see "
                            f"{self.home / 'scheduler.log'} and {self.home / 'logs'}")

    def task_instances(self, run_id: str) -> list[TaskTiming]:
        """Every task instance of the run with its queued, start and end times."""
        con = self._db()
        try:
            rows = con.execute(
                "select task_id, map_index, rendered_map_index, state, try_number, queued_dttm, "
                "start_date, end_date from task_instance where dag_id = ? and run_id = ? "
                "order by task_id, map_index", (DAG_ID, run_id)).fetchall()
        finally:
            con.close()
        return [
            TaskTiming(task_id, map_index, rendered or task_id, state, try_number,
                       epoch(queued), epoch(start), epoch(end))
            for task_id, map_index, rendered, state, try_number, queued, start, end in rows
        ]

    def run_window(self, run_id: str) -> tuple[float | None, float | None]:
        """The run's start and end (epoch seconds)."""
        con = self._db()
        try:
            start, end = con.execute(
                "select start_date, end_date from dag_run where dag_id = ? and run_id = ?",
                (DAG_ID, run_id)).fetchall()[0]
        finally:
            con.close()
        return epoch(start), epoch(end)


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)  # the group we created for this component
    except ProcessLookupError:
        pass
