"""Teams side by side: each team's merged PRs, their phases' medians, its review requests.

The team's PRs are ``bridge_pull_request_teams``' (the author's teams when the PR was
opened: the team marts' cohort), their hours the cycle-time fact's; the requests a team
received and answered, and the reviews its members gave, are ``mart_team_weekly``'s counts
summed over the weeks in the range.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pr_warehouse.report.chart import Chart
from pr_warehouse.report.data import (
    CYCLE_TIME_FACT,
    PR_TEAMS,
    TEAM_WEEKLY,
    Filters,
    Snapshot,
    Table,
    where,
)
from pr_warehouse.report.vega import HOURS, data, named, tooltips

if TYPE_CHECKING:
    import altair as alt

HOURS_SHOWN = {"median_pickup_hours": "pickup (median)", "median_review_hours":
               "review (median)", "median_cycle_hours": "cycle (median)"}


def query(snap: Snapshot, filters: Filters) -> Table:
    """Per team: PRs merged and their medians; review requests received and answered."""
    merged = where(filters, repo="c.repo", day="c.merged_at").add("c.merged_at is not null")
    weeks = team_weeks(filters)
    return snap.table(f"""
        with prs as (
            select b.team, count(*) as prs_merged,
                   round(quantile_cont(c.pickup_hours, 0.5), 1) as median_pickup_hours,
                   round(quantile_cont(c.review_hours, 0.5), 1) as median_review_hours,
                   round(quantile_cont(c.cycle_hours, 0.5), 1) as median_cycle_hours
            from (select distinct pull_request_id, team from {PR_TEAMS}) b
            join {CYCLE_TIME_FACT} c using (pull_request_id)
            {merged.sql()} group by 1),
        requests as (
            select team, sum(review_requests_received) as review_requests_received,
                   sum(review_requests_answered) as review_requests_answered,
                   sum(reviews_given) as reviews_given
            from {TEAM_WEEKLY} {weeks[0]} group by 1)
        select team, coalesce(prs_merged, 0) as prs_merged, median_pickup_hours,
               median_review_hours, median_cycle_hours,
               coalesce(review_requests_received, 0) as review_requests_received,
               coalesce(review_requests_answered, 0) as review_requests_answered,
               coalesce(reviews_given, 0) as reviews_given
        from prs full join requests using (team)
        order by team""", (*merged.params, *weeks[1]))


def team_weeks(filters: Filters) -> tuple[str, tuple[object, ...]]:
    """The team mart's weeks inside the date range (it has no repository column).

    >>> from datetime import date
    >>> team_weeks(Filters(since=date(2025, 1, 6)))
    ('where week_start >= ?', (datetime.date(2025, 1, 6),))
    """
    conditions, params = [], []
    if filters.since:
        conditions.append("week_start >= ?")
        params.append(filters.since)
    if filters.until:
        conditions.append("week_start <= ?")
        params.append(filters.until)
    return ("where " + " and ".join(conditions) if conditions else "", tuple(params))


def draw(table: Table) -> alt.TopLevelMixin:
    """Grouped bars: per team, its medians side by side."""
    import altair as alt

    return named(alt.Chart(data(table.records())), HOURS_SHOWN).mark_bar().encode(
        y=alt.Y("team:N", title=None, axis=alt.Axis(labelLimit=240)),
        yOffset=alt.YOffset("measure:N", sort=list(HOURS_SHOWN.values())),
        x=alt.X("value:Q", title=HOURS),
        color=alt.Color("measure:N", title=None, sort=list(HOURS_SHOWN.values())),
        tooltip=tooltips("team:N", "measure:N", alt.Tooltip("value:Q", title=HOURS),
                         alt.Tooltip("prs_merged:Q", title="PRs it rests on"),
                         "review_requests_received:Q", "review_requests_answered:Q"),
    )


CHART = Chart(
    key="teams",
    title="Teams side by side",
    question="How do the teams compare? Per team: PRs merged by its members and their "
             "median pickup, review and cycle hours; review requests received and answered.",
    reads={TEAM_WEEKLY: ("team", "week_start", "review_requests_received",
                         "review_requests_answered", "reviews_given"),
           PR_TEAMS: ("pull_request_id", "team"),
           CYCLE_TIME_FACT: ("pull_request_id", "repo", "merged_at", "pickup_hours",
                             "review_hours", "cycle_hours")},
    query=query,
    draw=draw,
    notes=("A PR counts for the teams its author was in when opening it; a bot's for none. "
           "Every team is shown whatever the team filter; the repository filter applies "
           "to the PRs, the dates to both (requests by the week they were made).",),
)
