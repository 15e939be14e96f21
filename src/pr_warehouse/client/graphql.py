"""The GitHub GraphQL client: one POST per attempt, tenacity around it, typed failures out.

What it survives, and how (the decisions themselves live in ``classify``):

- 502/503/504, non-JSON bodies, "Something went wrong", read timeouts, dropped connections,
  partial data: exponential backoff with jitter, and the page shrinks *before* the retry,
  so the retried request itself asks for fewer nodes;
- secondary limits: ``retry-after``, else the reset time, else >= 60 s doubling;
- the primary limit: wait until ``x-ratelimit-reset`` when that is short, else raise
  ``RateLimitWait`` so the caller frees its worker slot; never spend below ``points_reserve``;
- fatal answers (401, NOT_FOUND, MAX_NODE_LIMIT_EXCEEDED, validation, other 4xx) raise after
  one request; retriable ones that persist raise ``RetriesExhausted`` (Airflow retries next);
- a host that cannot be reached before its first answer (connection refused, a name that
  does not resolve) or a TLS certificate that does not verify raise ``HostUnreachable`` at
  once, naming the host and the connection: the connection's host is wrong. After the host
  has answered once, a refused or dropped connection is retried like a timeout.

Tokens come from a ``TokenPool`` (``auth``): each request carries, in its own
``Authorization`` header, the token with the most points left; a GitHub App's installation
token is replaced before it expires and once after a 401; a rejected token is dropped while
others remain. Tokens are never logged, never in an exception, a repr or a returned object.

Example::

    with GraphQLClient("https://api.github.com/graphql", token) as client:
        sizes = AdaptivePageSize(50)
        answer = client.execute(QUERY, {"owner": "acme", "name": "api", "after": None},
                                context="acme/api page 1", page_size=sizes)
        answer.data["repository"], answer.page_size, answer.remaining
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, NoReturn

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, RetryError, Retrying, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_any

from pr_warehouse.client.auth import TokenPool, TokenSlot, as_pool
from pr_warehouse.client.classify import (
    SHRINKING_FAILURES,
    Answer,
    classify_answer,
    failure_name,
    first_contact_failure,
    header_int,
    lower_headers,
    parse_iso_utc,
    parse_json_object,
    reset_from_headers,
    retry_wait,
    waits_for_reset,
)
from pr_warehouse.client.errors import (
    BadCredentials,
    GitHubError,
    MissingToken,
    PrimaryRateLimited,
    RateLimitWait,
    RequestTimeout,
    RetriesExhausted,
    TokenExchangeFailed,
)
from pr_warehouse.client.models import ClientSettings, ClientStats, GraphQLResponse, utc_now
from pr_warehouse.client.paging import AdaptivePageSize
from pr_warehouse.client.redaction import install_redaction, redact

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]


def is_retriable(error: BaseException) -> bool:
    """Whether the client retries ``error`` itself (tenacity's ``retry`` predicate)."""
    return (
        isinstance(error, GitHubError)
        and error.retriable
        and not isinstance(error, (RetriesExhausted, RateLimitWait))
    )


def stop_after_total_wait(limit: float) -> Callable[[RetryCallState], bool]:
    """Tenacity stop: give up when the waits so far plus the next one would pass ``limit``.

    Counts computed waits (what the injected sleep receives), not wall time, so tests with
    a fake sleep see the same decisions as production.
    """

    def stop(state: RetryCallState) -> bool:
        return state.idle_for + state.upcoming_sleep > limit

    return stop


def http_date(value: str | None) -> datetime | None:
    """An HTTP ``Date`` header as a tz-aware UTC datetime; None when absent or malformed.

    >>> http_date("Sun, 01 Nov 2026 09:30:00 GMT").isoformat()
    '2026-11-01T09:30:00+00:00'
    """
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def transport_error(
    exc: requests.RequestException, read_timeout: float, context: str
) -> RequestTimeout:
    """Our side of a failed exchange (timeout, reset, truncated stream) as a retriable error."""
    if isinstance(exc, requests.ConnectTimeout):
        what = "could not connect within the connect timeout"
    elif isinstance(exc, requests.Timeout):
        what = f"no answer within the read timeout of {read_timeout:g}s"
    elif isinstance(exc, requests.exceptions.ChunkedEncodingError):
        what = "the answer was cut off mid-body"
    else:
        what = "the connection failed or was reset"
    return RequestTimeout(f"{what} ({type(exc).__name__}: {redact(str(exc))})", context=context)


def rate_info(
    headers: Mapping[str, str], payload: Mapping[str, Any] | None
) -> tuple[int | None, int | None, datetime | None]:
    """``(cost, remaining, reset_at)`` of an answer (lower-cased headers, parsed body).

    ``cost`` only from ``data.rateLimit.cost``; ``remaining`` and ``reset_at`` from the
    ``x-ratelimit-*`` headers, else from ``data.rateLimit``.

    >>> rate_info({"x-ratelimit-remaining": "4990", "x-ratelimit-reset": "1767225600"},
    ...           {"data": {"rateLimit": {"cost": 2, "remaining": 4991}}})[:2]
    (2, 4990)
    """
    data = (payload or {}).get("data")
    block = data.get("rateLimit") if isinstance(data, dict) else None
    block = block if isinstance(block, dict) else {}
    cost = block.get("cost") if isinstance(block.get("cost"), int) else None
    remaining = header_int(headers, "x-ratelimit-remaining")
    if remaining is None and isinstance(block.get("remaining"), int):
        remaining = block["remaining"]
    reset_at = reset_from_headers(headers) or parse_iso_utc(block.get("resetAt"))
    return cost, remaining, reset_at


@dataclass
class _Call:
    """State of one ``execute`` call across its attempts."""

    context: str
    page_size: AdaptivePageSize | None
    failures: Counter[str] = field(default_factory=Counter)
    next_wait: float = 0.0
    resized: tuple[int, int] | None = None
    #: the token the latest attempt went out with
    slot: TokenSlot | None = None
    #: fatal errors the caller handles itself: logged at debug, not as a warning
    expected: tuple[type[GitHubError], ...] = ()


class GraphQLClient:
    """POSTs GraphQL documents to GitHub and survives its limits and faults.

    ``token`` is one token, or a ``TokenPool`` (several tokens, GitHub App installations).
    ``sleep`` and ``clock`` (tz-aware UTC ``now``) are injectable so tests assert computed
    waits without waiting; ``rand`` is the jitter source. ``conn_id`` names the Airflow
    connection(s) the client came from, in errors about an unreachable host. Not
    thread-safe: one client per worker.

    >>> client = GraphQLClient("http://127.0.0.1:9/graphql", "ghp_not_a_real_token")
    >>> client
    GraphQLClient(url='http://127.0.0.1:9/graphql', requests=0)
    >>> client.close()
    """

    def __init__(
        self,
        url: str,
        token: str | TokenPool,
        settings: ClientSettings = ClientSettings(),
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
        session: requests.Session | None = None,
        rand: Callable[[], float] = random.random,
        conn_id: str | None = None,
    ) -> None:
        if not token:
            raise MissingToken("no GitHub token given to GraphQLClient")
        self.url = url
        self.conn_id = conn_id
        #: whether the host has answered once (any HTTP answer): until then, a refused
        #: connection or an unknown name is a wrong host, not a hiccup
        self.reached = False
        self.settings = settings
        self.stats = ClientStats()
        #: GitHub's clock at its latest answer (the ``Date`` header), None before one: when
        #: something was observed, on the clock GitHub's own timestamps use
        self.server_time: datetime | None = None
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self._owns_session = session is None
        self._session = session if session is not None else self._new_session()
        #: every token, with what GitHub last said about each one's budget
        self.tokens = as_pool(token)
        install_redaction(None)  # the filter on our loggers; the pool registered the secrets
        # The token is not a session header: each request carries the one chosen for it.
        self._session.headers.update(
            {
                "User-Agent": settings.user_agent,
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
        )

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=0)  # tenacity does all the retrying, visibly
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def __repr__(self) -> str:
        return f"GraphQLClient(url={self.url!r}, requests={self.stats.requests})"

    def __enter__(self) -> GraphQLClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close our session and the token sources' (a lent session stays open)."""
        if self._owns_session:
            self._session.close()
        self.tokens.close()

    # --- the call -------------------------------------------------------------------------

    def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        context: str = "",
        page_size: AdaptivePageSize | None = None,
        page_size_var: str = "pageSize",
        expected: tuple[type[GitHubError], ...] = (),
    ) -> GraphQLResponse:
        """Send ``query`` until GitHub answers cleanly, a fatal error, or the bounds run out.

        With ``page_size``, ``variables[page_size_var]`` is set to ``page_size.current`` on
        every attempt (shrunk before retries after server errors, timeouts, partial data).

        ``expected``: fatal error classes the caller handles (and reports) itself; they are
        raised as usual but logged at debug level, so the caller's own line is the only one.

        Raises the fatal ``GitHubError`` subclasses after one request, ``RateLimitWait`` when
        the primary limit needs a wait longer than ``max_inline_wait`` (or the points left
        are under ``points_reserve``), ``RetriesExhausted`` when retriable failures persist.

        Example: ``client.execute("query { viewer { login } }", context="smoke").data``
        gives ``{"viewer": {"login": "octocat"}}``.
        """
        self._check_budget(context)
        call = _Call(context=context, page_size=page_size, expected=expected)
        s = self.settings
        retrying = Retrying(
            sleep=self._sleep,
            stop=stop_any(
                stop_after_attempt(s.max_attempts), stop_after_total_wait(s.max_total_wait)
            ),
            wait=lambda _state: call.next_wait,
            retry=retry_if_exception(is_retriable),
            before_sleep=lambda state: self._before_sleep(call, state),
            reraise=False,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(
                        call, query, variables, page_size_var, attempt.retry_state.attempt_number
                    )
        except RetryError as exhausted:
            raise self._exhausted(call, exhausted) from exhausted.last_attempt.exception()
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _attempt(
        self,
        call: _Call,
        query: str,
        variables: Mapping[str, Any] | None,
        page_size_var: str,
        attempt: int,
    ) -> GraphQLResponse:
        sent_size = call.page_size.current if call.page_size is not None else None
        sent = dict(variables or {})
        if sent_size is not None:
            sent[page_size_var] = sent_size
        payload = json.dumps({"query": query, "variables": sent}).encode()
        while True:
            slot = call.slot = self.tokens.choose(self._clock())
            token = self._token(call, slot, attempt)
            self.stats.requests += 1
            started = time.monotonic()
            reply, lost = self._post(payload, token, call.context)
            if reply is None:
                assert lost is not None
                log.debug("%s: attempt %d, page size %s: %s",
                          call.context, attempt, sent_size, lost.message)
                self._fail(call, lost, attempt)  # outside the except: no requests objects chained
            body = reply.content
            headers = lower_headers(reply.headers)
            self.server_time = http_date(headers.get("date")) or self.server_time
            parsed = parse_json_object(body)
            answer = Answer(reply.status_code, headers, parsed, len(body), call.context)
            classified = classify_answer(answer)
            cost, remaining, reset_at = rate_info(headers, parsed if classified is None else None)
            self._account(slot, headers, cost, success=classified is None)
            if remaining is not None and reset_at is not None:
                self.tokens.record(slot, remaining=remaining, reset_at=reset_at)
            if not isinstance(classified, BadCredentials):
                break
            # A 401 costs nothing and carries no data: send the same request again with a
            # new installation token or another token; only the last token's 401 is final.
            if not self._recover(call, slot, attempt):
                classified = BadCredentials(
                    f"{classified.message} [{slot.label}]", request_id=classified.request_id,
                    context=classified.context)
                break
            self.stats.retries["bad_credentials"] += 1
        log.debug(
            "%s: attempt %d, page size %s: HTTP %d in %.2fs, %d bytes, X-GitHub-Request-Id %s, "
            "cost %s, remaining %s",
            call.context, attempt, sent_size, reply.status_code, time.monotonic() - started,
            len(body), answer.request_id, cost, remaining,
        )
        if classified is not None:
            self._fail(call, classified, attempt)
        self.tokens.succeeded(slot)
        if call.page_size is not None:
            call.page_size.success()
        if attempt > 1:
            log.info(
                "%s: answered on attempt %d (page size %s, X-GitHub-Request-Id %s)",
                call.context, attempt, sent_size, answer.request_id,
            )
        assert parsed is not None  # a clean success is a JSON object with data
        return GraphQLResponse(
            body=body,
            document=parsed,
            request_id=answer.request_id,
            page_size=sent_size,
            cost=cost,
            remaining=remaining,
            reset_at=reset_at,
            attempts=attempt,
        )

    def _token(self, call: _Call, slot: TokenSlot, attempt: int) -> str:
        """``slot``'s token, fetching a GitHub App's installation token when due: a failed
        exchange is this attempt's failure (retried with backoff, or fatal)."""
        try:
            return slot.source.token(self._clock())
        except TokenExchangeFailed as error:
            fatal = None
            if error.unreachable is not None:
                fatal = first_contact_failure(
                    error.unreachable, error.url or self.url,  # type: ignore[arg-type]
                    reached=self.reached, conn_id=self.conn_id, context=call.context)
            self._fail(call, fatal or error, attempt)
        except GitHubError as error:
            self._fail(call, error, attempt)

    def _recover(self, call: _Call, slot: TokenSlot, attempt: int) -> bool:
        """``TokenPool.recover`` after a 401, its token exchange failing like ``_token``'s."""
        try:
            return self.tokens.recover(slot, self._clock(), call.context)
        except GitHubError as error:
            self._fail(call, error, attempt)

    def _post(
        self, payload: bytes, token: str, context: str
    ) -> tuple[requests.Response, None] | tuple[None, GitHubError]:
        """One POST: the response, or the transport failure as a ``RequestTimeout`` (or
        ``HostUnreachable``, see ``classify.first_contact_failure``)."""
        s = self.settings
        try:
            reply = self._session.post(
                self.url, data=payload, headers={"Authorization": f"bearer {token}"},
                timeout=(s.connect_timeout, s.read_timeout),
            )
        except (
            requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError
        ) as exc:
            fatal = first_contact_failure(exc, self.url, reached=self.reached,
                                          conn_id=self.conn_id, context=context)
            return None, fatal or transport_error(exc, s.read_timeout, context)
        self.reached = True
        return reply, None

    def _fail(self, call: _Call, error: GitHubError, attempt: int) -> NoReturn:
        """Decide what follows ``error``: raise it (tenacity retries or not) or RateLimitWait.

        Retriable errors get their wait computed here (tenacity's ``wait`` reads it back)
        and shrink the page here, so the very next attempt sends the smaller size.
        """
        name = failure_name(error)
        error.message = redact(error.message)
        error.args = tuple(redact(a) if isinstance(a, str) else a for a in error.args)
        if not is_retriable(error):
            log.log(
                logging.DEBUG if isinstance(error, call.expected) else logging.WARNING,
                "%s: %s on attempt %d, not retried (X-GitHub-Request-Id %s): %s",
                call.context, name, attempt, error.request_id, error.message,
            )
            raise error
        call.failures[name] += 1
        wait = retry_wait(
            error, nth=call.failures[name], settings=self.settings, now=self._clock(),
            rand=self._rand(),
        )
        if isinstance(error, PrimaryRateLimited) and self._switch_token(call, error):
            wait = 0.0  # another token has points: spend those instead of waiting
        if waits_for_reset(error) and wait > self.settings.max_inline_wait:
            reset_at: datetime = error.reset_at  # type: ignore[attr-defined]
            log.warning(
                "%s: %s on attempt %d (X-GitHub-Request-Id %s): the wait of %.0fs until "
                "%s is longer than max_inline_wait=%gs; raising RateLimitWait",
                call.context, name, attempt, error.request_id, wait, reset_at.isoformat(),
                self.settings.max_inline_wait,
            )
            raise RateLimitWait(
                f"{name}: waiting {wait:.0f}s until {reset_at.isoformat()} is longer than "
                f"max_inline_wait={self.settings.max_inline_wait:g}s",
                reset_at=reset_at, request_id=error.request_id, context=call.context,
            ) from error
        call.resized = None
        if isinstance(error, SHRINKING_FAILURES) and call.page_size is not None:
            before = call.page_size.current
            call.resized = (before, call.page_size.shrink())
        call.next_wait = wait
        raise error

    def _switch_token(self, call: _Call, error: PrimaryRateLimited) -> bool:
        """After the chosen token's quota ran out: mark it spent; whether another has points.

        Only the primary limit switches tokens. Secondary limits are waited out: GitHub
        counts them per user and asks clients to slow down, not to rotate credentials.
        """
        now, spent = self._clock(), call.slot
        if spent is None or len(self.tokens) == 1 or error.reset_at is None:
            return False
        self.tokens.record(spent, remaining=0, reset_at=error.reset_at)
        if not self.tokens.usable(now, self.settings.points_reserve):
            return False
        log.warning("%s: %s has no points left until %s; switching to %s",
                    call.context, spent.label,
                    error.reset_at.isoformat(),
                    self.tokens.choose(now).label)
        return True

    def _before_sleep(self, call: _Call, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        name = failure_name(error) if error else "unknown"
        wait = state.upcoming_sleep
        self.stats.retries[name] += 1
        self.stats.waited_seconds += wait
        resized = ""
        if call.resized is not None:
            before, after = call.resized
            resized = (
                f"; page size {before} -> {after}" if after != before
                else f"; page size stays {after} (the floor)"
            )
        log.warning(
            "%s: %s on attempt %d of %d (X-GitHub-Request-Id %s), retrying in %.1fs%s: %s",
            call.context, name, state.attempt_number, self.settings.max_attempts,
            getattr(error, "request_id", None), wait, resized,
            getattr(error, "message", str(error)),
        )

    def _exhausted(self, call: _Call, exhausted: RetryError) -> RetriesExhausted:
        state = exhausted.last_attempt
        last = state.exception()
        attempts = state.attempt_number
        name = failure_name(last) if last else "unknown"
        if attempts >= self.settings.max_attempts:
            why = f"{attempts} attempts (max_attempts={self.settings.max_attempts})"
        else:
            why = (
                f"{attempts} attempts: the next wait would take the total past "
                f"max_total_wait={self.settings.max_total_wait:g}s"
            )
        request_id = getattr(last, "request_id", None)
        message = f"gave up after {why}; last failure {name}: {getattr(last, 'message', last)}"
        log.error("%s: %s (X-GitHub-Request-Id %s)", call.context, message, request_id)
        return RetriesExhausted(message, request_id=request_id, context=call.context)

    # --- the points budget ----------------------------------------------------------------

    def _check_budget(self, context: str) -> None:
        """Raise ``RateLimitWait`` before sending when no token has points above the reserve
        (a token past its reset counts as full again)."""
        reserve = self.settings.points_reserve
        if self.tokens.usable(self._clock(), reserve):
            return
        reset_at = self.tokens.next_reset()
        assert reset_at is not None  # a token without a known reset is always usable
        left = max(slot.remaining or 0 for slot in self.tokens.slots)
        why = (
            "no points left" if left <= 0
            else f"{left} points left, under the reserve of {reserve}"
        )
        log.warning(
            "%s: %s; not sending before the reset at %s", context, why, reset_at.isoformat()
        )
        raise RateLimitWait(
            f"{why}; the budget resets at {reset_at.isoformat()}", reset_at=reset_at,
            context=context,
        )

    def _account(
        self, slot: TokenSlot, headers: Mapping[str, str], cost: int | None, *, success: bool
    ) -> None:
        """Add what this answer cost to ``stats.points_spent``.

        ``rateLimit.cost`` when the query asked for it; else the rise of ``x-ratelimit-used``
        within the same reset window; else 1 for a success (failures count only when the
        headers show they cost something: timeouts do since 2025-07).
        """
        used = header_int(headers, "x-ratelimit-used")
        window = header_int(headers, "x-ratelimit-reset")
        spent = cost
        if spent is None and used is not None and slot.last_used is not None:
            last_used, last_window = slot.last_used
            if last_window == window and used > last_used:
                spent = used - last_used
        if spent is None:
            spent = 1 if success else 0
        if used is not None:
            slot.last_used = (used, window)
        self.stats.points_spent += spent
