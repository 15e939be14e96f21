"""A throw-away Airflow deployment that runs the real DAG the way production does.

``airflow dags test --use-executor`` / ``dag.test(use_executor=True)`` run mapped tasks in
parallel but **ignore pools** (checked on Airflow 3.3.2: six extracts started at once in a
pool of 4, and ``queued_dttm`` stays empty). So the benchmark runs the real thing: the
scheduler with its LocalExecutor, the execution API server, the ``github_api`` pool set
with ``airflow pools set``, a SQLite metadata DB in a private ``AIRFLOW_HOME``, and the run
created with ``airflow dags trigger``. Cron scheduling is off
(``[scheduler] use_job_schedule = False``) so unpausing the ``@daily`` DAG does not add a
scheduled run next to ours.

Starting, watching and stopping the Airflow processes is the test harness's
(:class:`tests.support.airflow.Airflow`, importable because ``python -m bench`` runs from the
checkout's root): the benchmark, the browser tests and the Celery test start Airflow one way.

Example::

    with AirflowDeployment(home, extra_env) as airflow:
        airflow.trigger({"orgs": ["bench"]}, run_id="bench")
        state = airflow.wait("bench", timeout=900)
        timings = airflow.task_instances("bench")
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pr_warehouse.constants import DAG_ID
from tests.support.airflow import Airflow, AirflowFailed
from tests.support.ports import free_port

log = logging.getLogger(__name__)

__all__ = ["DAG_ID", "AirflowDeployment", "AirflowFailed", "TaskTiming", "epoch", "free_port"]


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


class AirflowDeployment(Airflow):
    """Scheduler + LocalExecutor + execution API server in a private ``AIRFLOW_HOME``.

    ``executor="CeleryExecutor"`` runs the tasks on Celery workers instead, which the
    caller starts with :meth:`start_celery_worker` (one per queue, each with its own
    environment, as on separate hosts). The broker and result backend are SQLite files
    in the home (kombu's SQLAlchemy transport): no Redis needed.
    """

    def __init__(self, home: Path, extra_env: dict[str, str], *, pool_slots: int = 4,
                 parallelism: int = 8, executor: str = "LocalExecutor",
                 metadata_db: Path | None = None) -> None:
        self.broker_url = f"sqla+sqlite:///{home / 'celery-broker.db'}"
        super().__init__(home, {
            "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+sqlite:///{home / 'celery-results.db'}",
            **extra_env,
        }, executor=executor,
            # Above the pool size, so the pool is what bounds the extracts.
            parallelism=parallelism, metadata_db=metadata_db)
        self.pool_slots = pool_slots
        self.executor = executor
        self.startup_seconds = 0.0

    # -- lifecycle --------------------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 300) -> str:
        """Run one ``airflow`` CLI command; its output, or :class:`AirflowFailed`."""
        return self.cli(*args, timeout=timeout)

    def start(self) -> AirflowDeployment:
        """Metadata DB, pool, serialized DAG, then the API server and the scheduler."""
        started = time.perf_counter()
        self.setup(self.pool_slots, ("dags", "reserialize"), ("dags", "unpause", DAG_ID))
        if self.executor == "CeleryExecutor":
            self._create_broker_tables()
        self.spawn("api-server", "api-server", "--apps", "execution", "-H", "127.0.0.1",
                   "-p", str(self.api_port), "-w", "1")
        self.spawn("scheduler")
        self.warm_execution_api(timeout=120)
        self.startup_seconds = time.perf_counter() - started
        log.info("Airflow up in %.1fs (home %s, API on :%d)", self.startup_seconds, self.home,
                 self.api_port)
        return self

    def _create_broker_tables(self) -> None:
        """kombu's SQLAlchemy transport creates its tables when a process first opens the
        broker, without retrying: two workers starting together race on ``CREATE TABLE`` and
        one exits ("table kombu_queue already exists"). Created here, before any starts."""
        from kombu import Connection

        with Connection(self.broker_url) as connection:
            connection.default_channel.session.close()

    def start_celery_worker(self, name: str, queues: list[str],
                            env: dict[str, str] | None = None, concurrency: int = 2) -> Path:
        """A Celery worker serving ``queues``, with ``env`` on top of the deployment's (as a
        worker on another host would have); its log file."""
        overrides = {**(env or {}),
                     # Each worker its own log-server port, as on its own host.
                     "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
        self.spawn(name, "celery", "worker", "--queues", ",".join(queues),
                   "--concurrency", str(concurrency), "--celery-hostname", f"{name}@%h",
                   env=overrides)
        return self.logs / f"{name}.log"

    def __enter__(self) -> AirflowDeployment:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    # -- runs -------------------------------------------------------------------------------

    def trigger(self, conf: dict[str, object], run_id: str) -> None:
        self.airflow("dags", "trigger", DAG_ID, "-c", json.dumps(conf), "--run-id", run_id)

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.home / 'airflow.db'}?mode=ro", uri=True, timeout=30)

    def wait(self, run_id: str, timeout: float) -> str:
        """Poll the metadata DB until the run ends; its final state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
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

    def return_value(self, run_id: str, task_id: str) -> Any:
        """A task's XCom return value, decoded (None: none stored)."""
        con = self._db()
        try:
            rows = con.execute(
                "select value from xcom where dag_id = ? and run_id = ? and task_id = ? "
                "and key = 'return_value' and map_index = -1", (DAG_ID, run_id, task_id)
            ).fetchall()
        finally:
            con.close()
        if not rows or rows[0][0] is None:
            return None
        value = rows[0][0]
        value = json.loads(value) if isinstance(value, (str, bytes)) else value
        # Stored as a JSON column, the value may hold its own JSON text once more.
        return json.loads(value) if isinstance(value, str) else value

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
