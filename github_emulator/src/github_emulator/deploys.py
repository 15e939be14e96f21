"""Deployments, releases and the default branch's history of the emulator's world.

Generated per repository on first read, from a ``random.Random`` of its own seeded by
``(world seed, owner/name, "deploys")``, after the repository's pull requests exist: every
PR, review and event of the world stays exactly as it was before deployments existed.

The default branch (``main``) is the merge commits of the PRs merged into it, in merge
order (a merge commit's committed date is the PR's ``mergedAt``); a PR merged into another
branch is on no default-branch history and is never deployed. A deployment ships the head
of ``main`` at its creation, so most merge commits are deployed by a later deployment
than their own merge. Repositories named in :data:`RELEASE_REPOS` ship by release instead.

>>> from github_emulator import build_world
>>> world = build_world()
>>> api = deploy_state(world.repo("acme/api"))
>>> sorted({d.environment for d in api.deployments})
['production', 'staging']
>>> docs = deploy_state(world.repo("acme/docs"))
>>> (len(docs.deployments), len(docs.releases) > 0)
(0, True)
"""

from __future__ import annotations

import functools
import hashlib
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .world import Actor, PullRequest, Repository, World

DEFAULT_BRANCH = "main"
# Repositories (by name) that ship by release rather than by deployment.
RELEASE_REPOS = frozenset({"docs"})
# Terminal deployment status states (GraphQL's DeploymentStatusState).
FINISHED_STATES = ("SUCCESS", "FAILURE", "ERROR")


def merge_commit_oid(pr: PullRequest) -> str | None:
    """The oid of a merged PR's merge commit (stable: a hash of repository and number).

    >>> from github_emulator import build_world
    >>> w = build_world(); pr = w.repo("acme/api").pull_request(1)
    >>> merge_commit_oid(pr) is None or len(merge_commit_oid(pr)) == 40
    True
    """
    if pr.merged_at is None:
        return None
    return _merge_oid(pr.repository.database_id, pr.number)


@functools.lru_cache(maxsize=1 << 16)  # every listing page asks for its merged PRs' oids
def _merge_oid(repository_id: int, number: int) -> str:
    seed = f"merge:{repository_id}:{number}".encode()
    return hashlib.sha1(seed).hexdigest()  # noqa: S324 (an id, not security)


@dataclass(frozen=True)
class BranchCommit:
    """A commit of the default branch."""

    oid: str
    committed_at: datetime


@dataclass(eq=False)
class Deployment:
    """A deployment with its statuses ``[(state, at)]``, oldest first."""

    repository: Repository
    database_id: int
    environment: str
    oid: str
    created_at: datetime
    creator: Actor | None
    statuses: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def id(self) -> str:
        from .ids import node_id

        return node_id("Deployment", self.repository.database_id, self.database_id)

    @property
    def latest_state(self) -> str | None:
        return self.statuses[-1][0] if self.statuses else None


@dataclass(eq=False)
class Release:
    """A published release of a tag."""

    repository: Repository
    database_id: int
    tag: str
    oid: str
    published_at: datetime

    @property
    def id(self) -> str:
        from .ids import node_id

        return node_id("Release", self.repository.database_id, self.database_id)


@dataclass(eq=False)
class DeployState:
    """A repository's deployments and releases (the history is derived from its PRs)."""

    deployments: list[Deployment] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)


def default_branch_history(repo: Repository) -> list[BranchCommit]:
    """``main``'s commits, oldest first: the merge commits of PRs merged into it."""
    merged = [pr for pr in repo.pull_requests
              if pr.merged_at is not None and pr.base_ref_name == DEFAULT_BRANCH]
    merged.sort(key=lambda pr: (pr.merged_at, pr.number))
    return [BranchCommit(merge_commit_oid(pr) or "", pr.merged_at) for pr in merged]  # type: ignore[arg-type]


def head_at(repo: Repository, at: datetime,
            history: Sequence[BranchCommit] | None = None) -> BranchCommit | None:
    """The newest commit of ``main`` committed at or before ``at``.

    ``history``: ``main``'s commits when the caller already has them. Generating a large
    repository's deploys asks for hundreds of heads: rebuilding the history for each one
    made the first deploy read of a 5,000-PR repository take seconds.
    """
    commits = default_branch_history(repo) if history is None else history
    # oldest first, so the commits at or before `at` are a prefix
    index = bisect_right(commits, at, key=lambda commit: commit.committed_at)
    return commits[index - 1] if index else None


def deploy_state(repo: Repository) -> DeployState:
    """The repository's deployments and releases, generated on first read."""
    state = repo.deploys
    if state is None:
        repo.materialize()
        state = repo.deploys = DeployState()
        _generate(repo, state)
    return state


