"""Ground truth for CI checks, from the emulator's world objects (never the API).

Each figure is recomputed here by its written definition (fct_pull_request_checks.yml,
fct_pull_request_cycle_time.yml), independently of the SQL: a check counts once per kind,
workflow and name (the latest started), the gate is the required checks or all of them.
"""

from __future__ import annotations

from typing import Any

from .truth import draft_spells, hours

FAILED = {"FAILURE", "TIMED_OUT", "STARTUP_FAILURE", "ACTION_REQUIRED"}
# What makes GitHub's combined state FAILURE (CANCELLED too) or PENDING.
ROLLUP_FAILED = FAILED | {"CANCELLED", "ERROR"}
PASSING_RUN = {"SUCCESS", "NEUTRAL", "SKIPPED"}

CHECK_COLUMNS = ("repo", "pr_number", "check_name", "workflow_name", "kind", "is_required",
                 "status", "conclusion", "started_at", "completed_at", "duration_seconds",
                 "is_counted")
CHECKS_SQL = f"select check_id, {', '.join(CHECK_COLUMNS)} from analytics.fct_pull_request_checks"
CYCLE_CHECK_COLUMNS = ("checks_state", "checks_failed", "checks_passed_at",
                       "time_to_green_hours")


def _kind(item: Any) -> str:
    return "check_run" if item.kind == "CheckRun" else "status"


def _conclusion(item: Any) -> str | None:
    return item.conclusion if item.kind == "CheckRun" else item.state


def counted(pr: Any) -> dict[str, Any]:
    """The check that counts per (kind, workflow, name): the latest started; of two
    started at once, the later listed. ``id -> item``."""
    def rank(item: Any) -> tuple:
        # not started yet sorts first; GitHub lists items in creation order (local id)
        return (item.started_at is not None, item.started_at or 0, item.local_id)

    latest: dict[tuple[str, str, str], Any] = {}
    for item in pr.checks:
        key = (item.kind, item.workflow or "", item.name)
        if key not in latest or rank(item) > rank(latest[key]):
            latest[key] = item
    return {item.id: item for item in latest.values()}


def check_rows(prs: dict[tuple[str, int], Any]) -> dict[str, tuple]:
    """Every row of fct_pull_request_checks, ``check_id -> CHECK_COLUMNS``."""
    rows: dict[str, tuple] = {}
    for (repo, number), pr in prs.items():
        counts = counted(pr)
        for item in pr.checks:
            completed = item.completed_at if item.kind == "CheckRun" else None
            duration = (int((completed - item.started_at).total_seconds())
                        if completed is not None and item.started_at is not None else None)
            rows[item.id] = (repo, number, item.name, item.workflow, _kind(item),
                             item.is_required, item.status, _conclusion(item), item.started_at,
                             completed, duration, item.id in counts)
    return rows


def rollup_state(pr: Any) -> str | None:
    """GitHub's combined state, as the emulator reports it: FAILURE if a counted check
    failed (or was cancelled, or a status errored), else PENDING while one runs."""
    items = counted(pr).values()
    if not items:
        return None
    if any(_conclusion(i) in ROLLUP_FAILED for i in items):
        return "FAILURE"
    if any((i.status != "COMPLETED") if i.kind == "CheckRun" else i.state in ("PENDING",
                                                                              "EXPECTED")
           for i in items):
        return "PENDING"
    return "SUCCESS"


def cycle_check_row(pr: Any, as_of: Any) -> dict[str, Any]:
    """The checks columns of fct_pull_request_cycle_time for one PR."""
    items = list(counted(pr).values())
    gate = [i for i in items if i.is_required] or items
    passing = [(_conclusion(i) in PASSING_RUN) if i.kind == "CheckRun"
               else i.state == "SUCCESS" for i in gate]
    passed_at = (max(i.completed_at or i.started_at for i in gate)
                 if gate and all(passing) else None)
    _, ready, _ = draft_spells(pr, as_of)
    green = hours(ready, passed_at)
    return {
        "checks_state": rollup_state(pr),
        "checks_failed": sum(_conclusion(i) in FAILED for i in items),
        "checks_passed_at": passed_at,
        "time_to_green_hours": None if green is None else max(green, 0.0),
    }
