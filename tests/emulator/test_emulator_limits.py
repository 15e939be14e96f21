"""Primary and secondary rate limits, the latency model, and thread safety."""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from github_emulator import (
    EmulatorServer,
    LatencyModel,
    Limits,
    PrimaryLimiter,
    SecondaryLimiter,
    World,
)
from pr_warehouse.queries import load_query

from .conftest import make_gql

PAGE = load_query("repository_pull_requests")
VARS = {"owner": "acme", "name": "api", "pageSize": 100}  # 5 points


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_primary_limiter_window_reset_and_refund() -> None:
    clock = FakeClock()
    limiter = PrimaryLimiter(Limits(points_per_hour=10, window_seconds=60), clock=clock)
    assert limiter.charge(1, 4).remaining == 6  # type: ignore[union-attr]
    assert limiter.charge(2, 10).remaining == 0  # type: ignore[union-attr]  (users are separate)
    assert limiter.charge(1, 7) is None  # more than is left: refused, nothing charged
    assert limiter.peek(1).used == 4
    assert limiter.refund(1, 4).remaining == 10
    snap = limiter.charge(1, 10)
    assert snap is not None and snap.reset_epoch == 1060 and snap.reset_at == "1970-01-01T00:17:40Z"
    clock.now = 1060.0  # the window ends: a fresh budget, a new reset
    after = limiter.charge(1, 1)
    assert after is not None and (after.remaining, after.reset_epoch) == (9, 1120)


def test_secondary_limiter_points_per_minute() -> None:
    clock = FakeClock()
    limiter = SecondaryLimiter(Limits(points_per_minute=2, secondary_window_seconds=60), clock=clock)
    assert limiter.enter(1).allowed and limiter.enter(1).allowed
    clock.now += 20
    verdict = limiter.enter(1)
    assert not verdict.allowed and verdict.retry_after == 40 and verdict.reason == "points_per_minute"
    clock.now += 40
    assert limiter.enter(1).allowed


def test_primary_limit_is_enforced_then_resets(world: World) -> None:
    # The limiter's clock is the test's: the window ends when the test says, not when a
    # (possibly slow) machine gets there.
    clock = FakeClock(time.time())
    with EmulatorServer(world, limits=Limits(points_per_hour=12, window_seconds=60)) as server:
        server.primary = PrimaryLimiter(server.limits, clock=clock)
        gql = make_gql(server)
        assert gql(PAGE, VARS).status_code == 200
        assert gql(PAGE, VARS).headers["x-ratelimit-remaining"] == "2"
        limited = gql(PAGE, VARS)
        assert limited.status_code == 200
        message = "API rate limit exceeded for user ID 1."
        assert limited.json() == {"errors": [{"type": "RATE_LIMITED", "message": message}]}
        assert limited.headers["x-ratelimit-remaining"] == "0"
        reset = int(limited.headers["x-ratelimit-reset"])
        assert reset == math.ceil(clock.now + 60)
        # A cheap query still fits in the 2 points left (GitHub refuses only what exceeds them).
        assert gql("{ viewer { login } }").json()["data"]["viewer"]["login"]
        clock.now = reset  # the window ends
        again = gql(PAGE, VARS)
        assert again.status_code == 200 and again.json()["data"]["rateLimit"]["used"] == 5
        assert [e.points for e in server.ledger] == [5, 5, 0, 1, 5]


def test_secondary_limit_on_concurrency(world: World) -> None:
    limits = Limits(max_concurrent=2, secondary_retry_after_seconds=7)
    # Each answer takes 3 s: all six requests arrive while the first two are still in flight,
    # however slowly the threads start.
    with EmulatorServer(world, limits=limits, latency=LatencyModel(base_seconds=3.0)) as server:
        gql = make_gql(server)
        with ThreadPoolExecutor(6) as pool:
            responses = list(pool.map(lambda _: make_gql(server)("{ viewer { login } }"), range(6)))
        server.latency = LatencyModel()
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(200) >= 2 and 403 in statuses
        limited = next(r for r in responses if r.status_code == 403)
        assert limited.headers["retry-after"] == "7"
        assert limited.json()["message"].startswith("You have exceeded a secondary rate limit.")
        assert limited.json()["documentation_url"].endswith("#secondary-rate-limits")
        assert gql("{ viewer { login } }").status_code == 200  # slots are released