def _generate(repo: Repository, state: DeployState) -> None:
    """Deploys every one to four days (sometimes a gap of weeks) from the first merge on,
    until the world's build time: staging first, then production an hour later; some
    production deploys fail or error, and one in a while a good one is rolled back."""
    history = default_branch_history(repo)
    if not history:
        return
    rng = random.Random(f"{repo.seed}:{repo.name_with_owner}:deploys")
    creators = [pr.merged_by for pr in repo.pull_requests if pr.merged_by is not None][:5]
    end = max(pr.updated_at for pr in repo.pull_requests)
    at = history[0].committed_at + timedelta(hours=rng.randint(1, 30))
    releases = repo.name in RELEASE_REPOS
    version = 0
    last_good: str | None = None
    while at < end:
        head = head_at(repo, at, history)
        assert head is not None
        if head.oid == last_good:  # nothing new merged since the last good deploy
            at += timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 8))
            continue
        who = rng.choice(creators) if creators else None
        if releases:
            version += 1
            state.releases.append(Release(repo, len(state.releases) + 1, f"v1.{version}.0",
                                          head.oid, at))
            last_good = head.oid
        else:
            _add(state, repo, "staging", head.oid, at, who, "SUCCESS", minutes=8)
            prod_at = at + timedelta(hours=1)
            roll = rng.random()
            outcome = "SUCCESS" if roll < 0.8 else ("FAILURE" if roll < 0.93 else "ERROR")
            _add(state, repo, "production", head.oid, prod_at, who, outcome,
                 minutes=rng.randint(5, 40))
            if outcome == "SUCCESS" and last_good not in (None, head.oid) and rng.random() < 0.12:
                # A rollback: the previous good commit shipped again within hours.
                _add(state, repo, "production", last_good, prod_at + timedelta(
                    hours=rng.randint(2, 20)), who, "SUCCESS", minutes=6)
            elif outcome == "SUCCESS":
                last_good = head.oid
        gap = rng.randint(20, 40) if rng.random() < 0.06 else rng.randint(1, 4)
        at += timedelta(days=gap, hours=rng.randint(0, 8))
    _deactivate_superseded(state)


def _add(state: DeployState, repo: Repository, environment: str, oid: str, at: datetime,
         creator: Actor | None, outcome: str, *, minutes: int) -> Deployment:
    deployment = Deployment(repo, len(state.deployments) + 1, environment, oid, at, creator)
    deployment.statuses += [("IN_PROGRESS", at + timedelta(minutes=1)),
                            (outcome, at + timedelta(minutes=minutes))]
    state.deployments.append(deployment)
    return deployment


def _deactivate_superseded(state: DeployState) -> None:
    """GitHub marks a successful deployment INACTIVE when a later one of its environment
    succeeds (``auto_inactive``)."""
    last: dict[str, Deployment] = {}
    for deployment in sorted(state.deployments, key=lambda d: (d.created_at, d.database_id)):
        if deployment.latest_state != "SUCCESS":
            continue
        previous = last.get(deployment.environment)
        if previous is not None and previous.latest_state == "SUCCESS":
            previous.statuses.append(("INACTIVE", deployment.statuses[-1][1]))
        last[deployment.environment] = deployment


def deploy(world: World, repo_ref: Any, environment: str = "production", *,
           outcome: str = "SUCCESS", oid: str | None = None, minutes: int = 10,
           by: Any = None) -> Deployment:
    """A test mutator: deploy ``oid`` (default: ``main``'s head) now, ending in ``outcome``
    ``minutes`` later. No pull request changes (a deploy touches none)."""
    with world.lock:
        repo = world.repo(repo_ref)
        state = deploy_state(repo)
        if oid is None:
            head = head_at(repo, world.now)
            if head is None:
                raise ValueError(f"{repo.name_with_owner} has nothing on {DEFAULT_BRANCH}")
            oid = head.oid
        creator = world.actor(by) if by is not None else world._default_user()
        deployment = _add(state, repo, environment, oid, world.now, creator, outcome,
                          minutes=minutes)
        _deactivate_superseded(state)
        return deployment


def publish_release(world: World, repo_ref: Any, tag: str) -> Release:
    """A test mutator: publish ``tag`` of ``main``'s head now."""
    with world.lock:
        repo = world.repo(repo_ref)
        state = deploy_state(repo)
        head = head_at(repo, world.now)
        if head is None:
            raise ValueError(f"{repo.name_with_owner} has nothing on {DEFAULT_BRANCH}")
        release = Release(repo, len(state.releases) + 1, tag, head.oid, world.now)
        state.releases.append(release)
        return release


