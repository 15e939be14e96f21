"""End-to-end tests of the dbt project in dbt/: hand-made GitHub PullRequest nodes go into
the raw tables (created with the load step's own DDL), `dbt build` runs once for the
module (models, data tests and unit tests), then the marts are checked value by value.

dbt is run as a subprocess with its own target/log folders under tmp, so the tests never
touch dbt/target or another developer's DuckDB file.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pr_warehouse.config import Settings, deploy_vars
from pr_warehouse.transform.dbt import (
    AS_OF_ENV,
    EXCLUDE_ENV,
    dbt_command,
    dbt_env,
    docs_args,
)

ROOT = Path(__file__).resolve().parents[2]
DDL = ROOT / "src" / "pr_warehouse" / "load" / "ddl.sql"

AS_OF = "2024-05-01T00:00:00+00:00"  # a Wednesday; its ISO week starts Monday 2024-04-29
LOADED_AT = datetime(2024, 5, 1, 1, 0, tzinfo=timezone.utc)
W, G = "acme/widgets", "acme/gadgets"

# slow: the module's warehouse is a full build with unit tests and docs (~40 s).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


# --- GitHub-shaped nodes ---------------------------------------------------------------


def ts(value: str | None, plus_hours: float = 0) -> str | None:
    """ISO-8601 'Z' string as GitHub sends it, optionally shifted."""
    if value is None:
        return None
    t = datetime.fromisoformat(value.replace("Z", "+00:00")) + timedelta(hours=plus_hours)
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def actor(login: str | None, kind: str = "User") -> dict | None:
    return None if login is None else {"__typename": kind, "login": login}


def connection(nodes: list | None) -> dict | None:
    """A GraphQL connection as the load leaves it: every page merged into `nodes`."""
    if nodes is None:
        return None
    return {
        "totalCount": len(nodes),
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "nodes": nodes,
    }


def label(name: str, color: str = "ededed") -> dict:
    return {"id": f"LA_{name}", "name": name, "color": color}


def user(login: str) -> dict:
    return {"id": f"U_{login}", "login": login}


def review(rid: str, state: str, at: str | None, author: dict | None) -> dict:
    return {"id": rid, "state": state, "submittedAt": at, "author": author}


def issue(number: int, state: str, repo: str, title: str = "an issue") -> dict:
    return {
        "id": f"I_{repo}_{number}",
        "number": number,
        "title": title,
        "state": state,
        "repository": {"nameWithOwner": repo},
    }


def requested(kind: str | None, name: str | None = None) -> dict:
    if kind is None:
        return {"requestedReviewer": None}
    key = "slug" if kind == "Team" else "login"
    return {"requestedReviewer": {"__typename": kind, key: name}}


def milestone(repo: str, number: int, title: str, state: str, due: str | None) -> dict:
    return {"id": f"MI_{repo}_{number}", "number": number, "title": title, "state": state, "dueOn": due}


def pr_node(
    repo: str,
    number: int,
    *,
    title: str,
    created: str,
    state: str = "OPEN",
    draft: bool = False,
    author: dict | None = None,
    merged_by: dict | None = None,
    merged_after_h: float | None = None,
    closed_after_h: float | None = None,
    milestone_: dict | None = None,
    labels: list | None = None,
    assignees: list | None = None,
    issues: list | None = None,
    reviews: list | None = None,
    review_requests: list | None = None,
) -> dict:
    """One `PullRequestFields` node, camelCase, exactly the shape GitHub returns."""
    merged_at = ts(created, merged_after_h) if merged_after_h is not None else None
    closed_at = merged_at or (ts(created, closed_after_h) if closed_after_h is not None else None)
    return {
        "id": f"PR_{repo}_{number}",
        "number": number,
        "title": title,
        "body": "body of " + title,
        "url": f"https://github.com/{repo}/pull/{number}",
        "state": state,
        "isDraft": draft,
        "createdAt": ts(created),
        "updatedAt": closed_at or ts(created, 1),
        "closedAt": closed_at,
        "mergedAt": merged_at,
        "additions": 10 * number,
        "deletions": number,
        "changedFiles": 1,
        "baseRefName": "main",
        "headRefName": f"feature-{number}",
        "reviewDecision": None,
        "author": author,
        "mergedBy": merged_by,
        "milestone": milestone_,
        "labels": connection(labels),
        "assignees": connection(assignees),
        "closingIssuesReferences": connection(issues),
        "reviews": connection(reviews),
        "reviewRequests": connection(review_requests),
    }


M_V1 = milestone(W, 1, "v1.0", "OPEN", "2024-04-20T00:00:00Z")  # past due, open PRs remain
M_V2 = milestone(W, 2, "v2.0", "OPEN", "2024-06-01T00:00:00Z")  # due after as_of
M_Q1 = milestone(G, 1, "Q1", "CLOSED", "2024-03-31T00:00:00Z")  # past due, nothing open

PR1_CREATED = "2024-04-29T08:00:00Z"

NODES = [
    # 1. merged; first non-author review exactly 3 h after opening, merged after 10 h
    pr_node(
        W, 1, title="Add widget API", created=PR1_CREATED, state="MERGED",
        author=actor("alice"), merged_by=actor("carol"), merged_after_h=10, milestone_=M_V1,
        labels=[label("bug"), label("enhancement"), label("docs")],
        assignees=[user("erin")],
        issues=[issue(100, "CLOSED", W), issue(7, "OPEN", "acme/other")],
        reviews=[
            review("R1", "COMMENTED", ts(PR1_CREATED, 1), actor("alice")),  # the author
            review("R2", "PENDING", None, actor("bob")),  # not submitted
            review("R3", "APPROVED", ts(PR1_CREATED, 3), actor("carol")),  # first review
            review("R4", "COMMENTED", ts(PR1_CREATED, 5), actor("dave")),
            None,
        ],
        review_requests=[],
    ),
    # 2. open draft, no labels (empty list), assigned to erin
    pr_node(
        W, 2, title="WIP: refactor", created="2024-04-20T00:00:00Z", draft=True,
        author=actor("bob"), milestone_=M_V1, labels=[], assignees=[user("erin")],
        issues=[], reviews=[], review_requests=[requested("User", "carol")],
    ),
    # 3. open, deleted author, NUL byte + emoji title, every connection null but assignees
    pr_node(
        W, 3, title="Fix \u0000crash 🚀 naïve", created="2024-04-25T00:00:00Z",
        author=None, milestone_=M_V1, assignees=[user("erin")],
    ),
    # 4. bot author, closed unmerged, null milestone, null items, team + deleted reviewers
    pr_node(
        W, 4, title="Bump lodash from 4.17.20 to 4.17.21", created="2024-04-01T00:00:00Z",
        state="CLOSED", closed_after_h=24, author=actor("dependabot", "Bot"),
        labels=[label("dependencies"), None], assignees=[None], issues=[None],
        reviews=[review("R5", "COMMENTED", "2024-04-01T02:00:00Z", actor("github-actions", "Bot"))],
        review_requests=[requested("Team", "core-team"), requested("User", "frank"), requested(None), None],
    ),
    # 5. other repo, mannequin author, merged by a since-deleted account, deleted reviewer
    pr_node(
        G, 5, title="Import legacy gadget", created="2024-03-01T00:00:00Z", state="MERGED",
        author=actor("old-import", "Mannequin"), merged_by=None, merged_after_h=24,
        milestone_=M_Q1, labels=[label("bug", "d73a4a")], assignees=[user("frank")],
        issues=[], reviews=[review("R6", "COMMENTED", "2024-03-01T02:00:00Z", None)],
    ),
    # 6. merged the same week as #1 after 20 h, never reviewed
    pr_node(
        W, 6, title="Widget docs", created="2024-04-30T00:00:00Z", state="MERGED",
        author=actor("alice"), merged_by=actor("alice"), merged_after_h=20, milestone_=M_V2,
        labels=[label("bug")], assignees=[user("frank")], issues=[], reviews=[],
    ),
]


def build_raw_db(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute(DDL.read_text())
        for node in NODES:
            con.execute(
                "insert into raw.pull_requests values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    node["id"], node["id"].split("_")[1], node["number"],
                    datetime.fromisoformat(node["updatedAt"].replace("Z", "+00:00")),
                    json.dumps(node, ensure_ascii=False),
                    f"pages/{node['id']}.json", "run-1", LOADED_AT,
                ],
            )
        con.execute(
            """
            insert into raw.sync_runs values
            ('run-1', 'acme/widgets', 'success', '2024-05-01 00:10:00+00', '2024-05-01 00:12:30+00',
             3, 5, 7, 8, '{"server_error": 2, "secondary_rate_limit": 1, "request_timeout": 1}', 50, null, ?),
            ('run-1', 'acme/gadgets', 'failed', '2024-05-01 00:10:00+00', null,
             0, 0, 1, 1, '{}', 100, 'boom', ?)
            """,
            [LOADED_AT, LOADED_AT],
        )
        load_teams(con)
    finally:
        con.close()


# Teams: acme read at T1 and T2; between them bob moved from widgets-team (under
# platform) to platform itself. The file (read at T2) puts carol in docs-crew. A forbidden
# read at T3 changes nothing.
T1, T2, T3 = "2024-04-26 00:00:00+00", "2024-04-30 12:00:00+00", "2024-05-01 00:00:00+00"


def team_node(slug: str, parent: str | None, members: list[tuple[str, str]]) -> dict:
    return {"id": f"T_{slug}", "slug": slug, "name": slug.replace("-", " ").title(),
            "combinedSlug": f"acme/{slug}",
            "parentTeam": {"id": f"T_{parent}", "slug": parent} if parent else None,
            "members": {"totalCount": len(members),
                        "pageInfo": {"hasNextPage": False, "endCursor": None},
                        "edges": [{"role": role, "node": {"login": login}}
                                  for login, role in members] + [None]}}


TEAM_SYNCS = {
    T1: [team_node("platform", None, []),
         team_node("widgets-team", "platform", [("alice", "MAINTAINER"), ("bob", "MEMBER")])],
    T2: [team_node("platform", None, [("bob", "MEMBER")]),
         team_node("widgets-team", "platform", [("alice", "MAINTAINER")])],
}


def load_teams(con) -> None:
    for synced_at, teams in TEAM_SYNCS.items():
        con.execute("insert into raw.org_team_syncs values ('acme', ?, 'ok', ?, null, null, "
                    "1, 1, 'run-1', ?)", [synced_at, len(teams), LOADED_AT])
        for team in teams:
            con.execute("insert into raw.org_teams values ('acme', ?, ?, ?, ?, 'p', 'run-1', ?)",
                        [synced_at, team["id"], team["slug"], json.dumps(team), LOADED_AT])
    con.execute("insert into raw.org_team_syncs values ('acme', ?, 'forbidden', 0, 'read:org', "
                "'no', 1, 1, 'run-2', ?)", [T3, LOADED_AT])
    con.execute("insert into raw.team_file_syncs values (?, 'projects.yaml', ?, 'run-1', ?)",
                [T2, json.dumps({"docs-crew": ["carol"]}), LOADED_AT])


# --- running dbt -----------------------------------------------------------------------


def run_dbt(args: list[str], db: Path, tmp: Path, extra_env: dict[str, str] | None = None,
            project: Path | None = None) -> subprocess.CompletedProcess:
    """dbt as the transform starts it (``transform/dbt.py``): in the warehouse's folder with
    the file named relative to it and the deployment's vars, so it starts from the
    session's parse (the ``dbt_parse`` fixture) and re-parses only what differs, as a
    daily run does. Its artifacts and log go to ``tmp``. ``project`` replaces the dbt
    project (``PR_WAREHOUSE_DBT_DIR``)."""
    settings = Settings.from_env({**os.environ, "PR_WAREHOUSE_DUCKDB": str(db),
                                  **({"PR_WAREHOUSE_DBT_DIR": str(project)} if project else {})})
    env = {**dbt_env(settings), "DBT_USE_COLORS": "false", **(extra_env or {})}
    cmd = [*dbt_command(settings, args, deploy_vars(settings)),
           "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    return subprocess.run(cmd, cwd=db.parent, env=env, capture_output=True, text=True,
                          timeout=240)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, dbt_parse: Path) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("dbt")
    db = tmp / "warehouse.duckdb"
    build_raw_db(db)
    # Everything, unit tests included: this is where they run (the product leaves them out).
    # as_of reaches dbt as the transform passes it (AS_OF_ENV).
    build = run_dbt(["build"], db, tmp, {EXCLUDE_ENV: "", AS_OF_ENV: AS_OF})
    assert build.returncode == 0, build.stdout[-6000:] + build.stderr[-3000:]
    results = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    # Run before any test opens the file: DuckDB lets one process write at a time. Without
    # as_of, so the compiled SQL shows its fallback (one model: dbt re-parses only what
    # reads the variable); then the docs as the transform makes them, from the build.
    fallback = run_dbt(["compile", "--select", "mart_open_pull_requests"], db, tmp)
    assert fallback.returncode == 0, fallback.stdout[-4000:] + fallback.stderr[-2000:]
    docs = run_dbt(docs_args(), db, tmp)
    return {"db": db, "tmp": tmp, "build": build, "results": results, "docs": docs}


@pytest.fixture(scope="module")
def con(warehouse: dict[str, Any]):
    c = duckdb.connect(str(warehouse["db"]), read_only=True)
    yield c
    c.close()


def rows(con, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def one(con, sql: str) -> dict[str, Any]:
    result = rows(con, sql)
    assert len(result) == 1, result
    return result[0]


# --- tests -----------------------------------------------------------------------------


def test_build_ran_models_data_tests_and_unit_tests(warehouse):
    out = warehouse["build"].stdout
    assert "ERROR=0" in out and "WARN=0" in out, out[-3000:]
    ids = [r["unique_id"] for r in warehouse["results"]]
    assert all(r["status"] in ("success", "pass") for r in warehouse["results"])
    unit_tests = {i.split(".")[-1] for i in ids if i.startswith("unit_test.")}
    assert {
        "fct_pull_requests_first_review_skips_author_pending_and_null_items",
        "mart_assignee_workload_counts_against_as_of",
        "mart_cycle_time_weekly_human_prs_median_p90_and_unreviewed_share",
        "cycle_time_phases_drafts_ghosts_and_unreviewed_merges",
        "cycle_time_review_depth_and_rework",
        "draft_bouncing_makes_one_spell_per_trip_into_draft",
        "responses_skip_the_author_bots_pending_and_late_ones",
        "readiness_follows_the_first_draft_event_not_is_draft",
        "mart_open_pull_requests_ages_against_as_of",
        "fct_pull_requests_incremental_run_rebuilds_only_prs_loaded_since_the_last_build",
        "bridge_labels_incremental_run_takes_only_prs_loaded_since_the_last_build",
        "label_spans_a_label_added_removed_and_added_again",
        "label_spans_a_label_with_no_labeled_event",
        "label_time_ends_at_removal_close_or_as_of",
        "assignee_spans_swapped_and_reassigned",
        "assignee_spans_an_assignee_with_no_assigned_event",
        "milestone_spans_set_removed_and_set_again",
        "milestone_spans_a_milestone_with_no_milestoned_event",
        "a_person_who_changes_team_between_two_syncs",
        "the_teams_file_wins_for_the_logins_it_lists",
        "bridge_teams_a_person_who_changes_team_between_two_syncs",
        "dora_weekly_four_keys_and_their_bands",
        "deployments_outcome_rollback_and_restore",
    } <= unit_tests, unit_tests
    assert sum(i.startswith("test.") for i in ids) >= 80


def test_schemas_are_exactly_staging_and_analytics(con):
    found = {
        (r["table_schema"], r["table_type"])
        for r in rows(con, "select table_schema, table_type from information_schema.tables")
    }
    assert ("staging", "VIEW") in found and ("analytics", "BASE TABLE") in found
    assert not {s for s, _ in found if s.startswith("main_")}


def documented_marts(warehouse: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{mart: {"description": ..., "columns": {column: description}}}`` from the build's
    manifest: what the marts' comments must say."""
    nodes = json.loads((warehouse["tmp"] / "target" / "manifest.json").read_text())["nodes"]
    return {n["name"]: {"description": n["description"],
                        "columns": {c: v["description"] for c, v in n["columns"].items()}}
            for n in nodes.values()
            if n["resource_type"] == "model" and n["schema"] == "analytics"}


