"""What passes between the steps, typed: the plan, the extract jobs and batches, the manifests,
the load's result.

Each step runs in its own process (an Airflow task), so these cross XCom or object storage
as JSON. Each type owns both directions of its JSON form (``to_json``/``from_json``), and
``from_json`` refuses keys it does not know: a field renamed on one side fails the round-trip
unit test (tests/test_contracts.py) and type checking, never a run in another process.

Standard library only, so the DAG file, the CLI and the bench can import it at no cost.

>>> batch = ExtractBatch.of([ExtractJob("acme/api"), ExtractJob("acme/web", since="2026-11-01T00:00:00+00:00")])
>>> batch.label, batch.folder
('acme/api (+1 more)', 'acme-api-and-1-more')
>>> ExtractBatch.from_task_kwargs(**batch.task_kwargs()) == batch
True
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, TypeVar

Json = dict[str, Any]
T = TypeVar("T")
E = TypeVar("E", bound=Enum)


class ContractError(ValueError):
    """A hand-off's JSON does not match its type (an unknown or missing field)."""


def _from_json(cls: type[T], data: Mapping[str, Any], **converted: Any) -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys are an error, not ignored."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - names
    if unknown:
        raise ContractError(f"{cls.__name__}: unknown field(s) {sorted(unknown)}")
    try:
        return cls(**{**data, **converted})
    except TypeError as exc:
        raise ContractError(f"{cls.__name__}: {exc}") from exc


def _status_from_json(cls: type[T], enum: type[E], data: Mapping[str, Any], default: E) -> T:
    """Build ``cls`` from ``data`` whose ``status`` is a value of ``enum`` (missing: default)."""
    try:
        status = enum(data.get("status", default.value))
    except ValueError as exc:
        raise ContractError(f"{cls.__name__}: {exc}") from exc
    return _from_json(cls, data, status=status)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def parse_iso(value: str | None) -> datetime | None:
    """An ISO-8601 timestamp (``Z`` or an offset; UTC when it has none), or None.

    >>> parse_iso("2026-11-01T10:00:00Z")
    datetime.datetime(2026, 11, 1, 10, 0, tzinfo=datetime.timezone.utc)
    """
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# -- plan ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractJob:
    """One repository to extract in a run: from ``since`` (None: its whole history), or
    just the PRs ``numbers`` (the single-PR query, not the listing).

    A whole repository's deployments, releases and default-branch history are read too,
    from ``since``, unless ``deploys`` is False (the probe saw neither a deployment nor a
    release: nothing to read, and its history would serve no deploy) or
    ``deploys_from_start`` is True (its first deploys: the history they ship, whole).
    """

    repo: str
    since: str | None = None  # ISO-8601: the hand-off crosses XCom as JSON
    numbers: tuple[int, ...] = ()
    deploys: bool = True
    deploys_from_start: bool = False

    @property
    def since_time(self) -> datetime | None:
        return parse_iso(self.since)

    @property
    def deploys_since(self) -> datetime | None:
        """Where the deployments read starts (None: from the start)."""
        return None if self.deploys_from_start else self.since_time

    def to_json(self) -> Json:
        return {"repo": self.repo, "since": self.since, "numbers": list(self.numbers),
                "deploys": self.deploys, "deploys_from_start": self.deploys_from_start}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExtractJob:
        return _from_json(cls, data, numbers=tuple(data.get("numbers") or ()))


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ExtractBatch:
    """The jobs one mapped extract task runs (usually one repository; an org with more
    repositories than Airflow should map shares tasks).

    :meth:`task_kwargs` is exactly what the DAG's ``extract.expand_kwargs`` maps over: its
    keys are the ``extract`` task's parameters (tests/test_dag.py holds the two together).
    """

    label: str
    jobs: tuple[ExtractJob, ...]

    @classmethod
    def of(cls, jobs: Sequence[ExtractJob]) -> ExtractBatch:
        """A batch labelled after its first repository (the grid's name for the task)."""
        if not jobs:
            raise ContractError("an extract batch needs at least one job")
        more = f" (+{len(jobs) - 1} more)" if len(jobs) > 1 else ""
        return cls(label=jobs[0].repo + more, jobs=tuple(jobs))

    @property
    def repos(self) -> list[str]:
        return [job.repo for job in self.jobs]

    @property
    def folder(self) -> str:
        """A folder-safe name for the pages the batch's repositories share (their events).

        Deterministic, so a retried task finds what the first try stored; unique in a run,
        since no two batches start with the same repository.
        """
        more = f"-and-{len(self.jobs) - 1}-more" if len(self.jobs) > 1 else ""
        return _UNSAFE.sub("-", self.jobs[0].repo) + more

    def task_kwargs(self) -> Json:
        return {"label": self.label, "jobs": [job.to_json() for job in self.jobs]}

    @classmethod
    def from_task_kwargs(cls, label: str, jobs: Sequence[Mapping[str, Any]]) -> ExtractBatch:
        return cls(label=label, jobs=tuple(ExtractJob.from_json(j) for j in jobs))


