"""A compiled, synchronous executor for validated queries: graphql-core's answers, faster.

graphql-core's executor is general (async, ``@defer``/``@stream``, middleware) and pays
for it on every field: a resolve-info object, a path object, argument coercion and a chain
of type checks, ~20 µs a field. A 50-PR listing page of the product's query has ~2,600
fields, and on the 2 cores of the benchmarks and CI the emulator's CPU is taken from the
client it serves. This executor does what graphql-core does for the emulator's
synchronous resolvers, with the per-document work done once:

- the fields each selection set collects for a runtime type (fragments, inline
  fragments, ``@skip``/``@include``) are computed once per document, operation and value
  of the variables those directives read;
- a field's arguments are coerced once when they name no variable;
- one resolve-info per field and request, not one per field and object;
- a completer per field's type, chosen once (leaf, list, object, abstract, non-null).

Errors follow graphql-core: a resolver's exception is located at the field's path, the
field becomes ``null`` and the error is collected, unless the field is non-null, and then
the nearest nullable parent becomes ``null``. What this executor leaves alone
(introspection fields other than ``__typename``, directives other than ``@skip`` and
``@include``, a type resolver naming an impossible type, ``is_type_of``) raises
:class:`Unsupported` and the caller runs graphql-core instead. ``tests/emulator`` runs the
product's queries and the error cases through both and compares the answers.

>>> from graphql import parse
>>> from github_emulator.schema import load_schema
>>> result = execute_compiled(load_schema(), parse("{ viewer { login } }"),
...                           {"viewer": {"login": "octocat"}}, None, {}, None)
>>> result.data
{'viewer': {'login': 'octocat'}}
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from threading import Lock
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLString,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    default_field_resolver,
    is_abstract_type,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
    located_error,
    type_from_ast,
)
from graphql.execution.values import get_argument_values, get_directive_values, get_variable_values
from graphql.language import Visitor, visit
from graphql.pyutils import inspect, is_iterable

Resolver = Callable[..., Any]
TypeResolver = Callable[[Any, GraphQLResolveInfo, GraphQLAbstractType], Any]
# A path is built only to be reported: (parent path, key) pairs, turned into a list when
# an error needs one.
PathPair = tuple[Any, str | int] | None
Completer = Callable[["_Run", Any, PathPair, GraphQLResolveInfo], Any]

# Compiled documents kept (the product sends a few documents over and over; the checks
# batches differ in their aliases and compile per text, as graphql-core's collection does).
_CACHE_SIZE = 256
_SAME_AS_STRING = (GraphQLString, GraphQLID)  # their output coercion returns a str as is


class Unsupported(Exception):
    """The query needs something only graphql-core's executor does: run that instead."""


def execute_compiled(
    schema: GraphQLSchema,
    document: DocumentNode,
    root_value: Any,
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    *,
    field_resolver: Resolver | None = None,
    type_resolver: TypeResolver | None = None,
) -> ExecutionResult:
    """Execute a query already validated against ``schema``, as graphql-core would.

    Raises :class:`Unsupported` (before or during execution; resolvers must be free of
    side effects that matter, since the caller then executes again) for what it leaves
    to graphql-core, and ``ValueError`` for a document that names no single operation or
    variables that do not coerce (the server answers those before executing).
    """
    operation = _operation(document, operation_name)
    if operation.operation is not OperationType.QUERY:
        raise Unsupported(f"a {operation.operation.value}")
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        raise ValueError(f"variables do not coerce: {coerced[0].message}")
    compiled = _compiled(schema, document, operation, coerced,
                         field_resolver or default_field_resolver, type_resolver)
    run = _Run(compiled, root_value, context, coerced)
    assert schema.query_type is not None
    try:
        data: dict[str, Any] | None = run.fields(
            compiled.plan(schema.query_type, (operation.selection_set,)), root_value, None)
    except GraphQLError as error:  # a non-null root field failed: no data at all
        run.errors.append(error)
        data = None
    return ExecutionResult(data, run.errors or None)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == name]
    if len(operations) != 1:
        raise ValueError(f"no single operation named {name!r} in the document")
    return operations[0]


# --- compiling ---------------------------------------------------------------------------


