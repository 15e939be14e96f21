"""Deterministic synthetic worlds: the demo org ``acme`` and cheap large orgs for benchmarks.

Every repository is generated from its own ``random.Random`` seeded by
``(seed, owner/name)``, and only when first read, so a world with thousands of
repositories builds in milliseconds and any two builds with the same seed and spec are
identical, whatever order the repositories are read in.

>>> world = build_world()
>>> sorted(r.name for r in world.owners["acme"].repositories)
['api', 'docs', 'infra', 'legacy', 'web']
>>> big = build_world(1, spec=WorldSpec.uniform("big", repo_count=3000, prs_per_repo=2))
>>> len(big.owners["big"].repositories)
3000
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .checks import add_checks
from .world import (
    DEFAULT_NOW,
    Actor,
    ActorKind,
    Commit,
    Issue,
    Label,
    Milestone,
    Owner,
    PullRequest,
    Repository,
    Review,
    ReviewRequest,
    Team,
    World,
)

BOT_LOGINS = ("dependabot", "renovate", "github-actions")
MANNEQUIN_LOGIN = "svn-import-jsmith"
# A bot that reaches the API as a plain User whose login carries REST's ``[bot]`` suffix
# (e.g. an app account imported by a migration): a bot by login, not by type.
BOT_SUFFIX_LOGIN = "ci-helper[bot]"
USER_LOGINS = (
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
    "xena", "yusuf", "zoe", "amir", "beatriz", "chen", "dmitri", "eun-ji", "fatima",
    "giorgos", "hana", "ines", "jonas", "kofi", "lena", "mateo", "nadia", "oskar", "priya",
    "quentin", "rosa", "sven", "tomasz", "uma", "vera", "wen", "ximena", "yara", "zdenek",
)  # fmt: skip
TEAM_SLUGS = ("backend", "frontend", "platform", "docs-team")
STANDARD_LABELS = (
    ("bug", "d73a4a"), ("enhancement", "a2eeef"), ("documentation", "0075ca"),
    ("dependencies", "0366d6"), ("good first issue", "7057ff"), ("help wanted", "008672"),
    ("question", "d876e3"), ("wontfix", "ffffff"), ("duplicate", "cfd3d7"),
    ("invalid", "e4e669"), ("security", "b60205"), ("performance", "fbca04"),
    ("breaking-change", "e11d21"), ("needs-review", "c5def5"), ("ci", "1d76db"),
    ("refactor", "bfdadc"), ("tests", "0e8a16"), ("ux", "f9d0c4"), ("backport", "5319e7"),
    ("do-not-merge", "000000"),
)  # fmt: skip
_VERBS = ("Fix", "Add", "Refactor", "Remove", "Update", "Improve", "Document", "Speed up")
_NOUNS = (
    "login flow", "rate limiter", "cache invalidation", "CSV export", "retry logic",
    "dark mode", "search index", "billing webhook", "API pagination", "error messages",
    "database migrations", "CLI flags", "metrics endpoint", "onboarding docs", "S3 uploads",
)  # fmt: skip
_PACKAGES = ("requests", "urllib3", "pydantic", "boto3", "react", "lodash", "terraform")

# Text that has broken real pipelines: NUL, RTL override, zero-width, combining marks,
# astral-plane emoji with ZWJ and skin tone, CRLF, backslashes and quotes.
ODD_TITLE = (
    "Fix naïve café ☕ — 日本語 / العربية 🚀🧑🏽‍💻 z\u200bw \u202eevil\u202c NUL\x00here"
)
ODD_BODY = (
    'Body with "quotes", back\\slashes, a tab\there,\r\nCRLF lines,\r\n'
    "a NUL byte:\x00 <- there, combining e\u0301 vs é, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, "
    "flags 🇺🇦🇯🇵, "
    "and SQL-ish '); DROP TABLE pull_requests; --"
)


@dataclass(frozen=True)
class RepoSpec:
    """One repository to generate: ``pull_requests`` random PRs (numbers 1..N)."""

    name: str
    pull_requests: int
    archived: bool = False
    issues: int | None = None  # default: a quarter of the PRs, at least 2
    private: bool = False


@dataclass(frozen=True)
class WorldSpec:
    """What :func:`build_world` generates.

    ``repos`` lists repositories explicitly; ``repo_sizes`` is the benchmark shorthand
    (repositories ``repo-00000``, ``repo-00001``, ... with those PR counts). Both may be
    given. ``demo_cases`` plants the documented special cases (only in a repo named
    ``api``, which must have at least 30 PRs).

    >>> WorldSpec(org="big", repo_sizes=(10, 5000)).all_repos()[1]
    RepoSpec(name='repo-00001', pull_requests=5000, archived=False, issues=None, private=False)
    """

    org: str = "acme"
    repos: tuple[RepoSpec, ...] = ()
    repo_sizes: Sequence[int] = ()
    users: int = 48
    history_days: int = 730
    now: datetime = DEFAULT_NOW
    demo_cases: bool = False
    user_owned: tuple[tuple[str, tuple[RepoSpec, ...]], ...] = ()
    archived_every: int = 0  # with repo_sizes: archive every Nth generated repo (0: none)
    extra_labels: dict[str, int] = field(default_factory=dict)  # repo name -> extra labels

    def all_repos(self) -> list[RepoSpec]:
        every = self.archived_every
        generated = [
            RepoSpec(f"repo-{i:05d}", size, archived=bool(every) and i % every == every - 1)
            for i, size in enumerate(self.repo_sizes)
        ]
        return [*self.repos, *generated]

    @classmethod
    def uniform(cls, org: str, *, repo_count: int, prs_per_repo: int, **kw: object) -> WorldSpec:
        """``repo_count`` repositories of ``prs_per_repo`` PRs each."""
        return cls(org=org, repo_sizes=(prs_per_repo,) * repo_count, **kw)  # type: ignore[arg-type]


DEMO_SPEC = WorldSpec(
    org="acme",
    repos=(
        RepoSpec("api", 300),
        RepoSpec("web", 120),
        RepoSpec("infra", 45),
        RepoSpec("docs", 6),
        RepoSpec("legacy", 15, archived=True),
    ),
    demo_cases=True,
    user_owned=(("mona", (RepoSpec("dotfiles", 3),)),),
    extra_labels={"api": 150},
)
"""The default demo world (see :data:`DEMO_CASES` for the planted special cases)."""

DEMO_CASES: dict[str, int] = {
    "reviewed_3h_after_open": 1,  # opened 2026-10-05T09:00Z, first review 12:00Z, merged
    "many_labels": 2,  # 150 labels (> labels(first: 50))
    "many_assignees": 3,  # 30 assignees (> assignees(first: 25))
    "many_reviews": 4,  # 120 reviews (> reviews(first: 50))
    "ghost_author": 5,  # author null (deleted account), also a review by a ghost
    "bot_author": 6,  # author Bot "dependabot"
    "mannequin_author": 7,  # author Mannequin
    "draft": 8,  # open draft, no reviews
    "linked_issues": 9,  # closes an issue in acme/api and one in acme/web
    "review_requests": 10,  # requested: 2 teams, a user, a bot, a mannequin, a deleted user
    "odd_unicode": 11,  # title/body with NUL, RTL override, ZWJ emoji, CRLF
    "milestone_past_due": 12,
    "milestone_future_due": 13,
    "milestone_no_due": 14,  # milestone whose dueOn is null
    "closed_unmerged": 15,
    "merged_by_bot": 16,  # mergedBy Bot "github-actions"
    "no_labels": 17,  # no labels, no milestone, no assignees, no reviews
    "huge_body": 18,  # 70,000-character body
    "many_closing_issues": 19,  # closes 30 issues (> closingIssuesReferences(first: 25))
    "changes_requested": 20,  # open, reviewDecision CHANGES_REQUESTED
    "draft_bounced": 21,  # created as draft, ready, back to draft, ready again, merged
    "review_request_removed": 22,  # bob requested then removed; carol requested, approves
    "bot_comments_first": 23,  # a Bot, a [bot] login and the author comment before dave
    "merged_without_review": 24,  # only the author's and a bot's reviews before the merge
    "deleted_commenter": 25,  # the first response is a comment by a deleted account
    "long_conversation": 26,  # 130 comments (> timelineItems(first: 100))
    "label_readded": 27,  # bug added, removed, added again; needs-review added, removed
    "assignees_swapped": 28,  # alice assigned, then swapped for carol; dave for a while
    "milestone_reset": 29,  # v2.0 set, removed, v3.0 set, moved back to v2.0
    "history_without_events": 30,  # state from before events were recorded, then changed
    "rework_after_changes_requested": 31,  # changes requested, 2 commits, re-requested, approved
    "force_pushed_after_review": 32,  # force push after review; review threads (a bot's too)
    "team_requests": 33,  # three teams asked: one answered by a member, one by a member of
    # a team below it, one removed unanswered; the author's and an outsider's comments don't count
}
"""acme/api pull-request numbers of the demo special cases (``world.special`` too)."""


def build_world(seed: int = 0, *, spec: WorldSpec | None = None) -> World:
    """Build a deterministic world. ``build_world()`` is the demo org ``acme``.

    >>> w = build_world()
    >>> w.repo("acme/api").pull_request(2).labels.__len__()
    150
    """
    spec = spec or DEMO_SPEC
    world = World(now=spec.now)
    _add_actors(world, spec)
    org = world.add_owner(spec.org, ActorKind.ORGANIZATION)
    _add_teams(world, org)
    for repo_spec in spec.all_repos():
        _add_repo(world, org, repo_spec, seed, spec)
    for login, repo_specs in spec.user_owned:
        user_owner = world.add_owner(login, ActorKind.USER)
        for repo_spec in repo_specs:
            _add_repo(world, user_owner, repo_spec, seed, spec)
    if spec.demo_cases:
        world.special = {name: (f"{spec.org}/api", number) for name, number in DEMO_CASES.items()}
    return world


# The organization's teams beyond TEAM_SLUGS (added after them, so those keep their ids):
# slug -> parent slug.
NESTED_TEAMS: dict[str, str] = {"api-core": "backend"}
# Parents of TEAM_SLUGS teams: platform > backend > api-core, platform > frontend.
TEAM_PARENTS: dict[str, str] = {"backend": "platform", "frontend": "platform"}
# Immediate members: (team, login, role). carol is in backend and api-core (nested),
# grace in frontend and docs-team (two unrelated teams); mallory and most others in none.
TEAM_MEMBERS: tuple[tuple[str, str, str], ...] = (
    ("platform", "alice", "MAINTAINER"),
    ("backend", "bob", "MAINTAINER"), ("backend", "carol", "MEMBER"),
    ("backend", "dave", "MEMBER"),
    ("api-core", "erin", "MAINTAINER"), ("api-core", "carol", "MEMBER"),
    ("frontend", "frank", "MAINTAINER"), ("frontend", "grace", "MEMBER"),
    ("frontend", "heidi", "MEMBER"),
    ("docs-team", "ivan", "MAINTAINER"), ("docs-team", "grace", "MEMBER"),
    ("docs-team", "judy", "MEMBER"),
)  # fmt: skip


def _add_teams(world: World, org: Owner) -> None:
    """The organization's nested teams and their members (users the world has)."""
    for slug in TEAM_SLUGS:
        world.add_team(org, slug)
    for slug, parent in NESTED_TEAMS.items():
        world.add_team(org, slug, parent=parent)
    for slug, parent in TEAM_PARENTS.items():
        world.set_team_parent(org, slug, parent)
    for slug, login, role in TEAM_MEMBERS:
        if login in world.actors:
            world.add_team_member(org, slug, login, role)


