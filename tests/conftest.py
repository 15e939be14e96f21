"""Test-wide set-up: a private Airflow home (before Airflow is imported) and shared helpers.

Airflow reads its configuration when first imported, so the environment is fixed here at
collection time; the metadata database is migrated once per session (by the first worker
whose tests ask for the ``airflow_db`` fixture; the others copy it).
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="prw-airflow-"))

from pr_warehouse.config import Settings, project_airflow_settings  # noqa: E402 (imports no Airflow)
from pr_warehouse.constants import BATCH_GC_THRESHOLDS  # noqa: E402

# A worker holds Airflow, the emulator's worlds and the DAG runs of its module: at CPython's
# default thresholds its collector rescanned them ~30 times a run (13% of its CPU).
gc.set_threshold(*BATCH_GC_THRESHOLDS)

os.environ.update(project_airflow_settings(Settings.from_env({})))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
os.environ.pop("AIRFLOW_CONN_GITHUB_DEFAULT", None)
os.environ.pop("GITHUB_TOKEN", None)
for var in ("PR_WAREHOUSE_RAW_URL", "PR_WAREHOUSE_DUCKDB", "PR_WAREHOUSE_SNAPSHOT"):
    os.environ.pop(var, None)

import pytest  # noqa: E402


# Module ranks, first to last (:func:`module_rank`).
SERVICES, SLOW, E2E, REST = range(4)


def module_rank(item: pytest.Item) -> int:
    """:data:`SERVICES` for a test marked ``services`` (it starts Airflow's own services and
    mostly waits on them: started first, the other modules' work fills its waits instead
    of it running alone at the end), then :data:`SLOW`, :data:`E2E` and :data:`REST`."""
    for rank, marker in ((SERVICES, "services"), (SLOW, "slow"), (E2E, "e2e")):
        if item.get_closest_marker(marker):
            return rank
    return REST


def module_of(item: pytest.Item) -> str:
    """The test file an item belongs to, as its node id names it."""
    return item.nodeid.split("::", 1)[0]


def module_ranks(items: list[pytest.Item]) -> dict[str, int]:
    """Each module's rank: that of its slowest test (:func:`module_rank`)."""
    ranks: dict[str, int] = {}
    for item in items:
        ranks[module_of(item)] = min(ranks.get(module_of(item), REST), module_rank(item))
    return ranks


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules that start Airflow's services first, then those with slow tests, then the
    other end-to-end ones, each group in collection order. ``make test`` hands whole
    modules to its workers in this order (``--dist loadfile --no-loadscope-reorder``), so a
    run ends on quick modules instead of one worker finishing a long one alone while the
    others have nothing left to do."""
    ranks = module_ranks(items)
    items.sort(key=lambda item: ranks[module_of(item)])  # stable: keeps collection order


def pytest_unconfigure(config: pytest.Config) -> None:
    """The private Airflow home goes with the process that made it (each xdist worker and
    the controller have their own)."""
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


def own_metadata_db() -> Path:
    """This process's SQLite metadata DB, as Airflow's configuration names it."""
    from airflow.configuration import conf
    from sqlalchemy.engine import make_url

    return Path(str(make_url(conf.get("database", "sql_alchemy_conn")).database))


@pytest.fixture(scope="session")
def migrated_metadata_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite metadata DB, made once per session: the first xdist worker to need
    one migrates its own (``resetdb``, ~3 core-s) and copies it here (``made_once``). The
    other workers (``airflow_db``) and the Airflows the tests start (``Airflow(...,
    metadata_db=)``) start from copies of it instead of migrating again."""
    from airflow.utils import db

    from tests.support.airflow import copy_metadata_db
    from tests.support.once import made_once

    def migrate(folder: Path) -> Path:
        db.resetdb()
        return copy_metadata_db(own_metadata_db(), folder / "airflow.db")

    return made_once(session_temp(tmp_path_factory) / "airflow-db", migrate)


@pytest.fixture(scope="session")
def airflow_db(migrated_metadata_db: Path) -> Path:
    """A migrated SQLite metadata DB in the session's private AIRFLOW_HOME: the session's
    copy, unless this worker migrated its own to make it."""
    from tests.support.airflow import copy_metadata_db, is_migrated

    own = own_metadata_db()
    if not is_migrated(own):
        copy_metadata_db(migrated_metadata_db, own)
    return _AIRFLOW_HOME


def session_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's temporary folder, shared by its xdist workers (each has its own
    ``popen-gwN`` folder in it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session", autouse=True)
def _product_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The product's cache folder (``PR_WAREHOUSE_CACHE_DIR``) is the session's, shared by
    its workers and the Airflow processes they start, not the user's ``~/.cache``."""
    folder = session_temp(tmp_path_factory) / "pr-warehouse-cache"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("PR_WAREHOUSE_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def docs_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first warehouse docs a run of this session generated, for every fresh warehouse
    to start from (tests/support/docs.py)."""
    from pr_warehouse.constants import DOCS_DIR_NAME

    folder = session_temp(tmp_path_factory) / "warehouse-docs"
    folder.mkdir(exist_ok=True)
    return folder / DOCS_DIR_NAME


@pytest.fixture(scope="session")
def dbt_parse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """dbt's parse of the project, made once per session (the first xdist worker to need it
    makes it, the others wait); every dbt run started after this fixture (in this process,
    by ``dag.test()``, or by an Airflow it starts) begins from it instead of a full parse
    (tests/support/dbt_parse.py)."""
    from tests.support.dbt_parse import PARTIAL_PARSE_ENV, parse_once
    from tests.support.once import made_once

    parsed = made_once(session_temp(tmp_path_factory) / "dbt-parse", parse_once)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv(PARTIAL_PARSE_ENV, str(parsed))
        yield parsed

