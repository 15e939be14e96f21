"""Review-thread comments through the real extract and load: the product's client against
the emulator's HTTP server, a local object store and DuckDB files."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from github_emulator import EmulatorServer, build_world
from pr_warehouse.client import GraphQLClient
from pr_warehouse.contracts import Manifest
from pr_warehouse.extract.pull_requests import ExtractRequest, extract_repository
from pr_warehouse.extract.review_comments import reviews_due
from pr_warehouse.load.duckdb_loader import load_manifests
from pr_warehouse.storage import PageKind, RawStore

TOKEN = "review-comments-test-token"
COMMENTS_OP, FOLLOWUP_OP = "PullRequestReviewComments", "NestedConnectionPages"
REPO = "acme/api"


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
    return extract_repository(client, store, ExtractRequest(repo=REPO, run_key=run,
                                                            page_size=29, **kw))


def expected_reviews(world: Any, floor: Any = None) -> dict[str, int]:
    """Review id -> comment count, for the reviews the extract should ask for."""
    out = {}
    for pr in world.repo(REPO).pull_requests:
        author = pr.author.login if pr.author else None
        for review in pr.reviews:
            if review.state == "PENDING" or review.submitted_at is None:
                continue
            if floor is not None and review.submitted_at < floor:
                continue
            if author is not None and review.author is not None and review.author.login == author:
                continue
            out[review.id] = len(review.comments)
    return out


def stored_reviews(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute(
            "select review_id, json_array_length(review -> '$.comments.nodes') "
            "from raw.pull_request_review_comments").fetchall())
    finally:
        con.close()


def test_reviews_due_skips_pending_own_and_old_reviews() -> None:
    from pr_warehouse.contracts import parse_iso

    pr = {"author": None, "reviews": {"nodes": [
        {"id": "R1", "state": "COMMENTED", "submittedAt": "2026-11-02T10:00:00Z",
         "author": None},
        None,
        {"id": "R2", "state": "DISMISSED", "submittedAt": "2026-11-02T10:00:00Z",
         "author": {"login": "bot[bot]"}}]}}
    # A deleted PR author: every reviewer counts (the logins cannot be compared).
    assert reviews_due([pr], None) == ["R1", "R2"]
    assert reviews_due([pr], parse_iso("2026-11-02T10:00:00Z")) == ["R1", "R2"]
    assert reviews_due([pr], parse_iso("2026-11-02T10:00:01Z")) == []
    assert reviews_due([{"author": {"login": "a"}, "reviews": None}], None) == []


def test_every_review_arrives_complete_once_and_a_rerun_fetches_nothing(setup, tmp_path) -> None:
    world, server, store, client = setup
    # A review with 130 thread comments: its list needs a follow-up page.
    pr = world.pull_request(REPO, 250)
    review = world.add_review(REPO, 250, author="zoe", state="COMMENTED",
                              at=world.now - timedelta(hours=1))
    for i in range(130):
        review.add_comment(world.now - timedelta(hours=2, minutes=130 - i))
    assert pr.author is None or pr.author.login != "zoe"
    manifest = extract(client, store, "r1")
    want = expected_reviews(world)
    asked = [i for r in store.committed_pages("r1", REPO, kind=PageKind.REVIEW_COMMENTS)
             for i in r.meta["ids"]]
    assert sorted(asked) == sorted(want)  # each due review once, no other
    assert ops(server)[COMMENTS_OP] == -(-len(want) // 100)
    followups = store.committed_pages("r1", REPO, kind=PageKind.REVIEW_COMMENTS_FOLLOWUP)
    assert len(followups) == 1 and followups[0].meta["requests"][0]["id"] == review.id
    assert len(manifest.review_comment_pages) == ops(server)[COMMENTS_OP] + 1

    db = tmp_path / "w.duckdb"
    load_manifests(db, store, [manifest], run_id="r1")
    assert stored_reviews(db) == want and want[review.id] == 130
    con = duckdb.connect(str(db), read_only=True)
    try:
        # Each review row carries its PR's loaded_at, repository and number.
        mismatched = con.execute(
            "select count(*) from raw.pull_request_review_comments c join raw.pull_requests p "
            "on p.node_id = c.pull_request_id where p.loaded_at <> c.loaded_at "
            "or p.repo <> c.repo or p.pr_number <> c.pr_number").fetchall()[0][0]
        first = con.execute("select max(loaded_at) from raw.pull_request_review_comments"
                            ).fetchall()[0][0]
    finally:
        con.close()
    assert mismatched == 0

    before = len(server.ledger.entries)
    again = extract(client, store, "r1")
    assert server.ledger.entries[before:] == [] and again.points_spent == 0
    assert again.review_comment_pages == manifest.review_comment_pages
    load_manifests(db, store, [again], run_id="r1")  # the same pages: nothing changes
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("select count(*) from raw.pull_request_review_comments "
                           "where loaded_at <> ?", [first]).fetchall()[0][0] == 0
    finally:
        con.close()


def test_a_resumed_extract_fetches_only_the_missing_review_pages(setup, tmp_path) -> None:
    world, server, store, client = setup
    first = extract(client, store, "r2")
    # Forget the last review-comments page, as if the task died before committing it.
    (tmp_path / "raw" / first.review_comment_pages[-1]).with_suffix(".meta.json").unlink()
    start = len(server.ledger.entries)
    resumed = extract(client, store, "r2")
    assert ops(server, start) == Counter({COMMENTS_OP: 1})
    assert resumed.review_comment_pages == first.review_comment_pages


def test_an_incremental_run_asks_only_for_reviews_after_the_floor(setup, tmp_path) -> None:
    world, server, store, client = setup
    db = tmp_path / "w.duckdb"
    load_manifests(db, store, [extract(client, store, "day1")], run_id="day1")
    since = world.now
    world.advance(hours=2)
    review = world.add_review(REPO, 250, author="zoe", state="CHANGES_REQUESTED")
    review.add_comment(world.now - timedelta(minutes=2), "Why?")
    review.add_comment(world.now - timedelta(minutes=1), "And this?")
    start = len(server.ledger.entries)
    manifest = extract(client, store, "day2", since=since)
    assert ops(server, start)[COMMENTS_OP] == 1
    asked = store.committed_pages("day2", REPO, kind=PageKind.REVIEW_COMMENTS)[0].meta["ids"]
    # The PR's older reviews were fetched on day 1 (they moved its updatedAt then).
    assert asked == [review.id]
    assert manifest.points_spent >= 1
    load_manifests(db, store, [manifest], run_id="day2")
    assert stored_reviews(db) == expected_reviews(world)


def test_a_batch_of_repositories_shares_its_review_queries(setup, tmp_path) -> None:
    """Small repositories extracted in one task ask for their reviews in shared queries,
    after their events; each manifest lists the pages holding its reviews and carries its
    share of the points, which add up to what GitHub charged."""
    from pr_warehouse.contracts import ExtractBatch, ExtractJob
    from pr_warehouse.extract.pull_requests import events_folder, fetch_batch_events

    world, server, store, client = setup
    repos = ["acme/infra", "acme/docs", "acme/legacy"]
    batch = ExtractBatch.of([ExtractJob(repo) for repo in repos])
    folder = events_folder(batch)

    def run() -> list[Manifest]:
        due: dict[str, list[str]] = {}
        manifests = [extract_repository(client, store, ExtractRequest(repo=r, run_key="b1"),
                                        pending_events=due.setdefault(r, [])) for r in repos]
        fetch_batch_events(client, store, "b1", folder, manifests, due)
        return manifests

    start = len(server.ledger.entries)
    manifests = run()
    entries = server.ledger.entries[start:]
    names = [e.operation_name for e in entries]
    # After the events, and shared: the three repositories' reviews (under 100) in one query.
    assert names.count(COMMENTS_OP) == 1
    assert names.index(COMMENTS_OP) > max(i for i, n in enumerate(names)
                                          if n == "PullRequestEvents")
    assert sum(m.points_spent for m in manifests) == sum(e.points for e in entries)
    page = manifests[0].review_comment_pages
    assert page and all(m.review_comment_pages == page for m in manifests)
    assert page[0].startswith(f"runs/b1/{folder}/pages/reviewcomments-")

    db = tmp_path / "w.duckdb"
    load_manifests(db, store, manifests, run_id="b1")
    want: dict[str, int] = {}
    for repo in repos:
        for pr in world.repo(repo).pull_requests:
            author = pr.author.login if pr.author else None
            want.update({r.id: len(r.comments) for r in pr.reviews
                         if r.state != "PENDING" and r.submitted_at is not None
                         and not (author and r.author and r.author.login == author)})
    assert stored_reviews(db) == want

    before = len(server.ledger.entries)
    again = run()  # a retried task: everything is stored
    assert server.ledger.entries[before:] == []
    assert [m.review_comment_pages for m in again] == [m.review_comment_pages for m in manifests]
