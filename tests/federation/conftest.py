"""Real node processes on loopback, on each storage driver."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from email import message_from_string
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import psycopg
import pytest

from detente.node.localnet import LocalNode

PG_URL = os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("DETENTE_REQUIRE_PG") == "1"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_node(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., LocalNode]]:
    """Create (not start) nodes; every node started is stopped at the end, schemas dropped."""
    made: list[LocalNode] = []
    schemas: list[str] = []
    if request.param == "postgres":
        try:
            psycopg.connect(PG_URL, connect_timeout=3).close()
        except psycopg.Error as exc:
            if REQUIRE_PG:
                raise
            pytest.skip(f"PostgreSQL not reachable: {exc}")

    def make(name: str) -> LocalNode:
        store = "detente.db"
        if request.param == "postgres":
            schema = f"f_{name}_{uuid.uuid4().hex[:10]}"
            schemas.append(schema)
            store = f"{PG_URL}#{schema}"
        node = LocalNode(name, f"{name}.detente.example/log", tmp_path / name, store=store).init()
        made.append(node)
        return node

    yield make
    for node in made:
        node.stop(kill=True)
    if schemas:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                for suffix in ("_fork", "_sealed_amber", "_sealed_red"):  # the fork's; the sealed incidents'
                    conn.execute(f"DROP SCHEMA IF EXISTS {schema}{suffix} CASCADE")


class FaultProxy:
    """A proxy on loopback in front of a node that fails the way a network or a peer does.

    - ``partition()`` drops every connection (and refuses new ones) until ``heal()``.
    - Slow: ``delay`` seconds before each chunk of a response, and ``rate`` (bytes a second, 0 for
      none) a bandwidth cap on responses. Both can be changed at any time; a chunk already waiting
      sees the new value at once.
    - With ``http=True`` it speaks HTTP/1.1 (one request at a time per connection) instead of
      piping bytes: while ``recording`` it keeps every GET response by path, and after
      ``replay()`` it answers GETs from those recordings instead of asking the node (a stale
      cache, or a peer replaying old answers) until ``fresh()``.
    """

    def __init__(self, target_port: int, *, http: bool = False) -> None:
        import socket
        import threading

        self.target_port = target_port
        self.http = http
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.partitioned = False
        self.refused = 0
        self.accepted = 0
        self.delay = 0.0
        self.rate = 0
        self.recording = True
        self.replaying: str | int | None = None  # "oldest", "newest", or the n-th recorded response
        self.replay_only = "/"  # replay only the paths that start with this
        self.recorded: dict[str, list[tuple[int, str, list[tuple[str, str]], bytes]]] = {}
        self.forwarded: list[str] = []  # "GET /log/checkpoint", ... in the order the node was asked
        self.replayed: list[str] = []  # paths answered from a recording
        self._closed = False
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.partitioned:
                self.refused += 1
                client.close()
                continue
            self.accepted += 1
            if self.http:
                with self._lock:
                    self._conns.append(client)
                threading.Thread(target=self._serve_http, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b, slow in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pipe, args=(a, b, slow), daemon=True).start()

    def _wait(self, seconds: Callable[[], float]) -> None:
        """Sleep until ``seconds()`` (re-read as it goes) have passed since the call."""
        import time

        start = time.monotonic()
        while not self._closed and time.monotonic() - start < seconds():
            time.sleep(0.01)

    def _send(self, sock, data: bytes) -> None:  # type: ignore[no-untyped-def]
        """Send a response chunk, after ``delay`` and at no more than ``rate`` bytes a second."""
        self._wait(lambda: self.delay)
        while data:
            rate = self.rate
            piece = max(1, rate // 20) if rate else len(data)
            sock.sendall(data[:piece])
            data = data[piece:]
            if rate and data:
                self._wait(lambda n=piece: n / self.rate if self.rate else 0.0)

    def _pipe(self, src, dst, slow: bool) -> None:  # type: ignore[no-untyped-def]
        try:
            while data := src.recv(65536):
                if slow:
                    self._send(dst, data)
                else:
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def _stale(self, method: str, path: str) -> tuple[int, str, list[tuple[str, str]], bytes] | None:
        """The recorded answer to replay for this request, if any. A partial tile never recorded
        at this width is answered with the widest recording of the same tile (an older, narrower
        one: what a stale cache would serve)."""
        if self.replaying is None or method != "GET" or not path.startswith(self.replay_only):
            return None
        pick = 0 if self.replaying == "oldest" else -1 if self.replaying == "newest" else int(self.replaying)
        if path in self.recorded:
            return self.recorded[path][pick]
        if path.startswith("/log/tile/"):
            tile = path.split(".p/")[0]
            same = [r[pick] for p, r in list(self.recorded.items()) if p.split(".p/")[0] == tile]
            if same:
                return max(same, key=lambda r: len(r[3]))
        return None

    def _serve_http(self, client) -> None:  # type: ignore[no-untyped-def]
        import http.client

        upstream = http.client.HTTPConnection("127.0.0.1", self.target_port, timeout=30)
        reader = client.makefile("rb")
        hop = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
        try:
            while line := reader.readline(65536):
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (h := reader.readline(65536)) not in (b"\r\n", b"\n", b""):
                    name, _, value = h.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = reader.read(length) if length else None
                answer = self._stale(method, path)
                if answer is not None:
                    self.replayed.append(path)
                else:
                    self.forwarded.append(f"{method} {path}")
                    upstream.request(
                        method, path, body=body, headers={k: v for k, v in headers.items() if k not in hop}
                    )
                    resp = upstream.getresponse()
                    kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in hop]
                    answer = (resp.status, resp.reason, kept, resp.read())
                    if self.recording and method == "GET" and resp.status == 200:
                        self.recorded.setdefault(path, []).append(answer)
                status, reason, kept, content = answer
                head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept)
                self._send(client, f"{head}content-length: {len(content)}\r\n\r\n".encode("latin-1") + content)
        except (OSError, ValueError, http.client.HTTPException):
            pass
        finally:
            upstream.close()
            for s in (reader, client):
                with contextlib.suppress(OSError):
                    s.close()

    def replay(self, which: str | int = "oldest", *, only: str = "/") -> None:
        """From now on answer GETs of the paths under ``only`` from the recordings (the ``oldest``,
        ``newest`` or ``which``-th of each path); the others still go to the node."""
        self.replaying, self.replay_only = which, only

    def fresh(self) -> None:
        self.replaying = None

    def partition(self) -> None:
        import socket

        self.partitioned = True
        with self._lock:
            for s in self._conns:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked on it, unlike close()
                with contextlib.suppress(OSError):
                    s.close()
            self._conns.clear()

    def heal(self) -> None:
        self.partitioned = False

    def close(self) -> None:
        self._closed = True
        self.partition()
        self.server.close()


@pytest.fixture
def fault_proxy() -> Iterator[Callable[..., FaultProxy]]:
    """``fault_proxy(port, http=False)``: a :class:`FaultProxy` in front of ``port``, closed at the end."""
    made: list[FaultProxy] = []

    def make(port: int, *, http: bool = False) -> FaultProxy:
        made.append(FaultProxy(port, http=http))
        return made[-1]

    yield make
    for p in made:
        p.close()


@pytest.fixture
def trickler() -> Iterator[Callable[[bytes, bytes, float], str]]:
    """``trickler(head, drip, interval)``: the URL of a loopback server that answers every request
    with ``head``, then ``drip`` every ``interval`` seconds until the test ends: each read well
    within any timeout, the answer never done."""
    servers: list[socket.socket] = []
    stop = threading.Event()

    def serve(conn: socket.socket, head: bytes, drip: bytes, interval: float) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(head)
                while not stop.wait(interval):
                    conn.sendall(drip)
            except OSError:
                return

    def make(head: bytes, drip: bytes, interval: float) -> str:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def accept() -> None:
            while not stop.is_set():
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                threading.Thread(target=serve, args=(conn, head, drip, interval), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return f"http://127.0.0.1:{server.getsockname()[1]}"

    yield make
    stop.set()
    for server in servers:
        server.close()


class MailServer:
    """A real SMTP server on loopback (aiosmtpd); ``messages`` holds what it accepted, parsed."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        from detente.node.localnet import free_port

        self.raw: list[str] = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
                outer.raw.append(envelope.content.decode("utf-8", "replace"))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.controller.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_string(m, policy=default, _class=EmailMessage) for m in list(self.raw)]

    def use_for(self, node: LocalNode, *, alert_to: str = "") -> None:
        """Point a (stopped) node's configuration at this server."""
        config = node.directory / "detente.toml"
        text = config.read_text().replace('smtp = ""', f'smtp = "{self.url}"')
        config.write_text(text.replace('alert_email_to = ""', f'alert_email_to = "{alert_to}"'))


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer()
    yield server
    server.controller.stop()
