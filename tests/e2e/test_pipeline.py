"""The whole DAG against the emulator: the marts hold exactly what GitHub (the emulator) served."""

from __future__ import annotations

import pytest

from .conftest import built_resource_types, task_states
from .truth import assert_warehouse_matches, pull_requests, repositories

pytestmark = pytest.mark.e2e


def test_marts_match_ground_truth_and_a_rerun_changes_nothing(make_pipeline) -> None:
    # The models only: test_marts data-tests a build of the same world (a full refresh
    # runs the SQL of a first build), tests/e2e/conftest.py.
    pipeline = make_pipeline(data_tests=False)
    run = pipeline.run({"orgs": ["acme"], "page_size": 100})
    states = task_states(run)
    assert str(run.state) == "success", states
    # One mapped extract per non-archived repo, each named after its repository.
    repos = repositories(pipeline.world)
    assert {k for k in states if k.startswith("extract[")} == {
        f"extract[{r.name_with_owner}]" for r in repos}
    assert "acme/legacy" not in {r.name_with_owner for r in repos}  # archived: not synced
    assert_warehouse_matches(pipeline, repos)
    built = built_resource_types(pipeline)
    assert "model" in built and not {"test", "unit_test"} & built

    special = pipeline.world.special
    prs = pull_requests(repos)
    by_key = {(r, n): row for r, n, *row in pipeline.query(
        "select repo, pr_number, hours_to_first_review, label_count, assignee_count, "
        "review_count, linked_issue_count, author_login, author_kind from analytics.fct_pull_requests")}
    api = "acme/api"
    # Nested lists longer than the query's first page are complete (no silent truncation).
    assert by_key[(api, 2)][1] == len(prs[(api, 2)].labels) == 150
    assert by_key[(api, 3)][2] == 30
    assert by_key[(api, 4)][3] == 120
    assert by_key[(api, 19)][4] == 30
    assert by_key[(api, 1)][0] == 3.0  # reviewed exactly 3 h after opening
    assert by_key[(api, 5)][5:] == ["ghost", "ghost"]  # deleted author kept, as ghost
    assert by_key[(api, 6)][6] == "Bot"
    assert by_key[(api, 17)][1:4] == [0, 0, 0]  # a bare PR is not dropped
    assert special  # the world documents its special cases

    # Histories known by heart (hours after opening; None: still open / nobody known).
    def spans(fact: str, item: str, start: str, end: str, by: str, case: str) -> list[tuple]:
        return pipeline.query(
            f"select s.{item}, datediff('minute', p.created_at, s.{start}) / 60, "
            f"datediff('minute', p.created_at, s.{end}) / 60, s.{by} "
            f"from analytics.{fact} s join analytics.fct_pull_requests p using (pull_request_id) "
            f"where s.repo = ? and s.pr_number = ? order by 2, 1", list(special[case]))
    label, assignee, milestone = (
        ("fct_pull_request_label_spans", "label_name", "added_at", "removed_at", "added_by"),
        ("fct_pull_request_assignee_spans", "assignee_login", "assigned_at", "unassigned_at",
         "assigned_by"),
        ("fct_pull_request_milestone_spans", "milestone_title", "added_at", "removed_at",
         "added_by"))
    assert spans(*label, "label_readded") == [
        ("needs-review", 0, 3, "alice"), ("bug", 1, 2, "bob"), ("bug", 5, None, "carol")]
    assert spans(*assignee, "assignees_swapped") == [
        ("alice", 0, 4, "bob"), ("dave", 1, 2, "bob"), ("carol", 4, None, "bob")]
    assert spans(*milestone, "milestone_reset") == [
        ("v2.0", 1, 2, "carol"), ("v3.0", 3, 5, "dave"), ("v2.0", 5, None, "carol")]
    # From before GitHub recorded such events: no adding event, a span from the opening.
    assert spans(*label, "history_without_events") == [
        ("bug", 0, None, None), ("documentation", 0, 2, None), ("enhancement", 1, None, "dave")]
    assert spans(*assignee, "history_without_events") == [
        ("erin", 0, 3, None), ("frank", 3, None, "dave")]
    assert spans(*milestone, "history_without_events") == [("Backlog", 0, None, None)]

    before = pipeline.query("select * from raw.pull_requests order by node_id")
    marts_before = pipeline.query("select * exclude (loaded_at) "
                                  "from analytics.fct_pull_requests order by pull_request_id")
    # A full refresh refetches everything; loading the same data again changes nothing.
    again = pipeline.run({"orgs": ["acme"], "page_size": 100, "full_refresh": True})
    assert str(again.state) == "success", task_states(again)
    assert pipeline.query("select * from raw.pull_requests order by node_id") == before
    assert pipeline.query("select * exclude (loaded_at) from "
                          "analytics.fct_pull_requests order by pull_request_id") == marts_before


