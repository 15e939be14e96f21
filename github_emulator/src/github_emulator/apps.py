"""Who a request is: personal access tokens, GitHub Apps and their installation tokens.

GitHub's App flow, played for real:

- an App is registered here with its *public* key (the emulator never sees the private key);
- ``POST /app/installations/{id}/access_tokens`` (``/api/v3/...`` on the GHES layout) with
  ``Authorization: Bearer <JWT>``: the JWT must be RS256, signed with the App's key, ``iss``
  the App's id, ``iat`` not in the future, ``exp`` in the future and at most 10 minutes
  ahead; otherwise 401 with GitHub's message. A known App with an unknown installation: 404;
- the answer (201) is GitHub's ``{"token", "expires_at", "permissions",
  "repository_selection"}``; a token lives ``token_lifetime_seconds`` (GitHub: one hour),
  then, like a revoked one, gets 401 "Bad credentials".

Quotas: each personal token has its own primary budget (``quotas`` gives one its own points
per hour); every token of one installation shares the installation's budget, as on GitHub.
Only digests of tokens are kept; ``secret_sink`` (tests only) receives every JWT and token
the emulator sees or makes, so a leak scan knows what to look for.

>>> creds = Credentials({"emulator-token"})
>>> creds.admit("emulator-token").key == creds.admit("emulator-token").key
True
>>> creds.admit("wrong-token") is None
True
"""

from __future__ import annotations

import hashlib
import secrets
import string
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: GitHub's cap on a JWT's ``exp``, measured from its own clock
MAX_JWT_SECONDS = 600
#: how far in the future an ``iat`` may be (clock drift) before GitHub refuses it
IAT_LEEWAY_SECONDS = 60
REST_DOCS_URL = "https://docs.github.com/rest"
TOKEN_DOCS_URL = (
    "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"
)
UNDECODABLE = "A JSON web token could not be decoded"
EXPIRED_JWT = ("'Expiration time' claim ('exp') must be a numeric value representing the "
               "future time at which the assertion expires")
EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
IAT_INVALID = ("'Issued at' claim ('iat') must be an Integer representing the time that the "
               "assertion was issued")


#: what an App is granted unless told otherwise: no *Members* permission, so no teams
DEFAULT_APP_PERMISSIONS: tuple[tuple[str, str], ...] = (("metadata", "read"),
                                                        ("pull_requests", "read"))


def digest(token: str) -> str:
    """SHA-256 of a token: what the emulator keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_installation_token() -> str:
    """A token shaped like GitHub's: ``ghs_`` and 36 letters or digits."""
    alphabet = string.ascii_letters + string.digits
    return "ghs_" + "".join(secrets.choice(alphabet) for _ in range(36))


@dataclass(frozen=True)
class GitHubApp:
    """An App: its id (the JWT's ``iss``), its public key (PEM), its installations, and
    optionally an installation quota other than the server's ``points_per_hour``."""

    app_id: str
    public_key: str
    installations: frozenset[int] = frozenset({1})
    points_per_hour: int | None = None
    #: what the App was granted (an installation token gets these, or the subset it asks
    #: for); ``members: read`` lets it read organizations' teams
    permissions: tuple[tuple[str, str], ...] = DEFAULT_APP_PERMISSIONS


@dataclass(frozen=True)
class Identity:
    """Who sent a request: ``key`` owns the quota, ``label`` names the credential in the
    ledger (never the token itself)."""

    key: str
    label: str
    points_per_hour: int | None = None
    #: ``"token"`` (a personal access token) or ``"installation"`` (a GitHub App's)
    kind: str = "token"
    #: a classic token's scopes; None: not limited by scopes (what most tests want)
    scopes: frozenset[str] | None = None
    #: an installation token's permissions, as ``(name, level)`` pairs
    permissions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TokenAnswer:
    """The token endpoint's answer: HTTP status and JSON body."""

    status: int
    body: dict[str, Any]
    error_type: str | None = None


@dataclass
class _Issued:
    identity: Identity
    expires_at: float
    installation_id: int


@dataclass
class _Static:
    identity: Identity
    requests: int = 0
    revoke_after: int | None = None


