"""Rate limits and latency: GitHub's primary points budget, its secondary limits, and a
latency model with GitHub's 10-second cutoff.

Limits run on real (wall-clock) time, not the world clock: clients really wait for a
reset. Windows are configurable so a test can use a 2-second "hour".

>>> limiter = PrimaryLimiter(Limits(points_per_hour=10, window_seconds=2), clock=lambda: 100.0)
>>> limiter.charge(1, 6).remaining
4
>>> limiter.charge(1, 6) is None  # over the limit: nothing charged
True
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Limits:
    """GitHub's limits (defaults: a personal access token on github.com).

    ``points_per_minute`` is the secondary per-minute budget where each query counts 1
    (a mutation 5); ``secondary_retry_after_seconds`` is the ``retry-after`` sent with
    a secondary-limit 403.
    """

    points_per_hour: int = 5000
    window_seconds: float = 3600.0
    max_concurrent: int = 100
    points_per_minute: int = 2000
    secondary_window_seconds: float = 60.0
    secondary_retry_after_seconds: int = 60
    max_nodes: int = 500_000
    max_page_size: int = 100


@dataclass(frozen=True)
class RateSnapshot:
    """The primary budget after a request, as headers and ``rateLimit`` report it."""

    limit: int
    remaining: int
    used: int
    reset_epoch: int  # whole seconds, rounded up so a client waiting for it is never early
    cost: int = 0

    @property
    def reset_at(self) -> str:
        return datetime.fromtimestamp(self.reset_epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(self.reset_epoch),
            "x-ratelimit-resource": "graphql",
        }

    def exhausted(self) -> RateSnapshot:
        """The same window, reported with nothing left (GitHub's RATE_LIMITED answer)."""
        return RateSnapshot(self.limit, 0, self.used, self.reset_epoch, self.cost)


class PrimaryLimiter:
    """Points per user per window. The window starts at the first request after the
    previous one ended (GitHub's ``resetAt`` moves the same way). Thread-safe."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[int, tuple[float, int]] = {}  # user -> (window start, used)
        #: users with their own points per hour (a token's or an installation's quota)
        self.quotas: dict[int, int] = {}

    def limit_for(self, user: int) -> int:
        return self.quotas.get(user, self.limits.points_per_hour)

    def _window(self, user: int, now: float) -> tuple[float, int]:
        start, used = self._windows.get(user, (now, 0))
        if now >= start + self.limits.window_seconds:
            start, used = now, 0
        return start, used

    def _snapshot(self, start: float, used: int, cost: int = 0, user: int = 0) -> RateSnapshot:
        limit = self.limit_for(user)
        reset = math.ceil(start + self.limits.window_seconds)
        return RateSnapshot(limit, max(0, limit - used), used, reset, cost)

    def peek(self, user: int) -> RateSnapshot:
        with self._lock:
            start, used = self._window(user, self._clock())
            return self._snapshot(start, used, user=user)

    def charge(self, user: int, points: int) -> RateSnapshot | None:
        """Charge ``points`` atomically; ``None`` (and nothing charged) when they exceed
        what is left."""
        with self._lock:
            start, used = self._window(user, self._clock())
            if used + points > self.limit_for(user):
                self._windows[user] = (start, used)
                return None
            self._windows[user] = (start, used + points)
            return self._snapshot(start, used + points, points, user)

    def refund(self, user: int, points: int) -> RateSnapshot:
        """Give back points charged for a request that was then answered by a fault."""
        with self._lock:
            start, used = self._window(user, self._clock())
            used = max(0, used - points)
            self._windows[user] = (start, used)
            return self._snapshot(start, used, user=user)


@dataclass(frozen=True)
class SecondaryVerdict:
    """``allowed`` or not; ``retry_after`` seconds when not; ``reason`` for the ledger."""

    allowed: bool
    retry_after: int = 0
    reason: str = ""


@dataclass
class _Window:
    """A user's requests within the per-minute window, oldest first, and their points
    summed (kept as it goes: summing per request grew with an org's size)."""

    requests: deque[tuple[float, int]] = field(default_factory=deque)
    points: int = 0


class SecondaryLimiter:
    """Concurrent requests (global) and per-minute query points (per user).

    Use as: ``verdict = limiter.enter(user)``; when allowed, call ``limiter.leave()``
    once the response is sent.
    """

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight = 0
        self._recent: dict[int, _Window] = {}

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def enter(self, user: int, points: int = 1) -> SecondaryVerdict:
        with self._lock:
            if self._in_flight >= self.limits.max_concurrent:
                retry = self.limits.secondary_retry_after_seconds
                return SecondaryVerdict(False, retry, "concurrency")
            now = self._clock()
            window = self._recent.setdefault(user, _Window())
            horizon = now - self.limits.secondary_window_seconds
            while window.requests and window.requests[0][0] <= horizon:
                window.points -= window.requests.popleft()[1]
            if window.points + points > self.limits.points_per_minute:
                wait = window.requests[0][0] + self.limits.secondary_window_seconds - now
                return SecondaryVerdict(False, max(1, math.ceil(wait)), "points_per_minute")
            window.requests.append((now, points))
            window.points += points
            self._in_flight += 1
            return SecondaryVerdict(True)

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


@dataclass(frozen=True)
class LatencyModel:
    """Simulated server time: ``base_seconds + per_node_seconds * nodes`` (the query's
    possible nodes, so smaller pages answer faster, as on GitHub). Over
    ``timeout_seconds`` GitHub gives up and answers 502; the emulator then waits
    ``timeout_seconds`` and does the same. ``time_scale`` shrinks real sleeps (0.01 makes
    a 10 s timeout take 0.1 s) without changing which queries time out.

    >>> m = LatencyModel(base_seconds=0.2, per_node_seconds=0.001)
    >>> m.simulated_seconds(17600) > m.timeout_seconds, m.simulated_seconds(1000)
    (True, 1.2)
    """

    base_seconds: float = 0.0
    per_node_seconds: float = 0.0
    timeout_seconds: float = 10.0
    time_scale: float = 1.0
    # Only these operations take the time (empty: every one), so a test that needs a long
    # extract does not wait as long on every other query of the run.
    operations: frozenset[str] = frozenset()

    def for_operation(self, operation: str | None) -> LatencyModel:
        """This model, or an instant one for an operation it does not cover.

        >>> slow = LatencyModel(base_seconds=2.0, operations=frozenset({"Pages"}))
        >>> slow.for_operation("Pages").sleep_seconds(0), slow.for_operation("Probe").sleep_seconds(0)
        (2.0, 0.0)
        """
        if not self.operations or operation in self.operations:
            return self
        return LatencyModel(timeout_seconds=self.timeout_seconds)

    def simulated_seconds(self, nodes: int) -> float:
        return round(self.base_seconds + self.per_node_seconds * nodes, 9)

    def times_out(self, nodes: int) -> bool:
        return self.simulated_seconds(nodes) > self.timeout_seconds

    def sleep_seconds(self, nodes: int) -> float:
        """Real seconds to wait before answering."""
        return min(self.simulated_seconds(nodes), self.timeout_seconds) * self.time_scale
