"""``python -m github_emulator`` starts, prints its URL and answers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

from github_emulator import DEFAULT_TOKEN

ROOT = Path(__file__).resolve().parents[2]


def test_cli_serves_the_demo_world() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "github_emulator", "--port", "0", "--token", "cli-token"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/graphql")
        query = '{ repository(owner: "acme", name: "api") { pullRequests(first: 1) { totalCount } } }'
        def post(token: str) -> requests.Response:
            headers = {"Authorization": f"bearer {token}"}
            return requests.post(url, json={"query": query}, headers=headers, timeout=10)

        assert post("cli-token").json() == {"data": {"repository": {"pullRequests": {"totalCount": 300}}}}
        assert post(DEFAULT_TOKEN).status_code == 401  # --token replaces the default
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
