"""Pure decisions: what a GitHub answer means, and how long to wait before trying again.

``classify`` turns one HTTP answer into a typed error (or ``None`` for a clean success) by
trying an ordered table of rules, first match wins. ``retry_wait`` computes the wait for a
retriable error from the headers GitHub sent, never from a guess when GitHub said when.

>>> err = classify(403, {"Retry-After": "7"},
...                b'{"message":"You have exceeded a secondary rate limit."}')
>>> type(err).__name__, err.retry_after
('SecondaryRateLimited', 7.0)
>>> classify(200, {}, b'{"data":{"viewer":{"login":"octocat"}}}') is None
True
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from pr_warehouse.client.errors import (
    BadCertificate,
    BadCredentials,
    Forbidden,
    GitHubError,
    HostUnreachable,
    MaxNodeLimitExceeded,
    NotFound,
    PartialDataError,
    PrimaryRateLimited,
    QueryError,
    RequestTimeout,
    SecondaryRateLimited,
    ServerError,
    TokenExchangeFailed,
)
from pr_warehouse.client.models import ClientSettings

#: GitHub's words for "my side gave up on this query" (its 10 s timeout, or a bug)
SERVER_GAVE_UP = "something went wrong while executing your query"
#: GitHub's words for the secondary limit (and the older "abuse detection" wording)
SECONDARY_WORDS = ("secondary rate limit", "abuse detection")
PAGINATION_TYPES = frozenset({"MISSING_PAGINATION_BOUNDARIES", "EXCESSIVE_PAGINATION"})
FORBIDDEN_TYPES = frozenset({"FORBIDDEN", "INSUFFICIENT_SCOPES"})
_MESSAGE_LIMIT = 500

#: short names of failure classes, for stats and log lines (most specific class first)
FAILURE_NAMES: tuple[tuple[type[GitHubError], str], ...] = (
    (ServerError, "server_error"),
    (RequestTimeout, "request_timeout"),
    (TokenExchangeFailed, "token_exchange"),
    (PartialDataError, "partial_data"),
    (SecondaryRateLimited, "secondary_rate_limit"),
    (PrimaryRateLimited, "primary_rate_limit"),
    (BadCredentials, "bad_credentials"),
    (NotFound, "not_found"),
    (Forbidden, "forbidden"),
    (MaxNodeLimitExceeded, "max_node_limit"),
    (QueryError, "query_error"),
    (BadCertificate, "bad_certificate"),
    (HostUnreachable, "host_unreachable"),
)

#: failures after which a smaller page is more likely to pass
SHRINKING_FAILURES: tuple[type[GitHubError], ...] = (ServerError, RequestTimeout, PartialDataError)


def failure_name(error: BaseException) -> str:
    """Short snake-case name of a failure class.

    >>> failure_name(ServerError("HTTP 502"))
    'server_error'
    """
    for cls, name in FAILURE_NAMES:
        if isinstance(error, cls):
            return name
    return type(error).__name__


# --- headers ------------------------------------------------------------------------------


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lower-cased, so lookups work for plain dicts and requests' headers."""
    return {str(k).lower(): str(v) for k, v in headers.items()}


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    """An integer header (lower-cased ``headers``), or None when absent or malformed.

    >>> header_int({"x-ratelimit-remaining": "42"}, "x-ratelimit-remaining")
    42
    """
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def parse_retry_after(value: str | None) -> float | None:
    """``retry-after`` in seconds (GitHub sends whole seconds); None when absent/invalid.

    >>> parse_retry_after("7")
    7.0
    """
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)


