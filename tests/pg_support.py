"""The local PostgreSQL server for tests (``scripts/postgres.sh``), and a database per test.

``make test`` starts the server and exports ``PR_WAREHOUSE_TEST_PG_DSN``; run directly, pytest
starts it through the same script. A test that needs Postgres is skipped, naming why, only
when the server truly cannot be started (no package and no root to install it, say).

Import the fixtures into a test module to use them::

    from pg_support import pg_database, pg_server  # noqa: F401  (pytest fixtures)
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import pytest

from conftest import ROOT

DSN_ENV = "PR_WAREHOUSE_TEST_PG_DSN"
SCRIPT = ROOT / "scripts" / "postgres.sh"


@lru_cache(maxsize=1)
def _server_dsn() -> tuple[str | None, str]:
    """``(dsn, "")`` of a running server, or ``(None, why not)``."""
    dsn = os.environ.get(DSN_ENV)
    if dsn:
        return dsn, ""
    out = subprocess.run(["bash", str(SCRIPT), "start"], capture_output=True, text=True,
                         timeout=600)
    if out.returncode == 0 and out.stdout.strip():
        return out.stdout.strip().splitlines()[-1], ""
    tail = "\n".join((out.stderr or "").strip().splitlines()[-8:])
    return None, f"PostgreSQL could not be started by {SCRIPT.name} (exit {out.returncode}): {tail}"


def with_database(dsn: str, dbname: str) -> str:
    """The same server DSN pointing at another database.

    >>> with_database("postgresql://postgres@127.0.0.1:5433/postgres", "x")
    'postgresql://postgres@127.0.0.1:5433/x'
    """
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + dbname))


@pytest.fixture(scope="session")
def pg_server() -> str:
    """DSN of the maintenance database (``postgres``) of the local test server."""
    import psycopg

    dsn, why = _server_dsn()
    if dsn is None:
        pytest.skip(why)
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL at {dsn} does not answer: {exc}")
    return dsn


@pytest.fixture()
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh, empty database for one test (dropped afterwards); yields its DSN."""
    import psycopg

    name = f"prw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        yield with_database(pg_server, name)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def airflow_connection(dsn: str) -> dict:
    """An Airflow ``postgres`` connection (JSON form) for a DSN."""
    parts = urlsplit(dsn)
    return {"conn_type": "postgres", "host": parts.hostname, "port": parts.port,
            "login": parts.username or "postgres", "password": parts.password or "",
            "schema": parts.path.lstrip("/")}


def sqlalchemy_url(dsn: str) -> str:
    """Airflow's ``sql_alchemy_conn`` for a DSN (psycopg 3 under SQLAlchemy 2).

    >>> sqlalchemy_url("postgresql://postgres@127.0.0.1:5433/db")
    'postgresql+psycopg://postgres@127.0.0.1:5433/db'
    """
    return dsn.replace("postgresql://", "postgresql+psycopg://", 1)
