"""The GraphQL documents the project sends, kept apart from transport.

Each operation lives in its own ``.graphql`` file; fragments it spreads are appended from
the files that define them, so the text sent is always a complete document.

>>> doc = load_query("repository_pull_requests")
>>> "fragment PullRequestFields on PullRequest" in doc
True
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

QUERY_DIR = Path(__file__).parent
_FRAGMENT_DEF = re.compile(r"^fragment\s+(\w+)\s+on\s", re.M)
_FRAGMENT_SPREAD = re.compile(r"\.\.\.\s*([_A-Za-z]\w*)")


@lru_cache(maxsize=1)
def _fragments() -> dict[str, str]:
    """Map each fragment name to the file text that defines it."""
    found: dict[str, str] = {}
    for path in sorted(QUERY_DIR.glob("*.graphql")):
        text = path.read_text()
        for name in _FRAGMENT_DEF.findall(text):
            found[name] = path.name
    return found


def query_names() -> list[str]:
    """Names of the operation files (those that define no fragment)."""
    return sorted(
        p.stem for p in QUERY_DIR.glob("*.graphql") if not _FRAGMENT_DEF.search(p.read_text())
    )


def with_fragments(text: str) -> str:
    """Append the fragment files ``text`` spreads (transitively), each once.

    >>> "fragment ActorFields" in with_fragments("query { viewer { ...ActorFields } }")
    True
    """
    index = _fragments()
    files: list[str] = []
    pending = [text]
    while pending:
        for name in _FRAGMENT_SPREAD.findall(pending.pop()):
            if name in ("on",) or name not in index:
                continue
            file = index[name]
            if file not in files:
                files.append(file)
                pending.append((QUERY_DIR / file).read_text())
    return "\n".join([text, *((QUERY_DIR / f).read_text() for f in files)])


@lru_cache(maxsize=None)
def load_query(name: str) -> str:
    """The full document for operation file ``<name>.graphql``."""
    return with_fragments((QUERY_DIR / f"{name}.graphql").read_text())
