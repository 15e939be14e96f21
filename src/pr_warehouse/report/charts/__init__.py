"""The page's charts, one module each (its query, its drawing, its words), in page order.

To add a chart: write a module here with a ``CHART`` (see
:class:`pr_warehouse.report.chart.Chart`) and list it in :data:`CHARTS`.

>>> [chart.key for chart in CHARTS]  # doctest: +NORMALIZE_WHITESPACE
['cycle_time', 'first_review', 'reviews_given', 'assignee_workload', 'milestone_progress',
 'label_activity']
"""

from __future__ import annotations

from pr_warehouse.report.chart import Chart
from pr_warehouse.report.charts import (
    assignee_workload,
    cycle_time,
    first_review,
    label_activity,
    milestone_progress,
    reviews_given,
)

CHARTS: tuple[Chart, ...] = (
    cycle_time.CHART,
    first_review.CHART,
    reviews_given.CHART,
    assignee_workload.CHART,
    milestone_progress.CHART,
    label_activity.CHART,
)

__all__ = ["CHARTS"]
