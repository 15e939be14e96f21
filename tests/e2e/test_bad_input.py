"""Bad input gets a clear error naming the problem, and nothing already collected is lost."""

from __future__ import annotations

import json

import pytest

from pr_warehouse.contracts import ExtractBatch, ExtractJob, Manifest
from pr_warehouse.options import RunOptions

from .conftest import task_states

pytestmark = pytest.mark.e2e


def test_unknown_org_fails_the_run_naming_it(make_pipeline, capfd) -> None:
    pipeline = make_pipeline()
    run = pipeline.run({"orgs": ["no-such-org"]})
    states = task_states(run)
    assert str(run.state) == "failed" and states["resolve_repositories"] == "failed"
    out, err = capfd.readouterr()
    assert "no GitHub organization or user named 'no-such-org'" in out + err
    assert "no plan for this run" in out + err  # downstream says why, not a TypeError
    assert "TypeError" not in out + err
    assert [e.operation_name for e in pipeline.emulator.ledger.entries] == ["OwnerRepositories"]
    assert not pipeline.duckdb_path.exists()  # nothing was written


def test_nothing_to_sync_is_an_error(make_pipeline) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from pr_warehouse.pipeline import resolve_repositories

    make_pipeline()
    # Failing without Airflow's retries: the same input fails the same way every time.
    with pytest.raises(AirflowFailException, match="NoRepositories: nothing to sync"):
        resolve_repositories(RunOptions())
    with pytest.raises(AirflowFailException,
                       match="unknown project 'nope'.*known: antiwork, demo"):
        resolve_repositories(RunOptions(project="nope"))
    with pytest.raises(AirflowFailException, match="'bad name' is not a GitHub repository"):
        resolve_repositories(RunOptions(repos=("bad name",)))


def test_missing_token_is_named_before_any_request(make_pipeline, monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from pr_warehouse.pipeline import plan

    pipeline = make_pipeline()
    monkeypatch.delenv("AIRFLOW_CONN_GITHUB_DEFAULT")
    with pytest.raises(AirflowFailException,
                       match="MissingToken: .*'github_default'.*AIRFLOW_CONN_GITHUB_DEFAULT"):
        plan(["acme/api"], RunOptions(), "no-token-run")
    assert pipeline.emulator.ledger.requests == 0


def extract_one(repo: str, options: RunOptions, run_id: str) -> Manifest:
    """The extract task's body for a batch of one repository, in this process."""
    from pr_warehouse.pipeline import extract

    return extract(ExtractBatch.of([ExtractJob(repo)]), options, run_id)[0]


def test_bad_token_fails_fast_with_a_clear_message(make_pipeline) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    pipeline = make_pipeline(token="wrong-token-value")
    with pytest.raises(AirflowFailException, match="BadCredentials.*Bad credentials"):
        extract_one("acme/docs", RunOptions(), "bad-token-run")
    assert pipeline.emulator.ledger.requests == 1  # no retries: the token won't improve


def test_corrupt_page_is_named_and_the_rest_is_loaded(make_pipeline) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from pr_warehouse.pipeline import load

    pipeline = make_pipeline()
    good = extract_one("acme/web", RunOptions(page_size=50), "corrupt-run")
    docs = extract_one("acme/docs", RunOptions(page_size=50), "corrupt-run")
    broken = pipeline.raw_dir / good.pages[1]
    broken.write_text(broken.read_text()[:100])  # truncated on disk
    batches = [ExtractBatch.of([ExtractJob(r)]) for r in ("acme/web", "acme/docs")]
    with pytest.raises(AirflowFailException) as err:
        load([good, docs], batches, RunOptions(), "corrupt-run")
    assert good.pages[1] in str(err.value) and "not valid JSON" in str(err.value)
    assert "use_cache=false" in str(err.value)
    # Every other page was committed: all of acme/docs, and acme/web's intact pages.
    counts = dict(pipeline.query("select repo, count(*) from raw.pull_requests group by 1"))
    assert counts["acme/docs"] == len(pipeline.world.repo("acme/docs").pull_requests)
    assert counts["acme/web"] == 120 - 50
    assert json.loads(broken.with_suffix(".meta.json").read_text())["page"] == 2
