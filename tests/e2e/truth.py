"""Ground truth from the emulator's world, in the shape of the marts' keys.

Each function walks the world's objects directly (never the API), so a mart that matches
it holds exactly what GitHub (the emulator) would serve.
"""

from __future__ import annotations

from typing import Any

GHOST = "ghost"


def repositories(world: Any, org: str = "acme") -> list[Any]:
    """The non-archived repositories an org owns (what `orgs: [org]` syncs)."""
    return [r for r in world.repositories() if r.owner.login == org and not r.is_archived]


def pull_requests(repos: list[Any]) -> dict[tuple[str, int], Any]:
    return {(r.name_with_owner, pr.number): pr for r in repos for pr in r.pull_requests}


def author(pr: Any) -> tuple[str, str]:
    """``(login, kind)`` as the fact shows it: a deleted account is ``ghost``."""
    if pr.author is None or pr.author.deleted:
        return GHOST, GHOST
    return pr.author.login, pr.author.kind.value


def label_rows(prs: dict[tuple[str, int], Any]) -> set[tuple[str, int, str]]:
    return {(repo, n, label.name) for (repo, n), pr in prs.items() for label in pr.labels}


def assignee_rows(prs: dict[tuple[str, int], Any]) -> set[tuple[str, int, str]]:
    return {(repo, n, a.login) for (repo, n), pr in prs.items() for a in pr.assignees
            if not a.deleted}


def linked_issue_rows(prs: dict[tuple[str, int], Any]) -> set[tuple[str, int, str, int]]:
    return {(repo, n, i.repository.name_with_owner, i.number)
            for (repo, n), pr in prs.items() for i in pr.closing_issues}


def fact_rows(prs: dict[tuple[str, int], Any]) -> set[tuple]:
    """``(repo, number, state, is_draft, author_login, author_kind, milestone_number)``."""
    return {
        (repo, n, pr.state, pr.is_draft, *author(pr),
         pr.milestone.number if pr.milestone else None)
        for (repo, n), pr in prs.items()
    }


FACT_SQL = """
    select repo, pr_number, state, is_draft, author_login, author_kind, milestone_number
    from analytics.fct_pull_requests
"""
LABELS_SQL = "select repo, pr_number, label_name from analytics.bridge_pull_request_labels"
ASSIGNEES_SQL = "select repo, pr_number, assignee_login from analytics.bridge_pull_request_assignees"
LINKED_SQL = """select repo, pr_number, issue_repo, issue_number
                from analytics.bridge_pull_request_linked_issues"""


def assert_warehouse_matches(pipeline: Any, repos: list[Any]) -> None:
    """Every mart key row equals the ground truth, and nothing is duplicated."""
    prs = pull_requests(repos)
    facts = pipeline.query(FACT_SQL)
    assert len(facts) == len(set(facts)) == len(prs)
    assert set(facts) == fact_rows(prs)
    for sql, expected in ((LABELS_SQL, label_rows(prs)), (ASSIGNEES_SQL, assignee_rows(prs)),
                          (LINKED_SQL, linked_issue_rows(prs))):
        got = pipeline.query(sql)
        assert len(got) == len(set(got)), f"duplicates in {sql}"
        assert set(got) == expected, sql
