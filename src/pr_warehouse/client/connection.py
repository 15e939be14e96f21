"""Build a client from the Airflow connection(s) that hold GitHub's credentials.

The connection has the shape of Airflow's GitHub provider (connection type ``github``;
``http`` works too), so an existing ``github_default`` works unchanged:

- *host*: empty (github.com), GitHub Enterprise Server's REST base ``https://HOST/api/v3``
  (GraphQL is then ``https://HOST/api/graphql``), or a full GraphQL URL (``.../graphql``);
- credentials: a token in *password*; or a GitHub App in the extras ``app_id``,
  ``installation_id``, ``private_key`` (inline PEM) or ``key_path``, optional
  ``token_permissions``; optionally more tokens in the extra ``tokens``;
- client tuning (``read_timeout``, ``points_reserve``, ...) in the extras too.

Several connection ids (``"github_a,github_b"``) pool their tokens: each request goes out
with the one that has the most points left. Airflow is imported inside
``client_from_connection`` only: this module is imported at DAG parse time.

Example (in a task)::

    with client_from_connection() as client:
        client.execute("query { viewer { login } }", context="smoke")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from pr_warehouse.client.auth import (
    AppCredentials,
    InstallationToken,
    StaticToken,
    TokenPool,
    TokenSource,
    load_private_key,
    parse_permissions,
    parse_token_list,
)
from pr_warehouse.client.errors import InvalidConnection, MissingToken
from pr_warehouse.client.graphql import GraphQLClient
from pr_warehouse.client.models import ClientSettings
from pr_warehouse.client.redaction import register_secret
from pr_warehouse.constants import DEFAULT_GITHUB_CONN_ID, GITHUB_GRAPHQL_URL

#: the REST base that goes with GitHub's public GraphQL endpoint
GITHUB_REST_URL = "https://api.github.com"
#: hosts that mean github.com itself
PUBLIC_HOSTS = frozenset({"api.github.com", "github.com", "www.github.com"})
#: extras that configure credentials (the rest may tune ``ClientSettings``)
APP_EXTRAS = ("app_id", "installation_id", "private_key", "key_path", "token_permissions")


@dataclass(frozen=True)
class Endpoints:
    """Where GitHub answers: the GraphQL URL and the REST base (for the App's tokens)."""

    graphql: str
    rest: str


def endpoints(host: str | None) -> Endpoints:
    """GraphQL URL and REST base for a connection's *host*.

    Empty: github.com. A REST base ``.../api/v3`` (the provider's GHES form): GraphQL at
    ``.../api/graphql``. A URL ending in ``graphql``: that URL, REST beside it (``/api/v3``
    on GHES, the root elsewhere). A bare host: github.com's, or GHES's layout. No scheme:
    https.

    >>> endpoints("")
    Endpoints(graphql='https://api.github.com/graphql', rest='https://api.github.com')
    >>> endpoints("https://ghe.example.com/api/v3/")
    Endpoints(graphql='https://ghe.example.com/api/graphql', rest='https://ghe.example.com/api/v3')
    >>> endpoints("http://127.0.0.1:8080/graphql")
    Endpoints(graphql='http://127.0.0.1:8080/graphql', rest='http://127.0.0.1:8080')
    """
    host = (host or "").strip()
    if not host:
        return Endpoints(GITHUB_GRAPHQL_URL, GITHUB_REST_URL)
    if "://" not in host:
        host = f"https://{host}"
    parts = urlsplit(host)
    root = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if path.endswith("/api/v3"):
        base = f"{root}{path[: -len('/api/v3')]}"
        return Endpoints(f"{base}/api/graphql", f"{base}/api/v3")
    if path.endswith("graphql"):
        if path.endswith("/api/graphql"):
            return Endpoints(f"{root}{path}", f"{root}{path[: -len('graphql')]}v3")
        rest = f"{root}{path[: -len('graphql')]}".rstrip("/")
        if parts.hostname in PUBLIC_HOSTS:
            rest = GITHUB_REST_URL
        return Endpoints(f"{root}{path}", rest)
    if not path and parts.hostname in PUBLIC_HOSTS:
        return Endpoints(GITHUB_GRAPHQL_URL, GITHUB_REST_URL)
    return Endpoints(f"{root}{path}/api/graphql", f"{root}{path}/api/v3")


def graphql_url(host: str | None) -> str:
    """The GraphQL URL for a connection's ``host`` (see ``endpoints``).

    >>> graphql_url(None)
    'https://api.github.com/graphql'
    >>> graphql_url("ghe.example.com/api/graphql")
    'https://ghe.example.com/api/graphql'
    >>> graphql_url("https://ghe.example.com/api/v3")
    'https://ghe.example.com/api/graphql'
    """
    return endpoints(host).graphql


def connection_env_var(conn_id: str) -> str:
    """The environment variable Airflow reads a connection from.

    >>> connection_env_var("github_default")
    'AIRFLOW_CONN_GITHUB_DEFAULT'
    """
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def missing_token_message(conn_id: str, problem: str) -> str:
    """How to fix a missing token, naming the connection and the ways to set it."""
    env = connection_env_var(conn_id)
    return (
        f"no GitHub token: Airflow connection {conn_id!r} {problem}. Set it, e.g. "
        f"{env}='{{\"conn_type\": \"github\", \"password\": \"<token>\"}}' (or a GitHub App: "
        "extras app_id, installation_id and private_key or key_path), or export GITHUB_TOKEN "
        "before `make run`"
    )


def settings_from_extra(extra: Mapping[str, object], base: ClientSettings | None = None
                        ) -> ClientSettings:
    """Client settings overridden by the connection's *extra* JSON (unknown keys ignored).

    Operators tune timeouts and waits per deployment without code, e.g. a GitHub Enterprise
    Server with a slower proxy: ``{"read_timeout": 120, "points_reserve": 500}``.

    >>> settings_from_extra({"read_timeout": "5", "page": 1}).read_timeout
    5.0
    """
    base = base or ClientSettings()
    overrides = {}
    for item in fields(ClientSettings):
        if item.name in extra:
            kind = type(getattr(base, item.name))
            overrides[item.name] = kind(extra[item.name])
    return replace(base, **overrides)


@dataclass(frozen=True)
class ConnectionSpec:
    """What one connection says: where GitHub is, its tokens, its App, its tuning."""

    conn_id: str
    endpoints: Endpoints
    tokens: tuple[str, ...] = field(default=(), repr=False)
    app: AppCredentials | None = None
    extra: Mapping[str, object] = field(default_factory=dict, repr=False)

    def label(self, what: str) -> str:
        """How logs and errors name a credential: the connection and which field."""
        return f"connection {self.conn_id!r} ({what})"


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def app_from_extra(conn_id: str, extra: Mapping[str, object],
                   read: Callable[[Path], str] = Path.read_text) -> AppCredentials | None:
    """The GitHub App of a connection's extras, or None when it names none.

    Fails fast, naming the connection and the problem, on a half-configured App.

    >>> app_from_extra("gh", {"app_id": 1})
    Traceback (most recent call last):
    ...
    pr_warehouse.client.errors.InvalidConnection: connection 'gh': extra app_id is set but installation_id is not; a GitHub App needs app_id, installation_id and private_key or key_path
    """
    app_id, installation = _text(extra.get("app_id")), _text(extra.get("installation_id"))
    inline, key_path = _text(extra.get("private_key")), _text(extra.get("key_path"))
    where = f"connection {conn_id!r}"
    if not (app_id or installation or inline or key_path):
        return None
    needs = "a GitHub App needs app_id, installation_id and private_key or key_path"
    if not app_id:
        raise InvalidConnection(f"{where}: GitHub App extras are set but app_id is not; {needs}")
    if not installation:
        raise InvalidConnection(f"{where}: extra app_id is set but installation_id is not; {needs}")
    if not installation.isdigit():
        raise InvalidConnection(f"{where}: extra installation_id must be a number (the one in "
                                "the App installation's settings URL)")
    if inline and key_path:
        raise InvalidConnection(f"{where}: set one of the extras private_key and key_path, "
                                "not both")
    if inline:
        # A PEM pasted into a one-line JSON value often arrives with literal \n.
        pem = inline.replace("\\n", "\n") if "\n" not in inline else inline
        register_secret(inline)
        source = f"{where} extra private_key"
    elif key_path:
        try:
            pem = read(Path(key_path).expanduser())
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise InvalidConnection(
                f"{where}: extra key_path {key_path!r} cannot be read ({reason})") from None
        source = f"{where} key_path {key_path!r}"
    else:
        raise InvalidConnection(f"{where}: extra app_id is set but neither private_key nor "
                                f"key_path is; {needs}")
    register_secret(pem)
    load_private_key(pem, source)  # a bad key fails here, before any request
    permissions = parse_permissions(extra.get("token_permissions"),
                                    f"{where} extra token_permissions")
    return AppCredentials(app_id, int(installation), pem, permissions)


def parse_connection(conn_id: str, *, host: str | None, password: str | None,
                     extra: Mapping[str, object] | None,
                     read: Callable[[Path], str] = Path.read_text) -> ConnectionSpec:
    """A connection's fields, checked: ``MissingToken`` without any credential,
    ``InvalidConnection`` for malformed App extras or ``tokens``.

    With App extras the App authenticates and a *password* is not used (the provider's
    rule); ``tokens`` always add to the pool.

    >>> spec = parse_connection("gh", host="https://ghe.example.com/api/v3",
    ...                         password="ghp_example_pw", extra={"tokens": "ghp_second"})
    >>> spec.endpoints.graphql, len(spec.tokens)
    ('https://ghe.example.com/api/graphql', 2)
    """
    extra = dict(extra or {})
    app = app_from_extra(conn_id, extra, read)
    tokens: list[str] = []
    if password and app is None:
        tokens.append(password)
    if extra.get("tokens"):
        tokens += parse_token_list(extra["tokens"], f"connection {conn_id!r} extra tokens")
    for token in tokens:
        register_secret(token)
    if not tokens and app is None:
        raise MissingToken(missing_token_message(conn_id, "has no password"))
    return ConnectionSpec(conn_id, endpoints(host), tuple(tokens), app, extra)


def token_sources(spec: ConnectionSpec, settings: ClientSettings) -> list[TokenSource]:
    """The pool entries of one connection, each labelled by the connection and field."""
    sources: list[TokenSource] = []
    if spec.app is not None:
        label = spec.label(f"GitHub App {spec.app.app_id}, installation "
                           f"{spec.app.installation_id}")
        sources.append(InstallationToken(spec.app, spec.endpoints.rest, label, settings))
    has_password = spec.app is None and bool(spec.tokens)
    for i, token in enumerate(spec.tokens):
        what = "password" if has_password and i == 0 else f"tokens[{i - has_password}]"
        sources.append(StaticToken(token, spec.label(what)))
    return sources


def split_conn_ids(conn_id: str | Sequence[str]) -> list[str]:
    """One id, several separated by commas, or a list of ids.

    >>> split_conn_ids("github_a, github_b"), split_conn_ids(["github_c"])
    (['github_a', 'github_b'], ['github_c'])
    """
    ids = conn_id.split(",") if isinstance(conn_id, str) else list(conn_id)
    return [i.strip() for i in ids if i.strip()] or [DEFAULT_GITHUB_CONN_ID]


def client_from_specs(specs: Sequence[ConnectionSpec], settings: ClientSettings | None = None
                      ) -> GraphQLClient:
    """A client over every credential of ``specs``; the first one's host and tuning rule.

    Every connection must point at the same GitHub: tokens of one instance mean nothing
    to another.
    """
    first = specs[0]
    for spec in specs[1:]:
        if spec.endpoints.graphql != first.endpoints.graphql:
            raise InvalidConnection(
                f"connections {first.conn_id!r} and {spec.conn_id!r} point at different "
                f"GitHub endpoints ({first.endpoints.graphql} and {spec.endpoints.graphql}); "
                "pooled tokens must belong to one GitHub")
    tuned = settings_from_extra(first.extra, settings)
    pool = TokenPool([s for spec in specs for s in token_sources(spec, tuned)])
    # The ids name the connection in errors about its host (``HostUnreachable``).
    return GraphQLClient(first.endpoints.graphql, pool, tuned,
                         conn_id=", ".join(spec.conn_id for spec in specs))


def client_from_connection(
    conn_id: str | Sequence[str] = DEFAULT_GITHUB_CONN_ID, settings: ClientSettings | None = None
) -> GraphQLClient:
    """A ``GraphQLClient`` for the Airflow connection ``conn_id`` (or several, pooled).

    Raises ``MissingToken`` when a connection does not exist or holds no credential, and
    ``InvalidConnection`` when it is malformed, before any request. Its requests raise
    ``HostUnreachable`` naming the host and ``conn_id`` when the host cannot be reached.
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    _mask_with_airflow()
    specs = []
    for one in split_conn_ids(conn_id):
        try:
            conn = BaseHook.get_connection(one)
        except AirflowNotFoundException:
            raise MissingToken(missing_token_message(one, "is not defined")) from None
        specs.append(parse_connection(one, host=conn.host, password=conn.password,
                                      extra=conn.extra_dejson or {}))
    return client_from_specs(specs, settings)


def _mask_with_airflow() -> None:
    """Secrets made at run time (JWTs, installation tokens) also go to Airflow's masker,
    which covers every task-log line, not only this package's loggers."""
    from pr_warehouse.client.redaction import add_secret_hook

    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - older SDKs: our own filter still applies
        return
    add_secret_hook(mask_secret)
