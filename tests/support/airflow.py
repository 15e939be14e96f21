"""A real Airflow on loopback in a private home: its environment, its CLI, its long-running
components (``api-server``, ``scheduler``, ``dag-processor``, ``triggerer``, Celery workers,
``standalone``), waits on their health, and a clean stop.

What it relies on (Airflow 3.3.2, see ``STACK.md`` of this project's machines):

- Each component runs in a session (process group) of its own, so stopping it signals every
  child it forked (executor workers, API server workers).
- Components stop on SIGTERM; ``airflow standalone`` stops cleanly only on SIGINT (SIGTERM to
  it orphans its children), and a process started from a non-interactive shell inherits
  SIGINT *ignored*: every component is started with SIGINT reset to its default, so either
  signal works. Whatever is left of a component's group after its grace period is killed.
- The API server is up when ``/api/v2/monitor/health`` answers 200 (an ``api-server --apps
  execution`` serves ``/execution/health`` only). The first ``/execution/health`` call warms
  the execution API (~8 s); without it the first task stalls the server's worker ~15 s and
  retries.
- Default ports are replaced with free ones: the API's, the worker and triggerer log servers'
  (8793, 8794) and the scheduler's health check (8974): a developer's own Airflow may hold them.
- One JWT secret for every component, or task tokens fail validation.

Example::

    with Airflow(tmp / "airflow", {"AIRFLOW_CONN_GITHUB_DEFAULT": conn}) as airflow:
        airflow.setup()                      # db migrate, the extracts' pool
        airflow.spawn("api-server")
        airflow.spawn("scheduler")
        airflow.wait_healthy()
        airflow.get("/api/v2/dags")          # (status, JSON body)
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
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import closing
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TypeVar

from pr_warehouse.cli import airflow_exe
from pr_warehouse.config import Settings, project_airflow_settings
from pr_warehouse.constants import DEFAULT_POOL, DEFAULT_POOL_SLOTS

from .ports import free_port

log = logging.getLogger(__name__)

API_HEALTH = "/api/v2/monitor/health"
EXECUTION_HEALTH = "/execution/health"
#: The signal each component stops cleanly on (SIGTERM unless listed).
STOP_SIGNALS = {"standalone": signal.SIGINT}
STOP_GRACE_SECONDS = 30.0
# A component still running this long after its stop signal gets it once more.
SIGNAL_AGAIN_SECONDS = 5.0

# Runs before the component's own program: SIGINT back to its default, then exec (same pid).
_RESET_SIGINT_AND_EXEC = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                          "os.execv(sys.argv[1], sys.argv[1:])")

T = TypeVar("T")


class AirflowFailed(RuntimeError):
    """An Airflow command or component failed; the message says which, with its log's tail."""


