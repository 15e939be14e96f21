"""Debian's Chromium, driven by Playwright through ``executable_path`` (Playwright cannot
download its own browsers here). ``make test`` installs it when missing."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PR_WAREHOUSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
#: How long an ``expect`` waits for the page. Playwright's default (5 s) is shorter than the
#: UI's round trip to a busy Airflow API on a shared 2-core CI machine (a trigger's POST
#: took longer there), and waiting is cheap when the page is on time.
EXPECT_TIMEOUT_MS = 60_000
#: Screenshots of the browser tests (git-ignored).
ARTIFACTS = ROOT / "tests" / "artifacts"


def require_chromium() -> None:
    """Skip the calling test (or fixture) when the browser or Playwright is missing."""
    import pytest

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (make test installs Debian's chromium; "
                    "or apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is in requirements.txt")
    sync_api.expect.set_options(timeout=EXPECT_TIMEOUT_MS)
