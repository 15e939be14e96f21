"""The token never shows: not in logs (ours and urllib3's, at DEBUG), exceptions, reprs."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import pytest

from pr_warehouse.client import (
    AdaptivePageSize,
    GitHubError,
    GraphQLClient,
    RateLimitWait,
    RetriesExhausted,
    install_redaction,
    redact,
)

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
    ok,
    rate_headers,
)

pytestmark = pytest.mark.timeout(30)


def _texts(error: BaseException) -> list[str]:
    """Every way an exception gets shown: str, repr, the whole chained traceback."""
    shown = [str(error), repr(error), "".join(traceback.format_exception(error))]
    cause = error.__cause__ or error.__context__
    while cause is not None:
        shown += [str(cause), repr(cause)]
        cause = cause.__cause__ or cause.__context__
    return shown


def test_token_absent_from_logs_errors_and_reprs_across_every_failure_class(
    github: ScriptedGitHub,
    make_client: Callable[..., GraphQLClient],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # root: ours, urllib3's, requests'
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    github.script(
        # retried, then a success
        Reply(502, BAD_GATEWAY_HTML),
        Reply(504, SOMETHING_WENT_WRONG),
        Reply(body=ok(), delay=HOLD),  # read timeout
        Reply(close=True),  # connection reset
        Reply(body=PARTIAL),
        Reply(403, SECONDARY, {"Retry-After": "3"}),
        Reply(429, SECONDARY),
        Reply(200, RATE_LIMITED, rate_headers(0, clock.epoch(10))),
        Reply(body=ok(cost=1), headers=rate_headers(4000, clock.epoch(3600))),
        # fatal ones
        Reply(401, BAD_CREDENTIALS),
        Reply(body=NOT_FOUND),
        Reply(body=MAX_NODES),
        Reply(body=MISSING_BOUNDARIES),
        Reply(body=EXCESSIVE),
        Reply(body=UNDEFINED_FIELD),
        Reply(403, {"message": "Resource not accessible by integration"}),
        # a long primary wait, then exhausted retries
        Reply(200, RATE_LIMITED, rate_headers(0, clock.epoch(7200))),
    )
    client = make_client(max_attempts=10)
    shown: list[str] = [repr(client), str(client.settings)]

    response = client.execute(QUERY, {"owner": "acme"}, context="acme/api page 1",
                              page_size=AdaptivePageSize(64))
    assert response.attempts == 9
    shown += [repr(response), response.body.decode(), str(response.data)]
    for _ in range(7):
        with pytest.raises(GitHubError) as raised:
            client.execute(QUERY, context="acme/api page 2")
        shown += _texts(raised.value)
    with pytest.raises(RateLimitWait) as waited:
        client.execute(QUERY, context="acme/api page 3")
    shown += _texts(waited.value)

    exhausted_client = make_client(max_attempts=2)
    github.script(Reply(502, b""), Reply(502, b""))
    with pytest.raises(RetriesExhausted) as exhausted:
        exhausted_client.execute(QUERY, context="acme/api page 4")
    shown += _texts(exhausted.value)
    shown += [str(client.stats.as_dict()), repr(client.stats)]

    assert set(client.stats.retries) == {"server_error", "request_timeout", "partial_data",
                                         "secondary_rate_limit", "primary_rate_limit"}
    assert any(r.name.startswith("urllib3") for r in caplog.records)  # urllib3 was heard
    shown += [caplog.text] + [r.getMessage() for r in caplog.records]
    leaks = [text for text in shown if TOKEN in text]
    assert leaks == []
    # and the server did get it, so the test would notice a leak
    assert github.requests[0].headers["Authorization"] == f"bearer {TOKEN}"


def test_the_filter_masks_a_token_logged_by_mistake(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction(TOKEN)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("pr_warehouse.client.graphql").warning("header was bearer %s", TOKEN)
    logging.getLogger("urllib3.connectionpool").debug(f"sent {TOKEN}")
    try:
        raise ValueError(f"boom {TOKEN}")
    except ValueError:
        logging.getLogger("pr_warehouse.client.graphql").exception("failed")
    assert TOKEN not in caplog.text
    assert "header was bearer ***" in caplog.text and "sent ***" in caplog.text


def test_install_on_a_handler_covers_any_logger() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    other = logging.getLogger("somebody.else")
    other.addHandler(handler)
    try:
        install_redaction("ghp_handler_level_secret", handler)
        other.warning("token=%s", "ghp_handler_level_secret")
    finally:
        other.removeHandler(handler)
    assert records[0].getMessage() == "token=***"


def test_short_secrets_are_not_masked() -> None:
    install_redaction("tok")
    assert redact("the token is tok") == "the token is tok"
