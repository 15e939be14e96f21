"""The ideal extract schedule: how fast paging could possibly go, given the latency model.

A repository is a chain of pages (each page needs the previous page's cursor), so one
repository occupies one slot for ``pages x page_seconds``; ``slots`` repositories page at
once. Three ideals, all with zero overhead:

- ``lower_bound``: ``max(longest repository, total work / slots)``: no schedule beats it.
- ``lpt``: longest repository first onto the least-loaded slot (achievable, within 4/3 of
  the optimum and usually equal to the lower bound).
- ``in_order``: the same greedy rule, but in the order the jobs are actually queued (the
  DAG's map-index order): what a perfect executor achieves without reordering.

>>> durations = [4.0, 1.0, 1.0, 1.0, 1.0]
>>> lower_bound(durations, 2), lpt_makespan(durations, 2), list_makespan(durations[::-1], 2)
(4.0, 4.0, 6.0)
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass


def pages_needed(pull_requests: int, page_size: int) -> int:
    """Pages to read a repository's whole history (an empty one still answers one page).

    >>> pages_needed(0, 50), pages_needed(50, 50), pages_needed(51, 50)
    (1, 1, 2)
    """
    return max(1, math.ceil(pull_requests / page_size))


def lower_bound(durations: Sequence[float], slots: int) -> float:
    """``max(longest job, total / slots)``."""
    if not durations:
        return 0.0
    return max(max(durations), sum(durations) / slots)


def list_makespan(durations: Sequence[float], slots: int) -> float:
    """Greedy list scheduling in the given order: each job goes to the first free slot."""
    free_at = [0.0] * slots
    for duration in durations:
        start = heapq.heappop(free_at)
        heapq.heappush(free_at, start + duration)
    return max(free_at) if durations else 0.0


def lpt_makespan(durations: Sequence[float], slots: int) -> float:
    """Longest processing time first."""
    return list_makespan(sorted(durations, reverse=True), slots)


@dataclass(frozen=True)
class IdealSchedule:
    """Ideal wall times (seconds) of paging ``sizes`` with ``slots`` concurrent extracts."""

    pages: int
    slots: int
    page_seconds: float
    longest_repo_seconds: float
    total_work_seconds: float
    lower_bound_seconds: float
    lpt_seconds: float
    in_order_seconds: float

    @classmethod
    def of_durations(cls, durations: Sequence[float], slots: int, pages: int) -> IdealSchedule:
        """Ideals of jobs whose durations are known (``durations`` in queue order), e.g. each
        repository's requests at the latency model's time.

        >>> s = IdealSchedule.of_durations([2.0, 6.0, 4.0], slots=2, pages=7)
        >>> s.lower_bound_seconds, s.lpt_seconds, s.in_order_seconds, s.page_seconds
        (6.0, 6.0, 6.0, 1.7142857142857142)
        """
        return cls(
            pages=pages,
            slots=slots,
            page_seconds=sum(durations) / pages if pages else 0.0,
            longest_repo_seconds=max(durations, default=0.0),
            total_work_seconds=sum(durations),
            lower_bound_seconds=lower_bound(durations, slots),
            lpt_seconds=lpt_makespan(durations, slots),
            in_order_seconds=list_makespan(durations, slots),
        )

    @classmethod
    def compute(cls, sizes: Sequence[int], page_size: int, page_seconds: float,
                slots: int) -> IdealSchedule:
        """``sizes``: PRs per repository, in the order the jobs are queued.

        >>> s = IdealSchedule.compute([10, 100, 500], page_size=50, page_seconds=2.0, slots=2)
        >>> s.pages, s.lower_bound_seconds, s.lpt_seconds, s.in_order_seconds
        (13, 20.0, 20.0, 22.0)
        """
        durations = [pages_needed(n, page_size) * page_seconds for n in sizes]
        return cls.of_durations(durations, slots,
                                pages=sum(pages_needed(n, page_size) for n in sizes))
