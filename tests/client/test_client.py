"""``GraphQLClient`` against a scripted real HTTP server: one test per failure class.

The injected sleep records every wait (and moves the fake clock), so the assertions are on
the waits the client computed, and on the requests the server recorded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
import requests

from pr_warehouse.client import (
    AdaptivePageSize,
    BadCredentials,
    Forbidden,
    GraphQLClient,
    MaxNodeLimitExceeded,
    NotFound,
    QueryError,
    RateLimitWait,
    RetriesExhausted,
    ServerError,
)
from pr_warehouse.client.errors import GitHubError

from .scripted import (
    BAD_CREDENTIALS,
    BAD_GATEWAY_HTML,
    EXCESSIVE,
    HOLD,
    MAX_NODES,
    MISSING_BOUNDARIES,
    NOT_FOUND,
    PARTIAL,
    QUERY,
    RATE_LIMITED,
    SECONDARY,
    SOMETHING_WENT_WRONG,
    TOKEN,
    UNDEFINED_FIELD,
    FakeClock,
    Reply,
    ScriptedGitHub,
    SleepRecorder,
    ok,
    rate_headers,
)

pytestmark = pytest.mark.timeout(30)

MakeClient = Callable[..., GraphQLClient]


# --- clean answers ----------------------------------------------------------------------------


def test_clean_answer(github: ScriptedGitHub, make_client: MakeClient, clock: FakeClock) -> None:
    reset = clock.epoch(1800)
    answer = ok({"viewer": {"login": "octocat"}}, cost=3, remaining=4990, resetAt="ignored")
    raw = json.dumps(answer, indent=1).encode()  # odd formatting: the body must stay as sent
    github.script(Reply(body=raw, headers=rate_headers(4990, reset)))
    variables = {"owner": "acme"}
    client = make_client()

    response = client.execute(QUERY, variables, context="acme/api page 1",
                              page_size=AdaptivePageSize(50))

    assert response.body == raw
    assert response.data["viewer"] == {"login": "octocat"}
    assert response.request_id == "REQ-1"
    assert (response.page_size, response.cost, response.remaining) == (50, 3, 4990)
    assert response.reset_at == clock.now + timedelta(seconds=1800)
    assert response.attempts == 1
    assert client.stats.as_dict() == {"requests": 1, "points_spent": 3, "retries": {},
                                      "waited_seconds": 0.0}
    json.dumps(client.stats.as_dict())  # JSON-able, for manifests
    sent = github.requests[0]
    assert sent.json == {"query": QUERY, "variables": {"owner": "acme", "pageSize": 50}}
    assert sent.headers["Authorization"] == f"bearer {TOKEN}"
    assert sent.headers["User-Agent"] == "pr-warehouse"
    assert variables == {"owner": "acme"}  # the caller's dict is not touched


def test_a_lent_session_is_used_and_gets_its_token_back_off(github: ScriptedGitHub) -> None:
    session = requests.Session()
    github.script(Reply(body=ok()))
    with GraphQLClient(github.url, TOKEN, session=session) as client:
        client.execute(QUERY)
    assert github.requests[0].headers["Authorization"] == f"bearer {TOKEN}"
    assert "Authorization" not in session.headers
    session.close()


def test_without_page_size_variables_go_as_given(github: ScriptedGitHub,
                                                 make_client: MakeClient) -> None:
    github.script(Reply(body=ok()))
    response = make_client().execute(QUERY, {"pageSize": 7})
    assert github.page_sizes() == [7]
    assert response.page_size is None and response.cost is None


def test_rate_limit_block_fills_in_when_headers_are_missing(github: ScriptedGitHub,
                                                            make_client: MakeClient) -> None:
    github.script(Reply(body=ok(cost=1, remaining=321, resetAt="2026-03-01T13:00:00Z")))
    response = make_client().execute(QUERY)
    assert response.remaining == 321
    assert response.reset_at is not None
    assert response.reset_at.isoformat() == "2026-03-01T13:00:00+00:00"


def test_points_spent_from_cost_then_used_deltas_then_one(github: ScriptedGitHub,
                                                          make_client: MakeClient,
                                                          clock: FakeClock) -> None:
    reset = clock.epoch(600)
    github.script(
        Reply(body=ok(cost=2), headers=rate_headers(4998, reset)),  # rateLimit.cost: 2
        Reply(body=ok(), headers=rate_headers(4993, reset)),  # used rose by 5
        Reply(body=ok()),  # nothing known: 1
    )
    client = make_client()
    for _ in range(3):
        client.execute(QUERY)
    assert client.stats.points_spent == 2 + 5 + 1


# --- retried: server errors, timeouts, partial data (the page shrinks first) -------------------


def test_server_errors_are_retried_with_the_page_halved_in_the_retried_request(
    github: ScriptedGitHub, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    github.script(
        Reply(502, BAD_GATEWAY_HTML, {"Content-Type": "text/html"}),
        Reply(504, SOMETHING_WENT_WRONG),
        Reply(503, b""),
        Reply(body=ok()),
    )
    client = make_client(backoff_base=1.0)
    sizes = AdaptivePageSize(100)

    response = client.execute(QUERY, context="acme/api page 3", page_size=sizes)

    assert github.page_sizes() == [100, 50, 25, 12]
    assert response.page_size == 12 and response.attempts == 4
    assert sleeps.waits == [0.75, 1.5, 3.0]  # jitter fixed at 0.5: 1, 2, 4 capped, 3/4 of it
    assert client.stats.retries == {"server_error": 3}
    assert client.stats.waited_seconds == 5.25


def test_something_went_wrong_at_http_200_is_retried_smaller(github: ScriptedGitHub,
                                                             make_client: MakeClient) -> None:
    github.script(Reply(200, SOMETHING_WENT_WRONG), Reply(body=ok()))
    response = make_client().execute(QUERY, page_size=AdaptivePageSize(40))
    assert github.page_sizes() == [40, 20] and response.page_size == 20


def test_partial_data_is_retried_smaller_and_never_returned(github: ScriptedGitHub,
                                                            make_client: MakeClient) -> None:
    github.script(Reply(body=PARTIAL), Reply(body=ok({"repository": {"ok": True}})))
    client = make_client()
    response = client.execute(QUERY, page_size=AdaptivePageSize(30))
    assert response.data == {"repository": {"ok": True}}
    assert github.page_sizes() == [30, 15]
    assert client.stats.retries == {"partial_data": 1}


def test_page_grows_back_after_successes(github: ScriptedGitHub, make_client: MakeClient) -> None:
    github.script(Reply(502, BAD_GATEWAY_HTML), *[Reply(body=ok()) for _ in range(4)])
    client = make_client()
    sizes = AdaptivePageSize(40, floor=5, grow_after=3)
    used = [client.execute(QUERY, page_size=sizes).page_size for _ in range(4)]
    assert github.page_sizes() == [40, 20, 20, 20, 40]
    assert used == [20, 20, 20, 40]


def test_read_timeout_is_retried_smaller(github: ScriptedGitHub, make_client: MakeClient) -> None:
    github.script(Reply(body=ok(), delay=HOLD), Reply(body=ok()))
    client = make_client()  # FAST's read timeout: far below HOLD, far above a normal answer
    response = client.execute(QUERY, context="slow", page_size=AdaptivePageSize(50))
    assert github.page_sizes() == [50, 25]
    assert response.attempts == 2
    assert client.stats.retries == {"request_timeout": 1}


def test_connection_reset_is_retried(github: ScriptedGitHub, make_client: MakeClient) -> None:
    github.script(Reply(close=True), Reply(body=ok()))
    client = make_client()
    assert client.execute(QUERY, page_size=AdaptivePageSize(10)).attempts == 2
    assert client.stats.retries == {"request_timeout": 1}


def test_connection_refused_is_retried_then_exhausted(github: ScriptedGitHub,
                                                      make_client: MakeClient,
                                                      sleeps: SleepRecorder) -> None:
    # After a first answer (before it, a refused connection is fatal: test_unreachable.py)
    github.script(Reply(body=ok()))
    client = make_client(max_attempts=2)
    client.execute(QUERY)
    client.url = "http://127.0.0.1:9/graphql"  # nothing listens on the discard port
    with pytest.raises(RetriesExhausted, match="request_timeout"):
        client.execute(QUERY)
    assert len(sleeps.waits) == 1


# --- secondary limit ----------------------------------------------------------------------------


def test_secondary_retry_after_is_honoured_exactly(github: ScriptedGitHub, make_client: MakeClient,
                                                   sleeps: SleepRecorder) -> None:
    github.script(Reply(403, SECONDARY, {"Retry-After": "7"}), Reply(body=ok()))
    client = make_client()
    client.execute(QUERY, page_size=AdaptivePageSize(50))
    assert sleeps.waits == [7.0]
    assert github.page_sizes() == [50, 50]  # a rate limit is not the page's fault
    assert client.stats.retries == {"secondary_rate_limit": 1}


def test_secondary_at_remaining_zero_waits_until_the_reset(
    github: ScriptedGitHub, make_client: MakeClient, sleeps: SleepRecorder, clock: FakeClock
) -> None:
    github.script(Reply(403, SECONDARY, rate_headers(0, clock.epoch(30))), Reply(body=ok()))
    make_client(reset_margin=1.0).execute(QUERY)
    assert sleeps.waits == [31.0]


def test_secondary_without_hints_waits_a_minute_then_backs_off(
    github: ScriptedGitHub, make_client: MakeClient, sleeps: SleepRecorder, clock: FakeClock
) -> None:
    hints = rate_headers(4000, clock.epoch(3000))
    github.script(*[Reply(429, SECONDARY, hints) for _ in range(3)], Reply(body=ok()))
    make_client(secondary_min_wait=60.0).execute(QUERY)
    assert sleeps.waits == [60 * 1.125, 120 * 1.125, 240 * 1.125]  # jitter fixed at 0.5
    assert all(w >= 60 for w in sleeps.waits) and sleeps.waits == sorted(sleeps.waits)


def test_total_wait_is_bounded(github: ScriptedGitHub, make_client: MakeClient,
                               sleeps: SleepRecorder) -> None:
    github.script(*[Reply(403, SECONDARY, {"Retry-After": "60"}) for _ in range(3)])
    client = make_client(max_total_wait=100.0)
    with pytest.raises(RetriesExhausted, match="max_total_wait") as raised:
        client.execute(QUERY)
    assert sleeps.waits == [60.0]  # a second 60 s would pass 100 s
    assert len(github.requests) == 2
    assert raised.value.request_id == "REQ-2"


# --- primary limit ------------------------------------------------------------------------------


def test_primary_limit_short_wait_sleeps_until_the_reset_header(
    github: ScriptedGitHub, make_client: MakeClient, sleeps: SleepRecorder, clock: FakeClock
) -> None:
    github.script(Reply(200, RATE_LIMITED, rate_headers(0, clock.epoch(45))),
                  Reply(body=ok(), headers=rate_headers(4999, clock.epoch(3645))))
    client = make_client(max_inline_wait=120.0, reset_margin=1.0)
    response = client.execute(QUERY, page_size=AdaptivePageSize(50))
    assert sleeps.waits == [46.0]
    assert github.page_sizes() == [50, 50]
    assert response.remaining == 4999
    assert client.stats.retries == {"primary_rate_limit": 1}


def test_primary_limit_long_wait_raises_rate_limit_wait(
    github: ScriptedGitHub, make_client: MakeClient, sleeps: SleepRecorder, clock: FakeClock
) -> None:
    reset = clock.epoch(1800)
    github.script(Reply(200, RATE_LIMITED, rate_headers(0, reset)))
    client = make_client(max_inline_wait=120.0)
    with pytest.raises(RateLimitWait) as raised:
        client.execute(QUERY, context="acme/api page 9")
    assert raised.value.reset_at == clock.now + timedelta(seconds=1800)
    assert "acme/api page 9" in str(raised.value) and "REQ-1" in str(raised.value)
    assert sleeps.waits == [] and len(github.requests) == 1
    # the next call does not send until the reset: the budget says 0 points left
    with pytest.raises(RateLimitWait):
        client.execute(QUERY)
    assert len(github.requests) == 1


def test_reserve_stops_spending_before_sending(
    github: ScriptedGitHub, make_client: MakeClient, clock: FakeClock, sleeps: SleepRecorder
) -> None:
    reset = clock.epoch(600)
    github.script(Reply(body=ok(), headers=rate_headers(150, reset)),
                  Reply(body=ok(), headers=rate_headers(90, reset)),
                  Reply(body=ok(), headers=rate_headers(4999, clock.epoch(4200))))
    client = make_client(points_reserve=100)
    client.execute(QUERY)  # 150 left: fine
    client.execute(QUERY)  # 90 left: this one was allowed, the next is not
    with pytest.raises(RateLimitWait) as raised:
        client.execute(QUERY, context="acme/web page 2")
    assert raised.value.reset_at == clock.now + timedelta(seconds=600)
    assert "reserve of 100" in str(raised.value)
    assert len(github.requests) == 2 and sleeps.waits == []
    clock.now += timedelta(seconds=601)  # a new hour: spending resumes
    assert client.execute(QUERY).remaining == 4999


# --- fatal: exactly one request ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected", "words"),
    [
        pytest.param(Reply(401, BAD_CREDENTIALS), BadCredentials, "Bad credentials", id="401"),
        pytest.param(Reply(body=NOT_FOUND), NotFound, "name 'owner/name'", id="not-found"),
        pytest.param(Reply(body=MAX_NODES), MaxNodeLimitExceeded, "500,000", id="max-nodes"),
        pytest.param(Reply(body=MISSING_BOUNDARIES), QueryError, "`first`", id="boundaries"),
        pytest.param(Reply(body=EXCESSIVE), QueryError, "101 records", id="excessive"),
        pytest.param(Reply(body=UNDEFINED_FIELD), QueryError, "doesn't exist", id="validation"),
        pytest.param(Reply(403, {"message": "Resource not accessible by integration"}), Forbidden,
                     "not accessible", id="403"),
        pytest.param(Reply(404, {"message": "Not Found"}), QueryError, "404", id="404"),
    ],
)
def test_fatal_answers_fail_after_one_request(
    github: ScriptedGitHub, make_client: MakeClient, sleeps: SleepRecorder,
    reply: Reply, expected: type[GitHubError], words: str,
) -> None:
    github.script(reply, Reply(body=ok()))
    client = make_client()
    with pytest.raises(expected, match=words) as raised:
        client.execute(QUERY, context="acme/api page 1", page_size=AdaptivePageSize(50))
    assert type(raised.value) is expected
    assert len(github.requests) == 1 and sleeps.waits == []
    assert "acme/api page 1" in str(raised.value) and "REQ-1" in str(raised.value)
    assert client.stats.retries == {}


def test_retries_exhausted_after_max_attempts(
    github: ScriptedGitHub, make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    github.script(*[Reply(502, SOMETHING_WENT_WRONG) for _ in range(5)])
    client = make_client(max_attempts=3)
    sizes = AdaptivePageSize(100)
    with pytest.raises(RetriesExhausted, match="3 attempts") as raised:
        client.execute(QUERY, context="acme/api page 4", page_size=sizes)
    assert isinstance(raised.value.__cause__, ServerError)
    assert raised.value.retriable  # Airflow's own retries take over
    assert len(github.requests) == 3 and len(sleeps.waits) == 2
    assert github.page_sizes() == [100, 50, 25]
    assert sizes.current == 12  # the next call starts smaller
    assert "acme/api page 4" in str(raised.value) and "REQ-3" in str(raised.value)


# --- log lines ------------------------------------------------------------------------------


def test_retry_log_line_has_context_class_attempt_wait_and_request_id(
    github: ScriptedGitHub, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    github.script(Reply(403, SECONDARY, {"Retry-After": "7", "X-GitHub-Request-Id": "ABCD:1234"}),
                  Reply(body=ok()))
    with caplog.at_level(logging.INFO, logger="pr_warehouse.client"):
        make_client().execute(QUERY, context="acme/api page 3")
    retry = next(r for r in caplog.records if r.levelno == logging.WARNING)
    line = retry.getMessage()
    for part in ("acme/api page 3", "secondary_rate_limit", "attempt 1 of 8", "7.0s", "ABCD:1234"):
        assert part in line, part
