"""GitHub App tokens and several tokens, against the real emulator (and the scripted
GitHub for answers the emulator does not give): refresh ahead of expiry, once after a 401,
the token with the most points left, a rejected token dropped by its connection's name."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest

from app_keys import APP_ID, INSTALLATION_ID, key_pair
from github_emulator import CredentialLog, Credentials, EmulatorServer, GitHubApp, build_world
from pr_warehouse.client import (
    AdaptivePageSize,
    AppCredentials,
    BadCredentials,
    ClientSettings,
    GraphQLClient,
    InstallationToken,
    NotFound,
    StaticToken,
    TokenPool,
    refresh_margin,
)
from pr_warehouse.client.auth import JWT_BACKDATE_SECONDS, JWT_LIFETIME_SECONDS, app_jwt

from .scripted import (
    BAD_CREDENTIALS,
    FAST,
    QUERY,
    RATE_LIMITED,
    FakeClock,
    Reply,
    ScriptedGitHub,
    SleepRecorder,
    ok,
    rate_headers,
)

pytestmark = pytest.mark.timeout(60)

VIEWER = "query Viewer { viewer { login } }"


class SharedClock:
    """One moving clock for both sides: the client's (datetime) and the emulator's (epoch)."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def shared_clock() -> SharedClock:
    return SharedClock()


@pytest.fixture
def sink() -> CredentialLog:
    return CredentialLog()


@pytest.fixture
def emulator(shared_clock: SharedClock, sink: CredentialLog) -> Any:
    app = GitHubApp(APP_ID, key_pair()[1], frozenset({INSTALLATION_ID}))
    credentials = Credentials({"pat-plenty", "pat-poor"}, apps=[app], token_lifetime_seconds=20,
                              quotas={"pat-poor": 10}, clock=shared_clock.epoch,
                              secret_sink=sink)
    with EmulatorServer(build_world(), credentials=credentials) as server:
        yield server


def rest_base(server: EmulatorServer) -> str:
    return f"http://127.0.0.1:{server.port}/api/v3"


def app_client(server: EmulatorServer, clock: SharedClock, **settings: Any) -> GraphQLClient:
    tuned = ClientSettings(**{**FAST.__dict__, **settings})
    source = InstallationToken(AppCredentials(APP_ID, INSTALLATION_ID, key_pair()[0]),
                               rest_base(server), "connection 'github_app' (GitHub App)", tuned)
    url = f"http://127.0.0.1:{server.port}/api/graphql"
    return GraphQLClient(url, TokenPool([source]), tuned, clock=clock, sleep=lambda s: None)


def credentials_used(server: EmulatorServer) -> list[str | None]:
    return [e.credential for e in server.ledger.entries if e.operation_name == "Viewer"]


# --- the JWT and the refresh rule ---------------------------------------------------------------


def test_the_jwt_is_rs256_backdated_and_short(shared_clock: SharedClock) -> None:
    from pr_warehouse.client.auth import load_private_key

    token = app_jwt(APP_ID, load_private_key(key_pair()[0], "test"), shared_clock.now)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, key_pair()[1], algorithms=["RS256"])
    now = int(shared_clock.now.timestamp())
    assert claims == {"iat": now - JWT_BACKDATE_SECONDS, "exp": now + JWT_LIFETIME_SECONDS,
                      "iss": APP_ID}
    assert claims["exp"] - now <= 600  # GitHub's cap, from its clock


@pytest.mark.parametrize(("lifetime", "margin"), [(3600, 300), (600, 150), (20, 5), (0, 0)])
def test_refresh_margin_is_five_minutes_or_a_quarter_of_the_lifetime(lifetime: float,
                                                                     margin: float) -> None:
    assert refresh_margin(lifetime, ClientSettings()) == margin


# --- installation tokens against the emulator ---------------------------------------------------


def test_the_installation_token_is_refreshed_before_it_expires(
        emulator: EmulatorServer, shared_clock: SharedClock) -> None:
    with app_client(emulator, shared_clock) as client:
        client.execute(VIEWER)
        shared_clock.advance(14)  # 6 s left: more than the 5 s margin
        client.execute(VIEWER)
        shared_clock.advance(2)  # 4 s left: due
        client.execute(VIEWER)
        shared_clock.advance(16)
        client.execute(VIEWER)
        assert client.tokens.refreshes == 2
    token = f"installation {INSTALLATION_ID} token"
    assert credentials_used(emulator) == [f"{token} 1", f"{token} 1", f"{token} 2", f"{token} 3"]
    assert all(e.status in (200, 201) for e in emulator.ledger.entries)  # never a 401


