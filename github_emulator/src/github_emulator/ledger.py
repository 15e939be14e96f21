"""A thread-safe record of every request the emulator answered.

It holds what tests and benchmarks assert on (points, status, faults, operation,
variables) and never the ``Authorization`` header or token: entries are built from
named fields only, so there is no place a credential could land.

>>> ledger = Ledger()
>>> ledger.record(LedgerEntry(request_id="A", status=200, points=5, operation_name="Op"))
>>> ledger.total_points, ledger.requests
(5, 1)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LedgerEntry:
    """One request. ``points`` is what was charged to the primary budget; ``cost`` is
    the query's computed cost (``None`` when the query never got that far)."""

    request_id: str
    status: int
    points: int = 0
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    fault: str | None = None
    error_type: str | None = None
    cost: int | None = None
    node_count: int | None = None
    rate_limit_remaining: int | None = None
    #: which credential paid (``token 1``, ``installation 7 token 3``), never the token
    credential: str | None = None
    duration_seconds: float = 0.0
    #: of ``duration_seconds``, the emulator's own work on an answered query (the latency
    #: model's wait is whatever is left of its modeled time)
    work_seconds: float | None = None
    received_at: float = field(default_factory=time.time)


class Ledger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LedgerEntry] = []

    def record(self, entry: LedgerEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    @property
    def entries(self) -> list[LedgerEntry]:
        """A snapshot copy, oldest first."""
        with self._lock:
            return list(self._entries)

    @property
    def total_points(self) -> int:
        with self._lock:
            return sum(e.points for e in self._entries)

    @property
    def requests(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def last(self) -> LedgerEntry | None:
        with self._lock:
            return self._entries[-1] if self._entries else None

    def faults(self) -> list[str]:
        """Injected fault classes, in order."""
        return [e.fault for e in self.entries if e.fault is not None]

    def for_operation(self, name: str) -> list[LedgerEntry]:
        return [e for e in self.entries if e.operation_name == name]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return self.requests

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(self.entries)
