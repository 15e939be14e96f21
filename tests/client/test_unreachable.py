"""A host that cannot be reached fails fast: before the host's first answer, a refused
connection or a name that does not resolve is a wrong connection host (``HostUnreachable``,
raised after one try, naming the host and the connection); a certificate that does not
verify is fatal whenever it happens (``BadCertificate``). After a first answer, a reset or a
refused connection is a hiccup and stays retriable, as before.

Real sockets throughout: a port that was bound then closed (nothing listens there), the
reserved ``.invalid`` domain (RFC 6761: it never resolves; without any resolver it fails
too), a local HTTPS server with a self-signed certificate. No assertion on time.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from pr_warehouse.client import (
    BadCertificate,
    ClientSettings,
    GraphQLClient,
    HostUnreachable,
    RetriesExhausted,
    client_from_connection,
    failure_name,
)
from pr_warehouse.client.classify import first_contact_failure, unreachable
from pr_warehouse.client.connection import client_from_specs, parse_connection

from .scripted import FAST, QUERY, TOKEN, FakeClock, Reply, SleepRecorder, ok, serve

emulator = pytest.importorskip("github_emulator")

pytestmark = pytest.mark.timeout(120)

UNRESOLVABLE = "nonexistent.invalid"


def closed_port() -> int:
    """A local port where nothing listens: bound by us, then closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def connect(monkeypatch: pytest.MonkeyPatch, host: str, conn_id: str = "github_default",
            **extra: Any) -> None:
    """An Airflow connection from the environment, as a new user would set it."""
    value = {"conn_type": "github", "host": host, "password": TOKEN, "extra": extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(value))


def without_waiting(client: GraphQLClient, sleeps: SleepRecorder, clock: FakeClock
                    ) -> GraphQLClient:
    """The fake sleep and clock on a client built from a connection: a retry would be
    recorded in ``sleeps.waits``, not slept."""
    client._sleep, client._clock = sleeps, clock  # type: ignore[attr-defined]
    return client


def run_once(client: GraphQLClient, sleeps: SleepRecorder) -> HostUnreachable:
    with client, pytest.raises(HostUnreachable) as caught:
        client.execute(QUERY, context="acme/api page 1")
    assert client.stats.requests == 1 and sleeps.waits == []  # one try, no client retries
    assert not caught.value.retriable
    return caught.value


# --- before the first answer: fatal at once, naming the host and the connection -------------


def test_a_refused_port_on_first_contact_names_the_host_and_the_connection(
        monkeypatch: pytest.MonkeyPatch, clock: FakeClock, sleeps: SleepRecorder) -> None:
    port = closed_port()
    connect(monkeypatch, f"http://127.0.0.1:{port}/graphql")
    client = without_waiting(client_from_connection("github_default", FAST), sleeps, clock)
    error = run_once(client, sleeps)
    assert error.message == (f"cannot reach http://127.0.0.1:{port} "
                             "(connection github_default): connection refused")
    assert str(error).startswith("acme/api page 1 cannot reach")  # the context, as for others
    assert (error.host, error.conn_id, error.reason) == (
        f"http://127.0.0.1:{port}", "github_default", "connection refused")
    assert failure_name(error) == "host_unreachable"
    assert TOKEN not in str(error)


def test_a_name_that_does_not_resolve_on_first_contact(
        monkeypatch: pytest.MonkeyPatch, clock: FakeClock, sleeps: SleepRecorder) -> None:
    connect(monkeypatch, f"https://{UNRESOLVABLE}/api/v3", conn_id="github_ghes")
    client = without_waiting(client_from_connection("github_ghes", FAST), sleeps, clock)
    error = run_once(client, sleeps)
    assert error.message == (f"cannot reach https://{UNRESOLVABLE} "
                             "(connection github_ghes): name does not resolve")


@pytest.mark.parametrize("errno", [socket.EAI_NONAME, socket.EAI_AGAIN],
                         ids=["no-such-name", "no-resolver"])
def test_any_resolver_failure_is_a_name_that_does_not_resolve(
        monkeypatch: pytest.MonkeyPatch, clock: FakeClock, sleeps: SleepRecorder,
        errno: int) -> None:
    """Whatever the machine's resolver says (NXDOMAIN, or none reachable), the same error;
    no DNS server is asked, so nothing here depends on DNS timing."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kw: Any) -> Any:
        if host == "ghe.example.invalid":
            raise socket.gaierror(errno, "resolver says no")
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    spec = parse_connection("github_default", host="https://ghe.example.invalid/api/v3",
                            password=TOKEN, extra={})
    client = without_waiting(client_from_specs([spec], FAST), sleeps, clock)
    error = run_once(client, sleeps)
    assert error.message.endswith(
        "cannot reach https://ghe.example.invalid (connection github_default): "
        "name does not resolve")


def test_pooled_connections_are_all_named(clock: FakeClock, sleeps: SleepRecorder) -> None:
    host = f"http://127.0.0.1:{closed_port()}/graphql"
    specs = [parse_connection(c, host=host, password=f"{TOKEN}-{c}", extra={})
             for c in ("github_a", "github_b")]
    client = without_waiting(client_from_specs(specs, FAST), sleeps, clock)
    assert "(connection github_a, github_b): connection refused" in run_once(client, sleeps).message


def test_a_github_app_whose_host_is_refused_fails_at_the_token_exchange(
        clock: FakeClock, sleeps: SleepRecorder) -> None:
    """An App's first contact is the installation-token exchange: the same rule applies."""
    from app_keys import APP_ID, INSTALLATION_ID, key_pair

    port = closed_port()
    spec = parse_connection("github_app", host=f"http://127.0.0.1:{port}/api/v3", password=None,
                            extra={"app_id": APP_ID, "installation_id": str(INSTALLATION_ID),
                                   "private_key": key_pair()[0]})
    client = without_waiting(client_from_specs([spec], FAST), sleeps, clock)
    with client, pytest.raises(HostUnreachable) as caught:
        client.execute(QUERY, context="smoke")
    assert caught.value.message == (f"cannot reach http://127.0.0.1:{port} "
                                    "(connection github_app): connection refused")
    assert sleeps.waits == [] and client.stats.requests == 0  # no GraphQL request was sent