def test_a_missing_repository_fails_alone_and_the_rest_is_loaded(make_pipeline) -> None:
    pipeline = make_pipeline(data_tests=False)
    run = pipeline.run({"repos": ["acme/docs", "acme/does-not-exist"]})
    states = task_states(run)
    assert str(run.state) == "failed"
    assert states["extract[acme/does-not-exist]"] == "failed"
    assert states["extract[acme/docs]"] == "success"
    assert states["load"] == states["transform"] == states["publish"] == "success"
    assert states["check_extracts"] == "failed"
    docs = pipeline.world.repo("acme/docs")
    assert pipeline.query("select count(*) from analytics.fct_pull_requests") == [
        (len(docs.pull_requests),)]
    (status, error), = pipeline.query(
        "select status, error from raw.sync_runs where repo = 'acme/does-not-exist'")
    assert status == "failed"
    assert "Could not resolve to a Repository with the name 'acme/does-not-exist'" in error
    # NOT_FOUND is fatal: exactly one request for that repo, no Airflow retries.
    missing = [e for e in pipeline.emulator.ledger.entries
               if (e.variables or {}).get("name") == "does-not-exist"]
    assert len(missing) == 1


def test_single_pull_requests_are_refetched_and_loaded_the_same_way(make_pipeline) -> None:
    pipeline = make_pipeline(data_tests=False)
    run = pipeline.run({"pull_requests": ["acme/api#2", "acme/web#5", "acme/api#2"]})
    assert str(run.state) == "success", task_states(run)
    rows = pipeline.query("select repo, pr_number, label_count from analytics.fct_pull_requests "
                          "order by repo, pr_number")
    world = pipeline.world
    assert rows == [("acme/api", 2, 150),
                    ("acme/web", 5, len(world.pull_request("acme/web", 5).labels))]
    ops = [e.operation_name for e in pipeline.emulator.ledger.entries]
    assert ops.count("PullRequestByNumber") == 2 and "RepositoryPullRequests" not in ops


@pytest.mark.slow
def test_an_org_with_3000_repositories(make_pipeline) -> None:
    """Thousands of one-page repositories share tasks: 24 of 125 (each at most 1/24 of the
    run's pages, PR_WAREHOUSE_EXTRACT_TASKS_TARGET), well under Airflow's max_map_length."""
    from github_emulator import WorldSpec, build_world
    from github_emulator.limits import Limits

    world = build_world(1, spec=WorldSpec.uniform("huge", repo_count=3000, prs_per_repo=1))
    # A first sync of 3,000 repositories costs near 5,000 points (a listing each, and a
    # deployments page for each of the half that deploys): at a token's 5,000 an hour the
    # run could wait an hour for the reset (test_resilience covers that wait). The budget
    # here is an Enterprise Cloud App's, so the test measures the task layout, not the clock.
    pipeline = make_pipeline(world, limits=Limits(points_per_hour=15_000,
                                                  points_per_minute=20_000),
                             data_tests=False)
    run = pipeline.run({"orgs": ["huge"], "page_size": 10})
    states = task_states(run)
    assert str(run.state) == "success", {k: v for k, v in states.items() if v != "success"}
    extracts = [k for k in states if k.startswith("extract[")]
    assert len(extracts) == 24 and all("(+124 more)" in k for k in extracts)
    assert pipeline.query("select count(distinct repo), count(*) from analytics.fct_pull_requests"
                          ) == [(3000, 3000)]
    assert pipeline.query("select count(*) from raw.sync_runs where run_id = ? and "
                          "status = 'success'", [run.run_id]) == [(3000,)]
    # The 125 repositories of a task share their events batches (49 PRs a query): one
    # query per repository would cost 3,000 points on top of the listings, over GitHub's
    # 5,000 an hour.
    events = [e for e in pipeline.emulator.ledger.entries
              if e.operation_name == "PullRequestEvents"]
    assert len(events) == 24 * 3
    assert pipeline.query("select count(*), count(distinct repo) from raw.pull_request_events"
                          ) == [(3000, 3000)]
    # Deployments are read only where the probe saw a deployment or a release (a repository
    # whose one PR is not merged has none): one page each, nothing for the others.
    from github_emulator.deploys import deploy_state

    deploying = {r.name_with_owner for r in world.repositories()
                 if deploy_state(r).deployments or deploy_state(r).releases}
    assert 0 < len(deploying) < 3000
    deploy_reads = [e for e in pipeline.emulator.ledger.entries
                    if e.operation_name == "RepositoryDeployments"]
    assert len(deploy_reads) == len(deploying)
    assert {f"{e.variables['owner']}/{e.variables['name']}" for e in deploy_reads} == deploying
    assert pipeline.query("select count(distinct repo) from raw.deployments") == [
        (len({r for r in deploying if deploy_state(world.repo(r)).deployments}),)]


