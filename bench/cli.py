"""``python -m bench``: run the sections, print the table, write the JSON result.

Examples::

    python -m bench                       # the full run (~12-15 min on 2 cores)
    python -m bench --quick               # small sizes (~2 min)
    python -m bench --only cost,memory    # some sections
    python -m bench --time-scale 1        # unscaled latency (the extract sections take longer)

Every section runs even if an earlier one failed; a failed section is reported in the
table and the JSON, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.config import EMULATOR_SWITCH_SECONDS, SECTIONS, BenchConfig
from bench.procs import ROOT

log = logging.getLogger("bench")

RESULTS_DIR = ROOT / "bench" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, ~2 minutes")
    parser.add_argument("--only", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--time-scale", type=float,
                        help="latency time scale (full: 0.1, quick: 0.05; 1 = unscaled)")
    parser.add_argument("--load-sizes", help="comma-separated PR counts, e.g. 100000,1000000")
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--out", type=Path, help="result JSON (default: bench/results/...)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log the product's INFO too")
    args = parser.parse_args(argv)
    if args.only:
        unknown = set(args.only.split(",")) - set(SECTIONS)
        if unknown:
            parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(SECTIONS)}")
    return args


def build_config(args: argparse.Namespace) -> BenchConfig:
    config = BenchConfig.quick() if args.quick else BenchConfig.full()
    if args.time_scale is not None:
        config = replace(config, latency=replace(config.latency, time_scale=args.time_scale))
    if args.load_sizes:
        config = replace(config, load_sizes=tuple(int(s) for s in args.load_sizes.split(",")))
    return config


def prepare_environment(workdir: Path) -> None:
    """A private Airflow home, before Airflow is imported."""
    os.environ["AIRFLOW_HOME"] = str(workdir / "airflow")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("pr_warehouse", "airflow", "urllib3", "fsspec"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.WARNING)


def environment_facts() -> dict[str, Any]:
    """Where and on what the figures were taken (they only compare within one machine)."""
    from importlib.metadata import PackageNotFoundError, version

    def pkg(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "apache-airflow": pkg("apache-airflow"),
        "duckdb": pkg("duckdb"),
        "dbt-duckdb": pkg("dbt-duckdb"),
        "git_commit": commit + ("+dirty" if dirty else ""),
    }


def section_runners(config: BenchConfig, workdir: Path,
                    keep: bool) -> dict[str, Callable[[], dict[str, Any]]]:
    """Each section as a no-argument callable (imported lazily: Airflow is heavy)."""
    from bench import cost_bench, extract_bench, load_bench, memory_bench

    return {
        "extract": lambda: extract_bench.run(config, workdir / "extract"),
        "cost": lambda: cost_bench.run(config, workdir / "cost"),
        "load": lambda: load_bench.run(config, workdir / "load", keep=keep),
        "memory": lambda: memory_bench.run(config, workdir / "memory"),
    }


def run_sections(names: list[str], runners: dict[str, Callable[[], dict[str, Any]]]
                 ) -> dict[str, dict[str, Any]]:
    """Run each named section; record its data or its error, and its wall time."""
    sections: dict[str, dict[str, Any]] = {}
    for name in names:
        log.info("== section %s", name)
        started = time.perf_counter()
        try:
            sections[name] = {"data": runners[name]()}
        except Exception as exc:  # one broken section must not hide the others' figures
            log.exception("section %s failed", name)
            sections[name] = {"error": f"{type(exc).__name__}: {exc}",
                              "traceback": traceback.format_exc()}
        sections[name]["seconds"] = time.perf_counter() - started
        log.info("== section %s done in %.1fs", name, sections[name]["seconds"])
    return sections


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = build_config(args)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="prw-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    prepare_environment(workdir)
    configure_logging(args.verbose)
    sys.setswitchinterval(EMULATOR_SWITCH_SECONDS)  # this process serves the emulator
    names = args.only.split(",") if args.only else list(SECTIONS)
    names = [n for n in SECTIONS if n in names]  # a fixed order: heaviest Airflow run first
    started_at = datetime.now(timezone.utc)
    log.info("benchmark %s: sections %s, scratch %s", config.name, ", ".join(names), workdir)
    started = time.perf_counter()
    try:
        sections = run_sections(names, section_runners(config, workdir, args.keep))
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    results = {
        "started_at": started_at.isoformat(),
        "total_seconds": time.perf_counter() - started,
        "config": config.as_dict(),
        "environment": environment_facts(),
        "sections": sections,
    }
    from bench.report import render, table_rows, write_json

    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    out = write_json(results, args.out or RESULTS_DIR / f"{config.name}-{stamp}.json")
    print(f"\npr-warehouse benchmarks ({config.name}, {started_at:%Y-%m-%d %H:%M} UTC, "
          f"{results['environment']['cpus']} CPUs, {results['total_seconds']:.0f} s)\n")
    print(render(table_rows(results)))
    print(f"\nJSON: {out}")
    return 1 if any("error" in s for s in sections.values()) else 0
