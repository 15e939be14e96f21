"""The emulator's GitHub App flow over real HTTP: JWT checks with GitHub's answers,
installation tokens that expire, per-token and per-installation quotas, revocation, and
the GitHub Enterprise Server layout (``/api/graphql``, ``/api/v3``)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests

from app_keys import APP_ID, INSTALLATION_ID, key_pair
from github_emulator import (
    DEFAULT_TOKEN,
    CredentialLog,
    Credentials,
    EmulatorServer,
    GitHubApp,
    World,
)

QUERY = "{ viewer { login } }"


class Clock:
    """Wall time the test moves: the emulator's expiry checks read it."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def signed(claims: dict[str, Any], key_name: str = "app") -> str:
    return jwt.encode(claims, key_pair(key_name)[0], algorithm="RS256")


def claims(now: float, **override: Any) -> dict[str, Any]:
    return {"iat": int(now) - 60, "exp": int(now) + 540, "iss": APP_ID, **override}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sink() -> CredentialLog:
    return CredentialLog()


@pytest.fixture
def app_server(world: World, clock: Clock, sink: CredentialLog) -> Any:
    app = GitHubApp(APP_ID, key_pair()[1], frozenset({INSTALLATION_ID}), points_per_hour=100)
    credentials = Credentials({"pat-one", "pat-two"}, apps=[app], token_lifetime_seconds=20,
                              quotas={"pat-two": 10}, clock=clock, secret_sink=sink)
    with EmulatorServer(world, credentials=credentials) as server:
        yield server


def base(server: EmulatorServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def exchange(server: EmulatorServer, token: str | None, installation: int = INSTALLATION_ID,
             prefix: str = "/api/v3") -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{base(server)}{prefix}/app/installations/{installation}/access_tokens"
    return requests.post(url, headers=headers, timeout=10)


def graphql(server: EmulatorServer, token: str, path: str = "/graphql") -> requests.Response:
    return requests.post(f"{base(server)}{path}", json={"query": QUERY},
                         headers={"Authorization": f"bearer {token}"}, timeout=10)


def test_a_valid_jwt_gets_an_installation_token_that_works_on_both_layouts(
        app_server: EmulatorServer, clock: Clock, sink: CredentialLog) -> None:
    answer = exchange(app_server, signed(claims(clock.now)))
    assert answer.status_code == 201
    body = answer.json()
    assert body["token"].startswith("ghs_") and len(body["token"]) == 40
    assert body["repository_selection"] == "all"
    expires = time.mktime(time.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert clock.now + 18 <= expires <= clock.now + 20
    for path in ("/graphql", "/api/graphql"):
        assert graphql(app_server, body["token"], path).json() == {
            "data": {"viewer": {"login": "emulator-viewer"}}}
    # github.com's layout too: the REST base is the root there.
    assert exchange(app_server, signed(claims(clock.now)), prefix="").status_code == 201
    assert body["token"] in sink.seen  # the tests' leak scan learns every secret
    credentials = [e.credential for e in app_server.ledger.entries]
    assert credentials == ["installation 77", f"installation {INSTALLATION_ID} token 1",
                           f"installation {INSTALLATION_ID} token 1", "installation 77"]


@pytest.mark.parametrize(("make", "message"), [
    (lambda now: signed(claims(now), key_name="intruder"), "A JSON web token could not be decoded"),
    (lambda now: signed(claims(now, iss="999")), "A JSON web token could not be decoded"),
    (lambda now: "not.a.jwt", "A JSON web token could not be decoded"),
    (lambda now: signed(claims(now, iat=int(now) - 700, exp=int(now) - 100)),
     "'Expiration time' claim ('exp') must be a numeric value representing the future time "
     "at which the assertion expires"),
    (lambda now: signed(claims(now, exp=int(now) + 660)),
     "'Expiration time' claim ('exp') is too far in the future"),
    (lambda now: signed(claims(now, iat=int(now) + 300, exp=int(now) + 500)),
     "'Issued at' claim ('iat') must be an Integer representing the time that the assertion "
     "was issued"),
], ids=["wrong-key", "wrong-iss", "garbage", "expired", "exp-too-far", "iat-in-future"])
def test_bad_jwts_get_401_with_githubs_words(app_server: EmulatorServer, clock: Clock,
                                             make: Any, message: str) -> None:
    answer = exchange(app_server, make(clock.now))
    assert answer.status_code == 401
    assert answer.json() == {"message": message, "documentation_url": "https://docs.github.com/rest"}
    assert app_server.ledger.last is not None and app_server.ledger.last.error_type == "BAD_JWT"


def test_unknown_installation_is_404_and_no_jwt_is_401(app_server: EmulatorServer,
                                                       clock: Clock) -> None:
    assert exchange(app_server, signed(claims(clock.now)), installation=5).status_code == 404
    assert exchange(app_server, None).status_code == 401


def test_an_expired_installation_token_is_bad_credentials(app_server: EmulatorServer,
                                                          clock: Clock) -> None:
    token = exchange(app_server, signed(claims(clock.now))).json()["token"]
    clock.now += 19.5
    assert graphql(app_server, token).status_code == 200
    clock.now += 1
    expired = graphql(app_server, token)
    assert expired.status_code == 401
    assert expired.json() == {"message": "Bad credentials",
                              "documentation_url": "https://docs.github.com/graphql"}


def test_tokens_of_one_installation_share_its_quota(app_server: EmulatorServer,
                                                    clock: Clock) -> None:
    first = exchange(app_server, signed(claims(clock.now))).json()["token"]
    second = exchange(app_server, signed(claims(clock.now))).json()["token"]
    assert graphql(app_server, first).headers["x-ratelimit-remaining"] == "99"
    assert graphql(app_server, second).headers["x-ratelimit-remaining"] == "98"
    assert graphql(app_server, second).headers["x-ratelimit-limit"] == "100"


def test_each_personal_token_has_its_own_quota(app_server: EmulatorServer) -> None:
    assert graphql(app_server, "pat-one").headers["x-ratelimit-remaining"] == "4999"
    assert graphql(app_server, "pat-two").headers["x-ratelimit-remaining"] == "9"
    assert graphql(app_server, "pat-one").headers["x-ratelimit-remaining"] == "4998"
    two = app_server.rate_for("pat-two")
    assert two is not None and (two.limit, two.remaining) == (10, 9)
    assert app_server.rate_for("never-used") is None


def test_a_token_revoked_after_some_requests_then_gets_401(app_server: EmulatorServer) -> None:
    app_server.credentials.revoke("pat-one", after_requests=2)
    statuses = [graphql(app_server, "pat-one").status_code for _ in range(3)]
    assert statuses == [200, 200, 401]
    assert graphql(app_server, "pat-two").status_code == 200


def test_the_default_server_still_takes_its_token_and_no_other(server: EmulatorServer) -> None:
    assert graphql(server, DEFAULT_TOKEN).status_code == 200
    assert graphql(server, DEFAULT_TOKEN, "/api/graphql").status_code == 200
    assert graphql(server, "someone-else").status_code == 401
    # No App is registered: any JWT is refused.
    assert exchange(server, signed(claims(time.time()))).status_code == 401