def test_repositories_sharing_a_task_keep_their_own_pages_and_costs(make_pipeline,
                                                                    monkeypatch) -> None:
    """One extract task for the whole org: each repository's listing and follow-up pages
    stay in its own folder, the events queries the repositories share go to the batch's
    shared folder, and the sync runs add up to what GitHub (the emulator) charged."""
    import json

    monkeypatch.setenv("PR_WAREHOUSE_MAX_EXTRACT_TASKS", "1")
    pipeline = make_pipeline(data_tests=False)
    run = pipeline.run({"orgs": ["acme"], "page_size": 100})
    states = task_states(run)
    assert str(run.state) == "success", states
    repos = {r.name_with_owner: r for r in repositories(pipeline.world)}
    assert len([k for k in states if k.startswith("extract[")]) == 1
    # DBT_EXCLUDE_RESOURCE_TYPES (data_tests=False) reached dbt: models only.
    built = built_resource_types(pipeline)
    assert "model" in built and not {"test", "unit_test"} & built

    run_dir = next((pipeline.raw_dir / "runs").iterdir())
    shared = list((run_dir / "_shared").glob("*/pages/events-*[0-9].json"))
    assert shared, "the batch's events pages are in its shared folder"
    shared_repos = {n["repository"]["nameWithOwner"] for page in shared
                    for n in json.loads(page.read_text())["data"]["nodes"] if n}
    assert shared_repos == {r for r, repo in repos.items() if repo.pull_requests}
    for name in repos:
        pages = sorted((run_dir / name / "pages").glob("*[0-9].json"))
        assert not [p for p in pages if p.name.startswith("events-")], name
        # Its listing pages (no kind prefix): the other kinds answer other queries.
        for page in (p for p in pages if "-" not in p.name):
            body = json.loads(page.read_text())["data"]["repository"]
            assert body["nameWithOwner"] == name, page

    ledger = pipeline.emulator.ledger.entries
    # The org listing and the teams are not any repository's (fct_syncs counts the plan's
    # probe and the extracts).
    charged = sum(e.points for e in ledger if e.operation_name != "OwnerRepositories")
    (total,), = pipeline.query("select total_points from analytics.fct_syncs where run_id = ?",
                               [run.run_id])
    assert total == charged
    by_repo = dict(pipeline.query("select repo, points_spent from analytics.fct_sync_runs "
                                  "where run_id = ?", [run.run_id]))
    for name in repos:
        listing = sum(e.points for e in ledger if (e.variables or {}).get("owner") == "acme"
                      and (e.variables or {}).get("name") == name.split("/")[1]
                      and e.operation_name == "RepositoryPullRequests")
        assert by_repo[name] >= listing, name  # its own pages, plus its share of the rest