def _add_actors(world: World, spec: WorldSpec) -> None:
    for i in range(spec.users):
        base = USER_LOGINS[i % len(USER_LOGINS)]
        login = base if i < len(USER_LOGINS) else f"{base}-{i // len(USER_LOGINS)}"
        world.add_actor(login, ActorKind.USER, name=login.replace("-", " ").title())
    for login in BOT_LOGINS:
        world.add_actor(login, ActorKind.BOT)
    world.add_actor(MANNEQUIN_LOGIN, ActorKind.MANNEQUIN)
    world.add_actor(world.viewer_login, ActorKind.USER, name="Emulator Viewer")
    # Added last, so every other actor keeps the id it had before this one existed.
    world.add_actor(BOT_SUFFIX_LOGIN, ActorKind.USER)


def _add_repo(world: World, owner: Owner, rs: RepoSpec, seed: int, spec: WorldSpec) -> None:
    def populate(repo: Repository) -> None:
        _populate(world, repo, rs, seed, spec)

    created = spec.now - timedelta(days=spec.history_days + 30)
    repo = world.add_repository(
        owner,
        rs.name,
        archived=rs.archived,
        private=rs.private,
        description=f"The {rs.name} repository",
        created_at=created,
        populate=populate,
    )
    repo.seed = seed  # deployments draw from their own generator (deploys.py)


