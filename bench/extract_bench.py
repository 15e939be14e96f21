"""Sections 1 and 6: the extract under Airflow against the ideal schedule, and the seed.

One emulator (with the latency model) serves a synthetic organisation. First the real DAG
runs on a throw-away Airflow deployment (scheduler + LocalExecutor, the ``github_api``
pool at its shipped size); the extract phase is timed from the metadata DB (first mapped
extract queued -> last one finished) and each repository's requests from the emulator's
ledger. Then the seed's approach pages the same organisation in one process, one repository
after another, 25 PRs per page, no probe.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import emulation
from bench.airflow_run import DAG_ID, AirflowDeployment, TaskTiming
from bench.config import ORG, TOKEN, BenchConfig
from tests.support.connections import github_conn_env
from bench.procs import run_worker
from bench.schedule import IdealSchedule, list_makespan, lower_bound, pages_needed

log = logging.getLogger(__name__)


def run(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    """Both measurements against one emulator and one world."""
    sizes = config.org_repo_sizes
    log.info("extract: %d repositories, %d PRs, latency %s", len(sizes), sum(sizes),
             config.latency)
    world = emulation.org_world(sizes, config.seed)
    size_of = dict(zip(emulation.repo_names(world), sizes, strict=True))
    server = emulation.emulator(world, config.latency)
    try:
        dag = measure_dag(config, workdir, server, size_of, emulation.repo_names_by_id(world))
        _fresh_ledger(server)  # the seed pays its own way
        baseline = measure_baseline(config, workdir, server, size_of)
    finally:
        server.stop()
    shipped = dag["runs"][AS_SHIPPED]
    result = {**dag, "baseline": baseline,
              "speedup_vs_baseline": baseline["measured_seconds"] / shipped["extract_phase_seconds"]}
    if LARGEST_FIRST in dag["runs"]:
        result["speedup_vs_baseline_largest_first"] = (
            baseline["measured_seconds"] / dag["runs"][LARGEST_FIRST]["extract_phase_seconds"])
    return result


def _fresh_ledger(server: Any) -> None:
    """An empty ledger and a fresh points budget (each contender starts a new hour)."""
    from github_emulator import Limits

    server.ledger.clear()
    server.limits = Limits()


# -- the DAG under the LocalExecutor ------------------------------------------------------------

AS_SHIPPED = "as_shipped"
LARGEST_FIRST = "largest_first"


def dag_confs(config: BenchConfig, size_of: dict[str, int]) -> dict[str, dict[str, Any]]:
    """The runs: the org as shipped (map order = the org's listing), and, optionally, the
    same repositories given largest first (what an LPT-ordered plan would queue)."""
    confs: dict[str, dict[str, Any]] = {AS_SHIPPED: {"orgs": [ORG], "page_size": config.page_size}}
    for repeat in range(2, config.dag_repeats + 1):  # else the watermarks skip them all
        confs[f"{AS_SHIPPED}_{repeat}"] = {**confs[AS_SHIPPED], "full_refresh": True}
    if config.dag_largest_first_run:
        ordered = sorted(size_of, key=lambda repo: size_of[repo], reverse=True)
        confs[LARGEST_FIRST] = {"repos": ordered, "page_size": config.page_size,
                                "full_refresh": True}  # else the watermarks skip them all
    return confs


def measure_dag(config: BenchConfig, workdir: Path, server: Any, size_of: dict[str, int],
                names: dict[int, str]) -> dict[str, Any]:
    """Run the DAG for the whole org (once per conf); time the extract phase and overhead."""
    data = workdir / "dag"
    extra_env = {
        "AIRFLOW_CONN_GITHUB_DEFAULT": github_conn_env(server.url, TOKEN),
        "PR_WAREHOUSE_RAW_URL": (data / "raw").as_uri(),
        "PR_WAREHOUSE_DUCKDB": str(data / "warehouse.duckdb"),
        "PR_WAREHOUSE_SNAPSHOT": str(data / "snapshot.duckdb"),
    }
    runs = {}
    with AirflowDeployment(workdir / "airflow", extra_env,
                           pool_slots=config.pool_slots) as airflow:
        for name, conf in dag_confs(config, size_of).items():
            _fresh_ledger(server)
            run_id = f"bench_{name}"
            airflow.trigger(conf, run_id)
            state = airflow.wait(run_id, timeout=3600)
            log.info("DAG run %s: %s", run_id, state)
            tasks = airflow.task_instances(run_id)
            run_start, run_end = airflow.run_window(run_id)
            extracts = sorted((t for t in tasks if t.task_id == "extract"),
                              key=lambda t: t.map_index)
            spans = emulation.repo_spans(server.ledger.entries, names, config.latency)
            if not extracts or not spans:
                raise RuntimeError(f"DAG run {run_id} ended {state} with no extract to time; "
                                   f"see the task logs under {workdir / 'airflow' / 'logs'}")
            repos_of = task_repos(airflow.return_value(run_id, "plan"), extracts)
            runs[name] = {
                **extract_phase(extracts, spans, config, size_of, repos_of),
                "run_id": run_id,
                "dag_state": state,
                "dag_run_seconds": _minus(run_end, run_start),
                "task_seconds": _task_seconds(tasks),
                "emulator_errors": emulation.error_summary(server.ledger.entries),
                "emulator_work": emulation.emulator_work(server.ledger.entries, config.latency),
                "points": server.ledger.total_points,
                "requests": server.ledger.requests,
            }
        startup = airflow.startup_seconds
    return {"airflow_startup_seconds": startup, "airflow_home": str(workdir / "airflow"),
            "dag_id": DAG_ID, "runs": median_of_repeats(runs)}


def median_of_repeats(runs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The shipped DAG's repeats folded into one: the run with the median extract phase,
    with every repeat's phase beside it.

    >>> runs = {AS_SHIPPED: {"extract_phase_seconds": 9.0},
    ...         AS_SHIPPED + "_2": {"extract_phase_seconds": 7.0},
    ...         AS_SHIPPED + "_3": {"extract_phase_seconds": 8.0}}
    >>> median_of_repeats(runs)[AS_SHIPPED]
    {'extract_phase_seconds': 8.0, 'repeat_phase_seconds': [7.0, 8.0, 9.0]}
    """
    names = [name for name in runs if name == AS_SHIPPED or name.startswith(AS_SHIPPED + "_")]
    ordered = sorted(names, key=lambda name: runs[name]["extract_phase_seconds"])
    median = {**runs[ordered[len(ordered) // 2]],
              "repeat_phase_seconds": [runs[name]["extract_phase_seconds"] for name in ordered]}
    return {AS_SHIPPED: median, **{k: v for k, v in runs.items() if k not in names}}


def task_repos(plan_value: Any, extracts: list[TaskTiming]) -> dict[str, list[str]]:
    """Each mapped extract's repositories, from the ``plan`` task's return value (its
    batches); without it, each task is the repository it is named after.

    >>> task_repos([{"label": "o/a (+1 more)", "jobs": [{"repo": "o/a"}, {"repo": "o/b"}]}], [])
    {'o/a (+1 more)': ['o/a', 'o/b']}
    """
    if plan_value:
        return {batch["label"]: [job["repo"] for job in batch["jobs"]] for batch in plan_value}
    return {t.label: [t.label] for t in extracts}


def extract_phase(extracts: list[TaskTiming], spans: dict[str, emulation.RepoSpan],
                  config: BenchConfig, size_of: dict[str, int],
                  repos_of: dict[str, list[str]]) -> dict[str, Any]:
    """Measured vs ideal, and where the difference went.

    The ideal is the same requests at the latency model's time with zero overhead, each
    repository's requests one after another (a page needs the previous page's cursor; its
    events and checks need its pages), repositories packed onto the pool's slots whichever
    way the plan grouped them into tasks. Each task's figures merge its repositories'.
    """
    page_s = emulation.page_seconds(config.latency, config.page_size)
    in_map_order = [repo for t in extracts for repo in repos_of.get(t.label, [])
                    if repo in spans]
    order = [size_of.get(repo, 0) for repo in in_map_order]
    ideal = IdealSchedule.of_durations(
        [spans[repo].model_seconds for repo in in_map_order], config.pool_slots,
        pages=round(sum(spans[repo].requests for repo in in_map_order)))
    queued = [t.queued for t in extracts if t.queued is not None]
    ended = [t.end for t in extracts if t.end is not None]
    measured = max(ended) - min(queued)
    task_spans = {t.label: span for t in extracts if (span := emulation.merged_span(
        t.label, (spans[r] for r in repos_of.get(t.label, []) if r in spans))) is not None}
    task_sizes = {t.label: sum(size_of.get(r, 0) for r in repos_of.get(t.label, []))
                  for t in extracts}
    spans = task_spans
    repo_spans = [spans[t.label] for t in extracts if t.label in spans]
    request_window = (max(s.last_response for s in repo_spans)
                      - min(s.first_request for s in repo_spans))
    busy = [s.busy_seconds for s in repo_spans]
    return {
        "repos": len(order),
        "tasks": len(extracts),
        "pull_requests": sum(order),
        "page_size": config.page_size,
        "pool_slots": config.pool_slots,
        "failed_extracts": [t.label for t in extracts if t.state != "success"],
        "extract_phase_seconds": measured,
        "request_window_seconds": request_window,
        "ideal": asdict(ideal),
        # The same schedules with each repository's real answer times (the emulator's own
        # CPU time comes on top of the model's sleep): what is left is Airflow and client.
        "ideal_from_answer_times": {
            "lower_bound_seconds": lower_bound(busy, config.pool_slots),
            "in_order_seconds": list_makespan(busy, config.pool_slots),
        },
        "measured_over_ideal": measured / ideal.lower_bound_seconds,
        "measured_over_in_order_ideal": measured / ideal.in_order_seconds,
        "measured_over_in_order_answer_times": measured / list_makespan(busy, config.pool_slots),
        "request_window_over_ideal": request_window / ideal.lower_bound_seconds,
        "slot_utilisation": sum(busy) / (config.pool_slots * measured),
        "pages": sum(s.requests for s in repo_spans),
        "pages_ideal": ideal.pages,
        "per_page_seconds": per_page(repo_spans, page_s),
        "overhead": task_overhead(extracts, spans),
        "slot_handoff": _summary(slot_handoffs(extracts, config.pool_slots)),
        "task_timings": [task_record(t, spans.get(t.label), task_sizes.get(t.label))
                         for t in extracts],
    }


def per_page(spans: list[emulation.RepoSpan], model_seconds: float) -> dict[str, float]:
    """Seconds per page: the model's, the emulator's answer, and the client's full cycle
    (answer + parsing + writing the page + sending the next request)."""
    multi = [s for s in spans if s.requests > 1]
    return {
        "model": model_seconds,
        "answer_median": statistics.median(s.busy_seconds / s.requests for s in spans),
        "cycle_median": statistics.median(
            (s.last_response - s.first_request) / s.requests for s in multi) if multi else 0.0,
    }


def slot_handoffs(extracts: list[TaskTiming], slots: int) -> list[float]:
    """Seconds a freed pool slot waited for the next extract to be queued.

    The i-th extract queued (beyond the first ``slots``) took the slot freed by the
    (i - slots)-th extract to finish.
    """
    queued = sorted(t.queued for t in extracts if t.queued is not None)
    ended = sorted(t.end for t in extracts if t.end is not None)
    return [max(0.0, queued[i] - ended[i - slots]) for i in range(slots, len(queued))
            if i - slots < len(ended)]


def task_record(task: TaskTiming, span: emulation.RepoSpan | None,
                size: int | None) -> dict[str, Any]:
    """One mapped extract's timeline (epoch seconds), for digging into the JSON."""
    return {
        "repo": task.label, "pull_requests": size, "state": task.state,
        "try_number": task.try_number, "queued": task.queued, "start": task.start,
        "end": task.end,
        "first_request": span.first_request if span else None,
        "last_response": span.last_response if span else None,
        "requests": span.requests if span else 0,
        "answer_seconds": span.busy_seconds if span else 0.0,
    }


def task_overhead(extracts: list[TaskTiming],
                  spans: dict[str, emulation.RepoSpan]) -> dict[str, Any]:
    """Airflow's per-task overhead: mapped task queued -> its first request, and the tail."""
    gaps: dict[str, list[float]] = {"queued_to_first_request": [], "queued_to_start": [],
                                    "start_to_first_request": [], "last_response_to_end": []}
    for task in extracts:
        span = spans.get(task.label)
        if span is None or None in (task.queued, task.start, task.end):
            continue
        gaps["queued_to_first_request"].append(span.first_request - task.queued)
        gaps["queued_to_start"].append(task.start - task.queued)
        gaps["start_to_first_request"].append(span.first_request - task.start)
        gaps["last_response_to_end"].append(task.end - span.last_response)
    return {name: _summary(values) for name, values in gaps.items()}


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "p90": ordered[int(0.9 * (len(ordered) - 1))],
            "max": ordered[-1], "total": sum(ordered), "count": len(ordered)}


def _task_seconds(tasks: list[TaskTiming]) -> dict[str, float]:
    """Seconds per task (mapped extracts summed), for the whole-DAG picture."""
    totals: dict[str, float] = {}
    for task in tasks:
        if task.seconds is not None:
            totals[task.task_id] = totals.get(task.task_id, 0.0) + task.seconds
    return totals


def _minus(end: float | None, start: float | None) -> float | None:
    return None if end is None or start is None else end - start


# -- the seed's approach ------------------------------------------------------------------------


def measure_baseline(config: BenchConfig, workdir: Path, server: Any,
                     size_of: dict[str, int]) -> dict[str, Any]:
    """25 PRs per page, one repository after another, in one process (no Airflow at all)."""
    page_size = config.baseline_page_size
    args = {"url": server.url, "token": TOKEN, "repos": list(size_of), "page_size": page_size,
            "fixed": True, "base_url": (workdir / "baseline" / "raw").as_uri(),
            "run_key": "baseline"}
    (workdir / "baseline").mkdir(parents=True, exist_ok=True)
    child = run_worker("extract", args, workdir / "baseline" / "worker.log")
    page_s = emulation.page_seconds(config.latency, page_size)
    pages = sum(pages_needed(n, page_size) for n in size_of.values())
    ideal = pages * page_s  # one slot: the sum of every page
    measured = child.result["seconds"]
    log.info("baseline: %.1fs for %d pages (ideal %.1fs)", measured, child.result["pages"], ideal)
    return {
        "page_size": page_size,
        "measured_seconds": measured,
        "ideal_seconds": ideal,
        "measured_over_ideal": measured / ideal,
        "pages": child.result["pages"],
        "pull_requests": child.result["pull_requests"],
        "points": server.ledger.total_points,
        "emulator_errors": emulation.error_summary(server.ledger.entries),
    }