def mart_comments(con) -> dict[str, dict[str, Any]]:
    """What the marts' comments say, in the shape of :func:`documented_marts`."""
    found = {t: {"description": c, "columns": {}} for t, c in con.execute(
        "select table_name, comment from duckdb_tables() where schema_name = 'analytics'"
    ).fetchall()}
    for table, column, comment in con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'analytics' and comment is not null").fetchall():
        found[table]["columns"][column] = comment
    return found


def test_the_marts_carry_their_descriptions_as_comments(warehouse, con):
    """Every mart's description and every documented column's are its comments, word for
    word (what the Postgres publish copies); the staging views and intermediates keep
    theirs in the dbt docs only."""
    commented = {(r["schema_name"], r["comment"] is not None) for r in rows(
        con, "select schema_name, comment from duckdb_tables() union all "
             "select schema_name, comment from duckdb_views() where not internal")}
    assert {s for s, c in commented if c} == {"analytics"}
    documented = documented_marts(warehouse)
    assert len(documented) >= 20 and all(d["description"] and d["columns"]
                                         for d in documented.values())
    assert mart_comments(con) == documented


def warehouse_copy(warehouse: dict[str, Any], name: str) -> Path:
    """A copy of the module's built warehouse in its own folder ``name`` (dbt's artifacts
    and log go there too), for a test that changes it."""
    import shutil

    db = warehouse["tmp"] / name / warehouse["db"].name
    db.parent.mkdir()
    shutil.copy(warehouse["db"], db)
    return db


