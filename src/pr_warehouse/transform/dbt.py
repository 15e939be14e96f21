"""Run dbt as a subprocess.

dbt runs in its own process so DuckDB's single-writer lock is held only while dbt works
(an in-process ``dbtRunner`` keeps the file locked for the rest of the Airflow task).

The run's ``as_of`` reaches dbt in the environment (``AS_OF_ENV``), not in ``--vars``: dbt
re-parses the whole project when a var changes (4 s of every run, since ``as_of`` changes
every run), but only the files that read an environment variable when it changes.

For the same reason dbt runs in the warehouse's folder and the profile names the file
relative to it: dbt also re-parses everything when the profile's connection changes, and
an absolute path would make two warehouses of the same project parse differently (a moved
data folder, or a fresh warehouse started from another's ``partial_parse.msgpack``).

Example::

    run_dbt(Settings.from_env(), ["build"], as_of="2026-11-28T00:00:00+00:00")
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Any

from pr_warehouse.config import Settings

log = logging.getLogger(__name__)

# The environment variable dbt/macros/as_of.sql reads the run's as_of from (a var of the
# same name, given on dbt's command line, still overrides it).
AS_OF_ENV = "PR_WAREHOUSE_AS_OF"
# What the docs depend on besides dbt itself: the project's own files.
_PROJECT_SUFFIXES = (".sql", ".yml", ".yaml", ".md", ".csv")
# Where generate_docs records the fingerprint of the project its docs were made from.
_DOCS_FINGERPRINT = "fingerprint.txt"
# dbt settings the environment may override, by dbt's own names:
# - dbt's file log repeats the console's lines (which go to our log): at dbt's default level
#   (debug) it also writes every node's SQL, which costs ~10% of a small build
#   (`DBT_LOG_LEVEL_FILE=debug` to get it).
# - Unit tests check the models' SQL on fixtures, not the data: they run where the SQL
#   changes (tests/dbt, CI), not on every run, as dbt's docs advise. MODELS_ONLY leaves
#   out the data tests too (6 s against 14 s on tests/dbt's warehouse); an empty value
#   runs the unit tests as well.
EXCLUDE_ENV = "DBT_EXCLUDE_RESOURCE_TYPES"
MODELS_ONLY = "unit_test test"
ENV_DEFAULTS = {"DBT_LOG_LEVEL_FILE": "info", EXCLUDE_ENV: "unit_test"}


# What dbt says when an incremental model's columns differ from its table's
# (on_schema_change='fail'), and what dbt/macros/incremental.sql says of a table built
# before its model was incremental: the project changed, the tables must be rebuilt.
SCHEMA_CHANGED = ("The source and target schemas on this incremental model are out of sync",
                  "has no loaded_at column: rebuild it with --full-refresh")


class DbtFailed(RuntimeError):
    """``dbt`` exited non-zero; the message ends with its last output lines.

    ``schema_changed``: an incremental model's columns no longer match its table's.
    """

    def __init__(self, message: str, schema_changed: bool = False) -> None:
        super().__init__(message)
        self.schema_changed = schema_changed


def dbt_launcher() -> list[str]:
    """How dbt is started: this interpreter (dbt-duckdb is one of the package's
    dependencies) running dbt's own command line, with the collector set for a batch job
    (``transform/dbt_cli.py``).

    >>> dbt_launcher()[1:]
    ['-m', 'pr_warehouse.transform.dbt_cli']
    """
    return [sys.executable, "-m", "pr_warehouse.transform.dbt_cli"]


def build_args(full_refresh: bool = False) -> list[str]:
    """``dbt build``'s arguments for a run: every model and data test (what it leaves out
    is ``DBT_EXCLUDE_RESOURCE_TYPES``, unit tests by default: :data:`ENV_DEFAULTS`).
    Incremental models rebuild only the PRs loaded since their last build, unless
    ``full_refresh`` rebuilds every model from scratch.

    >>> build_args()
    ['build']
    >>> build_args(full_refresh=True)
    ['build', '--full-refresh']
    """
    return ["build", "--full-refresh"] if full_refresh else ["build"]


def target_dir(settings: Settings) -> Path:
    """dbt's artifacts folder: beside the warehouse, not in the source tree."""
    return settings.duckdb_path.parent / "dbt_target"


def log_dir(settings: Settings) -> Path:
    """dbt's log folder (``dbt.log``): beside the warehouse, not in the source tree."""
    return settings.duckdb_path.parent / "dbt_logs"


def docs_path(settings: Settings) -> Path:
    """The docs page the transform step writes beside the snapshot."""
    from pr_warehouse.constants import DOCS_DIR_NAME, DOCS_FILE_NAME

    return settings.snapshot_path.parent / DOCS_DIR_NAME / DOCS_FILE_NAME


def docs_args() -> list[str]:
    """``dbt docs generate`` as one self-contained page (manifest and catalog inlined), so
    the docs app serves one file and the page needs nothing from the internet; the build
    just compiled every model, so compiling again (~15 s) would add nothing.

    >>> docs_args()
    ['docs', 'generate', '--static', '--no-compile']
    """
    return ["docs", "generate", "--static", "--no-compile"]


