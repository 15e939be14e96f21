"""The load step against real DuckDB files and a real local object store."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pr_warehouse.contracts import ExtractStatus, Manifest
from pr_warehouse.load.duckdb_loader import load_manifests
from pr_warehouse.storage import PageKind, RawStore


def pr_node(number: int, updated: str, *, title: str = "t", labels: list[str] | None = None,
            labels_next: str | None = None) -> dict:
    names = labels or []
    return {
        "id": f"PR_{number}", "number": number, "title": title, "updatedAt": updated,
        "labels": {"totalCount": len(names) + (1 if labels_next else 0),
                   "pageInfo": {"hasNextPage": bool(labels_next), "endCursor": labels_next},
                   "nodes": [{"id": f"L_{n}", "name": n, "color": "fff"} for n in names]},
    }


def page(nodes: list[dict | None], repo: str = "acme/api") -> bytes:
    return json.dumps({"data": {
        "rateLimit": {"cost": 1, "remaining": 4999},
        "repository": {"nameWithOwner": repo, "pullRequests": {
            "totalCount": len(nodes), "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": nodes}}}}).encode()


@pytest.fixture()
def store(tmp_path: Path) -> RawStore:
    return RawStore((tmp_path / "raw").as_uri())


def manifest(store: RawStore, run: str, bodies: list[bytes], repo: str = "acme/api",
             followups: list[tuple[bytes, dict]] = ()) -> Manifest:
    keys = [store.write_page(run, repo, i + 1, b, {}) for i, b in enumerate(bodies)]
    fkeys = [store.write_page(run, repo, i + 1, b, m, kind=PageKind.FOLLOWUP)
             for i, (b, m) in enumerate(followups)]
    return Manifest(repo=repo, run_key=run, pages=keys, followup_pages=fkeys, points_spent=3,
                    requests=2, retries={"server_error": 1})


def rows(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select node_id, repo, pr_number, updated_at, pr::varchar, loaded_at "
                           "from raw.pull_requests order by node_id").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("streams", [1, 2, 3])
def test_newest_update_wins_and_reload_changes_nothing(store: RawStore, tmp_path: Path,
                                                       monkeypatch, streams: int) -> None:
    """Pages read in one stream or several (one more than there are pages) give the same
    result."""
    from pr_warehouse.load import duckdb_loader

    monkeypatch.setattr(duckdb_loader, "READ_STREAMS", streams)
    db = tmp_path / "w.duckdb"
    # PR 1 moved while paging: seen on page 1 (new) and page 2 (old copy); null node kept out.
    m = manifest(store, "r1", [
        page([pr_node(1, "2026-11-02T00:00:00Z", title="new"), None, pr_node(2, "2026-11-01T00:00:00Z")]),
        page([pr_node(1, "2026-10-01T00:00:00Z", title="old"), pr_node(3, "2026-09-01T00:00:00Z")]),
    ])
    result = load_manifests(db, store, [m], run_id="r1")
    assert result.pull_requests_seen == 4 and result.rows_written == 3
    first = rows(db)
    assert [r[0] for r in first] == ["PR_1", "PR_2", "PR_3"]
    assert json.loads(first[0][4])["title"] == "new"
    again = load_manifests(db, store, [m], run_id="r1")
    assert again.rows_written == 0
    assert rows(db) == first  # loaded_at included: nothing changed

    # A later run with an older copy of PR 1 must not overwrite the newer one.
    older = manifest(store, "r2", [page([pr_node(1, "2026-10-15T00:00:00Z", title="stale")])])
    load_manifests(db, store, [older], run_id="r2")
    assert json.loads(rows(db)[0][4])["title"] == "new"


def events_page(nodes: list[dict]) -> bytes:
    return json.dumps({"data": {"rateLimit": {"cost": 1, "remaining": 4999},
                                "nodes": nodes}}).encode()


def events_node(number: int, updated: str, comments: int = 0) -> dict:
    items = [{"__typename": "IssueComment", "id": f"IC_{number}_{i}",
              "createdAt": updated} for i in range(comments)]
    return {"id": f"PR_{number}", "number": number, "updatedAt": updated,
            "timelineItems": {"totalCount": comments,
                              "pageInfo": {"hasNextPage": False, "endCursor": None},
                              "nodes": items}}


def loaded_at_by_table(db: Path) -> dict[str, dict[str, object]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {table: dict(con.execute(f"select node_id, loaded_at from raw.{table}").fetchall())
                for table in ("pull_requests", "pull_request_events")}
    finally:
        con.close()


def test_a_prs_node_and_events_rows_keep_one_loaded_at(store: RawStore, tmp_path: Path) -> None:
    """Whichever of a PR's two raw rows a load rewrites, both show that load's loaded_at
    (dbt's incremental models find a reloaded PR by one loaded_at filter per view)."""
    db = tmp_path / "w.duckdb"

    def load(run: str, prs: list[dict], events: list[dict]) -> None:
        m = manifest(store, run, [page(prs)] if prs else [])
        if events:
            m.event_pages = [store.write_page(run, "acme/api", 1, events_page(events), {},
                                              kind=PageKind.EVENTS)]
        load_manifests(db, store, [m], run_id=run)

    load("r1", [pr_node(1, "2026-11-01T00:00:00Z"), pr_node(2, "2026-11-01T00:00:00Z")],
         [events_node(1, "2026-11-01T00:00:00Z"), events_node(2, "2026-11-01T00:00:00Z")])
    first = loaded_at_by_table(db)
    assert len(first["pull_request_events"]) == 2
    assert first["pull_requests"] == first["pull_request_events"]

    # The events of PR 1 fetched again with a new comment, its node unchanged.
    load("r2", [], [events_node(1, "2026-11-01T00:00:00Z", comments=1)])
    second = loaded_at_by_table(db)
    assert second["pull_requests"]["PR_1"] == second["pull_request_events"]["PR_1"] \
        > first["pull_requests"]["PR_1"]
    # PR 2's node changed, its events were not fetched again.
    load("r3", [pr_node(2, "2026-11-03T00:00:00Z", title="edited")], [])
    third = loaded_at_by_table(db)
    assert third["pull_requests"] == third["pull_request_events"]
    assert third["pull_requests"]["PR_2"] > second["pull_requests"]["PR_2"]
    assert third["pull_requests"]["PR_1"] == second["pull_requests"]["PR_1"]
    # Loading the same pages again writes nothing and so moves nothing.
    load("r3", [pr_node(2, "2026-11-03T00:00:00Z", title="edited")], [])
    assert loaded_at_by_table(db) == third


def test_followup_pages_complete_truncated_lists(store: RawStore, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    truncated = pr_node(7, "2026-11-02T00:00:00Z", labels=["a", "b"], labels_next="c2")
    followup = json.dumps({"data": {"n0": {"id": "PR_7", "labels": {
        "totalCount": 3, "pageInfo": {"hasNextPage": False, "endCursor": "c3"},
        "nodes": [{"id": "L_c", "name": "c", "color": "000"}]}}}}).encode()
    meta = {"requests": [{"alias": "n0", "id": "PR_7", "connection": "labels", "after": "c2"}]}
    m = manifest(store, "r1", [page([truncated, pr_node(8, "2026-11-01T00:00:00Z")])],
                 followups=[(followup, meta)])
    load_manifests(db, store, [m], run_id="r1")
    pr = json.loads(rows(db)[0][4])
    assert [n["name"] for n in pr["labels"]["nodes"]] == ["a", "b", "c"]
    assert pr["labels"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("streams", [1, 2])
def test_completed_nodes_insert_and_update_beside_their_page_neighbours(
        store: RawStore, tmp_path: Path, monkeypatch, streams: int) -> None:
    """A winner completed by follow-ups is written from its completed JSON, the other
    winners of its page from the page, both when new (insert) and when stored (update)."""
    from pr_warehouse.load import duckdb_loader

    monkeypatch.setattr(duckdb_loader, "READ_STREAMS", streams)
    db = tmp_path / "w.duckdb"

    def sync(run: str, updated: str, title: str) -> None:
        truncated = pr_node(7, updated, title=title, labels=["a"], labels_next="c1")
        followup = json.dumps({"data": {"n0": {"id": "PR_7", "labels": {
            "totalCount": 2, "pageInfo": {"hasNextPage": False, "endCursor": "c2"},
            "nodes": [{"id": "L_b", "name": "b", "color": "000"}]}}}}).encode()
        meta = {"requests": [{"alias": "n0", "id": "PR_7", "connection": "labels",
                              "after": "c1"}]}
        m = manifest(store, run, [page([pr_node(6, updated, title=title), truncated]),
                                  page([pr_node(8, updated, title=title)])],
                     followups=[(followup, meta)])
        load_manifests(db, store, [m], run_id=run)

    for run, updated, title in (("r1", "2026-11-02T00:00:00Z", "first"),
                                ("r2", "2026-11-03T00:00:00Z", "second")):
        sync(run, updated, title)
        stored = {r[0]: json.loads(r[4]) for r in rows(db)}
        assert sorted(stored) == ["PR_6", "PR_7", "PR_8"]
        assert {node["title"] for node in stored.values()} == {title}
        assert [n["name"] for n in stored["PR_7"]["labels"]["nodes"]] == ["a", "b"]
        assert stored["PR_7"]["labels"]["pageInfo"]["hasNextPage"] is False


def test_corrupt_page_is_named_and_good_pages_still_load(store: RawStore, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    m = manifest(store, "r1", [page([pr_node(1, "2026-11-02T00:00:00Z")]), b"<html>oops</html>",
                               b'{"data": {"repository": null}}'])
    result = load_manifests(db, store, [m], run_id="r1")
    assert result.corrupt_pages == {
        "runs/r1/acme/api/pages/000002.json": "not valid JSON",
        "runs/r1/acme/api/pages/000003.json": "no data.repository.pullRequests.nodes",
    }
    assert [r[0] for r in rows(db)] == ["PR_1"]


def test_clear_and_sync_runs(store: RawStore, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    a = manifest(store, "r1", [page([pr_node(1, "2026-11-02T00:00:00Z")])])
    b = manifest(store, "r1", [page([pr_node(2, "2026-11-02T00:00:00Z")], repo="acme/web")],
                 repo="acme/web")
    failed = Manifest(repo="acme/gone", status=ExtractStatus.FAILED, error="NOT_FOUND")
    never = Manifest.missing("acme/lost", "r1")
    result = load_manifests(db, store, [a, b, failed, never], run_id="r1")
    assert result.failed_repos == {"acme/gone": "NOT_FOUND", "acme/lost": never.error}
    assert len(rows(db)) == 2
    # clear deletes the selected repo's rows before loading what this run brought (nothing).
    result = load_manifests(db, store, [], run_id="r2", clear_repos=["ACME/web"])
    assert result.rows_cleared == 1 and [r[1] for r in rows(db)] == ["acme/api"]
    con = duckdb.connect(str(db), read_only=True)
    runs = con.execute("select repo, status, pages, points_spent, retries::varchar, error "
                       "from raw.sync_runs order by repo").fetchall()
    con.close()
    assert [(*r[:4], json.loads(r[4]), r[5]) for r in runs] == [
        ("acme/api", "success", 1, 3, {"server_error": 1}, None),
        ("acme/gone", "failed", 0, 0, {}, "NOT_FOUND"),
        ("acme/lost", "missing", 0, 0, {}, never.error),
        ("acme/web", "success", 1, 3, {"server_error": 1}, None),
    ]
