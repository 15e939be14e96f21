"""Per reviewer: how many review requests they received, how fast they answered.

Reads ``fct_review_requests`` (one row per request spell, its outcome and response hours,
who is a bot): the page counts its spells per requested person under the filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pr_warehouse.report.chart import TOP_PEOPLE, Chart
from pr_warehouse.report.data import (
    REVIEW_REQUESTS,
    REVIEWER_WEEKLY,
    Filters,
    Snapshot,
    Table,
    where,
)
from pr_warehouse.report.vega import data, named, tooltips

if TYPE_CHECKING:
    import altair as alt

OUTCOMES = {"answered": "answered", "waiting": "still waiting", "other": "removed or closed"}


def query(snap: Snapshot, filters: Filters) -> Table:
    """The reviewers asked most, their requests by outcome and response hours."""
    chosen = where(filters, repo="repo", day="requested_at", bot="is_bot_reviewer",
                   pr="pull_request_id").add(
        # The people mart_reviewer_weekly counts (no bot, no deleted account): its rule.
        f"reviewer_login in (select reviewer_login from {REVIEWER_WEEKLY})")
    return snap.table(f"""
        select reviewer_login as reviewer, count(*) as requests,
               count(*) filter (where outcome = 'responded') as answered,
               count(*) filter (where outcome = 'waiting') as waiting,
               count(*) filter (where outcome in ('removed', 'closed_unanswered')) as other,
               round(quantile_cont(response_hours, 0.5)
                     filter (where outcome = 'responded'), 1) as median_response_hours,
               round(quantile_cont(response_hours, 0.9)
                     filter (where outcome = 'responded'), 1) as p90_response_hours
        from {REVIEW_REQUESTS} {chosen.sql()}
        group by 1 order by requests desc, reviewer limit {TOP_PEOPLE}""", chosen.params)


def draw(table: Table) -> alt.TopLevelMixin:
    """Left: requests per reviewer by outcome (load); right: median response hours."""
    import altair as alt

    order = [r["reviewer"] for r in table.records()]
    y = alt.Y("reviewer:N", sort=order, title=None, axis=alt.Axis(labelLimit=200))
    load = named(alt.Chart(data(table.records())), OUTCOMES).mark_bar().encode(
        y=y, x=alt.X("value:Q", stack="zero", title="review requests"),
        color=alt.Color("measure:N", title=None, sort=list(OUTCOMES.values())),
        tooltip=tooltips("reviewer:N", "measure:N", "value:Q", "requests:Q"),
    ).properties(width=300)
    speed = alt.Chart(data(table.records())).mark_bar(color="#72b7b2").encode(
        y=alt.Y("reviewer:N", sort=order, title=None, axis=None),
        x=alt.X("median_response_hours:Q", title="median response (hours)"),
        tooltip=tooltips("reviewer:N", "median_response_hours:Q", "p90_response_hours:Q",
                         alt.Tooltip("answered:Q", title="answered requests it rests on")),
    ).properties(width=220)
    return alt.hconcat(load, speed)


CHART = Chart(
    key="reviewer_response",
    title="Reviewers: load and response time",
    question=f"Who is asked to review most, and how long do they take to answer? Review "
             f"requests per person (top {TOP_PEOPLE}) by outcome, and the median hours to "
             f"their response.",
    reads={REVIEW_REQUESTS: ("pull_request_id", "repo", "reviewer_login", "requested_at",
                             "is_bot_reviewer", "outcome", "response_hours"),
           REVIEWER_WEEKLY: ("reviewer_login",)},
    query=query,
    draw=draw,
    notes=("A request's response: the reviewer's first review or comment after it, draft "
           "time out. Dates filter on when the request was made; a team filter keeps the "
           "requests on the team's PRs. Requests of a team as a whole are in the teams "
           "chart.",),
)