def test_the_client_without_a_connection_still_names_the_host(
        clock: FakeClock, sleeps: SleepRecorder) -> None:
    port = closed_port()
    client = GraphQLClient(f"http://127.0.0.1:{port}/graphql", TOKEN, FAST, sleep=sleeps,
                           clock=clock)
    assert run_once(client, sleeps).message == (
        f"cannot reach http://127.0.0.1:{port}: connection refused")


# --- a certificate that does not verify: fatal, and says so ---------------------------------


def self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class _Answer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(ok()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # the client hangs up mid-handshake: expected here


@contextmanager
def https_server(tmp: Path) -> Iterator[str]:
    """A GraphQL endpoint on 127.0.0.1 over TLS with a self-signed certificate."""
    cert_file, key_file = self_signed(tmp)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = _Quiet(("127.0.0.1", 0), _Answer)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/graphql"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_self_signed_certificate_names_the_host_and_the_certificate_problem(
        tmp_path: Path, clock: FakeClock, sleeps: SleepRecorder) -> None:
    with https_server(tmp_path) as url:
        client = GraphQLClient(url, TOKEN, FAST, sleep=sleeps, clock=clock,
                               conn_id="github_default")
        with client, pytest.raises(BadCertificate) as caught:
            client.execute(QUERY, context="smoke")
        try:  # the same exchange, as requests reports it
            requests.post(url, timeout=5)
        except requests.exceptions.SSLError as exc:
            raw = exc
    host = url.removesuffix("/graphql")
    assert caught.value.message.startswith(
        f"cannot reach {host} (connection github_default): TLS certificate problem: ")
    assert "self-signed certificate" in caught.value.message
    assert isinstance(caught.value, HostUnreachable) and not caught.value.retriable
    assert failure_name(caught.value) == "bad_certificate"
    assert sleeps.waits == [] and client.stats.requests == 1
    # Fatal even after the host had answered: a retry cannot fix a certificate.
    later = first_contact_failure(raw, url, reached=True, conn_id="github_default")
    assert isinstance(later, BadCertificate)


# --- after a first answer: a reset or a refusal is a hiccup, retried as before --------------


def test_a_reset_after_a_first_good_answer_stays_retriable() -> None:
    """The emulator answers, then resets the next connection: retried, then answered."""
    plan = emulator.FaultPlan.script([None, emulator.FAULT_CONNECTION_RESET])
    waits: list[float] = []
    with emulator.EmulatorServer(emulator.build_world(), faults=plan) as server:
        with GraphQLClient(server.url, emulator.DEFAULT_TOKEN, FAST, sleep=waits.append,
                           conn_id="github_default") as client:
            client.execute("query { viewer { login } }", context="first")
            again = client.execute("query { viewer { login } }", context="second")
    assert plan.history[:3] == [None, emulator.FAULT_CONNECTION_RESET, None]
    assert again.attempts == 2 and len(waits) == 1
    assert client.stats.retries == {"request_timeout": 1}


def test_a_refusal_after_a_first_good_answer_stays_retriable(
        clock: FakeClock, sleeps: SleepRecorder) -> None:
    """GitHub answered once, then its port closed (a restart, a load balancer swap): the
    host was right, so the client retries and finally hands over to Airflow's retries."""
    with serve() as github:
        github.script(Reply(body=ok()))
        client = GraphQLClient(github.url, TOKEN, ClientSettings(max_attempts=3),
                               sleep=sleeps, clock=clock, rand=lambda: 0.5,
                               conn_id="github_default")
        client.execute(QUERY, context="first")
    with client, pytest.raises(RetriesExhausted, match="request_timeout") as caught:
        client.execute(QUERY, context="second")  # the server is gone: refused
    assert caught.value.retriable and len(sleeps.waits) == 2
    assert client.stats.retries == {"request_timeout": 2}


def test_a_reset_on_first_contact_is_not_a_wrong_host(
        clock: FakeClock, sleeps: SleepRecorder) -> None:
    """Only refused and unknown names say the host is wrong; a reset means it is there."""
    with serve() as github:
        github.script(Reply(close=True), Reply(body=ok()))
        with GraphQLClient(github.url, TOKEN, FAST, sleep=sleeps, clock=clock,
                           rand=lambda: 0.5) as client:
            assert client.execute(QUERY).attempts == 2


# --- the rule table on its own ---------------------------------------------------------------


def test_the_rules_read_requests_real_exception_chains() -> None:
    found = {}
    for name, url in {"refused": f"http://127.0.0.1:{closed_port()}/graphql",
                      "unresolvable": f"https://{UNRESOLVABLE}/graphql"}.items():
        try:
            requests.post(url, timeout=5)
        except requests.ConnectionError as exc:
            found[name] = unreachable(exc)
    assert found["refused"].reason == "connection refused"
    assert found["unresolvable"].reason == "name does not resolve"
    assert not any(f.always for f in found.values())
    assert unreachable(requests.ReadTimeout("read timed out")) is None
    assert unreachable(requests.ConnectionError(ConnectionResetError(104, "reset"))) is None


def test_a_proxy_that_refuses_is_not_the_connections_host() -> None:
    proxy = requests.exceptions.ProxyError(ConnectionRefusedError(111, "Connection refused"))
    assert unreachable(proxy) is None
