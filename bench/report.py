"""The final table (plain text, for a terminal and the README) and the JSON result file.

>>> print(render([("Load", "rows/s", "1,000"), ("Load", "peak RSS", "12 MiB")]))
| Section | Figure   | Value |
|---------|----------|-------|
| Load    | rows/s   | 1,000 |
|         | peak RSS | 12 MiB |
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.checks_cost import checks_rows

Row = tuple[str, str, str]


def render(rows: list[Row]) -> str:
    """A Markdown table (readable as is in a terminal); a section's name shows once."""
    header = ("Section", "Figure", "Value")
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i])
              for i in range(2)]
    lines = [f"| {header[0]:<{widths[0]}} | {header[1]:<{widths[1]}} | {header[2]} |",
             f"|{'-' * (widths[0] + 2)}|{'-' * (widths[1] + 2)}|{'-' * (len(header[2]) + 2)}|"]
    previous = None
    for section, figure, value in rows:
        shown = section if section != previous else ""
        previous = section
        lines.append(f"| {shown:<{widths[0]}} | {figure:<{widths[1]}} | {value} |")
    return "\n".join(lines)


def seconds(value: float | None) -> str:
    """Seconds, with the precision the figure deserves.

    >>> seconds(0.1234), seconds(12.34), seconds(1234.5)
    ('0.12 s', '12.3 s', '1,234 s')
    """
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value:.2f} s"
    return f"{value:.1f} s" if value < 100 else f"{value:,.0f} s"


def count(value: float) -> str:
    return f"{value:,.0f}"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def mib(value: float) -> str:
    return f"{value:,.0f} MiB"


def size_label(n: int) -> str:
    """A PR count as people say it.

    >>> size_label(100_000), size_label(1_000_000), size_label(5_000)
    ('100k', '1M', '5k')
    """
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


# -- rows per section ---------------------------------------------------------------------------


def ms(value: float) -> str:
    """Milliseconds.

    >>> ms(0.2161)
    '216 ms'
    """
    return f"{value * 1000:.0f} ms"


def repeats_note(run: dict[str, Any]) -> str:
    """The repeats a median rests on, when there were several.

    >>> repeats_note({"repeat_phase_seconds": [50.0, 51.25, 57.0]})
    ', median of 50.0 s / 51.2 s / 57.0 s'
    >>> repeats_note({})
    ''
    """
    repeats = run.get("repeat_phase_seconds") or []
    return f", median of {' / '.join(seconds(s) for s in repeats)}" if len(repeats) > 1 else ""


