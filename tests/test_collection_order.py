"""``make test`` hands whole modules to its workers in collection order
(``--dist loadfile --no-loadscope-reorder``); tests/conftest.py orders the collection so
that modules starting Airflow's services go first, then those with slow tests, and a run
ends on quick ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REST, ROOT, SERVICES, module_of, module_ranks


def test_modules_with_slow_tests_come_first_each_one_whole(request: pytest.FixtureRequest) -> None:
    items = request.session.items
    modules = [module_of(item) for item in items]
    order = list(dict.fromkeys(modules))
    # Whole modules: a module's tests are never split by another's.
    assert [m for i, m in enumerate(modules) if i == 0 or modules[i - 1] != m] == order
    ranks = module_ranks(items)
    assert [ranks[m] for m in order] == sorted(ranks[m] for m in order)
    # This module has no slow test: whatever else was collected with a slow one is before it.
    here = Path(__file__).relative_to(ROOT).as_posix()
    assert ranks[here] == REST
    assert all(order.index(m) < order.index(here) for m, rank in ranks.items() if rank < REST)
    # The modules that start Airflow's services lead (when collected).
    services = [m for m in order if ranks[m] == SERVICES]
    assert order[:len(services)] == services


def test_make_test_keeps_the_collection_order() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--dist loadfile --no-loadscope-reorder" in makefile
