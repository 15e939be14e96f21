"""The page's units, one module each (its query, its drawing, its words), in page order.

To add a chart: write a module here with a ``CHART`` (see
:class:`pr_warehouse.report.chart.Chart`) and list it in :data:`CHARTS`.

>>> [chart.key for chart in CHARTS]  # doctest: +NORMALIZE_WHITESPACE
['waiting_now', 'cycle_time', 'first_review', 'reviewer_response', 'reviews_given', 'teams',
 'ci_checks', 'dora', 'time_in_label', 'assignee_workload', 'milestone_progress',
 'label_activity']
"""

from __future__ import annotations

from pr_warehouse.report.chart import Chart
from pr_warehouse.report.charts import (
    assignee_workload,
    ci_checks,
    cycle_time,
    dora,
    first_review,
    label_activity,
    milestone_progress,
    reviewer_response,
    reviews_given,
    teams,
    time_in_label,
    waiting_now,
)

CHARTS: tuple[Chart, ...] = (
    waiting_now.CHART,
    cycle_time.CHART,
    first_review.CHART,
    reviewer_response.CHART,
    reviews_given.CHART,
    teams.CHART,
    ci_checks.CHART,
    dora.CHART,
    time_in_label.CHART,
    assignee_workload.CHART,
    milestone_progress.CHART,
    label_activity.CHART,
)

__all__ = ["CHARTS"]
