"""Waiting now: open, ready pull requests nobody has answered yet, oldest first.

A PR waits when it is open and ready for review (``mart_open_pull_requests``) and either
has had no response at all (the cycle-time fact's ``first_response_at`` is empty) or has
review requests still waiting (``fct_review_requests``' ``waiting`` spells: those name whom
it waits on). The CI state column fills in once the delivery step collects checks.
"""

from __future__ import annotations

from pr_warehouse.report.chart import Chart
from pr_warehouse.report.data import (
    CYCLE_TIME_FACT,
    OPEN_PULL_REQUESTS,
    REVIEW_REQUESTS,
    Filters,
    Snapshot,
    Table,
    where,
)

TOP = 50
CHECKS_STATE = "checks_state"


def query(snap: Snapshot, filters: Filters) -> Table:
    """The :data:`TOP` oldest waiting PRs with whom they wait on, size and CI state."""
    chosen = where(filters, repo="o.repo", day=None, bot="c.is_bot_author",
                   pr="o.pull_request_id").add("not o.is_draft").add(
        "(c.first_response_at is null or w.pull_request_id is not null)")
    # The delivery step adds the column; until then the list says nothing of CI.
    ci = f"c.{CHECKS_STATE}" if snap.has(CYCLE_TIME_FACT, CHECKS_STATE) else "null"
    return snap.table(f"""
        with waiting as (
            select pull_request_id,
                   string_agg(distinct coalesce(team, reviewer_login), ', '
                              order by coalesce(team, reviewer_login)) as waiting_on,
                   min(requested_at) as waiting_since
            from {REVIEW_REQUESTS} where outcome = 'waiting' group by 1)
        select o.repo, o.pr_number, o.url, o.title, o.author_login as author,
               round(o.hours_open, 1) as age_hours,
               coalesce(w.waiting_on, 'no reviewer requested') as waiting_on,
               case when c.first_response_at is null then 'no response yet'
                    else 'requests unanswered' end as status,
               c.size_bucket, {ci} as ci_state
        from {OPEN_PULL_REQUESTS} o
        join {CYCLE_TIME_FACT} c using (pull_request_id)
        left join waiting w using (pull_request_id)
        {chosen.sql()}
        order by o.hours_open desc, o.repo, o.pr_number limit {TOP}""", chosen.params)


CHART = Chart(
    key="waiting_now",
    title="Waiting now",
    question=f"Which ready pull requests wait for a response, for how long, and on whom? "
             f"The {TOP} oldest open, ready PRs with no response yet or with review requests "
             f"still unanswered.",
    reads={OPEN_PULL_REQUESTS: ("pull_request_id", "repo", "pr_number", "url", "title",
                                "author_login", "is_draft", "hours_open"),
           CYCLE_TIME_FACT: ("pull_request_id", "is_bot_author", "first_response_at",
                             "size_bucket"),
           REVIEW_REQUESTS: ("pull_request_id", "reviewer_login", "team", "requested_at",
                             "outcome")},
    query=query,
    draw=None,
    notes=("Age: hours since the PR was opened, at the data's as-of. Waiting on: the "
           "reviewers and teams whose review requests are still waiting. CI state appears "
           "once CI checks are collected. The date range does not apply: this is now.",),
    wide=True,
)
