"""Which repositories a run covers: validated names, project presets, and their union.

GitHub's naming rules: an owner login is 1-39 characters of letters, digits and hyphens;
a repository name is letters, digits, ``.``, ``_`` and ``-``, but never ``.`` or ``..``.
The same patterns (``pr_warehouse.constants``) are the DAG's Param schema, so the UI
rejects a bad name before any request is sent.

>>> parse_repo("apache/airflow")
RepoRef(owner='apache', name='airflow')
>>> parse_repo("not a repo")  # doctest: +ELLIPSIS, +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
InvalidRepoName: 'not a repo' is not a GitHub repository name ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import yaml

from pr_warehouse.constants import LOGIN_PATTERN, REPO_PATTERN


_REPO_RE = re.compile(REPO_PATTERN)
_LOGIN_RE = re.compile(LOGIN_PATTERN)


class InvalidRepoName(ValueError):
    """A repository name that GitHub could never accept."""


class UnknownProject(KeyError):
    """A ``project`` Param that names no preset in the projects file."""

    def __str__(self) -> str:
        return str(self.args[0])


class NoRepositories(ValueError):
    """The run's repos, orgs and project resolve to nothing: nothing to sync is an error."""


class RepoRef(NamedTuple):
    owner: str
    name: str

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


def parse_repo(text: str) -> RepoRef:
    """Split ``owner/name``, rejecting what GitHub would not accept."""
    text = text.strip()
    if not _REPO_RE.match(text):
        raise InvalidRepoName(
            f"{text!r} is not a GitHub repository name (expected owner/name, owner of 1-39 "
            "letters, digits or '-', name of letters, digits, '.', '_' or '-')"
        )
    owner, name = text.split("/", 1)
    return RepoRef(owner, name)


def parse_pull_request(text: str) -> tuple[str, int]:
    """Split ``owner/name#number``.

    >>> parse_pull_request("acme/api#12")
    ('acme/api', 12)
    """
    text = text.strip()
    repo, sep, number = text.partition("#")
    if not sep or not number.isdigit() or int(number) < 1:
        raise InvalidRepoName(f"{text!r} is not a pull request reference (owner/name#number)")
    return str(parse_repo(repo)), int(number)


def check_login(text: str) -> str:
    """Return ``text`` stripped if it is a valid org/user login, else raise.

    >>> check_login(" antiwork ")
    'antiwork'
    """
    text = text.strip()
    if not _LOGIN_RE.match(text):
        raise InvalidRepoName(f"{text!r} is not a GitHub organization or user login")
    return text


def load_projects(path: Path) -> dict[str, dict[str, list[str]]]:
    """Presets from the YAML projects file: ``{projects: {name: {repos: [...], orgs: [...]}}}``."""
    if not path.exists():
        return {}
    loaded = yaml.safe_load(path.read_text()) or {}
    projects = loaded.get("projects", loaded)
    if not isinstance(projects, dict):
        raise ValueError(f"{path}: expected a mapping of project names")
    return projects


def project_members(path: Path, project: str) -> tuple[list[str], list[str]]:
    """The ``(repos, orgs)`` a named preset lists."""
    projects = load_projects(path)
    if project not in projects:
        known = ", ".join(sorted(projects)) or "none"
        raise UnknownProject(f"unknown project {project!r} in {path} (known: {known})")
    preset = projects[project] or {}
    return list(preset.get("repos") or []), list(preset.get("orgs") or [])


def unique_repos(names: Iterable[str]) -> list[str]:
    """Validate, de-duplicate case-insensitively (GitHub names are), keep first spelling.

    >>> unique_repos(["a/b", "A/B", "c/d"])
    ['a/b', 'c/d']
    """
    seen: dict[str, str] = {}
    for name in names:
        ref = str(parse_repo(name))
        seen.setdefault(ref.lower(), ref)
    return list(seen.values())