def test_a_failing_data_test_fails_the_build_and_can_store_its_failures(warehouse):
    """The project's data-test materialization (macros/materializations.sql) counts a
    test's failing rows as dbt's does: on a copy of the warehouse with a label twice and a
    label with no name, those tests fail with their counts and the others pass. With
    ``--store-failures`` (dbt's own materialization) the failing rows are kept in a table."""
    db = warehouse_copy(warehouse, "failing")
    with duckdb.connect(str(db)) as c:
        c.execute("insert into analytics.dim_labels select * from analytics.dim_labels limit 1")
        c.execute("insert into analytics.dim_labels select * replace (null as label_name) "
                  "from analytics.dim_labels limit 1")
    for stored in (False, True):
        result = run_dbt(["test", "--select", "dim_labels",
                          *(["--store-failures"] if stored else [])], db, db.parent)
        assert result.returncode == 1, result.stdout[-4000:] + result.stderr[-2000:]
        outcome = {r["unique_id"].split(".")[2]: (r["status"], r["failures"])
                   for r in json.loads((db.parent / "target" / "run_results.json").read_text()
                                       )["results"] if r["unique_id"].startswith("test.")}
        failing = {t for t in outcome if t.startswith(("unique_combination_of_columns_",
                                                        "not_null_dim_labels_label_name"))}
        assert len(failing) == 2 and len(outcome) >= 4, outcome
        assert {t: outcome[t] for t in failing} == {t: ("fail", 1) for t in failing}
        assert {outcome[t] for t in outcome.keys() - failing} == {("pass", 0)}, outcome
    with duckdb.connect(str(db), read_only=True) as c:
        stored_rows = c.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_name like 'not_null_dim_labels_label_name%'").fetchall()
        assert len(stored_rows) == 1, stored_rows
        schema, table = stored_rows[0]
        assert c.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0] == 1