def project_fingerprint(dbt_dir: Path, variables: dict[str, Any]) -> str:
    """A digest of what the docs are made of: the dbt project's files, the vars and dbt's
    version. The docs describe models and columns, not rows, so equal fingerprints mean
    equal docs.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "m.sql").write_text("select 1")
    >>> a = project_fingerprint(d, {}); _ = (d / "m.sql").write_text("select 2")
    >>> a == project_fingerprint(d, {}), len(a)
    (False, 64)
    """
    from importlib.metadata import version

    digest = hashlib.sha256(f"dbt-core {version('dbt-core')}\n".encode())
    digest.update(json.dumps(variables, sort_keys=True).encode())
    skipped = {"target", "logs", "dbt_packages"}
    for path in sorted(dbt_dir.rglob("*")):
        relative = path.relative_to(dbt_dir)
        if path.suffix in _PROJECT_SUFFIXES and not skipped & set(relative.parts):
            digest.update(f"\n{relative.as_posix()}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def generate_docs(settings: Settings, variables: dict[str, Any]) -> Path | None:
    """The warehouse's dbt docs, copied next to the snapshot (``warehouse_docs/index.html``)
    for the "Warehouse docs" view; None, with a warning, when dbt could not generate them:
    the docs explain the data, a failure to write them must not stop the run.

    Docs made from the same project (:func:`project_fingerprint`) are kept as they are:
    a daily run does not pay dbt's start-up and catalog for the same page."""
    target = docs_path(settings)
    stamp = target.with_name(_DOCS_FINGERPRINT)
    fingerprint = project_fingerprint(settings.dbt_dir, variables)
    if target.is_file() and stamp.is_file() and stamp.read_text() == fingerprint:
        log.info("warehouse docs unchanged (same dbt project): %s", target)
        return target
    try:
        run_dbt(settings, docs_args(), variables)
    except DbtFailed as exc:
        log.warning("the warehouse docs were not generated: %s", exc)
        return None
    built = target_dir(settings) / "static_index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    # Replaced by a rename: the docs app never serves half a file.
    partial = target.with_suffix(".partial")
    shutil.copyfile(built, partial)
    partial.replace(target)
    stamp.write_text(fingerprint)
    log.info("warehouse docs: %s", target)
    return target


def dbt_command(settings: Settings, args: list[str], variables: dict[str, Any]) -> list[str]:
    """The full command line.

    >>> s = Settings.from_env({"PR_WAREHOUSE_HOME": "/p"})
    >>> dbt_command(s, ["build"], {"as_of": "x"})[3:7]
    ['build', '--project-dir', '/p/dbt', '--profiles-dir']
    """
    return [
        *dbt_launcher(), *args,
        "--project-dir", str(settings.dbt_dir),
        "--profiles-dir", str(settings.dbt_dir),
        "--vars", json.dumps(variables, sort_keys=True),
    ]


def dbt_env(settings: Settings, as_of: str | None = None) -> dict[str, str]:
    """dbt's environment: this process's, with :data:`ENV_DEFAULTS` where it sets none, the
    run's ``as_of``, and the warehouse file named relative to dbt's working directory (the
    warehouse's folder, see the module's docstring).

    >>> env = dbt_env(Settings.from_env({"PR_WAREHOUSE_HOME": "/p"}), as_of="x")
    >>> env["PR_WAREHOUSE_DUCKDB"], env[AS_OF_ENV], env["DBT_TARGET_PATH"]
    ('warehouse.duckdb', 'x', '/p/data/dbt_target')
    """
    return {
        **ENV_DEFAULTS,
        **os.environ,
        **({AS_OF_ENV: as_of} if as_of else {}),
        "PR_WAREHOUSE_DUCKDB": settings.duckdb_path.name,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # Keep dbt's own logs and artifacts beside the warehouse, not in the source tree.
        "DBT_LOG_PATH": str(log_dir(settings)),
        "DBT_TARGET_PATH": str(target_dir(settings)),
    }


def run_dbt(settings: Settings, args: list[str], variables: dict[str, Any] | None = None,
            as_of: str | None = None) -> None:
    """Run dbt against the warehouse file, streaming its output into our log; ``as_of``
    (ISO 8601) is the instant the marts measure ages against."""
    command = dbt_command(settings, args, variables or {})
    env = dbt_env(settings, as_of)
    log.info("running %s", " ".join(command[1:]))
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)  # dbt's working directory
    tail: deque[str] = deque(maxlen=30)
    schema_changed = False
    with subprocess.Popen(command, cwd=settings.duckdb_path.parent, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            tail.append(line)
            schema_changed = schema_changed or any(m in line for m in SCHEMA_CHANGED)
            log.info("dbt: %s", line)
    if proc.returncode != 0:
        raise DbtFailed(f"dbt {' '.join(args)} exited {proc.returncode}:\n" + "\n".join(tail),
                        schema_changed=schema_changed)