def extract_rows(data: dict[str, Any], config: dict[str, Any]) -> list[Row]:
    dag, base = data["runs"]["as_shipped"], data["baseline"]
    ideal, over = dag["ideal"], dag["overhead"]
    lat = config["latency"]
    section = f"1. Extract ({dag['repos']} repos, {count(dag['pull_requests'])} PRs)"
    rows: list[Row] = [
        (section, "setup", f"LocalExecutor, pool {dag['pool_slots']}, page {dag['page_size']}, "
                           f"{dag.get('tasks', dag['repos'])} mapped tasks; "
                           f"latency {lat['base_seconds']} s + {lat['per_node_seconds'] * 1000:g}"
                           f" ms/node, time scale {lat['time_scale']:g}"),
        (section, "extract phase, measured (first queued -> last done)",
         seconds(dag["extract_phase_seconds"]) + repeats_note(dag)),
        (section, "ideal: lower bound / LPT / in map order",
         " / ".join(seconds(ideal[k]) for k in
                    ("lower_bound_seconds", "lpt_seconds", "in_order_seconds"))),
        (section, "measured / ideal (lower bound)", ratio(dag["measured_over_ideal"])),
        (section, "measured / ideal in map order", ratio(dag["measured_over_in_order_ideal"])),
        (section, "measured / map-order schedule of the emulator's real answer times",
         ratio(dag["measured_over_in_order_answer_times"])),
        (section, "per request: model (listing page) / emulator answer / client cycle (medians)",
         " / ".join(ms(dag["per_page_seconds"][k])
                    for k in ("model", "answer_median", "cycle_median"))),
        (section, "pool slot utilisation (time in requests)", f"{dag['slot_utilisation']:.0%}"),
    ]
    if work := dag.get("emulator_work"):
        rows.append((section, "emulator: own work / answers later than modeled (n, total)",
                     f"{seconds(work['work_seconds'])} / {work['late_requests']:,} of "
                     f"{work['requests']:,}, {seconds(work['late_seconds'])}"))
    if over.get("queued_to_first_request"):
        q, s, f, t = (over[k] for k in ("queued_to_first_request", "queued_to_start",
                                        "start_to_first_request", "last_response_to_end"))
        rows += [
            (section, "Airflow per task: queued -> first request (median / max)",
             f"{seconds(q['median'])} / {seconds(q['max'])}"),
            (section, "  = queued -> running + running -> first request (medians)",
             f"{seconds(s['median'])} + {seconds(f['median'])}"),
            (section, "  last response -> task done (median)", seconds(t["median"])),
        ]
    handoff = dag.get("slot_handoff")
    if handoff:
        rows.append((section, "freed pool slot -> next extract queued (median / total)",
                     f"{seconds(handoff['median'])} / {seconds(handoff['total'])}"))
    tasks = dag.get("task_seconds", {})
    rows.append((section, "whole DAG run (load / transform)",
                 f"{seconds(dag.get('dag_run_seconds'))} ({seconds(tasks.get('load'))} / "
                 f"{seconds(tasks.get('transform'))})"))
    lpt = data["runs"].get("largest_first")
    if lpt:
        rows += [
            (section, "same DAG, repos Param largest first: extract phase",
             f"{seconds(lpt['extract_phase_seconds'])} "
             f"({ratio(lpt['measured_over_ideal'])} the ideal)"),
        ]
    rows += [
        ("6. Baseline (seed)", f"{base['page_size']}/page, one repo at a time, no probe",
         f"{seconds(base['measured_seconds'])} (ideal {seconds(base['ideal_seconds'])})"),
        ("6. Baseline (seed)", "speed-up of the DAG extract over the seed",
         ratio(data["speedup_vs_baseline"]) + (
             f" ({ratio(data['speedup_vs_baseline_largest_first'])} largest first)"
             if "speedup_vs_baseline_largest_first" in data else "")),
    ]
    return rows


