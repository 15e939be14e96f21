"""The read-only snapshot analysts, the UI and BI tools open.

DuckDB allows one writer per file: readers open the snapshot and never block the
pipeline, nor see a half-written state.

Example::

    publish_snapshot(Path("data/warehouse.duckdb"), Path("data/warehouse.snapshot.duckdb"))
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

log = logging.getLogger(__name__)


def publish_snapshot(source: Path, target: Path) -> Path:
    """Copy the warehouse to ``target`` atomically (the rename is atomic on one volume)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    log.info("published snapshot %s", target)
    return target
