"""Plain data of the GraphQL client: its settings, what one call returns, running stats.

>>> ClientSettings(read_timeout=30).read_timeout
30
>>> stats = ClientStats()
>>> stats.retries["server_error"] += 1
>>> stats.as_dict()["retries"]
{'server_error': 1}
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def utc_now() -> datetime:
    """The current time, tz-aware UTC (the client's default clock)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ClientSettings:
    """How patient the client is. Every wait is bounded so a task stays under its timeout.

    >>> ClientSettings(max_attempts=3, max_inline_wait=30.0).max_attempts
    3
    """

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 8
    #: bound on the sum of the waits between attempts of one ``execute`` call
    max_total_wait: float = 900.0
    #: server errors, timeouts, partial data: exponential backoff with jitter
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    #: secondary limit without ``retry-after``: wait >= this, doubling on repeats
    secondary_min_wait: float = 60.0
    #: waits until a rate-limit reset longer than this raise ``RateLimitWait`` instead
    max_inline_wait: float = 120.0
    #: never spend below this many points: raise ``RateLimitWait`` before sending
    points_reserve: int = 0
    min_page_size: int = 5
    grow_after: int = 3
    user_agent: str = "pr-warehouse"
    #: seconds added to ``x-ratelimit-reset`` before retrying (clock skew, rounding)
    reset_margin: float = 1.0
    #: a GitHub App's installation token is replaced this long before it expires ...
    token_refresh_margin: float = 300.0
    #: ... or this fraction of its lifetime, when that is shorter (a 20 s token: 5 s)
    token_refresh_fraction: float = 0.25


@dataclass
class GraphQLResponse:
    """One clean GraphQL answer. ``body`` and ``document`` are left out of the repr (large).

    ``body`` is the HTTP body as received (after HTTP content decoding, never re-serialised),
    so the extract can store it untouched. ``document`` is that body parsed once by the
    client (``{"data": ..., ...}``): the extract reads its nodes from it rather than
    decoding the body again (about 1 ms a listing page). It is the caller's to keep or
    change; the client holds no reference to it.
    """

    body: bytes = field(repr=False)
    document: dict[str, Any] = field(repr=False)
    request_id: str | None
    page_size: int | None
    cost: int | None
    remaining: int | None
    reset_at: datetime | None
    attempts: int

    @property
    def data(self) -> dict[str, Any]:
        """The answer's ``data`` object (a clean answer always has one)."""
        return self.document["data"]


@dataclass
class ClientStats:
    """Running totals of one client, for run manifests.

    ``retries`` counts retries by failure class (``server_error``, ``request_timeout``,
    ``partial_data``, ``secondary_rate_limit``, ``primary_rate_limit``).
    """

    requests: int = 0
    points_spent: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    waited_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-able copy: ``{"requests": 3, "points_spent": 2, "retries": {...}, ...}``."""
        return {
            "requests": self.requests,
            "points_spent": self.points_spent,
            "retries": dict(sorted(self.retries.items())),
            "waited_seconds": round(self.waited_seconds, 3),
        }