class _FieldPlan:
    """One response key of a selection set, for one runtime type."""

    __slots__ = ("args", "complete", "field_def", "key", "name", "nodes", "non_null",
                 "parent_type", "resolve", "typename")

    def __init__(self, key: str, nodes: list[FieldNode], parent_type: GraphQLObjectType,
                 field_def: GraphQLField | None) -> None:
        self.key = key
        self.nodes = nodes
        self.name = nodes[0].name.value
        self.parent_type = parent_type
        self.field_def = field_def
        # __typename is answered from the plan: it is the parent's name, always.
        self.typename: str | None = parent_type.name if field_def is None else None
        self.non_null = field_def is not None and is_non_null_type(field_def.type)
        self.args: dict[str, Any] | None = None  # coerced once, when no variable is read
        self.resolve: Resolver = default_field_resolver
        self.complete: Completer = _identity


def _identity(_run: _Run, value: Any, _path: PathPair, _info: GraphQLResolveInfo) -> Any:
    return value


class _Compiled:
    """A document's operation, with its selection sets collected lazily, once each."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 operation: OperationDefinitionNode, directive_values: Any,
                 field_resolver: Resolver, type_resolver: TypeResolver | None) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}
        self.directive_values = directive_values
        self.field_resolver = field_resolver
        self.type_resolver = type_resolver
        self._plans: dict[tuple[str, tuple[int, ...]], list[_FieldPlan]] = {}
        self._lock = Lock()  # the server's handler threads share compiled documents

    def plan(self, runtime_type: GraphQLObjectType,
             selection_sets: Sequence[SelectionSetNode]) -> list[_FieldPlan]:
        key = (runtime_type.name, tuple(map(id, selection_sets)))
        plans = self._plans.get(key)
        if plans is None:
            with self._lock:
                plans = self._plans.get(key)
                if plans is None:
                    plans = self._plans[key] = self._build(runtime_type, selection_sets)
        return plans

    def _build(self, runtime_type: GraphQLObjectType,
               selection_sets: Sequence[SelectionSetNode]) -> list[_FieldPlan]:
        plans = []
        for key, nodes in self._collect(runtime_type, selection_sets).items():
            name = nodes[0].name.value
            if name == "__typename":
                plans.append(_FieldPlan(key, nodes, runtime_type, None))
                continue
            if name.startswith("__"):
                raise Unsupported(f"introspection field {name}")
            field_def = runtime_type.fields.get(name)
            if field_def is None:
                continue  # graphql-core leaves an unknown field out (validation forbids it)
            plan = _FieldPlan(key, nodes, runtime_type, field_def)
            plan.resolve = field_def.resolve or self.field_resolver
            if not (field_def.args or nodes[0].arguments):
                plan.args = {}
            elif not _reads_variables(nodes[0]):
                try:
                    plan.args = get_argument_values(field_def, nodes[0])
                except GraphQLError:
                    pass  # coerced per request, where the error becomes the field's
            plan.complete = self._completer(field_def.type, plan)
            plans.append(plan)
        return plans

    def _collect(self, runtime_type: GraphQLObjectType,
                 selection_sets: Iterable[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        """graphql-core's field collection: response key -> its field nodes, in order."""
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def visit_set(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if selection.directives and not self._included(selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    grouped.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._matches(selection.type_condition, runtime_type):
                        visit_set(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or not self._matches(fragment.type_condition,
                                                              runtime_type):
                        continue
                    if name not in visited:
                        visited.add(name)
                        visit_set(fragment.selection_set)

        for selection_set in selection_sets:
            visit_set(selection_set)
        return grouped

    def _included(self, node: Any) -> bool:
        names = {d.name.value for d in node.directives}
        if names - {"skip", "include"}:
            raise Unsupported(f"directives {sorted(names)}")
        skip = get_directive_values(GraphQLSkipDirective, node, self.directive_values)
        if skip and skip["if"] is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.directive_values)
        return not (include and include["if"] is False)

    def _matches(self, condition: NamedTypeNode | None, runtime_type: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        condition_type = type_from_ast(self.schema, condition)
        if condition_type is runtime_type:
            return True
        if is_abstract_type(condition_type):
            return self.schema.is_sub_type(condition_type, runtime_type)  # type: ignore[arg-type]
        return False

    # --- completers: what graphql-core's complete_value does, chosen once per type -------

    def _completer(self, return_type: GraphQLOutputType, field: _FieldPlan) -> Completer:
        if isinstance(return_type, GraphQLNonNull):
            return self._non_null(self._completer(return_type.of_type, field), field)
        if isinstance(return_type, GraphQLList):
            return self._list(return_type.of_type, field)
        if is_leaf_type(return_type):
            return _leaf(return_type)
        if is_abstract_type(return_type):
            return self._abstract(return_type, field)  # type: ignore[arg-type]
        assert is_object_type(return_type)
        return self._object(return_type, field)  # type: ignore[arg-type]

    @staticmethod
    def _non_null(inner: Completer, field: _FieldPlan) -> Completer:
        message = (f"Cannot return null for non-nullable field"
                   f" {field.parent_type}.{field.name}.")

        def complete(run: _Run, value: Any, path: PathPair, info: GraphQLResolveInfo) -> Any:
            completed = inner(run, value, path, info)
            if completed is None:
                raise TypeError(message)
            return completed

        return complete

    def _list(self, item_type: GraphQLOutputType, field: _FieldPlan) -> Completer:
        item = self._completer(item_type, field)
        item_non_null = is_non_null_type(item_type)
        nodes = field.nodes
        message = (f"Expected Iterable, but did not find one for field"
                   f" '{field.parent_type}.{field.name}'.")

        def complete(run: _Run, value: Any, path: PathPair, info: GraphQLResolveInfo) -> Any:
            if value is None or value is Undefined:
                return None
            if not is_iterable(value):
                raise GraphQLError(message)
            completed = []
            for index, element in enumerate(value):
                item_path = (path, index)
                try:
                    if isinstance(element, Exception):
                        raise element
                    completed.append(item(run, element, item_path, info))
                except Unsupported:
                    raise
                except Exception as raw:  # an item's error nulls the item, or the list
                    error = located_error(raw, nodes, _path_list(item_path))
                    if item_non_null:
                        raise error from None
                    run.errors.append(error)
                    completed.append(None)
            return completed

        return complete

    def _object(self, object_type: GraphQLObjectType, field: _FieldPlan) -> Completer:
        if object_type.is_type_of is not None:
            raise Unsupported(f"is_type_of on {object_type}")
        selection_sets = tuple(n.selection_set for n in field.nodes if n.selection_set)
        plans: list[list[_FieldPlan]] = []  # filled on first use: a cycle's types stay lazy

        def complete(run: _Run, value: Any, path: PathPair, info: GraphQLResolveInfo) -> Any:
            if value is None or value is Undefined:
                return None
            if not plans:
                plans.append(self.plan(object_type, selection_sets))
            return run.fields(plans[0], value, path)

        return complete

    def _abstract(self, abstract: GraphQLAbstractType, field: _FieldPlan) -> Completer:
        resolve_type = abstract.resolve_type or self.type_resolver
        if resolve_type is None:
            raise Unsupported(f"no type resolver for {abstract}")
        selection_sets = tuple(n.selection_set for n in field.nodes if n.selection_set)
        by_name: dict[str, list[_FieldPlan]] = {}

        def complete(run: _Run, value: Any, path: PathPair, info: GraphQLResolveInfo) -> Any:
            if value is None or value is Undefined:
                return None
            name = resolve_type(value, info, abstract)
            plans = by_name.get(name) if isinstance(name, str) else None
            if plans is None:
                runtime = self.schema.get_type(name) if isinstance(name, str) else None
                if (not isinstance(runtime, GraphQLObjectType)
                        or not self.schema.is_sub_type(abstract, runtime)
                        or runtime.is_type_of is not None):
                    raise Unsupported(f"{abstract} resolved to {name!r}")
                plans = by_name[name] = self.plan(runtime, selection_sets)
            return run.fields(plans, value, path)

        return complete


def _leaf(leaf_type: Any) -> Completer:
    coerce = leaf_type.coerce_output_value
    as_is = leaf_type in _SAME_AS_STRING

    def complete(_run: _Run, value: Any, _path: PathPair, _info: GraphQLResolveInfo) -> Any:
        if value is None or value is Undefined:
            return None
        if as_is and value.__class__ is str:
            return value
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise TypeError(f"Expected `{inspect(leaf_type)}.coerce_output_value("
                            f"{inspect(value)})` to return non-nullable value, returned:"
                            f" {inspect(coerced)}")
        return coerced

    return complete


def _reads_variables(node: FieldNode) -> bool:
    found: list[bool] = []

    class Finder(Visitor):
        def enter_variable(self, *_args: Any) -> Any:
            found.append(True)
            return Visitor.BREAK

    for argument in node.arguments or ():
        visit(argument, Finder())
    return bool(found)


def _path_list(path: PathPair) -> list[str | int]:
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


def _directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables any ``@skip``/``@include`` of ``document`` reads (their values pick
    the fields collected, so they key the compiled plans)."""
    names: set[str] = set()

    class Finder(Visitor):
        def enter_directive(self, node: Any, *_args: Any) -> Any:
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    names.add(argument.value.name.value)

    visit(document, Finder())
    return tuple(sorted(names))


class _CachedDocument:
    """A document's compiled variants, one per operation, resolvers and values of the
    variables its ``@skip``/``@include`` read."""

    __slots__ = ("directive_variables", "document", "variants")

    def __init__(self, document: DocumentNode) -> None:
        self.document = document  # kept alive: the cache is keyed by its id
        self.directive_variables = _directive_variables(document)
        self.variants: dict[tuple[Any, ...], _Compiled] = {}


_documents: OrderedDict[int, _CachedDocument] = OrderedDict()
_cache_lock = Lock()


def _compiled(schema: GraphQLSchema, document: DocumentNode,
              operation: OperationDefinitionNode, variables: Any,
              field_resolver: Resolver, type_resolver: TypeResolver | None) -> _Compiled:
    with _cache_lock:
        cached = _documents.get(id(document))
        if cached is None or cached.document is not document:
            cached = _documents[id(document)] = _CachedDocument(document)
            if len(_documents) > _CACHE_SIZE:
                _documents.popitem(last=False)
        _documents.move_to_end(id(document))
        key = (id(schema), id(operation), field_resolver, type_resolver,
               tuple(repr(variables.coerced.get(name)) for name in cached.directive_variables))
        compiled = cached.variants.get(key)
        if compiled is None:
            compiled = cached.variants[key] = _Compiled(
                schema, document, operation, variables, field_resolver, type_resolver)
        return compiled


def compiled_variants() -> int:
    """How many compiled variants the cache holds (all documents): what a test counts."""
    with _cache_lock:
        return sum(len(cached.variants) for cached in _documents.values())


# --- running -----------------------------------------------------------------------------


class _Run:
    """One execution: its variables, context, errors and resolve-infos."""

    __slots__ = ("compiled", "context", "errors", "infos", "root_value", "variables")

    def __init__(self, compiled: _Compiled, root_value: Any, context: Any,
                 variables: Any) -> None:
        self.compiled = compiled
        self.root_value = root_value
        self.context = context
        self.variables = variables
        self.errors: list[GraphQLError] = []
        self.infos: dict[_FieldPlan, GraphQLResolveInfo] = {}

    def info(self, field: _FieldPlan) -> GraphQLResolveInfo:
        compiled = self.compiled
        assert field.field_def is not None
        info = self.infos[field] = GraphQLResolveInfo(
            field.name, field.nodes, field.field_def.type, field.parent_type,
            None,  # type: ignore[arg-type]  # no resolver here reads the path
            compiled.schema, compiled.fragments, self.root_value, compiled.operation,
            self.variables, self.context, never_awaitable, None,
            None,  # type: ignore[arg-type]
        )
        return info

    def fields(self, plans: list[_FieldPlan], source: Any, path: PathPair) -> dict[str, Any]:
        out: dict[str, Any] = {}
        infos = self.infos
        for field in plans:
            if field.typename is not None:
                out[field.key] = field.typename
                continue
            field_path = (path, field.key)
            info = infos.get(field) or self.info(field)
            try:
                args = field.args
                if args is None:
                    args = get_argument_values(field.field_def, field.nodes[0],  # type: ignore[arg-type]
                                               self.variables)
                value = field.resolve(source, info, **args)
                if isinstance(value, Exception):
                    raise value
                out[field.key] = field.complete(self, value, field_path, info)
            except Unsupported:
                raise
            except Exception as raw:  # the field becomes null, or its nearest nullable parent
                error = located_error(raw, field.nodes, _path_list(field_path))
                if field.non_null:
                    raise error from None
                self.errors.append(error)
                out[field.key] = None
        return out


def never_awaitable(_value: Any) -> bool:
    """graphql-core's ``is_awaitable`` for resolvers that are never async: its own check
    (``inspect``-based, on every value) is a large share of an execution."""
    return False


__all__ = ["Unsupported", "compiled_variants", "execute_compiled", "never_awaitable"]
