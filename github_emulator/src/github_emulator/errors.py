"""GitHub's error shapes and messages.

GitHub runs graphql-ruby, so its static-validation errors read differently from
graphql-core's; the common ones are translated here (message, ``extensions.code`` and
a ``path`` that starts with the operation, e.g. ``["query Op", "repository", "foo"]``).
Execution errors carry GitHub's ``type`` (``NOT_FOUND``, ``EXCESSIVE_PAGINATION``...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
)

DOCS_URL = "https://docs.github.com/graphql"
SECONDARY_DOCS_URL = (
    "https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api"
    "#secondary-rate-limits"
)
BAD_CREDENTIALS: dict[str, Any] = {"message": "Bad credentials", "documentation_url": DOCS_URL}


def something_went_wrong(request_id: str) -> str:
    """GitHub's message when a query failed server-side (often its 10 s timeout)."""
    return (
        "Something went wrong while executing your query. This may be the result of a "
        f"timeout, or it could be a GitHub bug. Please include `{request_id}` when "
        "reporting this issue."
    )


def secondary_limit_message(request_id: str) -> str:
    return (
        "You have exceeded a secondary rate limit. Please wait a few minutes before you "
        "try again. If you reach out to GitHub Support for help, please include the "
        f"request ID {request_id}."
    )


def primary_limit_message(user_id: int) -> str:
    return f"API rate limit exceeded for user ID {user_id}."


class GitHubFieldError(Exception):
    """Raised by a resolver: becomes an ``errors`` entry with GitHub's ``type``."""

    def __init__(self, type_: str, message: str) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message


def pagination_error(
    connection: str, first: int | None, last: int | None, limit: int
) -> GitHubFieldError | None:
    """The error GitHub raises for a connection's ``first``/``last``, or ``None``.

    ``has_items``-independent: callers only ask when ``nodes``/``edges`` are selected or
    a boundary was passed (GitHub allows ``issues { totalCount }`` with no boundary).

    >>> pagination_error("labels", 101, None, 100).message
    'Requesting 101 records on the `labels` connection exceeds the `first` limit of 100 records.'
    >>> pagination_error("labels", None, None, 100).type
    'MISSING_PAGINATION_BOUNDARIES'
    """
    if first is None and last is None:
        return GitHubFieldError(
            "MISSING_PAGINATION_BOUNDARIES",
            "You must provide a `first` or `last` value to properly paginate the "
            f"`{connection}` connection.",
        )
    for name, value in (("first", first), ("last", last)):
        if value is None:
            continue
        if value > limit:
            return GitHubFieldError(
                "EXCESSIVE_PAGINATION",
                f"Requesting {value} records on the `{connection}` connection exceeds the "
                f"`{name}` limit of {limit} records.",
            )
        if value < 1:
            # GitHub documents 1..100; 0 and negatives are refused rather than guessed at.
            return GitHubFieldError(
                "EXCESSIVE_PAGINATION",
                f"`{name}` on the `{connection}` connection must be between 1 and {limit}, "
                f"got {value}.",
            )
    return None


def format_locations(error: GraphQLError) -> list[dict[str, int]]:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]


def format_execution_error(error: GraphQLError) -> dict[str, Any]:
    """An execution error in GitHub's key order: type, path, locations, message."""
    out: dict[str, Any] = {}
    original = error.original_error
    if isinstance(original, GitHubFieldError):
        out["type"] = original.type
    out["path"] = list(error.path or ())
    out["locations"] = format_locations(error)
    out["message"] = original.message if isinstance(original, GitHubFieldError) else error.message
    return out


# --- static validation: graphql-core message -> graphql-ruby message + extensions -------

_TRANSLATIONS: Sequence[tuple[re.Pattern[str], Any]] = (
    (
        re.compile(r"^Cannot query field '(\w+)' on type '(\w+)'\."),
        lambda m: (
            f"Field '{m[1]}' doesn't exist on type '{m[2]}'",
            {"code": "undefinedField", "typeName": m[2], "fieldName": m[1]},
        ),
    ),
    (
        re.compile(r"^Unknown argument '(\w+)' on field '\w+\.(\w+)'\."),
        lambda m: (
            f"Field '{m[2]}' doesn't accept argument '{m[1]}'",
            {"code": "argumentNotAccepted", "name": m[2], "typeName": "Field",
             "argumentName": m[1]},
        ),
    ),
    (
        re.compile(r"^Argument '\w+\.(\w+)\((\w+):\)' of type '.*' is required, but it was not"
                   r" provided\."),
        lambda m: (
            f"Field '{m[1]}' is missing required arguments: {m[2]}",
            {"code": "missingRequiredArguments", "className": "Field", "name": m[1],
             "arguments": m[2]},
        ),
    ),
    (  # the graphql-core 3.2 wording of the same rule
        re.compile(r"^Field '(\w+)' argument '(\w+)' of type '.*' is required, but it was not"
                   r" provided\."),
        lambda m: (
            f"Field '{m[1]}' is missing required arguments: {m[2]}",
            {"code": "missingRequiredArguments", "className": "Field", "name": m[1],
             "arguments": m[2]},
        ),
    ),
    (
        re.compile(r"^Variable '\$(\w+)' is never used(?: in operation '(\w+)')?\."),
        lambda m: (
            f"Variable ${m[1]} is declared by {m[2] or 'anonymous query'} but not used",
            {"code": "variableNotUsed", "variableName": m[1]},
        ),
    ),
    (
        re.compile(r"^Variable '\$(\w+)' is not defined(?: by operation '(\w+)')?\."),
        lambda m: (
            f"Variable ${m[1]} is used by {m[2] or 'anonymous query'} but not declared",
            {"code": "variableNotDefined", "variableName": m[1]},
        ),
    ),
    (
        re.compile(r"^Field '(\w+)' of type '([^']+)' must have a selection of subfields\."),
        lambda m: (
            f"Field must have selections (field '{m[1]}' returns {m[2].strip('[]!')} but has no "
            f"selections. Did you mean '{m[1]} {{ ... }}'?)",
            {"code": "selectionMismatch", "nodeName": f"field '{m[1]}'",
             "typeName": m[2].strip("[]!")},
        ),
    ),
    (
        re.compile(r"^Unknown fragment '(\w+)'\."),
        lambda m: (
            f"Fragment {m[1]} was used, but not defined",
            {"code": "useAndDefineFragment", "fragmentName": m[1]},
        ),
    ),
)


