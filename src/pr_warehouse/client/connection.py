"""Build a client from the Airflow connection that holds the GitHub token.

The connection (default ``github_default``) keeps the token in ``password`` and the full
GraphQL URL in ``host`` (empty: GitHub's public API). Airflow is imported inside the function
only: this module is imported at DAG parse time.

Example (in a task)::

    with client_from_connection() as client:
        client.execute("query { viewer { login } }", context="smoke")

Set the connection with ``AIRFLOW_CONN_GITHUB_DEFAULT='{"conn_type": "http",
"password": "<token>"}'`` (``make run`` builds it from ``GITHUB_TOKEN``). Its *extra* JSON may
override any ``ClientSettings`` field (``{"read_timeout": 120, "points_reserve": 500}``).
"""

from __future__ import annotations

from dataclasses import fields, replace

from pr_warehouse.client.errors import MissingToken
from pr_warehouse.client.graphql import GraphQLClient
from pr_warehouse.client.models import ClientSettings
from pr_warehouse.constants import DEFAULT_GITHUB_CONN_ID, GITHUB_GRAPHQL_URL



def graphql_url(host: str | None) -> str:
    """The GraphQL URL for a connection's ``host``: empty -> GitHub; no scheme -> https.

    >>> graphql_url(None)
    'https://api.github.com/graphql'
    >>> graphql_url("ghe.example.com/api/graphql")
    'https://ghe.example.com/api/graphql'
    >>> graphql_url("http://127.0.0.1:8080/graphql")
    'http://127.0.0.1:8080/graphql'
    """
    host = (host or "").strip()
    if not host:
        return GITHUB_GRAPHQL_URL
    if "://" not in host:
        return f"https://{host}"
    return host


def missing_token_message(conn_id: str, problem: str) -> str:
    """How to fix a missing token, naming the connection and both ways to set it."""
    env = f"AIRFLOW_CONN_{conn_id.upper()}"
    return (
        f"no GitHub token: Airflow connection {conn_id!r} {problem}. Set it, e.g. "
        f"{env}='{{\"conn_type\": \"http\", \"host\": \"{GITHUB_GRAPHQL_URL}\", "
        f"\"password\": \"<token>\"}}', or export GITHUB_TOKEN before `make run`"
    )


def settings_from_extra(extra: dict[str, object], base: ClientSettings | None = None
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


def client_from_connection(
    conn_id: str = DEFAULT_GITHUB_CONN_ID, settings: ClientSettings | None = None
) -> GraphQLClient:
    """A ``GraphQLClient`` for the URL and token of Airflow connection ``conn_id``.

    Raises ``MissingToken`` when the connection does not exist or has no password.
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise MissingToken(missing_token_message(conn_id, "is not defined")) from None
    if not conn.password:
        raise MissingToken(missing_token_message(conn_id, "has no password"))
    return GraphQLClient(graphql_url(conn.host), conn.password,
                         settings_from_extra(conn.extra_dejson or {}, settings))
