"""The emulator's in-memory world: owners, repositories, pull requests and their parts.

Plain dataclasses with snake_case fields; :mod:`.resolvers` renders them with GitHub's
schema names. The world has its own clock (``world.now``, tz-aware UTC, never the wall
clock) so scenarios are reproducible: tests move time and mutate the world between runs.

>>> from github_emulator import build_world
>>> world = build_world()
>>> pr = world.add_pull_request("acme/docs", title="Fix typo", author="alice")
>>> _ = world.advance(hours=2)
>>> world.merge("acme/docs", pr.number, by="bob").state
'MERGED'

Mutators take the world lock, so they are safe while a server is answering; they also
keep ``updatedAt`` honest (any visible change touches the pull request, as on GitHub).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from .ids import decode_node_id, node_id

DEFAULT_NOW = datetime(2026, 11, 1, tzinfo=UTC)
"""The default world clock: fixed, so every build of a world is identical."""

PR_STATES = ("OPEN", "CLOSED", "MERGED")
REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
REVIEW_DECISIONS = ("APPROVED", "CHANGES_REQUESTED", "REVIEW_REQUIRED")
# The timeline events the world models (GraphQL type names); issue comments and reviews
# are timeline items too, kept in their own lists.
TIMELINE_EVENT_KINDS = (
    "ReadyForReviewEvent", "ConvertToDraftEvent", "ReviewRequestedEvent",
    "ReviewRequestRemovedEvent", "ClosedEvent", "ReopenedEvent", "MergedEvent",
    "LabeledEvent", "UnlabeledEvent", "AssignedEvent", "UnassignedEvent",
    "MilestonedEvent", "DemilestonedEvent", "HeadRefForcePushedEvent",
)  # fmt: skip
# What each history event names (the field it needs, see TimelineEvent).
LABEL_EVENT_KINDS = ("LabeledEvent", "UnlabeledEvent")
ASSIGNEE_EVENT_KINDS = ("AssignedEvent", "UnassignedEvent")
MILESTONE_EVENT_KINDS = ("MilestonedEvent", "DemilestonedEvent")

# Fields whose change can reorder a repository's pull requests (see Repository.sorted_prs).
_ORDER_FIELDS = frozenset({"created_at", "updated_at"})


class ActorKind(str, Enum):
    """The concrete GraphQL type of an ``Actor`` (the schema's type names)."""

    USER = "User"
    BOT = "Bot"
    MANNEQUIN = "Mannequin"
    ORGANIZATION = "Organization"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the world clock is tz-aware UTC")
    # GitHub's timestamps have whole seconds; keeping ours whole keeps cursors exact.
    return value.astimezone(UTC).replace(microsecond=0)


@dataclass(eq=False)
class Actor:
    """A user, bot, mannequin or organization. ``None`` in an author field means a
    deleted account (REST calls it "ghost"); :meth:`World.delete_account` makes an
    existing actor render as ``None`` everywhere.

    GraphQL's ``Bot.login`` has no ``[bot]`` suffix (``dependabot``, not
    ``dependabot[bot]`` as REST shows it), so the world stores the GraphQL form.
    """

    login: str
    kind: ActorKind = ActorKind.USER
    database_id: int = 0
    name: str | None = None
    created_at: datetime = datetime(2015, 1, 1, tzinfo=UTC)
    deleted: bool = False

    @property
    def id(self) -> str:
        return node_id(self.kind.value, 0, self.database_id)

    @property
    def url(self) -> str:
        if self.kind is ActorKind.BOT:
            return f"https://github.com/apps/{self.login}"
        return f"https://github.com/{self.login}"


@dataclass(eq=False)
class Owner(Actor):
    """An organization or user that owns repositories (``RepositoryOwner``)."""

    repositories: list[Repository] = field(default_factory=list, repr=False)
    teams: dict[str, Team] = field(default_factory=dict, repr=False)
    #: the token's access to this organization lacks *Members: read* (a fine-grained token
    #: or an App installation granted without it): its ``teams``/``team`` answer FORBIDDEN
    teams_forbidden: bool = field(default=False, repr=False)
    #: ``(at, {slug: (name, parent slug, {login: role})})`` after every team change, oldest
    #: first: what the organization's teams were from ``at`` on (ground truth for tests)
    team_history: list[tuple[datetime, dict[str, tuple[str, str | None, dict[str, str]]]]] = (
        field(default_factory=list, repr=False))

    def team_state(self) -> dict[str, tuple[str, str | None, dict[str, str]]]:
        """The teams now: ``{slug: (name, parent slug, {login: role})}`` (immediate members)."""
        return {
            team.slug: (team.name, team.parent.slug if team.parent else None,
                        {m.actor.login: m.role for m in team.members.values()})
            for team in self.teams.values()
        }


TEAM_ROLES = ("MAINTAINER", "MEMBER")


@dataclass(eq=False)
class TeamMember:
    """An immediate member of a team, with the role GitHub gives on the edge."""

    actor: Actor
    role: str = "MEMBER"  # one of TEAM_ROLES


@dataclass(eq=False)
class Team:
    """An organization team; can be a requested reviewer. ``parent`` nests it (a member of
    a child team is a member of its parent, GitHub's rule); ``members`` are the immediate
    members by lower-cased login."""

    organization: Owner
    slug: str
    name: str
    database_id: int = 0
    parent: Team | None = None
    members: dict[str, TeamMember] = field(default_factory=dict, repr=False)
    created_at: datetime = datetime(2020, 1, 1, tzinfo=UTC)

    @property
    def id(self) -> str:
        return node_id("Team", 0, self.database_id)

    def children(self) -> list[Team]:
        return [t for t in self.organization.teams.values() if t.parent is self]

    def descendants(self) -> list[Team]:
        """Every team below this one (children, their children, ...)."""
        found: list[Team] = []
        pending = self.children()
        while pending:
            team = pending.pop(0)
            if team not in found:
                found.append(team)
                pending.extend(team.children())
        return found

    @property
    def url(self) -> str:
        return f"https://github.com/orgs/{self.organization.login}/teams/{self.slug}"


@dataclass(eq=False)
class Label:
    repository: Repository
    name: str
    color: str = "ededed"
    description: str | None = None
    local_id: int = 0
    created_at: datetime = datetime(2020, 1, 1, tzinfo=UTC)
    is_default: bool = False

    @property
    def id(self) -> str:
        return node_id("Label", self.repository.database_id, self.local_id)


@dataclass(eq=False)
class Milestone:
    repository: Repository
    number: int
    title: str
    state: str = "OPEN"  # OPEN | CLOSED
    due_on: datetime | None = None
    description: str | None = None
    created_at: datetime = datetime(2020, 1, 1, tzinfo=UTC)

    @property
    def id(self) -> str:
        return node_id("Milestone", self.repository.database_id, self.number)


@dataclass(eq=False)
class Issue:
    """An issue; pull requests can close issues in their own or another repository."""

    repository: Repository
    number: int
    title: str
    state: str = "OPEN"  # OPEN | CLOSED
    body: str = ""
    author: Actor | None = None
    created_at: datetime = datetime(2020, 1, 1, tzinfo=UTC)
    updated_at: datetime = datetime(2020, 1, 1, tzinfo=UTC)
    closed_at: datetime | None = None

    @property
    def id(self) -> str:
        return node_id("Issue", self.repository.database_id, self.number)

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repository.name_with_owner}/issues/{self.number}"