# --- rendering (GitHub's schema names) ---------------------------------------------------


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def render_deployment(deployment: Deployment) -> dict[str, Any]:
    from .resolvers import connection, iso, render_actor

    def statuses(info: Any, **args: Any) -> dict[str, Any]:
        indexed = list(enumerate(deployment.statuses))
        return connection(info, indexed, lambda item: (item[0],),
                          lambda item: {"__typename": "DeploymentStatus", "state": item[1][0],
                                        "createdAt": iso(item[1][1]),
                                        "updatedAt": iso(item[1][1])},
                          first=args.get("first"), last=args.get("last"),
                          after=args.get("after"), before=args.get("before"))

    latest = deployment.statuses[-1] if deployment.statuses else None
    return {
        "__typename": "Deployment",
        "id": deployment.id,
        "databaseId": deployment.database_id,
        "environment": deployment.environment,
        "latestEnvironment": deployment.environment,
        "originalEnvironment": deployment.environment,
        "commitOid": deployment.oid,
        "commit": {"__typename": "Commit", "oid": deployment.oid},
        "createdAt": iso(deployment.created_at),
        "updatedAt": iso(latest[1] if latest else deployment.created_at),
        # Deployment.creator is non-null: GitHub shows its "ghost" user for a deleted account.
        "creator": render_actor(deployment.creator) or {"__typename": "User", "login": "ghost"},
        "state": latest[0] if latest else "PENDING",
        "latestStatus": ({"__typename": "DeploymentStatus", "state": latest[0],
                          "createdAt": iso(latest[1])} if latest else None),
        "statuses": statuses,
    }


def render_release(release: Release) -> dict[str, Any]:
    from .resolvers import iso

    return {
        "__typename": "Release",
        "id": release.id,
        "databaseId": release.database_id,
        "name": release.tag,
        "tagName": release.tag,
        "isDraft": False,
        "isPrerelease": False,
        "createdAt": iso(release.published_at),
        "publishedAt": iso(release.published_at),
        "tagCommit": {"__typename": "Commit", "oid": release.oid},
    }


def repository_fields(repo: Repository) -> dict[str, Any]:
    """``deployments``, ``releases`` and ``defaultBranchRef`` of a rendered Repository."""
    from .resolvers import connection, iso

    def order(args: dict[str, Any]) -> bool:
        return (args.get("orderBy") or {}).get("direction", "ASC") == "DESC"

    def page(args: dict[str, Any]) -> dict[str, Any]:
        return {k: args.get(k) for k in ("first", "last", "after", "before")}

    def deployments(info: Any, **args: Any) -> dict[str, Any]:
        wanted = args.get("environments")
        found = [d for d in deploy_state(repo).deployments
                 if not wanted or d.environment in wanted]
        desc = order(args)
        key = lambda d: (_epoch(d.created_at), d.database_id)  # noqa: E731
        found.sort(key=key, reverse=desc)
        return connection(info, found, key, render_deployment, descending=desc, **page(args))

    def releases(info: Any, **args: Any) -> dict[str, Any]:
        desc = order(args)
        key = lambda r: (_epoch(r.published_at), r.database_id)  # noqa: E731
        found = sorted(deploy_state(repo).releases, key=key, reverse=desc)
        return connection(info, found, key, render_release, descending=desc, **page(args))

    def history(info: Any, **args: Any) -> dict[str, Any]:
        since = args.get("since")
        commits = list(enumerate(default_branch_history(repo)))
        if since:
            floor = datetime.fromisoformat(since.replace("Z", "+00:00"))
            commits = [c for c in commits if c[1].committed_at >= floor]
        commits.reverse()  # git log: newest first
        key = lambda c: (_epoch(c[1].committed_at), c[0])  # noqa: E731
        return connection(info, commits, key,
                          lambda c: {"__typename": "Commit", "oid": c[1].oid,
                                     "committedDate": iso(c[1].committed_at)},
                          descending=True, **page(args))

    return {
        "deployments": deployments,
        "releases": releases,
        "defaultBranchRef": lambda _info, **_: {
            "__typename": "Ref", "name": DEFAULT_BRANCH, "prefix": "refs/heads/",
            "target": {"__typename": "Commit", "history": history},
        },
    }


def pull_request_fields(pr: PullRequest) -> dict[str, Any]:
    """``mergeCommit`` of a rendered PullRequest."""
    oid = merge_commit_oid(pr)
    return {"mergeCommit": None if oid is None else {"__typename": "Commit", "oid": oid}}


def find_deploy_node(repo: Repository, kind: str, local: int) -> Deployment | Release | None:
    """A deployment or release by its number in the repository (``node(id:)``)."""
    state = deploy_state(repo)
    items: list[Any] = state.deployments if kind == "Deployment" else state.releases
    return next((x for x in items if x.database_id == local), None)


def render_deploy_node(obj: Any) -> dict[str, Any] | None:
    """Render a deployment or release reached through ``node(id:)`` (else None)."""
    if isinstance(obj, Deployment):
        return render_deployment(obj)
    if isinstance(obj, Release):
        return render_release(obj)
    return None