VIEW_MODEL, TABLE_MODEL, INCREMENTAL_MODEL = (
    "stg_github__pull_request_labels", "dim_labels", "fct_pull_requests")


@pytest.fixture(scope="module")
def tampered(warehouse: dict[str, Any]) -> dict[str, Any]:
    """A copy of the warehouse changed behind dbt's back, then one incremental
    ``dbt run`` of the three models concerned:
    - a staging view made a table (a model that used to be one), a mart table made a view;
    - the incremental fact's table comment and one column's changed, another's removed.

    Returns the copy and, from before the changes, the two models' rows."""
    db = warehouse_copy(warehouse, "tampered")
    with duckdb.connect(str(db)) as c:
        before = {m: c.execute(f"select * from {s}.{m} order by all").fetchall()
                  for s, m in (("staging", VIEW_MODEL), ("analytics", TABLE_MODEL))}
        c.execute(f"create table staging.t as select * from staging.{VIEW_MODEL}")
        c.execute(f"drop view staging.{VIEW_MODEL}")
        c.execute(f"alter table staging.t rename to {VIEW_MODEL}")
        c.execute(f"create view analytics.v as select * from analytics.{TABLE_MODEL}")
        c.execute(f"drop table analytics.{TABLE_MODEL}")
        c.execute(f"alter view analytics.v rename to {TABLE_MODEL}")
        c.execute(f"comment on table analytics.{INCREMENTAL_MODEL} is 'stale'")
        c.execute(f"comment on column analytics.{INCREMENTAL_MODEL}.pr_number is 'stale'")
        c.execute(f"comment on column analytics.{INCREMENTAL_MODEL}.repo is null")
    result = run_dbt(["run", "--select", VIEW_MODEL, TABLE_MODEL, INCREMENTAL_MODEL], db,
                     db.parent, {AS_OF_ENV: AS_OF})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return {"db": db, "before": before}


