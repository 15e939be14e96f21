"""The client against the project's GitHub emulator: every fault class, fatal answers, and
the real points budget. Sleeps are recorded, not slept; the clock is real because the
emulator's reset times are wall-clock.

Nothing here depends on the machine's speed: the client's read timeout is a generous
multiple of any normal answer's time, even on a loaded machine, and the emulator's timeout
fault holds its request far longer than that (until the server stops), so the client always
gives up on that request and on no other.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

emulator = pytest.importorskip("github_emulator")

from pr_warehouse.client import (  # noqa: E402
    AdaptivePageSize,
    BadCredentials,
    ClientSettings,
    GraphQLClient,
    NotFound,
    QueryError,
    RateLimitWait,
)
from pr_warehouse.client.models import utc_now  # noqa: E402
from pr_warehouse.queries import load_query  # noqa: E402

pytestmark = pytest.mark.timeout(60)

TOKEN = emulator.DEFAULT_TOKEN
VIEWER = "query Viewer { viewer { login } rateLimit { cost remaining } }"
PULLS = {"owner": "acme", "name": "api", "after": None}
#: Normal answers take milliseconds; a partial one took > 0.2 s on a loaded machine once.
READ_TIMEOUT = 5.0
#: The timeout fault's hold: the client's read timeout always fires first (stop() ends it).
HOLD_SECONDS = 60 * READ_TIMEOUT


def test_survives_every_fault_class_and_shrinks_the_retried_requests() -> None:
    faults = [f for f in emulator.FAULT_CLASSES if f != emulator.FAULT_BAD_CREDENTIALS]
    plan = emulator.FaultPlan.script(faults, hold_seconds=HOLD_SECONDS, retry_after_seconds=1,
                                     rate_limited_reset_seconds=2.0)
    waits: list[float] = []
    settings = ClientSettings(read_timeout=READ_TIMEOUT, max_attempts=len(faults) + 1)
    with emulator.EmulatorServer(emulator.build_world(), faults=plan) as server:
        with GraphQLClient(server.url, TOKEN, settings, sleep=waits.append) as client:
            sizes = AdaptivePageSize(80, floor=5)
            response = client.execute(load_query("repository_pull_requests"), PULLS,
                                      context="acme/api page 1", page_size=sizes)
        server.stop()  # ends the held (timeout) request's hold; it is logged when it returns
        deadline = time.monotonic() + 30
        while server.ledger.requests < len(faults) + 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        sent = sorted(((e.variables or {}).get("pageSize") for e in server.ledger),
                      reverse=True)

    assert plan.history == [*faults, None]
    assert response.attempts == len(faults) + 1
    nodes = response.data["repository"]["pullRequests"]["nodes"]
    assert response.page_size == 5 and len(nodes) == 5 and all(nodes)  # complete, not partial
    # 502, 504, 200 "went wrong", timeout halve 80 -> 5; the rest stay at the floor
    assert sent[:4] == [80, 40, 20, 10] and set(sent[4:]) == {5}
    assert dict(client.stats.retries) == {
        "server_error": 3, "request_timeout": 2, "secondary_rate_limit": 4,
        "primary_rate_limit": 1, "partial_data": 1,
    }
    by_fault = dict(zip(faults, waits, strict=True))
    for fault in ("secondary_403", "secondary_429", "secondary_200"):
        assert by_fault[fault] == 1.0  # retry-after
    assert by_fault["secondary_no_retry_after"] >= 60.0
    assert 0.0 < by_fault["primary_rate_limited"] <= 5.0  # reset (rounded up) + margin


def test_fatal_answers_from_the_emulator_cost_one_request() -> None:
    with emulator.EmulatorServer(emulator.build_world()) as server:
        query = load_query("repository_pull_requests")
        with GraphQLClient(server.url, "ghp_wrong_token_value", sleep=pytest.fail) as client:
            with pytest.raises(BadCredentials):
                client.execute(query, {**PULLS, "pageSize": 10})
        with GraphQLClient(server.url, TOKEN, sleep=pytest.fail) as client:
            with pytest.raises(NotFound, match="acme/nope"):
                client.execute(query, {**PULLS, "name": "nope", "pageSize": 10})
            with pytest.raises(QueryError, match="101"):
                client.execute(query, {**PULLS, "pageSize": 101})
        assert server.ledger.requests == 3


def test_never_sends_once_the_points_are_spent() -> None:
    limits = emulator.Limits(points_per_hour=3, window_seconds=600)
    with emulator.EmulatorServer(emulator.build_world(), limits=limits) as server:
        with GraphQLClient(server.url, TOKEN, sleep=pytest.fail) as client:
            remaining = [client.execute(VIEWER).remaining for _ in range(3)]
            with pytest.raises(RateLimitWait) as raised:
                client.execute(VIEWER, context="fourth")
        assert remaining == [2, 1, 0]
        assert server.ledger.requests == 3 and client.stats.points_spent == 3
        assert raised.value.reset_at > utc_now()


def test_real_primary_limit_raises_rate_limit_wait_with_the_header_reset() -> None:
    limits = emulator.Limits(points_per_hour=1, window_seconds=600)
    with emulator.EmulatorServer(emulator.build_world(), limits=limits) as server:
        with GraphQLClient(server.url, TOKEN) as first:
            first.execute(VIEWER)
        settings = ClientSettings(max_inline_wait=30.0)
        with GraphQLClient(server.url, TOKEN, settings, sleep=pytest.fail) as fresh:
            with pytest.raises(RateLimitWait) as raised:  # it does not know the budget yet
                fresh.execute(VIEWER, context="fresh")
        assert server.ledger.requests == 2
        assert server.ledger.last.error_type is not None
    assert utc_now() + timedelta(seconds=500) < raised.value.reset_at
