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

# Nested connections of PullRequestFields and PullRequestEventFields, and the comments of a
# PullRequestReview (pull_request_review_comments), with the fragment selecting their nodes.
# Their names never clash within the nodes we fetch (PR nodes never select PullRequest's
# own `comments`: conversation comments ride in the timeline), so one follow-up mechanism
# serves all three kinds of node.
NESTED_CONNECTIONS: dict[str, str] = {
    "labels": "LabelFields",
    "assignees": "AssigneeFields",
    "closingIssuesReferences": "ClosingIssueFields",
    "reviews": "ReviewFields",
    "reviewRequests": "ReviewRequestFields",
    "timelineItems": "TimelineItemFields",
    "comments": "ReviewCommentFields",
}
# The type of the node a follow-up asks for, by connection (PullRequest unless named here).
CONNECTION_NODE_TYPES: dict[str, str] = {"comments": "PullRequestReview"}
# Arguments a follow-up page must repeat, and the variables they need (name -> type).
CONNECTION_ARGUMENTS: dict[str, tuple[str, dict[str, str]]] = {
    "timelineItems": ("itemTypes: $itemTypes",
                      {"itemTypes": "[PullRequestTimelineItemsItemType!]"}),
}
FOLLOWUP_PAGE_SIZE = 100
# 20 aliases x 100 nodes keeps a follow-up well inside GitHub's 10 s and 500k-node limits.
FOLLOWUP_BATCH = 20

# The timeline items cycle-time metrics need, the label, assignee and milestone
# changes their histories (the span facts) are built from, and the commits and force
# pushes that measure rework (fct_pull_request_cycle_time). Conversation comments ride in
# the timeline instead of a `comments` connection of their own: one connection fewer per
# PR is what keeps all PR data under 60 points per 1,000 PRs (see EVENTS_BATCH). More item
# types cost nothing by GitHub's formula (still one connection of 100 per PR); only a
# timeline longer than 100 items costs its follow-up pages.
TIMELINE_ITEM_TYPES: tuple[str, ...] = (
    "READY_FOR_REVIEW_EVENT", "CONVERT_TO_DRAFT_EVENT", "REVIEW_REQUESTED_EVENT",
    "REVIEW_REQUEST_REMOVED_EVENT", "CLOSED_EVENT", "REOPENED_EVENT", "MERGED_EVENT",
    "ISSUE_COMMENT",
    "LABELED_EVENT", "UNLABELED_EVENT", "ASSIGNED_EVENT", "UNASSIGNED_EVENT",
    "MILESTONED_EVENT", "DEMILESTONED_EVENT",
    "PULL_REQUEST_COMMIT", "HEAD_REF_FORCE_PUSHED_EVENT",
)  # fmt: skip

# PRs per `pull_request_events` query. Each PR costs 3 requests (timelineItems, commits,
# reviewThreads), so 49 PRs = 147 requests is the largest batch GitHub rounds to 1 point:
# 20.4 points per 1,000 PRs, beside the listing's 34.5 at 29 PRs a page (55 together).
# Riding in the page query instead, 8 connections per PR allow 18 PRs per point (55.6),
# and every listed PR (unchanged ones on a boundary page too) would pay for its events,
# in one deeper, slower query (DevLake's 502s). tests/test_queries.py recomputes both.
EVENTS_BATCH = 49


def events_variables(ids: Sequence[str]) -> dict[str, Any]:
    """Variables of ``pull_request_events`` for a batch of PR node ids.

    >>> events_variables(["PR_1"])["ids"], len(events_variables(["PR_1"])["itemTypes"])
    (['PR_1'], 16)
    """
    if not 1 <= len(ids) <= EVENTS_BATCH:
        raise ValueError(f"an events batch holds 1-{EVENTS_BATCH} ids, got {len(ids)}")
    return {"ids": list(ids), "itemTypes": list(TIMELINE_ITEM_TYPES)}


