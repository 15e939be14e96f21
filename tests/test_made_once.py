"""``made_once``: what the xdist workers share (the dbt parse, the Airflow metadata DB) is made
by one of them, once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.support.once import MadeElsewhereFailed, made_once


def test_a_second_caller_waits_for_the_first_and_gets_its_file(tmp_path: Path) -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[Path] = []
    results: list[Path] = []

    def make(folder: Path) -> Path:
        calls.append(folder)
        started.set()
        assert release.wait(60)
        (folder / "parse").write_text("made")
        return folder / "parse"

    first = threading.Thread(target=lambda: results.append(made_once(tmp_path / "p", make)))
    first.start()
    assert started.wait(60)
    # The first is still making it: the second finds the claim and waits for the result.
    second = threading.Thread(target=lambda: results.append(made_once(tmp_path / "p", make)))
    second.start()
    release.set()
    first.join(60)
    second.join(60)
    assert results == [tmp_path / "p" / "parse"] * 2
    assert calls == [tmp_path / "p"]


def test_a_failure_reaches_the_waiting_callers_with_its_error(tmp_path: Path) -> None:
    def broken(folder: Path) -> Path:
        raise RuntimeError("dbt parse exited 2")

    with pytest.raises(RuntimeError, match="exited 2"):
        made_once(tmp_path / "p", broken)
    with pytest.raises(MadeElsewhereFailed, match="RuntimeError: dbt parse exited 2"):
        made_once(tmp_path / "p", broken)


def test_a_copied_sqlite_db_holds_what_its_journal_had_not_yet_written_back(
        tmp_path: Path) -> None:
    """The Airflow metadata DB shared between workers is copied with SQLite's backup API:
    a file copy would miss what a WAL journal still holds."""
    import sqlite3

    from tests.support.airflow import copy_metadata_db

    source = sqlite3.connect(tmp_path / "source.db")
    assert source.execute("pragma journal_mode=wal").fetchone() == ("wal",)
    source.execute("pragma wal_autocheckpoint=0")  # keep the rows in the journal
    source.execute("create table t (x)")
    source.executemany("insert into t values (?)", [(i,) for i in range(100)])
    source.commit()
    assert (tmp_path / "source.db-wal").stat().st_size > 0
    target = tmp_path / "target.db"
    sqlite3.connect(target).execute("create table old (y)").connection.close()  # replaced
    copy_metadata_db(tmp_path / "source.db", target)
    source.close()
    copied = sqlite3.connect(target)
    try:
        assert copied.execute("select count(*), sum(x) from t").fetchone() == (100, 4950)
        assert copied.execute("select name from sqlite_master").fetchall() == [("t",)]
    finally:
        copied.close()


def test_a_file_is_migrated_when_it_holds_an_alembic_revision(tmp_path: Path) -> None:
    import sqlite3

    from tests.support.airflow import is_migrated

    path = tmp_path / "airflow.db"
    assert not is_migrated(path)  # no file
    sqlite3.connect(path).close()
    assert not is_migrated(path)  # an empty file, as a first connection leaves it
    con = sqlite3.connect(path)
    con.execute("create table alembic_version (version_num varchar(32) not null)")
    con.commit()
    con.close()
    assert is_migrated(path)
