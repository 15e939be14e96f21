"""``client_from_connection``: the Airflow connection's host and password, or a clear error."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pr_warehouse.client import ClientSettings, MissingToken, client_from_connection, graphql_url

from .scripted import QUERY, Reply, ScriptedGitHub, ok


def _conn(monkeypatch: pytest.MonkeyPatch, conn_id: str = "github_default", **fields: str) -> None:
    value = json.dumps({"conn_type": "http", **fields})
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)


def test_connection_from_env_json(monkeypatch: pytest.MonkeyPatch) -> None:
    _conn(monkeypatch, host="http://127.0.0.1:1234/graphql", password="tok")
    with client_from_connection() as client:
        assert client.url == "http://127.0.0.1:1234/graphql"
        assert "tok" not in repr(client)


def test_connection_is_used_end_to_end(monkeypatch: pytest.MonkeyPatch,
                                       github: ScriptedGitHub) -> None:
    _conn(monkeypatch, "github_other", host=github.url, password="ghp_from_the_connection")
    github.script(Reply(body=ok()))
    settings = ClientSettings(user_agent="pr-warehouse-test")
    with client_from_connection("github_other", settings) as client:
        assert client.settings.user_agent == "pr-warehouse-test"
        client.execute(QUERY)
    assert github.requests[0].headers["Authorization"] == "bearer ghp_from_the_connection"
    assert github.requests[0].headers["User-Agent"] == "pr-warehouse-test"


def test_empty_host_means_github(monkeypatch: pytest.MonkeyPatch) -> None:
    _conn(monkeypatch, password="ghp_x_default_host")
    with client_from_connection() as client:
        assert client.url == "https://api.github.com/graphql"


def test_missing_connection_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_GITHUB_NOWHERE", raising=False)
    with pytest.raises(MissingToken) as raised:
        client_from_connection("github_nowhere")
    message = str(raised.value)
    assert "'github_nowhere' is not defined" in message
    assert "AIRFLOW_CONN_GITHUB_NOWHERE" in message and "GITHUB_TOKEN" in message


def test_connection_without_password_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _conn(monkeypatch, host="https://api.github.com/graphql")
    expected = "'github_default' has no password.*AIRFLOW_CONN_GITHUB_DEFAULT"
    with pytest.raises(MissingToken, match=expected):
        client_from_connection()


@pytest.mark.parametrize(
    ("host", "url"),
    [
        (None, "https://api.github.com/graphql"),
        ("", "https://api.github.com/graphql"),
        ("  ", "https://api.github.com/graphql"),
        ("api.github.com/graphql", "https://api.github.com/graphql"),
        ("ghe.corp.example/api/graphql", "https://ghe.corp.example/api/graphql"),
        ("http://127.0.0.1:8080/graphql", "http://127.0.0.1:8080/graphql"),
    ],
)
def test_graphql_url(host: str | None, url: str) -> None:
    assert graphql_url(host) == url


def test_importing_the_client_does_not_import_airflow() -> None:
    code = ("import sys, pr_warehouse.client; "
            "print(any(m.startswith('airflow') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "False"