def nested_connection_query(
    items: Sequence[tuple[str, str, str | None]],
) -> tuple[str, dict[str, Any]]:
    """One query fetching the next page of several nodes' nested lists.

    ``items`` are ``(node_id, connection, after_cursor)`` (a pull request's id, or a
    review's for ``comments``); result alias ``n<i>`` answers item ``i``.

    >>> text, _ = nested_connection_query([("PRR_1", "comments", "Y3Vy")])
    >>> "... on PullRequestReview { id comments(first: 100" in text
    True
    """
    if not items:
        raise ValueError("nested_connection_query needs at least one item")
    params: list[str] = []
    fields: list[str] = []
    variables: dict[str, Any] = {}
    shared: dict[str, str] = {}
    for i, (node_id, connection, after) in enumerate(items):
        fragment = NESTED_CONNECTIONS[connection]
        params += [f"$id{i}: ID!", f"$after{i}: String"]
        variables[f"id{i}"] = node_id
        variables[f"after{i}"] = after
        extra, needs = CONNECTION_ARGUMENTS.get(connection, ("", {}))
        shared.update(needs)
        fields.append(
            f"  n{i}: node(id: $id{i}) {{ ... on "
            f"{CONNECTION_NODE_TYPES.get(connection, 'PullRequest')} {{ id "
            f"{connection}(first: {FOLLOWUP_PAGE_SIZE}, after: $after{i}"
            f"{', ' + extra if extra else ''}) {{ totalCount "
            f"pageInfo {{ hasNextPage endCursor }} nodes {{ ...{fragment} }} }} }} }}"
        )
    if "itemTypes" in shared:
        variables["itemTypes"] = list(TIMELINE_ITEM_TYPES)
    params += [f"${name}: {kind}" for name, kind in shared.items()]
    text = "\n".join(
        [f"query NestedConnectionPages({', '.join(params)}) {{", f"  {RATE_LIMIT}", *fields, "}"]
    )
    return with_fragments(text), variables


# Reviews per `pull_request_review_comments` query: GitHub's `nodes(ids:)` takes at most 100
# ids, and each review's comments(first: 100) is one request, so 100 reviews = 100
# requests = 1 point (tests/test_queries.py recomputes it).
REVIEW_COMMENTS_BATCH = 100


def review_comments_variables(ids: Sequence[str]) -> dict[str, Any]:
    """Variables of ``pull_request_review_comments`` for a batch of review node ids.

    >>> review_comments_variables(["PRR_1"])
    {'ids': ['PRR_1']}
    """
    if not 1 <= len(ids) <= REVIEW_COMMENTS_BATCH:
        raise ValueError(f"a review comments batch holds 1-{REVIEW_COMMENTS_BATCH} ids, "
                         f"got {len(ids)}")
    return {"ids": list(ids)}


# 50 aliases per probe: each is one pullRequests(first: 1) request, so a probe costs 1 point.
PROBE_BATCH = 50


# The newest deployment (and its latest status) and release of a repository: a deploy
# changes no pull request, so the probe looks at them too (2 requests more per repository:
# 50 repositories make 150 requests, 2 points).
DEPLOY_PROBE_FIELDS = (
    "deployments(first: 1, orderBy: {field: CREATED_AT, direction: DESC}) "
    "{ nodes { createdAt latestStatus { createdAt } } } "
    "releases(first: 1, orderBy: {field: CREATED_AT, direction: DESC}) "
    "{ nodes { publishedAt } }"
)


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
            "{ totalCount nodes { updatedAt } } "
            f"{DEPLOY_PROBE_FIELDS} }}"
        )
    text = "\n".join(
        [f"query NewestPullRequestUpdates({', '.join(params)}) {{", f"  {RATE_LIMIT}", *fields, "}"]
    )
    return text, variables


# Teams whose member list goes past its first 100 get the rest in follow-up queries of up
# to 100 aliases: each alias is one members(first: 100) request, so 100 of them make 100
# requests, 1 point, like the teams page itself (1 + 100 requests).
TEAM_MEMBERS_BATCH = 100
TEAM_MEMBERS_PAGE_SIZE = 100


