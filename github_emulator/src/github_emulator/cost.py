"""GitHub's query cost and node count, computed statically from the query's AST.

GitHub's rule (rate-limit docs): add up the requests needed to fill every connection,
assuming each ``first``/``last`` is filled; divide by 100 and round; minimum 1. A
connection is requested once per parent item, so a connection nested in another one
costs as many requests as the parent can return. The node count (max 500,000) is the
sum, over connections, of the items they can return.

>>> from github_emulator.schema import load_schema
>>> from graphql import parse
>>> doc = parse('''{ viewer { repositories(first: 100) { nodes {
...   issues(first: 50) { nodes { labels(first: 60) { nodes { name } } } } } } } }''')
>>> c = query_cost(load_schema(), doc)
>>> (c.requests, c.points, c.nodes)
(5101, 51, 305100)

``nodes(ids:)`` multiplies what it holds by the number of ids, like that many aliased
``node(id:)`` fields (GitHub does not publish its rule for it; this never under-charges).

Everything here is pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)

MAX_NODES = 500_000


@dataclass(frozen=True)
class QueryCost:
    """``requests``: connection fetches GitHub would plan; ``nodes``: possible nodes."""

    requests: int
    nodes: int

    @property
    def points(self) -> int:
        """Rate-limit points: requests / 100, rounded half up, at least 1."""
        return points_for(self.requests)


def points_for(requests: int) -> int:
    """Points for a number of planned requests.

    >>> [points_for(n) for n in (0, 1, 149, 150, 501, 5101)]
    [1, 1, 1, 2, 5, 51]
    """
    # Integer half-up rounding: Python's round() is banker's rounding, GitHub's is not.
    return max(1, (requests + 50) // 100)


def is_connection_field(field_def: GraphQLField) -> bool:
    """GitHub's paginated fields: they take ``first`` and return a ``...Connection``."""
    return "first" in field_def.args and get_named_type(field_def.type).name.endswith("Connection")


def node_limit_message(nodes: int, limit: int = MAX_NODES) -> str:
    """GitHub's MAX_NODE_LIMIT_EXCEEDED message.

    >>> node_limit_message(1000000)
    'This query requests up to 1,000,000 possible nodes which exceeds the maximum limit of 500,000.'
    """
    return (
        f"This query requests up to {nodes:,} possible nodes which exceeds the maximum "
        f"limit of {limit:,}."
    )


def select_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation to run: the named one, or the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        return next((o for o in operations if o.name and o.name.value == operation_name), None)
    return operations[0] if len(operations) == 1 else None


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> QueryCost:
    """Cost of the selected operation of a *validated* document.

    ``variables`` are the request's values; missing ones fall back to the operation's
    defaults. A connection without ``first``/``last`` (allowed by GitHub when only
    ``totalCount`` is read) counts one request and no nodes.
    """
    operation = select_operation(document, operation_name)
    if operation is None:
        return QueryCost(0, 0)
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if variables and name in variables:
            values[name] = variables[name]
        elif definition.default_value is not None:
            values[name] = _literal(definition.default_value, {})
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }[operation.operation.value]
    totals = [0, 0]
    if root is not None:
        _walk(schema, operation.selection_set, root, 1, values, fragments, totals)
    return QueryCost(totals[0], totals[1])


def _literal(node: ValueNode, variables: Mapping[str, Any]) -> Any:
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, BooleanValueNode):
        return node.value
    return None


def _included(
    node: FieldNode | InlineFragmentNode | FragmentSpreadNode, variables: Mapping[str, Any]
) -> bool:
    """Honour ``@skip``/``@include``."""
    for directive in node.directives or ():
        arg = next((a for a in directive.arguments or () if a.name.value == "if"), None)
        value = bool(_literal(arg.value, variables)) if arg is not None else True
        if directive.name.value == "skip" and value:
            return False
        if directive.name.value == "include" and not value:
            return False
    return True


def page_size(field: FieldNode, variables: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """The ``(first, last)`` arguments of a field node, variables resolved."""
    first = last = None
    for arg in field.arguments or ():
        if arg.name.value == "first":
            first = _literal(arg.value, variables)
        elif arg.name.value == "last":
            last = _literal(arg.value, variables)
    return first, last


def _ids_argument(field: FieldNode, field_def: GraphQLField,
                  variables: Mapping[str, Any]) -> int | None:
    """How many ids a ``nodes(ids:)``-style field asks for (None: not such a field)."""
    if "ids" not in field_def.args:
        return None
    arg = next((a for a in field.arguments or () if a.name.value == "ids"), None)
    if arg is None:
        return None
    if isinstance(arg.value, ListValueNode):
        return len(arg.value.values)
    if isinstance(arg.value, VariableNode):
        value = variables.get(arg.value.name.value)
        return len(value) if isinstance(value, (list, tuple)) else 1
    return 1


def _walk(
    schema: GraphQLSchema,
    selection_set: SelectionSetNode,
    parent: GraphQLNamedType,
    multiplier: int,
    variables: Mapping[str, Any],
    fragments: Mapping[str, FragmentDefinitionNode],
    totals: list[int],
) -> None:
    # Fields are not merged across fragments: a field selected twice is counted twice,
    # which can only over-estimate (GitHub's own planner is not published).
    for selection in selection_set.selections:
        if not _included(selection, variables):  # type: ignore[arg-type]
            continue
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            has_fields = isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType))
            fields = parent.fields if has_fields else {}  # type: ignore[union-attr]
            field_def = fields.get(selection.name.value)
            if field_def is None:
                continue
            child_multiplier = multiplier
            ids = _ids_argument(selection, field_def, variables)
            if ids is not None:
                # nodes(ids: [...]) answers one object per id, each filling its own nested
                # connections: as many parents as aliased node(id:) fields would be.
                child_multiplier = multiplier * ids
            if is_connection_field(field_def):
                first, last = page_size(selection, variables)
                size = max(0, first if first is not None else last if last is not None else 0)
                totals[0] += multiplier
                totals[1] += multiplier * size
                child_multiplier = multiplier * size
            if selection.selection_set is not None:
                _walk(schema, selection.selection_set, get_named_type(field_def.type),
                      child_multiplier, variables, fragments, totals)
        elif isinstance(selection, InlineFragmentNode):
            target = parent
            if selection.type_condition is not None:
                target = schema.get_type(selection.type_condition.name.value) or parent
            _walk(schema, selection.selection_set, target, multiplier, variables, fragments, totals)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                target = schema.get_type(fragment.type_condition.name.value) or parent
                _walk(schema, fragment.selection_set, target, multiplier, variables, fragments,
                      totals)
