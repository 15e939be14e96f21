"""Fixtures of the client tests: a scripted GitHub, a fake clock and sleep, a client factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pr_warehouse.client import ClientSettings, GraphQLClient

from .scripted import FAST, TOKEN, FakeClock, ScriptedGitHub, SleepRecorder, serve


@pytest.fixture
def github() -> Iterator[ScriptedGitHub]:
    """A scripted GitHub on 127.0.0.1 (random port), shut down after the test."""
    with serve() as state:
        yield state


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps(clock: FakeClock) -> SleepRecorder:
    return SleepRecorder(clock)


@pytest.fixture
def make_client(
    github: ScriptedGitHub, clock: FakeClock, sleeps: SleepRecorder
) -> Iterator[Callable[..., GraphQLClient]]:
    """``make_client(**settings)``: a client on the scripted server with the fake sleep and
    clock, jitter fixed at 0.5 (so every wait is an exact number)."""
    made: list[GraphQLClient] = []

    def make(**overrides: Any) -> GraphQLClient:
        settings = ClientSettings(**{**FAST.__dict__, **overrides})
        client = GraphQLClient(
            github.url, TOKEN, settings, sleep=sleeps, clock=clock, rand=lambda: 0.5
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
