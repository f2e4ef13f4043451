"""The peers a node follows: their pinned rows, their sync status, a keep-alive HTTP client each,
and their mirrors. A pin passes :func:`detente.node.pins.check_pin` before it is stored; a stored
row that fails it is not followed (the node starts and reports it)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from detente.crypto.keys import VerifierKey
from detente.errors import DetenteError, LogNotFound
from detente.node.client import PeerClient
from detente.node.keyring import KeyRing
from detente.node.pins import check_pin
from detente.node.tilelog import TileLog
from detente.store.node_protocol import NodeStore, PeerRow
from detente.store.protocol import LogStore

__all__ = ["PeerStatus", "Peers"]

log = logging.getLogger(__name__)


@dataclass
class PeerStatus:
    name: str
    origin: str
    url: str
    mirrored_size: int = 0
    last_sync: float | None = None
    last_error: str | None = None
    failures: int = 0
    witness_size: int = 0
    """The size of our checkpoint this peer last cosigned."""
    hint: threading.Event = field(default_factory=threading.Event)
    syncing: threading.Lock = field(default_factory=threading.Lock)
    """Held while this peer is pulled: a manual sync waits for the background one, never races it."""
    last_heard: float | None = None
    """When this peer last answered a pull with a validly signed checkpoint, or asked this node to
    cosign one (``None``: not since this node started)."""


class Peers:
    def __init__(
        self, state: NodeStore, logs: LogStore, keyring: KeyRing, own_name: str, own_origin: str, timeout: float
    ) -> None:
        self.state = state
        self.logs = logs
        self.keyring = keyring
        self.own_name = own_name
        self.own_origin = own_origin
        self.timeout = timeout
        self.status: dict[str, PeerStatus] = {}
        self.bad: dict[str, str] = {}
        """Pinned rows the node does not follow, and why (shown in ``/api/v1/status``)."""
        self._clients: dict[str, PeerClient] = {}
        self._lock = threading.Lock()

    def reload(self) -> list[str]:
        """Follow every pinned peer not followed yet; the names newly followed. A row that fails
        the pin checks (kept by an older version, or written to the store by hand) is not followed."""
        rows = self.state.peers()
        new = []
        for row in rows:
            if row.name in self.status:
                continue
            try:
                origin = check_pin(row, self.own_name, self.own_origin, rows).name
                status = PeerStatus(row.name, origin, row.url)
                status.mirrored_size = self.mirror(row).size
            except DetenteError as exc:
                self.bad[row.name] = exc.message
                log.error("peer-not-followed peer=%s error=%s", row.name, exc.message)
                continue
            self.bad.pop(row.name, None)
            self.status[row.name] = status
            new.append(row.name)
        return new

    def add(self, row: PeerRow) -> None:
        """Pin a new peer (refused, and nothing stored, if the pin could hurt)."""
        check_pin(row, self.own_name, self.own_origin, self.state.peers())
        self.state.add_peer(row)
        self.reload()

    def followed(self) -> list[PeerRow]:
        """The pinned peers this node follows (rows that failed the pin checks left out)."""
        return [row for row in self.state.peers() if row.name in self.status and row.name not in self.bad]

    def row(self, name: str) -> PeerRow:
        for row in self.state.peers():
            if row.name == name:
                return row
        raise LogNotFound(f"no peer {name!r}", hint="list the pinned peers: GET /api/v1/peers")

    def by_origin(self, origin: str) -> PeerRow | None:
        """The followed peer whose log is ``origin`` (a row the node does not follow is none)."""
        for row in self.state.peers():
            status = self.status.get(row.name)
            if status is not None and status.origin == origin and row.name not in self.bad:
                return row
        return None

    def mirror(self, row: PeerRow) -> TileLog:
        history = self.keyring.history(VerifierKey.parse(row.vkey).name, row.vkey)
        return TileLog.mirror(self.logs, history.pinned, keys=history.keys)

    def client(self, row: PeerRow) -> PeerClient:
        """One keep-alive HTTP client per peer (creating one costs tens of milliseconds)."""
        with self._lock:
            client = self._clients.get(row.name)
            read = (row.read_url or row.url).rstrip("/")
            if client is None or client.base != read or client.witness_base != row.url.rstrip("/"):
                client = self._clients[row.name] = PeerClient(read, timeout=self.timeout, witness_url=row.url)
            return client

    def heard(self, origin: str, at: float) -> None:
        """The peer whose log is ``origin`` showed it is alive (a signed checkpoint) at ``at``."""
        for status in self.status.values():
            if status.origin == origin and (status.last_heard is None or at > status.last_heard):
                status.last_heard = at

    def hint(self, origin: str) -> None:
        """A peer told us (by a checkpoint signed with its key) that its log grew."""
        for status in self.status.values():
            if status.origin == origin:
                status.hint.set()

    def close(self) -> None:
        for status in self.status.values():
            status.hint.set()
        with self._lock:
            for client in self._clients.values():
                client.close()
