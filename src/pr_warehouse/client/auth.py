"""Who the client is to GitHub: personal tokens and GitHub App installation tokens, and the
pool that picks one for each request.

- ``StaticToken``: a token from a connection's *password* or its ``tokens`` extra.
- ``InstallationToken``: a GitHub App signs a short JWT with its private key and trades it
  for an installation access token (``POST {rest}/app/installations/{id}/access_tokens``);
  that token lives about an hour, so it is replaced ahead of expiry (``refresh_margin``)
  and once more when GitHub answers 401 anyway.
- ``TokenPool``: each request goes out with the token that has the most points left; each
  token's ``remaining``/``reset`` is tracked on its own; a token GitHub rejects (401) is
  refreshed once if it can be, else dropped with a warning that names its connection.

Every secret (key, JWT, token) is registered with ``redaction`` as soon as it exists and
appears in no message, repr or log line: labels name the connection, never the value.

>>> pool = TokenPool([StaticToken("ghp_first_token_1", "connection 'a' (password)"),
...                   StaticToken("ghp_second_token_2", "connection 'a' (tokens[0])")])
>>> now = datetime.now(timezone.utc)
>>> first = pool.choose(now)
>>> pool.record(first, remaining=10, reset_at=now + timedelta(hours=1))
>>> pool.choose(now).label  # the other one has not told us its budget yet: more, maybe
"connection 'a' (tokens[0])"
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import requests

from pr_warehouse.client.classify import (
    classify_token_answer,
    parse_iso_utc,
    parse_json_object,
    unreachable,
)
from pr_warehouse.client.errors import InvalidConnection, TokenExchangeFailed
from pr_warehouse.client.models import ClientSettings
from pr_warehouse.client.redaction import redact, register_secret

log = logging.getLogger(__name__)

#: GitHub's advice: date ``iat`` 60 s back, so a server clock a little behind ours accepts it
JWT_BACKDATE_SECONDS = 60
#: GitHub rejects an ``exp`` more than 10 minutes ahead of *its* clock; 9 minutes leaves a
#: minute for ours running ahead (the JWT is used once, right away)
JWT_LIFETIME_SECONDS = 540
#: GitHub's REST media type and API version for the token exchange
REST_ACCEPT = "application/vnd.github+json"
REST_API_VERSION = "2022-11-28"


# --- the GitHub App ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AppCredentials:
    """A GitHub App installation: ``app_id`` (or the App's client ID: GitHub accepts either
    as the JWT's ``iss``), ``installation_id``, the PEM private key (kept out of the repr)
    and optional ``permissions`` to narrow the installation token (``{"pull_requests":
    "read"}``).

    >>> AppCredentials("123", 456, "-----BEGIN RSA PRIVATE KEY-----...")
    AppCredentials(app_id='123', installation_id=456, permissions=None)
    """

    app_id: str
    installation_id: int
    private_key: str = field(repr=False)
    permissions: Mapping[str, str] | None = None


def load_private_key(pem: str, where: str) -> Any:
    """The RSA private key in ``pem``; ``InvalidConnection`` naming ``where`` otherwise.

    The error never quotes the key, and cryptography's own exception is not chained.

    >>> load_private_key("not a key", "connection 'x' extra private_key")
    Traceback (most recent call last):
    ...
    pr_warehouse.client.errors.InvalidConnection: connection 'x' extra private_key is not a PEM-encoded RSA private key (a GitHub App's key file starts with -----BEGIN RSA PRIVATE KEY-----)
    """
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    problem = (f"{where} is not a PEM-encoded RSA private key (a GitHub App's key file "
               "starts with -----BEGIN RSA PRIVATE KEY-----)")
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnicodeError):
        raise InvalidConnection(problem) from None
    if not isinstance(key, RSAPrivateKey):
        raise InvalidConnection(problem)
    return key


def jwt_claims(app_id: str, now: datetime) -> dict[str, Any]:
    """The claims GitHub wants in an App's JWT: ``iat`` 60 s back, ``exp`` 9 min ahead,
    ``iss`` the App.

    >>> from datetime import timezone
    >>> jwt_claims("123", datetime(2026, 1, 1, tzinfo=timezone.utc))
    {'iat': 1767225540, 'exp': 1767226140, 'iss': '123'}
    """
    epoch = int(now.timestamp())
    return {"iat": epoch - JWT_BACKDATE_SECONDS, "exp": epoch + JWT_LIFETIME_SECONDS,
            "iss": str(app_id)}


def app_jwt(app_id: str, key: Any, now: datetime) -> str:
    """An RS256 JWT for the App, signed with its private ``key`` (PyJWT + cryptography)."""
    import jwt

    return jwt.encode(jwt_claims(app_id, now), key, algorithm="RS256")


def refresh_margin(lifetime: float, settings: ClientSettings) -> float:
    """How long before expiry a token is replaced: ``token_refresh_margin`` (5 min), or
    ``token_refresh_fraction`` (1/4) of its lifetime when that is shorter, so a short-lived
    token is not "due" the moment it arrives.

    >>> refresh_margin(3600, ClientSettings()), refresh_margin(20, ClientSettings())
    (300.0, 5.0)
    """
    return min(settings.token_refresh_margin, max(0.0, lifetime) * settings.token_refresh_fraction)


# --- token sources ----------------------------------------------------------------------------


class TokenSource(Protocol):
    """Where a bearer token comes from. ``label`` names the connection, never the token."""

    label: str

    def token(self, now: datetime) -> str:
        """The token to send now (fetching or replacing it when needed)."""

    def refresh(self, now: datetime) -> bool:
        """Get a new token now; ``False`` when this source cannot (a static token)."""

    def close(self) -> None:
        """Release what the source holds (HTTP sessions)."""


class StaticToken:
    """A token someone configured: a personal access token, or any token GitHub accepts.

    >>> StaticToken("ghp_example_value", "connection 'github_default' (password)")
    StaticToken(connection 'github_default' (password))
    """

    def __init__(self, token: str, label: str) -> None:
        register_secret(token)
        self._token = token
        self.label = label

    def __repr__(self) -> str:
        return f"StaticToken({self.label})"

    def token(self, now: datetime) -> str:
        return self._token

    def refresh(self, now: datetime) -> bool:
        return False  # nothing to refresh it from: a rejected one is dropped

    def close(self) -> None:
        return None


class InstallationToken:
    """A GitHub App installation token, fetched on first use and replaced ``refresh_margin``
    before it expires (and on demand after a 401).

    ``rest_url`` is the REST base (``https://api.github.com``, ``https://HOST/api/v3``).
    ``refreshes`` counts replacements after the first token.
    """

    def __init__(
        self,
        app: AppCredentials,
        rest_url: str,
        label: str,
        settings: ClientSettings = ClientSettings(),
        *,
        session: requests.Session | None = None,
        key: Any = None,
    ) -> None:
        register_secret(app.private_key)
        self.app = app
        self.label = label
        self.url = f"{rest_url.rstrip('/')}/app/installations/{app.installation_id}/access_tokens"
        self.settings = settings
        self.refreshes = 0
        self._key = key if key is not None else load_private_key(app.private_key, label)
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._token: str | None = None
        self._due: datetime | None = None
        self.expires_at: datetime | None = None

    def __repr__(self) -> str:
        return f"InstallationToken({self.label}, expires_at={self.expires_at})"

    def token(self, now: datetime) -> str:
        if self._token is None or self._due is None or now >= self._due:
            self._fetch(now)
        assert self._token is not None
        return self._token

    def refresh(self, now: datetime) -> bool:
        self._fetch(now)
        return True

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def _fetch(self, now: datetime) -> None:
        """Trade a fresh JWT for an installation token; raise a typed ``GitHubError``."""
        signed = app_jwt(self.app.app_id, self._key, now)
        register_secret(signed)
        headers = {"Authorization": f"Bearer {signed}", "Accept": REST_ACCEPT,
                   "X-GitHub-Api-Version": REST_API_VERSION,
                   "User-Agent": self.settings.user_agent}
        body = {"permissions": dict(self.app.permissions)} if self.app.permissions else None
        s = self.settings
        try:
            reply = self._session.post(self.url, json=body, headers=headers,
                                       timeout=(s.connect_timeout, s.read_timeout))
        except requests.RequestException as exc:
            # retried: the exchange never reached GitHub, or its answer never reached us
            # (unless the host cannot be reached at all: the client decides, see ``unreachable``)
            raise TokenExchangeFailed(
                f"installation token request failed ({type(exc).__name__}: {redact(str(exc))})",
                context=self.label, unreachable=unreachable(exc), url=self.url) from None
        error = classify_token_answer(reply.status_code, reply.headers, reply.content,
                                      context=self.label)
        if error is not None:
            error.message = redact(error.message)
            error.args = tuple(redact(a) if isinstance(a, str) else a for a in error.args)
            raise error
        payload = parse_json_object(reply.content) or {}
        token, expires_at = str(payload["token"]), parse_iso_utc(payload["expires_at"])
        if expires_at is None:
            raise TokenExchangeFailed("the installation token came without a readable "
                                      "expires_at", context=self.label)
        register_secret(token)
        first = self._token is None
        self._token, self.expires_at = token, expires_at
        lifetime = (expires_at - now).total_seconds()
        margin = refresh_margin(lifetime, self.settings)
        self._due = expires_at - timedelta(seconds=margin)
        if not first:
            self.refreshes += 1
        log.info("%s: %s installation token, valid until %s (replaced %.0fs before)",
                 self.label, "new" if first else "refreshed", expires_at.isoformat(), margin)


# --- the pool ---------------------------------------------------------------------------------


@dataclass
class TokenSlot:
    """One source and what GitHub last said about its budget.

    ``last_used`` is ``(x-ratelimit-used, x-ratelimit-reset)`` of its last answer, for cost
    deltas; ``retried_401`` is set after a refresh forced by a 401, until the next success.
    """

    source: TokenSource
    remaining: int | None = None
    reset_at: datetime | None = None
    last_used: tuple[int, int | None] | None = None
    retried_401: bool = False

    @property
    def label(self) -> str:
        return self.source.label

    def points_left(self, now: datetime) -> float:
        """Points this token may still spend; unknown (or past its reset) counts as plenty,
        so a fresh token is tried, and its answer tells us its real budget."""
        if self.remaining is None or self.reset_at is None or now >= self.reset_at:
            return float("inf")
        return float(self.remaining)


class TokenPool:
    """The client's tokens: picks one per request, tracks each one's budget, drops the
    ones GitHub rejects. Not thread-safe (one client per worker, like the client).
    """

    def __init__(self, sources: Sequence[TokenSource]) -> None:
        if not sources:
            raise InvalidConnection("no GitHub token: the token pool is empty")
        self.slots = [TokenSlot(source) for source in sources]
        self.dropped: list[str] = []

    def __repr__(self) -> str:
        return f"TokenPool({', '.join(slot.label for slot in self.slots)})"

    def __len__(self) -> int:
        return len(self.slots)

    def choose(self, now: datetime) -> TokenSlot:
        """The token with the most points left (the first of equals: a stable order)."""
        return max(self.slots, key=lambda slot: slot.points_left(now))

    def record(self, slot: TokenSlot, *, remaining: int, reset_at: datetime) -> None:
        """What an answer to ``slot``'s token said about its budget."""
        slot.remaining, slot.reset_at = remaining, reset_at

    def succeeded(self, slot: TokenSlot) -> None:
        slot.retried_401 = False

    def usable(self, now: datetime, reserve: int) -> bool:
        """Whether any token may spend now (above ``reserve``, and above 0)."""
        return any(slot.points_left(now) >= max(reserve, 1) for slot in self.slots)

    def next_reset(self) -> datetime | None:
        """The earliest reset among the tokens (when spending can start again)."""
        resets = [slot.reset_at for slot in self.slots if slot.reset_at is not None]
        return min(resets) if resets else None

    def recover(self, slot: TokenSlot, now: datetime, context: str) -> bool:
        """After a 401 on ``slot``: refresh it once, else drop it while others remain.

        ``True``: send again (with the refreshed token or another one); ``False``: no
        token is left to try, the 401 is final.
        """
        if not slot.retried_401 and slot.source.refresh(now):
            slot.retried_401 = True
            log.warning("%s: 401 Bad credentials with %s; got a new installation token and "
                        "sending again", context, slot.label)
            return True
        if len(self.slots) == 1:
            return False  # kept: the next call gets the same clear 401
        self.slots.remove(slot)
        self.dropped.append(slot.label)
        slot.source.close()
        log.warning("%s: GitHub rejected the token from %s (401 Bad credentials: revoked or "
                    "expired); dropped it, going on with %d other token(s)",
                    context, slot.label, len(self.slots))
        return True

    def close(self) -> None:
        for slot in self.slots:
            slot.source.close()

    @property
    def refreshes(self) -> int:
        """Installation tokens replaced so far (ahead of expiry or after a 401)."""
        return sum(getattr(slot.source, "refreshes", 0) for slot in self.slots)


def as_pool(token: str | TokenPool) -> TokenPool:
    """A pool for a plain token string (the client's original signature), or ``token``.

    >>> as_pool("ghp_plain_token_x")
    TokenPool(the client's token)
    """
    if isinstance(token, TokenPool):
        return token
    return TokenPool([StaticToken(token, "the client's token")])


def parse_token_list(value: object, where: str) -> list[str]:
    """The ``tokens`` extra: a JSON list of strings, or one string separated by commas,
    spaces or newlines (what fits a secrets backend's single value).

    >>> parse_token_list("ghp_a1, ghp_b2\\nghp_c3", "x"), parse_token_list(["ghp_d4"], "x")
    (['ghp_a1', 'ghp_b2', 'ghp_c3'], ['ghp_d4'])
    """
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
        raise InvalidConnection(f"{where} must be a list of tokens (strings) or one string "
                                "of tokens separated by commas")
    return [t.strip() for t in value]


def parse_permissions(value: object, where: str) -> dict[str, str] | None:
    """``token_permissions``: a JSON object (or its text) of permission -> access level.

    >>> parse_permissions('{"pull_requests": "read"}', "x")
    {'pull_requests': 'read'}
    """
    if value in (None, "", {}):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidConnection(f"{where} must be an object like "
                                '{"pull_requests": "read", "metadata": "read"}')
    return {str(k): v for k, v in value.items()}
