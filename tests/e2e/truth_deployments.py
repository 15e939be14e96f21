"""Ground truth for deployments and the four DORA keys, from the emulator's world.

Plain Python over the world's objects (deployments, releases, main's merge commits, PRs),
by the written definitions (dbt/README.md, the models' docs), never from the SQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from github_emulator.deploys import default_branch_history, deploy_state, merge_commit_oid

from .truth import hours, quantile_cont

PRODUCTION = ("production", "prod", "live")
TERMINAL = ("SUCCESS", "FAILURE", "ERROR")


def week_of(at: datetime) -> date:
    """The Monday of ``at``'s ISO week (UTC)."""
    day = at.date()
    return day - timedelta(days=day.weekday())


def deploy_rows(repos: list[Any], sources: dict[str, str] | None = None,
                production: tuple[str, ...] = PRODUCTION) -> dict[str, dict[str, Any]]:
    """fct_deployments by deployment id: every column, by the definitions."""
    rows: dict[str, dict[str, Any]] = {}
    for repo in repos:
        state = deploy_state(repo)
        source = (sources or {}).get(repo.name_with_owner.lower()) or (
            "deployment" if state.deployments else "release")
        position = {c.oid: c.committed_at for c in default_branch_history(repo)}
        repo_rows: list[dict[str, Any]] = []
        if source == "deployment":
            for d in state.deployments:
                terminal = [(s, at) for s, at in d.statuses if s in TERMINAL]
                repo_rows.append({
                    "deployment_id": d.id, "repo": repo.name_with_owner,
                    "environment": d.environment,
                    "is_production": d.environment.lower() in production,
                    "commit_oid": d.oid, "created_at": d.created_at,
                    "final_state": d.statuses[-1][0] if d.statuses else None,
                    "finished_at": terminal[0][1] if terminal else None,
                    "source": "deployment",
                    "outcome": terminal[0][0] if terminal else None,
                    "position": position.get(d.oid)})
        else:
            for r in state.releases:
                repo_rows.append({
                    "deployment_id": r.id, "repo": repo.name_with_owner,
                    "environment": "release", "is_production": True, "commit_oid": r.oid,
                    "created_at": r.published_at, "final_state": "SUCCESS",
                    "finished_at": r.published_at, "source": "release", "outcome": "SUCCESS",
                    "position": position.get(r.oid)})
        _mark_rollbacks_and_restores(repo_rows)
        rows.update({row["deployment_id"]: row for row in repo_rows})
    return rows


