"""The run's options, decided once from the DAG's Params.

Every rule that ties one Param to another lives here, so plan, extract and load read the
answer instead of re-deriving it:

- ``clear`` implies a reseed: the rows are deleted, so the stored watermark means nothing;
- a reseed (``full_refresh`` or ``clear``) ignores the watermark and fetches every PR;
- ``full_refresh`` also ignores pages already stored for this run (fresh from GitHub);
- ``since`` only applies without a reseed (a reseed starts from the beginning).

>>> o = RunOptions.from_params({"repos": ["a/b"], "clear": True, "since": "2026-01-02"})
>>> o.reseed, o.reuse_pages, o.since
(True, True, None)
>>> RunOptions.from_params({"full_refresh": True}).reuse_pages
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pr_warehouse.constants import DEFAULT_PAGE_SIZE
from pr_warehouse.contracts import parse_iso


@dataclass(frozen=True)
class RunOptions:
    """What one run syncs and how; built by :meth:`from_params`."""

    repos: tuple[str, ...] = ()
    orgs: tuple[str, ...] = ()
    project: str | None = None
    pull_requests: tuple[str, ...] = ()
    requested_since: datetime | None = None
    full_refresh: bool = False
    use_cache: bool = True
    clear: bool = False
    page_size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> RunOptions:
        """Read the DAG's Params (missing ones take the DAG's defaults)."""
        params = params or {}
        return cls(
            repos=tuple(params.get("repos") or ()),
            orgs=tuple(params.get("orgs") or ()),
            project=params.get("project") or None,
            pull_requests=tuple(params.get("pull_requests") or ()),
            requested_since=parse_iso(params.get("since")),
            full_refresh=bool(params.get("full_refresh")),
            use_cache=bool(params.get("use_cache", True)),
            clear=bool(params.get("clear")),
            page_size=int(params.get("page_size") or DEFAULT_PAGE_SIZE),
        )

    @property
    def reseed(self) -> bool:
        """Fetch every PR from the beginning, ignoring the stored watermark."""
        return self.full_refresh or self.clear

    @property
    def since(self) -> datetime | None:
        """The floor the user asked for; a reseed has none."""
        return None if self.reseed else self.requested_since

    @property
    def reuse_pages(self) -> bool:
        """Reuse pages this run already stored (a retry spends no points on them)."""
        return self.use_cache and not self.full_refresh
