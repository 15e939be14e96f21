"""Review load: reviews given per reviewer on other people's PRs, by outcome.

Reads ``fct_pull_request_reviews``, which owns what a review given is (``is_review_given``:
submitted, not PENDING, by someone other than the PR's author), who is a bot
(``is_bot_reviewer``, the cycle-time fact's rule) and the reviewer's login (``ghost`` for a
deleted account); the page only counts its rows per reviewer under the filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pr_warehouse.report.chart import TOP_PEOPLE, Chart
from pr_warehouse.report.data import REVIEWS, Filters, Snapshot, Table, where
from pr_warehouse.report.vega import stacked_bars

if TYPE_CHECKING:
    import altair as alt

OUTCOMES = {"approved": "approved", "changes_requested": "changes requested",
            "commented": "commented"}


def query(snap: Snapshot, filters: Filters) -> Table:
    """The top reviewers by reviews given, split by outcome."""
    given = where(filters, repo="repo", day="submitted_at", bot="is_bot_reviewer")
    given = given.add("is_review_given")
    return snap.table(f"""
        select reviewer_login as reviewer,
               count(*) as reviews,
               count(*) filter (where review_state = 'APPROVED') as approved,
               count(*) filter (where review_state = 'CHANGES_REQUESTED') as changes_requested,
               count(*) filter (where review_state not in ('APPROVED', 'CHANGES_REQUESTED'))
                   as commented,
               count(distinct pull_request_id) as prs_reviewed
        from {REVIEWS}
        {given.sql()}
        group by 1 order by reviews desc, reviewer limit {TOP_PEOPLE}""", given.params)


def draw(table: Table) -> alt.TopLevelMixin:
    """A bar per reviewer, stacked by outcome."""
    return stacked_bars(table, "reviewer", OUTCOMES, "reviews", total="reviews")


CHART = Chart(
    key="reviews_given",
    title="Review load: reviews given per reviewer",
    question=f"Who carries the review load? Reviews submitted on someone else's PR (top "
             f"{TOP_PEOPLE} reviewers), by outcome.",
    reads={REVIEWS: ("pull_request_id", "repo", "reviewer_login", "review_state",
                     "submitted_at", "is_bot_reviewer", "is_review_given")},
    query=query,
    draw=draw,
    notes=("A review given: submitted (not pending) on someone else's PR; self-reviews "
           "(replies on one's own PR) are not counted. Dates filter on when the review was "
           "submitted.",),
)
