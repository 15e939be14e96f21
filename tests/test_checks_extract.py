"""CI checks through the real extract and load: the product's client against the
emulator's HTTP server, a local object store and a DuckDB file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import pytest

from github_emulator import EmulatorServer, build_world
from pr_warehouse.client import GraphQLClient
from pr_warehouse.contracts import Manifest
from pr_warehouse.extract.checks import fetch_batch_checks, pending_requests
from pr_warehouse.load.checks import assemble_rollups, load_checks
from pr_warehouse.load.duckdb_loader import ensure_schema
from pr_warehouse.queries.builders import CHECKS_BATCH
from pr_warehouse.storage import PageKind, RawStore

TOKEN = "checks-test-token"
CHECKS_OP = "PullRequestChecks"


@pytest.fixture()
def setup(tmp_path: Path):
    world = build_world()
    server = EmulatorServer(world, tokens={TOKEN}).start()
    store = RawStore((tmp_path / "raw").as_uri())
    client = GraphQLClient(server.url, TOKEN)
    yield world, server, store, client
    client.close()
    server.stop()


def ops(server: EmulatorServer, start: int = 0) -> Counter:
    return Counter(e.operation_name for e in server.ledger.entries[start:])


def all_prs(world) -> dict[str, list[str]]:
    return {r.name_with_owner: [pr.id for pr in r.pull_requests]
            for r in world.repositories() if r.owner.login == "acme"}


def test_every_due_pr_gets_its_checks_complete_and_a_rerun_fetches_nothing(setup) -> None:
    world, server, store, client = setup
    due = all_prs(world)
    manifests = [Manifest(repo) for repo in due]
    fetch_batch_checks(client, store, "r1", "_shared/acme", manifests, due)
    total = sum(len(ids) for ids in due.values())
    long_rollups = [pr for ids in due.values() for pr in ids
                    if len(world.find_node(pr).checks) > 100]
    assert long_rollups, "the world should hold a rollup past one page"
    # First pages in batches of CHECKS_BATCH, plus the follow-ups of long rollups.
    first_queries = -(-total // CHECKS_BATCH)
    assert first_queries <= ops(server)[CHECKS_OP] <= first_queries + len(long_rollups)
    points = sum(m.points_spent for m in manifests)
    assert points == sum(e.cost for e in server.ledger.entries)
    assert points * 1000 / total <= 15
    # Every repository lists the pages holding its PRs; every PR's rollup is complete.
    records = store.committed_pages("r1", "_shared/acme", kind=PageKind.CHECKS)
    pages = [(r.key, store.read_json(r.key), r.meta) for r in records]
    assert not pending_requests([i for ids in due.values() for i in ids],
                                [(b, m) for _, b, m in pages])
    rollups = assemble_rollups(pages)
    for ids in due.values():
        for node_id in ids:
            pr = world.find_node(node_id)
            rollup = rollups[node_id][0]
            if not pr.checks:
                assert rollup is None
            else:
                assert [c["id"] for c in rollup["contexts"]] == [c.id for c in pr.checks]
    for manifest in manifests:
        assert manifest.check_pages

    before = len(server.ledger.entries)
    again = [Manifest(repo) for repo in due]
    fetch_batch_checks(client, store, "r1", "_shared/acme", again, due)
    assert len(server.ledger.entries) == before
    assert [m.check_pages for m in again] == [m.check_pages for m in manifests]


def test_loading_the_same_pages_twice_changes_nothing_and_aligns_loaded_at(setup,
                                                                          tmp_path) -> None:
    from datetime import datetime, timezone

    world, _, store, client = setup
    due = {"acme/api": [pr.id for pr in world.repo("acme/api").pull_requests]}
    manifests = [Manifest("acme/api", check_pages=[])]
    fetch_batch_checks(client, store, "r1", "acme/api", manifests, due)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    # A PR row loaded earlier, its checks arriving in a later load.
    pr_id = due["acme/api"][0]
    first = datetime(2026, 11, 1, tzinfo=timezone.utc)
    con.execute("insert into raw.pull_requests values (?, 'acme/api', 1, ?, '{}', 'k', 'r0', ?)",
                [pr_id, first, first])
    t1 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    # Only the PR the warehouse holds keeps its checks.
    assert load_checks(con, store, manifests, run_id="r1", loaded_at=t1) == 1
    assert con.execute("select node_id from raw.pull_request_checks").fetchall() == [(pr_id,)]
    snapshot = con.execute("select * from raw.pull_request_checks order by node_id").fetchall()
    # The PR's own row now carries the load's loaded_at: dbt rebuilds it.
    assert con.execute("select loaded_at from raw.pull_requests").fetchall() == [(t1,)]
    t2 = datetime(2026, 11, 3, tzinfo=timezone.utc)
    assert load_checks(con, store, manifests, run_id="r2", loaded_at=t2) == 0
    assert con.execute("select * from raw.pull_request_checks order by node_id"
                       ).fetchall() == snapshot
    assert con.execute("select loaded_at from raw.pull_requests").fetchall() == [(t1,)]
