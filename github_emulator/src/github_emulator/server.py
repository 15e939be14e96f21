"""The emulator's HTTP server: GitHub's GraphQL endpoint on loopback.

>>> from github_emulator import EmulatorServer, build_world
>>> import requests
>>> with EmulatorServer(build_world()) as server:
...     r = requests.post(server.url, json={"query": "{ viewer { login } }"},
...                       headers={"Authorization": "bearer emulator-token"}, timeout=10)
>>> r.json()
{'data': {'viewer': {'login': 'emulator-viewer'}}}

Paths: GraphQL at ``/graphql`` (github.com's layout) and ``/api/graphql`` (GitHub Enterprise
Server's); a GitHub App's installation tokens at ``/app/installations/{id}/access_tokens``
and ``/api/v3/app/...`` (see ``apps``).

Request pipeline (each step can answer on its own): path and method -> token (401) ->
JSON body (400) -> secondary limits (403 + retry-after) -> parse and validate (200 +
errors, cached per query text) -> variables -> cost and node limit -> primary limit
(200 RATE_LIMITED) -> fault plan -> latency model (502 past its timeout) -> execute.
"""

from __future__ import annotations

import email.utils
import functools
import itertools
import json
import logging
import math
import re
import secrets
import socket
import struct
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    parse,
    print_ast,
    validate,
)
from graphql.execution.values import get_variable_values

from .apps import Credentials, Identity, digest
from .schema import load_schema
from .cost import QueryCost, node_limit_message, query_cost, select_operation
from .errors import (
    BAD_CREDENTIALS,
    DOCS_URL,
    SECONDARY_DOCS_URL,
    format_execution_error,
    format_parse_error,
    format_validation_errors,
    format_variable_errors,
    primary_limit_message,
    secondary_limit_message,
    something_went_wrong,
)
from .faults import CHARGING_FAULTS, FAULT_PARTIAL, FaultPlan, fault_reply
from .ledger import Ledger, LedgerEntry
from .limits import LatencyModel, Limits, PrimaryLimiter, RateSnapshot, SecondaryLimiter
from .resolvers import ExecContext, run_query
from .world import World

log = logging.getLogger(__name__)

DEFAULT_TOKENS: frozenset[str] = frozenset({"emulator-token"})
_JSON = {"content-type": "application/json; charset=utf-8"}
GRAPHQL_PATHS = frozenset({"/graphql", "/api/graphql"})
TOKEN_PATH = re.compile(r"(?:/api/v3)?/app/installations/(\d+)/access_tokens")


@dataclass
class _Request:
    """What the pipeline learns about one request as it goes; ``note`` feeds the ledger."""

    id: str
    user: int = 0
    operation_name: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    document: DocumentNode | None = None
    cost: QueryCost | None = None
    note: dict[str, Any] = field(default_factory=dict)
    identity: Identity | None = None
    # perf_counter() on arrival: the latency model's time is measured from here
    started: float = field(default_factory=time.perf_counter)