def test_a_model_whose_relation_changed_kind_is_replaced_in_one_statement(tampered):
    """The project's view and table materializations (macros/materializations.sql) replace a
    relation in place, whatever kind it was: a staging view found as a table and a mart
    found as a view come back as what their models say, with the same rows, the mart's
    comments, and no temporary or backup relation left behind."""
    before = tampered["before"]
    with duckdb.connect(str(tampered["db"]), read_only=True) as c:
        kinds = dict(c.execute("select table_name, table_type from information_schema.tables "
                               "where table_name like '%dbt%' or table_name in (?, ?)",
                               [VIEW_MODEL, TABLE_MODEL]).fetchall())
        assert kinds == {VIEW_MODEL: "VIEW", TABLE_MODEL: "BASE TABLE"}
        assert {m: c.execute(f"select * from {s}.{m} order by all").fetchall()
                for s, m in (("staging", VIEW_MODEL), ("analytics", TABLE_MODEL))} == before
        assert before[VIEW_MODEL] and before[TABLE_MODEL]
        assert c.execute("select comment from duckdb_tables() where table_name = ?",
                         [TABLE_MODEL]).fetchone()[0]


def test_a_comment_that_differs_from_its_description_is_written_again(warehouse, tampered):
    """The marts' comments are written where they differ from the descriptions
    (macros/persist_docs.sql): on an incremental model, whose table stays, a comment changed
    since (or a description edited since) is set again by the next build."""
    with duckdb.connect(str(tampered["db"]), read_only=True) as c:
        assert c.execute(f"select count(*) from analytics.{INCREMENTAL_MODEL}").fetchone()[0]
        assert mart_comments(c)[INCREMENTAL_MODEL] == documented_marts(warehouse)[
            INCREMENTAL_MODEL]


def test_a_model_asking_for_indexes_fails_naming_it(tmp_path: Path) -> None:
    """The project's table materialization builds no index: a model that asks for one
    fails, named, rather than being built without it (a copy of the project with one
    such model, on an empty warehouse)."""
    import shutil

    project = tmp_path / "dbt"
    shutil.copytree(ROOT / "dbt", project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "marts" / "mart_indexed.sql").write_text(
        "{{ config(indexes=[{'columns': ['n']}]) }}\nselect 1 as n\n")
    result = run_dbt(["run", "--select", "mart_indexed"], tmp_path / "warehouse.duckdb",
                     tmp_path, project=project)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "mart_indexed asks for a contract or indexes" in result.stdout, result.stdout[-3000:]


def test_no_pull_request_dropped(con):
    got = [r["pr_number"] for r in rows(con, "select pr_number from analytics.fct_pull_requests order by 1")]
    assert got == [1, 2, 3, 4, 5, 6]
    assert one(con, "select count(*) as n from staging.stg_github__pull_requests")["n"] == 6