def test_a_401_refreshes_the_token_once_and_sends_the_same_request_again(
        emulator: EmulatorServer, shared_clock: SharedClock, sink: CredentialLog) -> None:
    with app_client(emulator, shared_clock) as client:
        client.execute(VIEWER)
        first_token = [s for s in sink.seen if s.startswith("ghs_")][0]
        emulator.credentials.revoke(first_token)  # GitHub forgot it early (or clocks disagree)
        sizes = AdaptivePageSize(20)
        answer = client.execute(VIEWER, page_size=sizes, page_size_var="unused")
        assert answer.data == {"viewer": {"login": "emulator-viewer"}} and answer.attempts == 1
        assert sizes.current == 20  # a 401 is not a reason to shrink the page
        assert client.stats.retries["bad_credentials"] == 1
    # (a 401 is answered before the query is read: it has no operation name)
    viewer = [(e.status, e.credential) for e in emulator.ledger.entries
              if e.operation_name != "create-an-installation-access-token"]
    token = f"installation {INSTALLATION_ID} token"
    assert viewer == [(200, f"{token} 1"), (401, None), (200, f"{token} 2")]


def test_a_jwt_github_refuses_is_fatal_and_names_the_app(shared_clock: SharedClock) -> None:
    other_app = GitHubApp("999", key_pair("other")[1])
    credentials = Credentials(set(), apps=[other_app], clock=shared_clock.epoch)
    with EmulatorServer(build_world(), credentials=credentials) as server, \
            app_client(server, shared_clock) as client:
        with pytest.raises(BadCredentials) as raised:
            client.execute(VIEWER)
    message = str(raised.value)
    assert "GitHub App" in message and "A JSON web token could not be decoded" in message
    assert len(server.ledger) == 1  # not retried


def test_an_unknown_installation_is_fatal(emulator: EmulatorServer,
                                          shared_clock: SharedClock) -> None:
    source = InstallationToken(AppCredentials(APP_ID, 12345, key_pair()[0]), rest_base(emulator),
                               "connection 'gh' (GitHub App)", FAST)
    with GraphQLClient(f"http://127.0.0.1:{emulator.port}/api/graphql", TokenPool([source]),
                       FAST, clock=shared_clock) as client, pytest.raises(NotFound,
                                                                         match="installation_id"):
        client.execute(VIEWER)


# --- several tokens -----------------------------------------------------------------------------


def pool(*tokens: str) -> TokenPool:
    return TokenPool([StaticToken(t, f"connection 'github_default' ({t.split('-')[1]})")
                      for t in tokens])


def test_each_request_uses_the_token_with_the_most_points_left(emulator: EmulatorServer) -> None:
    url = f"http://127.0.0.1:{emulator.port}/graphql"
    with GraphQLClient(url, pool("pat-poor", "pat-plenty"), FAST) as client:
        for _ in range(12):
            client.execute(VIEWER)
    poor, plenty = emulator.rate_for("pat-poor"), emulator.rate_for("pat-plenty")
    assert poor is not None and plenty is not None
    # The poor token answered once (which told the client its budget), never again.
    assert (poor.used, plenty.used) == (1, 11)
    assert poor.remaining == 9