@dataclass(eq=False)
class ReviewComment:
    """A review-thread comment. On GitHub every one belongs to a review and is written by
    that review's author (a lone reply in a thread creates a COMMENTED review of its own),
    so it has no author of its own here: ``review.author`` is it."""

    review: Review
    local_id: int
    created_at: datetime
    body: str = "Nit"
    path: str = "src/main.py"

    @property
    def id(self) -> str:
        pr = self.review.pull_request
        return node_id("PullRequestReviewComment", pr.repository.database_id, pr.number,
                       self.review.local_id, self.local_id)


@dataclass(eq=False)
class Review:
    """A pull-request review. ``submitted_at`` is ``None`` only for PENDING reviews;
    ``comments`` are its review-thread comments, oldest first."""

    pull_request: PullRequest
    local_id: int
    author: Actor | None
    state: str = "COMMENTED"
    submitted_at: datetime | None = None
    body: str = ""
    comments: list[ReviewComment] = field(default_factory=list)

    def add_comment(self, at: datetime, body: str = "Nit") -> ReviewComment:
        """A review-thread comment written at ``at`` (before or at the submission)."""
        comment = ReviewComment(self, 1 + len(self.comments), _utc(at), body)
        self.comments.append(comment)
        return comment

    @property
    def id(self) -> str:
        pr = self.pull_request
        return node_id("PullRequestReview", pr.repository.database_id, pr.number, self.local_id)


@dataclass(eq=False)
class ReviewRequest:
    """A pending review request; the reviewer is a user, bot, mannequin, team or
    ``None`` (the requested account was deleted)."""

    pull_request: PullRequest
    local_id: int
    requested_reviewer: Actor | Team | None

    @property
    def id(self) -> str:
        pr = self.pull_request
        return node_id("ReviewRequest", pr.repository.database_id, pr.number, self.local_id)


@dataclass(eq=False)
class TimelineEvent:
    """A timeline event of a pull request (``kind`` is one of :data:`TIMELINE_EVENT_KINDS`).

    ``actor`` ``None`` is a deleted account; ``requested_reviewer`` is set for review
    request (removed) events only and may be ``None`` too (a deleted reviewer). The
    history events name what changed, as GitHub's types do: ``label`` (Labeled /
    UnlabeledEvent: the Label object, so a renamed label shows its new name),
    ``assignee`` (Assigned / UnassignedEvent; a deleted account renders as null) and
    ``milestone_title`` (Milestoned / DemilestonedEvent: the title when it happened, a
    string, not the milestone).
    """

    pull_request: PullRequest
    local_id: int
    kind: str
    created_at: datetime
    actor: Actor | None = None
    requested_reviewer: Actor | Team | None = None
    label: Label | None = None
    assignee: Actor | None = None
    milestone_title: str | None = None

    @property
    def id(self) -> str:
        pr = self.pull_request
        return node_id(self.kind, pr.repository.database_id, pr.number, self.local_id)


@dataclass(eq=False)
class IssueComment:
    """A conversation comment on a pull request (not a review comment)."""

    pull_request: PullRequest
    local_id: int
    author: Actor | None
    created_at: datetime
    body: str = ""

    @property
    def id(self) -> str:
        pr = self.pull_request
        return node_id("IssueComment", pr.repository.database_id, pr.number, self.local_id)


@dataclass(eq=False)
class Commit:
    """A commit of a pull request; ``user`` is the GitHub account its author email maps
    to (``None``: no account matches, or it was deleted)."""

    oid: str
    authored_at: datetime
    committed_at: datetime
    user: Actor | None = None
    message: str = "Change things"


