"""One dbt parse per test session, which every later dbt run starts from.

Each test builds a fresh warehouse, and dbt parses the whole project on its first run in
a new target folder (~6 s, more on a busy machine). Every dbt run the tests start reads
this parse instead (dbt's ``DBT_PARTIAL_PARSE_FILE_PATH``), as a warehouse's daily run
reads its own: dbt checks it the same way, so a changed file, var or profile is parsed
again. That works across warehouses because the product runs dbt in the warehouse's
folder with the file named relative to it (``transform/dbt.py``).

The xdist workers share it (:func:`made_once`): the first to need it parses, the others
wait for its file. dbt only reads the file it is given; it writes its own parse into the
run's target folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

PARTIAL_PARSE_ENV = "DBT_PARTIAL_PARSE_FILE_PATH"
# How long a worker waits for another's parse (a full parse takes ~6 s on an idle machine).
WAIT_SECONDS = 600.0


def parse_once(folder: Path) -> Path:
    """Parse the project for a warehouse in ``folder`` named as the product names it by
    default, with the product's default vars; return dbt's ``partial_parse.msgpack``."""
    from pr_warehouse.config import Settings, deploy_vars
    from pr_warehouse.transform.dbt import run_dbt, target_dir

    default_name = Settings.from_env({}).duckdb_path.name
    settings = Settings.from_env({**os.environ, "PR_WAREHOUSE_DUCKDB": str(folder / default_name)})
    run_dbt(settings, ["parse"], deploy_vars(settings))
    parsed = target_dir(settings) / "partial_parse.msgpack"
    assert parsed.is_file(), f"dbt parse wrote no {parsed}"
    return parsed


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
