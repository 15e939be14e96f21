"""Events (timeline, first commit, counts) through the real extract and load: the product's
client against the emulator's HTTP server, a local object store and DuckDB files."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from github_emulator import DEMO_CASES, EmulatorServer, build_world
from pr_warehouse.client import GraphQLClient
from pr_warehouse.contracts import Manifest
from pr_warehouse.extract.pull_requests import ExtractRequest, extract_repository
from pr_warehouse.load.duckdb_loader import load_manifests
from pr_warehouse.queries.builders import EVENTS_BATCH
from pr_warehouse.storage import PageKind, RawStore

TOKEN = "events-test-token"
EVENTS_OP, FOLLOWUP_OP = "PullRequestEvents", "NestedConnectionPages"


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


def extract(client: GraphQLClient, store: RawStore, run: str, **kw: Any) -> Manifest:
    return extract_repository(client, store, ExtractRequest(repo="acme/api", run_key=run,
                                                            page_size=29, **kw))


def test_every_changed_pr_gets_its_events_once_and_a_rerun_fetches_nothing(setup) -> None:
    world, server, store, client = setup
    manifest = extract(client, store, "r1")
    prs = len(world.repo("acme/api").pull_requests)
    batches = -(-prs // EVENTS_BATCH)
    assert manifest.pull_requests_with_events == prs
    assert ops(server)[EVENTS_OP] == len(manifest.event_pages) == batches
    asked = [i for r in store.committed_pages("r1", "acme/api", kind=PageKind.EVENTS)
             for i in r.meta["ids"]]
    assert sorted(asked) == sorted(pr.id for pr in world.repo("acme/api").pull_requests)
    # The 130-comment conversation needed one follow-up for its timeline.
    assert ops(server)[FOLLOWUP_OP] >= 1

    before = len(server.ledger.entries)
    again = extract(client, store, "r1")
    assert server.ledger.entries[before:] == [] and again.points_spent == 0
    assert again.event_pages == manifest.event_pages
    assert again.event_pages_cached == batches


def test_a_resumed_extract_fetches_only_the_missing_events(setup, tmp_path: Path) -> None:
    world, server, store, client = setup
    first = extract(client, store, "r2")
    # Forget the last events page and every follow-up, as if the task died after them.
    raw = tmp_path / "raw"
    for key in [first.event_pages[-1], *first.followup_pages]:
        (raw / key).with_suffix(".meta.json").unlink()
    start = len(server.ledger.entries)
    resumed = extract(client, store, "r2")
    assert ops(server, start) == Counter({EVENTS_OP: 1, FOLLOWUP_OP: len(first.followup_pages)})
    assert resumed.event_pages == first.event_pages


def test_events_load_idempotently_and_long_timelines_arrive_complete(setup, tmp_path) -> None:
    world, server, store, client = setup
    manifest = extract(client, store, "r3")
    db = tmp_path / "w.duckdb"
    result = load_manifests(db, store, [manifest], run_id="r3")
    prs = world.repo("acme/api").pull_requests
    assert (result.event_pages, result.event_rows_written) == (len(manifest.event_pages),
                                                               len(prs))
    again = load_manifests(db, store, [manifest], run_id="r3")
    assert again.event_rows_written == 0  # same data: no row rewritten
    con = duckdb.connect(str(db), read_only=True)
    try:
        counts = dict(con.execute(
            "select pr_number, json_array_length(events -> '$.timelineItems.nodes') "
            "from raw.pull_request_events").fetchall())
    finally:
        con.close()
    # every event and conversation comment, and each commit at its committed date
    assert counts == {pr.number: len(pr.timeline) + len(pr.comments) + len(pr.commits)
                      for pr in prs}
    assert counts[DEMO_CASES["long_conversation"]] >= 130


def test_an_incremental_run_fetches_events_of_changed_prs_only(setup) -> None:
    world, server, store, client = setup
    extract(client, store, "day1")
    since = world.now
    world.advance(hours=2)
    world.add_comment("acme/api", 250, author="bob")
    start = len(server.ledger.entries)
    manifest = extract(client, store, "day2", since=since)
    assert manifest.pull_requests_with_events == 1  # the boundary page's others are older
    assert ops(server, start)[EVENTS_OP] == 1
    body = store.read_json(manifest.event_pages[0])
    assert [n["number"] for n in body["data"]["nodes"]] == [250]
    assert since - timedelta(minutes=10) < world.repo("acme/api").pull_request(250).updated_at