@dataclass(eq=False)
class PullRequest:
    """One pull request, with every field the product's ``PullRequestFields`` reads."""

    repository: Repository
    number: int
    title: str
    body: str = ""
    state: str = "OPEN"
    is_draft: bool = False
    created_at: datetime = DEFAULT_NOW
    updated_at: datetime = DEFAULT_NOW
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    additions: int = 0
    deletions: int = 0
    changed_files: int = 0
    base_ref_name: str = "main"
    head_ref_name: str = "feature"
    review_decision: str | None = None
    author: Actor | None = None
    merged_by: Actor | None = None
    milestone: Milestone | None = None
    labels: list[Label] = field(default_factory=list)
    assignees: list[Actor] = field(default_factory=list)
    closing_issues: list[Issue] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    review_requests: list[ReviewRequest] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)
    comments: list[IssueComment] = field(default_factory=list)
    commits: list[Commit] = field(default_factory=list)
    review_thread_count: int = 0
    checks: list[Any] = field(default_factory=list)  # checks.CheckContext of its head

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        # Any assignment to a sort field (even a direct one in a test) invalidates the
        # repository's cached orderings, so pages never come from a stale sort.
        if name in _ORDER_FIELDS:
            repo = self.__dict__.get("repository")
            if repo is not None:
                repo._revision += 1

    @property
    def id(self) -> str:
        return node_id("PullRequest", self.repository.database_id, self.number)

    @property
    def full_database_id(self) -> int:
        return self.repository.database_id * 10_000_000 + self.number

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repository.name_with_owner}/pull/{self.number}"

    def _next_local_id(self) -> int:
        return 1 + max(
            (x.local_id for x in [*self.reviews, *self.review_requests]), default=0
        )

    def next_timeline_id(self) -> int:
        """Events and comments share one sequence: their local ids never collide."""
        return 1 + max((x.local_id for x in [*self.timeline, *self.comments]), default=0)

    def add_event(self, kind: str, at: datetime, actor: Actor | None = None,
                  requested_reviewer: Actor | Team | None = None, *,
                  label: Label | None = None, assignee: Actor | None = None,
                  milestone_title: str | None = None) -> TimelineEvent:
        """Append a timeline event (no ``updatedAt`` change: the World mutators do that).

        Only the event: the PR's labels, assignees and milestone are the mutators' to
        change (:meth:`World.add_labels` and the others record both)."""
        if kind not in TIMELINE_EVENT_KINDS:
            raise ValueError(f"timeline event {kind!r} not in {TIMELINE_EVENT_KINDS}")
        if (kind in LABEL_EVENT_KINDS) != (label is not None):
            raise ValueError(f"{kind} names a label, and only label events do")
        if (kind in MILESTONE_EVENT_KINDS) != (milestone_title is not None):
            raise ValueError(f"{kind} names a milestone title, and only milestone events do")
        if assignee is not None and kind not in ASSIGNEE_EVENT_KINDS:
            raise ValueError(f"{kind} names no assignee")
        event = TimelineEvent(self, self.next_timeline_id(), kind, _utc(at), actor,
                              requested_reviewer, label, assignee, milestone_title)
        self.timeline.append(event)
        return event

    def add_comment_object(self, author: Actor | None, at: datetime,
                           body: str = "") -> IssueComment:
        comment = IssueComment(self, self.next_timeline_id(), author, _utc(at), body)
        self.comments.append(comment)
        return comment


