"""The raw store's writes on a local folder: whole files or none, folders made on demand."""

from __future__ import annotations

from pathlib import Path

from pr_warehouse.storage import PageKind, RawStore


def test_a_local_write_makes_its_folders_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = RawStore((tmp_path / "raw").as_uri())
    key = store.write_page("run-1", "acme/api", 1, b'{"data": {}}', {"cursor": None})
    assert (tmp_path / "raw" / key).read_bytes() == b'{"data": {}}'
    written = sorted(p.relative_to(tmp_path / "raw").as_posix()
                     for p in (tmp_path / "raw").rglob("*") if p.is_file())
    assert written == ["runs/run-1/acme/api/pages/000001.json",
                       "runs/run-1/acme/api/pages/000001.meta.json"]
    assert [r.key for r in store.committed_pages("run-1", "acme/api")] == [key]


def test_a_rewrite_replaces_the_file_and_a_deleted_folder_is_made_again(tmp_path: Path) -> None:
    store = RawStore((tmp_path / "raw").as_uri())
    store.write_page("run-1", "acme/api", 1, b"old", {})
    key = store.write_page("run-1", "acme/api", 1, b"new", {})
    assert store.read_bytes(key) == b"new"
    store.delete_folder_run("run-1", "acme/api")
    assert store.committed_pages("run-1", "acme/api") == []
    key = store.write_page("run-1", "acme/api", 1, b"again", {}, PageKind.FOLLOWUP)
    assert key.endswith("/followup-000001.json") and store.read_bytes(key) == b"again"
    assert not list((tmp_path / "raw").rglob(".*.tmp"))


def test_committed_pages_are_one_kinds_with_their_meta_in_page_order(tmp_path: Path) -> None:
    store = RawStore((tmp_path / "raw").as_uri())
    assert store.committed_pages("run-1", "acme/api") == []  # no folder yet
    for page in (10, 2, 1):
        store.write_page("run-1", "acme/api", page, b"{}", {"cursor": f"c{page}"})
    store.write_page("run-1", "acme/api", 1, b"{}", {}, PageKind.FOLLOWUP)
    # A body whose metadata was never written is not committed.
    store.write_atomic("runs/run-1/acme/api/pages/000011.json", b"{}")
    pulls = store.committed_pages("run-1", "acme/api")
    assert [(r.page, r.meta["cursor"]) for r in pulls] == [(1, "c1"), (2, "c2"), (10, "c10")]
    assert [r.key for r in store.committed_pages("run-1", "acme/api", PageKind.FOLLOWUP)] == [
        "runs/run-1/acme/api/pages/followup-000001.json"]
