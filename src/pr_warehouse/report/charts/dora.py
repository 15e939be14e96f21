"""DORA's keys by period: deployment frequency, lead time for changes, change failure rate.

Deployments are ``fct_deployments``' successful production rows by creation (as
mart_dora_weekly counts them), lead time the cycle-time fact's ``lead_time_hours`` of the
PRs deployed in the period, the failure rate ``mart_dora_weekly``'s failed and rolled-back
over finished production deployments of the weeks in it. A warehouse without the delivery
models says "not collected yet".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pr_warehouse.report.chart import Chart
from pr_warehouse.report.data import (
    CYCLE_TIME_FACT,
    DEPLOYMENTS,
    DORA_WEEKLY,
    Filters,
    Snapshot,
    Table,
    period_columns,
    period_names,
    period_start,
    where,
)
from pr_warehouse.report.vega import data, grain_of, period_x, tooltips

if TYPE_CHECKING:
    import altair as alt


def query(snap: Snapshot, filters: Filters) -> Table:
    """Per period: deployments, PRs deployed and their median lead time, failure rate."""
    start, label = period_names(filters.by)
    deployed = where(filters, repo="repo", day="created_at").add("is_production").add(
        "outcome = 'SUCCESS'")
    changes = where(filters, repo="repo", day="deployed_at", bot="is_bot_author",
                    pr="pull_request_id").add("deployed_at is not null")
    weeks = where(filters, repo="repo", day="week_start")
    return snap.table(f"""
        with deploys as (
            select {period_columns('created_at', filters.by)}, count(*) as deployments
            from {DEPLOYMENTS} {deployed.sql()} group by all),
        lead as (
            select {period_columns('deployed_at', filters.by)}, count(*) as prs_deployed,
                   round(quantile_cont(lead_time_hours, 0.5), 1) as median_lead_time_hours
            from {CYCLE_TIME_FACT} {changes.sql()} group by all),
        failures as (
            select {period_start('week_start', filters.by)} as {start},
                   round(100.0 * sum(failed_deployments + rolled_back_deployments)
                         / nullif(sum(production_deployments), 0), 1)
                       as change_failure_rate
            from {DORA_WEEKLY} {weeks.sql()} group by 1)
        select {start}, coalesce(d.{label}, l.{label}) as {label},
               coalesce(deployments, 0) as deployments, coalesce(prs_deployed, 0)
                   as prs_deployed, median_lead_time_hours, change_failure_rate
        from deploys d full join lead l using ({start})
        left join failures using ({start})
        order by 1""", (*deployed.params, *changes.params, *weeks.params))


def draw(table: Table) -> alt.TopLevelMixin:
    """Three small charts over the same periods."""
    import altair as alt

    base = alt.Chart(data(table.records())).encode(x=period_x(table))
    label = "iso_week" if grain_of(table) == "week" else "month"
    tip = tooltips(f"{label}:N", "deployments:Q", "median_lead_time_hours:Q", "prs_deployed:Q",
                   "change_failure_rate:Q")
    return alt.vconcat(
        base.mark_bar(color="#4c78a8").encode(y=alt.Y("deployments:Q"), tooltip=tip)
        .properties(width=680, height=110),
        base.mark_line(point=True, color="#f58518").encode(
            y=alt.Y("median_lead_time_hours:Q", title="lead time (median h)"), tooltip=tip)
        .properties(width=680, height=110),
        base.mark_line(point=True, color="#e45756").encode(
            y=alt.Y("change_failure_rate:Q", title="change failure rate %"), tooltip=tip)
        .properties(width=680, height=110))


CHART = Chart(
    key="dora",
    title="DORA: deployments, lead time, change failure rate",
    question="How often do we ship to production, how long does a change take to get "
             "there, and how often does a deployment fail? By week or month.",
    reads={DEPLOYMENTS: ("repo", "created_at", "is_production", "outcome"),
           CYCLE_TIME_FACT: ("pull_request_id", "repo", "is_bot_author", "deployed_at",
                             "lead_time_hours"),
           DORA_WEEKLY: ("repo", "week_start", "production_deployments", "failed_deployments",
                         "rolled_back_deployments")},
    query=query,
    draw=draw,
    notes=("Lead time: a PR's first commit → its deployment to production. The change "
           "failure rate sums the weekly mart's counts over the weeks starting in a period.",),
    delivery=True,
    wide=True,
)
