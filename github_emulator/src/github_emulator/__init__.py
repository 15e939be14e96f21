"""A local GitHub GraphQL API for tests, the demo and benchmarks.

It answers the product's queries (and any other schema-valid query) from a
deterministic in-memory :class:`World`, over real HTTP, with GitHub's validation,
pagination rules, cost formula, rate limits, error shapes and injectable faults. Queries
are validated by graphql-core and executed by a compiled executor with graphql-core's
semantics (``executor.py``), about twice as fast on the product's listing pages.

>>> from github_emulator import EmulatorServer, build_world
>>> world = build_world()                       # the demo org "acme"
>>> with EmulatorServer(world) as server:       # http://127.0.0.1:<port>/graphql
...     _ = server.url                          # token: "emulator-token"
>>> server.ledger.requests
0

Run one from a shell: ``python -m github_emulator --port 8765``.
"""

from __future__ import annotations

from .apps import CredentialLog, Credentials, GitHubApp, Identity
from .cost import MAX_NODES, QueryCost, node_limit_message, points_for, query_cost
from .faults import (
    CHARGING_FAULTS,
    FAULT_200_SOMETHING_WENT_WRONG,
    FAULT_502_HTML,
    FAULT_504,
    FAULT_BAD_CREDENTIALS,
    FAULT_CLASSES,
    FAULT_CONNECTION_RESET,
    FAULT_PARTIAL,
    FAULT_PRIMARY_RATE_LIMITED,
    FAULT_SECONDARY_200,
    FAULT_SECONDARY_403,
    FAULT_SECONDARY_429,
    FAULT_SECONDARY_NO_RETRY_AFTER,
    FAULT_TIMEOUT,
    FaultPlan,
    FaultReply,
    fault_reply,
    mask_partial,
    pick_fault,
)
from .generate import DEMO_CASES, DEMO_SPEC, RepoSpec, WorldSpec, build_world
from .ledger import Ledger, LedgerEntry
from .limits import LatencyModel, Limits, PrimaryLimiter, RateSnapshot, SecondaryLimiter
from .server import DEFAULT_TOKENS, EmulatorServer
from .world import (
    DEFAULT_NOW,
    Actor,
    ActorKind,
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

DEFAULT_TOKEN = "emulator-token"

__all__ = [
    "CHARGING_FAULTS",
    "CredentialLog",
    "Credentials",
    "DEFAULT_NOW",
    "DEFAULT_TOKEN",
    "DEFAULT_TOKENS",
    "DEMO_CASES",
    "DEMO_SPEC",
    "FAULT_200_SOMETHING_WENT_WRONG",
    "FAULT_502_HTML",
    "FAULT_504",
    "FAULT_BAD_CREDENTIALS",
    "FAULT_CLASSES",
    "FAULT_CONNECTION_RESET",
    "FAULT_PARTIAL",
    "FAULT_PRIMARY_RATE_LIMITED",
    "FAULT_SECONDARY_200",
    "FAULT_SECONDARY_403",
    "FAULT_SECONDARY_429",
    "FAULT_SECONDARY_NO_RETRY_AFTER",
    "FAULT_TIMEOUT",
    "MAX_NODES",
    "Actor",
    "ActorKind",
    "EmulatorServer",
    "FaultPlan",
    "FaultReply",
    "GitHubApp",
    "Identity",
    "Issue",
    "Label",
    "LatencyModel",
    "Ledger",
    "LedgerEntry",
    "Limits",
    "Milestone",
    "Owner",
    "PrimaryLimiter",
    "PullRequest",
    "QueryCost",
    "RateSnapshot",
    "RepoSpec",
    "Repository",
    "Review",
    "ReviewRequest",
    "SecondaryLimiter",
    "Team",
    "World",
    "WorldSpec",
    "build_world",
    "fault_reply",
    "mask_partial",
    "node_limit_message",
    "pick_fault",
    "points_for",
    "query_cost",
]
