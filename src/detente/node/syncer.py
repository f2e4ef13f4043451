"""Pulls each peer: when it hints (a witness request or push), and every ``sync_interval`` as a
fallback, backing off while it fails. One sync of one peer at a time; nothing a peer serves ends
the loop (:mod:`detente.node.loops`), and every failure shows in ``/api/v1/status``. After a
sync, the records it verified are kept, receipts are issued, and a witness that is reachable
again is asked to cosign at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from detente.crypto.keys import VerifierKey
from detente.errors import DetenteError, StoreUnavailable
from detente.node.config import NodeConfig
from detente.node.keyring import KeyRing
from detente.node.loops import Loops, describe
from detente.node.peers import Peers
from detente.node.receipts import Receipts
from detente.node.records import RecordBook
from detente.node.sync import Fork, SyncResult, sync_peer
from detente.node.tilelog import TileLog
from detente.node.timebook import TimeBook
from detente.node.verify_pool import VerifyPool
from detente.store.node_protocol import PeerRow

__all__ = ["Syncer"]

log = logging.getLogger(__name__)


class Syncer:
    def __init__(
        self,
        config: NodeConfig,
        own: TileLog,
        peers: Peers,
        keyring: KeyRing,
        records: RecordBook,
        receipts: Receipts,
        on_fork: Callable[[Fork], object],
        want_publish: threading.Event,
        clock: Callable[[], float],
        loops: Loops,
        pool: VerifyPool | None = None,
    ) -> None:
        self.config = config
        self.own = own
        self.peers = peers
        self.keyring = keyring
        self.records = records
        self.receipts = receipts
        self.on_fork = on_fork
        self.want_publish = want_publish
        self.clock = clock
        self.timebook = TimeBook(peers.state)
        self.loops = loops
        self.pool = pool

    def start(self) -> None:
        """Pull every followed peer on a thread of its own, at once (catching up after downtime)."""
        for name in list(self.peers.status):
            self._spawn(name)

    def follow(self, row: PeerRow) -> None:
        """Pin a new peer and, if the loops run, start pulling it."""
        self.peers.add(row)
        if self.loops.running:
            self._spawn(row.name)

    def wake(self) -> None:
        """Hint every peer's loop (so a stopping node's loops see it at once)."""
        for status in self.peers.status.values():
            status.hint.set()

    def _spawn(self, name: str) -> None:
        self.loops.spawn(f"sync-{name}", lambda: self.loop(name))
        self.peers.status[name].hint.set()

    def sync(self, name: str) -> SyncResult:
        """Pull peer ``name`` now (after any sync of it already running)."""
        self.peers.row(name)  # an unknown peer: LogNotFound
        status = self.peers.status[name]
        with status.syncing:
            return self.run_once(name)

    def run_once(self, name: str) -> SyncResult:
        status = self.peers.status[name]
        row = self.peers.row(name)  # read again: a sync that just finished may have moved its keys
        try:
            history = self.keyring.history(VerifierKey.parse(row.vkey).name, row.vkey)
            result = sync_peer(
                TileLog.mirror(self.peers.logs, history.pinned, keys=history.keys),
                history,
                self.peers.client(row),
                self.on_fork,
                lambda h, events: self.keyring.learn(row, h, events),
                max_bytes=self.config.sync_max_bytes,
                max_seconds=self.config.sync_max_seconds,
                pool=self.pool,
            )
        except DetenteError as exc:
            status.failures += 1
            status.last_error = exc.message
            raise
        except Exception as exc:  # an untyped error on a peer's input is a bug; never a dead thread or a 500
            status.failures += 1
            status.last_error = describe(exc)
            log.exception("sync peer=%s", name)
            raise StoreUnavailable(
                f"sync of {name} failed on what it served: {status.last_error}",
                hint="nothing was mirrored; see the node's log for the trace and report it",
            ) from exc
        status.mirrored_size = result.size
        status.last_sync = self.clock()
        if result.fork is None:
            self._note_time(row, result)
        self.records.remember(result)
        if status.witness_size < self.own.size and row.cosigner_vkey:
            self.want_publish.set()  # the peer is reachable again: ask it to cosign now, not after a backoff
        status.failures = 0
        self.receipts.issue(row)
        status.last_error = None if result.fork is None else f"fork: {result.fork.detail}"
        return result

    def _note_time(self, row: PeerRow, result: SyncResult) -> None:
        """What this sync tells about time: the peer answered (heard from now), when this node first
        held the new entries, and the cosignatures on the peer's checkpoint from witnesses whose keys
        this node pins (each verified; see :class:`~detente.node.timebook.TimeBook`)."""
        now = self.clock()
        self.peers.heard(result.origin, now)
        if result.size > result.old_size:
            self.timebook.mirrored(result.origin, result.size, now, self.peers.own_origin)
        if result.note:
            keys = [p.cosigner_vkey for p in self.peers.followed() if p.cosigner_vkey and p.name != row.name]
            self.timebook.served(result.note, keys)

    def loop(self, name: str) -> None:
        """Pull peer ``name`` when hinted and every ``sync_interval``; back off while it fails."""
        status, loops = self.peers.status[name], self.loops
        turn = f"sync:{name}"
        while not loops.stopping.is_set():
            status.hint.wait(loops.backoff(turn, self.config.sync_interval) or self.config.sync_interval)
            status.hint.clear()
            if loops.stopping.is_set():
                return
            loops.run(turn, lambda: self.sync(name))
