"""``AdaptivePageSize``: halve on trouble, grow back after successes, within bounds."""

from __future__ import annotations

import pytest

from pr_warehouse.client import AdaptivePageSize, ClientSettings


def test_starts_at_requested() -> None:
    assert AdaptivePageSize(100).current == 100


def test_shrink_halves_down_to_the_floor() -> None:
    sizes = AdaptivePageSize(100, floor=5)
    assert [sizes.shrink() for _ in range(6)] == [50, 25, 12, 6, 5, 5]


def test_shrink_never_below_one() -> None:
    sizes = AdaptivePageSize(3, floor=0)
    assert [sizes.shrink() for _ in range(3)] == [1, 1, 1]


def test_requested_below_floor_stays_put() -> None:
    sizes = AdaptivePageSize(3, floor=5)
    assert sizes.shrink() == 3


def test_grows_back_after_successes_in_a_row() -> None:
    sizes = AdaptivePageSize(100, floor=5, grow_after=3)
    sizes.shrink(), sizes.shrink()  # 25
    sizes.success(), sizes.success()
    assert sizes.current == 25
    sizes.success()
    assert sizes.current == 50
    for _ in range(3):
        sizes.success()
    assert sizes.current == 100
    for _ in range(6):
        sizes.success()
    assert sizes.current == 100  # never above requested


def test_growth_is_capped_at_requested() -> None:
    sizes = AdaptivePageSize(30, floor=5, grow_after=1)
    sizes.shrink()  # 15
    sizes.shrink()  # 7
    sizes.success()
    sizes.success()
    assert sizes.current == 28
    sizes.success()
    assert sizes.current == 30


def test_a_shrink_resets_the_streak() -> None:
    sizes = AdaptivePageSize(100, grow_after=3)
    sizes.shrink()  # 50
    sizes.success(), sizes.success()
    sizes.shrink()  # 25, streak reset
    sizes.success(), sizes.success()
    assert sizes.current == 25
    sizes.success()
    assert sizes.current == 50


def test_from_settings() -> None:
    sizes = AdaptivePageSize.from_settings(80, ClientSettings(min_page_size=20, grow_after=2))
    assert (sizes.floor, sizes.grow_after) == (20, 2)
    assert [sizes.shrink() for _ in range(3)] == [40, 20, 20]


@pytest.mark.parametrize(("requested", "grow_after"), [(0, 3), (-1, 3), (10, 0)])
def test_rejects_nonsense(requested: int, grow_after: int) -> None:
    with pytest.raises(ValueError):
        AdaptivePageSize(requested, grow_after=grow_after)
