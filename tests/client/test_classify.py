"""``classify`` and ``retry_wait``: table-driven, with GitHub's real bodies and headers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pr_warehouse.client import (
    BadCredentials,
    ClientSettings,
    Forbidden,
    MaxNodeLimitExceeded,
    NotFound,
    PartialDataError,
    PrimaryRateLimited,
    QueryError,
    SecondaryRateLimited,
    ServerError,
    classify,
    failure_name,
    retry_wait,
)
from pr_warehouse.client.classify import parse_retry_after, waits_for_reset
from pr_warehouse.client.errors import GitHubError, RequestTimeout

from .scripted import (
    BAD_CREDENTIALS,
    BAD_GATEWAY_HTML,
    EXCESSIVE,
    MAX_NODES,
    MISSING_BOUNDARIES,
    NOT_FOUND,
    PARTIAL,
    RATE_LIMITED,
    SECONDARY,
    SOMETHING_WENT_WRONG,
    UNDEFINED_FIELD,
    ok,
    rate_headers,
)

RESET = 1772366400  # 2026-03-01T12:00:00Z
RESET_AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def body(value: Any) -> bytes:
    return value if isinstance(value, bytes) else (
        value.encode() if isinstance(value, str) else json.dumps(value).encode()
    )


# (id, status, headers, body, expected class or None, attributes to check)
TABLE: list[tuple[str, int, dict[str, str], Any, type[GitHubError] | None, dict[str, Any]]] = [
    ("clean success", 200, rate_headers(4999, RESET), ok(), None, {}),
    ("success with rateLimit", 200, {}, ok(cost=1, remaining=4998), None, {}),
    ("success at remaining 0 is still a success", 200, rate_headers(0, RESET), ok(), None, {}),
    # retried: GitHub's side gave up
    ("502 something went wrong", 502, {}, SOMETHING_WENT_WRONG, ServerError, {}),
    ("504 something went wrong", 504, {}, SOMETHING_WENT_WRONG, ServerError, {}),
    ("503 empty body", 503, {}, b"", ServerError, {}),
    ("502 HTML page", 502, {"Content-Type": "text/html"}, BAD_GATEWAY_HTML, ServerError, {}),
    ("500", 500, {}, {"message": "Server Error"}, ServerError, {}),
    ("200 something went wrong", 200, {}, SOMETHING_WENT_WRONG, ServerError, {}),
    ("200 truncated JSON", 200, {}, b'{"data":{"viewer":{"lo', ServerError, {}),
    ("200 JSON that is not an object", 200, {}, b"[1, 2]", ServerError, {}),
    ("200 neither data nor errors", 200, {}, {}, ServerError, {}),
    ("200 data null, no errors", 200, {}, {"data": None}, ServerError, {}),
    # retried smaller: partial data is never a success
    ("200 partial data", 200, {}, PARTIAL, PartialDataError, {}),
    ("200 NOT_FOUND mixed with another error", 200, {},
     {"data": {"a": None, "b": {"x": 1}}, "errors": [NOT_FOUND["errors"][0], PARTIAL["errors"][0]]},
     PartialDataError, {}),
    # primary limit: wait until x-ratelimit-reset
    ("200 RATE_LIMITED", 200, rate_headers(0, RESET), RATE_LIMITED, PrimaryRateLimited,
     {"reset_at": RESET_AT}),
    ("200 RATE_LIMITED without headers", 200, {}, RATE_LIMITED, PrimaryRateLimited,
     {"reset_at": None}),
    ("403 REST-style primary limit", 403, rate_headers(0, RESET),
     {"message": "API rate limit exceeded for user ID 1."}, PrimaryRateLimited,
     {"reset_at": RESET_AT}),
    ("bare 429 at remaining 0", 429, rate_headers(0, RESET), b"", PrimaryRateLimited,
     {"reset_at": RESET_AT}),
    # secondary limit: retry-after, else reset when remaining is 0, else >= 60 s
    ("403 secondary retry-after 60", 403, {"Retry-After": "60", **rate_headers(4000, RESET)},
     SECONDARY, SecondaryRateLimited, {"retry_after": 60.0, "reset_at": None}),
    ("429 secondary retry-after 7", 429, {"retry-after": "7"}, SECONDARY, SecondaryRateLimited,
     {"retry_after": 7.0}),
    ("403 secondary, no retry-after", 403, rate_headers(4000, RESET), SECONDARY,
     SecondaryRateLimited, {"retry_after": None, "reset_at": None}),
    ("403 secondary at remaining 0", 403, rate_headers(0, RESET), SECONDARY,
     SecondaryRateLimited, {"retry_after": None, "reset_at": RESET_AT}),
    ("200 secondary in errors[]", 200, {},
     {"errors": [{"message": "You have exceeded a secondary rate limit."}]},
     SecondaryRateLimited, {}),
    ("403 abuse detection (old wording)", 403, {},
     {"message": "You have triggered an abuse detection mechanism."}, SecondaryRateLimited, {}),
    ("403 retry-after without message", 403, {"Retry-After": "30"}, b"", SecondaryRateLimited,
     {"retry_after": 30.0}),
    ("bare 429", 429, {}, b"", SecondaryRateLimited, {"retry_after": None}),
    # fatal
    ("401 bad credentials", 401, {}, BAD_CREDENTIALS, BadCredentials, {}),
    ("401 HTML", 401, {}, "<html>nope</html>", BadCredentials, {}),
    ("NOT_FOUND", 200, {}, NOT_FOUND, NotFound, {}),
    ("MAX_NODE_LIMIT_EXCEEDED", 200, {}, MAX_NODES, MaxNodeLimitExceeded, {}),
    ("MISSING_PAGINATION_BOUNDARIES", 200, {}, MISSING_BOUNDARIES, QueryError, {}),
    ("EXCESSIVE_PAGINATION", 200, {}, EXCESSIVE, QueryError, {}),
    ("undefined field", 200, {}, UNDEFINED_FIELD, QueryError, {}),
    ("parse error", 200, {},
     {"errors": [{"message": "Parse error on \"}\" (RCURLY) at [1, 9]",
                  "locations": [{"line": 1, "column": 9}]}]}, QueryError, {}),
    ("FORBIDDEN type", 200, {},
     {"data": {"repository": None}, "errors": [{"type": "FORBIDDEN", "message":
      "Resource protected by organization SAML enforcement."}]}, Forbidden, {}),
    ("403 without rate-limit signs", 403, rate_headers(4000, RESET),
     {"message": "Resource not accessible by integration"}, Forbidden, {}),
    ("404 wrong URL", 404, {}, {"message": "Not Found"}, QueryError, {}),
    ("400 HTML", 400, {}, "<html>bad request</html>", QueryError, {}),
    ("422", 422, {}, {"message": "Validation Failed"}, QueryError, {}),
    ("302 redirect", 302, {}, b"", QueryError, {}),
]


@pytest.mark.parametrize(
    ("status", "headers", "raw", "expected", "attrs"),
    [pytest.param(*row[1:], id=row[0]) for row in TABLE],
)
def test_classify_table(
    status: int, headers: dict[str, str], raw: Any, expected: type | None, attrs: dict[str, Any]
) -> None:
    headers = {"X-GitHub-Request-Id": "0400:AAAA:1:2:3", **headers}
    error = classify(status, headers, body(raw), context="acme/api page 3")
    if expected is None:
        assert error is None
        return
    assert type(error) is expected
    assert error.request_id == "0400:AAAA:1:2:3"
    assert "acme/api page 3" in str(error) and "0400:AAAA:1:2:3" in str(error)
    for name, value in attrs.items():
        assert getattr(error, name) == value, name


def test_not_found_message_names_what_was_missing() -> None:
    error = classify(200, {}, body(NOT_FOUND))
    assert "Could not resolve to a Repository with the name 'owner/name'." in str(error)


def test_every_class_says_if_it_is_retried() -> None:
    retried = {ServerError, PartialDataError, PrimaryRateLimited, SecondaryRateLimited}
    for _, status, headers, raw, expected, _ in TABLE:
        if expected is not None:
            error = classify(status, headers, body(raw))
            assert error is not None and error.retriable == (expected in retried)


def test_headers_are_case_insensitive() -> None:
    error = classify(403, {"RETRY-AFTER": "9", "X-RateLimit-Remaining": "0",
                           "X-RATELIMIT-RESET": str(RESET)}, body(SECONDARY))
    assert isinstance(error, SecondaryRateLimited) and error.retry_after == 9.0


def test_long_bodies_are_cut_in_messages() -> None:
    error = classify(200, {}, body({"errors": [{"message": "x" * 5000}]}))
    assert error is not None and len(str(error)) < 600


@pytest.mark.parametrize(("value", "seconds"), [("7", 7.0), (" 60 ", 60.0), ("-3", 0.0),
                                                ("Wed, 21 Oct 2015 07:28:00 GMT", None),
                                                (None, None)])
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


# --- retry_wait -------------------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 11, 59, 0, tzinfo=timezone.utc)
S = ClientSettings(reset_margin=1.0, secondary_min_wait=60.0, backoff_base=1.0, backoff_max=60.0)


def test_wait_honours_retry_after_exactly() -> None:
    error = SecondaryRateLimited("x", retry_after=7.0, reset_at=RESET_AT)
    assert retry_wait(error, nth=3, settings=S, now=NOW, rand=0.9) == 7.0


def test_secondary_without_retry_after_waits_for_reset_when_remaining_is_zero() -> None:
    error = SecondaryRateLimited("x", reset_at=NOW + timedelta(seconds=42))
    assert waits_for_reset(error)
    assert retry_wait(error, nth=1, settings=S, now=NOW) == 43.0


def test_secondary_without_hints_waits_at_least_a_minute_then_doubles() -> None:
    error = SecondaryRateLimited("x")
    waits = [retry_wait(error, nth=n, settings=S, now=NOW, rand=r)
             for n, r in [(1, 0.0), (2, 0.99), (3, 0.0), (4, 0.5)]]
    assert waits[0] == 60.0
    assert all(w >= 60.0 for w in waits)
    assert waits == sorted(waits) and waits[3] == 480 * 1.125


def test_primary_waits_until_reset_plus_margin() -> None:
    error = PrimaryRateLimited("x", reset_at=NOW + timedelta(seconds=60))
    assert retry_wait(error, nth=1, settings=S, now=NOW) == 61.0
    # a reset already past: only the margin
    assert retry_wait(error, nth=1, settings=S, now=NOW + timedelta(hours=1)) == 1.0


def test_primary_without_reset_backs_off_like_secondary() -> None:
    error = PrimaryRateLimited("x", reset_at=None)
    assert not waits_for_reset(error)
    assert retry_wait(error, nth=2, settings=S, now=NOW, rand=0.0) == 120.0


@pytest.mark.parametrize("error", [ServerError("x"), RequestTimeout("x"), PartialDataError("x")])
def test_server_errors_back_off_exponentially_with_jitter(error: GitHubError) -> None:
    lows = [retry_wait(error, nth=n, settings=S, now=NOW, rand=0.0) for n in range(1, 9)]
    highs = [retry_wait(error, nth=n, settings=S, now=NOW, rand=0.999999) for n in range(1, 9)]
    assert lows == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]  # half the cap ...
    assert [round(h) for h in highs] == [1, 2, 4, 8, 16, 32, 60, 60]  # ... up to the cap


def test_failure_names() -> None:
    assert failure_name(SecondaryRateLimited("x")) == "secondary_rate_limit"
    assert failure_name(PrimaryRateLimited("x")) == "primary_rate_limit"
    assert failure_name(PartialDataError("x")) == "partial_data"
    assert failure_name(RequestTimeout("x")) == "request_timeout"
    assert failure_name(ValueError("x")) == "ValueError"