def test_secondary_limit_per_minute(world: World) -> None:
    with EmulatorServer(world, limits=Limits(points_per_minute=3)) as server:
        gql = make_gql(server)
        assert [gql("{ viewer { login } }").status_code for _ in range(4)] == [200, 200, 200, 403]
        assert 0 < int(gql("{ viewer { login } }").headers["retry-after"]) <= 60


def test_latency_grows_with_nodes_and_times_out_as_502(world: World) -> None:
    latency = LatencyModel(base_seconds=0.5, per_node_seconds=0.001, timeout_seconds=10, time_scale=0.02)
    with EmulatorServer(world, latency=latency) as server:
        gql = make_gql(server)
        started = time.perf_counter()
        slow = gql(PAGE, VARS)  # 17,600 nodes -> 18.1 s simulated -> GitHub gives up at 10 s
        assert slow.status_code == 502
        assert slow.json()["data"] is None
        assert "Something went wrong while executing your query" in slow.json()["errors"][0]["message"]
        assert slow.headers["X-GitHub-Request-Id"] in slow.json()["errors"][0]["message"]
        assert time.perf_counter() - started >= 0.18  # it really held the request (scaled)
        small = gql(PAGE, {**VARS, "pageSize": 10})  # 1,760 nodes -> 2.26 s simulated
        assert small.status_code == 200
        timeout_entry, ok_entry = server.ledger.entries
        assert (timeout_entry.error_type, timeout_entry.points) == ("TIMEOUT", 5)  # timeouts cost points
        assert ok_entry.points == 1


def test_modeled_time_includes_the_emulators_own_work(world: World) -> None:
    """The model is GitHub's whole answer time: the emulator's work is part of it, so an
    answer is never earlier than modeled, and slow work is not charged twice."""
    # 1,760 nodes -> 2.26 s simulated, 0.45 s of real time at this scale
    latency = LatencyModel(base_seconds=0.5, per_node_seconds=0.001, time_scale=0.2)
    small = {**VARS, "pageSize": 10}
    modeled = latency.sleep_seconds(1760)
    with EmulatorServer(world, latency=latency) as server:
        gql = make_gql(server)
        assert gql(PAGE, small).status_code == 200
        quick = server.ledger.last
        assert quick is not None and quick.work_seconds is not None
        assert quick.duration_seconds >= modeled  # fast work still waits for the model

        held = threading.Event()

        def hold_world() -> None:  # mutators take this lock: the query's work waits on it
            with world.lock:
                held.set()
                time.sleep(2 * modeled)

        with ThreadPoolExecutor(1) as pool:
            holder = pool.submit(hold_world)
            assert held.wait(60)
            assert gql(PAGE, small).status_code == 200
            holder.result()
        slow = server.ledger.last
        assert slow is not None and slow.work_seconds is not None
        assert slow.work_seconds >= modeled
        # no modeled wait on top of work that already took longer than the model
        assert slow.duration_seconds - slow.work_seconds < modeled


def test_ledger_and_budget_are_exact_under_concurrency(world: World) -> None:
    with EmulatorServer(world) as server:
        def one(i: int) -> int:
            variables = {**VARS, "name": ("api", "web", "infra")[i % 3], "pageSize": 20}
            return make_gql(server)(PAGE, variables).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(one, range(24)))
        assert statuses == [200] * 24
        assert server.ledger.requests == 24 and server.ledger.total_points == 24 * 1
        assert server.primary.peek(1).used == 24
        assert len({e.request_id for e in server.ledger}) == 24