def test_a_revoked_token_is_dropped_by_name_and_the_others_carry_on(
        emulator: EmulatorServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    url = f"http://127.0.0.1:{emulator.port}/graphql"
    emulator.credentials.revoke("pat-plenty", after_requests=2)
    with GraphQLClient(url, pool("pat-plenty", "pat-poor"), FAST) as client:
        for _ in range(5):
            client.execute(VIEWER)
        assert client.tokens.dropped == ["connection 'github_default' (plenty)"]
        assert len(client.tokens) == 1
    warnings = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(warnings) == 1
    assert "connection 'github_default' (plenty)" in warnings[0] and "401" in warnings[0]
    assert all("pat-plenty" not in r.getMessage() for r in caplog.records)


def test_when_the_last_token_is_rejected_the_401_names_its_connection(
        emulator: EmulatorServer) -> None:
    url = f"http://127.0.0.1:{emulator.port}/graphql"
    emulator.credentials.revoke("pat-plenty")
    emulator.credentials.revoke("pat-poor")
    with GraphQLClient(url, pool("pat-plenty", "pat-poor"), FAST) as client:
        with pytest.raises(BadCredentials) as raised:
            client.execute(VIEWER, context="acme/api page 1")
    message = str(raised.value)
    assert "Bad credentials" in message and "connection 'github_default'" in message
    assert "pat-" not in message
    assert len(emulator.ledger) == 2  # each token tried once


def test_a_spent_token_hands_over_to_another_without_waiting(github: ScriptedGitHub,
                                                             clock: FakeClock,
                                                             sleeps: SleepRecorder) -> None:
    github.script(
        Reply(body=RATE_LIMITED, headers=rate_headers(0, clock.epoch(3000))),
        Reply(body=ok(), headers=rate_headers(4000, clock.epoch(3000))),
        Reply(body=ok(), headers=rate_headers(3999, clock.epoch(3000))),
    )
    with GraphQLClient(github.url, pool("tok-first-0001", "tok-second-002"), FAST, clock=clock,
                       sleep=sleeps) as client:
        client.execute(QUERY)
        client.execute(QUERY)
    used = [r.headers["Authorization"] for r in github.requests]
    assert used == ["bearer tok-first-0001", "bearer tok-second-002", "bearer tok-second-002"]
    assert sleeps.waits == [0.0]


def test_every_token_spent_waits_for_the_earliest_reset(github: ScriptedGitHub, clock: FakeClock,
                                                        sleeps: SleepRecorder) -> None:
    from pr_warehouse.client import RateLimitWait

    github.script(Reply(body=ok(), headers=rate_headers(0, clock.epoch(900))),
                  Reply(body=ok(), headers=rate_headers(0, clock.epoch(600))))
    with GraphQLClient(github.url, pool("tok-first-0001", "tok-second-002"), FAST, clock=clock,
                       sleep=sleeps) as client:
        client.execute(QUERY)
        client.execute(QUERY)
        with pytest.raises(RateLimitWait) as raised:
            client.execute(QUERY)
    assert raised.value.reset_at == clock.now + timedelta(seconds=600)
    assert len(github.requests) == 2


def test_a_token_exchange_hiccup_is_retried_without_shrinking_the_page(
        github: ScriptedGitHub, clock: FakeClock, sleeps: SleepRecorder) -> None:
    issued = {"token": "ghs_scripted_installation_token_0001",
              "expires_at": (clock.now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    github.script(Reply(502, "<html>bad gateway</html>"), Reply(201, issued), Reply(body=ok()))
    root = github.url.rsplit("/", 1)[0]
    source = InstallationToken(AppCredentials(APP_ID, INSTALLATION_ID, key_pair()[0]), root,
                               "connection 'gh' (GitHub App)", FAST)
    sizes = AdaptivePageSize(40)
    with GraphQLClient(github.url, TokenPool([source]), FAST, clock=clock, sleep=sleeps,
                       rand=lambda: 0.5) as client:
        client.execute(QUERY, page_size=sizes)
        assert client.stats.retries["token_exchange"] == 1
    paths = [r.path for r in github.requests]
    assert paths == [f"/app/installations/{INSTALLATION_ID}/access_tokens"] * 2 + ["/graphql"]
    assert github.requests[2].headers["Authorization"] == f"bearer {issued['token']}"
    assert github.requests[0].headers["Authorization"].startswith("Bearer ey")  # the JWT
    assert sizes.current == 40
    assert sleeps.waits == [0.75]  # backoff with jitter (1 s cap, rand 0.5), as for a 5xx


def test_bad_credentials_body_of_the_graphql_endpoint_is_still_fatal_for_one_token(
        github: ScriptedGitHub, make_client: Any) -> None:
    github.script(Reply(401, BAD_CREDENTIALS))
    with pytest.raises(BadCredentials):
        make_client().execute(QUERY)
    assert len(github.requests) == 1
