"""A scripted GitHub: a real threaded HTTP server that replays a per-test list of answers,
plus the fake clock and sleep the client gets, and real GitHub answer bodies.

Each test scripts the answers (status, headers, body, optional delay or abrupt close) and
then asserts on the requests the server recorded, e.g. the page size each one asked for::

    def test_x(github, make_client):
        github.script(Reply(502, "<html>bad gateway</html>"), Reply(body=ok()))
        make_client().execute(QUERY, page_size=AdaptivePageSize(50))
        assert github.page_sizes() == [50, 25]
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pr_warehouse.client import ClientSettings

TOKEN = "ghp_T0kenUnderTest_9f8e7d6c5b4a"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


@dataclass
class Reply:
    """One scripted answer. ``body``: dict/list -> JSON, str -> UTF-8, bytes as they are."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: seconds to wait before answering (read-timeout tests: :data:`HOLD`); the server's
    #: shutdown ends the wait
    delay: float = 0.0
    close: bool = False  # drop the connection with a TCP reset instead of answering

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Recorded:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class ScriptedGitHub:
    """The server's state: the answers still to give and the requests received so far."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.requests: list[Recorded] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def next_reply(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            if not self._replies:
                return Reply(599, {"message": "scripted server: no answer left in the script"})
            return self._replies.popleft()

    def page_sizes(self, var: str = "pageSize") -> list[int | None]:
        """The page size each recorded request asked for."""
        return [r.json["variables"].get(var) for r in self.requests]

    @property
    def left(self) -> int:
        return len(self._replies)


def _handler(state: ScriptedGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            recorded = Recorded(self.path, dict(self.headers.items()), self.rfile.read(length))
            reply = state.next_reply(recorded)
            number = len(state.requests)
            if reply.delay:
                state.stopping.wait(reply.delay)
            if reply.close:
                # SO_LINGER 0: close() sends a TCP reset, like a load balancer dropping us
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
                return
            body = reply.encoded()
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "X-GitHub-Request-Id": f"REQ-{number}",
                **reply.headers,
            }
            try:
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up first (read timeout): nothing to answer
                self.close_connection = True

        def finish(self) -> None:
            try:
                super().finish()
            except OSError:
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # broken pipes after client-side timeouts are expected here



@contextmanager
def serve() -> Iterator[ScriptedGitHub]:
    """Run a scripted GitHub on 127.0.0.1 (random port) for the duration of the block."""
    state = ScriptedGitHub("")
    server = _Server(("127.0.0.1", 0), _handler(state))
    host, port = server.server_address[:2]
    state.url = f"http://{host}:{port}/graphql"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.daemon = True
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()  # ends held answers
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class FakeClock:
    """A settable UTC clock for the client: ``clock()`` returns ``now``."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def epoch(self, plus_seconds: float = 0) -> int:
        """``x-ratelimit-reset`` value ``plus_seconds`` from now."""
        return int((self.now + timedelta(seconds=plus_seconds)).timestamp())


class SleepRecorder:
    """The injected sleep: records each wait and advances the fake clock by it."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.now += timedelta(seconds=seconds)


#: settings for tests: waits are recorded, not slept. The timeouts are short enough that a
#: read-timeout test is quick, yet a generous multiple of a scripted answer's milliseconds,
#: even on a loaded machine.
FAST = ClientSettings(read_timeout=2.0, connect_timeout=2.0)
#: A delay far past any read timeout here: the client always gives up on that answer first.
HOLD = 60.0

QUERY = "query Q($pageSize: Int!) { viewer { login } }"


# --- real GitHub answers (API_FACTS.md) -------------------------------------------------------


def ok(data: dict[str, Any] | None = None, **rate_limit: Any) -> dict[str, Any]:
    """A clean answer; ``rate_limit`` fields become ``data.rateLimit``."""
    body: dict[str, Any] = {"viewer": {"login": "octocat"}} if data is None else dict(data)
    if rate_limit:
        body["rateLimit"] = rate_limit
    return {"data": body}


def rate_headers(remaining: int, reset: int, used: int | None = None, limit: int = 5000) -> dict[str, str]:
    """The x-ratelimit-* headers GitHub sends on every answer."""
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-used": str(limit - remaining if used is None else used),
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-resource": "graphql",
    }


SOMETHING_WENT_WRONG = {
    "data": None,
    "errors": [{"message": "Something went wrong while executing your query. This may be the "
                "result of a timeout, or it could be a GitHub bug. Please include "
                "`0400:3A4B:1C2D3E:4F5A6B:67890ABC` when reporting this issue."}],
}
BAD_GATEWAY_HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"
RATE_LIMITED = {"errors": [{"type": "RATE_LIMITED",
                            "message": "API rate limit exceeded for user ID 583231."}]}
SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes "
             "before you try again.",
             "documentation_url": "https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api#secondary-rate-limits"}
NOT_FOUND = {"data": {"repository": None},
             "errors": [{"type": "NOT_FOUND", "path": ["repository"], "locations": [{"line": 2, "column": 3}],
                         "message": "Could not resolve to a Repository with the name 'owner/name'."}]}
BAD_CREDENTIALS = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/graphql"}
MAX_NODES = {"errors": [{"type": "MAX_NODE_LIMIT_EXCEEDED",
                         "message": "This query requests up to 1,000,000 possible nodes which "
                                    "exceeds the maximum limit of 500,000."}]}
MISSING_BOUNDARIES = {"errors": [{"type": "MISSING_PAGINATION_BOUNDARIES", "path": ["repository", "pullRequests"],
                                  "message": "You must provide a `first` or `last` value to properly paginate the `pullRequests` connection."}]}
EXCESSIVE = {"errors": [{"type": "EXCESSIVE_PAGINATION", "path": ["repository", "pullRequests"],
                         "message": "Requesting 101 records on the `pullRequests` connection exceeds the `first` limit of 100 records."}]}
UNDEFINED_FIELD = {"errors": [{"path": ["query", "viewer", "nope"], "extensions": {"code": "undefinedField", "typeName": "User", "fieldName": "nope"},
                               "locations": [{"line": 1, "column": 18}],
                               "message": "Field 'nope' doesn't exist on type 'User'"}]}
PARTIAL = {"data": {"repository": {"pullRequests": {"nodes": [None]}}},
           "errors": [{"type": "RESOURCE_LIMITS_EXCEEDED", "path": ["repository", "pullRequests", "nodes", 0],
                       "message": "Resource limits for this query exceeded."}]}