def cost_rows(data: dict[str, Any], config: dict[str, Any]) -> list[Row]:
    section = "2. API cost (points)"
    pages = data["page_sizes"]
    sizes = " / ".join(str(p["page_size"]) for p in pages)
    daily = data["daily"]
    unchanged, changed = daily["unchanged"], daily["changed"]
    rows = [
        (section, f"per 1,000 PRs, all nested fields, page {sizes}",
         " / ".join(f"{p['by_operation']['listing']:.0f}" for p in pages)),
        (section, f"per 1,000 PRs, everything incl. events + follow-ups, page {sizes}",
         " / ".join(f"{p['points_per_1000_prs']:.0f}" for p in pages)),
        (section, f"GitHub seconds per 1,000 PRs (model), page {sizes}",
         " / ".join(f"{p['github_seconds_per_1000_prs']:.0f}" for p in pages)),
        (section, "cheapest page size by the formula (points per 1,000 PRs)",
         f"{data['cheapest']['page_size']} ({data['cheapest']['points_per_1000_prs']:.1f})"),
        (section, f"full sync, {daily['repos']} repos: ours (page "
                  f"{daily['full_sync']['page_size']}) / seed (page "
                  f"{daily['full_sync_seed']['page_size']})",
         f"{count(daily['full_sync']['points'])} / {count(daily['full_sync_seed']['points'])}"),
        (section, "daily, nothing changed: ours / seed",
         f"{unchanged['ours']['points']} / {unchanged['seed']['points']} "
         f"({unchanged['ours']['repos_skipped']} repos skipped by the probe)"),
        (section, f"daily, {changed['fraction']:.0%} of PRs changed: ours / seed",
         f"{changed['ours']['points']} / {changed['seed']['points']} "
         f"({changed['pull_requests_touched']} PRs in {changed['ours']['repos_extracted']} "
         "repos)"),
    ]
    deploys = data.get("deployments")
    if deploys:
        rows.append((section, "deployments + releases + history, per repository: first sync / "
                              "daily (max)",
                     f"{deploys['first_sync_points_per_repo']:.2f} / "
                     f"{deploys['daily_points_per_repo']:.2f} ({deploys['daily_points_max_repo']})"))
    everything = data.get("all_data")
    if everything:
        parts = everything["by_operation"]
        rows.insert(3, (
            section, f"all PR data incl. events, page {everything['page_size']} (points per "
                     f"1,000 PRs; target <= {everything['target']})",
            f"{everything['points_per_1000_prs']:.1f} (listing {parts['listing']:.1f} + events "
            f"{parts['events']:.1f} + review comments {parts.get('review_comments', 0):.1f} "
            f"+ follow-ups {parts['followups']:.1f})"
            + ("" if everything["within_target"] else " OVER TARGET")))
    teams = daily.get("teams")
    if teams:
        rows.append((
            section, f"teams, per organization per run (target <= "
                     f"{teams['target_points_per_org']})",
            "; ".join(f"{o['org']} ({o['teams']} teams) {o['points']}" for o in teams["orgs"])
            + ("" if teams["within_target"] else " OVER TARGET")))
    rows += checks_rows(data.get("checks"))
    return rows