def _path_index(document: DocumentNode) -> dict[int, list[str]]:
    """Map id(AST node) -> graphql-ruby style path, for fields, arguments, fragments."""
    index: dict[int, list[str]] = {}

    def walk_selections(selection_set: SelectionSetNode | None, path: list[str]) -> None:
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                here = [*path, (sel.alias or sel.name).value]
                index[id(sel)] = here
                for arg in sel.arguments or ():
                    index[id(arg)] = [*here, arg.name.value]
                walk_selections(sel.selection_set, here)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition.name.value if sel.type_condition else ""
                here = [*path, f"... on {cond}" if cond else "..."]
                index[id(sel)] = here
                walk_selections(sel.selection_set, here)
            elif isinstance(sel, FragmentSpreadNode):
                index[id(sel)] = [*path, f"... {sel.name.value}"]

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            op = definition.operation.value
            root = f"{op} {definition.name.value}" if definition.name else op
            index[id(definition)] = [root]
            walk_selections(definition.selection_set, [root])
        elif isinstance(definition, FragmentDefinitionNode):
            root = f"fragment {definition.name.value}"
            index[id(definition)] = [root]
            walk_selections(definition.selection_set, [root])
    return index


def format_validation_errors(
    errors: Sequence[GraphQLError], document: DocumentNode | None
) -> list[dict[str, Any]]:
    """Static-validation errors in GitHub's shape (path, extensions, locations, message)."""
    index = _path_index(document) if document is not None else {}
    out = []
    for error in errors:
        message, extensions = error.message, None
        for pattern, build in _TRANSLATIONS:
            match = pattern.match(error.message)
            if match:
                message, extensions = build(match)
                break
        entry: dict[str, Any] = {}
        node: Node | None = (error.nodes or [None])[-1]
        if isinstance(node, ArgumentNode) and error.nodes and len(error.nodes) > 1:
            node = error.nodes[0]
        path = index.get(id(node)) if node is not None else None
        if path is not None:
            entry["path"] = path
        if extensions is not None:
            entry["extensions"] = extensions
        entry["locations"] = format_locations(error)
        entry["message"] = message
        out.append(entry)
    return out


def format_parse_error(error: GraphQLError) -> dict[str, Any]:
    """graphql-ruby says ``Parse error on "x" (TOKEN) at [line, col]``; the token naming
    differs, so keep graphql-core's description inside GitHub's frame."""
    loc = (error.locations or [None])[0]
    where = f" at [{loc.line}, {loc.column}]" if loc else ""
    description = error.message.removeprefix("Syntax Error: ")
    return {"message": f"Parse error on {description}{where}", "locations": format_locations(error)}


_VARIABLE = re.compile(r"^Variable '\$(\w+)' (.*)$", re.S)


def format_variable_errors(
    errors: Sequence[GraphQLError], provided: Mapping[str, Any], types: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Variable coercion errors, GitHub-style: "Variable $x of type T was provided
    invalid value" with the value and the problem in ``extensions``. ``types`` maps each
    declared variable to its type as written (``Int!``)."""
    out = []
    for error in errors:
        match = _VARIABLE.match(error.message)
        if not match:
            out.append({"locations": format_locations(error), "message": error.message})
            continue
        name, rest = match[1], match[2].strip().rstrip(".")
        if "non-null" in rest or "was not provided" in rest:
            explanation = "Expected value to not be null"
        else:
            explanation = rest.split(": ", 1)[-1]
        out.append(
            {
                "extensions": {
                    "value": provided.get(name),
                    "problems": [{"path": [], "explanation": explanation}],
                },
                "locations": format_locations(error),
                "message": (
                    f"Variable ${name} of type {types.get(name, 'unknown')} was provided "
                    "invalid value"
                ),
            }
        )
    return out
