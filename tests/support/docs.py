"""The warehouse docs, generated once per test session and handed to every fresh warehouse.

The product keeps docs made from the same dbt project and vars (their fingerprint,
``transform/dbt.py``), since they describe models and columns, not rows; so a fresh
warehouse started with a copy skips ``dbt docs generate`` (~3 s a run) as a daily run
does, and one with other vars or another project makes its own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pr_warehouse.config import Settings
from pr_warehouse.transform.dbt import docs_path


@contextmanager
def docs_shared(settings: Settings, cache: Path) -> Iterator[None]:
    """Around a run of the warehouse of ``settings``: its docs folder (where the transform
    writes them) starts from the session's ``cache``, and a run that generated docs fills
    it (:func:`share_docs`, before and after)."""
    docs = docs_path(settings).parent
    share_docs(docs, cache)
    yield
    share_docs(docs, cache)


def share_docs(docs: Path, cache: Path) -> None:
    """Before a warehouse's first run: start its docs folder from the session's ``cache``;
    after a run that generated docs: fill the cache from them, if it is still empty.

    The cache is filled by a rename (a folder renamed onto an existing one fails), so a
    worker never copies half of another's.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> first, second, cache = root / "a" / "docs", root / "b" / "docs", root / "cache"
    >>> first.mkdir(parents=True); _ = (first / "index.html").write_text("docs")
    >>> share_docs(first, cache)  # after the first run: fills the cache
    >>> share_docs(second, cache)  # before a new warehouse's run: starts from it
    >>> (second / "index.html").read_text()
    'docs'
    """
    if cache.is_dir() and not docs.exists():
        shutil.copytree(cache, docs)
    elif docs.is_dir() and any(docs.iterdir()) and not cache.exists():
        partial = cache.with_name(f"{cache.name}.{os.getpid()}.partial")
        shutil.copytree(docs, partial)
        try:
            partial.rename(cache)
        except OSError:  # another worker filled it first
            shutil.rmtree(partial, ignore_errors=True)
