"""Publishing the marts to Postgres for BI tools, against the local PostgreSQL server:
types and values survive, the whole replace is one transaction, readers never see a mix."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from pg_support import airflow_connection, pg_database, pg_server  # noqa: F401  (fixtures)
from pr_warehouse import pipeline
from pr_warehouse.publish import postgres as pub


def make_duckdb(path: Path, version: int, rows: int, *, extra_table: bool = True,
                widen: bool = False) -> None:
    """A small warehouse whose ``analytics`` marts carry ``version`` in every row."""
    import duckdb

    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema analytics")
    con.execute(f"""
        create table analytics.fct as
        select i::integer as id, {version}::bigint as version,
               case i % 4 when 0 then '' when 1 then null when 2 then 'a,"b"' || chr(10) || 'c'
                    else '\\.' end as title,
               (i * 1.5)::double as hours, (i % 2 = 0) as is_merged,
               timestamptz '2026-01-01 10:00:00+02' + to_hours(i) as created_at,
               date '2026-01-05' as week_start,
               json_object('n', i, 's', 'x''y') as payload,
               ['l' || i, 'm']::varchar[] as labels,
               {'{'}'k': i{'}'} as nested,
               12345678901234567890::hugeint as big,
               (i / 3)::decimal(18, 3) as ratio
        from range({rows}) t(i)
    """)
    if widen:  # a schema change: a new column
        con.execute("alter table analytics.fct add column extra varchar default 'new'")
    con.execute("comment on table analytics.fct is 'One row per thing; it''s a test.'")
    con.execute("comment on column analytics.fct.hours is 'Hours, from \\ to /.'")
    con.execute(f"create table analytics.dim as select i as id, {version} as version "
                f"from range({rows * 2}) t(i)")
    if extra_table:
        con.execute(f"create table analytics.old_mart as select {version} as version")
    con.execute("create view analytics.v_dim as select * from analytics.dim where id < 3")
    con.execute("create table main.not_a_mart as select 1 as x")  # another schema: ignored
    con.close()


def pg_rows(dsn: str, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


def test_every_mart_is_copied_with_its_types_values_and_comments(tmp_path: Path,
                                                                   pg_database: str) -> None:
    import duckdb
    import psycopg

    db = tmp_path / "w.duckdb"
    make_duckdb(db, version=1, rows=9)
    with psycopg.connect(pg_database) as conn:
        result = pub.publish_marts(db, conn, run_id="manual__1")
    assert result.tables == {"dim": 18, "fct": 9, "old_mart": 1, "v_dim": 3}
    assert sorted(result.recreated) == ["dim", "fct", "old_mart", "v_dim"]

    types = dict(pg_rows(pg_database, """
        select column_name, data_type from information_schema.columns
        where table_schema = 'analytics' and table_name = 'fct'"""))
    assert types == {
        "id": "integer", "version": "bigint", "title": "text", "hours": "double precision",
        "is_merged": "boolean", "created_at": "timestamp with time zone", "week_start": "date",
        "payload": "jsonb", "labels": "jsonb", "nested": "jsonb", "big": "numeric",
        "ratio": "numeric",
    }
    # Same values as DuckDB, NULL and '' kept apart, JSON as JSON, instants preserved.
    got = pg_rows(pg_database, """
        select id, title, hours, is_merged, extract(epoch from created_at)::bigint,
               week_start::text, payload::text, labels::text, nested::text, big::text,
               ratio::text
        from analytics.fct order by id""")
    con = duckdb.connect(str(db), read_only=True)
    want = con.execute("""
        select id, title, hours, is_merged, epoch(created_at)::bigint, week_start::varchar,
               payload::varchar, to_json(labels)::varchar, to_json(nested)::varchar,
               big::varchar, ratio::varchar
        from analytics.fct order by id""").fetchall()
    con.close()
    assert [r[:6] for r in got] == [r[:6] for r in want]
    assert [r[1] for r in got[:4]] == ["", None, 'a,"b"\nc', "\\."]
    for g, w in zip(got, want):
        assert [json.loads(x) for x in g[6:9]] == [json.loads(x) for x in w[6:9]]
        assert g[9] == w[9] and float(g[10]) == float(w[10])

    comments = pg_rows(pg_database, """
        select obj_description('analytics.fct'::regclass),
               col_description('analytics.fct'::regclass, 4)""")
    assert comments == [("One row per thing; it's a test.", "Hours, from \\ to /.")]
    published = pg_rows(pg_database, "select table_name, row_count, run_id "
                                     "from analytics._published order by 1")
    assert published == [("dim", 18, "manual__1"), ("fct", 9, "manual__1"),
                         ("old_mart", 1, "manual__1"), ("v_dim", 3, "manual__1")]
    assert pg_rows(pg_database, "select count(*) from pg_tables where tablename = 'not_a_mart'"
                   ) == [(0,)]


def test_republish_replaces_in_place_drops_stale_marts_and_recreates_changed_ones(
        tmp_path: Path, pg_database: str) -> None:
    import psycopg

    db = tmp_path / "w.duckdb"
    make_duckdb(db, version=1, rows=5)
    with psycopg.connect(pg_database) as conn:
        pub.publish_marts(db, conn)
        # Things BI users add: a grant-bearing view on a mart and their own table.
        conn.execute("create view analytics.my_view as select count(*) as n from analytics.dim")
        conn.execute("create table analytics.my_notes (note text)")
        conn.commit()
    make_duckdb(db, version=2, rows=7, extra_table=False, widen=True)
    with psycopg.connect(pg_database) as conn:
        result = pub.publish_marts(db, conn)
    assert result.dropped == ["old_mart"]
    assert result.recreated == ["fct"]  # dim and v_dim kept their columns: rows replaced
    assert pg_rows(pg_database, "select n from analytics.my_view") == [(14,)]
    assert pg_rows(pg_database, "select distinct version, extra from analytics.fct") == [(2, "new")]
    tables = {r[0] for r in pg_rows(pg_database,
                                    "select tablename from pg_tables where schemaname='analytics'")}
    assert tables == {"dim", "fct", "v_dim", "my_notes", "_published"}


def test_a_failure_midway_leaves_the_previous_marts_untouched(
        tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    db = tmp_path / "w.duckdb"
    make_duckdb(db, version=1, rows=5)
    with psycopg.connect(pg_database) as conn:
        pub.publish_marts(db, conn)
    make_duckdb(db, version=2, rows=8)
    real_copy, copied = pub._copy_in, []

    def copy_then_fail(cur, sql, path):
        real_copy(cur, sql, path)
        copied.append(sql)
        if len(copied) == 2:  # after two marts were already replaced in the transaction
            raise OSError("disk went away")

    monkeypatch.setattr(pub, "_copy_in", copy_then_fail)
    with psycopg.connect(pg_database) as conn, pytest.raises(OSError, match="disk went away"):
        pub.publish_marts(db, conn)
    assert pg_rows(pg_database, "select distinct version from analytics.dim") == [(1,)]
    assert pg_rows(pg_database, "select count(*), min(version), max(version) from analytics.fct"
                   ) == [(5, 1, 1)]


def test_concurrent_readers_never_see_a_mix_of_two_publishes(tmp_path: Path,
                                                             pg_database: str) -> None:
    """A reader polling while marts are republished sees one version everywhere, never a
    half-emptied table nor two versions side by side."""
    import psycopg

    versions = {}
    for v in (1, 2):
        versions[v] = tmp_path / f"v{v}.duckdb"
        make_duckdb(versions[v], version=v, rows=300 * v)
    with psycopg.connect(pg_database) as conn:
        pub.publish_marts(versions[1], conn)

    seen: list[tuple] = []
    stop = threading.Event()

    def reader() -> None:
        with psycopg.connect(pg_database, autocommit=True) as conn:
            while not stop.is_set():
                seen.append(conn.execute("""
                    select (select min(version) from analytics.fct),
                           (select max(version) from analytics.fct),
                           (select count(*) from analytics.fct),
                           (select min(version) from analytics.dim),
                           (select count(*) from analytics.dim)""").fetchone())

    thread = threading.Thread(target=reader)
    thread.start()
    while not seen and thread.is_alive():  # the reader is polling before the first publish
        stop.wait(0.01)
    try:
        for v in (2, 1, 2, 1, 2):
            with psycopg.connect(pg_database) as conn:
                pub.publish_marts(versions[v], conn)
    finally:
        stop.set()
        thread.join(timeout=30)
    consistent = {(1, 1, 300, 1, 600), (2, 2, 600, 2, 1200)}
    assert seen and set(seen) <= consistent, set(seen) - consistent
    assert len(set(seen)) == 2, "the reader should have seen both versions"


def test_the_task_skips_without_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE_POSTGRES", raising=False)
    result = pipeline.publish_postgres("/nonexistent.duckdb", None)
    assert result["published"] is False and "warehouse_postgres" in result["reason"]


def test_the_task_publishes_through_the_airflow_connection(
        tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "w.duckdb"
    make_duckdb(db, version=3, rows=4)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_POSTGRES",
                       json.dumps(airflow_connection(pg_database)))
    result = pipeline.publish_postgres(str(db), run_id="scheduled__x")
    assert result["published"] is True and result["tables"]["fct"] == 4
    assert pg_rows(pg_database, "select distinct run_id from analytics._published"
                   ) == [("scheduled__x",)]