def epoch_to_utc(epoch: int | None) -> datetime | None:
    """``x-ratelimit-reset`` (UTC epoch seconds) as a tz-aware datetime.

    >>> epoch_to_utc(1767225600).isoformat()
    '2026-01-01T00:00:00+00:00'
    """
    if epoch is None:
        return None
    try:
        return datetime.fromtimestamp(epoch, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def parse_iso_utc(value: object) -> datetime | None:
    """``rateLimit.resetAt`` (ISO-8601, ``Z`` suffix) as a tz-aware UTC datetime."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def reset_from_headers(headers: Mapping[str, str]) -> datetime | None:
    """The primary-limit reset time from lower-cased headers, or None."""
    return epoch_to_utc(header_int(headers, "x-ratelimit-reset"))


# --- classification -------------------------------------------------------------------------


def parse_json_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one (HTML error page, truncation)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, pre-digested for the rules (headers lower-cased, body parsed)."""

    status: int
    headers: Mapping[str, str]
    payload: dict[str, Any] | None
    body_size: int
    context: str = ""

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-github-request-id")

    @property
    def errors(self) -> list[dict[str, Any]]:
        raw = (self.payload or {}).get("errors")
        if not isinstance(raw, list):
            return []
        return [e if isinstance(e, dict) else {"message": str(e)} for e in raw]

    @property
    def types(self) -> set[str]:
        return {str(e["type"]) for e in self.errors if e.get("type")}

    @property
    def message(self) -> str:
        """Every message GitHub sent (top-level REST-style and ``errors[]``), joined."""
        found: list[str] = []
        top = (self.payload or {}).get("message")
        if isinstance(top, str):
            found.append(top)
        found.extend(str(e["message"]) for e in self.errors if e.get("message"))
        text = "; ".join(dict.fromkeys(found))
        return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."

    @property
    def has_data(self) -> bool:
        return isinstance((self.payload or {}).get("data"), dict)

    @property
    def remaining_is_zero(self) -> bool:
        return header_int(self.headers, "x-ratelimit-remaining") == 0

    def describe(self) -> str:
        """``HTTP 502: <GitHub's message>`` or a note on the body when it has none."""
        if self.message:
            return f"HTTP {self.status}: {self.message}"
        if self.payload is None:
            return f"HTTP {self.status}, a body that is not a JSON object ({self.body_size} bytes)"
        return f"HTTP {self.status}"

    def ids(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "context": self.context}


Rule = Callable[[Answer], "GitHubError | None"]


def _bad_credentials(a: Answer) -> GitHubError | None:
    # fatal: a wrong, expired or revoked token fails every request the same way
    if a.status == 401:
        return BadCredentials(
            f"{a.describe()} (the token is wrong, expired or revoked)", **a.ids()
        )
    return None


def _secondary_limit(a: Answer) -> GitHubError | None:
    # retried: GitHub asks us to slow down; wait retry-after, else until the reset, else >= 60 s
    worded = any(w in a.message.lower() for w in SECONDARY_WORDS)
    retry_after = parse_retry_after(a.headers.get("retry-after"))
    throttled = a.status in (403, 429) and retry_after is not None
    if not (worded or throttled or (a.status == 429 and "RATE_LIMITED" not in a.types)):
        return None
    reset_at = reset_from_headers(a.headers) if a.remaining_is_zero else None
    if a.status == 429 and not worded and retry_after is None and reset_at is not None:
        return None  # a bare 429 at remaining 0 is the primary limit: the next rule
    return SecondaryRateLimited(
        f"secondary rate limit: {a.describe()}", retry_after=retry_after, reset_at=reset_at,
        **a.ids(),
    )


def _primary_limit(a: Answer) -> GitHubError | None:
    # retried after the reset: the hourly points are spent, anything sent before is wasted
    primary = "RATE_LIMITED" in a.types or (
        a.remaining_is_zero and (a.status in (403, 429) or "rate limit" in a.message.lower())
    )
    if not primary:
        return None
    reset_at = reset_from_headers(a.headers)
    when = reset_at.isoformat() if reset_at else "an unknown time (no x-ratelimit-reset)"
    return PrimaryRateLimited(
        f"primary rate limit: {a.describe()}; resets at {when}", reset_at=reset_at, **a.ids()
    )


def _server_gave_up(a: Answer) -> GitHubError | None:
    # retried smaller: 5xx, or "Something went wrong" (GitHub's 10 s timeout) may pass again
    if a.status >= 500 or SERVER_GAVE_UP in a.message.lower():
        return ServerError(a.describe(), **a.ids())
    # retried: a 2xx body that is not JSON was cut short or mangled on the way
    if 200 <= a.status < 300 and a.payload is None:
        return ServerError(a.describe(), **a.ids())
    return None


def _fatal_error_types(a: Answer) -> GitHubError | None:
    types = a.types
    # fatal: the query shape asks too many nodes, so the same text fails the same way
    if "MAX_NODE_LIMIT_EXCEEDED" in types:
        return MaxNodeLimitExceeded(a.describe(), **a.ids())
    # fatal: the repository/owner does not exist or the token cannot see it
    if a.errors and all(e.get("type") == "NOT_FOUND" for e in a.errors):
        return NotFound(a.message or "not found", **a.ids())
    # fatal: missing or out-of-range first/last is a bug in the query text
    if types & PAGINATION_TYPES:
        return QueryError(a.describe(), **a.ids())
    # fatal: a missing scope or an organization policy blocks this token
    if types & FORBIDDEN_TYPES:
        return Forbidden(a.describe(), **a.ids())
    return None


def _client_error(a: Answer) -> GitHubError | None:
    # fatal: a 403 without any rate-limit sign is a permission problem
    if a.status == 403:
        return Forbidden(a.describe(), **a.ids())
    # fatal: other 4xx (wrong URL, malformed request) answer the same way every time
    if 400 <= a.status < 500:
        return QueryError(a.describe(), **a.ids())
    # fatal: 1xx/3xx are not answers a GraphQL endpoint gives; a misconfigured URL
    if not 200 <= a.status < 300:
        return QueryError(f"unexpected {a.describe()}", **a.ids())
    return None


def _errors_in_body(a: Answer) -> GitHubError | None:
    if not a.errors:
        return None
    # retried smaller: data *and* errors means GitHub cut the query short; never a success
    if a.has_data:
        return PartialDataError(f"partial data: {a.describe()}", **a.ids())
    # fatal: errors without data are validation errors ("Field 'x' doesn't exist on type 'y'")
    return QueryError(a.describe(), **a.ids())


def _no_data(a: Answer) -> GitHubError | None:
    # retried: a 2xx JSON body with neither data nor errors is not a GraphQL answer
    if not a.has_data:
        return ServerError(f"{a.describe()} without data or errors", **a.ids())
    return None


#: tried in order, first match wins; falling through all of them means a clean success
RULES: tuple[Rule, ...] = (
    _bad_credentials,
    _secondary_limit,
    _primary_limit,
    _server_gave_up,
    _fatal_error_types,
    _client_error,
    _errors_in_body,
    _no_data,
)


def classify_answer(answer: Answer) -> GitHubError | None:
    """Run the rules over a pre-digested answer (see ``classify``)."""
    for rule in RULES:
        error = rule(answer)
        if error is not None:
            return error
    return None


def classify(
    status: int, headers: Mapping[str, str], body: bytes, *, context: str = ""
) -> GitHubError | None:
    """The typed error for one HTTP answer from GitHub, or None for a clean success.

    >>> err = classify(200, {"X-GitHub-Request-Id": "AB:12"},
    ...                b'{"data":{"repository":null},"errors":[{"type":"NOT_FOUND",'
    ...                b'"message":"Could not resolve to a Repository."}]}',
    ...                context="a/b page 1")
    >>> type(err).__name__, err.request_id
    ('NotFound', 'AB:12')
    >>> str(err)
    'a/b page 1 Could not resolve to a Repository. (X-GitHub-Request-Id: AB:12)'
    """
    answer = Answer(status, lower_headers(headers), parse_json_object(body), len(body), context)
    return classify_answer(answer)


# --- the App's token exchange (POST /app/installations/{id}/access_tokens) ------------------


def _token_bad_jwt(a: Answer) -> GitHubError | None:
    # fatal: GitHub rejected the App's JWT (wrong app_id or key, or our clock is off by
    # minutes); a new JWT from the same key and clock is rejected the same way
    if a.status == 401:
        return BadCredentials(
            f"the GitHub App's JWT was rejected: {a.describe()} (check app_id, the private "
            "key, and this machine's clock)", **a.ids()
        )
    return None


def _token_missing_installation(a: Answer) -> GitHubError | None:
    # fatal: no such installation for this App (wrong installation_id, or uninstalled)
    if a.status == 404:
        return NotFound(
            f"installation not found: {a.describe()} (check installation_id, and that the "
            "App is still installed)", **a.ids()
        )
    return None


def _token_refused(a: Answer) -> GitHubError | None:
    # fatal: 403 (suspended App) and 422 (token_permissions beyond the installation's)
    # answer the same way until someone changes the App's settings
    if a.status == 403:
        return Forbidden(f"installation token refused: {a.describe()}", **a.ids())
    if 400 <= a.status < 500:
        return QueryError(f"installation token refused: {a.describe()}", **a.ids())
    return None


def _token_server_trouble(a: Answer) -> GitHubError | None:
    # retried: a 5xx or a body without a token is GitHub's side failing this once
    payload = a.payload or {}
    if a.status >= 500 or not isinstance(payload.get("token"), str) or not payload.get(
        "expires_at"
    ):
        return TokenExchangeFailed(
            f"no installation token in the answer: HTTP {a.status}", **a.ids()
        )
    return None


#: the token endpoint's answers, first match wins; falling through means a fresh token
TOKEN_RULES: tuple[Rule, ...] = (
    _secondary_limit,
    _token_bad_jwt,
    _token_missing_installation,
    _token_refused,
    _token_server_trouble,
)


def classify_token_answer(
    status: int, headers: Mapping[str, str], body: bytes, *, context: str = ""
) -> GitHubError | None:
    """The typed error for an answer of the installation-token endpoint, or None when it
    holds a token. Never echoes the body of a success (it *is* the secret).

    >>> type(classify_token_answer(401, {}, b'{"message":"A JSON web token could not be '
    ...                            b'decoded"}')).__name__
    'BadCredentials'
    >>> classify_token_answer(201, {}, b'{"token":"t","expires_at":"2026-01-01T00:00:00Z"}')
    """
    answer = Answer(status, lower_headers(headers), parse_json_object(body), len(body), context)
    for rule in TOKEN_RULES:
        error = rule(answer)
        if error is not None:
            return error
    return None


# --- no answer at all: the host cannot be reached ---------------------------------------------


@dataclass(frozen=True)
class Unreachable:
    """Why a request got no HTTP answer at all, when that is the host's address's fault."""

    reason: str
    #: fatal even after the host has answered before (else only on first contact)
    always: bool = False


def exception_chain(exc: BaseException, limit: int = 12) -> tuple[BaseException, ...]:
    """``exc`` and what it wraps: requests' ``ConnectionError`` holds urllib3's
    ``MaxRetryError``, whose ``reason`` is ``NewConnectionError`` (``NameResolutionError``),
    raised from the socket's ``ConnectionRefusedError`` or ``gaierror``."""
    found: list[BaseException] = []
    todo = [exc]
    while todo and len(found) < limit:
        item = todo.pop(0)
        if any(item is seen for seen in found):
            continue
        found.append(item)
        inner = [item.__cause__, item.__context__, getattr(item, "reason", None),
                 *(a for a in item.args[:1] if isinstance(a, BaseException))]
        todo += [i for i in inner if isinstance(i, BaseException)]
    return tuple(found)


TransportRule = Callable[[tuple[BaseException, ...]], "Unreachable | None"]


def _bad_certificate(chain: tuple[BaseException, ...]) -> Unreachable | None:
    # fatal, even after earlier answers: a certificate that does not verify (self-signed,
    # expired, issued for another name) fails every handshake until someone replaces it
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            detail = item.verify_message or item.reason or "certificate verify failed"
            return Unreachable(f"TLS certificate problem: {detail}", always=True)
    return None


def _name_does_not_resolve(chain: tuple[BaseException, ...]) -> Unreachable | None:
    # fatal on first contact: the host's name does not resolve (a typo in the connection's
    # host, or a name only a VPN knows); any try fails the same way
    for item in chain:
        if isinstance(item, socket.gaierror) or any(
                cls.__name__ == "NameResolutionError" for cls in type(item).__mro__):
            return Unreachable("name does not resolve")
    return None


def _refused(chain: tuple[BaseException, ...]) -> Unreachable | None:
    # fatal on first contact: nothing listens at that host and port (a wrong port, or
    # GitHub Enterprise Server's address mistyped); any try is refused the same way
    if any(isinstance(item, ConnectionRefusedError) for item in chain):
        return Unreachable("connection refused")
    return None


#: tried in order on a failed exchange's exception chain; no match: retried as before
#: (timeouts, resets, cut-off bodies)
TRANSPORT_RULES: tuple[TransportRule, ...] = (
    _bad_certificate,
    _name_does_not_resolve,
    _refused,
)


def unreachable(exc: BaseException) -> Unreachable | None:
    """Why ``exc`` (a requests exception) means the host cannot be reached, or None.

    A proxy's failure is not the connection's host's: it stays a retriable failure.

    >>> unreachable(ConnectionRefusedError(111, "Connection refused"))
    Unreachable(reason='connection refused', always=False)
    >>> unreachable(TimeoutError("timed out")) is None
    True
    """
    chain = exception_chain(exc)
    if any(type(item).__name__ == "ProxyError" for item in chain):
        return None
    for rule in TRANSPORT_RULES:
        found = rule(chain)
        if found is not None:
            return found
    return None


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, how errors name the host (never a user or
    password written into the URL).

    >>> origin("https://ghe.example.com/api/graphql")
    'https://ghe.example.com'
    >>> origin("http://user:secret@127.0.0.1:8080/graphql")
    'http://127.0.0.1:8080'
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return url
    if ":" in host:
        host = f"[{host}]"  # IPv6
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def host_unreachable(found: Unreachable, url: str, *, conn_id: str | None = None,
                     context: str = "") -> HostUnreachable:
    """The fatal error for ``found``, naming the host and the connection.

    >>> str(host_unreachable(Unreachable("connection refused"), "http://127.0.0.1:9/graphql",
    ...                      conn_id="github_default"))
    'cannot reach http://127.0.0.1:9 (connection github_default): connection refused'
    """
    where = origin(url)
    named = f"{where} (connection {conn_id})" if conn_id else where
    cls = BadCertificate if found.always else HostUnreachable
    return cls(f"cannot reach {named}: {found.reason}", host=where, conn_id=conn_id,
               reason=found.reason, context=context)


def first_contact_failure(exc: BaseException | Unreachable, url: str, *, reached: bool,
                          conn_id: str | None = None, context: str = "") -> HostUnreachable | None:
    """``HostUnreachable`` when ``exc`` shows the host cannot be reached and that is fatal:
    always for a bad certificate, otherwise only before the host's first answer
    (``reached`` False); None when the failure stays retriable.

    >>> refused = ConnectionRefusedError(111, "Connection refused")
    >>> type(first_contact_failure(refused, "http://h:1/graphql", reached=False)).__name__
    'HostUnreachable'
    >>> first_contact_failure(refused, "http://h:1/graphql", reached=True) is None
    True
    """
    found = exc if isinstance(exc, Unreachable) else unreachable(exc)
    if found is None or (reached and not found.always):
        return None
    return host_unreachable(found, url, conn_id=conn_id, context=context)


# --- waits ----------------------------------------------------------------------------------


def seconds_until(moment: datetime, now: datetime) -> float:
    """Seconds from ``now`` to ``moment``, never negative."""
    return max(0.0, (moment - now).total_seconds())


def waits_for_reset(error: GitHubError) -> bool:
    """True when the wait for ``error`` runs until the primary-limit reset time."""
    if isinstance(error, PrimaryRateLimited):
        return error.reset_at is not None
    if isinstance(error, SecondaryRateLimited):
        return error.retry_after is None and error.reset_at is not None
    return False


def retry_wait(
    error: GitHubError,
    *,
    nth: int,
    settings: ClientSettings,
    now: datetime,
    rand: float = 0.5,
) -> float:
    """Seconds to wait before retrying ``error``, its ``nth`` occurrence in this call.

    - secondary limit: ``retry-after``; else until ``x-ratelimit-reset`` when remaining is 0;
      else ``secondary_min_wait * 2**(nth-1)``, plus up to 25% jitter (never below the minimum);
    - primary limit: until ``x-ratelimit-reset`` plus ``reset_margin`` (the secondary backoff
      when GitHub sent no reset time);
    - anything else: exponential backoff with equal jitter, capped at ``backoff_max``.

    ``rand`` is a number in [0, 1) (the jitter source, injectable for tests).

    >>> from datetime import timedelta
    >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> retry_wait(PrimaryRateLimited("x", reset_at=now + timedelta(seconds=30)),
    ...            nth=1, settings=ClientSettings(reset_margin=1.0), now=now)
    31.0
    """
    if isinstance(error, SecondaryRateLimited) and error.retry_after is not None:
        return error.retry_after
    if waits_for_reset(error):
        reset_at = error.reset_at  # type: ignore[attr-defined]
        return seconds_until(reset_at, now) + settings.reset_margin
    if isinstance(error, (SecondaryRateLimited, PrimaryRateLimited)):
        return settings.secondary_min_wait * 2 ** (nth - 1) * (1.0 + 0.25 * rand)
    cap = min(settings.backoff_max, settings.backoff_base * 2 ** (nth - 1))
    return cap / 2 + cap / 2 * rand