@dataclass
class Reply:
    """An HTTP answer; ``action="reset"`` closes the socket abruptly instead."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    action: str = "send"


def _json(body: Any) -> bytes:
    # ensure_ascii=False sends UTF-8 as GitHub does; NUL still goes out as \u0000.
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@functools.lru_cache(maxsize=512)
def prepare_document(query: str) -> tuple[DocumentNode | None, list[dict[str, Any]] | None]:
    """Parse and validate ``query`` against GitHub's schema, cached per query text (the
    product sends the same few documents over and over).

    Returns ``(document, None)`` or ``(document_or_None, errors in GitHub's shape)``.
    """
    schema = load_schema()
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, [format_parse_error(error)]
    errors = validate(schema, document)
    if errors:
        return document, format_validation_errors(errors, document)
    return document, None


class EmulatorServer:
    """A real threaded HTTP server playing GitHub's GraphQL API for ``world``.

    ``tokens``: accepted tokens (``None``: any non-empty token); ``credentials`` replaces
    them with GitHub Apps, per-token quotas and revocation (``apps.Credentials``).
    ``faults``, ``limits`` and ``latency`` may be swapped between requests (assign the
    attributes). Use as a context manager or call :meth:`start`/:meth:`stop`; :attr:`url`
    is the endpoint.
    """

    def __init__(
        self,
        world: World,
        *,
        tokens: Collection[str] | None = DEFAULT_TOKENS,
        credentials: Credentials | None = None,
        faults: FaultPlan | None = None,
        limits: Limits | None = None,
        latency: LatencyModel | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.world = world
        # Only digests are kept, so not even the server object holds the raw tokens.
        self.credentials = credentials if credentials is not None else Credentials(tokens)
        self.faults = faults
        self.limits = limits or Limits()  # also builds the limiters (see the setter)
        self.latency = latency or LatencyModel()
        self.ledger = Ledger()
        self.schema: GraphQLSchema = load_schema()
        self._host, self._port = host, port
        self._users: dict[str, int] = {}
        self._users_lock = threading.Lock()
        self._quotas: dict[int, int] = {}
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._sequence = itertools.count(1)
        self._id_prefix = secrets.token_hex(2).upper()

    @property
    def limits(self) -> Limits:
        return self._limits

    @limits.setter
    def limits(self, value: Limits) -> None:
        """Replace the limits and start fresh budgets (do it between requests)."""
        self._limits = value
        self.primary = PrimaryLimiter(value)
        self.primary.quotas.update(getattr(self, "_quotas", {}))
        self.secondary = SecondaryLimiter(value)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://HOST:PORT/graphql`` (the real port once started)."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/graphql"

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    def start(self) -> EmulatorServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _Server((self._host, self._port), _Handler)
        httpd.emulator = self
        self._httpd = httpd
        # A short poll interval keeps stop() fast (shutdown waits for one poll).
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="github-emulator",
            daemon=True,
        )
        self._thread.start()
        log.info("GitHub emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers holding a connection for a timeout fault
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the request pipeline ---------------------------------------------------------------

    def _request_id(self) -> str:
        n = next(self._sequence)
        return (
            f"{self._id_prefix}:{n:04X}:{secrets.randbelow(1 << 24):06X}:"
            f"{secrets.randbelow(1 << 24):06X}:{int(time.time()):08X}"
        )

    def _user(self, authorization: str | None) -> tuple[int, Identity] | None:
        """The user id (the quota's owner) and identity for a valid ``Authorization``
        header, else ``None``."""
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() not in ("bearer", "token") or not token:
            return None
        identity = self.credentials.admit(token)
        if identity is None:
            return None
        with self._users_lock:
            user = self._users.setdefault(identity.key, len(self._users) + 1)
            if identity.points_per_hour is not None and user not in self._quotas:
                self._quotas[user] = identity.points_per_hour
                self.primary.quotas[user] = identity.points_per_hour
        return user, identity

    def rate_for(self, token: str) -> RateSnapshot | None:
        """The primary budget of a configured personal token (tests' view), or None when
        it never sent a request."""
        with self._users_lock:
            user = self._users.get(f"token:{digest(token)}")
        return None if user is None else self.primary.peek(user)

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one HTTP request (transport-independent; the handler calls this)."""
        request = _Request(self._request_id())
        try:
            reply = self._handle(method, path, headers, body, request)
        except Exception:  # a bug here must not look like a GitHub answer the client trusts
            log.exception("emulator failed on request %s", request.id)
            body_ = {"message": "Emulator internal error", "request_id": request.id}
            reply = Reply(500, {**self.primary.peek(0).headers(), **_JSON}, _json(body_))
            request.note["error_type"] = "EMULATOR_BUG"
        reply.headers["X-GitHub-Request-Id"] = request.id
        self.ledger.record(
            LedgerEntry(
                request_id=request.id,
                status=reply.status,
                duration_seconds=time.perf_counter() - request.started,
                **request.note,
            )
        )
        return reply

    def _handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, request: _Request
    ) -> Reply:
        note = request.note
        route = path.split("?", 1)[0].rstrip("/")
        token_route = TOKEN_PATH.fullmatch(route)
        if method == "POST" and token_route is not None:
            return self._installation_token(int(token_route[1]), headers, body, request)
        if route not in GRAPHQL_PATHS or method != "POST":
            note["error_type"] = "NOT_FOUND"
            missing = {"message": "Not Found", "documentation_url": DOCS_URL}
            return Reply(404, {**self.primary.peek(0).headers(), **_JSON}, _json(missing))
        who = self._user(headers.get("Authorization"))
        if who is None:
            note["error_type"] = "BAD_CREDENTIALS"
            return Reply(401, {**self.primary.peek(0).headers(), **_JSON}, _json(BAD_CREDENTIALS))
        user, identity = who
        request.user = user
        request.identity = identity
        note["credential"] = identity.label
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            note["error_type"] = "BAD_REQUEST"
            problem = {"message": "Problems parsing JSON", "documentation_url": DOCS_URL}
            return Reply(400, {**self.primary.peek(user).headers(), **_JSON}, _json(problem))
        query, variables = payload.get("query"), payload.get("variables")
        if isinstance(variables, str):  # some clients send variables as a JSON string
            try:
                variables = json.loads(variables)
            except ValueError:
                variables = None
        request.variables = variables = variables or {}
        request.operation_name = payload.get("operationName") or None
        note["operation_name"], note["variables"] = request.operation_name, variables
        if not isinstance(query, str) or not isinstance(variables, dict):
            note["error_type"] = "BAD_REQUEST"
            message = "A query attribute must be specified and must be a string."
            return self._errors(user, [{"message": message}])

        verdict = self.secondary.enter(user)
        if not verdict.allowed:
            note["error_type"] = "SECONDARY_RATE_LIMITED"
            limited = {
                "message": secondary_limit_message(request.id),
                "documentation_url": SECONDARY_DOCS_URL,
            }
            headers_ = {
                **self.primary.peek(user).headers(),
                **_JSON,
                "retry-after": str(verdict.retry_after),
            }
            return Reply(403, headers_, _json(limited))
        try:
            return self._handle_query(query, request)
        finally:
            self.secondary.leave()

    def _installation_token(
        self, installation_id: int, headers: Mapping[str, str], body: bytes, request: _Request
    ) -> Reply:
        """GitHub App flow: a JWT in, an installation token out (``apps.Credentials``)."""
        request.note["operation_name"] = "create-an-installation-access-token"
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = None
        permissions = payload.get("permissions") if isinstance(payload, dict) else None
        answer = self.credentials.issue(
            headers.get("Authorization"), installation_id,
            permissions if isinstance(permissions, dict) else None,
        )
        if answer.error_type is not None:
            request.note["error_type"] = answer.error_type
        else:
            request.note["credential"] = f"installation {installation_id}"
        return Reply(answer.status, dict(_JSON), _json(answer.body))

    def _errors(
        self, user: int, errors: list[dict[str, Any]], snapshot: RateSnapshot | None = None
    ) -> Reply:
        snap = snapshot or self.primary.peek(user)
        return Reply(200, {**snap.headers(), **_JSON}, _json({"errors": errors}))

    def _handle_query(self, query: str, request: _Request) -> Reply:
        note, user = request.note, request.user
        document, errors = prepare_document(query)
        if errors is not None or document is None:
            note["error_type"] = "PARSE_ERROR" if document is None else "VALIDATION_ERROR"
            return self._errors(user, errors or [])
        operation = select_operation(document, request.operation_name)
        if operation is None:
            note["error_type"] = "VALIDATION_ERROR"
            name = request.operation_name
            message = f'No operation named "{name}"' if name else "An operation name is required"
            return self._errors(user, [{"message": message}])
        request.document = document
        if operation.name is not None:
            request.operation_name = note["operation_name"] = operation.name.value
        if operation.operation is not OperationType.QUERY:
            note["error_type"] = "NOT_IMPLEMENTED"
            message = "The GitHub emulator answers queries only, not mutations."
            return self._errors(user, [{"message": message}])
        definitions = operation.variable_definitions or ()
        coerced = get_variable_values(self.schema, definitions, request.variables)
        if isinstance(coerced, list):
            note["error_type"] = "VARIABLE_ERROR"
            types = {d.variable.name.value: print_ast(d.type) for d in definitions}
            return self._errors(user, format_variable_errors(coerced, request.variables, types))

        cost = query_cost(self.schema, document, request.variables, request.operation_name)
        request.cost = cost
        note["cost"], note["node_count"] = cost.points, cost.nodes
        if cost.nodes > self.limits.max_nodes:
            note["error_type"] = "MAX_NODE_LIMIT_EXCEEDED"
            message = node_limit_message(cost.nodes, self.limits.max_nodes)
            return self._errors(user, [{"type": "MAX_NODE_LIMIT_EXCEEDED", "message": message}])

        snapshot = self.primary.charge(user, cost.points)
        if snapshot is None:
            note["error_type"], note["rate_limit_remaining"] = "RATE_LIMITED", 0
            error = {"type": "RATE_LIMITED", "message": primary_limit_message(user)}
            return self._errors(user, [error], self.primary.peek(user).exhausted())

        fault = self.faults.next(request.operation_name) if self.faults is not None else None
        if fault is not None:
            return self._fault(fault, snapshot, request)

        note["points"], note["rate_limit_remaining"] = cost.points, snapshot.remaining
        latency = self.latency.for_operation(request.operation_name)
        if latency.times_out(cost.nodes):
            # GitHub's 10 s cutoff: the work is charged, the client gets a 502.
            self._stopping.wait(latency.sleep_seconds(cost.nodes))
            note["error_type"] = "TIMEOUT"
            body = {"data": None, "errors": [{"message": something_went_wrong(request.id)}]}
            return Reply(502, {**snapshot.headers(), **_JSON}, _json(body))
        answer = self._execute(request, snapshot)
        if answer.get("errors"):
            note["error_type"] = answer["errors"][0].get("type", "EXECUTION_ERROR")
        body = _json(answer)
        # The model is GitHub's whole answer time, so the emulator's own work (parsing,
        # executing, encoding) is part of it, not added on top: on a 2-core machine that
        # work would otherwise count against the client as if GitHub were slower.
        note["work_seconds"] = work = time.perf_counter() - request.started
        remaining = latency.sleep_seconds(cost.nodes) - work
        if remaining > 0:
            self._stopping.wait(remaining)
        return Reply(200, {**snapshot.headers(), **_JSON}, body)

    def _fault(self, fault: str, snapshot: RateSnapshot, request: _Request) -> Reply:
        """Answer with ``fault`` instead of the data; only CHARGING_FAULTS keep the points."""
        plan = self.faults
        assert plan is not None and request.cost is not None
        points = request.cost.points
        if fault not in CHARGING_FAULTS:
            snapshot, points = self.primary.refund(request.user, points), 0
        request.note.update(fault=fault, points=points, rate_limit_remaining=snapshot.remaining)
        reply = fault_reply(
            fault,
            request_id=request.id,
            rate=snapshot,
            user_id=request.user,
            retry_after_seconds=plan.retry_after_seconds,
            hold_seconds=plan.hold_seconds,
            rate_limited_reset_epoch=math.ceil(time.time() + plan.rate_limited_reset_seconds),
            executed=self._execute(request, snapshot) if fault == FAULT_PARTIAL else None,
        )
        if reply.action == "hold":
            self._stopping.wait(reply.hold_seconds)
        log.debug("fault %s injected into request %s", fault, request.id)
        action = "reset" if reply.action == "reset" else "send"
        return Reply(reply.status, dict(reply.headers), reply.body, action)

    def _execute(self, request: _Request, snapshot: RateSnapshot) -> dict[str, Any]:
        assert request.document is not None and request.cost is not None
        cost = request.cost
        rate = {
            "cost": cost.points,
            "limit": snapshot.limit,
            "remaining": snapshot.remaining,
            "used": snapshot.used,
            "resetAt": snapshot.reset_at,
            "nodeCount": cost.nodes,
        }
        identity = request.identity
        context = ExecContext(
            self.world, rate, self.limits.max_page_size,
            credential_kind=identity.kind if identity else "token",
            scopes=identity.scopes if identity else None,
            permissions=dict(identity.permissions) if identity else None,
        )
        with self.world.lock:  # mutators take the same lock: a page is one consistent view
            result = run_query(
                self.schema, request.document, context, request.variables, request.operation_name
            )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [format_execution_error(e) for e in result.errors]
        if context.insufficient_scopes:
            # GitHub checks scopes before running anything: no data, one error per field
            # the token may not read, without a path.
            answer = {"data": None, "errors": [
                {k: v for k, v in e.items() if k != "path"} for e in answer.get("errors", [])
                if e.get("type") == "INSUFFICIENT_SCOPES"]}
        return answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a handler holding a connection
    request_queue_size = 256  # concurrency tests open many connections at once
    allow_reuse_address = True
    emulator: EmulatorServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients with sessions expect
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms ACK stalls
    timeout = 120  # idle keep-alive connections do not pin a thread forever
    server: _Server

    def version_string(self) -> str:
        return "GitHub.com"

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header: GitHub's clock, which here is the world's (``world.now``),
        so a client timing what it observed reads the same clock as the data's timestamps."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        return email.utils.format_datetime(self.server.emulator.world.now, usegmt=True)

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        self._serve("POST")

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        reply = self.server.emulator.handle(method, self.path, self.headers, body)
        if reply.action == "reset":
            self._reset()
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
            self.close_connection = True

    def _reset(self) -> None:
        """Close with RST (SO_LINGER 0): the client sees "connection reset by peer"."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        log.debug("%s - %s", self.address_string(), format % args)
