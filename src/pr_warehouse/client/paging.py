"""Adaptive page size: halve after GitHub gives up on a page, grow back after successes.

GitHub stops queries that run over 10 s (502/504, "Something went wrong") and its advice is
smaller pages. The client shrinks *before* retrying, so the retried request itself is
smaller, and grows back toward the requested size once pages pass again.

>>> sizes = AdaptivePageSize(100, floor=5, grow_after=2)
>>> sizes.shrink(), sizes.shrink()
(50, 25)
>>> sizes.success(); sizes.success(); sizes.current
50
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pr_warehouse.client.models import ClientSettings


class AdaptivePageSize:
    """The ``first:`` value to send next. Pure state, no I/O.

    ``current`` starts at ``requested``; ``shrink()`` halves it (never below ``floor``, nor
    below 1); ``success()`` doubles it after ``grow_after`` clean answers in a row, never
    above ``requested``.
    """

    def __init__(self, requested: int, floor: int = 5, grow_after: int = 3) -> None:
        if requested < 1:
            raise ValueError(f"requested page size must be >= 1, got {requested}")
        if grow_after < 1:
            raise ValueError(f"grow_after must be >= 1, got {grow_after}")
        self.requested = requested
        self.floor = max(1, floor)
        self.grow_after = grow_after
        self.current = requested
        self._streak = 0

    @classmethod
    def from_settings(cls, requested: int, settings: ClientSettings) -> AdaptivePageSize:
        """Use the client's ``min_page_size`` and ``grow_after``.

        >>> from pr_warehouse.client.models import ClientSettings
        >>> AdaptivePageSize.from_settings(50, ClientSettings(min_page_size=10)).floor
        10
        """
        return cls(requested, floor=settings.min_page_size, grow_after=settings.grow_after)

    def shrink(self) -> int:
        """Halve ``current`` (not below the floor, nor below 1) and return the new size.

        A size already at or under the floor stays as it is.
        """
        self._streak = 0
        self.current = max(self.current // 2, min(self.floor, self.current), 1)
        return self.current

    def success(self) -> None:
        """Count a clean answer; after ``grow_after`` in a row, double toward ``requested``."""
        if self.current >= self.requested:
            self._streak = 0
            return
        self._streak += 1
        if self._streak >= self.grow_after:
            self.current = min(self.requested, self.current * 2)
            self._streak = 0

    def __repr__(self) -> str:
        return (
            f"AdaptivePageSize(current={self.current}, requested={self.requested}, "
            f"floor={self.floor}, grow_after={self.grow_after})"
        )
