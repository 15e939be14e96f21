"""Queries whose shape depends on the data (aliases), built from the same fragments.

Values always travel as variables, never spliced into the text, so a strange node id or
cursor cannot change the query.

>>> text, variables = nested_connection_query([("PR_1", "labels", "Y3Vy")])
>>> variables
{'id0': 'PR_1', 'after0': 'Y3Vy'}
>>> "n0: node(id: $id0)" in text and "...LabelFields" in text
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pr_warehouse.queries import with_fragments

RATE_LIMIT = "rateLimit { cost limit remaining used resetAt nodeCount }"

# Nested connections of PullRequestFields and the fragment that selects their nodes.
NESTED_CONNECTIONS: dict[str, str] = {
    "labels": "LabelFields",
    "assignees": "AssigneeFields",
    "closingIssuesReferences": "ClosingIssueFields",
    "reviews": "ReviewFields",
    "reviewRequests": "ReviewRequestFields",
}
FOLLOWUP_PAGE_SIZE = 100
# 20 aliases x 100 nodes keeps a follow-up well inside GitHub's 10 s and 500k-node limits.
FOLLOWUP_BATCH = 20


def nested_connection_query(
    items: Sequence[tuple[str, str, str | None]],
) -> tuple[str, dict[str, Any]]:
    """One query fetching the next page of several PRs' nested lists.

    ``items`` are ``(pull_request_node_id, connection, after_cursor)``; result alias
    ``n<i>`` answers item ``i``.
    """
    if not items:
        raise ValueError("nested_connection_query needs at least one item")
    params: list[str] = []
    fields: list[str] = []
    variables: dict[str, Any] = {}
    for i, (node_id, connection, after) in enumerate(items):
        fragment = NESTED_CONNECTIONS[connection]
        params += [f"$id{i}: ID!", f"$after{i}: String"]
        variables[f"id{i}"] = node_id
        variables[f"after{i}"] = after
        fields.append(
            f"  n{i}: node(id: $id{i}) {{ ... on PullRequest {{ id "
            f"{connection}(first: {FOLLOWUP_PAGE_SIZE}, after: $after{i}) {{ totalCount "
            f"pageInfo {{ hasNextPage endCursor }} nodes {{ ...{fragment} }} }} }} }}"
        )
    text = "\n".join(
        [f"query NestedConnectionPages({', '.join(params)}) {{", f"  {RATE_LIMIT}", *fields, "}"]
    )
    return with_fragments(text), variables


# 50 aliases per probe: each is one pullRequests(first: 1) request, so a probe costs 1 point.
PROBE_BATCH = 50


def newest_update_query(repos: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """One query asking many repositories for their most recently updated PR.

    Alias ``r<i>`` answers ``repos[i]`` (``owner/name``).

    >>> text, variables = newest_update_query(["acme/api"])
    >>> variables, "r0: repository(owner: $owner0, name: $name0)" in text
    ({'owner0': 'acme', 'name0': 'api'}, True)
    """
    if not repos:
        raise ValueError("newest_update_query needs at least one repository")
    params: list[str] = []
    fields: list[str] = []
    variables: dict[str, Any] = {}
    for i, repo in enumerate(repos):
        owner, name = repo.split("/", 1)
        params += [f"$owner{i}: String!", f"$name{i}: String!"]
        variables[f"owner{i}"] = owner
        variables[f"name{i}"] = name
        fields.append(
            f"  r{i}: repository(owner: $owner{i}, name: $name{i}) {{ nameWithOwner "
            "pullRequests(first: 1, orderBy: {field: UPDATED_AT, direction: DESC}) "
            "{ totalCount nodes { updatedAt } } }"
        )
    text = "\n".join(
        [f"query NewestPullRequestUpdates({', '.join(params)}) {{", f"  {RATE_LIMIT}", *fields, "}"]
    )
    return text, variables
