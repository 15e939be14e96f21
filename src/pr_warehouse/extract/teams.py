"""Teams: each synced organization's GitHub teams, and the teams file.

Per organization, one ``OrganizationTeams`` query reads a page of 100 teams with their
parent team and their first 100 immediate members (1 + 100 requests: 1 point by GitHub's
formula); longer member lists are completed by ``TeamMemberPages`` follow-ups (up to 100
teams a query, 1 point), more than 100 teams by the next page. So an organization costs 1
point per run, 2 when it has over 100 teams or a member list over 100. Every answer is
stored untouched under ``runs/<run>/_orgs/<org>/pages/`` (``teams-000001.json``,
``teamsfollowup-000001.json``); the load turns them into ``raw.org_teams`` rows.

The sync time recorded (``synced_at``) is GitHub's clock when it answered (the ``Date``
header), the clock of the timestamps the memberships are compared with (a PR's
``createdAt``), whatever the worker's clock says.

Owners that are users have no teams: the same query answers ``__typename: User`` and they
are skipped. Without permission to read an organization's teams (a classic token without
``read:org``, a fine-grained token or an App without *Members: read*), GitHub answers
FORBIDDEN or INSUFFICIENT_SCOPES: one warning names the organization and the missing
permission, the teams file still applies, and the run goes on.

Example::

    with client_from_connection("github_default") as client:
        manifest = extract_teams(client, RawStore(url), "run-1", ["acme"], TeamsFile.read(path))
        manifest.orgs[0].status, manifest.orgs[0].pages
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pr_warehouse.client.errors import Forbidden, NotFound
from pr_warehouse.contracts import OrgTeams, TeamsManifest, TeamsStatus
from pr_warehouse.queries import load_query
from pr_warehouse.queries.builders import TEAM_MEMBERS_BATCH, team_members_query
from pr_warehouse.repos import check_login, parse_repo
from pr_warehouse.storage import PageKind, RawStore, org_folder

if TYPE_CHECKING:
    from pr_warehouse.client import GraphQLClient

log = logging.getLogger(__name__)


class InvalidTeamsFile(ValueError):
    """The teams file is not a mapping of team names to lists of logins."""


@dataclass(frozen=True)
class TeamsFile:
    """The ``teams:`` section of the teams file: team name -> logins, as written.

    A team named ``org/slug`` is that GitHub team; any other name is a team of the file's
    own. For a login the file lists, the file wins over GitHub teams (the marts use only
    the file's teams for that login).
    """

    path: Path | None = None
    teams: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> TeamsFile:
        """Read ``path`` (a missing file, or one without a ``teams:`` section: no teams).

        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        ...     _ = f.write("teams:\\n  payments: [alice, bob]\\n  acme/backend:\\n    - mona\\n")
        >>> TeamsFile.read(Path(f.name)).teams
        {'payments': ['alice', 'bob'], 'acme/backend': ['mona']}
        """
        if not path.exists():
            return cls(None, {})
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise InvalidTeamsFile(f"{path}: not valid YAML ({exc})") from exc
        section = loaded.get("teams") if isinstance(loaded, dict) else None
        if section is None:
            return cls(path, {})
        if not isinstance(section, dict):
            raise InvalidTeamsFile(f"{path}: `teams:` must map team names to lists of logins")
        teams: dict[str, list[str]] = {}
        for name, logins in section.items():
            if not isinstance(name, str) or not name.strip():
                raise InvalidTeamsFile(f"{path}: team name {name!r} is not a string")
            if not isinstance(logins, list) or not all(isinstance(x, str) for x in logins):
                raise InvalidTeamsFile(f"{path}: team {name!r} must list logins (strings)")
            try:
                checked = [check_login(login) for login in logins]
            except ValueError as exc:
                raise InvalidTeamsFile(f"{path}: team {name!r}: {exc}") from exc
            teams[name.strip()] = list(dict.fromkeys(checked))
        return cls(path, teams)


def owners_of(repos: Iterable[str]) -> list[str]:
    """The distinct owners of ``repos`` (case-insensitively, first spelling kept).

    >>> owners_of(["acme/api", "Acme/web", "mona/dotfiles"])
    ['acme', 'mona']
    """
    seen: dict[str, str] = {}
    for repo in repos:
        owner = parse_repo(repo).owner
        seen.setdefault(owner.lower(), owner)
    return list(seen.values())


def missing_permission(message: str) -> str:
    """What the credential lacks, from GitHub's FORBIDDEN / INSUFFICIENT_SCOPES message.

    >>> missing_permission("HTTP 200: Resource not accessible by integration")
    'the Members: read organization permission (a GitHub App)'
    """
    text = message.lower()
    if "scope" in text:
        return "the read:org scope (a classic personal access token)"
    if "integration" in text:
        return "the Members: read organization permission (a GitHub App)"
    if "personal access token" in text:
        return "Members: read on this organization (a fine-grained personal access token)"
    return ("read:org (a classic token) or Members: read (a fine-grained token or a GitHub "
            "App)")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class _OrgReader:
    """Read one organization's teams into the store, reusing pages this run already stored."""

    def __init__(self, client: GraphQLClient, store: RawStore, run_key: str, login: str,
                 use_cache: bool) -> None:
        self.client, self.store, self.run_key, self.login = client, store, run_key, login
        self.folder = org_folder(login)
        self.cached = {
            (kind, record.page): record
            for kind in (PageKind.TEAMS, PageKind.TEAMS_FOLLOWUP)
            for record in (store.committed_pages(run_key, self.folder, kind) if use_cache
                           else [])
        }
        self.result = OrgTeams(login)

    def page(self, kind: PageKind, number: int, query: str, variables: dict[str, Any],
             context: str) -> dict[str, Any]:
        """One answer's ``data``: from this run's stored page, else from GitHub (stored)."""
        record = self.cached.get((kind, number))
        if record is not None:
            self.result.pages_cached += 1
            self._keep(kind, record.key, record.meta.get("synced_at"))
            return self.store.read_json(record.key)["data"]
        before_points, before_requests = (self.client.stats.points_spent,
                                          self.client.stats.requests)
        response = self.client.execute(query, variables, context=context,
                                       expected=(Forbidden, NotFound))
        self.result.points_spent += self.client.stats.points_spent - before_points
        self.result.requests += self.client.stats.requests - before_requests
        synced_at = (self.client.server_time or _utc_now()).isoformat()
        key = self.store.write_page(
            self.run_key, self.folder, number, response.body,
            {"org": self.login, "variables": variables, "request_id": response.request_id,
             "cost": response.cost, "synced_at": synced_at}, kind=kind)
        self._keep(kind, key, synced_at)
        return response.data

    def _keep(self, kind: PageKind, key: str, synced_at: str | None) -> None:
        (self.result.pages if kind is PageKind.TEAMS else self.result.followup_pages).append(key)
        if self.result.synced_at is None and synced_at:
            self.result.synced_at = synced_at  # the first answer's clock: when it was read

    def read(self) -> OrgTeams:
        truncated: list[tuple[str, str | None]] = []  # (team id, members' end cursor)
        after: str | None = None
        number = 0
        while True:
            number += 1
            data = self.page(PageKind.TEAMS, number, load_query("organization_teams"),
                             {"login": self.login, "after": after},
                             f"org {self.login} teams page {number}")
            owner = data.get("repositoryOwner")
            if owner is None:
                self.result.status = TeamsStatus.NOT_FOUND
                return self.result
            if owner.get("__typename") != "Organization":
                self.result.status = TeamsStatus.NOT_AN_ORGANIZATION
                return self.result
            teams = owner["teams"]
            for team in teams.get("nodes") or []:
                if not team:
                    continue
                self.result.team_count += 1
                members = team.get("members") or {}
                info = members.get("pageInfo") or {}
                if info.get("hasNextPage") and info.get("endCursor"):
                    truncated.append((team["id"], info["endCursor"]))
            info = teams["pageInfo"]
            if not info["hasNextPage"] or not info["endCursor"]:
                break
            after = info["endCursor"]
        self._complete_members(truncated)
        return self.result

    def _complete_members(self, truncated: list[tuple[str, str | None]]) -> None:
        """Follow-up pages until no member list is cut short (each may be cut again)."""
        number = 0
        while truncated:
            batch, truncated = truncated[:TEAM_MEMBERS_BATCH], truncated[TEAM_MEMBERS_BATCH:]
            number += 1
            text, variables = team_members_query(batch)
            data = self.page(PageKind.TEAMS_FOLLOWUP, number, text, variables,
                             f"org {self.login} team members follow-up {number}")
            for i, (team_id, _) in enumerate(batch):
                members = ((data.get(f"t{i}") or {}).get("members")) or {}
                info = members.get("pageInfo") or {}
                if info.get("hasNextPage") and info.get("endCursor"):
                    truncated.append((team_id, info["endCursor"]))


def extract_org_teams(client: GraphQLClient, store: RawStore, run_key: str, login: str, *,
                      use_cache: bool = True) -> OrgTeams:
    """Read one owner's teams (an organization's; a user has none) into the store.

    A token that may not read them gives status ``forbidden`` and one warning naming the
    organization and what the token lacks; the other errors propagate.
    """
    reader = _OrgReader(client, store, run_key, login, use_cache)
    try:
        result = reader.read()
    except Forbidden as exc:
        result = reader.result
        result.status = TeamsStatus.FORBIDDEN
        result.error = str(exc)
        result.missing_permission = missing_permission(exc.message)
        result.synced_at = result.synced_at or (client.server_time or _utc_now()).isoformat()
        log.warning("org %s: cannot read its teams: the token lacks %s; only the teams file "
                    "applies to its members (X-GitHub-Request-Id %s)", login,
                    result.missing_permission, exc.request_id)
        return result
    except NotFound as exc:
        result = reader.result
        result.status, result.error = TeamsStatus.NOT_FOUND, str(exc)
    if result.status is TeamsStatus.NOT_FOUND:
        log.warning("org %s: no such organization or user (or the token cannot see it); no "
                    "teams read", login)
    elif result.status is TeamsStatus.NOT_AN_ORGANIZATION:
        log.info("%s is a user, not an organization: no teams", login)
    else:
        log.info("org %s: %d teams in %d page(s) and %d follow-up(s), %d point(s), %d cached",
                 login, result.team_count, len(result.pages), len(result.followup_pages),
                 result.points_spent, result.pages_cached)
    return result


def extract_teams(client: GraphQLClient, store: RawStore, run_key: str, owners: list[str],
                  teams_file: TeamsFile, *, use_cache: bool = True) -> TeamsManifest:
    """Every owner's teams, and the teams file as read now; the manifest is stored too.

    An owner whose read failed with an error a retry may fix is recorded as ``failed``
    (the others are kept) and the error is raised once all were tried, so the step's
    retries resume from the stored pages.
    """
    from pr_warehouse.client.errors import GitHubError, RateLimitWait

    manifest = TeamsManifest(run_key=run_key,
                             file_path=str(teams_file.path) if teams_file.path else None,
                             file_teams=dict(teams_file.teams))
    if not use_cache:
        for login in owners:
            store.delete_folder_run(run_key, org_folder(login))
    errors: list[GitHubError] = []
    for login in owners:
        try:
            manifest.orgs.append(extract_org_teams(client, store, run_key, login,
                                                   use_cache=use_cache))
        except RateLimitWait:
            raise
        except GitHubError as exc:
            log.error("org %s: reading its teams failed: %s", login, exc)
            manifest.orgs.append(OrgTeams(login, status=TeamsStatus.FAILED, error=str(exc)))
            errors.append(exc)
    # The file is read now: on GitHub's clock when GitHub answered this step, so its
    # history lines up with the organizations' (the worker's clock otherwise).
    stamps = [o.synced_at for o in manifest.orgs if o.synced_at]
    manifest.synced_at = max(stamps) if stamps else _utc_now().isoformat()
    store.write_teams_manifest(manifest)
    if errors:
        raise errors[0]
    return manifest
