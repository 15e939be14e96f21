"""Child processes: run a :mod:`bench.worker` job and read its peak RSS from the kernel.

Each job runs under a fresh, small launcher process (``python -m bench.worker launch``)
that starts the job, waits for it and reads ``resource.getrusage(RUSAGE_CHILDREN)``: with
one child, that is the job's own ``ru_maxrss``. The launcher matters: Linux folds the RSS
of the address space a process had *before* ``exec`` into its ``ru_maxrss``, so a job
started straight from this (large) process would report at least our RSS: 456 MiB for a
5k-PR extract whose own high-water mark (``VmHWM``) was 123 MiB. The launcher is ~10 MiB.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent


class ChildFailed(RuntimeError):
    """A worker exited non-zero; the message ends with its last output lines."""


@dataclass
class ChildResult:
    """What a worker wrote to its result file, its exit code, wall time and peak RSS."""

    result: dict[str, Any]
    returncode: int
    wall_seconds: float
    max_rss_mib: float


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker: ours (``python -m bench.worker`` from the checkout's
    root finds ``bench``; the product and the emulator are installed packages)."""
    return {**os.environ, **(extra or {})}


def run_worker(job: str, args: dict[str, Any], log_path: Path,
               env: dict[str, str] | None = None) -> ChildResult:
    """Run ``python -m bench.worker <job>`` with ``args`` (JSON) and wait for it.

    The worker's output goes to ``log_path``; its result comes back through a file.
    """
    with tempfile.TemporaryDirectory(prefix="bench-job-") as tmp:
        args_file, out_file = Path(tmp) / "args.json", Path(tmp) / "result.json"
        args_file.write_text(json.dumps(args))
        command = [sys.executable, "-m", "bench.worker", "launch", job, str(args_file),
                   str(out_file)]
        started = time.perf_counter()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as output:
            done = subprocess.run(command, cwd=ROOT, env=env or child_env(), stdout=output,
                                  stderr=subprocess.STDOUT, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            tail = log_path.read_text(errors="replace").splitlines()[-25:]
            raise ChildFailed(f"worker {job} exited {done.returncode}; see {log_path}:\n"
                              + "\n".join(tail))
        result = json.loads(out_file.read_text())
    return ChildResult(result, done.returncode, wall, result.pop("child_max_rss_mib"))
