"""Opaque identifiers: GitHub-style global node ids and connection cursors.

Node ids look like GitHub's new-style ids (``PR_kwDO...``): a type prefix, then base64 of
a few unsigned integers. The integers let :meth:`World.find_node` locate the object
without a global registry, which keeps lazily generated repositories lazy.

>>> nid = node_id("PullRequest", 7, 42)
>>> nid.startswith("PR_kwDO")
True
>>> decode_node_id(nid)
('PullRequest', (7, 42))
>>> decode_cursor(encode_cursor((1700000000, 5)))
(1700000000, 5)
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import struct

# Prefixes follow GitHub's own where known (PR_, R_, U_, O_, LA_, MI_, I_, PRR_, RR_, T_).
TYPE_PREFIX: dict[str, str] = {
    "PullRequest": "PR",
    "Repository": "R",
    "Organization": "O",
    "User": "U",
    "Bot": "BOT",
    "Mannequin": "MQ",
    "Label": "LA",
    "Milestone": "MI",
    "Issue": "I",
    "PullRequestReview": "PRR",
    "ReviewRequest": "RR",
    "Team": "T",
    "IssueComment": "IC",
    "ReadyForReviewEvent": "RFRE",
    "ConvertToDraftEvent": "CTDE",
    "ReviewRequestedEvent": "RRE",
    "ReviewRequestRemovedEvent": "RRRE",
    "ClosedEvent": "CE",
    "ReopenedEvent": "REE",
    "MergedEvent": "ME",
    "LabeledEvent": "LE",
    "UnlabeledEvent": "UNLE",
    "AssignedEvent": "AE",
    "UnassignedEvent": "UAE",
    "MilestonedEvent": "MIE",
    "DemilestonedEvent": "DEME",
    "HeadRefForcePushedEvent": "HRFPE",
    "PullRequestCommit": "PURC",
    "PullRequestReviewThread": "PRRT",
    "PullRequestReviewComment": "PRRC",
    "Deployment": "DE",
    "Release": "RE",
}
_PREFIX_TYPE = {prefix: name for name, prefix in TYPE_PREFIX.items()}
_MARKER = "_kwDO"
_CURSOR_PREFIX = b"cursor:v2:"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.lru_cache(maxsize=1 << 16)  # a page renders the same authors over and over
def node_id(typename: str, *parts: int) -> str:
    """A stable opaque global id for an object of ``typename`` identified by ``parts``."""
    return f"{TYPE_PREFIX[typename]}{_MARKER}{_b64(struct.pack(f'>{len(parts)}I', *parts))}"


def decode_node_id(value: str) -> tuple[str, tuple[int, ...]] | None:
    """Inverse of :func:`node_id`; ``None`` for anything that is not one of ours."""
    prefix, sep, payload = value.partition(_MARKER)
    typename = _PREFIX_TYPE.get(prefix)
    if not sep or typename is None:
        return None
    try:
        raw = _unb64(payload)
    except (binascii.Error, ValueError):
        return None
    if not raw or len(raw) % 4:
        return None
    return typename, struct.unpack(f">{len(raw) // 4}I", raw)


def encode_cursor(key: tuple[int | str, ...]) -> str:
    """A keyset cursor: base64 of ``cursor:v2:`` + the sort key, like GitHub's cursors.

    Keyset (not offset) cursors mean a page boundary survives inserts, and an item whose
    sort key changes between pages moves, exactly as on GitHub.
    """
    body = json.dumps(list(key), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(_CURSOR_PREFIX + body).decode("ascii")


def decode_cursor(cursor: str) -> tuple[int | str, ...] | None:
    """The sort key inside ``cursor``, or ``None`` when it is not a cursor of ours."""
    try:
        raw = base64.b64decode(cursor.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    if not raw.startswith(_CURSOR_PREFIX):
        return None
    try:
        key = json.loads(raw[len(_CURSOR_PREFIX) :].decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(key, list) or not all(
        isinstance(k, (int, str)) and not isinstance(k, bool) for k in key
    ):
        return None
    return tuple(key)
