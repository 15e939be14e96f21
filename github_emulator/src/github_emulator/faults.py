"""Fault injection: the ways GitHub answers badly, on a script or at random.

>>> plan = FaultPlan.script([FAULT_502_HTML, None], operation="RepositoryPullRequests")
>>> ops = ("OwnerRepositories", "RepositoryPullRequests", "RepositoryPullRequests")
>>> [plan.next(op) for op in ops]
[None, '502_html', None]
>>> pick_fault({FAULT_504: 0.5, FAULT_PARTIAL: 0.25}, 0.6)
'partial'

:func:`pick_fault`, :func:`fault_reply` and :func:`mask_partial` are pure; the plan
itself only adds a lock, a cursor into the script and a seeded RNG.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import (
    BAD_CREDENTIALS,
    SECONDARY_DOCS_URL,
    primary_limit_message,
    secondary_limit_message,
    something_went_wrong,
)
from .limits import RateSnapshot

FAULT_502_HTML = "502_html"
FAULT_504 = "504"
FAULT_200_SOMETHING_WENT_WRONG = "200_something_went_wrong"
FAULT_TIMEOUT = "timeout"
FAULT_CONNECTION_RESET = "connection_reset"
FAULT_SECONDARY_403 = "secondary_403"
FAULT_SECONDARY_429 = "secondary_429"
FAULT_SECONDARY_200 = "secondary_200"
FAULT_SECONDARY_NO_RETRY_AFTER = "secondary_no_retry_after"
FAULT_PRIMARY_RATE_LIMITED = "primary_rate_limited"
FAULT_PARTIAL = "partial"
FAULT_BAD_CREDENTIALS = "bad_credentials"

FAULT_CLASSES: tuple[str, ...] = (
    FAULT_502_HTML,
    FAULT_504,
    FAULT_200_SOMETHING_WENT_WRONG,
    FAULT_TIMEOUT,
    FAULT_CONNECTION_RESET,
    FAULT_SECONDARY_403,
    FAULT_SECONDARY_429,
    FAULT_SECONDARY_200,
    FAULT_SECONDARY_NO_RETRY_AFTER,
    FAULT_PRIMARY_RATE_LIMITED,
    FAULT_PARTIAL,
    FAULT_BAD_CREDENTIALS,
)

CHARGING_FAULTS = frozenset(
    {FAULT_504, FAULT_200_SOMETHING_WENT_WRONG, FAULT_TIMEOUT, FAULT_PARTIAL}
)
"""Faults that still cost the query's points: server-side timeouts count against the
primary limit since 2025-07, and a partial answer did run. The others cost nothing."""

UNICORN_HTML = """<!DOCTYPE html>
<html>
  <head>
    <meta http-equiv="Content-type" content="text/html; charset=utf-8">
    <title>Unicorn! &middot; GitHub</title>
  </head>
  <body>
    <div class="container">
      <p><strong>We had issues producing the response to your request.</strong></p>
      <p>Sorry about that. Please try refreshing and contact us if the problem persists.</p>
    </div>
  </body>
</html>
"""


@dataclass(frozen=True)
class FaultReply:
    """What the server does for a fault. ``action``: ``send`` the response, ``hold``
    the connection ``hold_seconds`` then send it, or ``reset`` the connection."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    action: str = "send"
    hold_seconds: float = 0.0


def pick_fault(probabilities: Mapping[str, float], u: float) -> str | None:
    """The fault whose cumulative-probability slot contains ``u`` (0 <= u < 1), in the
    mapping's order, or ``None`` when ``u`` falls past all of them."""
    edge = 0.0
    for name, probability in probabilities.items():
        edge += probability
        if u < edge:
            return name
    return None


def applies_to(operations: Collection[str] | None, operation_name: str | None) -> bool:
    """Does a plan restricted to ``operations`` (None: all) apply to this request?"""
    return operations is None or operation_name in operations


def _json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


JSON_TYPE = {"content-type": "application/json; charset=utf-8"}