def test_first_review_and_merge_hours(con):
    pr1 = one(con, "select * from analytics.fct_pull_requests where repo = 'acme/widgets' and pr_number = 1")
    assert pr1["hours_to_first_review"] == 3
    assert pr1["hours_to_merge"] == 10
    assert pr1["first_review_at"] == datetime(2024, 4, 29, 11, tzinfo=timezone.utc)
    assert "hours_open" not in pr1  # ages depend on as_of: mart_open_pull_requests
    assert one(con, "select count(*) as n from analytics.mart_open_pull_requests "
                    "where pr_number = 1 and repo = 'acme/widgets'")["n"] == 0
    assert pr1["review_count"] == 3  # the PENDING review and the null item are not counted
    assert (pr1["label_count"], pr1["assignee_count"], pr1["linked_issue_count"]) == (3, 1, 2)
    assert pr1["merged_by_login"] == "carol" and pr1["is_merged"]

    pr6 = one(con, "select * from analytics.fct_pull_requests where pr_number = 6")
    assert pr6["first_review_at"] is None and pr6["hours_to_first_review"] is None
    assert pr6["hours_to_merge"] == 20

    # a deleted reviewer still counts as someone other than the (known) author
    pr5 = one(con, "select * from analytics.fct_pull_requests where pr_number = 5")
    assert pr5["hours_to_first_review"] == 2


def test_actors_ghost_bot_mannequin(con):
    by_number = {
        r["pr_number"]: r
        for r in rows(con, "select pr_number, author_login, author_kind, merged_by_login, merged_by_kind "
                           "from analytics.fct_pull_requests")
    }
    assert (by_number[3]["author_login"], by_number[3]["author_kind"]) == ("ghost", "ghost")
    assert (by_number[4]["author_login"], by_number[4]["author_kind"]) == ("dependabot", "Bot")
    assert (by_number[5]["author_login"], by_number[5]["author_kind"]) == ("old-import", "Mannequin")
    assert (by_number[5]["merged_by_login"], by_number[5]["merged_by_kind"]) == ("ghost", "ghost")
    assert by_number[2]["merged_by_login"] is None  # open: nobody merged it

    users = {r["login"]: r for r in rows(con, "select * from analytics.dim_github_users")}
    assert {login: u["kind"] for login, u in users.items()} == {
        "alice": "User", "bob": "User", "carol": "User", "dave": "User", "erin": "User",
        "frank": "User", "dependabot": "Bot", "github-actions": "Bot",
        "old-import": "Mannequin", "ghost": "ghost",
    }
    assert "core-team" not in users
    assert users["ghost"]["is_author"] and users["ghost"]["is_merger"] and users["ghost"]["is_reviewer"]
    assert users["erin"]["is_assignee"] and not users["erin"]["is_author"]
    assert users["frank"]["is_requested_reviewer"] and users["frank"]["is_assignee"]


def test_open_ages_against_as_of(con):
    pr2 = one(con, "select * from analytics.mart_open_pull_requests where pr_number = 2")
    assert pr2["hours_open"] == 11 * 24
    assert pr2["is_draft"] and pr2["label_count"] == 0
    assert pr2["as_of"] == datetime(2024, 5, 1, tzinfo=timezone.utc)
    open_prs = rows(con, "select pr_number from analytics.mart_open_pull_requests order by 1")
    assert [r["pr_number"] for r in open_prs] == [2, 3]


def test_title_with_nul_and_emoji(con):
    pr3 = one(con, "select * from analytics.fct_pull_requests where pr_number = 3")
    assert pr3["title"] == "Fix crash 🚀 naïve"
    assert (pr3["label_count"], pr3["review_count"], pr3["linked_issue_count"]) == (0, 0, 0)
    assert pr3["first_review_at"] is None


def test_bridges(con):
    counts = {
        t: one(con, f"select count(*) as n from analytics.{t}")["n"]
        for t in ("bridge_pull_request_labels", "bridge_pull_request_assignees",
                  "bridge_pull_request_linked_issues")
    }
    assert counts == {
        "bridge_pull_request_labels": 6,
        "bridge_pull_request_assignees": 5,
        "bridge_pull_request_linked_issues": 2,
    }
    issues = rows(con, "select pr_number, issue_repo, issue_number, issue_state "
                       "from analytics.bridge_pull_request_linked_issues order by issue_number")
    assert issues == [
        {"pr_number": 1, "issue_repo": "acme/other", "issue_number": 7, "issue_state": "OPEN"},
        {"pr_number": 1, "issue_repo": "acme/widgets", "issue_number": 100, "issue_state": "CLOSED"},
    ]
    labels = rows(con, "select repo, label_name, pull_request_count from analytics.dim_labels order by 1, 2")
    assert labels == [
        {"repo": G, "label_name": "bug", "pull_request_count": 1},
        {"repo": W, "label_name": "bug", "pull_request_count": 2},
        {"repo": W, "label_name": "dependencies", "pull_request_count": 1},
        {"repo": W, "label_name": "docs", "pull_request_count": 1},
        {"repo": W, "label_name": "enhancement", "pull_request_count": 1},
    ]
    requests = rows(con, "select pr_number, requested_reviewer_kind, requested_reviewer_name "
                         "from staging.stg_github__pull_request_review_requests order by 1, 3")
    assert requests == [
        {"pr_number": 2, "requested_reviewer_kind": "User", "requested_reviewer_name": "carol"},
        {"pr_number": 4, "requested_reviewer_kind": "Team", "requested_reviewer_name": "core-team"},
        {"pr_number": 4, "requested_reviewer_kind": "User", "requested_reviewer_name": "frank"},
    ]


