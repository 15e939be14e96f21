"""Load the deployments pages (extract/deployments.py) into ``raw.deployments``,
``raw.releases`` and ``raw.default_branch_commits``, idempotently.

A deployment's statuses are those of its page, completed by the status follow-up pages
of the same read. A deployment read again later replaces the stored row only when that
read is newer (GitHub's clock), so loading the same pages twice changes nothing;
releases and commits never change once published, so the first copy stays.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pr_warehouse.extract.deployments import history_of
from pr_warehouse.load.bulk import insert_rows

if TYPE_CHECKING:
    import duckdb

    from pr_warehouse.contracts import Manifest
    from pr_warehouse.storage import RawStore

log = logging.getLogger(__name__)


@dataclass
class DeployRows:
    """Rows parsed from deployments pages (one repository's, or every repository's)."""

    deployments: dict[str, list[Any]] = field(default_factory=dict)
    releases: dict[str, list[Any]] = field(default_factory=dict)
    # (repo, oid): a fork shares its parent's commits
    commits: dict[tuple[str, str], list[Any]] = field(default_factory=dict)


def status_list(connection: dict[str, Any] | None) -> list[dict[str, Any]]:
    """``[{"state", "createdAt"}]`` of a statuses connection.

    >>> status_list({"nodes": [{"state": "SUCCESS", "createdAt": "t"}, None]})
    [{'state': 'SUCCESS', 'createdAt': 't'}]
    """
    return [{"state": n["state"], "createdAt": n["createdAt"]}
            for n in (connection or {}).get("nodes") or [] if n]


def parse_pages(store: RawStore, manifest: Manifest) -> DeployRows:
    """Every row of one manifest's deployments pages (a later page's copy wins)."""
    rows = DeployRows()
    extra: dict[str, list[dict[str, Any]]] = {}
    for key in manifest.deploy_pages:
        meta = store.read_meta(key)
        data = store.read_json(key).get("data") or {}
        read_at = meta.get("synced_at") or meta.get("fetched_at")
        if meta.get("kind") == "deploystatuses":
            node = data.get("node") or {}
            if node.get("id"):
                extra.setdefault(node["id"], []).extend(status_list(node.get("statuses")))
            continue
        repository = data.get("repository") or {}
        for node in (repository.get("deployments") or {}).get("nodes") or []:
            if node:
                creator = node.get("creator") or {}
                rows.deployments[node["id"]] = [
                    node["id"], manifest.repo, node.get("environment"), node["commitOid"],
                    node["createdAt"], creator.get("login"), status_list(node.get("statuses")),
                    read_at, key]
        for node in (repository.get("releases") or {}).get("nodes") or []:
            if node and node.get("publishedAt"):
                rows.releases[node["id"]] = [
                    node["id"], manifest.repo, node["tagName"], node["publishedAt"],
                    (node.get("tagCommit") or {}).get("oid"), key]
        for node in (history_of(repository) or {}).get("nodes") or []:
            if node:
                rows.commits[(manifest.repo, node["oid"])] = [
                    manifest.repo, node["oid"], node["committedDate"], key]
    for deployment_id, statuses in extra.items():
        if deployment_id in rows.deployments:
            rows.deployments[deployment_id][6] = rows.deployments[deployment_id][6] + statuses
    return rows


def load_deployments(con: duckdb.DuckDBPyConnection, store: RawStore,
                     manifests: list[Manifest], run_id: str, loaded_at: datetime) -> int:
    """Upsert the deployments, releases and commits of every successful manifest; the
    number of deployment rows written or replaced.

    One statement per table for all repositories: an org of thousands of repositories
    has a deployments page or two each, and a statement per page cost ~6 ms.
    """
    rows = DeployRows()
    for manifest in manifests:
        if not manifest.ok or not manifest.deploy_pages:
            continue
        repo_rows = parse_pages(store, manifest)
        for node_id, row in repo_rows.deployments.items():
            # As one upsert per repository did: a copy replaces another only if read later.
            held = rows.deployments.get(node_id)
            if held is None or _read_at(row) > _read_at(held):
                rows.deployments[node_id] = row
        # Published releases and commits do not change: the first copy stays.
        for node_id, row in repo_rows.releases.items():
            rows.releases.setdefault(node_id, row)
        for key, row in repo_rows.commits.items():
            rows.commits.setdefault(key, row)
        log.info("%s: %d deployments, %d releases, %d default-branch commits read",
                 manifest.repo, len(repo_rows.deployments), len(repo_rows.releases),
                 len(repo_rows.commits))
    written = _upsert_deployments(con, rows, run_id, loaded_at)
    insert_rows(
        con, "raw.releases (node_id, repo, tag_name, published_at, commit_oid, page_key, "
             "run_id, loaded_at)",
        ["varchar", "varchar", "varchar", "timestamptz", "varchar", "varchar", "varchar",
         "timestamptz"],
        [[*row, run_id, loaded_at] for row in rows.releases.values()],
        tail="on conflict do nothing")
    insert_rows(
        con, "raw.default_branch_commits (repo, oid, committed_at, page_key, run_id, "
             "loaded_at)",
        ["varchar", "varchar", "timestamptz", "varchar", "varchar", "timestamptz"],
        [[*row, run_id, loaded_at] for row in rows.commits.values()],
        tail="on conflict do nothing")
    log.info("deployments: %d rows written or replaced, %d releases and %d default-branch "
             "commits read", written, len(rows.releases), len(rows.commits))
    return written


def _read_at(row: list[Any]) -> str:
    """When a deployment row's page was read (GitHub's clock, ISO 8601; "" if unknown)."""
    *_, read_at, _key = row
    return read_at or ""


def _upsert_deployments(con: duckdb.DuckDBPyConnection, rows: DeployRows, run_id: str,
                        loaded_at: datetime) -> int:
    """Stage then upsert (one statement): a newer read replaces, the same read is a no-op."""
    if not rows.deployments:
        return 0
    con.execute("""
        create or replace temp table staged_deployments (
            node_id varchar, repo varchar, environment varchar, commit_oid varchar,
            created_at timestamptz, creator_login varchar, statuses varchar,
            read_at timestamptz, page_key varchar)
        """)
    insert_rows(
        con, "staged_deployments",
        ["varchar", "varchar", "varchar", "varchar", "timestamptz", "varchar", "varchar",
         "timestamptz", "varchar"],
        [[*head, json.dumps(statuses), read_at or loaded_at.isoformat(), key]
         for *head, statuses, read_at, key in rows.deployments.values()])
    return len(con.execute(
        """
        insert into raw.deployments
            (node_id, repo, environment, commit_oid, created_at, creator_login,
             statuses, read_at, page_key, run_id, loaded_at)
        select node_id, repo, environment, commit_oid, created_at, creator_login,
               statuses::json, read_at, page_key, ?, ?
        from staged_deployments
        on conflict (node_id) do update set
            environment = excluded.environment, statuses = excluded.statuses,
            read_at = excluded.read_at, page_key = excluded.page_key,
            run_id = excluded.run_id, loaded_at = excluded.loaded_at
            where excluded.read_at > raw.deployments.read_at
        returning node_id
        """,
        [run_id, loaded_at],
    ).fetchall())