class _Pool:
    """The actors a generator may pick from, fixed at build time so lazy generation
    never creates actors (their ids would then depend on read order)."""

    def __init__(self, world: World, owner: Owner) -> None:
        actors = list(world.actors.values())
        self.users = [
            a for a in actors if a.kind is ActorKind.USER and not isinstance(a, Owner)
            and a.login != world.viewer_login and not a.login.endswith("[bot]")
        ]
        self.bots = {a.login: a for a in actors if a.kind is ActorKind.BOT}
        # Bots as activity sees them: Bot-typed accounts and ``[bot]`` logins alike.
        self.any_bots = [*self.bots.values(),
                         *(a for a in actors if a.login.endswith("[bot]"))]
        self.mannequin = next(a for a in actors if a.kind is ActorKind.MANNEQUIN)
        # The generator's review requests pick among the first teams only, so teams added
        # later (NESTED_TEAMS) leave every generated PR as it was.
        self.teams: list[Team] = [t for t in owner.teams.values() if t.slug in TEAM_SLUGS]
        self.maintainers = self.users[: max(1, len(self.users) // 6)]


def _populate(world: World, repo: Repository, rs: RepoSpec, seed: int, spec: WorldSpec) -> None:
    rng = random.Random(f"{seed}:{repo.name_with_owner}")
    pool = _Pool(world, repo.owner)
    now = spec.now
    start = now - timedelta(days=spec.history_days)

    for name, color in STANDARD_LABELS:
        default = name in ("bug", "documentation")
        repo.new_label(name, color, created_at=repo.created_at, is_default=default)
    for i in range(spec.extra_labels.get(rs.name, 0)):
        color = f"{(i * 2654435761) % 0xFFFFFF:06x}"
        created = repo.created_at + timedelta(minutes=i + 1)
        repo.new_label(f"area/component-{i + 1:03d}", color, created_at=created)
    labels = repo.labels[: len(STANDARD_LABELS)]  # random PRs only use the standard ones
    # Past due (closed), past due (still open), future due, and no due date at all.
    for number, (title, state, due) in enumerate(
        (
            ("v1.0", "CLOSED", datetime(2025, 6, 1, tzinfo=UTC)),
            ("v2.0", "OPEN", datetime(2026, 9, 15, tzinfo=UTC)),
            ("v3.0", "OPEN", datetime(2027, 3, 1, tzinfo=UTC)),
            ("Backlog", "OPEN", None),
        ),
        start=1,
    ):
        repo._milestones.append(Milestone(repo, number, title, state, due, created_at=start))

    span = int((now - start).total_seconds())
    offsets = sorted(rng.randrange(span) for _ in range(rs.pull_requests))
    for number, offset in enumerate(offsets, start=1):
        pr = _random_pr(rng, repo, number, start + timedelta(seconds=offset), now, pool, labels)
        # Activity draws from its own generator, so the PR fields above stay what they were
        # before activity existed, and one PR's activity never shifts another's.
        add_activity(random.Random(f"{seed}:{repo.name_with_owner}#{number}"), pr, pool, now)
        # The oldest PRs carry their labels, assignees and milestone with no event.
        if pr.created_at >= start + timedelta(days=HISTORY_UNRECORDED_DAYS):
            add_history(random.Random(f"{seed}:{repo.name_with_owner}#{number}:history"), pr,
                        pool, now)
        add_rework(random.Random(f"{seed}:{repo.name_with_owner}#{number}:rework"), pr, now)
        add_review_threads(random.Random(f"{seed}:{repo.name_with_owner}#{number}:threads"), pr)
        add_checks(random.Random(f"{seed}:{repo.name_with_owner}#{number}:checks"), pr, now)
        repo.add_pull_request_object(pr)

    issue_count = rs.issues if rs.issues is not None else max(2, rs.pull_requests // 4)
    for _ in range(issue_count):
        created = start + timedelta(seconds=rng.randrange(span))
        closed = rng.random() < 0.6
        closed_at = min(now, created + timedelta(days=rng.uniform(0.1, 60))) if closed else None
        repo.add_issue_object(
            Issue(
                repo,
                repo.take_number(),
                f"{rng.choice(_NOUNS).capitalize()} is broken",
                "CLOSED" if closed else "OPEN",
                author=rng.choice(pool.users),
                created_at=created,
                updated_at=closed_at or created,
                closed_at=closed_at,
            )
        )
    issues = repo.issues
    for pr in repo.pull_requests:  # link after issues exist
        if issues and rng.random() < 0.15:
            pr.closing_issues.append(rng.choice(issues))

    if spec.demo_cases and rs.name == "api":
        _plant_demo_cases(world, repo, pool)


def _random_pr(
    rng: random.Random,
    repo: Repository,
    number: int,
    created: datetime,
    now: datetime,
    pool: _Pool,
    labels: list[Label],
) -> PullRequest:
    roll = rng.random()
    author: Actor | None
    if roll < 0.12:
        author = pool.bots["dependabot"] if rng.random() < 0.7 else pool.bots["renovate"]
    elif roll < 0.13:
        author = pool.mannequin
    elif roll < 0.15:
        author = None  # deleted account
    else:
        author = rng.choice(pool.users)
    is_bot = author is not None and author.kind is ActorKind.BOT

    age_days = (now - created).total_seconds() / 86400
    state = rng.choices(PR_STATE_CHOICES, weights=(60, 30, 10) if age_days < 14 else (8, 72, 20))[0]
    closed_at = merged_at = None
    if state != "OPEN":
        closed_at = created + timedelta(seconds=rng.randrange(600, 20 * 86400))
        if closed_at >= now:
            state, closed_at = "OPEN", None
    if state == "MERGED":
        merged_at = closed_at
    end = closed_at or now
    if closed_at:
        updated = closed_at + timedelta(seconds=rng.randrange(0, 3 * 86400))
    else:
        age = max(1, int((now - created).total_seconds()))
        updated = created + timedelta(seconds=rng.randrange(0, age))
    if updated >= now:  # keep clear of "now" so a fresh touch() is always the newest
        recently = now - timedelta(seconds=rng.randrange(60, 6 * 3600))
        updated = max(end if closed_at else created, recently)
    is_draft = state == "OPEN" and not is_bot and rng.random() < 0.3

    if is_bot:
        pkg = rng.choice(_PACKAGES)
        old = f"{rng.randint(1, 5)}.{rng.randint(0, 30)}.0"
        new = f"{rng.randint(6, 9)}.{rng.randint(0, 30)}.1"
        title, body = f"Bump {pkg} from {old} to {new}", f"Bumps {pkg} from {old} to {new}."
        head = f"{author.login}/pip/{pkg}-{new}"  # type: ignore[union-attr]
    else:
        noun = rng.choice(_NOUNS)
        title = f"{rng.choice(_VERBS)} {noun}"
        body = "" if rng.random() < 0.2 else f"This changes the {noun}.\n\nCloses nothing yet."
        head = f"{author.login if author else 'ghost'}/{noun.replace(' ', '-').lower()}-{number}"

    pr = PullRequest(
        repo,
        number,
        title,
        body,
        state=state,
        is_draft=is_draft,
        created_at=created,
        updated_at=updated,
        closed_at=closed_at,
        merged_at=merged_at,
        additions=int(rng.lognormvariate(3.5, 1.4)),
        deletions=int(rng.lognormvariate(2.5, 1.4)),
        changed_files=rng.randint(1, 40),
        base_ref_name="main" if rng.random() < 0.9 else "release/2.x",
        head_ref_name=head,
        author=author,
        merged_by=rng.choice(pool.maintainers) if state == "MERGED" else None,
        milestone=rng.choice(repo._milestones) if rng.random() < 0.25 else None,
        labels=[] if rng.random() < 0.4 else rng.sample(labels, rng.randint(1, 4)),
        assignees=rng.sample(pool.users, rng.choice((0, 0, 1, 1, 2))),
    )
    reviews_wanted = rng.choice((0, 1, 1, 2, 3)) if not is_draft else 0
    last_state = None
    for i in range(reviews_wanted):
        at = created + timedelta(hours=rng.choice((1, 2, 3, 5, 8, 24)) * (i + 1))
        if at > end:
            break
        last_state = rng.choices(("APPROVED", "CHANGES_REQUESTED", "COMMENTED"), (6, 2, 2))[0]
        reviewer = None if rng.random() < 0.03 else rng.choice(pool.users)
        pr.reviews.append(Review(pr, i + 1, reviewer, last_state, at))
    if state == "OPEN" and not is_draft:
        for j in range(rng.choice((0, 0, 1, 2))):
            target: Actor | Team = (
                rng.choice(pool.teams) if rng.random() < 0.3 else rng.choice(pool.users)
            )
            pr.review_requests.append(ReviewRequest(pr, 100 + j, target))
        pr.review_decision = (
            last_state if last_state in ("APPROVED", "CHANGES_REQUESTED") else "REVIEW_REQUIRED"
        )
    elif state == "MERGED":
        pr.review_decision = "APPROVED" if last_state == "APPROVED" else None
    return pr


PR_STATE_CHOICES = ("OPEN", "MERGED", "CLOSED")

# Draft histories as ready (R) / convert-to-draft (D) events in order. The first letter
# says how the PR was created: R first means it was opened as a draft.
_STILL_DRAFT = ((), ("R", "D"), ("D",), ("R", "D", "R", "D"))
_NOW_READY = (("R",), ("R", "D", "R"), ("D", "R"), ("R", "D", "R", "D", "R"))


def add_activity(rng: random.Random, pr: PullRequest, pool: _Pool, now: datetime, *,
                 bot_reviews: bool = True) -> None:
    """Give a PR its commits, draft history, review-request, close/merge events and
    conversation comments, consistent with its state and timestamps.

    The mix covers what cycle-time metrics trip over: drafts that bounce between draft and
    ready, requests that are removed, comments by the author and by bots (Bot type and
    ``[bot]`` logins) before anyone else, deleted accounts, PRs merged with no review (or
    only a bot's), first commits after the PR was opened, and PRs without commits.
    """
    created = pr.created_at
    end = pr.closed_at or now - timedelta(minutes=1)  # open: activity stays clear of now
    span = max(120, int((end - created).total_seconds()))

    def within(lo: float = 0.0, hi: float = 1.0) -> datetime:
        return created + timedelta(seconds=int(span * rng.uniform(lo, hi)))

    author = pr.author
    is_bot = author is not None and author.kind is ActorKind.BOT
    people: list[Actor] = [u for u in pool.users if u is not author]

    def someone() -> Actor | None:
        roll = rng.random()
        if roll < 0.05:
            return None  # a deleted account
        if roll < 0.2:
            return rng.choice(pool.any_bots)
        if roll < 0.3:
            return author
        return rng.choice(people)

    pr.commits = _random_commits(rng, pr, created, span, is_bot)

    history = rng.choice(_STILL_DRAFT) if pr.is_draft else (
        rng.choice(_NOW_READY) if not is_bot and rng.random() < 0.3 else ())
    moments = sorted(within(0.0, 0.7) for _ in history)
    for letter, moment in zip(history, moments, strict=True):
        kind = "ReadyForReviewEvent" if letter == "R" else "ConvertToDraftEvent"
        pr.add_event(kind, moment, author if rng.random() < 0.9 else None)

    for request in pr.review_requests:
        pr.add_event("ReviewRequestedEvent", within(0.0, 0.5), author, request.requested_reviewer)
    for review in pr.reviews:
        if review.submitted_at and review.author is not author and rng.random() < 0.5:
            asked = created + (review.submitted_at - created) * rng.random()
            pr.add_event("ReviewRequestedEvent", asked, author, review.author)
    if not is_bot and rng.random() < 0.15:
        target: Actor | Team | None = rng.choice([*people[:6], *pool.teams, None])
        asked = within(0.0, 0.5)
        pr.add_event("ReviewRequestedEvent", asked, author, target)
        pr.add_event("ReviewRequestRemovedEvent", asked + (end - asked) * rng.uniform(0.1, 0.5),
                     author, target)

    if pr.state != "MERGED" and rng.random() < 0.05:
        closed = within(0.1, 0.4)
        pr.add_event("ClosedEvent", closed, author)
        pr.add_event("ReopenedEvent", closed + (end - closed) * rng.uniform(0.05, 0.3), author)
    if pr.merged_at is not None:
        pr.add_event("MergedEvent", pr.merged_at, pr.merged_by)
        pr.add_event("ClosedEvent", pr.merged_at, pr.merged_by)
    elif pr.closed_at is not None:
        pr.add_event("ClosedEvent", pr.closed_at, rng.choice([author, *pool.maintainers]))

    if author is not None and not is_bot and rng.random() < 0.3:
        pr.add_comment_object(author, within(0.0, 0.1), "Context for reviewers")
    if rng.random() < 0.15:
        pr.add_comment_object(rng.choice(pool.any_bots), within(0.0, 0.05), "CI report")
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 5))):
        pr.add_comment_object(someone(), within(), "A comment")
    if pr.closed_at is not None and rng.random() < 0.05:  # after the close: never a response
        late = min(pr.closed_at + timedelta(hours=rng.uniform(1, 48)), now - timedelta(minutes=1))
        if late > pr.closed_at:
            pr.add_comment_object(rng.choice(people), late, "Post-merge note")

    if bot_reviews and pr.merged_at is not None and rng.random() < 0.1:
        next_id = 1 + max((r.local_id for r in pr.reviews), default=0)
        pr.reviews.append(Review(pr, next_id, rng.choice(pool.any_bots), "COMMENTED",
                                 within(0.1, 0.9)))
    submitted = sum(1 for r in pr.reviews if r.state != "PENDING")
    pr.review_thread_count = rng.randint(0, 2 * submitted)
    _touch_after_activity(pr)


