"""Fixtures for the emulator tests: a fresh demo world and a real server per test.

Servers bind 127.0.0.1 on an ephemeral port; requests go over real HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from github_emulator import DEFAULT_TOKEN, EmulatorServer, World, build_world

TOKEN = DEFAULT_TOKEN  # what a server started without tokens= accepts
Gql = Callable[..., requests.Response]


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def server(world: World) -> Iterator[EmulatorServer]:
    with EmulatorServer(world) as running:
        yield running


def make_gql(server: EmulatorServer) -> Gql:
    """``gql(query, variables=None, *, token=TOKEN, timeout=10, operation_name=None)``."""
    session = requests.Session()

    def call(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = TOKEN,
        timeout: float | tuple[float, float] = 10,
        operation_name: str | None = None,
    ) -> requests.Response:
        headers = {"Authorization": f"bearer {token}"} if token is not None else {}
        payload: dict[str, Any] = {"query": query, "variables": variables or {}}
        if operation_name:
            payload["operationName"] = operation_name
        return session.post(server.url, json=payload, headers=headers, timeout=timeout)

    return call


@pytest.fixture
def gql(server: EmulatorServer) -> Gql:
    return make_gql(server)
