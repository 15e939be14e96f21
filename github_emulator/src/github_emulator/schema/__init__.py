"""GitHub's published GraphQL schema, loaded once per process.

>>> schema = load_schema()
>>> "PullRequest" in schema.type_map
True
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from graphql import GraphQLSchema, build_schema

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
SCHEMA_SHA256 = "3c62d0526d133cee53221c89de9b455ade24db78b9e7ad56d642c4c15bce2654"


def schema_sdl() -> str:
    """The vendored SDL text, checked against its recorded sha256."""
    raw = SCHEMA_PATH.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SCHEMA_SHA256:
        raise RuntimeError(f"{SCHEMA_PATH} was modified (sha256 {digest}); see SOURCE.md")
    return raw.decode("utf-8")


@lru_cache(maxsize=1)
def load_schema() -> GraphQLSchema:
    """Build the schema; see SOURCE.md for why both validity checks are skipped."""
    return build_schema(schema_sdl(), assume_valid_sdl=True, assume_valid=True)