def batches_from_xcom(value: Sequence[Mapping[str, Any]] | None) -> list[ExtractBatch] | None:
    """The ``plan`` task's return value (its ``task_kwargs`` list) back as batches.

    None (no value: ``plan`` failed) stays None, so the load and the verdict can tell
    "no plan" from "a plan with nothing to extract".

    >>> batches_from_xcom(None) is None, batches_from_xcom([])
    (True, [])
    """
    if value is None:
        return None
    return [ExtractBatch.from_task_kwargs(**kwargs) for kwargs in value]


def planned_repos(batches: Sequence[ExtractBatch]) -> list[str]:
    """Every repository the mapped extract tasks cover, in order."""
    return [repo for batch in batches for repo in batch.repos]


@dataclass
class SyncPlan:
    """Which repositories to extract (with their ``since``) and which to skip, and what
    the probe cost. Stored beside the run's pages, read by the load (``fct_sync_runs``)."""

    extract: dict[str, datetime | None] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    sizes: dict[str, int | None] = field(default_factory=dict)  # PR count, from the probe
    probe_points: int = 0
    probe_requests: int = 0
    # Repositories synced only for some PRs (the ``pull_requests`` Param): no watermark.
    singles: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # Repositories the probe saw with no deployment and no release: not read (ExtractJob).
    without_deploys: list[str] = field(default_factory=list)
    # Repositories with their first deploys (none stored yet): read from the start.
    first_deploys: list[str] = field(default_factory=list)

    @property
    def repos(self) -> list[str]:
        """Every repository an extract job covers, in job order."""
        return [*self.extract, *(r for r in self.singles if r not in self.extract)]

    def jobs(self) -> list[ExtractJob]:
        whole = [ExtractJob(repo, _iso(since), deploys=repo not in self.without_deploys,
                            deploys_from_start=repo in self.first_deploys)
                 for repo, since in self.extract.items()]
        return whole + [ExtractJob(repo, None, numbers) for repo, numbers in self.singles.items()
                        if repo not in self.extract]

    def to_json(self) -> Json:
        return {
            "extract": {repo: _iso(since) for repo, since in self.extract.items()},
            "skipped": list(self.skipped),
            "sizes": dict(self.sizes),
            "probe_points": self.probe_points,
            "probe_requests": self.probe_requests,
            "singles": {repo: list(numbers) for repo, numbers in self.singles.items()},
            "without_deploys": list(self.without_deploys),
            "first_deploys": list(self.first_deploys),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SyncPlan:
        return _from_json(
            cls, data,
            extract={repo: parse_iso(s) for repo, s in (data.get("extract") or {}).items()},
            skipped=list(data.get("skipped") or ()),
            sizes=dict(data.get("sizes") or {}),
            singles={repo: tuple(n) for repo, n in (data.get("singles") or {}).items()},
            without_deploys=list(data.get("without_deploys") or ()),
            first_deploys=list(data.get("first_deploys") or ()),
        )


# -- extract -------------------------------------------------------------------------------------


class ExtractStatus(str, Enum):
    """How a repository's extract ended, as ``raw.sync_runs.status`` records it."""

    SUCCESS = "success"
    FAILED = "failed"  # an error ended it; the manifest names it
    MISSING = "missing"  # planned, but the task left no manifest (it never finished)
    SKIPPED = "skipped"  # the plan found nothing new since the watermark


@dataclass
class Manifest:
    """What one repository's extract did in one run: the pages it stored (keys relative to
    the raw store's base) and what it cost. Small and JSON-able: it crosses XCom.

    A batch's shared events pages are listed in the manifest of every repository whose PRs
    they hold; their points and requests are apportioned (see :func:`apportion`).
    """

    repo: str
    status: ExtractStatus = ExtractStatus.SUCCESS
    run_key: str = ""
    pages: list[str] = field(default_factory=list)
    followup_pages: list[str] = field(default_factory=list)
    event_pages: list[str] = field(default_factory=list)
    # Review-thread comments: their pages and the follow-ups of lists longer than 100.
    review_comment_pages: list[str] = field(default_factory=list)
    pages_cached: int = 0
    event_pages_cached: int = 0
    check_pages: list[str] = field(default_factory=list)  # head commits' CI checks
    pull_requests: int = 0
    pull_requests_with_events: int = 0
    total_count: int | None = None
    points_spent: int = 0
    requests: int = 0
    retries: dict[str, int] = field(default_factory=dict)
    page_size_final: int | None = None
    since: str | None = None
    numbers: list[int] = field(default_factory=list)
    started_at: str | None = None
    finished_at: str | None = None
    duration_seconds: float | None = None
    error: str | None = None
    error_class: str | None = None
    # Deployments, releases and default-branch history (extract/deployments.py); their
    # points are in points_spent too.
    deploy_pages: list[str] = field(default_factory=list)
    deploy_points: int = 0

    @property
    def ok(self) -> bool:
        return self.status is ExtractStatus.SUCCESS

    @classmethod
    def failed(cls, repo: str, run_key: str, exc: BaseException,
               started: datetime | None = None) -> Manifest:
        """The manifest of an extract an error ended (stored, so the load records it)."""
        return cls(repo=repo, run_key=run_key, status=ExtractStatus.FAILED, error=str(exc),
                   error_class=type(exc).__name__, started_at=_iso(started),
                   finished_at=datetime.now(timezone.utc).isoformat())

    @classmethod
    def missing(cls, repo: str, run_key: str = "") -> Manifest:
        return cls(repo=repo, run_key=run_key, status=ExtractStatus.MISSING,
                   error="the extract left no manifest (it never finished)")

    @classmethod
    def skipped(cls, repo: str, run_key: str = "") -> Manifest:
        return cls(repo=repo, run_key=run_key, status=ExtractStatus.SKIPPED)

    def to_json(self) -> Json:
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        return _status_from_json(cls, ExtractStatus, data, ExtractStatus.SUCCESS)


def manifests_from_xcom(value: Sequence[Sequence[Mapping[str, Any]] | None] | None
                        ) -> list[Manifest]:
    """The manifests of every mapped extract (a failed task contributes none)."""
    return [Manifest.from_json(m) for batch in value or [] if batch for m in batch if m]


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights``, in whole units that add up to ``total``
    (largest remainder; ties go to the earlier weight).

    >>> apportion(10, [1, 1, 1])
    [4, 3, 3]
    >>> apportion(1, [0, 5]), apportion(3, [0, 0])
    ([0, 1], [2, 1])
    """
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


# -- teams ---------------------------------------------------------------------------------------


class TeamsStatus(str, Enum):
    """How reading one owner's teams ended, as ``raw.org_team_syncs.status`` records it."""

    OK = "ok"  # every team and member read; the pages are stored
    FORBIDDEN = "forbidden"  # the token may not read them (no read:org / Members: read)
    NOT_AN_ORGANIZATION = "user"  # a user account: users have no teams
    NOT_FOUND = "not_found"  # no such owner, or the token cannot see it
    FAILED = "failed"  # an error a retry may fix ended it


@dataclass
class OrgTeams:
    """One owner's teams in one run: the pages stored (keys relative to the raw store's
    base), GitHub's clock when they were read (``synced_at``, ISO-8601) and the cost."""

    org: str
    status: TeamsStatus = TeamsStatus.OK
    pages: list[str] = field(default_factory=list)
    followup_pages: list[str] = field(default_factory=list)
    synced_at: str | None = None
    team_count: int = 0
    pages_cached: int = 0
    points_spent: int = 0
    requests: int = 0
    error: str | None = None
    missing_permission: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is TeamsStatus.OK

    def to_json(self) -> Json:
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrgTeams:
        return _status_from_json(cls, TeamsStatus, data, TeamsStatus.OK)


@dataclass
class TeamsManifest:
    """What the run's teams step did: each synced organization's teams (users skipped), and
    the teams file as it read it (team name -> logins), with when it read it."""

    run_key: str = ""
    orgs: list[OrgTeams] = field(default_factory=list)
    file_path: str | None = None
    file_teams: dict[str, list[str]] = field(default_factory=dict)
    synced_at: str | None = None

    @property
    def failed(self) -> list[OrgTeams]:
        return [o for o in self.orgs if o.status is TeamsStatus.FAILED]

    def to_json(self) -> Json:
        return {"run_key": self.run_key, "orgs": [o.to_json() for o in self.orgs],
                "file_path": self.file_path,
                "file_teams": {team: list(logins) for team, logins in self.file_teams.items()},
                "synced_at": self.synced_at}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TeamsManifest:
        return _from_json(
            cls, data,
            orgs=[OrgTeams.from_json(o) for o in data.get("orgs") or ()],
            file_teams={team: list(logins)
                        for team, logins in (data.get("file_teams") or {}).items()},
        )


def teams_from_xcom(value: Mapping[str, Any] | None) -> TeamsManifest | None:
    """The teams step's return value back as a manifest (None: the step failed).

    >>> teams_from_xcom(None) is None, teams_from_xcom({}).orgs
    (True, [])
    """
    return None if value is None else TeamsManifest.from_json(value)


# -- load ----------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What one load did; small enough for XCom."""

    pages: int = 0
    pull_requests_seen: int = 0
    rows_written: int = 0
    rows_cleared: int = 0
    event_pages: int = 0
    event_rows_written: int = 0
    # PRs outside the sync window whose nested lists were not completed: never stored.
    incomplete_skipped: int = 0
    repos: list[str] = field(default_factory=list)
    failed_repos: dict[str, str] = field(default_factory=dict)
    corrupt_pages: dict[str, str] = field(default_factory=dict)
    # Teams: organizations whose teams were loaded, team rows written, file teams recorded.
    team_orgs: list[str] = field(default_factory=list)
    team_rows_written: int = 0
    file_teams: int = 0

    def to_json(self) -> Json:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LoadResult:
        return _from_json(cls, data)
