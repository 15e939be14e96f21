"""Load review-thread comment pages into ``raw.pull_request_review_comments``.

One row per review, keyed on its node id, its comment list completed from the follow-up
pages. A review's comments never change once published, so a row is written once and
re-loading the same pages changes nothing. Runs inside the loader's transaction, after
the PRs are written (it takes each review's repository and number from its PR's row, and
skips a review whose PR is not stored). Its rows share their PR's ``loaded_at``: a load
that writes a review stamps the PR's node and events rows with its own ``loaded_at``,
and the reviews of every PR this load wrote are stamped with it too, so dbt's per-PR
incremental models find all of a PR's rows with one ``loaded_at >`` filter.

Example::

    load_review_comments(con, store, manifests, run_id="manual__2026-11-28", loaded_at=t)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pr_warehouse.contracts import Manifest
from pr_warehouse.extract.review_comments import review_nodes
from pr_warehouse.load.bulk import insert_rows
from pr_warehouse.pages import complete_nested_lists, truncated_connections

if TYPE_CHECKING:
    import duckdb

    from pr_warehouse.storage import RawStore

log = logging.getLogger(__name__)

Json = dict[str, Any]


def review_rows(pages: Sequence[tuple[str, Json, Json]]) -> list[tuple[str, str, str, str]]:
    """``(review_id, pull_request_id, review_json, page_key)`` of every complete review.

    ``pages``: ``(key, body, meta)`` of a run's review-comments pages and their
    follow-ups, in fetch order (a follow-up's meta lists its ``requests``). A review
    seen twice keeps its last copy; one still cut short is left out.

    >>> page = {"data": {"nodes": [{"id": "R1", "pullRequest": {"id": "P1"}, "comments":
    ...         {"pageInfo": {"hasNextPage": False}, "nodes": [{"id": "C1"}]}}, None]}}
    >>> [row[:2] for row in review_rows([("k1", page, {"kind": "reviewcomments"})])]
    [('R1', 'P1')]
    """
    followups = [(body, meta) for _, body, meta in pages if meta.get("requests")]
    found: dict[str, tuple[Json, str]] = {}
    for key, body, meta in pages:
        if meta.get("requests"):
            continue
        for node in review_nodes(body, key):
            found[node["id"]] = (node, key)
    merged = complete_nested_lists([node for node, _ in found.values()], followups)
    rows = []
    for review_id, (_, key) in found.items():
        node = merged[review_id]
        pull_request_id = (node.get("pullRequest") or {}).get("id")
        if pull_request_id and not any(truncated_connections(node)):
            rows.append((review_id, pull_request_id, json.dumps(node, ensure_ascii=False), key))
    return rows


def load_review_comments(con: duckdb.DuckDBPyConnection, store: RawStore,
                         manifests: Sequence[Manifest], run_id: str,
                         loaded_at: datetime) -> int:
    """Upsert the manifests' review-comments pages; returns the review rows written."""
    keys = dict.fromkeys(key for m in manifests if m.ok for key in m.review_comment_pages)
    rows = review_rows([(key, store.read_json(key), store.read_meta(key)) for key in keys])
    con.execute("create or replace temp table staged_reviews (review_id varchar, "
                "pull_request_id varchar, review json, page_key varchar)")
    insert_rows(con, "staged_reviews", ["varchar", "varchar", "json", "varchar"], rows)
    con.execute(
        """
        insert into raw.pull_request_review_comments as t
            (review_id, pull_request_id, repo, pr_number, review, page_key, run_id, loaded_at)
        select s.review_id, s.pull_request_id, pr.repo, pr.pr_number, s.review, s.page_key,
               ?, ?
        from staged_reviews as s
        inner join raw.pull_requests as pr on pr.node_id = s.pull_request_id
        on conflict (review_id) do update set
            pull_request_id = excluded.pull_request_id, repo = excluded.repo,
            pr_number = excluded.pr_number, review = excluded.review,
            page_key = excluded.page_key, run_id = excluded.run_id,
            loaded_at = excluded.loaded_at
        where excluded.review::varchar <> t.review::varchar
        """,
        [run_id, loaded_at],
    )
    con.execute("drop table staged_reviews")
    # A review written now stamps its PR's rows; a PR written now stamps its reviews.
    for table in ("pull_requests", "pull_request_events"):
        con.execute(
            f"""
            update raw.{table} set loaded_at = ?
            where loaded_at <> ? and node_id in (
                select pull_request_id from raw.pull_request_review_comments
                where loaded_at = ?)
            """,
            [loaded_at, loaded_at, loaded_at],
        )
    con.execute(
        """
        update raw.pull_request_review_comments set loaded_at = ?
        where loaded_at <> ?
          and pull_request_id in (select node_id from raw.pull_requests where loaded_at = ?)
        """,
        [loaded_at, loaded_at, loaded_at],
    )
    written = con.execute("select count(*) from raw.pull_request_review_comments "
                          "where run_id = ? and loaded_at = ?", [run_id, loaded_at]).fetchall()
    log.info("review comments: %d page(s), %d review(s) read, %d row(s) written", len(keys),
             len(rows), written[0][0])
    return int(written[0][0])
