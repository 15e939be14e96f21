"""The raw store on S3 for real: the whole DAG writes its pages to a local S3 server (moto)
through an Airflow ``aws`` connection, and the load reads them back through fsspec (DuckDB's
httpfs cannot be installed offline)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.ports import free_port

from .conftest import task_states

pytestmark = pytest.mark.e2e

BUCKET = "pr-warehouse-test"
CONN_ID = "aws_test"


@pytest.fixture()
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on loopback, with an empty bucket."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x",
                 aws_secret_access_key="y").create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        server.stop()


def test_dag_writes_pages_to_s3_and_loads_them_back(make_pipeline, s3_endpoint: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    pipeline = make_pipeline(data_tests=False)
    # Override the file:// store make_pipeline set: s3://<conn_id>@<bucket>/<prefix>.
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps({
        "conn_type": "aws", "login": "x", "password": "y",
        "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
    }))
    monkeypatch.setenv("PR_WAREHOUSE_RAW_URL", f"s3://{CONN_ID}@{BUCKET}/raw")
    repos = sorted(r.name_with_owner for r in pipeline.world.repositories()
                   if r.owner.login == "acme" and not r.is_archived)[:2]
    expected_prs = sum(len(r.pull_requests) for r in pipeline.world.repositories()
                       if r.name_with_owner in repos)
    assert expected_prs > 0

    run = pipeline.run({"repos": repos, "page_size": 20})
    states = task_states(run)
    assert str(run.state) == "success", states

    # The pages really are objects in the bucket (nothing fell back to a local folder).
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                      aws_access_key_id="x", aws_secret_access_key="y")
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix="raw/runs/") for o in page.get("Contents", [])]
    for repo in repos:
        owner, name = repo.split("/")
        pages = [k for k in keys
                 if f"/{owner}/{name}/pages/" in k and not k.endswith(".meta.json")]
        assert pages, f"no page of {repo} in s3://{BUCKET}/raw: {keys[:20]}"
        assert any(k.endswith(f"/{owner}/{name}/manifest.json") for k in keys)
    assert any(k.endswith("/plan.json") for k in keys)
    assert not pipeline.raw_dir.exists(), "pages went to the local folder, not S3"

    # The load read every page back from S3 into raw, and dbt built the marts from it.
    loaded = dict(pipeline.query(
        "select repo, count(*) from raw.pull_requests group by repo"))
    assert sorted(loaded) == repos
    assert sum(loaded.values()) == expected_prs
    facts = pipeline.query(
        "select count(*), count(distinct repo) from analytics.fct_pull_requests")[0]
    assert facts == (expected_prs, len(repos))
    page_keys = pipeline.query("select distinct page_key from raw.pull_requests")
    assert all(k.startswith("runs/") for (k,) in page_keys)
