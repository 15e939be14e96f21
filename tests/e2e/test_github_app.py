"""The DAG with the Airflow GitHub provider's connection shapes: a GitHub App whose
installation tokens expire mid-extract, a GHES-style host, and several tokens (one nearly
spent, one revoked mid-run)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from app_keys import APP_ID, INSTALLATION_ID, key_pair
from tests.support.connections import ghes_host, github_conn

from .conftest import TOKEN, task_states
from .truth import assert_warehouse_matches, repositories

pytestmark = pytest.mark.e2e

TOKEN_ENDPOINT = "create-an-installation-access-token"
SECOND_TOKEN = "e2e-second-token-4a7c9e2b"


def app_credentials(lifetime: float, sink: Any = None) -> Any:
    from github_emulator import Credentials, GitHubApp

    app = GitHubApp(APP_ID, key_pair()[1], frozenset({INSTALLATION_ID}))
    return Credentials(set(), apps=[app], token_lifetime_seconds=lifetime, secret_sink=sink)


def the_repo(pipeline: Any, name: str) -> list[Any]:
    return [r for r in repositories(pipeline.world) if r.name_with_owner == name]


@pytest.mark.slow
def test_an_app_whose_tokens_expire_mid_extract_loads_everything_once(
        make_pipeline: Any, tmp_path: Path) -> None:
    from github_emulator import LatencyModel

    key_file = tmp_path / "app.pem"
    key_file.write_text(key_pair()[0])
    # Tokens live 12 s, so the client replaces them 3 s ahead (a quarter of the lifetime),
    # every 9 s; the listing pages' latency (20 pages) makes the one extract last > 20 s: at
    # least two refreshes inside it (the run's other queries answer at once: they would only
    # add minutes).
    pipeline = make_pipeline(
        data_tests=False,
        credentials=app_credentials(lifetime=12),
        latency=LatencyModel(base_seconds=1.2, operations=frozenset({"RepositoryPullRequests"})),
        connection=lambda server: github_conn(
            ghes_host(server), None, conn_type="github",
            extra={"app_id": APP_ID, "installation_id": str(INSTALLATION_ID),
                   "key_path": str(key_file)}),
    )
    run = pipeline.run({"repos": ["acme/api"], "page_size": 15})
    assert str(run.state) == "success", task_states(run)
    assert_warehouse_matches(pipeline, the_repo(pipeline, "acme/api"))

    entries = pipeline.emulator.ledger.entries
    pages = [e for e in entries if e.operation_name == "RepositoryPullRequests"]
    assert pages[-1].received_at - pages[0].received_at > 20, "the extract was too short"
    # Tokens were replaced ahead of expiry: never a 401, and the extract's pages went out
    # with at least three tokens (two refreshes in the middle of one client's extract).
    assert [e for e in entries if e.status == 401] == []
    assert len({e.credential for e in pages}) >= 3, Counter(e.credential for e in pages)
    # Every page was fetched exactly once (none lost, none refetched after a refresh).
    cursors = [(e.variables or {}).get("after") for e in pages if e.status == 200]
    assert len(cursors) == len(set(cursors)) == len(pages)


def test_a_provider_style_connection_with_a_token_reaches_the_ghes_graphql_path(
        make_pipeline: Any) -> None:
    pipeline = make_pipeline(data_tests=False, connection=lambda server: github_conn(
        ghes_host(server), TOKEN, conn_type="github"))
    run = pipeline.run({"repos": ["acme/docs"]})
    assert str(run.state) == "success", task_states(run)
    assert_warehouse_matches(pipeline, the_repo(pipeline, "acme/docs"))
    assert pipeline.emulator.ledger.requests > 0
    assert all(e.status == 200 for e in pipeline.emulator.ledger.entries)


def two_token_connection(server: Any) -> dict[str, Any]:
    return github_conn(server.url, TOKEN, conn_type="github", extra={"tokens": [SECOND_TOKEN]})


def test_two_tokens_spend_from_the_one_with_points_left(make_pipeline: Any) -> None:
    from github_emulator import Credentials

    credentials = Credentials({TOKEN, SECOND_TOKEN}, quotas={SECOND_TOKEN: 10})
    pipeline = make_pipeline(credentials=credentials, connection=two_token_connection,
                             data_tests=False)
    run = pipeline.run({"repos": ["acme/web", "acme/infra"], "page_size": 10})
    assert str(run.state) == "success", task_states(run)
    assert_warehouse_matches(pipeline, the_repo(pipeline, "acme/web")
                             + the_repo(pipeline, "acme/infra"))
    poor, rich = pipeline.emulator.rate_for(SECOND_TOKEN), pipeline.emulator.rate_for(TOKEN)
    assert poor is not None and rich is not None
    # Each client (the plan's, one per extract) asks the 10-point token once, which tells
    # it the budget, and spends from the other from then on: never a rate limit.
    assert poor.used <= 3 and poor.remaining >= 7, poor
    assert rich.used >= 12 and rich.used > 4 * poor.used, rich
    assert not [e for e in pipeline.emulator.ledger.entries if e.error_type == "RATE_LIMITED"]


def test_a_token_revoked_mid_run_is_dropped_and_the_run_succeeds(make_pipeline: Any,
                                                                 caplog: Any) -> None:
    from github_emulator import Credentials

    caplog.set_level("WARNING")
    credentials = Credentials({TOKEN, SECOND_TOKEN})
    credentials.revoke(TOKEN, after_requests=4)  # the plan's probe and a few pages, then 401
    pipeline = make_pipeline(credentials=credentials, connection=two_token_connection,
                             data_tests=False)
    run = pipeline.run({"repos": ["acme/web", "acme/infra"], "page_size": 10})
    assert str(run.state) == "success", task_states(run)
    assert_warehouse_matches(pipeline, the_repo(pipeline, "acme/web")
                             + the_repo(pipeline, "acme/infra"))
    entries = pipeline.emulator.ledger.entries
    assert [e.status for e in entries].count(401) >= 1
    assert {e.credential for e in entries if e.status == 200} == {"token 1", "token 2"}
    dropped = [r.getMessage() for r in caplog.records if "dropped it" in r.getMessage()]
    assert dropped and all("connection 'github_default' (password)" in m for m in dropped)
    assert all(TOKEN not in r.getMessage() and SECOND_TOKEN not in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize(("extra", "expected"), [
    ({"app_id": APP_ID, "installation_id": "7", "key_path": "/nowhere/app.pem"},
     "InvalidConnection: connection 'github_default': extra key_path '/nowhere/app.pem' cannot "
     "be read"),
    ({"app_id": APP_ID, "key_path": "/nowhere/app.pem"},
     "InvalidConnection: connection 'github_default': extra app_id is set but installation_id "
     "is not"),
], ids=["unreadable-key-path", "no-installation-id"])
def test_a_broken_app_connection_fails_fast_naming_it(make_pipeline: Any, extra: dict[str, Any],
                                                     expected: str) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from pr_warehouse.options import RunOptions
    from pr_warehouse.pipeline import plan

    pipeline = make_pipeline(connection=lambda server: github_conn(
        ghes_host(server), None, conn_type="github", extra=extra))
    # AirflowFailException: no Airflow retries, the same connection fails the same way.
    with pytest.raises(AirflowFailException, match=expected):
        plan(["acme/api"], RunOptions(), "broken-app-run")
    assert pipeline.emulator.ledger.requests == 0


def test_an_app_key_github_does_not_know_fails_after_one_exchange(make_pipeline: Any) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from pr_warehouse.contracts import ExtractBatch, ExtractJob
    from pr_warehouse.options import RunOptions
    from pr_warehouse.pipeline import extract

    pipeline = make_pipeline(
        credentials=app_credentials(lifetime=3600),
        connection=lambda server: github_conn(
            ghes_host(server), None, conn_type="github",
            extra={"app_id": APP_ID, "installation_id": INSTALLATION_ID,
                   "private_key": key_pair("stranger")[0]}))
    with pytest.raises(AirflowFailException,
                       match="BadCredentials.*JWT was rejected.*could not be decoded"):
        extract(ExtractBatch.of([ExtractJob("acme/docs")]), RunOptions(), "unknown-key-run")
    assert [e.operation_name for e in pipeline.emulator.ledger.entries] == [TOKEN_ENDPOINT]