def test_assignee_workload(con):
    got = {r["assignee_login"]: r for r in rows(con, "select * from analytics.mart_assignee_workload")}
    assert set(got) == {"erin", "frank"}
    erin, frank = got["erin"], got["frank"]
    assert (erin["assigned_prs"], erin["open_prs"], erin["open_draft_prs"]) == (3, 2, 1)
    assert erin["oldest_open_pr_hours"] == 11 * 24  # PR 2, opened 2024-04-20
    assert (erin["merged_last_7_days"], erin["merged_last_30_days"]) == (1, 1)
    assert (frank["open_prs"], frank["open_draft_prs"], frank["oldest_open_pr_hours"]) == (0, 0, None)
    assert (frank["merged_last_7_days"], frank["merged_last_30_days"]) == (1, 1)  # PR 5 is older
    assert frank["repo_count"] == 2


def test_milestone_progress(con):
    got = {
        (r["repo"], r["milestone_number"]): r
        for r in rows(con, "select * from analytics.mart_milestone_progress")
    }
    assert set(got) == {(W, 1), (W, 2), (G, 1)}
    v1 = got[(W, 1)]
    assert (v1["prs_total"], v1["prs_open"], v1["prs_merged"], v1["prs_closed_unmerged"]) == (3, 2, 1, 0)
    assert v1["is_overdue"] is True
    assert (v1["linked_issues"], v1["linked_issues_closed_by_merged_prs"]) == (2, 1)
    assert v1["milestone_due_on"] == datetime(2024, 4, 20, tzinfo=timezone.utc)
    assert got[(W, 2)]["is_overdue"] is False  # due after as_of
    assert got[(G, 1)]["is_overdue"] is False  # past due but nothing open
    assert got[(G, 1)]["milestone_state"] == "CLOSED"


def test_cycle_time_weekly(con):
    """Folded from the former mart_pr_cycle_time_weekly: time to first review and to merge
    per ISO week of merge, now over human-authored PRs only (both merged PRs are)."""
    got = rows(con, "select * from analytics.mart_cycle_time_weekly order by repo, week_start")
    assert [(r["repo"], str(r["week_start"]), r["iso_week"]) for r in got] == [
        (G, "2024-02-26", "2024-W09"),
        (W, "2024-04-29", "2024-W18"),
    ]
    w = got[1]
    assert (w["prs_merged"], w["prs_merged_with_review"]) == (2, 1)
    assert w["median_hours_to_merge"] == 15  # PRs 1 (10 h) and 6 (20 h)
    assert w["p90_hours_to_merge"] == pytest.approx(19)
    assert w["median_hours_to_first_review"] == 3 and w["p90_hours_to_first_review"] == 3
    # No events were loaded for these PRs: no first commit, so cycle = opened -> merged,
    # and PR 6 (no review at all) was merged without review.
    assert w["median_cycle_hours"] == 15
    assert (w["prs_merged_without_review"], w["share_merged_without_review"]) == (1, 0.5)


def test_cycle_time_fact_has_a_row_per_pr_even_without_events(con):
    got = rows(con, "select pr_number, is_bot_author, commit_count, draft_hours, size_bucket "
                    "from analytics.fct_pull_request_cycle_time order by pr_number")
    assert [r["pr_number"] for r in got] == [1, 2, 3, 4, 5, 6]
    assert [r["is_bot_author"] for r in got] == [False, False, False, True, False, False]
    assert all(r["commit_count"] is None for r in got)  # never fetched: unknown, not 0
    assert got[1]["draft_hours"] == 11 * 24  # PR 2: a draft since 2024-04-20, no events
    assert [r["size_bucket"] for r in got] == ["S", "S", "S", "S", "S", "S"]


def test_spans_of_prs_without_events_start_at_the_opening(con):
    """No timeline was loaded here: every label, assignee and milestone a PR carries is a
    span from its opening, still open, added by nobody known (the "no LabeledEvent" rule),
    one per bridge row; a null item (PR 4's label and assignee) makes none."""
    for fact, item, carried in (
            ("fct_pull_request_label_spans", "label_name", "bridge_pull_request_labels"),
            ("fct_pull_request_assignee_spans", "assignee_login",
             "bridge_pull_request_assignees")):
        got = rows(con, f"select s.*, p.created_at from analytics.{fact} s "
                        "join staging.stg_github__pull_requests p using (pull_request_id)")
        assert {(r["pull_request_id"], r[item]) for r in got} == {
            (r["pull_request_id"], r[item])
            for r in rows(con, f"select * from analytics.{carried}")}, fact
        start, end, by = (("assigned_at", "unassigned_at", "assigned_by") if "assignee" in fact
                          else ("added_at", "removed_at", "added_by"))
        assert all(r[start] == r["created_at"] and r[end] is None and r[by] is None
                   and r["span_id"] == f"{r['pull_request_id']}/{r[item]}" for r in got)
    milestones = rows(con, "select pr_number, milestone_title from "
                           "analytics.fct_pull_request_milestone_spans order by repo, pr_number")
    assert milestones == [{"pr_number": 5, "milestone_title": "Q1"},
                          *({"pr_number": n, "milestone_title": t}
                            for n, t in ((1, "v1.0"), (2, "v1.0"), (3, "v1.0"), (6, "v2.0")))]


