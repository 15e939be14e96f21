"""Fault injection: every class over real HTTP, plus the pure pieces."""

from __future__ import annotations

import math
import time
from collections import Counter

import pytest
import requests

from github_emulator import (
    CHARGING_FAULTS,
    FAULT_200_SOMETHING_WENT_WRONG,
    FAULT_502_HTML,
    FAULT_504,
    FAULT_BAD_CREDENTIALS,
    FAULT_CLASSES,
    FAULT_CONNECTION_RESET,
    FAULT_PARTIAL,
    FAULT_PRIMARY_RATE_LIMITED,
    FAULT_SECONDARY_200,
    FAULT_SECONDARY_403,
    FAULT_SECONDARY_429,
    FAULT_SECONDARY_NO_RETRY_AFTER,
    FAULT_TIMEOUT,
    EmulatorServer,
    FaultPlan,
    RateSnapshot,
    World,
    fault_reply,
    mask_partial,
    pick_fault,
)
from pr_warehouse.queries import load_query

from .conftest import make_gql

PAGE = load_query("repository_pull_requests")
VARS = {"owner": "acme", "name": "api", "pageSize": 100}
SECONDARY = "You have exceeded a secondary rate limit."
WRONG = "Something went wrong while executing your query. This may be the result of a timeout"


def serve_with(world: World, plan: FaultPlan) -> EmulatorServer:
    return EmulatorServer(world, faults=plan)


@pytest.mark.parametrize("fault", sorted(set(FAULT_CLASSES) - {FAULT_TIMEOUT, FAULT_CONNECTION_RESET}))
def test_each_fault_class_over_http(world: World, fault: str) -> None:
    plan = FaultPlan.script([fault], retry_after_seconds=3, rate_limited_reset_seconds=5)
    with serve_with(world, plan) as server:
        gql = make_gql(server)
        sent = time.time()
        r = gql(PAGE, VARS)
        answered = time.time()
        request_id = r.headers["X-GitHub-Request-Id"]
        assert request_id
        if fault == FAULT_502_HTML:
            assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
            assert "Unicorn" in r.text
        elif fault in (FAULT_504, FAULT_200_SOMETHING_WENT_WRONG):
            assert r.status_code == (504 if fault == FAULT_504 else 200)
            assert r.json()["data"] is None
            assert r.json()["errors"][0]["message"].startswith(WRONG)
            assert f"`{request_id}`" in r.json()["errors"][0]["message"]
        elif fault in (FAULT_SECONDARY_403, FAULT_SECONDARY_429, FAULT_SECONDARY_NO_RETRY_AFTER):
            assert r.status_code == (429 if fault == FAULT_SECONDARY_429 else 403)
            assert r.json()["message"].startswith(SECONDARY) and request_id in r.json()["message"]
            assert r.headers.get("retry-after") == (None if fault == FAULT_SECONDARY_NO_RETRY_AFTER else "3")
        elif fault == FAULT_SECONDARY_200:
            assert r.status_code == 200 and r.headers["retry-after"] == "3"
            assert r.json()["errors"][0]["message"].startswith(SECONDARY) and "data" not in r.json()
        elif fault == FAULT_PRIMARY_RATE_LIMITED:
            assert r.status_code == 200 and r.headers["x-ratelimit-remaining"] == "0"
            message = "API rate limit exceeded for user ID 1."
            assert r.json() == {"errors": [{"type": "RATE_LIMITED", "message": message}]}
            # 5 s after the server's clock read, rounded up (whatever the request took)
            assert sent + 5 <= int(r.headers["x-ratelimit-reset"]) <= math.ceil(answered + 5)
        elif fault == FAULT_PARTIAL:
            body = r.json()
            assert r.status_code == 200
            nodes = body["data"]["repository"]["pullRequests"]["nodes"]
            assert nodes[50] is None and sum(n is None for n in nodes) == 1
            assert body["errors"][-1]["path"] == ["repository", "pullRequests", "nodes", 50]
            assert body["errors"][-1]["type"] == "RESOURCE_LIMITS_EXCEEDED"
        elif fault == FAULT_BAD_CREDENTIALS:
            assert r.status_code == 401 and r.json()["message"] == "Bad credentials"
        else:  # pragma: no cover
            pytest.fail(f"untested fault {fault}")
        assert gql(PAGE, VARS).status_code == 200  # the script is spent: back to normal
        faulted, normal = server.ledger.entries
        assert faulted.fault == fault and normal.fault is None
        assert faulted.points == (5 if fault in CHARGING_FAULTS else 0)
        assert server.primary.peek(1).used == faulted.points + 5


def test_timeout_fault_fires_the_clients_read_timeout(world: World) -> None:
    # Held far longer than the client reads (60 s against 0.5 s), and a generous connect
    # timeout: only the held request's read can time out, whatever the machine's speed.
    with serve_with(world, FaultPlan.script([FAULT_TIMEOUT], hold_seconds=60)) as server:
        gql = make_gql(server)
        with pytest.raises(requests.ReadTimeout):
            gql(PAGE, VARS, timeout=(30, 0.5))
        assert gql(PAGE, VARS).status_code == 200  # the server keeps serving meanwhile
        server.stop()  # ends the hold; entries are recorded when a request completes
        deadline = time.monotonic() + 30
        while server.ledger.requests < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [e.fault for e in server.ledger] == [None, FAULT_TIMEOUT]


