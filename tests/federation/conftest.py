"""Real node processes on loopback, on each storage driver."""

from __future__ import annotations

import contextlib
import os
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
                conn.execute(f"DROP SCHEMA IF EXISTS {schema}_fork CASCADE")


class FaultProxy:
    """A TCP proxy on loopback that can partition (drop every connection) and heal."""

    def __init__(self, target_port: int) -> None:
        import socket
        import threading

        self.target_port = target_port
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.partitioned = False
        self.refused = 0
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
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src, dst) -> None:  # type: ignore[no-untyped-def]
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def partition(self) -> None:
        self.partitioned = True
        with self._lock:
            for s in self._conns:
                with contextlib.suppress(OSError):
                    s.close()
            self._conns.clear()

    def heal(self) -> None:
        self.partitioned = False

    def close(self) -> None:
        self.partition()
        self.server.close()


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[int], FaultProxy]]:
    made: list[FaultProxy] = []

    def make(port: int) -> FaultProxy:
        made.append(FaultProxy(port))
        return made[-1]

    yield make
    for p in made:
        p.close()


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