# GitHub shows labels, assignees and a milestone given before it recorded their events (and
# those of PRs imported from elsewhere with their state) in the PR's fields, with no
# Labeled / Assigned / MilestonedEvent in its timeline. Generated worlds stand that in with
# their oldest PRs: those opened in the first HISTORY_UNRECORDED_DAYS of the history keep
# their state with no event (the warehouse starts such a span at the PR's opening).
HISTORY_UNRECORDED_DAYS = 60


def add_history(rng: random.Random, pr: PullRequest, pool: _Pool, now: datetime) -> None:
    """Give a PR the label, assignee and milestone events that lead to its current labels,
    assignees and milestone, as GitHub records them.

    Some of that state was given while opening the PR (events at its creation, by the
    author), the rest later (by the author, a maintainer, a labelling bot or a since-deleted
    account). Beside it: labels added and removed again, labels removed and added back,
    assignees swapped (one unassigned as the next is assigned), PRs moved from one
    milestone to another (a Demilestoned and a Milestoned event at one instant), taken
    out of a milestone and put back, or in a milestone for a while only. Every event falls
    between the PR's creation and its close (or just before now), strictly after the
    previous event of the same label, assignee or milestone.
    """
    created = pr.created_at
    end = pr.closed_at or now - timedelta(minutes=1)
    span = max(120, int((end - created).total_seconds()))
    author = pr.author
    labeller = pool.bots["github-actions"]

    def moments(count: int, opened: bool = False) -> list[datetime]:
        """``count`` increasing moments, 1 s apart at least; the first at the creation
        when ``opened``."""
        fractions = sorted(rng.uniform(0.02, 0.9) for _ in range(count))
        out = [created if opened and i == 0 else created + timedelta(seconds=int(span * f))
               for i, f in enumerate(fractions)]
        for i in range(1, len(out)):
            out[i] = max(out[i], out[i - 1] + timedelta(seconds=1))
        return out

    def someone(labels: bool = False) -> Actor | None:
        roll = rng.random()
        if roll < 0.03:
            return None  # a deleted account
        if labels and roll < 0.15:
            return labeller
        return author if roll < 0.45 and author is not None else rng.choice(pool.maintainers)

    # Labels: each current one given at the opening, later, or removed and added back;
    # sometimes a label that came and went.
    for label in pr.labels:
        story = rng.random()
        if story < 0.5:
            pr.add_event("LabeledEvent", created, author, label=label)
        elif story < 0.88:
            pr.add_event("LabeledEvent", moments(1)[0], someone(True), label=label)
        else:
            first, gone, back = moments(3, opened=rng.random() < 0.5)
            pr.add_event("LabeledEvent", first, someone(True), label=label)
            pr.add_event("UnlabeledEvent", gone, someone(True), label=label)
            pr.add_event("LabeledEvent", back, someone(True), label=label)
    others = [lb for lb in pr.repository._labels[: len(STANDARD_LABELS)] if lb not in pr.labels]
    if others and rng.random() < 0.2:
        label = rng.choice(others)
        added, removed = moments(2, opened=rng.random() < 0.3)
        pr.add_event("LabeledEvent", added, someone(True), label=label)
        pr.add_event("UnlabeledEvent", removed, someone(True), label=label)

    # Assignees: each current one assigned at the opening or later; sometimes one took
    # over from someone else (a swap), or someone was assigned for a while only.
    swapped_out: list[Actor] = []
    for user in pr.assignees:
        story = rng.random()
        if story < 0.45:
            pr.add_event("AssignedEvent", created, author, assignee=user)
        elif story < 0.8:
            pr.add_event("AssignedEvent", moments(1)[0], someone(), assignee=user)
        else:
            before = rng.choice([u for u in pool.users
                                 if u not in pr.assignees and u not in swapped_out])
            swapped_out.append(before)
            first, swap = moments(2, opened=rng.random() < 0.5)
            who = someone()
            pr.add_event("AssignedEvent", first, someone(), assignee=before)
            pr.add_event("UnassignedEvent", swap, who, assignee=before)
            pr.add_event("AssignedEvent", swap, who, assignee=user)
    if not pr.assignees and rng.random() < 0.08:
        passing = rng.choice(pool.users)
        assigned, unassigned = moments(2)
        pr.add_event("AssignedEvent", assigned, someone(), assignee=passing)
        pr.add_event("UnassignedEvent", unassigned, someone(), assignee=passing)

    # The milestone: set at the opening or later, set / removed / set again, or moved
    # here from another one; a PR in no milestone now may have been in one for a while.
    milestones = pr.repository._milestones
    current = pr.milestone
    if current is not None:
        story = rng.random()
        other = rng.choice([m for m in milestones if m is not current] or [current])
        if story < 0.4:
            pr.add_event("MilestonedEvent", created, author, milestone_title=current.title)
        elif story < 0.7:
            pr.add_event("MilestonedEvent", moments(1)[0], someone(),
                         milestone_title=current.title)
        elif story < 0.85:
            first, gone, back = moments(3)
            pr.add_event("MilestonedEvent", first, someone(), milestone_title=current.title)
            pr.add_event("DemilestonedEvent", gone, someone(), milestone_title=current.title)
            pr.add_event("MilestonedEvent", back, someone(), milestone_title=current.title)
        else:
            first, moved = moments(2, opened=rng.random() < 0.5)
            who = someone()
            pr.add_event("MilestonedEvent", first, someone(), milestone_title=other.title)
            pr.add_event("DemilestonedEvent", moved, who, milestone_title=other.title)
            pr.add_event("MilestonedEvent", moved, who, milestone_title=current.title)
    elif milestones and rng.random() < 0.06:
        passing_milestone = rng.choice(milestones)
        first, gone = moments(2)
        pr.add_event("MilestonedEvent", first, someone(),
                     milestone_title=passing_milestone.title)
        pr.add_event("DemilestonedEvent", gone, someone(),
                     milestone_title=passing_milestone.title)
    _touch_after_activity(pr)