class Credentials:
    """The tokens and Apps a server accepts. Thread-safe.

    ``tokens``: personal tokens (``None``: any non-empty token, each with its own budget).
    ``apps``: GitHub Apps whose installations may get tokens. ``clock`` is wall time.
    """

    def __init__(
        self,
        tokens: Collection[str] | None = frozenset({"emulator-token"}),
        *,
        apps: Sequence[GitHubApp] = (),
        token_lifetime_seconds: float = 3600.0,
        quotas: Mapping[str, int] | None = None,
        scopes: Mapping[str, Collection[str]] | None = None,
        clock: Callable[[], float] = time.time,
        token_factory: Callable[[], str] = new_installation_token,
        secret_sink: Callable[[str], None] | None = None,
    ) -> None:
        self.apps = {str(app.app_id): app for app in apps}
        self.token_lifetime_seconds = token_lifetime_seconds
        self._clock = clock
        self._token_factory = token_factory
        self._sink = secret_sink
        self._lock = threading.Lock()
        self._any = tokens is None
        quotas = {digest(t): q for t, q in (quotas or {}).items()}
        # A classic token's scopes (``{"ghp_x": ["repo"]}``: no read:org, so no teams).
        granted = {digest(t): frozenset(s) for t, s in (scopes or {}).items()}
        self._static: dict[str, _Static] = {}
        for n, token in enumerate(sorted(tokens or ()), start=1):
            d = digest(token)
            self._static[d] = _Static(Identity(f"token:{d}", f"token {n}", quotas.get(d),
                                               scopes=granted.get(d)))
        self._issued: dict[str, _Issued] = {}
        self.issued_per_installation: dict[int, int] = {}

    # -- GraphQL requests -----------------------------------------------------------------

    def label_for(self, token: str) -> str | None:
        """The ledger label of a configured personal token (for tests' assertions)."""
        entry = self._static.get(digest(token))
        return entry.identity.label if entry else None

    def admit(self, token: str) -> Identity | None:
        """The identity behind ``token`` for one request, or None (401): unknown, expired
        or revoked. Counts the request toward a scheduled revocation."""
        d = digest(token)
        with self._lock:
            static = self._static.get(d)
            if static is not None:
                if static.revoke_after is not None and static.requests >= static.revoke_after:
                    return None
                static.requests += 1
                return static.identity
            issued = self._issued.get(d)
            if issued is not None:
                return issued.identity if self._clock() < issued.expires_at else None
            if self._any and token:
                return Identity(f"token:{d}", f"token {d[:8]}")
        return None

    def revoke(self, token: str, *, after_requests: int = 0) -> None:
        """Revoke a personal token now, or once it has served ``after_requests`` more."""
        with self._lock:
            static = self._static.get(digest(token))
            if static is None:
                self._issued.pop(digest(token), None)
                return
            static.revoke_after = static.requests + after_requests

    # -- the App flow ---------------------------------------------------------------------

    def issue(self, authorization: str | None, installation_id: int,
              permissions: Mapping[str, str] | None = None) -> TokenAnswer:
        """Answer ``POST /app/installations/{installation_id}/access_tokens``."""
        scheme, _, jwt_text = (authorization or "").strip().partition(" ")
        jwt_text = jwt_text.strip()
        if scheme.lower() not in ("bearer", "token") or not jwt_text:
            return _unauthorized(UNDECODABLE, "BAD_JWT")
        if self._sink is not None:
            self._sink(jwt_text)
        app, problem = self.verify_jwt(jwt_text)
        if app is None:
            return _unauthorized(problem, "BAD_JWT")
        if installation_id not in app.installations:
            return TokenAnswer(404, {"message": "Not Found", "documentation_url": TOKEN_DOCS_URL},
                               "NOT_FOUND")
        token = self._token_factory()
        if self._sink is not None:
            self._sink(token)
        now = self._clock()
        expires = now + self.token_lifetime_seconds
        with self._lock:
            serial = self.issued_per_installation.get(installation_id, 0) + 1
            self.issued_per_installation[installation_id] = serial
            # The token gets what it asks for among the App's grants (everything the App
            # was granted when it asks for nothing).
            granted = dict(app.permissions)
            given = ({k: v for k, v in permissions.items() if k in granted} if permissions
                     else granted)
            identity = Identity(f"installation:{installation_id}",
                                f"installation {installation_id} token {serial}",
                                app.points_per_hour, kind="installation",
                                permissions=tuple(sorted(given.items())))
            self._issued[digest(token)] = _Issued(identity, expires, installation_id)
        body = {
            "token": token,
            # whole seconds, rounded down: a client trusting it is never late
            "expires_at": datetime.fromtimestamp(int(expires), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "permissions": given,
            "repository_selection": "all",
        }
        return TokenAnswer(201, body)

    def verify_jwt(self, text: str) -> tuple[GitHubApp | None, str]:
        """``(app, "")`` for a JWT GitHub would accept, else ``(None, GitHub's message)``.

        The signature is checked with PyJWT against the App's public key; the times are
        checked here, with GitHub's rules and words.
        """
        import jwt

        try:
            header = jwt.get_unverified_header(text)
            claims = jwt.decode(text, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None, UNDECODABLE
        app = self.apps.get(str(claims.get("iss")))
        if header.get("alg") != "RS256" or app is None:
            return None, UNDECODABLE
        try:
            jwt.decode(text, app.public_key, algorithms=["RS256"],
                       options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
        except jwt.PyJWTError:
            return None, UNDECODABLE
        now = self._clock()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or iat > now + IAT_LEEWAY_SECONDS:
            return None, IAT_INVALID
        if not isinstance(exp, (int, float)) or exp <= now:
            return None, EXPIRED_JWT
        if exp > now + MAX_JWT_SECONDS:
            return None, EXP_TOO_FAR
        return app, ""


def _unauthorized(message: str, error_type: str) -> TokenAnswer:
    return TokenAnswer(401, {"message": message, "documentation_url": REST_DOCS_URL}, error_type)


@dataclass
class CredentialLog:
    """Tests' helper: collects what ``secret_sink`` receives (JWTs, issued tokens)."""

    seen: list[str] = field(default_factory=list)

    def __call__(self, secret: str) -> None:
        self.seen.append(secret)
