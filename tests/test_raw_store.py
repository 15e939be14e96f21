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