def add_rework(rng: random.Random, pr: PullRequest, now: datetime) -> None:
    """Rework after review, as GitHub records it: commits pushed after a review (at their
    committed dates), head-branch force pushes, and re-requests after changes requested.

    After a CHANGES_REQUESTED review by someone else, the author often commits before the
    next review and sometimes re-requests the reviewer once those commits are in; other
    PRs get a commit or a force push after their first review. Every moment falls after
    the PR's last commit so far (its first commit stays the first) and before its close
    (open PRs: before now), on whole seconds as GitHub's timestamps are. A bot's PR gets
    none, nor does a PR without commits (it stays one).
    """
    author = pr.author
    if author is not None and author.kind is ActorKind.BOT or not pr.commits:
        return
    reviews = sorted((r for r in pr.reviews if r.submitted_at is not None
                      and r.state != "PENDING"), key=lambda r: (r.submitted_at, r.local_id))
    if not reviews:
        return
    end = pr.closed_at or now - timedelta(minutes=1)
    latest = max((c.committed_at for c in pr.commits), default=pr.created_at)
    user = author if author is not None and author.kind is ActorKind.USER else None

    def commit(at: datetime) -> None:
        nonlocal latest
        at = at.replace(microsecond=0)
        if latest < at < end:
            digest = hashlib.sha1(f"{pr.id}:rework:{len(pr.commits)}".encode()).hexdigest()
            pr.commits.append(Commit(digest, at, at, user))
            latest = at

    for review, after in zip(reviews, [*reviews[1:], None], strict=True):
        assert review.submitted_at is not None
        if review.state != "CHANGES_REQUESTED" or review.author is author:
            continue
        if rng.random() < 0.6:
            until = after.submitted_at if after is not None and after.submitted_at else end
            gap = until - review.submitted_at
            moments = sorted(review.submitted_at + gap * rng.uniform(0.1, 0.6)
                             for _ in range(rng.choice((1, 1, 2))))
            for moment in moments:
                commit(moment)
            asked = (latest + (until - latest) * 0.5).replace(microsecond=0)
            if rng.random() < 0.5 and latest < asked:
                pr.add_event("ReviewRequestedEvent", asked, author, review.author)
    first = reviews[0].submitted_at
    assert first is not None
    if rng.random() < 0.15:
        commit(first + (end - first) * rng.uniform(0.05, 0.5))
    pushed = (first + (end - first) * rng.uniform(0.05, 0.5)).replace(microsecond=0)
    if rng.random() < 0.1 and first < pushed < end:
        pr.add_event("HeadRefForcePushedEvent", pushed, author)
    if latest > pr.updated_at:
        pr.updated_at = latest
    _touch_after_activity(pr)


def add_review_threads(rng: random.Random, pr: PullRequest) -> None:
    """Review-thread comments: about a third of the submitted reviews (bots' too) carry
    1-4, written in the minutes before the review was submitted (GitHub publishes a
    review's pending comments with it), never before the PR was opened."""
    for review in pr.reviews:
        if review.submitted_at is None or review.state == "PENDING" or rng.random() >= 0.35:
            continue
        count = rng.choice((1, 1, 2, 3, 4))
        for i in range(count):
            written = review.submitted_at - timedelta(minutes=3 * (count - i))
            review.add_comment(max(written, pr.created_at), f"Thread comment {i + 1}")


