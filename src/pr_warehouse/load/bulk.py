"""Many Python rows into DuckDB in one statement.

``executemany`` runs one insert per row (a prepared statement, bound and executed for
each), which costs milliseconds a row once the target has a key to check: a first sync's
tens of thousands of checks, reviews and commits took minutes. Here each column travels
as one list parameter and ``unnest`` zips the lists back into rows, so the whole batch is
one statement DuckDB runs set-wise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb


def unnest_select(types: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """A ``select`` of ``rows`` (columns cast to ``types``, named ``c0``, ``c1``...) and its
    parameters, one list per column.

    >>> sql, params = unnest_select(["varchar", "integer"], [("a", 1), ("b", None)])
    >>> sql
    'select unnest(?::varchar[]) as c0, unnest(?::integer[]) as c1'
    >>> params
    [['a', 'b'], [1, None]]
    """
    if any(len(row) != len(types) for row in rows):
        raise ValueError(f"every row needs {len(types)} values")
    columns = [[row[i] for row in rows] for i in range(len(types))]
    sql = ", ".join(f"unnest(?::{t}[]) as c{i}" for i, t in enumerate(types))
    return f"select {sql}", columns


def insert_rows(con: duckdb.DuckDBPyConnection, into: str, types: Sequence[str],
                rows: Sequence[Sequence[Any]], *, tail: str = "") -> None:
    """``insert into <into> select ... <tail>`` with ``rows`` in one statement.

    ``into`` names the table and its columns; ``tail`` may add an ``on conflict`` clause.

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("create table t (k varchar primary key, n integer)")
    >>> insert_rows(con, "t (k, n)", ["varchar", "integer"], [("a", 1), ("b", 2)])
    >>> insert_rows(con, "t (k, n)", ["varchar", "integer"], [("a", 9), ("c", 3)],
    ...             tail="on conflict do nothing")
    >>> con.execute("select * from t order by k").fetchall()
    [('a', 1), ('b', 2), ('c', 3)]
    """
    if not rows:
        return
    select, columns = unnest_select(types, rows)
    con.execute(f"insert into {into} {select} {tail}", columns)
