"""``made_once``: the xdist workers' shared dbt parse is made by one of them, once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.support.dbt_parse import MadeElsewhereFailed, made_once


def test_a_second_caller_waits_for_the_first_and_gets_its_file(tmp_path: Path) -> None:
    started, release = threading.Event(), threading.Event()
    calls: list[Path] = []
    results: list[Path] = []

    def make(folder: Path) -> Path:
        calls.append(folder)
        started.set()
        assert release.wait(60)
        (folder / "parse").write_text("made")
        return folder / "parse"

    first = threading.Thread(target=lambda: results.append(made_once(tmp_path / "p", make)))
    first.start()
    assert started.wait(60)
    # The first is still making it: the second finds the claim and waits for the result.
    second = threading.Thread(target=lambda: results.append(made_once(tmp_path / "p", make)))
    second.start()
    release.set()
    first.join(60)
    second.join(60)
    assert results == [tmp_path / "p" / "parse"] * 2
    assert calls == [tmp_path / "p"]


def test_a_failure_reaches_the_waiting_callers_with_its_error(tmp_path: Path) -> None:
    def broken(folder: Path) -> Path:
        raise RuntimeError("dbt parse exited 2")

    with pytest.raises(RuntimeError, match="exited 2"):
        made_once(tmp_path / "p", broken)
    with pytest.raises(MadeElsewhereFailed, match="RuntimeError: dbt parse exited 2"):
        made_once(tmp_path / "p", broken)
