"""Sizes and models of one benchmark run: the full preset, the ``--quick`` preset.

Every figure in the table comes from these numbers, and they are written into the JSON
result, so two results can be compared knowing what each measured.

>>> full, quick = BenchConfig.full(), BenchConfig.quick()
>>> len(full.org_repo_sizes), min(full.org_repo_sizes), max(full.org_repo_sizes)
(40, 10, 5000)
>>> quick.load_sizes < full.load_sizes
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from github_emulator import DEFAULT_TOKEN
from pr_warehouse.constants import DEFAULT_PAGE_SIZE, DEFAULT_POOL_SLOTS

ORG = "bench"
TOKEN = DEFAULT_TOKEN  # the emulator's own, as the demo and the tests use
# The GIL switch interval of the bench's process, which serves the emulator. A handler
# whose modeled latency is over waits for the GIL while another executes a query; at
# Python's default (5 ms) every answer came ~5-8 ms late, an error of the instrument, not
# of the client.
EMULATOR_SWITCH_SECONDS = 0.001
SECTIONS = ("extract", "cost", "load", "memory")


def geometric_sizes(count: int, smallest: int, largest: int) -> tuple[int, ...]:
    """``count`` repository sizes spread geometrically from ``smallest`` to ``largest``.

    Real organisations look like this: many small repositories, a few large ones.

    >>> geometric_sizes(5, 10, 1000)
    (10, 32, 100, 316, 1000)
    """
    if count == 1:
        return (largest,)
    ratio = (largest / smallest) ** (1 / (count - 1))
    return tuple(round(smallest * ratio**i) for i in range(count))


@dataclass(frozen=True)
class Latency:
    """The emulator's latency model, GitHub-like: a 50-PR page of the full query (8,800
    possible nodes) takes 0.4 + 8,800 x 0.0002 = 2.16 simulated seconds.

    ``time_scale`` shrinks every real sleep (0.1: that page takes 0.216 s of wall time) so
    the full run fits in minutes; ideal schedules use the same scaled clock, so the
    measured/ideal ratios are comparable. Fixed costs (Airflow, Python) are not scaled, so
    a smaller ``time_scale`` makes them weigh more: the ratio is a pessimistic reading.
    """

    base_seconds: float = 0.4
    per_node_seconds: float = 0.0002
    time_scale: float = 0.1

    def page_seconds(self, nodes: int) -> float:
        """Wall seconds the emulator waits before answering a query of ``nodes`` nodes."""
        return (self.base_seconds + self.per_node_seconds * nodes) * self.time_scale


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures. Build with :meth:`full` or :meth:`quick`, then ``replace``."""

    name: str
    # 1 + 6: the extract under Airflow against the ideal schedule, and the seed's baseline
    org_repo_sizes: tuple[int, ...]
    page_size: int = DEFAULT_PAGE_SIZE  # the DAG's default Param
    pool_slots: int = DEFAULT_POOL_SLOTS  # the shipped pool's size
    baseline_page_size: int = 25  # the seed: fixed 25 PRs per page, one repo at a time
    latency: Latency = field(default_factory=Latency)
    # A second DAG run with the repos given largest first. The plan now orders extracts by
    # the probe's PR counts itself, so this only re-checks that; off by default.
    dag_largest_first_run: bool = False
    # The shipped DAG's extract is timed this many times (full refreshes after the first);
    # the median stands for it: one run on a shared 2-core machine is noisy.
    dag_repeats: int = 3
    # 2: API cost
    cost_repo_prs: int = 2000
    cost_page_sizes: tuple[int, ...] = (25, DEFAULT_PAGE_SIZE, 50, 100)
    daily_changed_fraction: float = 0.01
    # 4: daily runs after the full dbt build, each with its own 1% changed; the figure is
    # their median (one run on a shared machine is noisy; a full build is long enough).
    incremental_days: int = 3
    # 3 + 4 + 5: load, transform, memory
    load_sizes: tuple[int, ...] = (100_000, 1_000_000)
    load_prs_per_repo: int = 10_000
    load_page_size: int = 50
    template_prs: int = 2000
    memory_extract_prs: int = 100_000
    seed: int = 7

    @classmethod
    def full(cls) -> BenchConfig:
        return cls(name="full", org_repo_sizes=geometric_sizes(40, 10, 5000))

    @classmethod
    def quick(cls) -> BenchConfig:
        return cls(
            name="quick",
            org_repo_sizes=geometric_sizes(8, 10, 400),
            dag_repeats=1,
            latency=Latency(time_scale=0.05),
            cost_repo_prs=500,
            load_sizes=(10_000, 50_000),
            load_prs_per_repo=5_000,
            template_prs=500,
            memory_extract_prs=5_000,
        )

    def with_overrides(self, **changes: Any) -> BenchConfig:
        """A copy with the non-None ``changes`` applied (command-line overrides)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["org_prs"] = sum(self.org_repo_sizes)
        return data
