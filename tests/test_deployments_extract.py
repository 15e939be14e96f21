"""Deployments through the real extract and load: the product's client against the
emulator's HTTP server, a local object store and DuckDB files; and the pure helpers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from github_emulator import EmulatorServer, build_world
from github_emulator.deploys import (
    Deployment,
    default_branch_history,
    deploy,
    deploy_state,
    merge_commit_oid,
)
from pr_warehouse.client import GraphQLClient
from pr_warehouse.config import InvalidDeploySources, Settings, deploy_vars
from pr_warehouse.contracts import Manifest
from pr_warehouse.extract.deployments import (
    add_deployments,
    floor_of,
    probe_times,
    still_needed,
    stored_deploy_instants,
    with_deploy_watermarks,
)
from pr_warehouse.extract.plan import newest_change
from pr_warehouse.load.deployments import load_deployments
from pr_warehouse.load.duckdb_loader import ensure_schema
from pr_warehouse.storage import RawStore

TOKEN = "deploys-test-token"
PAGE_OP, STATUSES_OP = "RepositoryDeployments", "DeploymentStatuses"
UTC = timezone.utc


@pytest.fixture()
def world():
    return build_world()


@pytest.fixture()
def serve(world, tmp_path: Path):
    opened: list = []

    def start():
        server = EmulatorServer(world, tokens={TOKEN}).start()
        client = GraphQLClient(server.url, TOKEN)
        opened.append((server, client))
        return server, client, RawStore((tmp_path / "raw").as_uri())

    yield start
    for server, client in opened:
        client.close()
        server.stop()


def ops(server: EmulatorServer, start: int = 0) -> Counter:
    return Counter(e.operation_name for e in server.ledger.entries[start:])


def load(tmp_path: Path, store: RawStore, manifests: list[Manifest], run_id: str) -> int:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        ensure_schema(con)
        return load_deployments(con, store, manifests, run_id, datetime.now(UTC))
    finally:
        con.close()


def test_a_first_sync_walks_every_page_and_a_day_costs_one_point(world, serve, tmp_path) -> None:
    server, client, store = serve()
    api = world.repo("acme/api")
    first = add_deployments(client, store, Manifest("acme/api", run_key="r1"), None)
    pages = -(-len(deploy_state(api).deployments) // 50)
    assert ops(server) == {PAGE_OP: pages}
    assert first.deploy_points == first.points_spent == pages == len(first.deploy_pages)
    assert load(tmp_path, store, [first], "r1") == len(deploy_state(api).deployments)
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    commits = {oid for (oid,) in con.execute(
        "select oid from raw.default_branch_commits").fetchall()}
    con.close()
    assert commits == {c.oid for c in default_branch_history(api)}

    synced = world.now
    world.advance(days=1)
    shipped = deploy(world, "acme/api", "production")
    before = len(server.ledger.entries)
    daily = add_deployments(client, store, Manifest("acme/api", run_key="r2"), synced)
    assert ops(server, before) == {PAGE_OP: 1}
    assert (daily.deploy_points, len(daily.deploy_pages)) == (1, 1)
    load(tmp_path, store, [daily], "r2")
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    (count,), = con.execute("select count(*) from raw.deployments where node_id = ?",
                            [shipped.id]).fetchall()
    con.close()
    assert count == 1


def test_loading_the_same_pages_again_changes_nothing(world, serve, tmp_path) -> None:
    _, client, store = serve()
    manifest = add_deployments(client, store, Manifest("acme/web", run_key="r1"), None)
    assert load(tmp_path, store, [manifest], "r1") > 0
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    before = con.execute("select * from raw.deployments order by node_id").fetchall()
    con.close()
    assert load(tmp_path, store, [manifest], "r1") == 0
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute("select * from raw.deployments order by node_id").fetchall() == before
    con.close()


def test_long_status_lists_are_completed_by_follow_ups(world, serve, tmp_path) -> None:
    server, client, store = serve()
    shipped = deploy(world, "acme/infra", "production")
    for i in range(23):  # a flapping deployment: 25 statuses
        shipped.statuses.append(("IN_PROGRESS" if i % 2 else "QUEUED",
                                 shipped.created_at + timedelta(minutes=20 + i)))
    manifest = add_deployments(client, store, Manifest("acme/infra", run_key="r1"), None)
    assert ops(server)[STATUSES_OP] == 1
    load(tmp_path, store, [manifest], "r1")
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    (length,), = con.execute("select json_array_length(statuses) from raw.deployments "
                             "where node_id = ?", [shipped.id]).fetchall()
    con.close()
    assert length == len(shipped.statuses) == 25


def test_the_emulator_keeps_prs_as_they_were_and_has_a_release_repo(world) -> None:
    before = {(r.name, pr.number): (pr.updated_at, pr.merged_at) for r in world.repositories()
              for pr in r.pull_requests}
    for repo in world.repositories():
        deploy_state(repo)
    after = {(r.name, pr.number): (pr.updated_at, pr.merged_at) for r in world.repositories()
             for pr in r.pull_requests}
    assert before == after
    docs = deploy_state(world.repo("acme/docs"))
    assert docs.releases and not docs.deployments
    assert all(isinstance(d, Deployment) for d in deploy_state(world.repo("acme/api")).deployments)
    merged = [pr for pr in world.repo("acme/api").pull_requests if pr.merged_at]
    assert all(len(merge_commit_oid(pr) or "") == 40 for pr in merged)


def test_the_watermark_rises_to_the_newest_stored_deploy(world, serve, tmp_path) -> None:
    _, client, store = serve()
    manifest = add_deployments(client, store, Manifest("acme/api", run_key="r1"), None)
    load(tmp_path, store, [manifest], "r1")
    newest = max(at for d in deploy_state(world.repo("acme/api")).deployments
                 for _, at in [(None, d.created_at), *d.statuses])
    early = datetime(2020, 1, 1, tzinfo=UTC)
    stored = stored_deploy_instants(tmp_path / "w.duckdb")
    assert stored == {"acme/api": newest}
    raised = with_deploy_watermarks({"acme/api": early, "acme/web": early}, stored)
    assert raised == {"acme/api": newest, "acme/web": early}
    assert stored_deploy_instants(tmp_path / "missing.duckdb") == {}


def test_helpers() -> None:
    at = datetime(2026, 11, 2, tzinfo=UTC)
    assert floor_of(at) == at - timedelta(days=1)
    page = {"pageInfo": {"hasNextPage": True, "endCursor": "c"},
            "nodes": [{"createdAt": "2026-11-01T12:00:00Z"}]}
    assert still_needed(page, "createdAt", at - timedelta(days=1))
    assert not still_needed(page, "createdAt", at)
    assert not still_needed({**page, "pageInfo": {"hasNextPage": False}}, "createdAt", None)
    answer = {"pullRequests": {"nodes": [{"updatedAt": "2026-11-01T00:00:00Z"}]},
              "deployments": {"nodes": [{"createdAt": "2026-11-01T05:00:00Z",
                                         "latestStatus": {"createdAt": "2026-11-01T06:00:00Z"}}]},
              "releases": {"nodes": [{"publishedAt": "2026-10-01T00:00:00Z"}]}}
    assert len(probe_times(answer)) == 3
    assert newest_change(answer) == datetime(2026, 11, 1, 6, tzinfo=UTC)
    assert newest_change({}) is None


def test_settings_for_deploys() -> None:
    settings = Settings.from_env({"PR_WAREHOUSE_PRODUCTION_ENVIRONMENTS": "Prod, Live",
                                  "PR_WAREHOUSE_DEPLOY_SOURCES": "Acme/Docs=Release"})
    assert deploy_vars(settings) == {"production_environments": ["prod", "live"],
                                     "deploy_sources": {"acme/docs": "release"}}
    with pytest.raises(InvalidDeploySources):
        Settings.from_env({"PR_WAREHOUSE_DEPLOY_SOURCES": "acme/docs=tags"})
