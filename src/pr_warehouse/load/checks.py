"""Load the CI checks pages of a run into ``raw.pull_request_checks``, idempotently.

Each PR's rollup is rebuilt from its pages: the first page (``after`` null) and the
follow-ups along its cursor chain, contexts in GitHub's order. A rollup whose chain is
not complete (a follow-up missing) is not stored, so the warehouse never holds a PR's
checks cut short. A row is replaced only by a fetch at least as new whose rollup differs:
loading the same pages again changes nothing. A PR the warehouse does not hold (never
loaded, or its repository cleared) keeps no checks row.

The per-PR dbt models rebuild the PRs loaded since their last build (``loaded_at``), so
a PR whose checks changed while the PR did not (a re-run moves no ``updatedAt``) gets
this load's ``loaded_at`` on its other raw rows too, and the reverse.

Example::

    load_checks(con, store, manifests, run_id="r1", loaded_at=now)  # rows written
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pr_warehouse.contracts import Manifest
from pr_warehouse.extract.checks import answers
from pr_warehouse.load.bulk import insert_rows

if TYPE_CHECKING:
    import duckdb

    from pr_warehouse.storage import RawStore

log = logging.getLogger(__name__)

# The raw tables holding one row per PR, whose loaded_at marks what dbt rebuilds.
PER_PR_TABLES = ("pull_requests", "pull_request_events", "pull_request_checks")


def assemble_rollups(pages: Iterable[tuple[str, Mapping[str, Any], Mapping[str, Any]]]
                     ) -> dict[str, tuple[dict[str, Any] | None, str, str]]:
    """Each PR's complete rollup from its pages ``(key, body, meta)``:
    ``id -> (rollup or None, first page key, first page fetched_at)``; a PR whose contexts
    are not complete is left out.

    >>> meta = {"requests": [{"alias": "pr0", "id": "PR_1", "after": None}],
    ...         "fetched_at": "2026-11-01T00:00:00+00:00"}
    >>> body = {"data": {"pr0": {"statusCheckRollup": {"state": "SUCCESS", "contexts": {
    ...     "pageInfo": {"hasNextPage": False, "endCursor": "c"}, "nodes": [{"name": "t"}]}}}}}
    >>> assemble_rollups([("k1", body, meta)])["PR_1"][0]
    {'state': 'SUCCESS', 'contexts': [{'name': 't'}]}
    """
    by_request: dict[tuple[str, str | None], tuple[Mapping[str, Any] | None, str, str]] = {}
    for key, body, meta in pages:
        for node_id, after, rollup in answers(body, meta):
            by_request[(node_id, after)] = (rollup, key, str(meta.get("fetched_at")))
    assembled: dict[str, tuple[dict[str, Any] | None, str, str]] = {}
    for (node_id, after), (rollup, key, fetched_at) in by_request.items():
        if after is not None:
            continue
        if rollup is None:
            assembled[node_id] = (None, key, fetched_at)
            continue
        contexts: list[Any] = []
        page: Mapping[str, Any] | None = rollup
        seen: set[str | None] = {None}
        while page is not None:
            connection = page.get("contexts") or {}
            contexts += [n for n in connection.get("nodes") or () if n is not None]
            info = connection.get("pageInfo") or {}
            cursor = info.get("endCursor")
            if not info.get("hasNextPage"):
                assembled[node_id] = ({"state": rollup.get("state"), "contexts": contexts},
                                      key, fetched_at)
                break
            if cursor in seen or (node_id, cursor) not in by_request:
                break  # a follow-up is missing: not stored cut short
            seen.add(cursor)
            page = by_request[(node_id, cursor)][0]
    return assembled


def load_checks(con: duckdb.DuckDBPyConnection, store: RawStore, manifests: Sequence[Manifest],
                *, run_id: str, loaded_at: datetime) -> int:
    """Upsert the checks of every page the successful manifests list; rows written."""
    keys = list(dict.fromkeys(key for m in manifests if m.ok for key in m.check_pages))
    rollups = assemble_rollups((key, store.read_json(key), store.read_meta(key)) for key in keys)
    rows = [(node_id, fetched_at, None if rollup is None else json.dumps(rollup), key)
            for node_id, (rollup, key, fetched_at) in rollups.items()]
    con.execute("create or replace temp table staged_checks (node_id varchar, "
                "fetched_at timestamptz, rollup json, page_key varchar)")
    insert_rows(con, "staged_checks", ["varchar", "timestamptz", "json", "varchar"], rows)
    con.execute(
        """
        insert into raw.pull_request_checks as t
            (node_id, fetched_at, rollup, page_key, run_id, loaded_at)
        select node_id, fetched_at, rollup, page_key, ?, ? from staged_checks
        on conflict (node_id) do update set
            fetched_at = excluded.fetched_at, rollup = excluded.rollup,
            page_key = excluded.page_key, run_id = excluded.run_id,
            loaded_at = excluded.loaded_at
        where excluded.fetched_at >= t.fetched_at
          and coalesce(excluded.rollup::varchar, '') <> coalesce(t.rollup::varchar, '')
        """,
        [run_id, loaded_at],
    )
    # A PR the warehouse no longer holds (its repository cleared) has no checks either.
    con.execute("delete from raw.pull_request_checks where node_id not in "
                "(select node_id from raw.pull_requests)")
    written = con.execute("select count(*) from raw.pull_request_checks where loaded_at = ?",
                          [loaded_at]).fetchall()[0][0]
    _align_loaded_at(con, loaded_at)
    log.info("checks: %d pages, %d PRs' rollups complete, %d rows written",
             len(keys), len(rows), written)
    return int(written)


def _align_loaded_at(con: duckdb.DuckDBPyConnection, loaded_at: datetime) -> None:
    """Give every raw row of a PR this load wrote any row of this load's ``loaded_at``."""
    touched = " union ".join(f"select node_id from raw.{t} where loaded_at = $1"
                             for t in PER_PR_TABLES)
    for table in PER_PR_TABLES:
        con.execute(f"update raw.{table} set loaded_at = $1 "
                    f"where loaded_at <> $1 and node_id in ({touched})", [loaded_at])