@dataclass(eq=False)
class Repository:
    """A repository. Its pull requests, issues, labels and milestones are generated on
    first access (``populate``), so an org with thousands of repositories builds fast."""

    owner: Owner
    name: str
    database_id: int
    is_archived: bool = False
    is_private: bool = False
    description: str | None = None
    created_at: datetime = datetime(2018, 1, 1, tzinfo=UTC)
    populate: Callable[[Repository], None] | None = field(default=None, repr=False)
    _pull_requests: list[PullRequest] = field(default_factory=list, repr=False)
    _prs_by_number: dict[int, PullRequest] = field(default_factory=dict, repr=False)
    _issues: dict[int, Issue] = field(default_factory=dict, repr=False)
    _labels: list[Label] = field(default_factory=list, repr=False)
    _milestones: list[Milestone] = field(default_factory=list, repr=False)
    _next_number: int = field(default=1, repr=False)
    _next_label_id: int = field(default=1, repr=False)
    _revision: int = field(default=0, repr=False)
    _sort_cache: dict[tuple[str, bool], tuple[tuple[int, int], list[PullRequest]]] = field(
        default_factory=dict, repr=False
    )
    #: the world's seed, and the deployments and releases generated from it (deploys.py)
    seed: int = field(default=0, repr=False)
    deploys: Any = field(default=None, repr=False)

    @property
    def name_with_owner(self) -> str:
        return f"{self.owner.login}/{self.name}"

    @property
    def url(self) -> str:
        return f"https://github.com/{self.name_with_owner}"

    @property
    def id(self) -> str:
        return node_id("Repository", self.database_id)

    def materialize(self) -> None:
        """Run the lazy generator once (idempotent)."""
        populate, self.populate = self.populate, None
        if populate is not None:
            populate(self)

    @property
    def pull_requests(self) -> list[PullRequest]:
        """All pull requests in number order (do not append directly: use
        :meth:`World.add_pull_request` or :meth:`add_pull_request_object`)."""
        self.materialize()
        return self._pull_requests

    @property
    def issues(self) -> list[Issue]:
        self.materialize()
        return list(self._issues.values())

    @property
    def labels(self) -> list[Label]:
        self.materialize()
        return self._labels

    @property
    def milestones(self) -> list[Milestone]:
        self.materialize()
        return self._milestones

    def pull_request(self, number: int) -> PullRequest | None:
        self.materialize()
        return self._prs_by_number.get(number)

    def issue(self, number: int) -> Issue | None:
        self.materialize()
        return self._issues.get(number)

    def label(self, name: str) -> Label | None:
        lowered = name.lower()
        return next((lb for lb in self.labels if lb.name.lower() == lowered), None)

    def milestone(self, number: int) -> Milestone | None:
        return next((m for m in self.milestones if m.number == number), None)

    # -- construction helpers (used by the generator and the World mutators) ------------

    def take_number(self) -> int:
        """The next issue/PR number: like GitHub, both share one sequence per repo."""
        number = self._next_number
        self._next_number += 1
        return number

    def add_pull_request_object(self, pr: PullRequest) -> PullRequest:
        self._pull_requests.append(pr)
        self._prs_by_number[pr.number] = pr
        self._next_number = max(self._next_number, pr.number + 1)
        self._revision += 1
        return pr

    def add_issue_object(self, issue: Issue) -> Issue:
        self._issues[issue.number] = issue
        self._next_number = max(self._next_number, issue.number + 1)
        return issue

    def new_label(self, name: str, color: str = "ededed", **kw: Any) -> Label:
        label = Label(self, name, color, local_id=self._next_label_id, **kw)
        self._next_label_id += 1
        self._labels.append(label)
        return label

    def sorted_prs(self, field_name: str, descending: bool) -> list[PullRequest]:
        """Pull requests ordered by ``created_at``/``updated_at`` (ties by number, in the
        same direction), cached until a sort field changes or a PR is added."""
        self.materialize()
        stamp = (self._revision, len(self._pull_requests))
        cached = self._sort_cache.get((field_name, descending))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        ordered = sorted(
            self._pull_requests,
            key=lambda pr: (getattr(pr, field_name), pr.number),
            reverse=descending,
        )
        self._sort_cache[(field_name, descending)] = (stamp, ordered)
        return ordered


RepoRef = str | Repository
ActorRef = str | Actor | None


