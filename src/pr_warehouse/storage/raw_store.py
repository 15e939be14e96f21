"""Where raw GitHub response pages live, through Airflow's ``ObjectStoragePath``.

Every key under the base URL (``file:///.../data/raw`` or ``s3://conn_id@bucket/prefix``) is
made here and nowhere else::

    runs/<run_key>/<owner>/<name>/pages/000001.json          # the HTTP body, as received
    runs/<run_key>/<owner>/<name>/pages/000001.meta.json     # cursor, page size, request id
    runs/<run_key>/<owner>/<name>/pages/followup-000001.json # other kinds: <kind>-<n>.json
    runs/<run_key>/<owner>/<name>/pages/reviewcomments-000001.json  # reviews' thread comments
    runs/<run_key>/<owner>/<name>/manifest.json              # what the extract reports
    runs/<run_key>/<owner>/<name>/pages/deploys-000001.json  # deployments, releases, history
    runs/<run_key>/_shared/<batch>/pages/events-000001.json  # events of a shared batch
    runs/<run_key>/_orgs/<org>/pages/teams-000001.json       # an organization's teams
    runs/<run_key>/_orgs/<org>/pages/teamsfollowup-000001.json  # the rest of long member lists
    runs/<run_key>/_orgs/manifest.json                       # the teams step (and the file)
    runs/<run_key>/plan.json                                 # watermarks, probe, skipped repos
    runs/<run_key>/report.html                               # the run's HTML report

A page is committed when its ``.meta.json`` exists: the body is written first and the
meta last, each atomically, so a task killed mid-write leaves no page that looks complete.
A page holds one repository's PRs, except the events of a batch several repositories share
(one query asks for PRs of all of them): those live in the batch's ``_shared`` folder, a
name no GitHub owner can have (logins start with a letter or digit); an organization's
teams, which belong to no repository, live in ``_orgs`` for the same reason.
No ``key=value`` folder names: DuckDB's hive-partition detection would rewrite fields.

>>> run_key_for("manual__2026-11-28T18:00:00+00:00")
'manual__2026-11-28T18-00-00-00-00'
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pr_warehouse.constants import REPORT_FILE_NAME
from pr_warehouse.contracts import Manifest, SyncPlan, TeamsManifest

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
PAGE_DIGITS = 6
# Where the pages of a batch's shared queries go, beside the repositories' own folders.
SHARED_FOLDER = "_shared"
# Where organization-level pages (teams) go, beside the repositories' owner folders.
ORGS_FOLDER = "_orgs"
_LOCAL_PROTOCOLS = ("", "file", "local")


class PageKind(str, Enum):
    """Which query a page answers; each kind has its own page sequence and file names."""

    PULLS = "pulls"  # repository.pullRequests (or one PR by number)
    EVENTS = "events"  # nodes(ids:) with timelines, first commits and counts
    FOLLOWUP = "followup"  # the rest of PR nodes' nested lists cut short
    EVENTS_FOLLOWUP = "eventsfollowup"  # the rest of timelines cut short in events pages
    TEAMS = "teams"  # organization.teams with their members
    REVIEW_COMMENTS = "reviewcomments"  # nodes(ids:) of reviews with their thread comments
    REVIEW_COMMENTS_FOLLOWUP = "reviewcommentsfollowup"  # the rest of comment lists cut short
    TEAMS_FOLLOWUP = "teamsfollowup"  # the rest of member lists cut short in teams pages
    CHECKS = "checks"  # PRs' statusCheckRollup by node id (first pages and the rest)
    DEPLOYS = "deploys"  # repository deployments, releases and default-branch history
    DEPLOY_STATUSES = "deploystatuses"  # the rest of status lists cut short in deploys pages


def run_key_for(run_id: str) -> str:
    """A folder-safe, deterministic key for an Airflow run id."""
    return _UNSAFE.sub("-", run_id).strip("-") or "run"


def page_name(page: int, kind: PageKind = PageKind.PULLS) -> str:
    """File name of page ``page`` of a kind of query.

    >>> page_name(3), page_name(2, PageKind.FOLLOWUP)
    ('000003.json', 'followup-000002.json')
    """
    stem = f"{page:0{PAGE_DIGITS}d}"
    return f"{stem}.json" if kind is PageKind.PULLS else f"{kind.value}-{stem}.json"


def meta_key(key: str) -> str:
    """The key of a page's metadata, from the page's key.

    >>> meta_key("runs/r/a/b/pages/000001.json")
    'runs/r/a/b/pages/000001.meta.json'
    """
    return key[: -len(".json")] + ".meta.json"


def shared_folder(batch_folder: str) -> str:
    """The folder (in place of ``owner/name``) of a shared batch's pages.

    >>> shared_folder("acme-api-and-2-more")
    '_shared/acme-api-and-2-more'
    """
    return f"{SHARED_FOLDER}/{batch_folder}"


def org_folder(login: str) -> str:
    """The folder (in place of ``owner/name``) of an organization's pages.

    >>> org_folder("acme")
    '_orgs/acme'
    """
    return f"{ORGS_FOLDER}/{login}"


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
        # A local store's folder as a plain path: page writes are the extract's hot loop,
        # and UPath's joins, mkdir and rename cost twice the file system's own work.
        self._local_root: Path | None = Path(self.base.path) if self.is_local else None

    def __repr__(self) -> str:
        return f"RawStore({self.base_url!r})"

    # --- keys -------------------------------------------------------------------------

    @staticmethod
    def folder_prefix(run_key: str, folder: str) -> str:
        """``folder``: a repository (``owner/name``) or a :func:`shared_folder`."""
        owner, name = folder.split("/", 1)
        return f"runs/{run_key}/{owner}/{name}"

    @staticmethod
    def report_key(run_key: str) -> str:
        return f"runs/{run_key}/{REPORT_FILE_NAME}"

    @staticmethod
    def plan_key(run_key: str) -> str:
        return f"runs/{run_key}/plan.json"

    @staticmethod
    def teams_manifest_key(run_key: str) -> str:
        return f"runs/{run_key}/{ORGS_FOLDER}/manifest.json"

    def path(self, key: str) -> ObjectStoragePath:
        return self.base / key

    @property
    def is_local(self) -> bool:
        """True for a local folder (``file://``): plain paths work, renames are atomic."""
        return self.base.protocol in _LOCAL_PROTOCOLS

    def duckdb_path(self, key: str) -> str:
        """A path DuckDB can open: a plain file path, or a URL on the store's fsspec
        filesystem (register it with :meth:`register_with`)."""
        path = self.path(key)
        return path.path if self.is_local else f"{path.protocol}://{path.path}"

    def register_with(self, con: Any) -> None:
        """Let DuckDB connection ``con`` read this store's keys.

        DuckDB's httpfs cannot be installed offline, so remote stores go through the
        ``ObjectStoragePath``'s own fsspec filesystem.
        """
        if not self.is_local:
            con.register_filesystem(self.base.fs)

    # --- writing ----------------------------------------------------------------------

    def write_atomic(self, key: str, data: bytes) -> None:
        """Write ``data`` so readers see all of it or nothing.

        Object stores (S3) publish a PUT only when it completes; a local file system needs
        a temporary name and a rename.
        """
        if self._local_root is None:
            target = self.path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            return
        local = self._local_root / key
        tmp = local.parent / f".{local.name}.{uuid.uuid4().hex}.tmp"
        try:
            tmp.write_bytes(data)
        except FileNotFoundError:  # a folder's first file: make the folder only then
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
        os.replace(tmp, local)

    def write_page(self, run_key: str, folder: str, page: int, body: bytes,
                   meta: dict[str, Any], kind: PageKind = PageKind.PULLS) -> str:
        """Store one response body untouched, then commit it with its metadata.

        ``folder``: the repository (``owner/name``) whose PRs the page holds, or the
        :func:`shared_folder` of a batch whose repositories share the query.
        """
        key = f"{self.folder_prefix(run_key, folder)}/pages/{page_name(page, kind)}"
        self.write_atomic(key, body)
        full_meta = {**meta, "page": page, "kind": kind.value, "key": key}
        self.write_atomic(meta_key(key), json.dumps(full_meta, sort_keys=True).encode())
        return key

    def write_manifest(self, manifest: Manifest) -> str:
        key = f"{self.folder_prefix(manifest.run_key, manifest.repo)}/manifest.json"
        self.write_atomic(key, json.dumps(manifest.to_json(), sort_keys=True).encode())
        return key

    def write_plan(self, run_key: str, plan: SyncPlan) -> str:
        key = self.plan_key(run_key)
        self.write_atomic(key, json.dumps(plan.to_json(), sort_keys=True).encode())
        return key

    def write_teams_manifest(self, manifest: TeamsManifest) -> str:
        key = self.teams_manifest_key(manifest.run_key)
        self.write_atomic(key, json.dumps(manifest.to_json(), sort_keys=True).encode())
        return key

    def write_report(self, run_key: str, html: str) -> str:
        """Store the run's HTML report; returns its URL."""
        key = self.report_key(run_key)
        self.write_atomic(key, html.encode())
        return str(self.path(key))

    # --- reading ----------------------------------------------------------------------

    def read_plan(self, run_key: str) -> SyncPlan | None:
        path = self.path(self.plan_key(run_key))
        return SyncPlan.from_json(json.loads(path.read_bytes())) if path.exists() else None

    def read_teams_manifest(self, run_key: str) -> TeamsManifest | None:
        """The run's teams step, as it left it; None if it wrote nothing."""
        path = self.path(self.teams_manifest_key(run_key))
        return TeamsManifest.from_json(json.loads(path.read_bytes())) if path.exists() else None

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def read_json(self, key: str) -> Any:
        return json.loads(self.read_bytes(key))

    def read_meta(self, page_key: str) -> dict[str, Any]:
        """A committed page's metadata."""
        return self.read_json(meta_key(page_key))

    def committed_pages(self, run_key: str, folder: str,
                        kind: PageKind = PageKind.PULLS) -> list[PageRecord]:
        """Committed pages of one kind, in page order (a body without meta is ignored)."""
        prefix = f"{self.folder_prefix(run_key, folder)}/pages"
        # The file name tells the kind: read only this kind's metadata.
        pattern = "[0-9]*.meta.json" if kind is PageKind.PULLS else f"{kind.value}-*.meta.json"
        if self._local_root is not None:
            # Every extract lists its folder several times (see write_atomic): UPath's
            # glob compiles its pattern anew on each call.
            metas: Iterable[Any] = (self._local_root / prefix).glob(pattern)
        else:
            pages = self.path(prefix)
            metas = pages.glob(pattern) if pages.exists() else ()
        records = [PageRecord(key=meta["key"], meta=meta)
                   for meta in (json.loads(p.read_bytes()) for p in metas)]
        return sorted(records, key=lambda r: r.page)

    def read_manifest(self, run_key: str, repo: str) -> Manifest | None:
        """A repository's manifest in a run, failed extracts included; None if none."""
        path = self.path(f"{self.folder_prefix(run_key, repo)}/manifest.json")
        return Manifest.from_json(json.loads(path.read_bytes())) if path.exists() else None

    def delete_folder_run(self, run_key: str, folder: str) -> None:
        """Forget a folder's pages in one run (``full_refresh`` and ``use_cache=false``)."""
        path = self.path(self.folder_prefix(run_key, folder))
        if path.exists():
            path.fs.rm(path.path, recursive=True)
