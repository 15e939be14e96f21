"""Copy the ``analytics`` marts into a Postgres schema for BI tools, in one transaction.

Metabase, Superset and friends speak Postgres, and many readers can query it while the
pipeline writes DuckDB (one writer per file). When the Airflow connection
``warehouse_postgres`` exists, the DAG's ``publish_postgres`` task copies every table and
view of the snapshot's ``analytics`` schema into the Postgres schema ``analytics``:

* DuckDB writes each mart to a CSV file (its own ``COPY ... TO``), which is streamed into
  Postgres with ``COPY ... FROM STDIN``: no row passes through Python.
* Everything happens in ONE Postgres transaction. A mart whose columns did not change is
  emptied with ``DELETE`` (MVCC: readers keep seeing the previous rows, unblocked, until the
  commit); a mart whose columns changed is dropped and re-created (readers wait for the
  commit, then see the new table). Nobody ever sees a half-published state.
* ``analytics._published`` records what the last publish wrote (one row per mart, with its
  row count and time): BI users read freshness from it, and marts that dbt no longer builds
  are dropped by looking it up (tables other people put in the schema are left alone).
* dbt's descriptions (``persist_docs``) become Postgres comments, which BI tools show.

Example::

    with psycopg.connect("postgresql://user@host/db") as conn:
        result = publish_marts(Path("data/warehouse.snapshot.duckdb"), conn)
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA = "analytics"
BOOKKEEPING_TABLE = "_published"
COPY_CHUNK = 1 << 20

# DuckDB type -> Postgres type, spelled as Postgres' format_type() prints it, so a
# re-publish can tell whether an existing table already has exactly these columns.
_SCALAR_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint", "SMALLINT": "smallint", "UTINYINT": "smallint",
    "INTEGER": "integer", "USMALLINT": "integer",
    "BIGINT": "bigint", "UINTEGER": "bigint",
    "UBIGINT": "numeric", "HUGEINT": "numeric", "UHUGEINT": "numeric",
    "FLOAT": "real", "DOUBLE": "double precision",
    "VARCHAR": "text", "UUID": "uuid", "JSON": "jsonb",
    "DATE": "date", "TIME": "time without time zone",
    "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMP_S": "timestamp without time zone", "TIMESTAMP_MS": "timestamp without time zone",
    "TIMESTAMP_NS": "timestamp without time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "INTERVAL": "interval",
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
_NESTED = re.compile(r"(\[\d*\]$)|^(STRUCT|MAP|UNION)\(")


@dataclass(frozen=True)
class Column:
    """One mart column: its name, the Postgres type and the DuckDB select expression."""

    name: str
    pg_type: str
    select: str
    comment: str | None = None


@dataclass
class PublishResult:
    """What one publish did; small enough for XCom."""

    schema: str = SCHEMA
    tables: dict[str, int] = field(default_factory=dict)  # mart -> rows
    recreated: list[str] = field(default_factory=list)    # columns changed (or new)
    dropped: list[str] = field(default_factory=list)      # no longer built by dbt
    seconds: float = 0.0
    published: bool = True
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def quote_ident(name: str) -> str:
    """A Postgres (and DuckDB) quoted identifier; works with psycopg 2 and 3 alike.

    >>> quote_ident('fct_pull_requests'), quote_ident('we"ird')
    ('"fct_pull_requests"', '"we""ird"')
    """
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A Postgres string literal, for statements that take no bind parameters (COMMENT).

    Postgres' default ``standard_conforming_strings = on`` leaves backslashes alone.

    >>> quote_literal("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"


def pg_column(name: str, duckdb_type: str, comment: str | None = None) -> Column:
    """The Postgres column for a DuckDB column, and how to select it for CSV.

    Nested values (lists, structs, maps) become ``jsonb``: CSV has no syntax for them.

    >>> pg_column("n", "BIGINT").pg_type, pg_column("p", "DECIMAL(18,3)").pg_type
    ('bigint', 'numeric(18,3)')
    >>> c = pg_column("labels", "VARCHAR[]"); c.pg_type, c.select
    ('jsonb', 'to_json("labels")')
    >>> pg_column("x", "BIT").pg_type
    'text'
    """
    quoted = quote_ident(name)
    upper = duckdb_type.upper()
    if upper in _SCALAR_TYPES:
        return Column(name, _SCALAR_TYPES[upper], quoted, comment)
    if m := _DECIMAL.match(upper):
        return Column(name, f"numeric({m.group(1)},{m.group(2)})", quoted, comment)
    if _NESTED.search(upper):
        return Column(name, "jsonb", f"to_json({quoted})", comment)
    if upper == "BLOB":  # Postgres' bytea hex input format
        return Column(name, "bytea", f"'\\x' || hex({quoted})", comment)
    return Column(name, "text", f"{quoted}::varchar", comment)


# --- reading DuckDB --------------------------------------------------------------------


@dataclass
class _Mart:
    name: str
    columns: list[Column]
    csv: Path
    rows: int
    comment: str | None


def export_marts(duckdb_path: Path, workdir: Path, schema: str = SCHEMA) -> list[_Mart]:
    """Write every table and view of ``schema`` to ``workdir/<name>.csv`` with DuckDB."""
    import duckdb

    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        # Timestamps with time zone are written with an explicit offset either way; UTC
        # just keeps the files readable and independent of the worker's zone.
        con.execute("set TimeZone = 'UTC'")
        tables = con.execute(
            "select table_name, comment from duckdb_tables() where schema_name = ? "
            "union all select view_name, comment from duckdb_views() "
            "where schema_name = ? and not internal order by 1",
            [schema, schema],
        ).fetchall()
        marts = []
        for name, comment in tables:
            cols = con.execute(
                "select column_name, data_type, comment from duckdb_columns() "
                "where schema_name = ? and table_name = ? order by column_index",
                [schema, name],
            ).fetchall()
            columns = [pg_column(c, t, cm or None) for c, t, cm in cols]
            csv = workdir / f"{len(marts):03d}.csv"
            select = ", ".join(c.select for c in columns)
            # NULL is written unquoted-empty and every value quoted (an empty string as
            # ""), which is exactly how Postgres' CSV COPY tells them apart; quoting all
            # also keeps a lone `\.` value from reading as COPY's end-of-data marker.
            con.execute(f"copy (select {select} from {quote_ident(schema)}.{quote_ident(name)}) "
                        f"to '{csv}' (format csv, header false, force_quote *)")
            rows = con.execute(
                f"select count(*) from {quote_ident(schema)}.{quote_ident(name)}"
            ).fetchall()[0][0]
            marts.append(_Mart(name, columns, csv, int(rows), comment or None))
        return marts
    finally:
        con.close()


# --- writing Postgres ------------------------------------------------------------------


def _existing_shapes(cur: Any, schema: str) -> dict[str, list[tuple[str, str]]]:
    """``{table: [(column, format_type)]}`` of the ordinary tables in ``schema``."""
    cur.execute(
        """
        select c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        from pg_attribute a
        join pg_class c on c.oid = a.attrelid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = %s and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
        order by c.relname, a.attnum
        """,
        (schema,),
    )
    shapes: dict[str, list[tuple[str, str]]] = {}
    for table, column, pg_type in cur.fetchall():
        shapes.setdefault(table, []).append((column, pg_type))
    return shapes


def _copy_in(cur: Any, sql: str, path: Path) -> None:
    """Stream a file into ``COPY ... FROM STDIN`` (psycopg 3, or psycopg 2 as a fallback)."""
    with open(path, "rb") as f:
        if hasattr(cur, "copy"):  # psycopg 3: what the postgres provider uses on SQLAlchemy 2
            with cur.copy(sql) as copy:
                while chunk := f.read(COPY_CHUNK):
                    copy.write(chunk)
        else:
            cur.copy_expert(sql, f, size=COPY_CHUNK)


def _previously_published(cur: Any, schema: str) -> list[str]:
    cur.execute(
        "select 1 from pg_tables where schemaname = %s and tablename = %s",
        (schema, BOOKKEEPING_TABLE),
    )
    if not cur.fetchall():
        return []
    cur.execute(f"select table_name from {quote_ident(schema)}.{BOOKKEEPING_TABLE}")
    return [r[0] for r in cur.fetchall()]


def publish_marts(duckdb_path: Path, conn: Any, *, schema: str = SCHEMA,
                  source_schema: str = SCHEMA, run_id: str | None = None,
                  lock_timeout: str = "5min") -> PublishResult:
    """Replace the marts in Postgres ``schema`` with those of the DuckDB file, atomically.

    ``conn`` is a DB-API connection from psycopg 3 (or 2), e.g. ``PostgresHook.get_conn()``;
    it is committed on success and rolled back on any error (the previous marts stay).
    ``lock_timeout`` bounds the wait for readers when a table must be re-created: the task
    then fails and retries, rather than hanging behind a long BI query.
    """
    started = time.monotonic()
    result = PublishResult(schema=schema)
    q_schema = quote_ident(schema)
    with tempfile.TemporaryDirectory(prefix="prw-publish-") as tmp:
        marts = export_marts(duckdb_path, Path(tmp), source_schema)
        if not marts:
            raise RuntimeError(f"{duckdb_path} has no table in schema {source_schema!r}: "
                               "nothing to publish (did dbt build run?)")
        published_at = datetime.now(timezone.utc)
        if getattr(conn, "autocommit", False):
            # Autocommit would commit statement by statement: readers could see a mix.
            conn.autocommit = False
        cur = conn.cursor()
        try:
            cur.execute(f"set local lock_timeout = '{lock_timeout}'")
            cur.execute(f"create schema if not exists {q_schema}")
            shapes = _existing_shapes(cur, schema)
            stale = set(_previously_published(cur, schema)) - {m.name for m in marts}
            for name in sorted(stale):
                cur.execute(f"drop table if exists {q_schema}.{quote_ident(name)}")
                result.dropped.append(name)
            for mart in marts:
                target = f"{q_schema}.{quote_ident(mart.name)}"
                wanted = [(c.name, c.pg_type) for c in mart.columns]
                if shapes.get(mart.name) == wanted:
                    # Same columns: DELETE, not TRUNCATE or DROP, so readers are never
                    # blocked and see the old rows until the commit; grants and views on
                    # the table survive.
                    cur.execute(f"delete from {target}")
                else:
                    cur.execute(f"drop table if exists {target}")
                    cur.execute(f"create table {target} (" + ", ".join(
                        f"{quote_ident(c.name)} {c.pg_type}" for c in mart.columns) + ")")
                    result.recreated.append(mart.name)
                columns = ", ".join(quote_ident(c.name) for c in mart.columns)
                _copy_in(cur, f"copy {target} ({columns}) from stdin (format csv)", mart.csv)
                _comment(cur, target, mart)
                cur.execute(f"analyze {target}")
                result.tables[mart.name] = mart.rows
            _record(cur, schema, marts, published_at, run_id)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            cur.close()
    result.seconds = round(time.monotonic() - started, 3)
    log.info("published %d marts (%d rows) to Postgres schema %s in %.1fs; re-created: %s; "
             "dropped: %s", len(result.tables), sum(result.tables.values()), schema,
             result.seconds, ", ".join(result.recreated) or "none",
             ", ".join(result.dropped) or "none")
    return result


def _comment(cur: Any, target: str, mart: _Mart) -> None:
    """Carry dbt's descriptions over; BI tools show them next to tables and columns."""
    if mart.comment:
        cur.execute(f"comment on table {target} is {quote_literal(mart.comment)}")
    for c in mart.columns:
        if c.comment:
            cur.execute(f"comment on column {target}.{quote_ident(c.name)} is "
                        f"{quote_literal(c.comment)}")


def _record(cur: Any, schema: str, marts: list[_Mart], published_at: datetime,
            run_id: str | None) -> None:
    table = f"{quote_ident(schema)}.{BOOKKEEPING_TABLE}"
    cur.execute(f"create table if not exists {table} (table_name text primary key, "
                "row_count bigint not null, published_at timestamptz not null, run_id text)")
    cur.execute(f"comment on table {table} is " + quote_literal(
        "What the pr_warehouse pipeline last published to this schema, one row per mart."))
    cur.execute(f"delete from {table}")
    for mart in marts:  # a dozen rows: one statement each is fine here
        cur.execute(f"insert into {table} values (%s, %s, %s, %s)",
                    (mart.name, mart.rows, published_at, run_id))


# --- used by the Airflow task (pipeline.publish_postgres) --------------------------------


def connection_exists(conn_id: str) -> bool:
    """Whether Airflow knows ``conn_id`` (env var, secrets backend or metadata DB)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True
