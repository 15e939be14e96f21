"""dbt's parse does not depend on where the warehouse lives: a fresh warehouse's first
run starts from another warehouse's parse (the product runs dbt in the warehouse's folder,
the profile names the file relative to it), and dbt parses only what differs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(300)


def dbt_log(settings) -> str:
    from pr_warehouse.transform.dbt import log_dir

    return (log_dir(settings) / "dbt.log").read_text()


def test_a_fresh_warehouse_starts_from_another_ones_parse(
        dbt_parse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pr_warehouse.config import Settings, deploy_vars
    from pr_warehouse.transform.dbt import AS_OF_ENV, run_dbt
    from tests.support.dbt_parse import PARTIAL_PARSE_ENV

    # dbt says what it re-parses at debug level; the environment's level wins over ours.
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    assert os.environ[PARTIAL_PARSE_ENV] == str(dbt_parse)
    name = Settings.from_env({}).duckdb_path.name
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    settings = Settings.from_env({**os.environ, "PR_WAREHOUSE_DUCKDB": str(elsewhere / name)})
    run_dbt(settings, ["parse"], deploy_vars(settings), as_of="2026-11-28T00:00:00+00:00")
    log = dbt_log(settings)
    assert "Partial parsing enabled" in log and "Starting full parse" not in log, log[-3000:]
    # Only models that read the run's as_of (an environment variable that differs from the
    # parse's) are parsed again.
    changed = [line.rsplit("/", 1)[-1] for line in log.splitlines()
               if "Partial parsing: updated file" in line]
    as_of_readers = {p.name for p in (settings.dbt_dir / "models").rglob("*.sql")
                     if "as_of()" in p.read_text()}
    assert changed and set(changed) <= as_of_readers, (changed, AS_OF_ENV)

    # A warehouse file of another name is another connection: dbt parses it all again
    # (the reuse is dbt's own check, not ours). Its folder does not exist yet: dbt runs in
    # it all the same.
    other = Settings.from_env({**os.environ,
                               "PR_WAREHOUSE_DUCKDB": str(tmp_path / "other" / "w2.duckdb")})
    run_dbt(other, ["parse"], deploy_vars(other))
    assert "profile has changed" in dbt_log(other)
