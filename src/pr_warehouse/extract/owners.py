"""Resolve organizations and users to the non-archived repositories they own."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pr_warehouse.client.errors import NotFound
from pr_warehouse.queries import load_query

if TYPE_CHECKING:
    from pr_warehouse.client import GraphQLClient

log = logging.getLogger(__name__)


class UnknownOwner(NotFound):
    """An org/user login GitHub does not know (``repositoryOwner`` is null)."""


def owner_repositories(client: GraphQLClient, login: str) -> list[str]:
    """Every non-archived repository ``login`` owns, as ``owner/name``, paging by 100.

    Example (against the bundled emulator's world)::

        owner_repositories(client, "acme")  # -> ["acme/api", "acme/web", ...]
    """
    query = load_query("owner_repositories")
    repos: list[str] = []
    after: str | None = None
    page = 0
    while True:
        page += 1
        response = client.execute(
            query, {"login": login, "after": after}, context=f"org {login} page {page}"
        )
        owner = response.data.get("repositoryOwner")
        if owner is None:
            raise UnknownOwner(
                f"no GitHub organization or user named {login!r} (or the token cannot see it)",
                request_id=response.request_id,
            )
        connection = owner["repositories"]
        repos.extend(n["nameWithOwner"] for n in connection["nodes"] if n and not n["isArchived"])
        info = connection["pageInfo"]
        log.info("org %s page %d: %d/%d repositories", login, page, len(repos),
                 connection["totalCount"])
        if not info["hasNextPage"] or not info["endCursor"]:
            return repos
        after = info["endCursor"]
