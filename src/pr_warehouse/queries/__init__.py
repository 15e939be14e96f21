"""The GraphQL documents the project sends, kept apart from transport.

Each operation lives in its own ``.graphql`` file; fragments it spreads are appended from
the files that define them, so the text sent is always a complete document.

>>> doc = load_query("repository_pull_requests")
>>> "fragment PullRequestFields on PullRequest" in doc
True
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from graphql import FragmentDefinitionNode, FragmentSpreadNode, parse, visit
from graphql.language import Visitor

QUERY_DIR = Path(__file__).parent


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.append(node.name.value)


def _spreads(text: str) -> list[str]:
    visitor = _Spreads()
    visit(parse(text, no_location=True), visitor)
    return visitor.names


@lru_cache(maxsize=1)
def _fragments() -> dict[str, str]:
    """Map each fragment name to its definition's text, from every ``.graphql`` file."""
    found: dict[str, str] = {}
    for path in sorted(QUERY_DIR.glob("*.graphql")):
        text = path.read_text()
        for definition in parse(text).definitions:
            if isinstance(definition, FragmentDefinitionNode) and definition.loc:
                found[definition.name.value] = text[definition.loc.start : definition.loc.end]
    return found


def query_names() -> list[str]:
    """Names of the operation files (those that define no fragment)."""
    return sorted(
        p.stem
        for p in QUERY_DIR.glob("*.graphql")
        if not any(isinstance(d, FragmentDefinitionNode) for d in parse(p.read_text()).definitions)
    )


@lru_cache(maxsize=256)
def with_fragments(text: str) -> str:
    """Append the definitions of the fragments ``text`` spreads (transitively), each once.

    Cached: the builders ask again for the same few texts (a full batch's checks query
    takes ~0.06 s to walk), and the fragment files do not change while the process runs.

    >>> doc = with_fragments("query { viewer { ...ActorFields } }")
    >>> "fragment ActorFields" in doc and "fragment PullRequestFields" not in doc
    True
    """
    index = _fragments()
    needed: list[str] = []
    pending = [text]
    while pending:
        for name in _spreads(pending.pop()):
            if name in index and name not in needed:
                needed.append(name)
                pending.append(index[name])
    return "\n\n".join([text, *(index[name] for name in needed)])


@lru_cache(maxsize=None)
def load_query(name: str) -> str:
    """The full document for operation file ``<name>.graphql``."""
    return with_fragments((QUERY_DIR / f"{name}.graphql").read_text())