class World:
    """Everything the emulator serves, plus the clock and the mutators tests use.

    Build one with :func:`github_emulator.build_world`; an empty ``World()`` is
    valid too (add owners with :meth:`add_owner`).
    """

    def __init__(self, now: datetime = DEFAULT_NOW) -> None:
        self.now: datetime = _utc(now)
        self.lock = threading.RLock()
        self.owners: dict[str, Owner] = {}  # lower-cased login -> owner
        self.actors: dict[str, Actor] = {}  # lower-cased login -> any actor (owners too)
        self._repos_by_db_id: dict[int, Repository] = {}
        # (lower-cased owner, lower-cased name) -> repository: every query names its
        # repository, and a scan of an org's list made an org of thousands quadratic.
        self._repos_by_name: dict[tuple[str, str], Repository] = {}
        self._teams_by_db_id: dict[int, Team] = {}
        self._next_actor_id = 1
        self._next_repo_id = 1
        self._next_team_id = 1
        self.viewer_login = "emulator-viewer"
        self.special: dict[str, tuple[str, int]] = {}
        """Named special cases of a demo world: name -> (``owner/name``, PR number)."""

    # -- lookup -------------------------------------------------------------------------

    def repositories(self) -> Iterator[Repository]:
        for owner in self.owners.values():
            yield from owner.repositories

    def repo(self, ref: RepoRef) -> Repository:
        """Find a repository by ``"owner/name"``, by bare ``"name"`` when unique, or pass
        a :class:`Repository` through. Raises ``KeyError`` when absent."""
        if isinstance(ref, Repository):
            return ref
        if "/" in ref:
            owner, name = ref.split("/", 1)
            found = self.find_repository(owner, name)
            if found is None:
                raise KeyError(ref)
            return found
        matches = [r for r in self.repositories() if r.name.lower() == ref.lower()]
        if len(matches) != 1:
            raise KeyError(f"{ref!r} matches {len(matches)} repositories; use owner/name")
        return matches[0]

    def find_repository(self, owner: str, name: str) -> Repository | None:
        """Case-insensitive, like GitHub's ``repository(owner:, name:)``."""
        return self._repos_by_name.get((owner.lower(), name.lower()))

    def repository_by_database_id(self, database_id: int) -> Repository | None:
        return self._repos_by_db_id.get(database_id)

    def pull_request(self, repo: RepoRef, number: int) -> PullRequest:
        pr = self.repo(repo).pull_request(number)
        if pr is None:
            raise KeyError(f"{self.repo(repo).name_with_owner}#{number}")
        return pr

    def actor(self, ref: ActorRef) -> Actor | None:
        """Resolve a login (any kind) to its actor; ``None`` stays ``None`` (ghost).
        Unknown logins become new users, which keeps scenario code short."""
        if ref is None or isinstance(ref, Actor):
            return ref
        found = self.actors.get(ref.lower())
        return found if found is not None else self.add_actor(ref)

    def find_node(self, global_id: str) -> Any:
        """The object behind a node id (``node(id:)``), or ``None``."""
        decoded = decode_node_id(global_id)
        if decoded is None:
            return None
        typename, parts = decoded
        if parts[0] == 0:  # global objects: actors and teams
            if typename == "Team":
                return self._teams_by_db_id.get(parts[-1])
            return next(
                (
                    a
                    for a in self.actors.values()
                    if a.database_id == parts[-1] and a.kind.value == typename
                ),
                None,
            )
        repo = self._repos_by_db_id.get(parts[0])
        if repo is None:
            return None
        rest = parts[1:]
        match typename, rest:
            case "Repository", ():
                return repo
            case "PullRequest", (number,):
                return repo.pull_request(number)
            case "Issue", (number,):
                return repo.issue(number)
            case "Milestone", (number,):
                return repo.milestone(number)
            case "Label", (local,):
                return next((lb for lb in repo.labels if lb.local_id == local), None)
            case ("PullRequestReview" | "ReviewRequest") as kind, (number, local):
                pr = repo.pull_request(number)
                items: list[Any] = []
                if pr is not None:
                    items = pr.reviews if kind == "PullRequestReview" else pr.review_requests
                return next((x for x in items if x.local_id == local), None)
            case ("Deployment" | "Release") as kind, (local,):
                from .deploys import find_deploy_node

                return find_deploy_node(repo, kind, local)
        return None

    # -- building -----------------------------------------------------------------------

    def add_actor(
        self, login: str, kind: ActorKind = ActorKind.USER, *, name: str | None = None
    ) -> Actor:
        """Register a user, bot or mannequin (logins are unique, case-insensitively)."""
        with self.lock:
            if login.lower() in self.actors:
                raise ValueError(f"login {login!r} exists")
            actor = Actor(login, kind, self._next_actor_id, name)
            self._next_actor_id += 1
            self.actors[login.lower()] = actor
            return actor

    def add_owner(self, login: str, kind: ActorKind = ActorKind.ORGANIZATION) -> Owner:
        with self.lock:
            if login.lower() in self.actors:
                raise ValueError(f"login {login!r} exists")
            owner = Owner(login, kind, self._next_actor_id, login.title())
            self._next_actor_id += 1
            self.actors[login.lower()] = owner
            self.owners[login.lower()] = owner
            return owner

    def add_team(self, org: str | Owner, slug: str, name: str | None = None, *,
                 parent: str | Team | None = None) -> Team:
        """Create a team (``parent``: its parent team or that team's slug)."""
        with self.lock:
            owner = org if isinstance(org, Owner) else self.owners[org.lower()]
            team = Team(owner, slug, name or slug.replace("-", " ").title(), self._next_team_id,
                        created_at=self.now)
            self._next_team_id += 1
            owner.teams[slug.lower()] = team
            self._teams_by_db_id[team.database_id] = team
            if parent is not None:
                team.parent = self.team(owner, parent) if isinstance(parent, str) else parent
            self._record_teams(owner)
            return team

    # -- teams: membership and access (each change is recorded in Owner.team_history) ---

    def team(self, org: str | Owner, slug: str | Team) -> Team:
        """A team by its organization and slug (``KeyError`` when absent)."""
        if isinstance(slug, Team):
            return slug
        owner = org if isinstance(org, Owner) else self.owners[org.lower()]
        return owner.teams[slug.lower()]

    def _record_teams(self, owner: Owner) -> None:
        state = owner.team_state()
        if owner.team_history and owner.team_history[-1][0] == self.now:
            owner.team_history[-1] = (self.now, state)  # several changes in one instant
        else:
            owner.team_history.append((self.now, state))

    def add_team_member(self, org: str | Owner, slug: str | Team, login: ActorRef,
                        role: str = "MEMBER") -> TeamMember:
        """Make ``login`` an immediate member of a team (or change its role)."""
        if role not in TEAM_ROLES:
            raise ValueError(f"team role {role!r} not in {TEAM_ROLES}")
        with self.lock:
            team = self.team(org, slug)
            actor = self.actor(login)
            if actor is None or actor.kind is not ActorKind.USER:
                raise ValueError(f"only users can be team members, not {login!r}")
            member = TeamMember(actor, role)
            team.members[actor.login.lower()] = member
            self._record_teams(team.organization)
            return member

    def remove_team_member(self, org: str | Owner, slug: str | Team, login: str) -> None:
        """``login`` leaves a team (``KeyError`` if it was not an immediate member)."""
        with self.lock:
            team = self.team(org, slug)
            del team.members[login.lower()]
            self._record_teams(team.organization)

    def move_team_member(self, org: str | Owner, login: str, from_slug: str | Team,
                         to_slug: str | Team, role: str | None = None) -> TeamMember:
        """``login`` leaves one team and joins another (keeping its role unless given), at
        the world's ``now``: call it between two syncs, after advancing the clock."""
        with self.lock:
            old = self.team(org, from_slug)
            kept = old.members[login.lower()].role
            self.remove_team_member(org, old, login)
            return self.add_team_member(org, to_slug, login, role or kept)

    def set_team_parent(self, org: str | Owner, slug: str | Team,
                        parent: str | Team | None) -> Team:
        """Nest a team under ``parent`` (None: make it a root team)."""
        with self.lock:
            team = self.team(org, slug)
            new_parent = None if parent is None else self.team(team.organization, parent)
            ancestor = new_parent
            while ancestor is not None:
                if ancestor is team:
                    raise ValueError(f"{team.slug} cannot be nested under its own descendant")
                ancestor = ancestor.parent
            team.parent = new_parent
            self._record_teams(team.organization)
            return team

    def deny_team_access(self, org: str | Owner, denied: bool = True) -> Owner:
        """The token cannot read this organization's teams (no *Members: read* for it):
        ``teams`` and ``team`` answer FORBIDDEN, as GitHub does for a fine-grained token or
        an App installation without that permission."""
        with self.lock:
            owner = org if isinstance(org, Owner) else self.owners[org.lower()]
            owner.teams_forbidden = denied
            return owner

    def add_repository(
        self,
        owner: str | Owner,
        name: str,
        *,
        archived: bool = False,
        private: bool = False,
        description: str | None = None,
        created_at: datetime | None = None,
        populate: Callable[[Repository], None] | None = None,
    ) -> Repository:
        """Create an (empty unless ``populate`` is given) repository."""
        with self.lock:
            own = owner if isinstance(owner, Owner) else self.owners[owner.lower()]
            if self.find_repository(own.login, name) is not None:
                raise ValueError(f"{own.login}/{name} exists")
            repo = Repository(
                own,
                name,
                self._next_repo_id,
                is_archived=archived,
                is_private=private,
                description=description,
                created_at=_utc(created_at or self.now),
                populate=populate,
            )
            self._next_repo_id += 1
            own.repositories.append(repo)
            self._repos_by_db_id[repo.database_id] = repo
            self._repos_by_name[own.login.lower(), name.lower()] = repo
            return repo

    # -- the clock ----------------------------------------------------------------------

    def advance(
        self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
    ) -> datetime:
        """Move the world clock forward; returns the new ``now``."""
        delta = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if delta < timedelta(0):
            raise ValueError("the world clock only moves forward")
        with self.lock:
            self.now = _utc(self.now + delta)
            return self.now

    def set_now(self, now: datetime) -> None:
        with self.lock:
            self.now = _utc(now)

    # -- pull-request mutators (each touches updatedAt, as GitHub does) -------------------

    def _stamp(self, at: datetime | None) -> datetime:
        return self.now if at is None else _utc(at)

    def touch(self, repo: RepoRef, number: int, *, at: datetime | None = None) -> PullRequest:
        """Set ``updatedAt`` to now (or ``at``), e.g. a comment was added."""
        with self.lock:
            pr = self.pull_request(repo, number)
            pr.updated_at = self._stamp(at)
            return pr

    def edit(self, repo: RepoRef, number: int, **fields: Any) -> PullRequest:
        """Set any :class:`PullRequest` fields (snake_case) and touch it.

        >>> # world.edit("acme/api", 5, title="New title", additions=10)
        """
        with self.lock:
            pr = self.pull_request(repo, number)
            for name, value in fields.items():
                if not hasattr(pr, name) or name.startswith("_") or name == "repository":
                    raise AttributeError(f"PullRequest has no settable field {name!r}")
                setattr(pr, name, value)
            if "updated_at" not in fields:
                pr.updated_at = self.now
            return pr

    def close(self, repo: RepoRef, number: int, *, at: datetime | None = None) -> PullRequest:
        with self.lock:
            pr = self.pull_request(repo, number)
            stamp = self._stamp(at)
            pr.state, pr.closed_at, pr.updated_at = "CLOSED", stamp, stamp
            pr.review_requests.clear()
            pr.add_event("ClosedEvent", stamp, self._default_user())
            return pr

    def reopen(self, repo: RepoRef, number: int) -> PullRequest:
        with self.lock:
            pr = self.pull_request(repo, number)
            if pr.state == "MERGED":
                raise ValueError("a merged pull request cannot be reopened")
            pr.state, pr.closed_at, pr.updated_at = "OPEN", None, self.now
            pr.add_event("ReopenedEvent", self.now, self._default_user())
            return pr

    def merge(
        self, repo: RepoRef, number: int, *, by: ActorRef = None, at: datetime | None = None
    ) -> PullRequest:
        """Merge (``by`` a login/actor; default: the first user of the world)."""
        with self.lock:
            pr = self.pull_request(repo, number)
            stamp = self._stamp(at)
            merger = self.actor(by) if by is not None else self._default_user()
            pr.state, pr.is_draft = "MERGED", False
            pr.merged_at = pr.closed_at = pr.updated_at = stamp
            pr.merged_by = merger
            pr.review_requests.clear()
            # GitHub records a merge as two timeline events at the same instant.
            pr.add_event("MergedEvent", stamp, merger)
            pr.add_event("ClosedEvent", stamp, merger)
            return pr

    def set_draft(self, repo: RepoRef, number: int, draft: bool = True) -> PullRequest:
        with self.lock:
            pr = self.pull_request(repo, number)
            if pr.is_draft != draft:
                kind = "ConvertToDraftEvent" if draft else "ReadyForReviewEvent"
                pr.add_event(kind, self.now, pr.author)
            pr.is_draft, pr.updated_at = draft, self.now
            return pr

    def add_pull_request(
        self,
        repo: RepoRef,
        *,
        title: str = "New pull request",
        body: str = "",
        author: ActorRef = None,
        draft: bool = False,
        labels: Iterable[str] = (),
        base: str = "main",
        head: str | None = None,
        additions: int = 1,
        deletions: int = 0,
        changed_files: int = 1,
        created_at: datetime | None = None,
        **fields: Any,
    ) -> PullRequest:
        """Open a new pull request now (the next number in the repository).

        ``author=None`` means a deleted account; pass a login for a real one. Extra
        ``fields`` are :class:`PullRequest` fields (e.g. ``review_decision``).

        ``labels`` are recorded as GitHub records labels chosen while opening a PR: one
        ``LabeledEvent`` each, at the creation, by the author. State given through
        ``fields`` (``assignees``, ``milestone``, even ``labels``) gets no event: that is
        how the world plants what GitHub shows without one (a PR labelled before GitHub
        recorded label events, or imported with its labels).
        """
        with self.lock:
            repository = self.repo(repo)
            repository.materialize()
            number = repository.take_number()
            stamp = self._stamp(created_at)
            pr = PullRequest(
                repository,
                number,
                title,
                body,
                is_draft=draft,
                created_at=stamp,
                updated_at=stamp,
                additions=additions,
                deletions=deletions,
                changed_files=changed_files,
                base_ref_name=base,
                head_ref_name=head or f"patch-{number}",
                author=self.actor(author),
            )
            for name, value in fields.items():
                setattr(pr, name, value)
            for label in (self._label(repository, n) for n in labels):
                if label not in pr.labels:
                    pr.labels.append(label)
                    pr.add_event("LabeledEvent", stamp, pr.author, label=label)
            if not pr.commits:
                pr.commits = [Commit(f"{number:040x}", stamp, stamp, pr.author)]
            return repository.add_pull_request_object(pr)

    def _label(self, repo: Repository, name: str) -> Label:
        return repo.label(name) or repo.new_label(name, created_at=self.now)

    def _by(self, pr: PullRequest, by: ActorRef) -> Actor | None:
        """Who made a change: ``by`` (a login or actor), else the PR's author."""
        return pr.author if by is None else self.actor(by)

    def add_labels(self, repo: RepoRef, number: int, *names: str, by: ActorRef = None,
                   at: datetime | None = None) -> PullRequest:
        """Label a pull request (creating missing repository labels): a ``LabeledEvent``
        per label it did not carry (``by`` a login; default the PR's author). A label it
        already carries changes nothing, as on GitHub."""
        with self.lock:
            pr = self.pull_request(repo, number)
            stamp, actor = self._stamp(at), self._by(pr, by)
            for name in names:
                label = self._label(pr.repository, name)
                if label not in pr.labels:
                    pr.labels.append(label)
                    pr.add_event("LabeledEvent", stamp, actor, label=label)
            pr.updated_at = stamp
            return pr

    def remove_labels(self, repo: RepoRef, number: int, *names: str, by: ActorRef = None,
                      at: datetime | None = None) -> PullRequest:
        """Unlabel: an ``UnlabeledEvent`` per label the PR carried."""
        with self.lock:
            pr = self.pull_request(repo, number)
            stamp, actor = self._stamp(at), self._by(pr, by)
            drop = {n.lower() for n in names}
            for label in [lb for lb in pr.labels if lb.name.lower() in drop]:
                pr.labels.remove(label)
                pr.add_event("UnlabeledEvent", stamp, actor, label=label)
            pr.updated_at = stamp
            return pr

    def assign(self, repo: RepoRef, number: int, *logins: str, by: ActorRef = None,
               at: datetime | None = None) -> PullRequest:
        """Assign users: an ``AssignedEvent`` per login not yet assigned."""
        with self.lock:
            pr = self.pull_request(repo, number)
            stamp, actor = self._stamp(at), self._by(pr, by)
            for login in logins:
                user = self.actor(login)
                if user is not None and user not in pr.assignees:
                    pr.assignees.append(user)
                    pr.add_event("AssignedEvent", stamp, actor, assignee=user)
            pr.updated_at = stamp
            return pr

    def unassign(self, repo: RepoRef, number: int, *logins: str, by: ActorRef = None,
                 at: datetime | None = None) -> PullRequest:
        """Unassign users: an ``UnassignedEvent`` per login that was assigned."""
        with self.lock:
            pr = self.pull_request(repo, number)
            stamp, actor = self._stamp(at), self._by(pr, by)
            drop = {login.lower() for login in logins}
            for user in [a for a in pr.assignees if a.login.lower() in drop]:
                pr.assignees.remove(user)
                pr.add_event("UnassignedEvent", stamp, actor, assignee=user)
            pr.updated_at = stamp
            return pr

    def add_review(
        self,
        repo: RepoRef,
        number: int,
        *,
        author: ActorRef,
        state: str = "APPROVED",
        body: str = "",
        at: datetime | None = None,
    ) -> Review:
        """Submit a review (``state`` one of APPROVED, CHANGES_REQUESTED, COMMENTED,
        DISMISSED, PENDING). Updates ``reviewDecision`` the way branch protection would."""
        if state not in REVIEW_STATES:
            raise ValueError(f"review state {state!r} not in {REVIEW_STATES}")
        with self.lock:
            pr = self.pull_request(repo, number)
            stamp = self._stamp(at)
            review = Review(
                pr,
                pr._next_local_id(),
                self.actor(author),
                state,
                None if state == "PENDING" else stamp,
                body,
            )
            pr.reviews.append(review)
            if state in ("APPROVED", "CHANGES_REQUESTED") and pr.state == "OPEN":
                pr.review_decision = state
            pr.updated_at = stamp
            return review

    def request_review(
        self, repo: RepoRef, number: int, reviewer: str | Actor | Team | None
    ) -> ReviewRequest:
        """Request a review from a login, ``"org/team-slug"`` (or a :class:`Team`), or
        ``None`` (a since-deleted account)."""
        with self.lock:
            pr = self.pull_request(repo, number)
            target: Actor | Team | None
            if isinstance(reviewer, str) and "/" in reviewer:
                org, slug = reviewer.split("/", 1)
                target = self.owners[org.lower()].teams[slug.lower()]
            elif isinstance(reviewer, Team):
                target = reviewer
            else:
                target = self.actor(reviewer)
            request = ReviewRequest(pr, pr._next_local_id(), target)
            pr.review_requests.append(request)
            pr.add_event("ReviewRequestedEvent", self.now, pr.author, target)
            if pr.review_decision is None and pr.state == "OPEN":
                pr.review_decision = "REVIEW_REQUIRED"
            pr.updated_at = self.now
            return request

    def remove_review_request(self, repo: RepoRef, number: int, request: ReviewRequest) -> None:
        """Withdraw a pending review request (a ``ReviewRequestRemovedEvent``)."""
        with self.lock:
            pr = self.pull_request(repo, number)
            pr.review_requests.remove(request)
            pr.add_event("ReviewRequestRemovedEvent", self.now, pr.author,
                         request.requested_reviewer)
            pr.updated_at = self.now

    def add_commit(self, repo: RepoRef, number: int, *, by: ActorRef = None,
                   at: datetime | None = None, oid: str | None = None) -> Commit:
        """Push a commit to the PR's head branch, committed at ``at`` (default now) by
        ``by`` (default the PR's author). GitHub serves it as a ``PullRequestCommit``
        timeline item at its committed date, and counts it in ``commits``."""
        with self.lock:
            pr = self.pull_request(repo, number)
            stamp, actor = self._stamp(at), self._by(pr, by)
            digest = oid or hashlib.sha1(f"{pr.id}:{len(pr.commits)}:{stamp}".encode()).hexdigest()
            user = actor if actor is not None and actor.kind is ActorKind.USER else None
            commit = Commit(digest, stamp, stamp, user)
            pr.commits.append(commit)
            pr.updated_at = stamp
            return commit

    def force_push(self, repo: RepoRef, number: int, *, by: ActorRef = None,
                   at: datetime | None = None) -> TimelineEvent:
        """Force-push the PR's head branch (a ``HeadRefForcePushedEvent``). The commits
        stay as they are: the world records that the branch was rewritten, not how."""
        with self.lock:
            pr = self.pull_request(repo, number)
            stamp, actor = self._stamp(at), self._by(pr, by)
            event = pr.add_event("HeadRefForcePushedEvent", stamp, actor)
            pr.updated_at = stamp
            return event

    def add_comment(self, repo: RepoRef, number: int, *, author: ActorRef, body: str = "",
                    at: datetime | None = None) -> IssueComment:
        """Comment on the pull request's conversation (``author=None``: a deleted account)."""
        with self.lock:
            pr = self.pull_request(repo, number)
            stamp = self._stamp(at)
            comment = pr.add_comment_object(self.actor(author), stamp, body)
            pr.updated_at = stamp
            return comment

    def add_issue(
        self,
        repo: RepoRef,
        *,
        title: str = "New issue",
        state: str = "OPEN",
        author: ActorRef = None,
    ) -> Issue:
        with self.lock:
            repository = self.repo(repo)
            repository.materialize()
            issue = Issue(
                repository,
                repository.take_number(),
                title,
                state,
                author=self.actor(author),
                created_at=self.now,
                updated_at=self.now,
                closed_at=self.now if state == "CLOSED" else None,
            )
            return repository.add_issue_object(issue)

    def link_issue(self, repo: RepoRef, number: int, issue: Issue) -> PullRequest:
        """Make the pull request close ``issue`` (any repository) when merged."""
        with self.lock:
            pr = self.pull_request(repo, number)
            if issue not in pr.closing_issues:
                pr.closing_issues.append(issue)
            pr.updated_at = self.now
            return pr

    def set_milestone(
        self, repo: RepoRef, number: int, milestone_number: int | None, *,
        by: ActorRef = None, at: datetime | None = None,
    ) -> PullRequest:
        """Put the PR in a milestone (``None``: take it out). As on GitHub, leaving a
        milestone is a ``DemilestonedEvent`` and entering one a ``MilestonedEvent``, both
        naming the title; a move between two milestones records both, at one instant."""
        with self.lock:
            pr = self.pull_request(repo, number)
            stamp, actor = self._stamp(at), self._by(pr, by)
            new = None if milestone_number is None else pr.repository.milestone(milestone_number)
            if milestone_number is not None and new is None:
                raise KeyError(f"{pr.repository.name_with_owner} has no milestone "
                               f"{milestone_number}")
            old, pr.milestone = pr.milestone, new
            if old is not new:
                if old is not None:
                    pr.add_event("DemilestonedEvent", stamp, actor, milestone_title=old.title)
                if new is not None:
                    pr.add_event("MilestonedEvent", stamp, actor, milestone_title=new.title)
            pr.updated_at = stamp
            return pr

    def clear_milestone(self, repo: RepoRef, number: int, *, by: ActorRef = None,
                        at: datetime | None = None) -> PullRequest:
        """Take the PR out of its milestone (a ``DemilestonedEvent``)."""
        return self.set_milestone(repo, number, None, by=by, at=at)

    # -- account and repository mutators --------------------------------------------------

    def delete_account(self, login: str) -> None:
        """Delete a user: everywhere it was author/reviewer it now renders as ``null``."""
        with self.lock:
            self.actors[login.lower()].deleted = True

    def archive(self, repo: RepoRef, archived: bool = True) -> Repository:
        with self.lock:
            repository = self.repo(repo)
            repository.is_archived = archived
            return repository

    def _default_user(self) -> Actor | None:
        users = (a for a in self.actors.values() if a.kind is ActorKind.USER)
        return next((a for a in users if not isinstance(a, Owner)), None)