def _random_commits(rng: random.Random, pr: PullRequest, created: datetime, span: int,
                    is_bot: bool) -> list[Commit]:
    """The PR's commits, oldest first; none for ~2% (GitHub allows that after a rewrite)."""
    if rng.random() < 0.02:
        return []
    count = 1 if is_bot else rng.choice((1, 1, 2, 3, 5, 8))
    if not is_bot and rng.random() < 0.1:  # opened first, committed after
        first = created + timedelta(seconds=rng.randrange(60, max(61, min(7200, span // 2))))
    else:
        first = created - timedelta(seconds=rng.randrange(0, 3 * 86400))
    author = pr.author
    user = author if author is not None and author.kind is ActorKind.USER else None
    if rng.random() < 0.05:
        user = None  # the commit email matches no GitHub account
    commits = []
    for i in range(count):
        authored = first + timedelta(minutes=37 * i)
        digest = hashlib.sha1(f"{pr.id}:{i}".encode()).hexdigest()
        commits.append(Commit(digest, authored, authored + timedelta(seconds=rng.randrange(3600)),
                              user))
    return commits


def _touch_after_activity(pr: PullRequest) -> None:
    """Any visible activity moves ``updatedAt`` on GitHub: keep it at or after the last."""
    moments = [e.created_at for e in pr.timeline] + [c.created_at for c in pr.comments]
    latest = max(moments, default=pr.updated_at)
    if latest > pr.updated_at:
        pr.updated_at = latest


def _at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


def _plant_demo_cases(world: World, repo: Repository, pool: _Pool) -> None:
    """Overwrite PRs 1..20 of the ``api`` repository with the documented special cases.

    Their timestamps fall in October 2026, so they sit on the first pages of an
    UPDATED_AT DESC scan (so, unlike the random PRs, their creation dates do not grow
    with their numbers; GitHub does not promise that either)."""
    prs = {n: repo.pull_request(n) for n in DEMO_CASES.values()}
    for n, pr in prs.items():
        assert pr is not None
        pr.labels, pr.assignees, pr.reviews = [], [], []
        pr.review_requests, pr.closing_issues = [], []
        pr.milestone, pr.is_draft, pr.author = None, False, pool.users[n % len(pool.users)]
        pr.timeline, pr.comments, pr.commits, pr.review_thread_count = [], [], [], 0
        pr.title = f"Demo case #{n}"
        # cases past 30 open in mid-October, at 15:00 (the world's clock stops on Nov 1)
        created = _at(1 + n, 9) if n <= 30 else _at(n - 20, 15)
        pr.created_at, pr.state = created, "OPEN"
        pr.closed_at = pr.merged_at = pr.merged_by = None
        pr.updated_at = created + timedelta(days=3, hours=n)
        pr.review_decision = "REVIEW_REQUIRED"
    users, alice, bob = pool.users, pool.users[0], pool.users[1]

    def merged(pr: PullRequest, at: datetime, by: Actor | None) -> None:
        pr.state, pr.merged_at, pr.closed_at, pr.merged_by = "MERGED", at, at, by
        pr.updated_at = at
        pr.review_decision = "APPROVED"

    # 1: reviewed exactly 3 h after opening, merged 6 h after opening.
    pr = prs[1]
    pr.title, pr.created_at = "Add request tracing", datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    # The author must not be the 3-h reviewer: a self-review is not a first review.
    pr.author = alice
    pr.reviews = [
        Review(pr, 1, bob, "APPROVED", datetime(2026, 10, 5, 12, 0, tzinfo=UTC), "LGTM"),
        Review(pr, 2, users[2], "COMMENTED", datetime(2026, 10, 5, 13, 30, tzinfo=UTC)),
    ]
    merged(pr, datetime(2026, 10, 5, 15, 0, tzinfo=UTC), bob)
    # 2: 150 labels.
    prs[2].title = "Tag every component"
    area = [lb for lb in repo.labels if lb.name.startswith("area/")]
    for i in range(len(area), 150):  # DEMO_SPEC creates them; other specs may not
        area.append(repo.new_label(f"area/component-{i + 1:03d}", created_at=repo.created_at))
    prs[2].labels = area[:150]
    # 3: 30 assignees.
    prs[3].title = "Everyone please look"
    prs[3].assignees = users[:30]
    # 4: 120 reviews, one every 30 minutes from 1 h after opening.
    pr = prs[4]
    pr.title = "Long-running review marathon"
    pr.reviews = [
        Review(
            pr,
            i + 1,
            users[i % len(users)],
            ("COMMENTED", "CHANGES_REQUESTED", "APPROVED")[i % 3],
            pr.created_at + timedelta(hours=1, minutes=30 * i),
        )
        for i in range(120)
    ]
    pr.updated_at = pr.reviews[-1].submitted_at + timedelta(minutes=5)  # type: ignore[operator]
    pr.review_decision = "APPROVED"
    # 5: deleted author; a review by a deleted account too.
    pr = prs[5]
    pr.title, pr.author = "Orphaned change", None
    pr.reviews = [Review(pr, 1, None, "COMMENTED", pr.created_at + timedelta(hours=2))]
    # 6: bot author.
    prs[6].title, prs[6].author = "Bump requests from 2.31.0 to 2.32.3", pool.bots["dependabot"]
    prs[6].head_ref_name = "dependabot/pip/requests-2.32.3"
    # 7: mannequin author (imported from another system).
    prs[7].title, prs[7].author = "Imported from SVN r1234", pool.mannequin
    # 8: draft.
    prs[8].title, prs[8].is_draft, prs[8].review_decision = "WIP: new storage engine", True, None
    # 9: closes one issue here and one in acme/web.
    web = world.find_repository(repo.owner.login, "web") or repo
    prs[9].title = "Fix login redirect (closes api and web issues)"
    prs[9].closing_issues = [repo.issues[0], web.issues[-1]]
    merged(prs[9], prs[9].created_at + timedelta(days=1), alice)
    # 10: review requests of every reviewer kind, including a deleted account.
    pr = prs[10]
    pr.title = "Needs eyes from teams"
    reviewers: list[Actor | Team | None] = [
        pool.teams[0], pool.teams[2], users[5], pool.bots["github-actions"], pool.mannequin, None,
    ]
    pr.review_requests = [ReviewRequest(pr, i + 1, r) for i, r in enumerate(reviewers)]
    # 11: odd Unicode and a NUL byte.
    prs[11].title, prs[11].body = ODD_TITLE, ODD_BODY
    # 12-14: milestones past due / future due / no due date.
    for n, milestone_number in ((12, 2), (13, 3), (14, 4)):
        milestone = repo.milestone(milestone_number)
        assert milestone is not None
        prs[n].milestone, prs[n].title = milestone, f"Milestone case {milestone.title}"
    # 15: closed without merge.
    pr = prs[15]
    pr.title, pr.state = "Abandoned experiment", "CLOSED"
    pr.closed_at = pr.updated_at = pr.created_at + timedelta(days=2)
    pr.review_decision = None
    # 16: merged by a bot (merge queue).
    prs[16].title = "Merged by the queue"
    merged(prs[16], prs[16].created_at + timedelta(hours=20), pool.bots["github-actions"])
    # 17: bare PR.
    prs[17].title, prs[17].body, prs[17].review_decision = "Bare pull request", "", None
    # 18: a very large body.
    prs[18].title, prs[18].body = "Paste of a log", ("0123456789abcdef" * 4375)
    # 19: closes 30 issues.
    prs[19].title = "Close a pile of issues"
    prs[19].closing_issues = repo.issues[:30]
    # 20: changes requested.
    pr = prs[20]
    pr.title = "Risky refactor"
    pr.reviews = [Review(pr, 1, alice, "CHANGES_REQUESTED", pr.created_at + timedelta(hours=4))]
    pr.review_decision = "CHANGES_REQUESTED"

    # 1-20 get random activity consistent with the states just planted (no extra reviews:
    # their review counts are part of the documented cases), and the label, assignee and
    # milestone events that lead to them (2's 150 labels make a timeline over 100 items);
    # 17 stays bare but for a commit.
    for n, pr in prs.items():
        if n <= 20 and n != 17:
            add_activity(random.Random(f"demo:{n}"), pr, pool, world.now, bot_reviews=False)
            add_history(random.Random(f"demo:{n}:history"), pr, pool, world.now)
            add_rework(random.Random(f"demo:{n}:rework"), pr, world.now)
            add_review_threads(random.Random(f"demo:{n}:threads"), pr)
    prs[17].commits = [Commit(f"{17:040x}", prs[17].created_at, prs[17].created_at, prs[17].author)]
    _plant_activity_cases(prs, pool, merged)
    _plant_history_cases(repo, prs, pool)
    _plant_rework_cases(prs, pool, merged)
    _plant_team_request_cases(prs, pool)


def _plant_activity_cases(prs: dict[int, PullRequest], pool: _Pool,
                          merged: Callable[[PullRequest, datetime, Actor | None], None]) -> None:
    """Cases 21-25: hand-made timelines whose cycle-time phases are known by heart."""
    alice, bob, carol, dave, erin = pool.users[:5]
    actions = pool.bots["github-actions"]
    suffixed = next(a for a in pool.any_bots if a.login.endswith("[bot]"))

    def at(pr: PullRequest, hours: float) -> datetime:
        return pr.created_at + timedelta(hours=hours)

    def start(pr: PullRequest, title: str, author: Actor, first_commit_hours: float) -> None:
        pr.title, pr.author, pr.review_decision = title, author, None
        moment = at(pr, first_commit_hours)
        pr.commits = [Commit(hashlib.sha1(pr.id.encode()).hexdigest(), moment, moment, author)]

    def merge(pr: PullRequest, hours: float, by: Actor) -> None:
        merged(pr, at(pr, hours), by)
        pr.add_event("MergedEvent", at(pr, hours), by)
        pr.add_event("ClosedEvent", at(pr, hours), by)

    # 21: opened as a draft; ready at 2 h, bob comments at 3 h, draft again 5-8 h, carol
    # approves at 10 h, merged at 12 h: 5 h in draft, pickup 1 h, review 9 h - 3 h = 6 h.
    pr = prs[21]
    start(pr, "Draft that bounced", alice, -5)
    pr.add_event("ReadyForReviewEvent", at(pr, 2), alice)
    pr.add_comment_object(bob, at(pr, 3), "Looks good so far")
    pr.add_event("ConvertToDraftEvent", at(pr, 5), alice)
    pr.add_event("ReadyForReviewEvent", at(pr, 8), alice)
    pr.reviews = [Review(pr, 1, carol, "APPROVED", at(pr, 10))]
    merge(pr, 12, carol)
    # 22: dave requested at 1 h and removed at 2 h; carol requested at 2 h, approves at 4 h.
    pr = prs[22]
    start(pr, "Reviewer swapped", bob, -1)
    pr.add_event("ReviewRequestedEvent", at(pr, 1), bob, dave)
    pr.add_event("ReviewRequestRemovedEvent", at(pr, 2), bob, dave)
    pr.add_event("ReviewRequestedEvent", at(pr, 2), bob, carol)
    pr.reviews = [Review(pr, 1, carol, "APPROVED", at(pr, 4))]
    pr.review_decision = "APPROVED"
    # 23: a Bot, a [bot] login and the author comment first; dave responds at 2 h.
    pr = prs[23]
    start(pr, "Chatty CI", carol, -2)
    pr.add_comment_object(actions, at(pr, 1 / 12), "CI passed")
    pr.add_comment_object(suffixed, at(pr, 1 / 6), "Coverage report")
    pr.add_comment_object(carol, at(pr, 1 / 3), "Ready for eyes")
    pr.add_comment_object(dave, at(pr, 2), "On it")
    pr.reviews = [Review(pr, 1, dave, "APPROVED", at(pr, 3))]
    merge(pr, 5, dave)
    # 24: merged at 1 h with only the author's own and a bot's review; erin only comments.
    pr = prs[24]
    start(pr, "Straight to main", dave, 0.25)  # first commit after opening: coding 0 h
    pr.reviews = [Review(pr, 1, dave, "COMMENTED", at(pr, 0.5)),
                  Review(pr, 2, actions, "COMMENTED", at(pr, 2 / 3))]
    pr.add_comment_object(erin, at(pr, 0.75), "Shipping it?")
    merge(pr, 1, dave)
    # 25: a since-deleted account comments first (at 1 h); bob approves at 2 h; still open.
    pr = prs[25]
    start(pr, "Ghost in the thread", alice, -3)
    pr.add_comment_object(None, at(pr, 1), "First!")
    pr.reviews = [Review(pr, 1, bob, "APPROVED", at(pr, 2))]
    pr.review_decision = "APPROVED"
    # 26: 130 comments, one every 20 minutes from users in turn, the author's first.
    pr = prs[26]
    start(pr, "Bikeshed", alice, -1)
    for i in range(130):
        pr.add_comment_object(pool.users[i % 7], at(pr, (i + 1) / 3), f"Comment {i + 1}")
    pr.updated_at = pr.comments[-1].created_at


def _plant_rework_cases(prs: dict[int, PullRequest], pool: _Pool,
                        merged: Callable[[PullRequest, datetime, Actor | None], None]) -> None:
    """Cases 31-32: review depth and rework known by heart."""
    alice, bob, carol, dave, erin = pool.users[:5]
    actions = pool.bots["github-actions"]

    def at(pr: PullRequest, hours: float) -> datetime:
        return pr.created_at + timedelta(hours=hours)

    def commit(pr: PullRequest, hours: float, author: Actor) -> None:
        digest = hashlib.sha1(f"{pr.id}:{hours}".encode()).hexdigest()
        pr.commits.append(Commit(digest, at(pr, hours), at(pr, hours), author))

    # 31: bob requested at 0 h asks for changes at 2 h; alice commits at 3 h and 3.5 h,
    # re-requests bob at 4 h; bob approves at 6 h; merged at 7 h. Reviews 2, rounds 2,
    # commits after the first response 2, force pushes 0.
    pr = prs[31]
    pr.title, pr.author, pr.review_decision = "Second round", alice, None
    commit(pr, -2, alice)
    pr.add_event("ReviewRequestedEvent", at(pr, 0), alice, bob)
    pr.reviews = [Review(pr, 1, bob, "CHANGES_REQUESTED", at(pr, 2))]
    commit(pr, 3, alice)
    commit(pr, 3.5, alice)
    pr.add_event("ReviewRequestedEvent", at(pr, 4), alice, bob)
    pr.reviews.append(Review(pr, 2, bob, "APPROVED", at(pr, 6)))
    merged(pr, at(pr, 7), bob)
    pr.add_event("MergedEvent", at(pr, 7), bob)
    pr.add_event("ClosedEvent", at(pr, 7), bob)
    # 32: still open. dave comments (a review with 3 thread comments) at 1 h; a bot asks
    # for changes (2 thread comments) at 1.5 h;
    # carol force-pushes at 2 h (a rebase: its commit is committed at 2 h); erin asks for
    # changes at 3 h with no commit after; dave approves at 4 h. Reviews 3 (the bot's is
    # not one), rounds 1, commits after the first response 1, force pushes 1.
    pr = prs[32]
    pr.title, pr.author, pr.review_decision = "Rebased after review", carol, "APPROVED"
    commit(pr, -1, carol)
    commit(pr, 0.5, carol)
    pr.reviews = [Review(pr, 1, dave, "COMMENTED", at(pr, 1)),
                  Review(pr, 2, actions, "CHANGES_REQUESTED", at(pr, 1.5))]
    # review threads: dave's review carries 3 comments, the bot's 2
    for minutes in (50, 55, 58):
        pr.reviews[0].add_comment(at(pr, minutes / 60), "Why this?")
    for minutes in (85, 88):
        pr.reviews[1].add_comment(at(pr, minutes / 60), "Lint: line too long")
    pr.add_event("HeadRefForcePushedEvent", at(pr, 2), carol)
    commit(pr, 2, carol)
    pr.reviews += [Review(pr, 3, erin, "CHANGES_REQUESTED", at(pr, 3)),
                   Review(pr, 4, dave, "APPROVED", at(pr, 4))]
    for pr in (prs[31], prs[32]):
        pr.updated_at = max(pr.updated_at, at(pr, 8))


def _plant_team_request_cases(prs: dict[int, PullRequest], pool: _Pool) -> None:
    """Case 33: team review requests whose answers are known by heart (TEAM_MEMBERS)."""
    users = {u.login: u for u in pool.users}
    carol, bob, erin, grace = (users[name] for name in ("carol", "bob", "erin", "grace"))
    org = pool.teams[0].organization
    api_core, frontend, platform = (org.teams[s] for s in ("api-core", "frontend", "platform"))

    def at(pr: PullRequest, hours: float) -> datetime:
        return pr.created_at + timedelta(hours=hours)

    # 33 (carol's, open): api-core, frontend and platform asked at the opening. carol (the
    # author, in api-core) comments at 0.5 h and bob (in backend, above api-core, so not
    # in it) at 1 h: neither answers api-core, while bob's comment answers platform
    # (backend is below it); erin (in api-core) reviews at 2 h and answers api-core.
    # frontend's request is removed at 3 h, before grace (in frontend) comments at 4 h.
    pr = prs[33]
    pr.title, pr.author, pr.review_decision = "Asked three teams", carol, "APPROVED"
    pr.commits = [Commit(hashlib.sha1(pr.id.encode()).hexdigest(), at(pr, -1), at(pr, -1),
                         carol)]
    for team in (api_core, frontend, platform):
        pr.add_event("ReviewRequestedEvent", at(pr, 0), carol, team)
    pr.add_comment_object(carol, at(pr, 0.5), "Context for reviewers")
    pr.add_comment_object(bob, at(pr, 1), "Looks fine from backend")
    pr.reviews = [Review(pr, 1, erin, "COMMENTED", at(pr, 2))]
    pr.add_event("ReviewRequestRemovedEvent", at(pr, 3), carol, frontend)
    pr.add_comment_object(grace, at(pr, 4), "Too late?")
    pr.reviews.append(Review(pr, 2, bob, "APPROVED", at(pr, 5)))
    pr.updated_at = max(pr.updated_at, at(pr, 6))


def _plant_history_cases(repo: Repository, prs: dict[int, PullRequest], pool: _Pool) -> None:
    """Cases 27-30: hand-made label, assignee and milestone histories whose spans are
    known by heart (all four PRs stay open, so every span still running stays open)."""
    alice, bob, carol, dave, erin, frank = pool.users[:6]
    bug, needs_review, enhancement, documentation = (
        repo.label(name) for name in ("bug", "needs-review", "enhancement", "documentation"))
    v2, v3, backlog = (repo.milestone(number) for number in (2, 3, 4))
    assert bug and needs_review and enhancement and documentation and v2 and v3 and backlog

    def at(pr: PullRequest, hours: float) -> datetime:
        return pr.created_at + timedelta(hours=hours)

    def start(pr: PullRequest, title: str, author: Actor) -> None:
        pr.title, pr.author = title, author
        pr.commits = [Commit(hashlib.sha1(pr.id.encode()).hexdigest(), at(pr, -1), at(pr, -1),
                             author)]

    # 27: needs-review given at the opening and removed at 3 h; bug added at 1 h, removed
    # at 2 h and added again at 5 h. Spans: needs-review 0-3 h, bug 1-2 h and 5 h-open.
    pr = prs[27]
    start(pr, "Flaky label", alice)
    pr.add_event("LabeledEvent", at(pr, 0), alice, label=needs_review)
    pr.add_event("LabeledEvent", at(pr, 1), bob, label=bug)
    pr.add_event("UnlabeledEvent", at(pr, 2), bob, label=bug)
    pr.add_event("UnlabeledEvent", at(pr, 3), carol, label=needs_review)
    pr.add_event("LabeledEvent", at(pr, 5), carol, label=bug)
    pr.labels = [bug]
    # 28: alice assigned at the opening; dave from 1 h to 2 h; at 4 h bob swaps alice for
    # carol. Spans: alice 0-4 h, dave 1-2 h, carol 4 h-open.
    pr = prs[28]
    start(pr, "Handed over", bob)
    pr.add_event("AssignedEvent", at(pr, 0), bob, assignee=alice)
    pr.add_event("AssignedEvent", at(pr, 1), bob, assignee=dave)
    pr.add_event("UnassignedEvent", at(pr, 2), dave, assignee=dave)
    pr.add_event("UnassignedEvent", at(pr, 4), bob, assignee=alice)
    pr.add_event("AssignedEvent", at(pr, 4), bob, assignee=carol)
    pr.assignees = [carol]
    # 29: v2.0 set at 1 h, removed at 2 h; v3.0 set at 3 h; moved back to v2.0 at 5 h.
    # Spans: v2.0 1-2 h, v3.0 3-5 h, v2.0 5 h-open.
    pr = prs[29]
    start(pr, "Which release?", carol)
    pr.add_event("MilestonedEvent", at(pr, 1), carol, milestone_title=v2.title)
    pr.add_event("DemilestonedEvent", at(pr, 2), dave, milestone_title=v2.title)
    pr.add_event("MilestonedEvent", at(pr, 3), dave, milestone_title=v3.title)
    pr.add_event("DemilestonedEvent", at(pr, 5), carol, milestone_title=v3.title)
    pr.add_event("MilestonedEvent", at(pr, 5), carol, milestone_title=v2.title)
    pr.milestone = v2
    # 30: opened with bug and documentation, assigned to erin, in Backlog, all before
    # GitHub recorded such events (no event for any of it). Then: enhancement added at
    # 1 h, documentation removed at 2 h, erin swapped for frank at 3 h. Spans: bug and
    # Backlog from the opening, open, by nobody known; documentation and erin from the
    # opening to their removal; enhancement 1 h-open; frank 3 h-open.
    pr = prs[30]
    start(pr, "Older than the timeline", dave)
    pr.labels, pr.assignees, pr.milestone = [bug, documentation], [erin], backlog
    pr.add_event("LabeledEvent", at(pr, 1), dave, label=enhancement)
    pr.add_event("UnlabeledEvent", at(pr, 2), dave, label=documentation)
    pr.add_event("UnassignedEvent", at(pr, 3), dave, assignee=erin)
    pr.add_event("AssignedEvent", at(pr, 3), dave, assignee=frank)
    pr.labels = [bug, enhancement]
    pr.assignees = [frank]
    for pr in (prs[27], prs[28], prs[29], prs[30]):
        pr.review_decision = None
        pr.updated_at = at(pr, 6)
