"""Typed failures of the GitHub GraphQL API, one class per way GitHub can answer badly.

Each class says in its docstring whether the client retries it and why. Messages carry
the context (repo, page) and GitHub's ``X-GitHub-Request-Id``; they never carry the token.
"""

from __future__ import annotations

from datetime import datetime


class GitHubError(Exception):
    """Base class. ``request_id`` is GitHub's ``X-GitHub-Request-Id`` when one was sent."""

    retriable: bool = False

    def __init__(self, message: str, *, request_id: str | None = None, context: str = "") -> None:
        self.message = message
        self.request_id = request_id
        self.context = context
        parts = [p for p in (context, message) if p]
        if request_id:
            parts.append(f"(X-GitHub-Request-Id: {request_id})")
        super().__init__(" ".join(parts))


# --- retried by the client -------------------------------------------------------------


class ServerError(GitHubError):
    """502/503/504, a body that is not JSON, or "Something went wrong": GitHub's side
    gave up (often its 10 s timeout), so the same query may pass, and a smaller page helps."""

    retriable = True


class RequestTimeout(GitHubError):
    """Our read timeout or a dropped connection: transient, and a smaller page answers faster."""

    retriable = True


class PartialDataError(GitHubError):
    """HTTP 200 with data *and* errors (resources exceeded): never stored as if complete;
    retried with a smaller page."""

    retriable = True


class SecondaryRateLimited(GitHubError):
    """403/429 (or 200) with the secondary-limit message: GitHub asks us to slow down;
    wait ``retry_after`` seconds (or until ``reset_at`` when ``x-ratelimit-remaining`` is 0,
    else >= 60 s, backing off), then retry."""

    retriable = True

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        reset_at: datetime | None = None,
        **kw: object,
    ) -> None:
        self.retry_after = retry_after
        self.reset_at = reset_at
        super().__init__(message, **kw)  # type: ignore[arg-type]


class PrimaryRateLimited(GitHubError):
    """HTTP 200 + ``RATE_LIMITED`` or ``x-ratelimit-remaining: 0``: the hourly points are
    spent; any request before ``reset_at`` is wasted, so wait for the reset."""

    retriable = True

    def __init__(self, message: str, *, reset_at: datetime | None = None, **kw: object) -> None:
        self.reset_at = reset_at
        super().__init__(message, **kw)  # type: ignore[arg-type]


class RateLimitWait(GitHubError):
    """Raised instead of sleeping when the wait until ``reset_at`` is longer than the
    client may block (or the points left fall below the reserve): the caller frees its
    worker slot (Airflow deferral/reschedule) and resumes from its checkpoint."""

    retriable = False

    def __init__(self, message: str, *, reset_at: datetime, **kw: object) -> None:
        self.reset_at = reset_at
        super().__init__(message, **kw)  # type: ignore[arg-type]


# --- fatal: retrying cannot help -------------------------------------------------------


class BadCredentials(GitHubError):
    """401: the token is wrong, expired or revoked; every further request would fail too."""


class NotFound(GitHubError):
    """``NOT_FOUND``: the repository or owner does not exist or the token cannot see it."""


class Forbidden(GitHubError):
    """403 without a rate-limit sign, or ``FORBIDDEN``/``INSUFFICIENT_SCOPES``: the token
    lacks a scope or the organization blocks it (SAML, IP allow list); retrying cannot help."""


class MissingToken(GitHubError):
    """No GitHub token configured (no Airflow connection, or one without a password)."""


class MaxNodeLimitExceeded(GitHubError):
    """``MAX_NODE_LIMIT_EXCEEDED``: the query shape asks too many nodes; a bug in our query."""


class QueryError(GitHubError):
    """Validation or pagination-argument errors (``MISSING_PAGINATION_BOUNDARIES``,
    ``EXCESSIVE_PAGINATION``, unknown fields): the same text fails the same way again."""


class TokenExchangeFailed(GitHubError):
    """5xx, a dropped connection or a malformed answer while trading the App's JWT for an
    installation token: GitHub's side hiccuped, and the GraphQL query was never sent, so it
    is retried with backoff and the page size stays as it is.

    ``unreachable`` says why no HTTP exchange happened at all (refused, no such name, a bad
    certificate) and ``url`` where it went: on a client's first contact the client turns
    that into ``HostUnreachable``."""

    retriable = True

    def __init__(self, message: str, *, unreachable: object = None, url: str | None = None,
                 **kw: object) -> None:
        self.unreachable = unreachable
        self.url = url
        super().__init__(message, **kw)  # type: ignore[arg-type]


class InvalidConnection(GitHubError):
    """The Airflow connection is malformed (``app_id`` without ``installation_id``, no key,
    an unreadable ``key_path``, a key that is not PEM, hosts that disagree): the same
    connection fails the same way on every try, so it fails before any request."""


class HostUnreachable(GitHubError):
    """Before any answer from the host, the connection was refused or its name does not
    resolve: the connection's host is wrong (a typo, a port where nothing listens), and
    every try fails the same way, so it fails at once, naming the host and the connection.
    A connection that drops *after* the host has answered is a ``RequestTimeout``."""

    def __init__(self, message: str, *, host: str, conn_id: str | None = None,
                 reason: str = "", **kw: object) -> None:
        self.host = host
        self.conn_id = conn_id
        self.reason = reason
        super().__init__(message, **kw)  # type: ignore[arg-type]


class BadCertificate(HostUnreachable):
    """The host's TLS certificate does not verify (self-signed, expired, another name):
    fatal whenever it happens, even after earlier answers; a retry cannot fix it."""


class RetriesExhausted(GitHubError):
    """A retriable failure persisted past the client's bounded tries and total wait; the
    Airflow task's own retries take over (resuming from the last stored page)."""

    retriable = True