def airflow_env(home: Path, extra: Mapping[str, str | None] | None = None, *,
                base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of an Airflow in ``home``: ``base`` (default ``os.environ``), the
    product's own settings for this checkout (its DAGs and plugins, no examples), the
    home's own SQLite metadata DB, then ``extra`` (a ``None`` value removes that variable).

    >>> env = airflow_env(Path("/h"), {"X": "1", "HOME": None}, base={"HOME": "/root"})
    >>> env["AIRFLOW_HOME"], env["X"], "HOME" in env
    ('/h', '1', False)
    """
    env = {
        **(os.environ if base is None else base),
        **project_airflow_settings(Settings.from_env({})),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)  # unless extra sets one
    for name, value in (extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


# One interpreter for a list of CLI commands: each `airflow` process spends ~2.5 s of CPU
# importing Airflow before its command starts. argv is the JSON list of commands.
_CLI_BATCH = """
import json, sys
from airflow.__main__ import main
for args in json.loads(sys.argv[1]):
    print("$ airflow " + " ".join(args), flush=True)
    sys.argv = ["airflow", *args]
    main()
"""


def airflow_cli(args: list[str] | tuple[str, ...], env: Mapping[str, str], *,
                log_file: Path | None = None, cwd: Path | None = None,
                timeout: float = 300) -> str:
    """Run one ``airflow`` CLI command; its standard output (see :func:`airflow_cli_batch`)."""
    return airflow_cli_batch([args], env, log_file=log_file, cwd=cwd, timeout=timeout)


def airflow_cli_batch(commands: list[list[str]] | list[tuple[str, ...]], env: Mapping[str, str],
                      *, log_file: Path | None = None, cwd: Path | None = None,
                      timeout: float = 300) -> str:
    """Run ``airflow`` CLI ``commands`` in order, in one process, as the ``airflow`` script
    would run each; their standard output. Their whole output is appended to ``log_file``;
    the first that fails stops the rest and raises :class:`AirflowFailed` with the output's
    tail."""
    started = time.monotonic()
    names = "; ".join(" ".join(args) for args in commands)
    batch = json.dumps([list(args) for args in commands])
    done = subprocess.run([sys.executable, "-c", _CLI_BATCH, batch], env=dict(env),
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)
    took = time.monotonic() - started
    if log_file is not None:
        with open(log_file, "a") as out:
            out.write(f"{done.stdout}{done.stderr}# exit {done.returncode}, {took:.1f}s\n\n")
    if done.returncode != 0:
        where = f" (log: {log_file})" if log_file is not None else ""
        raise AirflowFailed(f"airflow {names} exited {done.returncode}{where}:\n"
                            + (done.stdout + done.stderr)[-3000:])
    log.info("airflow %s: %.1fs", names, took)
    return done.stdout


def copy_metadata_db(source: Path, target: Path) -> Path:
    """A SQLite metadata DB copied through SQLite's backup API: whole and consistent
    whatever its journal still holds, and safe while ``target`` has connections open."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return target


def is_migrated(path: Path) -> bool:
    """Whether the SQLite file at ``path`` holds an Airflow schema (its Alembic revision)."""
    if not path.is_file():
        return False
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        return con.execute("select count(*) from sqlite_master where type = 'table' "
                           "and name = 'alembic_version'").fetchone()[0] == 1


def get_json(url: str, timeout: float = 10) -> tuple[int, Any]:
    """GET a JSON endpoint: ``(status, body)``; status 0 while nothing answers, body ``None``
    when it is not JSON."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        return err.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
        return 0, None
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file ("" when there is none)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)  # the session (group) the component leads
    except ProcessLookupError:
        pass


class Airflow:
    """A private Airflow home on loopback and the components started in it.

    ``env`` goes on top of :func:`airflow_env` and the harness's own settings (free ports,
    ``executor``, ``parallelism``, every user an admin, no cron runs, one JWT secret): a
    ``None`` value removes a variable. Component logs go to ``logs/<name>.log`` and CLI
    output to ``logs/cli.log`` (``logs`` defaults to the home); commands run in ``cwd``
    (default: the home). ``metadata_db``, a migrated SQLite metadata DB, is copied into the
    home, and :meth:`setup` then runs no ``db migrate``. Use as a context manager, or call
    :meth:`stop`.
    """

    def __init__(self, home: Path, env: Mapping[str, str | None] | None = None, *,
                 logs: Path | None = None, cwd: Path | None = None,
                 executor: str = "LocalExecutor", parallelism: int = 4,
                 metadata_db: Path | None = None) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs = Path(logs) if logs is not None else self.home
        self.logs.mkdir(parents=True, exist_ok=True)
        self.cwd = Path(cwd) if cwd is not None else self.home
        self.api_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.api_port}"
        self.env = airflow_env(self.home, {
            "AIRFLOW__CORE__EXECUTOR": executor,
            # The default (32) spawns ~60 processes; a few are plenty on loopback.
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            # No login page, no tokens for REST calls.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # Unpausing the @daily DAG must not add a scheduled run next to the test's own.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port()),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            **(env or {}),
        })
        # A migrated SQLite metadata DB to start from (copied into the home) instead of
        # running `airflow db migrate` in :meth:`setup`.
        self.migrated = metadata_db is not None
        if metadata_db is not None:
            if "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" in self.env:
                raise ValueError("metadata_db is a SQLite file for the home's own metadata "
                                 "DB; this Airflow is given another database")
            copy_metadata_db(metadata_db, self.home / "airflow.db")
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._outputs: dict[str, IO[bytes]] = {}
        self._stop_signals: dict[str, int] = {}

    # -- commands and components -------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 300) -> str:
        """Run ``airflow ARGS`` in this home; its standard output (see :func:`airflow_cli`)."""
        return airflow_cli(args, self.env, log_file=self.logs / "cli.log", cwd=self.cwd,
                           timeout=timeout)

    def setup(self, pool_slots: int = DEFAULT_POOL_SLOTS, *then: tuple[str, ...]) -> None:
        """The metadata DB, and the pool the extracts run in (the real scheduler never runs
        a task whose pool is missing); then the CLI commands ``then``. One process runs
        them all (:func:`airflow_cli_batch`)."""
        migrate = [] if self.migrated else [("db", "migrate")]
        airflow_cli_batch([*migrate,
                           ("pools", "set", DEFAULT_POOL, str(pool_slots),
                            "Concurrent extracts against GitHub"),
                           *then], self.env, log_file=self.logs / "cli.log", cwd=self.cwd)

    def spawn(self, name: str, *args: str, env: Mapping[str, str] | None = None,
              stop_signal: int | None = None) -> subprocess.Popen[bytes]:
        """Start ``airflow ARGS`` (default: ``airflow NAME``) as component ``name``, in a
        session of its own, output to ``logs/NAME.log``; ``env`` on top of the home's (as a
        component on another host would have). ``stop_signal`` is what :meth:`stop` sends
        (default from :data:`STOP_SIGNALS`, else SIGTERM)."""
        if name in self.procs:
            raise ValueError(f"component {name!r} already started")
        output = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop())
        command = [sys.executable, "-c", _RESET_SIGINT_AND_EXEC, airflow_exe(),
                   *(args or (name,))]
        proc = subprocess.Popen(command, env={**self.env, **(env or {})}, stdout=output,
                                stderr=subprocess.STDOUT, cwd=self.cwd, start_new_session=True)
        self.procs[name] = proc
        self._outputs[name] = output
        self._stop_signals[name] = (stop_signal if stop_signal is not None
                                    else STOP_SIGNALS.get(args[0] if args else name,
                                                          signal.SIGTERM))
        return proc

    def check_alive(self) -> None:
        """Raise :class:`AirflowFailed` (with its log's tail) if a component has exited."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AirflowFailed(f"airflow {name} exited {proc.returncode} (log: "
                                    f"{self.logs / (name + '.log')}):\n"
                                    + tail(self.logs / f"{name}.log"))

    # -- waiting -----------------------------------------------------------------------------

    def wait_for(self, what: str, check: Callable[[], T], timeout: float = 180,
                 interval: float = 1.0) -> T:
        """Poll ``check()`` until it returns something truthy (returned); fail as soon as a
        component exits, or after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            self.check_alive()
            if time.monotonic() >= deadline:
                raise AirflowFailed(f"timed out after {timeout:.0f}s waiting for {what} "
                                    f"(logs in {self.logs})")
            time.sleep(interval)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def get(self, path: str, timeout: float = 10) -> tuple[int, Any]:
        """GET ``path`` of the API server: ``(status, JSON body)``, status 0 while it is down."""
        return get_json(self.url(path), timeout=timeout)

    def wait_healthy(self, timeout: float = 180) -> None:
        """The API server answers its health check."""
        self.wait_for("the api-server", lambda: self.get(API_HEALTH)[0] == 200, timeout)

    def warm_execution_api(self, timeout: float = 180) -> None:
        """Wait for the execution API; its first answer (~8 s) warms it up."""
        self.wait_for("the execution API",
                      lambda: self.get(EXECUTION_HEALTH, timeout=60)[0] == 200, timeout,
                      interval=0.5)

    # -- stopping ----------------------------------------------------------------------------

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Signal each component's group (newest first); signal again whatever still runs
        after :data:`SIGNAL_AGAIN_SECONDS`, wait up to ``grace`` seconds for each, then
        kill whatever is left of its group.

        The second signal is Airflow's own "signal again if you don't want to wait": on
        the first, the scheduler's LocalExecutor waits for its workers, and it was seen to
        wait out the whole grace period after every task had finished.
        """
        running = list(reversed(self.procs.items()))
        for name, proc in running:
            if proc.poll() is None:
                _signal_group(proc, self._stop_signals[name])
        deadline = time.monotonic() + SIGNAL_AGAIN_SECONDS
        for name, proc in running:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, self._stop_signals[name])
        for name, proc in running:
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                log.warning("airflow %s ignored signal %d twice for %.0fs; killing it", name,
                            self._stop_signals[name], grace)
            _signal_group(proc, signal.SIGKILL)  # stragglers: executor or server workers
            proc.wait(timeout=10)
            self._outputs.pop(name).close()
        self.procs.clear()

    def __enter__(self) -> Airflow:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