def team_members_query(items: Sequence[tuple[str, str | None]]) -> tuple[str, dict[str, Any]]:
    """One query fetching the next page of several teams' immediate members.

    ``items`` are ``(team_node_id, after_cursor)``; result alias ``t<i>`` answers item ``i``.

    >>> text, variables = team_members_query([("T_1", "Y3Vy")])
    >>> variables, "t0: node(id: $id0)" in text and "...TeamMemberPage" in text
    ({'id0': 'T_1', 'after0': 'Y3Vy'}, True)
    """
    if not 1 <= len(items) <= TEAM_MEMBERS_BATCH:
        raise ValueError(f"a team members query holds 1-{TEAM_MEMBERS_BATCH} teams, "
                         f"got {len(items)}")
    params: list[str] = []
    fields: list[str] = []
    variables: dict[str, Any] = {}
    for i, (team_id, after) in enumerate(items):
        params += [f"$id{i}: ID!", f"$after{i}: String"]
        variables[f"id{i}"] = team_id
        variables[f"after{i}"] = after
        fields.append(
            f"  t{i}: node(id: $id{i}) {{ ... on Team {{ id members(first: "
            f"{TEAM_MEMBERS_PAGE_SIZE}, after: $after{i}, membership: IMMEDIATE) "
            "{ ...TeamMemberPage } } }"
        )
    text = "\n".join(
        [f"query TeamMemberPages({', '.join(params)}) {{", f"  {RATE_LIMIT}", *fields, "}"]
    )
    return with_fragments(text), variables


# PRs per checks query. `CheckRun.isRequired` needs the PR as an argument, so each PR is
# its own `node(id:)` alias with its own variable rather than one shared `nodes(ids:)`
# fragment. An alias holds one connection (`statusCheckRollup.contexts(first: 100)`), so
# it costs 1 request: 149 aliases = 149 requests, which GitHub rounds to 1 point
# ((149 + 50) // 100). 1,000 PRs: ceil(1000 / 149) = 7 points, under the budget of 15.
# Asking the head commit instead (`commits(last: 1) { nodes { commit { statusCheckRollup
# ... } } }`) adds a second connection per PR: 74 PRs a point, 14 points per 1,000.
# Follow-ups (a rollup past 100 contexts) use the same shape with a cursor per alias.
# tests/test_queries.py recomputes these figures with the emulator's cost formula.
CHECKS_BATCH = 149
CHECKS_PAGE_SIZE = 100


def checks_query(items: Sequence[tuple[str, str | None]]) -> tuple[str, dict[str, Any]]:
    """One query reading several PRs' head-commit checks (``statusCheckRollup``).

    ``items`` are ``(pull_request_node_id, after_cursor)`` (None: the first page); alias
    ``pr<i>`` answers item ``i``.

    >>> text, variables = checks_query([("PR_1", None)])
    >>> variables, "pr0: node(id: $id0)" in text and "isRequired(pullRequestId: $id0)" in text
    ({'id0': 'PR_1', 'after0': None}, True)
    """
    if not 1 <= len(items) <= CHECKS_BATCH:
        raise ValueError(f"a checks query holds 1-{CHECKS_BATCH} PRs, got {len(items)}")
    params: list[str] = []
    fields: list[str] = []
    variables: dict[str, Any] = {}
    for i, (pr_id, after) in enumerate(items):
        params += [f"$id{i}: ID!", f"$after{i}: String"]
        variables[f"id{i}"] = pr_id
        variables[f"after{i}"] = after
        fields.append(
            f"  pr{i}: node(id: $id{i}) {{ ... on PullRequest {{ id statusCheckRollup {{ "
            f"state contexts(first: {CHECKS_PAGE_SIZE}, after: $after{i}) {{ totalCount "
            "pageInfo { hasNextPage endCursor } nodes { ...CheckContextFields "
            f"... on CheckRun {{ isRequired(pullRequestId: $id{i}) }} "
            f"... on StatusContext {{ isRequired(pullRequestId: $id{i}) }} }} }} }} }} }}"
        )
    text = "\n".join(
        [f"query PullRequestChecks({', '.join(params)}) {{", f"  {RATE_LIMIT}", *fields, "}"]
    )
    return with_fragments(text), variables
