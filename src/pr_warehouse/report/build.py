"""The whole report: every chart run on the snapshot, with its freshness, or why there is none.

A missing or empty snapshot gives a :class:`Report` with no sections and a message instead;
a snapshot lacking what one chart reads costs that chart only (its section says to rebuild).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pr_warehouse.report.chart import Section
from pr_warehouse.report.charts import CHARTS
from pr_warehouse.report.data import (
    CYCLE_TIME_FACT,
    MILESTONES,
    PR_TEAMS,
    OPEN_PULL_REQUESTS,
    PULL_REQUESTS,
    SYNCS,
    WORKLOAD,
    Filters,
    Snapshot,
    connect_read_only,
    default_grain,
    plain,
)
from pr_warehouse.report.tiles import TILES, Period, TileValue, selected_period

log = logging.getLogger(__name__)

NO_SYNC_YET = "No sync has finished yet"
# Marts measured against the run's as_of, in the order to ask them: each may be empty (no
# open PR, no assignee, no milestone), so the first that holds a value tells.
AS_OF_MARTS = (OPEN_PULL_REQUESTS, WORKLOAD, MILESTONES)


@dataclass(frozen=True)
class Freshness:
    """How current the snapshot is and what the last run cost."""

    as_of: str | None = None
    published_at: str | None = None
    last_run_id: str | None = None
    last_run_points: int | None = None
    last_run_loaded_at: str | None = None


@dataclass(frozen=True)
class Report:
    """Everything the page and the report show; ``empty`` explains a missing snapshot."""

    filters: Filters
    snapshot: str
    repos: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    freshness: Freshness = field(default_factory=Freshness)
    period: Period | None = None
    tiles: tuple[TileValue, ...] = ()
    sections: tuple[Section, ...] = ()
    empty: str | None = None


def data_as_of(snap: Snapshot) -> Any:
    """The run's ``as_of``, from the first mart that holds it; None if none does."""
    for relation in AS_OF_MARTS:
        if snap.has(relation, "as_of"):
            value = snap.con.execute(f"select max(as_of) from {relation}").fetchall()[0][0]
            if value is not None:
                return value
    return None


def freshness(snap: Snapshot, path: Path) -> Freshness:
    """The data's ``as_of``, when the snapshot file was published, the last run's points."""
    published = datetime.fromtimestamp(os.stat(path).st_mtime, timezone.utc)
    run: tuple[Any, ...] = (None, None, None)
    if snap.has(SYNCS, "run_id", "total_points", "loaded_at"):
        rows = snap.con.execute(f"select run_id, total_points, loaded_at from {SYNCS} "
                                "order by loaded_at desc limit 1").fetchall()
        run = rows[0] if rows else run
    return Freshness(as_of=plain(data_as_of(snap)), published_at=plain(published),
                     last_run_id=run[0], last_run_points=plain(run[1]),
                     last_run_loaded_at=plain(run[2]))


def build_report(snapshot_path: Path, filters: Filters) -> Report:
    """Every chart's numbers under ``filters``; a clear message instead when there is no data.

    >>> build_report(Path("/nonexistent/snapshot.duckdb"), Filters()).empty[:24]
    'No sync has finished yet'
    """
    import duckdb

    report = Report(filters=filters, snapshot=str(snapshot_path))
    if not snapshot_path.exists():
        return replace(report, empty=f"{NO_SYNC_YET}: there is no snapshot at {snapshot_path}. "
                       "It appears when a run of the DAG github_pull_requests finishes its "
                       "publish task.")
    try:
        con = connect_read_only(snapshot_path)
    except duckdb.Error as exc:
        log.warning("cannot open the snapshot %s: %s", snapshot_path, exc)
        return replace(report, empty=f"{NO_SYNC_YET}: the snapshot at {snapshot_path} cannot "
                       f"be opened ({type(exc).__name__}: {exc}).")
    try:
        return _with_sections(report, Snapshot(con), snapshot_path)
    finally:
        con.close()


def _with_sections(report: Report, snap: Snapshot, path: Path) -> Report:
    """``report`` with its repositories, freshness and every chart's section."""
    if not snap.has(PULL_REQUESTS, "repo"):
        return replace(report, empty=f"{NO_SYNC_YET}: the snapshot at {path} has no "
                       f"{PULL_REQUESTS} (dbt has not built the marts).")
    repos = tuple(r[0] for r in snap.con.execute(
        f"select distinct repo from {PULL_REQUESTS} order by 1").fetchall())
    if not repos:
        return replace(report, empty=f"{NO_SYNC_YET}: the snapshot at {path} holds no pull "
                       "requests.")
    teams: tuple[str, ...] = ()
    if snap.has(PR_TEAMS, "team"):
        teams = tuple(r[0] for r in snap.con.execute(
            f"select distinct team from {PR_TEAMS} order by 1").fetchall())
    first, last = merge_days(snap, report.filters)
    filters = report.filters
    if filters.grain is None:
        filters = replace(filters, grain=default_grain(filters.since or first,
                                                       filters.until or last))
    period = selected_period(filters, last)
    tiles = tuple(tile.value(snap, filters, period) for tile in TILES)
    sections = tuple(chart.section(snap, filters) for chart in CHARTS)
    return replace(report, filters=filters, repos=repos, teams=teams,
                   freshness=freshness(snap, path), period=period, tiles=tiles,
                   sections=sections)


def merge_days(snap: Snapshot, filters: Filters) -> tuple[Any, Any]:
    """The first and last day a PR was merged in the chosen repository: the data's range
    (the grain's default and the tiles' period end on its last day)."""
    if not snap.has(CYCLE_TIME_FACT, "repo", "merged_at"):
        return None, None
    chosen = "where repo = ?" if filters.repo else ""
    rows = snap.con.execute(
        f"select cast(min(timezone('UTC', merged_at)) as date), "
        f"cast(max(timezone('UTC', merged_at)) as date) from {CYCLE_TIME_FACT} {chosen}",
        [filters.repo] if filters.repo else []).fetchall()
    return rows[0] if rows else (None, None)