def test_label_time_holds_each_pr_until_its_close_or_as_of(con):
    """With no timeline loaded, every label span starts at the PR's opening and stays on:
    it holds a closed PR until the close (the open PRs here carry no label: the model's unit
    test holds a span to as_of)."""
    as_of = datetime.fromisoformat(AS_OF)
    got = rows(con, "select t.*, p.created_at, p.closed_at "
                    "from analytics.fct_pull_request_label_time t "
                    "join analytics.fct_pull_requests p using (pull_request_id)")
    spans = one(con, "select count(*) as n from analytics.fct_pull_request_label_spans")["n"]
    assert got and len(got) == spans
    for r in got:
        end = r["closed_at"] or as_of
        assert (r["held_until"], r["is_holding"]) == (end, r["closed_at"] is None), r
        assert r["hours_held"] == (end - r["created_at"]).total_seconds() / 3600, r


def test_label_activity(con):
    got = rows(con, "select * from analytics.mart_label_activity where repo = 'acme/widgets' "
                    "and label_name = 'bug'")
    assert len(got) == 1
    assert (got[0]["prs_opened"], got[0]["prs_merged"], got[0]["median_hours_to_merge"]) == (2, 2, 15)
    dependencies = one(con, "select * from analytics.mart_label_activity where label_name = 'dependencies'")
    assert (dependencies["prs_opened"], dependencies["prs_merged"]) == (1, 0)
    assert dependencies["median_hours_to_merge"] is None


def test_sync_runs(con):
    got = {r["repo"]: r for r in rows(con, "select * from analytics.fct_sync_runs")}
    ok, failed = got[W], got[G]
    assert ok["status"] == "success" and ok["duration_seconds"] == 150
    assert (ok["retries_total"], ok["retries_server_error"], ok["retries_secondary_rate_limit"],
            ok["retries_request_timeout"], ok["retries_partial_data"]) == (4, 2, 1, 1, 0)
    assert (ok["page_count"], ok["pull_request_count"], ok["points_spent"], ok["request_count"]) == (3, 5, 7, 8)
    assert failed["duration_seconds"] is None and failed["retries_total"] == 0 and failed["error"] == "boom"


def test_team_memberships_are_spans_between_syncs(con):
    t1, t2 = (datetime.fromisoformat(t.replace("+00", "+00:00")) for t in (T1, T2))
    got = {(r["team"], r["login"], r["role"], r["is_inherited"], r["source"], r["valid_from"],
            r["valid_to"]) for r in rows(con, "select * from analytics.dim_team_memberships")}
    assert got == {
        ("acme/widgets-team", "alice", "MAINTAINER", False, "github", t1, None),
        ("acme/platform", "alice", "MEMBER", True, "github", t1, None),
        ("acme/widgets-team", "bob", "MEMBER", False, "github", t1, t2),
        # bob stays in platform; only how changes (through widgets-team, then directly)
        ("acme/platform", "bob", "MEMBER", True, "github", t1, t2),
        ("acme/platform", "bob", "MEMBER", False, "github", t2, None),
        ("docs-crew", "carol", "MEMBER", False, "file", t2, None),
    }


def test_pull_request_teams_at_opening(con):
    got = {(r["pr_number"], r["team"], r["attributed_by"]) for r in rows(
        con, "select * from analytics.bridge_pull_request_teams")}
    assert got == {
        # alice's PRs opened after T1: her teams then (widgets-team and, above it, platform)
        (1, "acme/widgets-team", "at_opened_at"), (1, "acme/platform", "at_opened_at"),
        (6, "acme/widgets-team", "at_opened_at"), (6, "acme/platform", "at_opened_at"),
        # bob's PR opened Apr 20, before his first recorded membership: that record's teams
        (2, "acme/widgets-team", "earliest_recorded"), (2, "acme/platform", "earliest_recorded"),
        # 3: deleted author, 4: a bot, 5: a mannequin in no team: none
    }


def test_docs_generate_and_as_of_default(warehouse):
    """`dbt docs generate` as the transform runs it works; compiled without as_of, a mart's
    SQL falls back to the newest load time instead of wall-clock now (the build's used
    as_of)."""
    result = warehouse["docs"]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    target = warehouse["tmp"] / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    assert "model.pr_warehouse.fct_pull_requests" in catalog["nodes"]
    compiled = next(target.glob("compiled/pr_warehouse/models/marts/mart_open_pull_requests.sql")).read_text()
    assert "max(loaded_at)" in compiled and "raw" in compiled
    ran = next(target.glob("run/pr_warehouse/models/marts/mart_open_pull_requests.sql")).read_text()
    assert "cast('2024-05-01" in ran and "max(loaded_at)" not in ran
