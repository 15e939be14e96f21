"""Airflow connections to the bundled GitHub emulator, in the JSON form of
``AIRFLOW_CONN_<ID>``.

The plain shape (``conn_type`` ``http``, the GraphQL URL as host, the token as password) is
the product's own :func:`pr_warehouse.cli.github_connection`, what ``pr-warehouse demo`` sets;
:func:`github_conn` adds the GitHub provider's shapes (``conn_type`` ``github``, a GitHub
Enterprise Server REST base as host, App credentials or client tuning in ``extra``).

>>> github_conn("http://127.0.0.1:8000/graphql", "t")
{'conn_type': 'http', 'host': 'http://127.0.0.1:8000/graphql', 'password': 't'}
>>> github_conn("http://127.0.0.1:8000/api/v3", None, conn_type="github", extra={"app_id": 1})
{'conn_type': 'github', 'host': 'http://127.0.0.1:8000/api/v3', 'extra': {'app_id': 1}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from github_emulator import DEFAULT_TOKEN

from pr_warehouse.cli import github_connection

#: The token an emulator started without ``tokens=`` or ``credentials=`` accepts.
EMULATOR_TOKEN = DEFAULT_TOKEN


def github_conn(host: str, token: str | None = EMULATOR_TOKEN, *, conn_type: str = "http",
                extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A GitHub connection as a dict: ``host`` and ``token`` (``None``: no password, e.g. a
    GitHub App's), ``conn_type`` ``http`` (the product's default) or ``github`` (the
    provider's), ``extra`` when given (even empty)."""
    fields: dict[str, Any] = json.loads(github_connection(host, token or ""))
    fields["conn_type"] = conn_type
    if token is None:
        del fields["password"]
    if extra is not None:
        fields["extra"] = dict(extra)
    return fields


def github_conn_env(host: str, token: str | None = EMULATOR_TOKEN, **kwargs: Any) -> str:
    """The ``AIRFLOW_CONN_GITHUB_DEFAULT`` value of :func:`github_conn`.

    >>> json.loads(github_conn_env("http://127.0.0.1:8000/graphql"))["password"] == EMULATOR_TOKEN
    True
    """
    return json.dumps(github_conn(host, token, **kwargs))


def ghes_host(server: Any) -> str:
    """The emulator as the provider's GitHub Enterprise Server form: its REST base."""
    return f"http://127.0.0.1:{server.port}/api/v3"
