"""Something the xdist workers of one test session share, made by the first that needs it.

``made_once`` makes the session's dbt parse (tests/support/dbt_parse.py) and its migrated
Airflow metadata DB (tests/conftest.py): each costs seconds of CPU, and every worker would
otherwise make its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

# How long a worker waits for another's result (a full dbt parse takes ~6 s on an idle
# machine, more on a busy one).
WAIT_SECONDS = 600.0


class MadeElsewhereFailed(RuntimeError):
    """The worker that was making a shared file failed; its error is in the message."""


def made_once(folder: Path, make: Callable[[Path], Path], *,
              timeout: float = WAIT_SECONDS, poll: float = 0.2) -> Path:
    """``make(folder)``'s result, made by the first process to get here; the others wait
    for it. ``folder`` is the claim: creating a directory is atomic, so one process wins.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> def make(folder):
    ...     (folder / "made").write_text("x")
    ...     return folder / "made"
    >>> first = made_once(root / "thing", make)
    >>> made_once(root / "thing", lambda folder: 1 / 0) == first  # made already: not again
    True
    """
    done = folder.with_name(folder.name + ".done")
    failed = folder.with_name(folder.name + ".failed")
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        deadline = time.monotonic() + timeout
        while not done.exists():
            if failed.exists():
                raise MadeElsewhereFailed(f"{folder}: {failed.read_text()}") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"{folder} was not made within {timeout:.0f}s") from None
            time.sleep(poll)
        return Path(done.read_text())
    try:
        made = make(folder)
    except BaseException as exc:
        failed.write_text(f"{type(exc).__name__}: {exc}")
        raise
    # Renamed into place: a waiting worker never reads half a path.
    partial = done.with_suffix(".partial")
    partial.write_text(str(made))
    partial.replace(done)
    return made
