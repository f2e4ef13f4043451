"""A party's node, as a composition root: it builds the parts, wires them, starts and stops their
threads, and holds no business logic of its own.

- :mod:`~detente.node.writer` checks every record before it is signed and appends it through the
  :mod:`~detente.node.sequencer` (group commit).
- :mod:`~detente.node.publisher` asks every witnessing peer to cosign each new checkpoint; that
  request is also the push hint.
- :mod:`~detente.node.syncer` pulls each peer (:mod:`~detente.node.sync`: verify, then mirror;
  a large backlog on every core through :mod:`~detente.node.verify_pool`);
  :mod:`~detente.node.receipts` answers what arrived; :mod:`~detente.node.records` holds the
  records, with the quarantine of invalid ones.
- :mod:`~detente.node.threads` runs the protocol (misses, escalation, reminders) and the inbox.
- :mod:`~detente.node.alarms` raises each fork once; :mod:`~detente.node.keys` rotates and revokes
  the log key; :mod:`~detente.node.peers` and :mod:`~detente.node.keyring` hold the pins and keys.
- Every background loop runs under :mod:`~detente.node.loops`: nothing ends it, everything shows.

Domain desks depend on :class:`~detente.node.party.Party`, which a node is; never on this module.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path

from detente.crypto.keys import Ed25519Identity
from detente.errors import StoreUnavailable
from detente.node.alarms import ALARM_TYPE, Alarms
from detente.node.alerts import Alerter
from detente.node.client import PeerClient
from detente.node.commitments import CommitmentDesk
from detente.node.config import NodeConfig, load_agreement
from detente.node.evals import EvalDesk
from detente.node.exportctl import ExportDesk
from detente.node.incidents import IncidentDesk
from detente.node.keyfile import read_identity
from detente.node.keyring import KeyRing
from detente.node.keys import KeyDesk
from detente.node.loops import Loops
from detente.node.media import MediaDesk
from detente.node.peers import Peers, PeerStatus
from detente.node.publisher import Publisher
from detente.node.receipts import Receipts
from detente.node.records import RecordBook
from detente.node.reports import ReportDesk
from detente.node.rotation import finish_rotation
from detente.node.sequencer import Sequenced, Sequencer
from detente.node.sync import Fork, SyncResult
from detente.node.syncer import Syncer
from detente.node.threads import ProtocolDesk
from detente.node.tilelog import TileLog
from detente.node.verify_pool import VerifyPool
from detente.node.writer import Signer, Writer
from detente.protocol.agreement import default_agreement
from detente.protocol.threads import Action, Logged
from detente.records.keys import KeyHistory
from detente.records.record import Record
from detente.records.text import BilingualText
from detente.store.node_protocol import NodeStore, PeerRow
from detente.store.open import open_incident_index, open_node_store, open_store

__all__ = ["ALARM_TYPE", "Node", "PeerStatus"]


class Node:
    def __init__(self, config: NodeConfig, base: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.base = base
        self.clock = clock
        store_url = self._store_url = config.store if "://" in config.store else str(base / config.store)
        identity = read_identity(base / config.key_file)
        if identity.name != config.origin:
            raise StoreUnavailable(f"key {identity.name!r} does not match origin {config.origin!r}")
        self.logs = open_store(store_url)
        self.state: NodeStore = open_node_store(store_url)
        self.keyring = KeyRing(self.state)
        own = self.keyring.history(identity.name, str(identity.vkey()))
        identity = finish_rotation(base / config.key_file, self.logs, identity, own, self.keyring.keep)
        self.signer = Signer(identity)
        self.log = TileLog.create(self.logs, identity)
        self.log.trust(own.keys)  # the history above, with the rotation finish_rotation may have kept
        self.sequencer = Sequencer(self.log, max_batch=config.max_batch, max_wait=config.max_wait)
        self.agreement = (
            load_agreement(base / config.agreement) if config.agreement else default_agreement(config.origin)
        )
        self.alerts = Alerter(
            identity,
            config.webhook_url,
            smtp=config.smtp,
            email_to=config.alert_email_to,
            email_from=config.alert_email_from,
        )
        self.peering = Peers(self.state, self.logs, self.keyring, config.name, identity.name, config.peer_timeout)
        self.records = RecordBook(lambda: self.log, self.peering, self.state)
        self.publisher = Publisher(self.log, self.peering, self.state, config.peer_timeout)
        self.writer = Writer(
            self.signer, self.sequencer, self.records, lambda: self.agreement, self.publisher.wanted.set, self.peering
        )
        self.alarms = Alarms(self.state, self._log_alarm, self.alerts, clock)
        self.loops = Loops(clock)
        self.receipts = Receipts(identity.name, self.writer, self.records, self.peering, self.state, self.alerts, clock)
        self.verify_pool = VerifyPool()  # worker processes start with the first large backlog
        self.syncer = Syncer(
            config,
            self.log,
            self.peering,
            self.keyring,
            self.records,
            self.receipts,
            self.raise_alarm,
            self.publisher.wanted,
            clock,
            self.verify_pool,
        )
        self.protocol = ProtocolDesk(
            identity.name,
            config,
            self.agreement,
            self.log,
            self.writer,
            self.records,
            self.peering,
            self.publisher,
            self.alerts,
            clock,
        )
        self.keys = KeyDesk(
            base / config.key_file,
            self.signer,
            self.log,
            self.sequencer,
            self.writer,
            self.keyring,
            self.alerts,
            clock,
            self.publisher.wanted.set,
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._incidents: IncidentDesk | None = None
        self.peering.reload()

    # --- what the parts are asked by the surfaces (and what a Party is) ----------------------

    @property
    def identity(self) -> Ed25519Identity:
        """The party's log key in force (it changes on rotation)."""
        return self.signer.identity

    @property
    def peers(self) -> dict[str, PeerStatus]:
        return self.peering.status

    @property
    def bad_peers(self) -> dict[str, str]:
        return self.peering.bad

    def append(self, record: Record) -> Sequenced:
        return self.writer.append(record)

    def append_many(self, records: list[Record], *, progress: Callable[[int], None] | None = None) -> list[Sequenced]:
        return self.writer.append_many(records, progress=progress)

    def all_records(self) -> list[Logged]:
        """Every admitted record held (read from the store: prefer :meth:`records_of`)."""
        return self.records.all()

    def records_of(self, types: Collection[str] | None = None) -> list[Logged]:
        return self.records.of_type(types)

    def protocol_records(self) -> list[Logged]:
        return self.records.protocol()

    def logged(self, tlog: TileLog, start: int, end: int) -> list[Logged]:
        return self.records.logged(tlog, start, end)

    def logged_at(self, origin: str, index: int) -> list[Logged]:
        return self.records.at(origin, index, quarantined=True)  # a desk checks what it reads

    def peer_row(self, name: str) -> PeerRow:
        return self.peering.row(name)

    def peer_by_origin(self, origin: str) -> PeerRow | None:
        return self.peering.by_origin(origin)

    def followed(self) -> list[PeerRow]:
        return self.peering.followed()

    def mirror(self, row: PeerRow) -> TileLog:
        return self.peering.mirror(row)

    def client(self, row: PeerRow) -> PeerClient:
        return self.peering.client(row)

    def key_history(self, origin: str, vkey: str) -> KeyHistory:
        return self.keyring.history(origin, vkey)

    def hint(self, origin: str) -> None:
        self.peering.hint(origin)

    def reload_peers(self) -> None:
        self.peering.reload()

    def add_peer(self, row: PeerRow) -> None:
        """Pin a new peer and, if the node is running, start pulling it."""
        self.peering.add(row)
        if self._threads:
            self._start_syncer(row.name)
            self.peers[row.name].hint.set()

    def sync(self, name: str) -> SyncResult:
        return self.syncer.sync(name)

    def issue_receipts(self, row: PeerRow) -> int:
        return self.receipts.issue(row)

    def publish(self) -> bool:
        return self.publisher.publish()

    def cosigned_checkpoint(self) -> bytes:
        return self.publisher.cosigned_checkpoint()

    def run_protocol(self) -> list[Action]:
        return self.protocol.run_protocol()

    def reply(
        self, origin: str, index: int, record_type: str, body: dict[str, object], text: BilingualText | None = None
    ) -> Sequenced:
        return self.protocol.reply(origin, index, record_type, body, text)

    def inbox(self, *, open_only: bool = False) -> list[dict[str, object]]:
        return self.protocol.inbox(open_only=open_only)

    def inbox_page(
        self, *, open_only: bool = False, limit: int | None = None, offset: int = 0
    ) -> tuple[int, list[dict[str, object]]]:
        return self.protocol.inbox_page(open_only=open_only, limit=limit, offset=offset)

    def rotate_key(self, reason: str = "") -> dict[str, object]:
        return self.keys.rotate(reason)

    def revoke_key(
        self, vkey: str, effective: datetime, reason: str, last_index: int | None = None
    ) -> dict[str, object]:
        return self.keys.revoke(self.records, vkey, effective, reason, last_index)

    def raise_alarm(self, fork: Fork) -> int | None:
        """Raise a fork alarm once per fork (see :mod:`detente.node.alarms`)."""
        return self.alarms.raise_once(fork)

    def _log_alarm(self, body: dict[str, object]) -> int:
        issued = datetime.fromtimestamp(self.clock(), UTC)
        return self.writer.append(Record(type=ALARM_TYPE, party=self.identity.name, issued=issued, body=body)).index

    # --- domain desks (each takes this node as its Party) -----------------------------------

    @property
    def commitments(self) -> CommitmentDesk:
        return CommitmentDesk(self)

    @property
    def exportctl(self) -> ExportDesk:
        return ExportDesk(self)

    @property
    def reports(self) -> ReportDesk:
        return ReportDesk(self)

    @property
    def media(self) -> MediaDesk:
        return MediaDesk(self)

    @property
    def evals(self) -> EvalDesk:
        return EvalDesk(self)

    @property
    def incidents(self) -> IncidentDesk:
        """The incident desk (its index is opened on first use)."""
        with self._lock:
            if self._incidents is None:
                self._incidents = IncidentDesk(
                    self, open_incident_index(self._store_url), early_warning_to=tuple(self.config.early_warning_to)
                )
            return self._incidents

    # --- background threads -----------------------------------------------------------------

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._publisher, name="detente-publisher", daemon=True),
            threading.Thread(target=self._protocol, name="detente-protocol", daemon=True),
        ]
        for t in self._threads:
            t.start()
        for name in self.peers:
            self._start_syncer(name)
        self.publisher.wanted.set()
        for status in self.peers.values():  # catch up at once after downtime
            status.hint.set()

    def _start_syncer(self, name: str) -> None:
        t = threading.Thread(
            target=self.syncer.loop, args=(name, self._stop, self.loops), name=f"detente-sync-{name}", daemon=True
        )
        self._threads.append(t)
        t.start()

    def _publisher(self) -> None:
        wanted = self.publisher.wanted
        while not self._stop.is_set():
            wanted.wait(self.loops.backoff("publisher", self.config.sync_interval) or self.config.sync_interval)
            wanted.clear()
            if not self._stop.is_set():
                self.loops.run("publisher", self.publisher.run_once)

    def _protocol(self) -> None:
        interval = self.config.protocol_interval
        while not self._stop.wait(self.loops.backoff("protocol", interval * 8) or interval):
            self.loops.run("protocol", self.protocol.run_once)

    def stop(self) -> None:
        self._stop.set()
        self.publisher.wanted.set()
        for status in self.peers.values():
            status.hint.set()
        for t in self._threads:
            t.join(timeout=5)
        self.verify_pool.close()
        self.sequencer.close()
        self.publisher.close()
        self.peering.close()
        self.alerts.close()
        if self._incidents is not None:
            self._incidents.index.close()
        self.state.close()
        self.logs.close()