def test_timeout_fault_answers_504_when_the_client_waits(world: World) -> None:
    with serve_with(world, FaultPlan.script([FAULT_TIMEOUT], hold_seconds=0.2)) as server:
        r = make_gql(server)(PAGE, VARS, timeout=30)  # waits out the hold, however slow
        assert r.status_code == 504 and r.json()["errors"][0]["message"].startswith(WRONG)


def test_connection_reset(world: World) -> None:
    with serve_with(world, FaultPlan.script([FAULT_CONNECTION_RESET])) as server:
        gql = make_gql(server)
        with pytest.raises(requests.ConnectionError):
            gql(PAGE, VARS)
        assert gql(PAGE, VARS).status_code == 200


def test_faults_restricted_to_an_operation(world: World) -> None:
    plan = FaultPlan.script([FAULT_504, None, FAULT_502_HTML], operation="RepositoryPullRequests")
    with serve_with(world, plan) as server:
        gql = make_gql(server)
        owners = load_query("owner_repositories")
        statuses = [
            gql(owners, {"login": "acme"}).status_code,
            gql(PAGE, VARS).status_code,
            gql(owners, {"login": "acme"}).status_code,
            gql(PAGE, VARS).status_code,
            gql(PAGE, VARS).status_code,
            gql(PAGE, VARS).status_code,
        ]
        assert statuses == [200, 504, 200, 200, 502, 200]
        assert plan.history == [FAULT_504, None, FAULT_502_HTML, None] and plan.exhausted
        assert server.ledger.faults() == [FAULT_504, FAULT_502_HTML]


def test_random_plan_is_seeded_and_roughly_proportional() -> None:
    def draws(seed: int) -> list[str | None]:
        plan = FaultPlan.random({FAULT_502_HTML: 0.2, FAULT_SECONDARY_403: 0.1}, seed=seed)
        return [plan.next("Any") for _ in range(2000)]

    assert draws(1) == draws(1) and draws(1) != draws(2)
    counts = Counter(draws(1))
    assert 340 < counts[FAULT_502_HTML] < 460 and 150 < counts[FAULT_SECONDARY_403] < 250


def test_plan_validation_and_repeat() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        FaultPlan.script(["503"])
    with pytest.raises(ValueError, match="more than 1"):
        FaultPlan.random({FAULT_504: 0.7, FAULT_502_HTML: 0.7})
    plan = FaultPlan.script([FAULT_504, None], repeat=True)
    assert [plan.next(None) for _ in range(5)] == [FAULT_504, None, FAULT_504, None, FAULT_504]


def test_pick_fault_is_a_cumulative_lookup() -> None:
    probabilities = {FAULT_504: 0.1, FAULT_PARTIAL: 0.2}
    assert [pick_fault(probabilities, u) for u in (0.0, 0.0999, 0.1, 0.2999, 0.31, 0.99)] == [
        FAULT_504, FAULT_504, FAULT_PARTIAL, FAULT_PARTIAL, None, None]
    assert pick_fault({}, 0.0) is None


def test_fault_reply_is_pure_and_covers_every_class() -> None:
    rate = RateSnapshot(limit=5000, remaining=4000, used=1000, reset_epoch=2_000_000_000)
    executed = {"data": {"repository": {"pullRequests": {"nodes": [{"n": 1}, {"n": 2}]}}}}
    for fault in FAULT_CLASSES:
        reply = fault_reply(fault, request_id="RID", rate=rate, executed=executed)
        assert reply == fault_reply(fault, request_id="RID", rate=rate, executed=executed)
        if fault != FAULT_CONNECTION_RESET:
            assert reply.headers["x-ratelimit-resource"] == "graphql"
    assert fault_reply(FAULT_CONNECTION_RESET, request_id="R", rate=rate).action == "reset"
    assert fault_reply(FAULT_TIMEOUT, request_id="R", rate=rate, hold_seconds=4).hold_seconds == 4
    with pytest.raises(ValueError):
        fault_reply("nope", request_id="R", rate=rate)


def test_mask_partial_nulls_one_nested_item() -> None:
    body = {"data": {"a": {"nodes": [{"x": 1}, {"x": 2}, {"x": 3}]}, "b": 1}}
    masked = mask_partial(body)
    assert masked["data"] == {"a": {"nodes": [{"x": 1}, None, {"x": 3}]}, "b": 1}
    assert masked["errors"][0]["path"] == ["a", "nodes", 1]
    assert body["data"]["a"]["nodes"][1] == {"x": 2}  # input untouched
    flat = mask_partial({"data": {"viewer": {"login": "x"}}})
    assert flat["data"] == {"viewer": None} and flat["errors"][0]["path"] == ["viewer"]