def load_rows(data: dict[str, Any], config: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for size in data["sizes"]:
        label = size_label(size["pull_requests"])
        load, bare = size["load"], size["bare"]
        if "pages" in size:
            # What the load reads: the PR pages and the events pages (one row per PR each).
            rows.append(("3. Load", f"{label} PRs: pages, PR / events",
                         f"{count(size['pages'])} ({mib(size['page_mib'])}) / "
                         f"{count(size.get('event_pages', 0))} "
                         f"({mib(size.get('event_page_mib', 0))})"))
        rows += [
            ("3. Load", f"{label} PRs: load_manifests",
             f"{seconds(load['seconds'])}, {count(load['rows_per_second'])} rows/s"),
            ("3. Load", f"{label} PRs: bare DuckDB, same pages into tables",
             "; ".join(f"{mode} {seconds(b['seconds'])}, {count(b['rows_per_second'])} rows/s"
                       for mode, b in bare.items())),
            ("3. Load", f"{label} PRs: load time / bare ({' / '.join(bare)})",
             " / ".join(ratio(b["load_time_ratio"]) for b in bare.values())),
        ]
        target = size.get("load_over_read_text")
        if target:
            cpu = (f", CPU time {ratio(target['cpu_ratio'])}"
                   if target.get("cpu_ratio") is not None else "")
            rows.append(("3. Load", f"{label} PRs: load / bare read_text (target <= "
                         f"{target['target']}x); peak RSS load / read_text",
                         f"{ratio(target['ratio'])}{cpu}"
                         f"{'' if target['within_target'] else ' OVER TARGET'}; "
                         f"{mib(target['load_max_rss_mib'])} / "
                         f"{mib(target['read_text_max_rss_mib'])}"))
    for size in data["sizes"]:
        dbt = size["transform"]
        status = "FAILED" if dbt.get("error") else ", ".join(
            f"{n} {s}" for s, n in sorted(dbt.get("statuses", {}).items()))
        rows.append(("4. Transform", f"dbt build, {size_label(size['pull_requests'])} PRs",
                     f"{seconds(dbt['seconds'])} ({status})"))
    for size in data["sizes"]:
        page = size.get("page")
        if page:
            rows.append(("4. Transform", f"PR analytics page, server side, "
                         f"{size_label(size['pull_requests'])} PRs: default / one repository",
                         "FAILED: " + page["error"] if "error" in page else
                         f"{seconds(page['default']['seconds'])} / "
                         f"{seconds(page['one_repo']['seconds'])} (target ≤ 2 s)"))
            if page.get("default", {}).get("browser"):
                rows.append(("4. Transform", f"PR analytics page, browser render, "
                             f"{size_label(size['pull_requests'])} PRs: default / one "
                             "repository", " / ".join(
                                 browser_figure(page[k]["browser"])
                                 for k in ("default", "one_repo")) + " (target ≤ 3 s)"))
    for size in data["sizes"]:
        if "transform_incremental" not in size:
            continue
        dbt, changed = size["transform_incremental"], size["changed"]
        status = " (FAILED)" if dbt.get("error") else ""
        days = f", median of {changed['days']} days" if changed.get("days", 1) > 1 else ""
        rows.append(("4. Transform",
                     f"dbt build, {size_label(size['pull_requests'])} PRs: "
                     f"{changed['fraction']:.0%} changed{days}, incremental / full",
                     f"{seconds(dbt['seconds'])} / {seconds(size['transform']['seconds'])} = "
                     f"{size['incremental_over_full']:.0%}{status} "
                     f"({count(changed['pull_requests'])} PRs changed)"))
    return rows


def memory_rows(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    memory = results.get("memory", {}).get("data")
    if memory:
        rows.append(("5. Memory (peak RSS)",
                     f"one extract, {size_label(memory['pull_requests'])}-PR repo",
                     f"{mib(memory['max_rss_mib'])} ({mib(memory['rss_after_imports_mib'])} "
                     "after imports)"))
    load = results.get("load", {}).get("data")
    if load and load["sizes"]:
        biggest = max(load["sizes"], key=lambda s: s["pull_requests"])
        bare = biggest["bare"].get("read_text", {})
        rows.append(("5. Memory (peak RSS)",
                     f"load, {size_label(biggest['pull_requests'])} PRs (bare read_text)",
                     f"{mib(biggest['load']['max_rss_mib'])} "
                     f"({mib(bare.get('max_rss_mib', 0))})"))
    return rows


SECTION_ROWS: dict[str, Callable[[dict[str, Any], dict[str, Any]], list[Row]]] = {
    "extract": extract_rows,
    "cost": cost_rows,
    "load": load_rows,
}


def table_rows(results: dict[str, Any]) -> list[Row]:
    """Rows of every section that ran; a failed section shows its error."""
    rows: list[Row] = []
    config = results["config"]
    for name, build in SECTION_ROWS.items():
        section = results["sections"].get(name)
        if section is None:
            continue
        if section.get("error"):
            rows.append((name, "FAILED", section["error"].splitlines()[0][:120]))
        else:
            rows += build(section["data"], config)
    memory = results["sections"].get("memory")
    if memory and memory.get("error"):
        rows.append(("memory", "FAILED", memory["error"].splitlines()[0][:120]))
    rows += memory_rows(results["sections"])
    return rows


def write_json(results: dict[str, Any], path: Path) -> Path:
    """Write atomically (a ``.tmp`` then a rename: a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)
    return path


def browser_figure(browser: dict[str, Any]) -> str:
    """One load's figure: its seconds, or why it was not measured.

    >>> browser_figure({"seconds": 1.25, "charts": 11, "failed": 0})
    '1.2 s'
    >>> browser_figure({"seconds": 2.0, "charts": 11, "failed": 1})
    '2.0 s (1 of 11 charts failed)'
    >>> browser_figure({"skipped": "no chromium"})
    'skipped: no chromium'
    """
    if "skipped" in browser:
        return f"skipped: {browser['skipped']}"
    failed = (f" ({browser['failed']} of {browser['charts']} charts failed)"
              if browser["failed"] else "")
    return seconds(browser["seconds"]) + failed
