"""Milestone progress: pull requests per milestone by state, overdue ones marked.

Reads ``mart_milestone_progress`` as is: the repository filter picks its rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pr_warehouse.report.chart import Chart
from pr_warehouse.report.data import MILESTONES, Filters, Snapshot, Table, where
from pr_warehouse.report.vega import stacked_bars

if TYPE_CHECKING:
    import altair as alt

STATES = {"prs_open": "open", "prs_merged": "merged", "prs_closed_unmerged": "closed unmerged"}


def query(snap: Snapshot, filters: Filters) -> Table:
    """Every milestone of the repositories, overdue ones first, then by due date."""
    chosen = where(filters, repo="repo", day=None)
    return snap.table(f"""
        select repo, milestone_number, milestone_title,
               cast(timezone('UTC', milestone_due_on) as date) as due_on,
               is_overdue, prs_open, prs_merged, prs_closed_unmerged, prs_total
        from {MILESTONES} {chosen.sql()}
        order by is_overdue desc, due_on nulls last, repo, milestone_number""", chosen.params)


def label(record: dict[str, Any], with_repo: bool) -> str:
    """A milestone's name on the chart: repo when several, due date, ⚠ when overdue.

    >>> label({"repo": "acme/api", "milestone_title": "v2", "due_on": "2025-03-01",
    ...        "is_overdue": True}, with_repo=True)
    '⚠ acme/api · v2 (due 2025-03-01, overdue)'
    """
    name = f"{record['repo']} · {record['milestone_title']}" if with_repo \
        else str(record["milestone_title"])
    due = f"due {record['due_on']}" if record.get("due_on") else "no due date"
    if record.get("is_overdue"):
        return f"⚠ {name} ({due}, overdue)"
    return f"{name} ({due})"


def draw(table: Table) -> alt.TopLevelMixin:
    """A bar per milestone stacked by state; overdue ones carry a ⚠ in their name."""
    records = table.records()
    several_repos = len({r["repo"] for r in records}) > 1
    labelled = Table((*table.columns, "milestone"),
                     tuple((*row, label(rec, several_repos))
                           for row, rec in zip(table.rows, records)))
    return stacked_bars(labelled, "milestone", STATES, "pull requests", total="prs_total")


CHART = Chart(
    key="milestone_progress",
    title="Milestone progress",
    question="Which milestone is slipping? Pull requests per milestone by state; overdue "
             "milestones (due date passed, PRs still open) are marked ⚠.",
    reads={MILESTONES: ("repo", "milestone_number", "milestone_title", "milestone_due_on",
                        "is_overdue", "prs_open", "prs_merged", "prs_closed_unmerged",
                        "prs_total")},
    query=query,
    draw=draw,
    notes=("Every PR of the milestone counts, whoever wrote it: the date range and the bots "
           "filter do not apply.",),
)
