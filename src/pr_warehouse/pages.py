"""Reading raw pages: pure functions shared by the extract (to resume) and the load.

A pull-request page is GitHub's response body for ``repository_pull_requests``; an
events page answers ``pull_request_events`` (``data.nodes``, the ids it asked for are in
its metadata); a follow-up page answers ``nested_connection_query`` with aliases
``n0..nK`` whose requests are listed in the page's metadata.

>>> body = {"data": {"repository": {"pullRequests": {"pageInfo": {"hasNextPage": False,
...         "endCursor": None}, "totalCount": 1, "nodes": [None, {"id": "PR_1"}]}}}}
>>> [n["id"] for n in pull_request_nodes(body)]
['PR_1']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pr_warehouse.queries.builders import NESTED_CONNECTIONS

Json = dict[str, Any]


class CorruptPage(ValueError):
    """A stored page that is not the JSON shape its query returns."""


def pull_request_connection(body: Json, key: str = "") -> Json:
    """``data.repository.pullRequests`` of a page, or :class:`CorruptPage`."""
    try:
        connection = body["data"]["repository"]["pullRequests"]
        connection["pageInfo"]
        return connection
    except (KeyError, TypeError) as exc:
        raise CorruptPage(f"page {key or '?'} has no data.repository.pullRequests") from exc


def pull_request_nodes(body: Json, key: str = "") -> list[Json]:
    """Non-null PR nodes of a page (GitHub allows null items in ``nodes``).

    A single-PR page (``repository.pullRequest``) counts as a page of one node.

    >>> pull_request_nodes({"data": {"repository": {"pullRequest": {"id": "PR_9"}}}})
    [{'id': 'PR_9'}]
    """
    single = ((body.get("data") or {}).get("repository") or {}).get("pullRequest")
    if isinstance(single, dict):
        return [single]
    return [n for n in pull_request_connection(body, key).get("nodes") or [] if n]


def event_nodes(body: Json, key: str = "") -> list[Json]:
    """Non-null PR nodes of an events page (``data.nodes``), or :class:`CorruptPage`.

    >>> [n["id"] for n in event_nodes({"data": {"nodes": [{"id": "PR_1"}, None]}})]
    ['PR_1']
    """
    nodes = (body.get("data") or {}).get("nodes") if isinstance(body, dict) else None
    if not isinstance(nodes, list):
        raise CorruptPage(f"page {key or '?'} has no data.nodes")
    return [n for n in nodes if isinstance(n, dict) and n.get("id")]


def truncated_connections(node: Json) -> Iterator[tuple[str, str | None]]:
    """``(connection, endCursor)`` for each nested list of ``node`` with more items.

    >>> list(truncated_connections({"labels": {"pageInfo": {"hasNextPage": True,
    ...      "endCursor": "c"}, "nodes": []}, "reviews": None}))
    [('labels', 'c')]
    """
    for connection in NESTED_CONNECTIONS:
        conn = node.get(connection)
        if conn and (conn.get("pageInfo") or {}).get("hasNextPage"):
            yield connection, conn["pageInfo"].get("endCursor")


def followup_results(body: Json, requests: list[Json]) -> Iterator[tuple[Json, Json | None]]:
    """Pair each follow-up request ``{alias, id, connection, after}`` with its answer.

    The answer is the connection object, or None when GitHub returned no node for it
    (the PR was deleted between the page and the follow-up).
    """
    data = body.get("data") or {}
    for request in requests:
        node = data.get(request["alias"])
        yield request, (node or {}).get(request["connection"]) if node else None


def complete_nested_lists(
    nodes: Iterable[Json], followups: Iterable[tuple[Json, Json]]
) -> dict[str, Json]:
    """Merge follow-up pages into PR nodes; returns nodes by id, lists complete.

    ``followups`` are (body, meta) pairs in fetch order. The merged connection keeps
    ``totalCount`` and gets the last page's ``pageInfo``, so a complete list reads
    ``hasNextPage: false``. The input nodes are not modified.

    >>> node = {"id": "P", "labels": {"pageInfo": {"hasNextPage": True, "endCursor": "c1"},
    ...         "nodes": [{"name": "a"}]}}
    >>> page = {"data": {"n0": {"labels": {"pageInfo": {"hasNextPage": False,
    ...         "endCursor": "c2"}, "nodes": [{"name": "b"}]}}}}
    >>> meta = {"requests": [{"alias": "n0", "id": "P", "connection": "labels", "after": "c1"}]}
    >>> merged = complete_nested_lists([node], [(page, meta)])
    >>> [label["name"] for label in merged["P"]["labels"]["nodes"]]
    ['a', 'b']
    """
    by_id: dict[str, Json] = {node["id"]: node for node in nodes}
    for body, meta in followups:
        for request, answer in followup_results(body, meta.get("requests", [])):
            node = by_id.get(request["id"])
            if node is None or answer is None or node.get(request["connection"]) is None:
                continue
            target = node[request["connection"]]
            # A retried follow-up may repeat a page already merged: the cursor tells.
            if (target.get("pageInfo") or {}).get("endCursor") != request["after"]:
                continue
            merged = {
                **target,
                "nodes": [*(target.get("nodes") or []), *(answer.get("nodes") or [])],
                "pageInfo": answer.get("pageInfo") or target.get("pageInfo"),
            }
            by_id[request["id"]] = {**node, request["connection"]: merged}
    return by_id