def _mark_rollbacks_and_restores(rows: list[dict[str, Any]]) -> None:
    by_env: dict[tuple[str, bool], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_env[(row["environment"], row["is_production"])].append(row)
    for env_rows in by_env.values():
        env_rows.sort(key=lambda r: (r["created_at"], r["deployment_id"]))
        for i, row in enumerate(env_rows):
            after = env_rows[i + 1] if i + 1 < len(env_rows) else None
            row["is_rolled_back"] = bool(
                row["is_production"] and row["outcome"] == "SUCCESS" and after is not None
                and after["created_at"] <= row["created_at"] + timedelta(hours=24)
                and after["position"] is not None and row["position"] is not None
                and after["position"] < row["position"])
            row["restored_at"] = None
            if row["is_production"] and row["outcome"] in ("FAILURE", "ERROR"):
                later = [r["finished_at"] for r in env_rows
                         if r["outcome"] == "SUCCESS" and r["created_at"] > row["created_at"]]
                row["restored_at"] = min(later, default=None)


def deployed_at_by_pr(repos: list[Any], deploys: dict[str, dict[str, Any]]
                      ) -> dict[str, datetime]:
    """A merged PR's first successful production deploy containing its merge commit: one
    of a commit of main not older than the merge commit."""
    found: dict[str, datetime] = {}
    for repo in repos:
        position = {c.oid: c.committed_at for c in default_branch_history(repo)}
        good = [d for d in deploys.values()
                if d["repo"] == repo.name_with_owner and d["is_production"]
                and d["outcome"] == "SUCCESS" and d["position"] is not None]
        for pr in repo.pull_requests:
            merged = position.get(merge_commit_oid(pr) or "")
            if merged is None:
                continue
            times = [d["finished_at"] for d in good if d["position"] >= merged]
            if times:
                found[pr.id] = min(times)
    return found


def cycle_time_deploy_rows(repos: list[Any], deploys: dict[str, dict[str, Any]]
                           ) -> dict[str, tuple]:
    """``{pr id: (deployed_at, deploy_hours, lead_time_hours)}`` for every PR."""
    deployed = deployed_at_by_pr(repos, deploys)
    rows = {}
    for repo in repos:
        for pr in repo.pull_requests:
            at = deployed.get(pr.id)
            start = pr.commits[0].authored_at if pr.commits else pr.created_at
            rows[pr.id] = (at, hours(pr.merged_at, at), hours(start, at))
    return rows


def band(value: float | None, limits: tuple[float, float, float]) -> str | None:
    """elite / high / medium / low below each limit (lower is better)."""
    if value is None:
        return None
    for name, limit in zip(("elite", "high", "medium"), limits, strict=True):
        if value < limit:
            return name
    return "low"


def dora_weekly_rows(repos: list[Any], deploys: dict[str, dict[str, Any]]
                     ) -> dict[tuple[str, date], dict[str, Any]]:
    """mart_dora_weekly by (repo, week_start)."""
    prod = [d for d in deploys.values() if d["is_production"]]
    lead = cycle_time_deploy_rows(repos, deploys)
    repo_of = {pr.id: repo.name_with_owner for repo in repos for pr in repo.pull_requests}
    weeks: dict[tuple[str, date], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for d in prod:
        weeks[(d["repo"], week_of(d["created_at"]))]["deploys"].append(d)
    for pr_id, (at, _, lead_hours) in lead.items():
        if at is not None:
            weeks[(repo_of[pr_id], week_of(at))]["lead"].append(lead_hours)
    rows = {}
    for (repo, week), parts in weeks.items():
        ds = parts["deploys"]
        good = sum(d["outcome"] == "SUCCESS" for d in ds)
        finished = sum(d["finished_at"] is not None for d in ds)
        failed = sum(d["outcome"] in ("FAILURE", "ERROR") for d in ds)
        rolled = sum(d["is_rolled_back"] for d in ds)
        restores = [hours(d["finished_at"], d["restored_at"]) for d in ds
                    if d["outcome"] in ("FAILURE", "ERROR") and d["restored_at"] is not None]
        recent = sum(1 for d in prod if d["repo"] == repo and d["outcome"] == "SUCCESS"
                     and week - timedelta(days=28) < week_of(d["created_at"]) <= week)
        rate = (failed + rolled) / finished if finished else None
        lead_median = quantile_cont(parts["lead"], 0.5)
        restore_median = quantile_cont(restores, 0.5)
        rows[(repo, week)] = {
            "deployments": good, "production_deployments": finished,
            "failed_deployments": failed, "rolled_back_deployments": rolled,
            "change_failure_rate": rate, "deployed_pull_requests": len(parts["lead"]),
            "lead_time_median_hours": lead_median,
            "time_to_restore_median_hours": restore_median,
            "deployment_frequency_band": ("elite" if good >= 7 else "high" if good >= 1
                                          else "medium" if recent >= 1 else "low"),
            "lead_time_band": band(lead_median, (24, 24 * 7, 24 * 30)),
            "change_failure_rate_band": (None if rate is None else "elite" if rate <= 0.05
                                         else "high" if rate <= 0.10
                                         else "medium" if rate <= 0.15 else "low"),
            "time_to_restore_band": band(restore_median, (1, 24, 24 * 7)),
            "dora_report_year": 2023,
        }
    return rows
