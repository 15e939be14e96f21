"""Review load: open PRs per assignee, drafts apart, from ``mart_assignee_workload``.

The mart owns the measures. All repositories: its totals. One repository: that
repository's entry of its ``by_repo`` list (the same measures, per repository). The date
range and the bots filter do not apply: the workload is the state as of the snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pr_warehouse.report.chart import TOP_PEOPLE, Chart
from pr_warehouse.report.data import WORKLOAD, Filters, Snapshot, Table
from pr_warehouse.report.vega import stacked_bars

if TYPE_CHECKING:
    import altair as alt

OPEN = {"open_ready_prs": "ready for review", "open_draft_prs": "draft"}


def rows(filters: Filters) -> tuple[str, tuple[str, ...]]:
    """The mart's rows for the filters (SQL and parameters): one per assignee, either their
    totals or their share in the chosen repository.

    >>> rows(Filters(repo="acme/api"))[1]
    ('acme/api',)
    """
    if not filters.repo:
        return f"select * from {WORKLOAD}", ()
    return (f"select w.assignee_login, r.* from {WORKLOAD} w, unnest(w.by_repo) as t(r) "
            "where r.repo = ?", (filters.repo,))


def query(snap: Snapshot, filters: Filters) -> Table:
    """The assignees with the most open PRs."""
    sql, params = rows(filters)
    return snap.table(f"""
        with workload as ({sql})
        select assignee_login as assignee, open_prs, open_ready_prs, open_draft_prs,
               round(oldest_open_pr_hours / 24, 1) as oldest_open_days, merged_last_30_days
        from workload where open_prs > 0
        order by open_prs desc, assignee limit {TOP_PEOPLE}""", params)


def draw(table: Table) -> alt.TopLevelMixin:
    """A bar per assignee: ready for review and drafts stacked."""
    return stacked_bars(table, "assignee", OPEN, "open PRs", total="open_prs")


CHART = Chart(
    key="assignee_workload",
    title="Review load: open PRs per assignee",
    question=f"Who has the most open pull requests assigned right now (top {TOP_PEOPLE})? "
             "Ready for review and drafts.",
    reads={WORKLOAD: ("assignee_login", "open_prs", "open_ready_prs", "open_draft_prs",
                      "oldest_open_pr_hours", "merged_last_30_days", "by_repo")},
    query=query,
    draw=draw,
    notes=("Current state as of the snapshot: the date range and the bots filter do not "
           "apply (assignees are people).",),
)