def mask_partial(body: dict[str, Any]) -> dict[str, Any]:
    """Turn a full answer into GitHub's "resources exceeded" partial answer: one item of
    the first non-empty ``nodes`` list becomes ``null`` (items of every GitHub
    connection are nullable), plus an error at that path. Pure: returns a new dict."""
    data = json.loads(json.dumps(body.get("data")))  # deep copy, JSON-only values

    def find(value: Any, path: list[Any]) -> list[Any] | None:
        if isinstance(value, dict):
            for key, child in value.items():
                if key == "nodes" and isinstance(child, list) and child:
                    return [*path, key, len(child) // 2]
                found = find(child, [*path, key])
                if found:
                    return found
        elif isinstance(value, list):
            for i, child in enumerate(value):
                found = find(child, [*path, i])
                if found:
                    return found
        return None

    path = find(data, []) if isinstance(data, dict) else None
    if path is None:  # nothing list-shaped: cut off the first top-level field instead
        first = next(iter(data), None) if isinstance(data, dict) else None
        path = [first] if first is not None else []
    if path and isinstance(data, dict):
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = None
    error = {
        "type": "RESOURCE_LIMITS_EXCEEDED",
        "path": path,
        "locations": [],
        "message": "Resource limits for this query exceeded.",
    }
    return {"data": data, "errors": [*(body.get("errors") or []), error]}


def fault_reply(
    fault: str,
    *,
    request_id: str,
    rate: RateSnapshot,
    user_id: int = 1,
    retry_after_seconds: int = 1,
    hold_seconds: float = 2.0,
    rate_limited_reset_epoch: int | None = None,
    executed: dict[str, Any] | None = None,
) -> FaultReply:
    """The response for ``fault``. ``rate`` gives the x-ratelimit-* headers; ``executed``
    (the normal answer) is needed for :data:`FAULT_PARTIAL` only."""
    headers = {**rate.headers(), **JSON_TYPE}
    wrong = {"data": None, "errors": [{"message": something_went_wrong(request_id)}]}
    secondary = {
        "message": secondary_limit_message(request_id),
        "documentation_url": SECONDARY_DOCS_URL,
    }
    retry = {"retry-after": str(retry_after_seconds)}
    match fault:
        case "502_html":
            return FaultReply(502, {**rate.headers(), "content-type": "text/html; charset=utf-8"},
                              UNICORN_HTML.encode())
        case "504":
            return FaultReply(504, headers, _json(wrong))
        case "200_something_went_wrong":
            return FaultReply(200, headers, _json(wrong))
        case "timeout":
            return FaultReply(504, headers, _json(wrong), action="hold", hold_seconds=hold_seconds)
        case "connection_reset":
            return FaultReply(0, action="reset")
        case "secondary_403":
            return FaultReply(403, {**headers, **retry}, _json(secondary))
        case "secondary_429":
            return FaultReply(429, {**headers, **retry}, _json(secondary))
        case "secondary_200":
            body = {"errors": [{"message": secondary["message"]}]}
            return FaultReply(200, {**headers, **retry}, _json(body))
        case "secondary_no_retry_after":
            return FaultReply(403, headers, _json(secondary))
        case "primary_rate_limited":
            reset = rate_limited_reset_epoch or rate.reset_epoch
            limited = RateSnapshot(rate.limit, 0, rate.limit, reset)
            body = {"errors": [{"type": "RATE_LIMITED", "message": primary_limit_message(user_id)}]}
            return FaultReply(200, {**limited.headers(), **JSON_TYPE}, _json(body))
        case "partial":
            if executed is None:
                raise ValueError("the partial fault needs the executed answer")
            return FaultReply(200, headers, _json(mask_partial(executed)))
        case "bad_credentials":
            return FaultReply(401, {**headers}, _json(BAD_CREDENTIALS))
    raise ValueError(f"unknown fault {fault!r}; known: {FAULT_CLASSES}")


def _check(names: Iterable[str | None]) -> None:
    unknown = sorted({n for n in names if n is not None and n not in FAULT_CLASSES})
    if unknown:
        raise ValueError(f"unknown fault classes {unknown}; known: {FAULT_CLASSES}")


class FaultPlan:
    """Which requests get which fault.

    Build with :meth:`script` (one entry per matching request, ``None`` = answer
    normally; after the script, every request is normal unless ``repeat``) or
    :meth:`random` (independent draws from a seeded RNG). ``operations`` restricts the
    plan to requests whose GraphQL operation name is listed; others are never faulted
    and do not advance the script.

    ``retry_after_seconds`` is sent by the secondary-limit faults, ``hold_seconds`` is
    how long :data:`FAULT_TIMEOUT` holds the connection (make it longer than the
    client's read timeout), ``rate_limited_reset_seconds`` is how far in the future
    :data:`FAULT_PRIMARY_RATE_LIMITED` puts ``x-ratelimit-reset``.
    """

    def __init__(
        self,
        *,
        script: Iterable[str | None] | None = None,
        probabilities: Mapping[str, float] | None = None,
        seed: int = 0,
        operations: Collection[str] | None = None,
        repeat: bool = False,
        retry_after_seconds: int = 1,
        hold_seconds: float = 2.0,
        rate_limited_reset_seconds: float = 2.0,
    ) -> None:
        self._script = list(script) if script is not None else None
        self._probabilities = dict(probabilities or {})
        _check(self._script or ())
        _check(self._probabilities)
        if sum(self._probabilities.values()) > 1.0 + 1e-9:
            raise ValueError("fault probabilities add up to more than 1")
        self.operations = frozenset(operations) if operations is not None else None
        self.repeat = repeat
        self.retry_after_seconds = retry_after_seconds
        self.hold_seconds = hold_seconds
        self.rate_limited_reset_seconds = rate_limited_reset_seconds
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._position = 0
        self.history: list[str | None] = []
        """The decision for every matching request so far, in order."""

    @classmethod
    def script(
        cls, sequence: Iterable[str | None], *, operation: str | None = None, **kw: Any
    ) -> FaultPlan:
        """Apply ``sequence`` to successive (matching) requests."""
        if operation is not None:
            kw["operations"] = {operation}
        return cls(script=sequence, **kw)

    @classmethod
    def random(
        cls,
        probabilities: Mapping[str, float],
        *,
        seed: int = 0,
        operation: str | None = None,
        **kw: Any,
    ) -> FaultPlan:
        """Each matching request independently gets fault ``f`` with probability ``p[f]``."""
        if operation is not None:
            kw["operations"] = {operation}
        return cls(probabilities=probabilities, seed=seed, **kw)

    @property
    def exhausted(self) -> bool:
        """A non-repeating script has been used up."""
        return self._script is not None and not self.repeat and self._position >= len(self._script)

    def next(self, operation_name: str | None) -> str | None:
        """The fault for the next request with this operation name (thread-safe)."""
        if not applies_to(self.operations, operation_name):
            return None
        with self._lock:
            if self._script is not None:
                if not self._script or (self._position >= len(self._script) and not self.repeat):
                    decision = None
                else:
                    decision = self._script[self._position % len(self._script)]
                self._position += 1
            else:
                decision = pick_fault(self._probabilities, self._rng.random())
            self.history.append(decision)
            return decision
