"""``client_from_connection``: the Airflow connection's host and credentials (the GitHub
provider's shape: token in password, or a GitHub App in the extras), or a clear error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app_keys import APP_ID, INSTALLATION_ID, key_pair
from pr_warehouse.client import (
    ClientSettings,
    InvalidConnection,
    MissingToken,
    client_from_connection,
    endpoints,
    graphql_url,
    parse_connection,
)

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


# --- the Airflow GitHub provider's connection shape ---------------------------------------------


@pytest.mark.parametrize(
    ("host", "graphql", "rest"),
    [
        ("", "https://api.github.com/graphql", "https://api.github.com"),
        ("https://api.github.com", "https://api.github.com/graphql", "https://api.github.com"),
        ("https://api.github.com/graphql", "https://api.github.com/graphql",
         "https://api.github.com"),
        ("https://ghe.corp.example/api/v3", "https://ghe.corp.example/api/graphql",
         "https://ghe.corp.example/api/v3"),
        ("ghe.corp.example/api/v3/", "https://ghe.corp.example/api/graphql",
         "https://ghe.corp.example/api/v3"),
        ("https://ghe.corp.example/api/graphql", "https://ghe.corp.example/api/graphql",
         "https://ghe.corp.example/api/v3"),
        ("https://ghe.corp.example", "https://ghe.corp.example/api/graphql",
         "https://ghe.corp.example/api/v3"),
        ("http://127.0.0.1:8080/graphql", "http://127.0.0.1:8080/graphql", "http://127.0.0.1:8080"),
    ],
)
def test_endpoints_from_every_host_form(host: str, graphql: str, rest: str) -> None:
    found = endpoints(host)
    assert (found.graphql, found.rest) == (graphql, rest)


def _spec(extra: dict, password: str | None = None, files: dict[str, str] | None = None):
    def read(path: Path) -> str:
        if files is None or str(path) not in files:
            raise FileNotFoundError(2, "No such file or directory")
        return files[str(path)]

    return parse_connection("github_app", host="", password=password, extra=extra, read=read)


def test_an_app_connection_with_an_inline_key_or_a_key_path() -> None:
    private = key_pair()[0]
    inline = _spec({"app_id": APP_ID, "installation_id": str(INSTALLATION_ID),
                    "private_key": private.replace("\n", "\\n"),  # pasted into one JSON line
                    "token_permissions": {"pull_requests": "read"}})
    assert inline.app is not None and inline.app.private_key == private
    assert (inline.app.app_id, inline.app.installation_id) == (APP_ID, INSTALLATION_ID)
    assert inline.app.permissions == {"pull_requests": "read"}
    assert private not in repr(inline)
    from_file = _spec({"app_id": int(APP_ID), "installation_id": INSTALLATION_ID,
                       "key_path": "/keys/app.pem"}, files={"/keys/app.pem": private})
    assert from_file.app is not None and from_file.app.private_key == private


def test_the_app_wins_over_a_password_and_tokens_add_up() -> None:
    spec = _spec({"app_id": APP_ID, "installation_id": 1, "private_key": key_pair()[0],
                  "tokens": ["ghp_extra_one", "ghp_extra_two"]}, password="ghp_ignored")
    assert spec.app is not None and spec.tokens == ("ghp_extra_one", "ghp_extra_two")
    assert "ghp_" not in repr(spec)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"app_id": "1"}, "extra app_id is set but installation_id is not"),
        ({"installation_id": "5", "private_key": "x"}, "GitHub App extras are set but app_id is not"),
        ({"app_id": "1", "installation_id": "5"}, "neither private_key nor key_path"),
        ({"app_id": "1", "installation_id": "five", "key_path": "/k"},
         "installation_id must be a number"),
        ({"app_id": "1", "installation_id": "5", "key_path": "/nowhere/app.pem"},
         "key_path '/nowhere/app.pem' cannot be read (No such file or directory)"),
        ({"app_id": "1", "installation_id": "5", "private_key": "-----BEGIN RSA PRIVATE KEY-----"
          "\nnot-base64\n-----END RSA PRIVATE KEY-----"},
         "extra private_key is not a PEM-encoded RSA private key"),
        ({"app_id": "1", "installation_id": "5", "private_key": "k", "key_path": "/k"},
         "one of the extras private_key and key_path, not both"),
        ({"tokens": [""]}, "extra tokens must be a list of tokens"),
        ({"app_id": "1", "installation_id": "5", "key_path": "/keys/app.pem",
          "token_permissions": "read everything"}, "token_permissions must be an object"),
    ],
)
def test_bad_app_extras_fail_fast_naming_the_connection(extra: dict, expected: str) -> None:
    files = {"/keys/app.pem": key_pair()[0]}
    with pytest.raises(InvalidConnection) as raised:
        _spec(extra, files=files)
    message = str(raised.value)
    assert "connection 'github_app'" in message and expected in message
    assert raised.value.retriable is False and raised.value.__cause__ is None
    assert "PRIVATE KEY-----\n" not in message


def test_no_credential_at_all_is_missing_token() -> None:
    with pytest.raises(MissingToken, match="'github_app' has no password.*app_id"):
        _spec({"read_timeout": 5})


def test_a_provider_style_connection_reaches_the_ghes_graphql_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from github_emulator import DEFAULT_TOKEN, EmulatorServer, build_world

    with EmulatorServer(build_world()) as server:
        host = f"http://127.0.0.1:{server.port}/api/v3"
        _conn(monkeypatch, conn_type="github", host=host, password=DEFAULT_TOKEN)
        with client_from_connection() as client:
            assert client.url == f"http://127.0.0.1:{server.port}/api/graphql"
            assert client.execute("query Who { viewer { login } }").data == {
                "viewer": {"login": "emulator-viewer"}}
    assert [e.status for e in server.ledger.entries] == [200]


def test_several_connection_ids_pool_their_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    _conn(monkeypatch, "github_a", host="http://127.0.0.1:1/graphql", password="ghp_a_token",
          extra=json.dumps({"tokens": "ghp_a2_token", "read_timeout": 7}))
    _conn(monkeypatch, "github_b", host="http://127.0.0.1:1/graphql", password="ghp_b_token")
    with client_from_connection("github_a, github_b") as client:
        labels = [slot.label for slot in client.tokens.slots]
        assert labels == ["connection 'github_a' (password)", "connection 'github_a' (tokens[0])",
                          "connection 'github_b' (password)"]
        assert client.settings.read_timeout == 7  # the first connection tunes the client
    _conn(monkeypatch, "github_c", host="https://elsewhere.example/api/v3", password="ghp_c")
    with pytest.raises(InvalidConnection, match="'github_a' and 'github_c' point at different"):
        client_from_connection(["github_a", "github_c"])
