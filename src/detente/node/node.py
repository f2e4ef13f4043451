"""A party's node, as a composition root: it builds the parts, wires them, starts and stops their
loops, and holds no business logic of its own.

- :mod:`~detente.node.writer` checks every record before it is signed and appends it through the
  :mod:`~detente.node.sequencer` (group commit); :mod:`~detente.node.records` reads the records.
- :mod:`~detente.node.publisher` asks every witnessing peer to cosign each new checkpoint;
  :mod:`~detente.node.witness_service` cosigns the peers' checkpoints in turn.
- :mod:`~detente.node.syncer` pulls each peer (verify, then mirror); :mod:`~detente.node.receipts`
  answers what arrived.
- :mod:`~detente.node.threads` runs the protocol and the inbox; :mod:`~detente.node.alarms` raises
  each fork once; :mod:`~detente.node.keys` rotates and revokes the log key;
  :mod:`~detente.node.peers` and :mod:`~detente.node.keyring` hold the pins and keys;
  :mod:`~detente.node.journal` keeps who did what through the node.
- Every background loop runs under :mod:`~detente.node.loops`: nothing ends it, everything shows.

The domain desks work for :class:`~detente.node.party.OwnParty` (the node as a party), never for this.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from detente.errors import StoreUnavailable
from detente.node.alarms import ALARM_TYPE, Alarms
from detente.node.alerts import Alerter
from detente.node.commitments import CommitmentDesk
from detente.node.config import NodeConfig, load_agreement
from detente.node.evals import EvalDesk
from detente.node.exportctl import ExportDesk
from detente.node.incidents import IncidentDesk
from detente.node.journal import Journal
from detente.node.keyfile import read_identity
from detente.node.keyring import KeyRing
from detente.node.keys import KeyDesk
from detente.node.loops import Loops
from detente.node.media import MediaDesk
from detente.node.party import OwnParty
from detente.node.peers import Peers
from detente.node.publisher import Publisher
from detente.node.receipts import Receipts
from detente.node.records import RecordBook
from detente.node.reports import ReportDesk
from detente.node.rotation import finish_rotation
from detente.node.sealed_incidents import SealedIncidents
from detente.node.sealing import SealDesk
from detente.node.sequencer import Sequencer
from detente.node.static_publish import static_copy
from detente.node.syncer import Syncer
from detente.node.threads import ProtocolDesk
from detente.node.tilelog import TileLog
from detente.node.verify_pool import VerifyPool
from detente.node.witness_service import WitnessService
from detente.node.writer import Signer, Writer
from detente.protocol.agreement import default_agreement
from detente.store.node_protocol import NodeStore
from detente.store.open import open_incident_index, open_journal, open_node_store, open_store

__all__ = ["Node"]


class Node:
    def __init__(self, config: NodeConfig, base: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.config, self.base, self.clock = config, base, clock
        store_url = self._store_url = config.store if "://" in config.store else str(base / config.store)
        identity = read_identity(base / config.key_file)
        if identity.name != config.origin:
            raise StoreUnavailable(f"key {identity.name!r} does not match origin {config.origin!r}")
        self.logs = open_store(store_url)
        self.state: NodeStore = open_node_store(store_url)
        self.journal = Journal(open_journal(store_url), clock)  # who did what through this node
        self.keyring = KeyRing(self.state)
        own = self.keyring.history(identity.name, str(identity.vkey()))
        identity = finish_rotation(base / config.key_file, self.logs, identity, own, self.keyring.keep)
        self.signer = Signer(identity)
        self.log = TileLog.create(self.logs, identity)
        self.log.trust(own.keys)  # the history above, with the rotation finish_rotation may have kept
        self.sequencer = Sequencer(self.log, max_batch=config.max_batch, max_wait=config.max_wait)
        agreement = load_agreement(base / config.agreement) if config.agreement else default_agreement(config.origin)
        self.agreement = agreement
        self.alerts = Alerter(
            identity,
            config.webhook_url,
            smtp=config.smtp,
            email_to=config.alert_email_to,
            email_from=config.alert_email_from,
        )
        self.loops = Loops(clock)
        self.peering = Peers(self.state, self.logs, self.keyring, config.name, identity.name, config.peer_timeout)
        self.records = RecordBook(lambda: self.log, self.peering, self.state)
        self.publisher = Publisher(self.log, self.peering, self.state, config.peer_timeout)
        wanted = self.publisher.wanted
        if config.publish_dir:  # the log's public side also as static files (docs/deploy.md)
            self.publisher.static = static_copy(self.publisher, base / config.publish_dir)
        self.writer = Writer(self.signer, self.sequencer, self.records, lambda: agreement, wanted.set, self.peering)
        self.sealing = SealDesk(identity.name, base, self.records, self.writer.append, clock)
        self.writer.sealer = self.sealing.seal  # TLP:AMBER and RED records are sealed to their recipients
        self.alarms = Alarms(self.state, self.writer.appender(ALARM_TYPE, clock), self.alerts, clock)
        self.receipts = Receipts(identity.name, self.writer, self.records, self.peering, self.state, self.alerts, clock)
        self.verify_pool = VerifyPool()  # worker processes start with the first large backlog
        self.syncer = Syncer(
            config,
            self.log,
            self.peering,
            self.keyring,
            self.records,
            self.receipts,
            self.alarms.raise_once,
            wanted,
            clock,
            self.loops,
            self.verify_pool,
        )
        self.protocol = ProtocolDesk(
            identity.name,
            config,
            agreement,
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
            self.records,
            self.keyring,
            self.alerts,
            clock,
            wanted.set,
        )
        self.witness = WitnessService(self.state, self.signer, self.peering, self.alarms.raise_once, clock)
        # --- the domain desks, each working for this node as a party --------------------------
        self.party = OwnParty(
            config,
            base,
            clock,
            self.log,
            self.state,
            agreement,
            self.signer,
            self.writer,
            self.records,
            self.peering,
            self.publisher,
            self.protocol,
        )
        self.commitments = CommitmentDesk(self.party)
        self.exportctl = ExportDesk(self.party)
        self.reports = ReportDesk(self.party)
        self.media = MediaDesk(self.party)
        self.evals = EvalDesk(self.party)
        self.media.opener = self.evals.opener = self.sealing.opened  # sealed bodies, read through the SealDesk
        self._incidents: IncidentDesk | None = None
        self._lock = threading.Lock()
        self.peering.reload()

    @property
    def incidents(self) -> IncidentDesk:
        """The incident desk (its index is opened on first use)."""
        with self._lock:
            if self._incidents is None:
                index = open_incident_index(self._store_url)
                sealed = SealedIncidents.beside(self.sealing, self._store_url, open_incident_index)
                wanted = tuple(self.config.early_warning_to)
                self._incidents = IncidentDesk(self.party, index, early_warning_to=wanted, sealed=sealed)
            return self._incidents

    # --- the background loops -------------------------------------------------------------------

    def start(self) -> None:
        self.loops.spawn("publisher", lambda: self.publisher.loop(self.loops, self.config.sync_interval))
        self.loops.spawn("protocol", lambda: self.protocol.loop(self.loops))
        self.syncer.start()
        self.publisher.wanted.set()

    def stop(self) -> None:
        self.loops.stopping.set()
        self.publisher.wanted.set()
        self.syncer.wake()
        self.loops.join(timeout=5)
        self.verify_pool.close()
        self.sequencer.close()
        self.publisher.close()
        self.peering.close()
        self.alerts.close()
        if self._incidents is not None:
            self._incidents.close()
        self.journal.close()
        self.state.close()
        self.logs.close()
