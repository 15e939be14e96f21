"""Where raw GitHub response pages live, through Airflow's ``ObjectStoragePath``.

Layout under the base URL (``file:///.../data/raw`` or ``s3://conn_id@bucket/prefix``)::

    runs/<run_key>/<owner>/<name>/pages/000001.json        # the HTTP body, as received
    runs/<run_key>/<owner>/<name>/pages/000001.meta.json   # cursor, page size, request id
    runs/<run_key>/<owner>/<name>/manifest.json            # what the extract reports
    runs/<run_key>/plan.json                               # watermarks, probe, skipped repos

A page is committed when its ``.meta.json`` exists: the body is written first and the
meta last, each atomically, so a task killed mid-write leaves no page that looks complete.
No ``key=value`` folder names: DuckDB's hive-partition detection would rewrite fields.

>>> run_key_for("manual__2026-11-28T18:00:00+00:00")
'manual__2026-11-28T18-00-00-00-00'
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
PAGE_DIGITS = 6


def run_key_for(run_id: str) -> str:
    """A folder-safe, deterministic key for an Airflow run id."""
    return _UNSAFE.sub("-", run_id).strip("-") or "run"


def page_name(page: int, kind: str = "pulls") -> str:
    """File name of page ``page`` of a kind of query.

    >>> page_name(3), page_name(2, "followup")
    ('000003.json', 'followup-000002.json')
    """
    stem = f"{page:0{PAGE_DIGITS}d}"
    return f"{stem}.json" if kind == "pulls" else f"{kind}-{stem}.json"


@dataclass(frozen=True)
class PageRecord:
    """A committed page: its key (relative to the store's base) and its metadata."""

    key: str
    meta: dict[str, Any]

    @property
    def page(self) -> int:
        return int(self.meta["page"])


class RawStore:
    """Raw pages under one base URL. Keys in manifests are relative to the base."""

    def __init__(self, base_url: str) -> None:
        from airflow.sdk import ObjectStoragePath

        self.base_url = base_url
        self.base: ObjectStoragePath = ObjectStoragePath(base_url)

    def __repr__(self) -> str:
        return f"RawStore({self.base_url!r})"

    # --- keys -------------------------------------------------------------------------

    @staticmethod
    def repo_prefix(run_key: str, repo: str) -> str:
        owner, name = repo.split("/", 1)
        return f"runs/{run_key}/{owner}/{name}"

    def path(self, key: str) -> ObjectStoragePath:
        return self.base / key

    # --- writing ----------------------------------------------------------------------

    def write_atomic(self, key: str, data: bytes) -> None:
        """Write ``data`` so readers see all of it or nothing.

        Object stores (S3) publish a PUT only when it completes; a local file system needs
        a temporary name and a rename.
        """
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.protocol in ("", "file", "local"):
            tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
            tmp.write_bytes(data)
            tmp.rename(target)
        else:
            target.write_bytes(data)

    def write_page(self, run_key: str, repo: str, page: int, body: bytes, meta: dict[str, Any],
                   kind: str = "pulls") -> str:
        """Store one response body untouched, then commit it with its metadata."""
        key = f"{self.repo_prefix(run_key, repo)}/pages/{page_name(page, kind)}"
        self.write_atomic(key, body)
        full_meta = {**meta, "page": page, "kind": kind, "key": key}
        self.write_atomic(_meta_key(key), json.dumps(full_meta, sort_keys=True).encode())
        return key

    def write_manifest(self, run_key: str, repo: str, manifest: dict[str, Any]) -> str:
        key = f"{self.repo_prefix(run_key, repo)}/manifest.json"
        self.write_atomic(key, json.dumps(manifest, sort_keys=True, default=str).encode())
        return key

    def write_plan(self, run_key: str, plan: dict[str, Any]) -> str:
        key = f"runs/{run_key}/plan.json"
        self.write_atomic(key, json.dumps(plan, sort_keys=True, default=str).encode())
        return key

    # --- reading ----------------------------------------------------------------------

    def read_plan(self, run_key: str) -> dict[str, Any] | None:
        path = self.path(f"runs/{run_key}/plan.json")
        return json.loads(path.read_bytes()) if path.exists() else None

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def read_json(self, key: str) -> Any:
        return json.loads(self.read_bytes(key))

    def committed_pages(self, run_key: str, repo: str, kind: str = "pulls") -> list[PageRecord]:
        """Committed pages of one kind, in page order (a body without meta is ignored)."""
        folder = self.path(f"{self.repo_prefix(run_key, repo)}/pages")
        if not folder.exists():
            return []
        # The file name tells the kind: read only this kind's metadata.
        pattern = "[0-9]*.meta.json" if kind == "pulls" else f"{kind}-*.meta.json"
        records = [PageRecord(key=meta["key"], meta=meta)
                   for meta in (json.loads(p.read_bytes()) for p in folder.glob(pattern))]
        return sorted(records, key=lambda r: r.page)

    def read_manifest(self, run_key: str, repo: str) -> dict[str, Any] | None:
        """A repository's manifest in a run, failed extracts included; None if none."""
        path = self.path(f"{self.repo_prefix(run_key, repo)}/manifest.json")
        return json.loads(path.read_bytes()) if path.exists() else None

    def delete_repo_run(self, run_key: str, repo: str) -> None:
        """Forget a repo's pages in one run (used by ``full_refresh`` and ``use_cache=false``)."""
        folder = self.path(self.repo_prefix(run_key, repo))
        if folder.exists():
            folder.fs.rm(folder.path, recursive=True)


def _meta_key(key: str) -> str:
    return key[: -len(".json")] + ".meta.json"
