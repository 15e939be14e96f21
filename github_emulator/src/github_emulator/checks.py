"""CI checks on a pull request's head commit: the world's part and its GraphQL rendering.

GitHub reports a head commit's CI as a ``StatusCheckRollup``: a combined ``state`` and a
``contexts`` connection mixing ``CheckRun`` items (GitHub Actions jobs, other apps) and
``StatusContext`` items (the older commit-status API). Re-running a check adds a second
check run of the same name; both stay listed, and the rollup state counts the latest.

Checks are drawn from their own generator per PR (``"<seed>:<owner/name>#<n>:checks"``),
after everything else of the PR, so the rest of the world is exactly what it was before
checks existed. A PR without commits, and about one in eight others, has no checks (its
``statusCheckRollup`` is null, as on GitHub).

>>> from datetime import datetime, timezone
>>> rollup_state([])
>>> latest_per_name([]) == []
True
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphql import GraphQLResolveInfo

    from .world import PullRequest

# Conclusions that make a check run fail the rollup (GitHub's combined state is FAILURE).
FAILING_CONCLUSIONS = frozenset(
    {"FAILURE", "TIMED_OUT", "STARTUP_FAILURE", "ACTION_REQUIRED", "CANCELLED"})
FAILING_STATES = frozenset({"FAILURE", "ERROR"})
# A PR carrying a build matrix this wide has more contexts than one page of 100 holds.
MATRIX_WIDTH = 120
ACTIONS_APP = ("GitHub Actions", "github-actions")


@dataclass(eq=False)
class CheckContext:
    """One item of a head commit's rollup: a ``CheckRun`` or a ``StatusContext``.

    A check run has ``status`` (QUEUED, IN_PROGRESS, COMPLETED), a ``conclusion`` once
    completed, and its app and workflow; a status context has a ``state`` and the time it
    was posted (``started_at``; GitHub calls it ``createdAt``).
    """

    pr: PullRequest
    local_id: int
    kind: str  # "CheckRun" | "StatusContext"
    name: str
    is_required: bool
    started_at: datetime | None
    completed_at: datetime | None = None
    status: str | None = None  # check runs only
    conclusion: str | None = None  # check runs only
    state: str | None = None  # status contexts only
    workflow: str | None = None
    event: str | None = None
    app: tuple[str, str] | None = None  # (name, slug)

    @property
    def id(self) -> str:
        prefix = "CR" if self.kind == "CheckRun" else "SC"
        return f"{prefix}_{self.pr.id}_{self.local_id}"

    @property
    def failed(self) -> bool:
        return (self.conclusion in FAILING_CONCLUSIONS if self.kind == "CheckRun"
                else self.state in FAILING_STATES)

    @property
    def pending(self) -> bool:
        return (self.status != "COMPLETED" if self.kind == "CheckRun"
                else self.state in ("PENDING", "EXPECTED"))


def latest_per_name(contexts: Sequence[CheckContext]) -> list[CheckContext]:
    """The item that counts for each (kind, workflow, name): the latest started (then the latest
    created), so a re-run that passed replaces the failed first run."""
    latest: dict[tuple[str, str, str], CheckContext] = {}
    for item in sorted(contexts, key=lambda c: (c.started_at or c.pr.created_at, c.local_id)):
        latest[(item.kind, item.workflow or "", item.name)] = item
    return list(latest.values())


def rollup_state(contexts: Sequence[CheckContext]) -> str | None:
    """GitHub's combined state: FAILURE if a counted item failed, else PENDING while one
    runs, else SUCCESS; None without any item (no rollup at all)."""
    counted = latest_per_name(contexts)
    if not counted:
        return None
    if any(c.failed for c in counted):
        return "FAILURE"
    if any(c.pending for c in counted):
        return "PENDING"
    return "SUCCESS"


def add_checks(rng: random.Random, pr: PullRequest, now: datetime) -> None:
    """Give ``pr``'s head commit its checks (see the module doc), as of ``now``.

    Check runs: a required ``build`` and ``test`` (unless the repository requires none
    for this PR), an optional ``lint``; ``test`` is sometimes flaky (fails, then passes on
    a re-run); sometimes a wide matrix. Status contexts: an optional coverage report, a
    required ``ci/legacy`` on some. Items whose time is after ``now`` are still running.
    """
    if not pr.commits or rng.random() < 0.12:
        return
    head = max(c.committed_at for c in pr.commits)
    pushed = head.replace(microsecond=0) + timedelta(seconds=rng.randrange(5, 90))
    none_required = rng.random() < 0.15
    contexts: list[CheckContext] = []

    def run(name: str, workflow: str, required: bool, start: datetime, minutes: float,
            conclusion: str, event: str = "pull_request") -> CheckContext:
        end = start + timedelta(seconds=int(minutes * 60))
        item = CheckContext(pr, len(contexts) + 1, "CheckRun", name, required,
                            start if start <= now else None, workflow=workflow, event=event,
                            app=ACTIONS_APP)
        if start > now:
            item.status = "QUEUED"
        elif end > now:
            item.status = "IN_PROGRESS"
        else:
            item.status, item.conclusion, item.completed_at = "COMPLETED", conclusion, end
        contexts.append(item)
        return item

    def outcome(fail: float) -> str:
        if rng.random() >= fail:
            return rng.choice(("SUCCESS",) * 12 + ("SKIPPED", "NEUTRAL"))
        return rng.choice(("FAILURE",) * 6 + ("TIMED_OUT", "STARTUP_FAILURE",
                                              "ACTION_REQUIRED", "CANCELLED"))

    run("build", "CI", not none_required, pushed, rng.uniform(1, 8), outcome(0.05))
    test_start = pushed + timedelta(seconds=rng.randrange(0, 30))
    if rng.random() < 0.12:  # flaky: fails, then the author re-runs it and it passes
        first = run("test", "CI", not none_required, test_start, rng.uniform(3, 20), "FAILURE")
        rerun = (first.completed_at or test_start) + timedelta(minutes=rng.uniform(2, 90))
        run("test", "CI", not none_required, rerun.replace(microsecond=0),
            rng.uniform(3, 20), "SUCCESS")
    else:
        run("test", "CI", not none_required, test_start, rng.uniform(3, 20), outcome(0.1))
    if rng.random() < 0.7:
        run("lint", "Lint", False, pushed, rng.uniform(0.5, 3), outcome(0.08))
    if rng.random() < 0.01:
        for shard in range(MATRIX_WIDTH):
            run(f"matrix (shard {shard + 1:03d})", "Matrix", False, pushed,
                rng.uniform(2, 10), outcome(0.01), event="push")
    for name, required, chance in (("codecov/patch", False, 0.4), ("ci/legacy", True, 0.2)):
        if rng.random() < chance:
            at = pushed + timedelta(seconds=int(rng.uniform(60, 1800)))
            state = "PENDING" if at > now else rng.choice(("SUCCESS",) * 8 + ("FAILURE", "ERROR"))
            contexts.append(CheckContext(pr, len(contexts) + 1, "StatusContext", name,
                                         required and not none_required, min(at, now),
                                         state=state))
    pr.checks = contexts


def _render_context(item: CheckContext) -> dict[str, Any]:
    pr = item.pr

    def is_required(_info: GraphQLResolveInfo, pullRequestId: str | None = None,  # noqa: N803
                    pullRequestNumber: int | None = None, **_: Any) -> bool:  # noqa: N803
        # Required-ness belongs to a PR's base branch protection: asked about another PR,
        # this one's rule does not apply.
        return item.is_required and (pullRequestId == pr.id or pullRequestNumber == pr.number)

    from .resolvers import iso

    if item.kind == "StatusContext":
        return {"__typename": "StatusContext", "id": item.id, "context": item.name,
                "state": item.state, "createdAt": iso(item.started_at),
                "isRequired": is_required}
    app_name, app_slug = item.app or ACTIONS_APP
    suite = {
        "__typename": "CheckSuite",
        "id": f"CS_{item.id}",
        "app": {"__typename": "App", "name": app_name, "slug": app_slug},
        "workflowRun": {"__typename": "WorkflowRun", "id": f"WFR_{item.id}",
                        "event": item.event or "pull_request",
                        "workflow": {"__typename": "Workflow", "id": f"WF_{item.workflow}",
                                     "name": item.workflow or ""}},
    }
    return {"__typename": "CheckRun", "id": item.id, "name": item.name,
            "status": item.status, "conclusion": item.conclusion,
            "startedAt": iso(item.started_at), "completedAt": iso(item.completed_at),
            "isRequired": is_required, "checkSuite": suite}


def render_rollup(pr: PullRequest) -> dict[str, Any] | None:
    """``PullRequest.statusCheckRollup``: null without checks, else state and contexts in
    the order GitHub lists them (creation order, here the local id)."""
    from .resolvers import connection

    contexts: list[CheckContext] = list(getattr(pr, "checks", ()))
    state = rollup_state(contexts)
    if state is None:
        return None

    def contexts_connection(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        return connection(info, contexts, lambda c: (c.local_id,), _render_context,
                          **{k: args.get(k) for k in ("first", "last", "after", "before")})

    return {"__typename": "StatusCheckRollup", "id": f"SCR_{pr.id}", "state": state,
            "contexts": contexts_connection}
