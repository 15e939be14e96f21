"""Section 5 (extract half): peak RSS of one extract paging one large repository.

The emulator (no latency) serves one repository of ``memory_extract_prs`` PRs; the product's
extract pages it at the DAG's page size in a child process, whose peak RSS comes from the
kernel (``os.wait4``). The child imports what an extract task imports (the client, the raw
store on ``ObjectStoragePath``, so Airflow's SDK), so ``rss_after_imports_mib`` is the floor
and the growth above it is the extract's own. The load's peak RSS is measured in
:mod:`bench.load_bench` at each size.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bench import emulation
from bench.config import TOKEN, BenchConfig
from bench.procs import run_worker

log = logging.getLogger(__name__)


def run(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    world = emulation.org_world([config.memory_extract_prs], config.seed, org="memory")
    repo = emulation.repo_names(world, org="memory")[0]
    server = emulation.emulator(world, unlimited=True)
    try:
        child = run_worker("extract", {
            "url": server.url, "token": TOKEN, "repos": [repo], "page_size": config.page_size,
            "base_url": (workdir / "raw").as_uri(), "run_key": "memory"},
            workdir / "worker.log")
    finally:
        server.stop()
    result = child.result
    log.info("extract of %d PRs: peak RSS %.0f MiB (%.0f MiB after imports), %.1fs",
             result["pull_requests"], child.max_rss_mib, result["rss_after_imports_mib"],
             result["seconds"])
    return {
        "pull_requests": result["pull_requests"],
        "pages": result["pages"],
        "page_size": config.page_size,
        "seconds": result["seconds"],
        "max_rss_mib": child.max_rss_mib,
        "rss_after_imports_mib": result["rss_after_imports_mib"],
        "growth_mib": child.max_rss_mib - result["rss_after_imports_mib"],
    }
