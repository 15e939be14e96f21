"""The typed hand-offs between the steps: their JSON round-trips, and they match the DAG.

A field renamed on one side of a seam must fail here, not in another process at run time.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from datetime import datetime, timezone

import pytest

from conftest import ROOT
from pr_warehouse.contracts import (
    ContractError,
    ExtractBatch,
    ExtractJob,
    ExtractStatus,
    LoadResult,
    Manifest,
    OrgTeams,
    SyncPlan,
    TeamsManifest,
    TeamsStatus,
    apportion,
    batches_from_xcom,
    manifests_from_xcom,
    planned_repos,
    teams_from_xcom,
)

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def through_xcom(value: object) -> object:
    """What another process reads back: XCom stores JSON."""
    return json.loads(json.dumps(value))


def test_a_batch_round_trips_through_the_mapping_extract_expands() -> None:
    batch = ExtractBatch.of([ExtractJob("acme/api", T0.isoformat()),
                             ExtractJob("acme/web", None, (3, 5))])
    kwargs = through_xcom(batch.task_kwargs())
    assert ExtractBatch.from_task_kwargs(**kwargs) == batch
    assert batches_from_xcom([kwargs]) == [batch]
    assert planned_repos([batch]) == ["acme/api", "acme/web"]
    assert batch.jobs[0].since_time == T0


def test_the_dags_extract_task_takes_exactly_a_batchs_mapping() -> None:
    """``extract.expand_kwargs(plan)`` passes each mapping's keys as the task's arguments."""
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["github_pull_requests"]
    extract = dag.get_task("extract")
    parameters = set(inspect.signature(extract.python_callable).parameters)
    context = {"params", "run_id"}  # filled in by Airflow, not by the plan
    kwargs = ExtractBatch.of([ExtractJob("a/b")]).task_kwargs()
    assert set(kwargs) == parameters - context


def test_every_manifest_status_round_trips() -> None:
    manifests = [
        Manifest("acme/api", run_key="r", pages=["k1"], event_pages=["e1"], points_spent=3,
                 review_comment_pages=["c1", "cf1"],
                 retries={"server_error": 1}, numbers=[4], check_pages=["c1"],
                 deploy_pages=["d1"], deploy_points=1),
        Manifest.failed("acme/web", "r", RuntimeError("boom"), T0),
        Manifest.missing("acme/docs", "r"),
        Manifest.skipped("acme/old", "r"),
    ]
    back = manifests_from_xcom(through_xcom([[m.to_json() for m in manifests[:2]], None,
                                             [m.to_json() for m in manifests[2:]]]))
    assert back == manifests
    assert [m.status for m in back] == list(ExtractStatus)
    assert back[1].error == "boom" and back[1].error_class == "RuntimeError"
    assert [m.ok for m in back] == [True, False, False, False]


def test_unknown_or_renamed_fields_are_refused() -> None:
    data = Manifest("a/b").to_json()
    data["points"] = data.pop("points_spent")
    with pytest.raises(ContractError, match="points"):
        Manifest.from_json(data)
    with pytest.raises(ContractError, match="done"):
        Manifest.from_json({**Manifest("a/b").to_json(), "status": "done"})
    with pytest.raises(ContractError, match="labels"):
        ExtractBatch.from_task_kwargs(label="a/b", jobs=[{"repo": "a/b", "labels": []}])
    with pytest.raises(ContractError):
        LoadResult.from_json({"rows": 3})


def test_a_plan_and_a_load_result_round_trip() -> None:
    plan = SyncPlan(extract={"o/a": T0, "o/b": None}, skipped=["o/c"], sizes={"o/a": 3},
                    probe_points=1, probe_requests=1, singles={"o/d": (7,)})
    assert SyncPlan.from_json(through_xcom(plan.to_json())) == plan
    result = LoadResult(pages=2, rows_written=5, repos=["o/a"], failed_repos={"o/b": "x"})
    assert LoadResult.from_json(through_xcom(result.to_json())) == result


def test_a_teams_manifest_round_trips_with_every_status() -> None:
    manifest = TeamsManifest(
        run_key="r", file_path="/srv/projects.yaml", file_teams={"payments": ["alice", "bob"]},
        synced_at=T0.isoformat(),
        orgs=[OrgTeams(org, status=status, pages=[f"runs/r/_orgs/{org}/pages/teams-000001.json"]
                       if status is TeamsStatus.OK else [], synced_at=T0.isoformat())
              for org, status in zip("abcde", TeamsStatus)])
    back = teams_from_xcom(through_xcom(manifest.to_json()))
    assert back == manifest and [o.status for o in back.orgs] == list(TeamsStatus)
    assert [o.org for o in back.failed] == ["e"]
    with pytest.raises(ContractError):
        OrgTeams.from_json({"org": "a", "status": "sideways"})
    with pytest.raises(ContractError):
        TeamsManifest.from_json({"orgs": [], "teams": {}})


def test_every_field_of_every_contract_survives_json() -> None:
    """No field holds a value JSON cannot carry (a datetime, a set) unconverted."""
    for value in (Manifest("a/b"), LoadResult(), SyncPlan(extract={"a/b": T0}), OrgTeams("a"),
                  TeamsManifest(orgs=[OrgTeams("a")])):
        data = value.to_json()
        assert set(data) == {f.name for f in dataclasses.fields(value)}
        json.dumps(data)


@pytest.mark.parametrize("total, weights", [
    (0, [1, 2]), (7, [1]), (7, [3, 3, 1]), (100, [49, 49, 2]), (5, [0, 0, 0]), (3, [10, 0]),
])
def test_apportioned_shares_add_up_and_follow_the_weights(total: int, weights: list[int]) -> None:
    shares = apportion(total, weights)
    assert sum(shares) == total and len(shares) == len(weights)
    if sum(weights):
        exact = [total * w / sum(weights) for w in weights]
        assert all(abs(s - e) < 1 for s, e in zip(shares, exact))
