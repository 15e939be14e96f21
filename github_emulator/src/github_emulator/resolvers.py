"""Render world objects for graphql-core, and run a prepared query against a world.

Each world object becomes a dict keyed by the schema's field names; a value that is
callable is called with ``(info, **args)`` (connections, fields with arguments, lazy
parents). ``__typename`` picks the concrete type of ``Actor``, ``Node`` and the
``requestedReviewer`` union. Fields the world does not model resolve to ``null`` when
the schema allows it, else to a neutral value of the right type (``""``, ``0``,
``false``, the clock, an empty connection), so any schema-valid query gets an answer.
"""

from __future__ import annotations

import bisect
import functools
import json
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    execute,
    get_named_type,
    is_abstract_type,
    is_enum_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)

from .checks import render_rollup
from . import deploys
from .cost import is_connection_field
from .errors import GitHubFieldError, format_execution_error, pagination_error
from .executor import Unsupported, execute_compiled, never_awaitable
from .ids import decode_cursor, encode_cursor
from .ids import node_id
from .world import (
    Actor,
    ActorKind,
    Commit,
    Issue,
    IssueComment,
    ReviewComment,
    Label,
    Milestone,
    Owner,
    PullRequest,
    Repository,
    Review,
    ReviewRequest,
    Team,
    TimelineEvent,
    World,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
# GitHub refuses more ids than this in one ``nodes(ids:)`` (ARGUMENT_LIMIT).
MAX_NODE_IDS = 100
Obj = dict[str, Any]


@dataclass
class ExecContext:
    """Per-request context handed to resolvers."""

    world: World
    rate_limit: Obj  # what ``rateLimit { ... }`` returns for this request
    max_page_size: int = 100
    #: who asks: ``"token"`` (a personal access token) or ``"installation"`` (a GitHub App)
    credential_kind: str = "token"
    #: a classic token's scopes (None: not limited by scopes, e.g. a fine-grained token)
    scopes: frozenset[str] | None = None
    #: an installation token's permissions (``{"members": "read", ...}``)
    permissions: dict[str, str] | None = None
    #: set when a field needed a scope the token lacks: GitHub then answers no data at all
    insufficient_scopes: bool = False


def iso(value: datetime | None) -> str | None:
    """GitHub's DateTime format: ``2026-10-05T09:00:00Z``.

    >>> iso(datetime(2026, 10, 5, 9, 0, 0, 123))
    '2026-10-05T09:00:00Z'
    """
    # isoformat is ~4x faster than strftime, and a listing page formats thousands.
    return None if value is None else value.isoformat(timespec="seconds")[:19] + "Z"


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


# --- connections --------------------------------------------------------------------


class _Desc:
    """Inverts comparisons so bisect works on a descending list."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key

    def __lt__(self, other: _Desc) -> bool:
        return other.key < self.key


def _selects_items(info: GraphQLResolveInfo) -> bool:
    """Does the query read ``nodes``/``edges`` of this connection (through fragments)?"""

    def walk(selection_set: SelectionSetNode | None) -> bool:
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode) and sel.name.value in ("nodes", "edges"):
                return True
            if isinstance(sel, InlineFragmentNode) and walk(sel.selection_set):
                return True
            if isinstance(sel, FragmentSpreadNode):
                fragment = info.fragments.get(sel.name.value)
                if fragment is not None and walk(fragment.selection_set):
                    return True
        return False

    return any(walk(node.selection_set) for node in info.field_nodes)


def check_pagination(info: GraphQLResolveInfo, first: int | None, last: int | None) -> None:
    """Raise GitHub's pagination error for this connection field, if any."""
    if first is None and last is None and not _selects_items(info):
        return  # GitHub accepts e.g. ``issues { totalCount }`` without a boundary.
    context: ExecContext = info.context
    error = pagination_error(info.field_name, first, last, context.max_page_size)
    if error is not None:
        raise error


def connection(
    info: GraphQLResolveInfo,
    items: Sequence[T],
    key: Callable[[T], tuple[Any, ...]],
    render: Callable[[T], Any],
    *,
    descending: bool = False,
    first: int | None = None,
    last: int | None = None,
    after: str | None = None,
    before: str | None = None,
    edge_fields: Callable[[T], Obj] | None = None,
) -> Obj:
    """A Relay connection over ``items`` (already in ``key`` order, or reverse order when
    ``descending``), with keyset cursors, ``totalCount`` and full ``pageInfo``.
    ``edge_fields`` adds fields of an edge beside its node (a team member's ``role``)."""
    check_pagination(info, first, last)
    start = 0 if after is None else _position(items, key, after, descending, past=True)
    end = len(items) if before is None else _position(items, key, before, descending, past=False)
    end = max(start, end)
    lo, hi = start, end
    if first is not None:
        hi = min(hi, lo + first)
    if last is not None:
        lo = max(lo, hi - last)
    page = items[lo:hi]
    cursors = [encode_cursor(key(item)) for item in page]

    def nodes(_info: GraphQLResolveInfo, **_: Any) -> list[Any]:
        return [render(item) for item in page]

    def edges(_info: GraphQLResolveInfo, **_: Any) -> list[Obj]:
        return [{"cursor": c, "node": render(item), **(edge_fields(item) if edge_fields else {})}
                for c, item in zip(cursors, page, strict=True)]

    return {
        "totalCount": len(items),
        "filteredCount": len(items),
        "pageCount": hi - lo,
        "pageInfo": {
            "hasNextPage": hi < len(items),
            "hasPreviousPage": lo > 0,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
        "nodes": nodes,
        "edges": edges,
    }


def _position(
    items: Sequence[T],
    key: Callable[[T], tuple[Any, ...]],
    cursor: str,
    descending: bool,
    *,
    past: bool,
) -> int:
    """Index of the first item after (``past``) or at the cursor's key, by bisection."""
    wrap: Callable[[tuple[Any, ...]], Any] = _Desc if descending else (lambda k: k)
    cursor_key = decode_cursor(cursor)
    try:
        if cursor_key is None:
            raise TypeError
        find = bisect.bisect_right if past else bisect.bisect_left
        return find(items, wrap(cursor_key), key=lambda item: wrap(key(item)))
    except TypeError:  # undecodable, or a key of another shape (a cursor from elsewhere)
        message = f"`{cursor}` does not appear to be a valid cursor."
        raise GitHubFieldError("INVALID_CURSOR_ARGUMENTS", message) from None


def _empty_connection(info: GraphQLResolveInfo, **args: Any) -> Obj:
    return connection(info, [], lambda _: (), lambda x: x, first=args.get("first"),
                      last=args.get("last"), after=None, before=None)


def _page_args(args: dict[str, Any]) -> dict[str, Any]:
    return {k: args.get(k) for k in ("first", "last", "after", "before")}


def _order(args: dict[str, Any], default_field: str) -> tuple[str, bool]:
    """``(field, descending)`` from an ``orderBy`` argument (ascending by default)."""
    order = args.get("orderBy") or {}
    return order.get("field", default_field), order.get("direction", "ASC") == "DESC"


# --- renderers ------------------------------------------------------------------------


def render_actor(actor: Actor | None) -> Obj | None:
    """``None`` or a deleted account render as ``null`` (GitHub's ghost)."""
    if actor is None or actor.deleted:
        return None
    if isinstance(actor, Owner):
        return render_owner(actor)
    return _actor_fields(actor)


def _actor_fields(actor: Actor) -> Obj:
    path = actor.url.removeprefix("https://github.com")
    avatar = f"https://avatars.githubusercontent.com/u/{actor.database_id}?v=4"
    return {
        "__typename": actor.kind.value,
        "id": actor.id,
        "login": actor.login,
        "name": actor.name,
        "url": actor.url,
        "resourcePath": path,
        "avatarUrl": lambda _info, size=None, **_: avatar + (f"&s={size}" if size else ""),
        "createdAt": iso(actor.created_at),
        "updatedAt": iso(actor.created_at),
        "databaseId": actor.database_id,
        "email": "",
        "isViewer": False,
    }


def render_owner(owner: Owner) -> Obj:
    out = _actor_fields(owner)

    def repositories(info: GraphQLResolveInfo, **args: Any) -> Obj:
        repos = list(owner.repositories)
        if args.get("isArchived") is not None:
            repos = [r for r in repos if r.is_archived == args["isArchived"]]
        if args.get("isFork"):
            repos = []  # the world has no forks
        privacy = args.get("privacy")
        if privacy is not None:
            repos = [r for r in repos if r.is_private == (privacy == "PRIVATE")]
        affiliations = args.get("ownerAffiliations")
        if affiliations is not None and "OWNER" not in affiliations:
            repos = []  # every repository in the world is reached through its owner
        field, desc = _order(args, "CREATED_AT")
        key: Callable[[Repository], tuple[Any, ...]]
        if field == "NAME":
            key = lambda r: (r.name.lower(), r.database_id)  # noqa: E731
        else:
            key = lambda r: (_epoch(r.created_at), r.database_id)  # noqa: E731
        repos.sort(key=key, reverse=desc)
        return connection(info, repos, key, render_repository, descending=desc, **_page_args(args))

    def repository(_info: GraphQLResolveInfo, name: str, **_: Any) -> Obj | None:
        lowered = name.lower()
        found = next((r for r in owner.repositories if r.name.lower() == lowered), None)
        return None if found is None else render_repository(found)

    out["repositories"] = repositories
    out["repository"] = repository
    if owner.kind is ActorKind.ORGANIZATION:

        def team(info: GraphQLResolveInfo, slug: str, **_: Any) -> Obj | None:
            check_team_access(info, owner, "team")
            found = owner.teams.get(slug.lower())
            return None if found is None else render_team(found)

        def teams(info: GraphQLResolveInfo, **args: Any) -> Obj:
            check_team_access(info, owner, "teams")
            found = sorted(owner.teams.values(), key=lambda t: t.slug)
            if args.get("rootTeamsOnly"):
                found = [t for t in found if t.parent is None]
            if args.get("userLogins"):
                wanted = {login.lower() for login in args["userLogins"]}
                found = [t for t in found if wanted & set(t.members)]
            field, desc = _order(args, "NAME")
            key: Callable[[Team], tuple[Any, ...]]
            if field == "NAME":
                key = lambda t: (t.name.lower(), t.database_id)  # noqa: E731
            else:
                key = lambda t: (_epoch(t.created_at), t.database_id)  # noqa: E731
            found.sort(key=key, reverse=desc)
            return connection(info, found, key, render_team, descending=desc,
                              **_page_args(args))

        out["team"] = team
        out["teams"] = teams
    return out


# A classic token needs one of these scopes to read an organization's teams.
TEAM_SCOPES = frozenset({"read:org", "write:org", "admin:org"})


def check_team_access(info: GraphQLResolveInfo, owner: Owner, field_name: str) -> None:
    """Raise GitHub's error when the credential may not read ``owner``'s teams.

    A classic token without ``read:org``: INSUFFICIENT_SCOPES, and GitHub answers no data
    at all. An App installation without *Members: read*, or an organization this token's
    grant lacks it for (:meth:`World.deny_team_access`): FORBIDDEN at the field, whose
    non-null type then nulls the organization.
    """
    context: ExecContext = info.context
    if context.scopes is not None and not context.scopes & TEAM_SCOPES:
        context.insufficient_scopes = True
        granted = ", ".join(f"'{s}'" for s in sorted(context.scopes))
        raise GitHubFieldError(
            "INSUFFICIENT_SCOPES",
            "Your token has not been granted the required scopes to execute this query. The "
            f"'{field_name}' field requires one of the following scopes: ['read:org'], but "
            f"your token has only been granted the: [{granted}] scopes. Please modify your "
            "token's scopes at: https://github.com/settings/tokens.",
        )
    integration = context.credential_kind == "installation"
    lacks_members = integration and (context.permissions or {}).get("members") not in (
        "read", "write")
    if lacks_members or owner.teams_forbidden:
        who = "integration" if integration else "personal access token"
        raise GitHubFieldError("FORBIDDEN", f"Resource not accessible by {who}")


def _member_edges(team: Team, membership: str) -> list[tuple[Actor, str]]:
    """``(user, role)`` of a team's members: IMMEDIATE, CHILD_TEAM (members of teams below
    it) or ALL; a member through a child team only is a MEMBER of this one."""
    immediate = {login: (m.actor, m.role) for login, m in team.members.items()}
    below: dict[str, tuple[Actor, str]] = {}
    for child in team.descendants():
        for login, m in child.members.items():
            below.setdefault(login, (m.actor, "MEMBER"))
    if membership == "IMMEDIATE":
        chosen = immediate
    elif membership == "CHILD_TEAM":
        chosen = {k: v for k, v in below.items() if k not in immediate}
    else:
        chosen = {**below, **immediate}
    return [v for _, v in sorted(chosen.items()) if not v[0].deleted]


def render_team(team: Team) -> Obj:
    def members(info: GraphQLResolveInfo, **args: Any) -> Obj:
        edges = _member_edges(team, args.get("membership") or "ALL")
        if args.get("role"):
            edges = [e for e in edges if e[1] == args["role"]]
        if args.get("query"):
            edges = [e for e in edges if args["query"].lower() in e[0].login.lower()]
        return connection(info, edges, lambda e: (e[0].login.lower(),),
                          lambda e: render_actor(e[0]), edge_fields=lambda e: {"role": e[1]},
                          **_page_args(args))

    return {
        "__typename": "Team",
        "id": team.id,
        "slug": team.slug,
        "name": team.name,
        "databaseId": team.database_id,
        "createdAt": iso(team.created_at),
        "combinedSlug": f"{team.organization.login}/{team.slug}",
        "url": team.url,
        "resourcePath": team.url.removeprefix("https://github.com"),
        "organization": lambda _info, **_: render_owner(team.organization),
        "parentTeam": lambda _info, **_: render_team(team.parent) if team.parent else None,
        "childTeams": lambda info, **args: connection(
            info,
            sorted(team.children() if args.get("immediateOnly", True) else team.descendants(),
                   key=lambda t: t.slug),
            lambda t: (t.slug,), render_team, **_page_args(args)),
        "members": members,
    }


def render_repository(repo: Repository) -> Obj:
    def pull_requests(info: GraphQLResolveInfo, **args: Any) -> Obj:
        field, desc = _order(args, "CREATED_AT")
        attr = "updated_at" if field == "UPDATED_AT" else "created_at"
        prs: Sequence[PullRequest] = repo.sorted_prs(attr, desc)
        states = args.get("states")
        labels = args.get("labels")
        base, head = args.get("baseRefName"), args.get("headRefName")
        if states or labels or base or head:
            wanted = {x.lower() for x in labels or ()}
            prs = [
                pr for pr in prs
                if (not states or pr.state in states)
                and (not wanted or any(lb.name.lower() in wanted for lb in pr.labels))
                and (base is None or pr.base_ref_name == base)
                and (head is None or pr.head_ref_name == head)
            ]
        return connection(
            info, prs, lambda pr: (_epoch(getattr(pr, attr)), pr.number), render_pull_request,
            descending=desc, **_page_args(args),
        )

    def issues(info: GraphQLResolveInfo, **args: Any) -> Obj:
        field, desc = _order(args, "CREATED_AT")
        attr = "updated_at" if field == "UPDATED_AT" else "created_at"
        found = [i for i in repo.issues if not args.get("states") or i.state in args["states"]]
        key = lambda i: (_epoch(getattr(i, attr)), i.number)  # noqa: E731
        found.sort(key=key, reverse=desc)
        return connection(info, found, key, render_issue, descending=desc, **_page_args(args))

    def labels(info: GraphQLResolveInfo, **args: Any) -> Obj:
        return _labels_connection(info, repo.labels, args)

    def milestones(info: GraphQLResolveInfo, **args: Any) -> Obj:
        found = [m for m in repo.milestones if not args.get("states") or m.state in args["states"]]
        return connection(info, found, lambda m: (m.number,), render_milestone, **_page_args(args))

    def one_pr(_info: GraphQLResolveInfo, number: int, **_: Any) -> Obj | None:
        pr = repo.pull_request(number)
        return None if pr is None else render_pull_request(pr)

    def one_label(_info: GraphQLResolveInfo, name: str, **_: Any) -> Obj | None:
        label = repo.label(name)
        return None if label is None else render_label(label)

    def one_issue(_info: GraphQLResolveInfo, number: int, **_: Any) -> Obj | None:
        issue = repo.issue(number)
        return None if issue is None else render_issue(issue)

    return {
        "__typename": "Repository",
        "id": repo.id,
        "databaseId": repo.database_id,
        "name": repo.name,
        "nameWithOwner": repo.name_with_owner,
        "owner": lambda _info, **_: render_owner(repo.owner),
        "isArchived": repo.is_archived,
        "isPrivate": repo.is_private,
        "visibility": "PRIVATE" if repo.is_private else "PUBLIC",
        "isFork": False,
        "isInOrganization": repo.owner.kind is ActorKind.ORGANIZATION,
        "description": repo.description,
        "url": repo.url,
        "resourcePath": f"/{repo.name_with_owner}",
        "sshUrl": f"git@github.com:{repo.name_with_owner}.git",
        "createdAt": iso(repo.created_at),
        "updatedAt": iso(repo.created_at),
        "pushedAt": iso(repo.created_at),
        "pullRequests": pull_requests,
        "pullRequest": one_pr,
        "issues": issues,
        "issue": one_issue,
        "issueOrPullRequest": lambda info, number, **_: (
            one_pr(info, number) or one_issue(info, number)
        ),
        "labels": labels,
        "label": one_label,
        "milestones": milestones,
        "milestone": lambda _info, number, **_: render_milestone(repo.milestone(number)),
        **deploys.repository_fields(repo),
    }


def _labels_connection(
    info: GraphQLResolveInfo, labels: Sequence[Label], args: dict[str, Any]
) -> Obj:
    # Label ordering defaults to CREATED_AT ASC in the schema (LabelOrder).
    field, desc = _order(args, "CREATED_AT")
    key: Callable[[Label], tuple[Any, ...]]
    if field == "NAME":
        key = lambda lb: (lb.name.lower(), lb.local_id)  # noqa: E731
    else:
        key = lambda lb: (_epoch(lb.created_at), lb.local_id)  # noqa: E731
    ordered = sorted(labels, key=key, reverse=desc)
    return connection(info, ordered, key, render_label, descending=desc, **_page_args(args))


def render_label(label: Label) -> Obj:
    repo = label.repository
    return {
        "__typename": "Label",
        "id": label.id,
        "name": label.name,
        "color": label.color,
        "description": label.description,
        "isDefault": label.is_default,
        "createdAt": iso(label.created_at),
        "updatedAt": iso(label.created_at),
        "url": f"{repo.url}/labels/{label.name}",
        "resourcePath": f"/{repo.name_with_owner}/labels/{label.name}",
        "repository": lambda _info, **_: render_repository(repo),
    }


def render_milestone(m: Milestone | None) -> Obj | None:
    if m is None:
        return None
    repo = m.repository
    return {
        "__typename": "Milestone",
        "id": m.id,
        "number": m.number,
        "title": m.title,
        "state": m.state,
        "closed": m.state == "CLOSED",
        "dueOn": iso(m.due_on),
        "description": m.description,
        "createdAt": iso(m.created_at),
        "updatedAt": iso(m.created_at),
        "url": f"{repo.url}/milestone/{m.number}",
        "resourcePath": f"/{repo.name_with_owner}/milestone/{m.number}",
        "repository": lambda _info, **_: render_repository(repo),
    }


def render_issue(issue: Issue) -> Obj:
    repo = issue.repository
    return {
        "__typename": "Issue",
        "id": issue.id,
        "number": issue.number,
        "title": issue.title,
        "state": issue.state,
        "closed": issue.state == "CLOSED",
        "body": issue.body,
        "bodyText": issue.body,
        "author": render_actor(issue.author),
        "createdAt": iso(issue.created_at),
        "updatedAt": iso(issue.updated_at),
        "closedAt": iso(issue.closed_at),
        "url": issue.url,
        "resourcePath": issue.url.removeprefix("https://github.com"),
        "repository": lambda _info, **_: render_repository(repo),
    }


def render_review_comment(comment: ReviewComment) -> Obj:
    review = comment.review
    pr = review.pull_request
    return {
        "__typename": "PullRequestReviewComment",
        "id": comment.id,
        "databaseId": comment.local_id,
        "author": render_actor(review.author),
        "body": comment.body,
        "bodyText": comment.body,
        "path": comment.path,
        "createdAt": iso(comment.created_at),
        "updatedAt": iso(comment.created_at),
        "publishedAt": iso(review.submitted_at),
        "url": f"{pr.url}#discussion_r{review.local_id}{comment.local_id}",
        "pullRequest": lambda _info, **_: render_pull_request(pr),
        "pullRequestReview": lambda _info, **_: render_review(review),
        "repository": lambda _info, **_: render_repository(pr.repository),
    }


def render_review(review: Review) -> Obj:
    pr = review.pull_request

    def comments(info: GraphQLResolveInfo, **args: Any) -> Obj:
        return connection(info, review.comments, lambda c: (c.local_id,),
                          render_review_comment, **_page_args(args))

    return {
        "comments": comments,
        "__typename": "PullRequestReview",
        "id": review.id,
        "databaseId": review.local_id,
        "state": review.state,
        "body": review.body,
        "bodyText": review.body,
        "submittedAt": iso(review.submitted_at),
        "createdAt": iso(review.submitted_at or pr.created_at),
        "updatedAt": iso(review.submitted_at or pr.created_at),
        "publishedAt": iso(review.submitted_at),
        "author": render_actor(review.author),
        "url": f"{pr.url}#pullrequestreview-{review.local_id}",
        "pullRequest": lambda _info, **_: render_pull_request(pr),
        "repository": lambda _info, **_: render_repository(pr.repository),
    }


def render_reviewer(target: Actor | Team | None) -> Obj | None:
    """A ``RequestedReviewer`` (User, Bot, Mannequin or Team); a deleted account is null."""
    return render_team(target) if isinstance(target, Team) else render_actor(target)


def render_review_request(request: ReviewRequest) -> Obj:
    return {
        "__typename": "ReviewRequest",
        "id": request.id,
        "asCodeOwner": False,
        "requestedReviewer": render_reviewer(request.requested_reviewer),
        "pullRequest": lambda _info, **_: render_pull_request(request.pull_request),
    }


def item_type(typename: str) -> str:
    """The ``PullRequestTimelineItemsItemType`` value of a timeline item's GraphQL type.

    >>> item_type("ReadyForReviewEvent"), item_type("IssueComment")
    ('READY_FOR_REVIEW_EVENT', 'ISSUE_COMMENT')
    """
    return re.sub(r"(?<!^)(?=[A-Z])", "_", typename).upper()


def render_timeline_event(event: TimelineEvent) -> Obj:
    pr = event.pull_request
    out: Obj = {
        "__typename": event.kind,
        "id": event.id,
        "createdAt": iso(event.created_at),
        "actor": render_actor(event.actor),
        "url": f"{pr.url}#event-{event.local_id}",
        "resourcePath": f"{pr.url.removeprefix('https://github.com')}#event-{event.local_id}",
        "pullRequest": lambda _info, **_: render_pull_request(pr),
        "closable": lambda _info, **_: render_pull_request(pr),
    }
    if event.kind in ("ReviewRequestedEvent", "ReviewRequestRemovedEvent"):
        out["requestedReviewer"] = render_reviewer(event.requested_reviewer)
    if event.kind == "MergedEvent":
        out["mergeRefName"] = pr.base_ref_name
    if event.kind in ("LabeledEvent", "UnlabeledEvent"):
        # Label! resolves to the label as it is now (a renamed label shows its new name).
        label = event.label
        out["label"] = lambda _info, **_: render_label(label)  # type: ignore[arg-type]
        out["labelable"] = lambda _info, **_: render_pull_request(pr)
    if event.kind in ("AssignedEvent", "UnassignedEvent"):
        # Assignee is a union of Bot, Mannequin, Organization and User; a deleted account
        # is null. The deprecated `user` is the assignee when it is a User.
        assignee = render_actor(event.assignee)
        out["assignee"] = assignee
        out["user"] = assignee if assignee and assignee["__typename"] == "User" else None
        out["assignable"] = lambda _info, **_: render_pull_request(pr)
    if event.kind in ("MilestonedEvent", "DemilestonedEvent"):
        out["milestoneTitle"] = event.milestone_title
        out["subject"] = lambda _info, **_: render_pull_request(pr)
    return out


def render_issue_comment(comment: IssueComment) -> Obj:
    pr = comment.pull_request
    return {
        "__typename": "IssueComment",
        "id": comment.id,
        "databaseId": comment.local_id,
        "author": render_actor(comment.author),
        "body": comment.body,
        "bodyText": comment.body,
        "createdAt": iso(comment.created_at),
        "updatedAt": iso(comment.created_at),
        "publishedAt": iso(comment.created_at),
        "url": f"{pr.url}#issuecomment-{comment.local_id}",
        "pullRequest": lambda _info, **_: render_pull_request(pr),
        "repository": lambda _info, **_: render_repository(pr.repository),
    }


def _git_actor(commit: Commit, at: datetime) -> Obj:
    user = commit.user
    return {
        "__typename": "GitActor",
        "name": user.login if user is not None else "Someone",
        "email": f"{user.login if user is not None else 'someone'}@example.com",
        "date": iso(at),
        # GitActor.user is a User: bots, mannequins and deleted accounts map to none.
        "user": render_actor(user) if user is not None and user.kind is ActorKind.USER else None,
    }


def render_pull_request_commit(pr: PullRequest, position: int, commit: Commit) -> Obj:
    return {
        "__typename": "PullRequestCommit",
        "id": node_id("PullRequestCommit", pr.repository.database_id, pr.number, position),
        "url": f"{pr.url}/commits/{commit.oid}",
        "pullRequest": lambda _info, **_: render_pull_request(pr),
        "commit": {
            "__typename": "Commit",
            "id": f"C_{commit.oid}",
            "oid": commit.oid,
            "abbreviatedOid": commit.oid[:7],
            "message": commit.message,
            "messageHeadline": commit.message,
            "authoredDate": iso(commit.authored_at),
            "committedDate": iso(commit.committed_at),
            "author": _git_actor(commit, commit.authored_at),
            "committer": _git_actor(commit, commit.committed_at),
        },
    }


def _timeline_items(pr: PullRequest, args: dict[str, Any]) -> list[tuple[tuple[Any, ...], Any]]:
    """``(key, rendered-later item)`` of the PR's timeline, oldest first, filtered by
    ``itemTypes`` and ``since``. Events and comments share one local-id sequence (rank 0);
    submitted reviews have their own (rank 1), so keys never collide."""
    items: list[tuple[tuple[Any, ...], Any]] = [
        ((_epoch(x.created_at), 0, x.local_id), x) for x in [*pr.timeline, *pr.comments]
    ]
    items += [((_epoch(r.submitted_at), 1, r.local_id), r) for r in pr.reviews
              if r.submitted_at is not None]
    # Commits sit at their committed date (GitHub's PullRequestCommit has no createdAt),
    # numbered by their position among the PR's commits (rank 2).
    items += [((_epoch(c.committed_at), 2, position), (pr, position, c))
              for position, c in enumerate(pr.commits, start=1)]
    wanted = set(args.get("itemTypes") or ())
    if wanted:
        items = [(k, x) for k, x in items if item_type(_typename(x)) in wanted]
    since = args.get("since")
    if since:
        floor = _epoch(datetime.fromisoformat(str(since).replace("Z", "+00:00")))
        items = [(k, x) for k, x in items if k[0] >= floor]
    return sorted(items, key=lambda kx: kx[0])


def _typename(item: Any) -> str:
    if isinstance(item, TimelineEvent):
        return item.kind
    if isinstance(item, tuple):
        return "PullRequestCommit"
    return "IssueComment" if isinstance(item, IssueComment) else "PullRequestReview"


def _render_timeline_item(item: Any) -> Obj:
    if isinstance(item, TimelineEvent):
        return render_timeline_event(item)
    if isinstance(item, IssueComment):
        return render_issue_comment(item)
    if isinstance(item, tuple):
        return render_pull_request_commit(*item)
    return render_review(item)


def render_pull_request(pr: PullRequest) -> Obj:
    repo = pr.repository
    url = pr.url

    def labels(info: GraphQLResolveInfo, **args: Any) -> Obj:
        return _labels_connection(info, pr.labels, args)

    def assignees(info: GraphQLResolveInfo, **args: Any) -> Obj:
        people = sorted((a for a in pr.assignees if not a.deleted), key=lambda a: a.database_id)
        return connection(
            info, people, lambda a: (a.database_id,), render_actor, **_page_args(args)
        )

    def closing_issues(info: GraphQLResolveInfo, **args: Any) -> Obj:
        found = sorted(pr.closing_issues, key=lambda i: (i.repository.database_id, i.number))
        return connection(info, found, lambda i: (i.repository.database_id, i.number), render_issue,
                          **_page_args(args))

    def reviews(info: GraphQLResolveInfo, **args: Any) -> Obj:
        found = pr.reviews
        if args.get("states"):
            found = [r for r in found if r.state in args["states"]]
        if args.get("author"):
            login = args["author"].lower()
            found = [r for r in found if r.author is not None and r.author.login.lower() == login]
        found = sorted(found, key=lambda r: r.local_id)
        return connection(info, found, lambda r: (r.local_id,), render_review, **_page_args(args))

    def review_requests(info: GraphQLResolveInfo, **args: Any) -> Obj:
        found = sorted(pr.review_requests, key=lambda r: r.local_id)
        return connection(
            info, found, lambda r: (r.local_id,), render_review_request, **_page_args(args)
        )

    def timeline_items(info: GraphQLResolveInfo, **args: Any) -> Obj:
        keyed = _timeline_items(pr, args)
        keys = {id(x): k for k, x in keyed}
        return connection(info, [x for _, x in keyed], lambda x: keys[id(x)],
                          _render_timeline_item, **_page_args(args))

    def comments(info: GraphQLResolveInfo, **args: Any) -> Obj:
        found = sorted(pr.comments, key=lambda c: (c.created_at, c.local_id))
        return connection(info, found, lambda c: (_epoch(c.created_at), c.local_id),
                          render_issue_comment, **_page_args(args))

    def commits(info: GraphQLResolveInfo, **args: Any) -> Obj:
        numbered = list(enumerate(pr.commits, start=1))
        return connection(info, numbered, lambda pc: (pc[0],),
                          lambda pc: render_pull_request_commit(pr, *pc), **_page_args(args))

    def review_threads(info: GraphQLResolveInfo, **args: Any) -> Obj:
        database_id = pr.repository.database_id
        return connection(
            info, list(range(1, pr.review_thread_count + 1)), lambda i: (i,),
            lambda i: {"__typename": "PullRequestReviewThread", "isResolved": False,
                       "id": node_id("PullRequestReviewThread", database_id, pr.number, i)},
            **_page_args(args))

    full_id = pr.full_database_id
    return {
        "__typename": "PullRequest",
        "id": pr.id,
        "number": pr.number,
        "title": pr.title,
        "body": pr.body,
        "bodyText": pr.body,
        "url": url,
        "permalink": url,
        "resourcePath": url.removeprefix("https://github.com"),
        "state": pr.state,
        "isDraft": pr.is_draft,
        "closed": pr.state != "OPEN",
        "merged": pr.state == "MERGED",
        "locked": False,
        "createdAt": iso(pr.created_at),
        "updatedAt": iso(pr.updated_at),
        "publishedAt": iso(pr.created_at),
        "closedAt": iso(pr.closed_at),
        "mergedAt": iso(pr.merged_at),
        "additions": pr.additions,
        "deletions": pr.deletions,
        "changedFiles": pr.changed_files,
        "baseRefName": pr.base_ref_name,
        "headRefName": pr.head_ref_name,
        "isCrossRepository": False,
        "reviewDecision": pr.review_decision,
        "author": render_actor(pr.author),
        "mergedBy": render_actor(pr.merged_by),
        "milestone": render_milestone(pr.milestone),
        "labels": labels,
        "assignees": assignees,
        "closingIssuesReferences": closing_issues,
        "reviews": reviews,
        "reviewRequests": review_requests,
        "timelineItems": timeline_items,
        "comments": comments,
        "commits": commits,
        "reviewThreads": review_threads,
        "statusCheckRollup": lambda _info, **_: render_rollup(pr),
        "repository": lambda _info, **_: render_repository(repo),
        "baseRepository": lambda _info, **_: render_repository(repo),
        "headRepository": lambda _info, **_: render_repository(repo),
        "fullDatabaseId": str(full_id),
        "databaseId": full_id if full_id < 2**31 else None,
        "mergeable": "MERGEABLE" if pr.state == "OPEN" else "UNKNOWN",
        **deploys.pull_request_fields(pr),
    }


def render_node(obj: Any) -> Obj | None:
    """Render any world object reachable through ``node(id:)``."""
    match obj:
        case PullRequest():
            return render_pull_request(obj)
        case Repository():
            return render_repository(obj)
        case Owner():
            return render_owner(obj)
        case Actor():
            return render_actor(obj)
        case Team():
            return render_team(obj)
        case Label():
            return render_label(obj)
        case Milestone():
            return render_milestone(obj)
        case Issue():
            return render_issue(obj)
        case Review():
            return render_review(obj)
        case ReviewRequest():
            return render_review_request(obj)
    return deploys.render_deploy_node(obj)


# --- the root -------------------------------------------------------------------------


def root_value(world: World) -> Obj:
    """The ``Query`` root for one request."""

    def repository(_info: GraphQLResolveInfo, owner: str, name: str, **_: Any) -> Obj:
        repo = world.find_repository(owner, name)
        if repo is None:
            raise GitHubFieldError(
                "NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'."
            )
        return render_repository(repo)

    def repository_owner(_info: GraphQLResolveInfo, login: str, **_: Any) -> Obj | None:
        # GitHub answers an unknown owner with null and no error.
        owner = world.owners.get(login.lower())
        return None if owner is None else render_owner(owner)

    def organization(_info: GraphQLResolveInfo, login: str, **_: Any) -> Obj:
        owner = world.owners.get(login.lower())
        if owner is None or owner.kind is not ActorKind.ORGANIZATION:
            raise GitHubFieldError(
                "NOT_FOUND", f"Could not resolve to an Organization with the login of '{login}'."
            )
        return render_owner(owner)

    def user(_info: GraphQLResolveInfo, login: str, **_: Any) -> Obj:
        actor = world.actors.get(login.lower())
        if actor is None or actor.kind is not ActorKind.USER or actor.deleted:
            message = f"Could not resolve to a User with the login of '{login}'."
            raise GitHubFieldError("NOT_FOUND", message)
        return render_actor(actor)  # type: ignore[return-value]

    def lookup(node_id: str) -> Obj | GitHubFieldError:
        rendered = render_node(world.find_node(node_id))
        if rendered is None:
            message = f"Could not resolve to a node with the global id of '{node_id}'"
            return GitHubFieldError("NOT_FOUND", message)
        return rendered

    def node(_info: GraphQLResolveInfo, id: str, **_: Any) -> Obj:  # noqa: A002 (schema name)
        found = lookup(id)
        if isinstance(found, GitHubFieldError):
            raise found
        return found

    def nodes(_info: GraphQLResolveInfo, ids: list[str], **_: Any) -> list[Any]:
        if len(ids) > MAX_NODE_IDS:
            message = (f"You may not provide more than {MAX_NODE_IDS} node ids; "
                       f"you provided {len(ids)}.")
            raise GitHubFieldError("ARGUMENT_LIMIT", message)
        # An Exception as a list item becomes an error at ["nodes", i] with a null item.
        return [lookup(i) for i in ids]

    def viewer(_info: GraphQLResolveInfo, **_: Any) -> Obj | None:
        return render_actor(world.actors.get(world.viewer_login.lower()))

    return {
        "repository": repository,
        "repositoryOwner": repository_owner,
        "organization": organization,
        "user": user,
        "node": node,
        "nodes": nodes,
        "viewer": viewer,
        "rateLimit": lambda info, **_: info.context.rate_limit,
    }


# --- fallback for unmodeled fields -----------------------------------------------------

_SCALAR_DEFAULTS: dict[str, Any] = {
    "String": "", "ID": "", "Int": 0, "Float": 0.0, "Boolean": False, "URI": "https://github.com/",
    "HTML": "", "GitObjectID": "0" * 40, "GitSSHRemote": "", "BigInt": "0", "Base64String": "",
    "X509Certificate": "", "GitRefname": "refs/heads/main", "CustomPropertyValue": "",
}  # fmt: skip
_CLOCK_SCALARS = frozenset({"DateTime", "GitTimestamp", "PreciseDateTime"})


@functools.lru_cache(maxsize=4096)
def _fallback_plan(parent: GraphQLObjectType, field_name: str) -> tuple[str, Any]:
    """How to answer an unmodeled field: ``(kind, payload)`` with kind one of null, value,
    clock, date, connection, object, abstract. Cached: it depends on the schema only."""
    field = parent.fields[field_name]
    if is_connection_field(field):
        return "connection", None
    if not is_non_null_type(field.type):
        return "null", None
    inner = field.type.of_type
    if is_list_type(inner):
        return "value", ()
    named = get_named_type(inner)
    if named.name in _CLOCK_SCALARS:
        return "clock", None
    if named.name == "Date":
        return "date", None
    if is_enum_type(named):
        assert isinstance(named, GraphQLEnumType)
        return "value", next(iter(named.values))
    if is_object_type(named):
        return "object", named.name
    if is_abstract_type(named):
        return "abstract", named
    return "value", _SCALAR_DEFAULTS.get(named.name, "")


def resolve_field(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """graphql-core field resolver: dict key (calling callables), else the fallback."""
    if isinstance(source, dict):
        value = source.get(info.field_name, _MISSING)
        if value is not _MISSING:
            return value(info, **args) if callable(value) else value
    kind, payload = _fallback_plan(info.parent_type, info.field_name)
    if kind == "null":
        return None
    if kind == "value":
        return [] if payload == () else payload
    if kind == "clock":
        return iso(info.context.world.now)
    if kind == "date":
        return info.context.world.now.date().isoformat()
    if kind == "connection":
        return _empty_connection(info, **args)
    if kind == "object":
        return {"__typename": payload}
    possible = info.schema.get_possible_types(payload)
    return {"__typename": possible[0].name} if possible else None


_MISSING = object()


def resolve_type(value: Any, _info: GraphQLResolveInfo, _abstract: Any) -> str | None:
    return value.get("__typename") if isinstance(value, dict) else None


def execute_reference(
    schema: GraphQLSchema,
    document: DocumentNode,
    context: ExecContext,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> ExecutionResult:
    """graphql-core's own executor on the world: what :func:`run_query` falls back to, and
    the reference the compiled executor is compared with in tests."""
    result = execute(
        schema,
        document,
        root_value=root_value(context.world),
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        field_resolver=resolve_field,
        type_resolver=resolve_type,
        is_awaitable=never_awaitable,
    )
    assert isinstance(result, ExecutionResult)
    return result


# Set (to anything) to execute every query with graphql-core too and fail the request
# (HTTP 500) when the answers differ: how the compiled executor is checked in tests.
COMPARE_EXECUTORS_ENV = "GITHUB_EMULATOR_COMPARE_EXECUTORS"


class ExecutorMismatch(AssertionError):
    """The compiled executor answered otherwise than graphql-core."""


def answer_difference(result: ExecutionResult, reference: ExecutionResult) -> str | None:
    """How two executions' answers differ as GitHub would send them (key order counts),
    or ``None``.

    >>> answer_difference(ExecutionResult({"a": 1}), ExecutionResult({"a": 1}))
    >>> answer_difference(ExecutionResult({"a": 1}), ExecutionResult({"a": 2}))
    'data: {"a":1} != {"a":2}'
    """
    def errors(execution: ExecutionResult) -> list[dict[str, Any]]:
        return [format_execution_error(e) for e in execution.errors or ()]

    for part, ours, theirs in (("data", result.data, reference.data),
                               ("errors", errors(result), errors(reference))):
        left, right = (json.dumps(x, separators=(",", ":"), default=repr) for x in (ours, theirs))
        if left != right:
            return f"{part}: {left[:2000]} != {right[:2000]}"
    return None


def run_query(
    schema: GraphQLSchema,
    document: DocumentNode,
    context: ExecContext,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> ExecutionResult:
    """Execute a validated document against the world (caller holds ``world.lock``)."""
    root = root_value(context.world)
    try:
        result = execute_compiled(schema, document, root, context, variables, operation_name,
                                  field_resolver=resolve_field, type_resolver=resolve_type)
    except Unsupported as reason:
        log.debug("graphql-core executes this query: %s", reason)
        result = execute_reference(schema, document, context, variables, operation_name)
    else:
        if os.environ.get(COMPARE_EXECUTORS_ENV):
            reference = execute_reference(schema, document, context, variables, operation_name)
            difference = answer_difference(result, reference)
            if difference:
                raise ExecutorMismatch(difference)
    for error in result.errors or ():
        if not isinstance(error.original_error, (GitHubFieldError, type(None))):
            log.error("resolver failed at %s", error.path, exc_info=error.original_error)
    return result


__all__ = [
    "ExecContext",
    "connection",
    "iso",
    "render_pull_request",
    "root_value",
    "execute_reference",
    "run_query",
]
