"""The records a node holds: its own log and its mirrors, parsed once and kept, with the
quarantine of mirrored records that fail their catalogue schema.

Schemas at the border: a mirrored record that does not validate against the catalogue schema of
its type is quarantined. Its entry stays in the mirror, which is append-only and verifiable, but it
is never given to the protocol or a desk, and ``/api/v1/status`` lists it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from detente.crypto.dsse import Envelope
from detente.errors import DetenteError
from detente.node.peers import Peers
from detente.node.sync import SyncResult
from detente.node.tilelog import TileLog
from detente.protocol.threads import Logged
from detente.records.catalogue import validate_record
from detente.records.record import Record
from detente.tlog.hashing import leaf_hash

__all__ = ["RecordBook"]

log = logging.getLogger(__name__)


class RecordBook:
    def __init__(self, own: Callable[[], TileLog], peers: Peers) -> None:
        self._own = own
        self.peers = peers
        self._lock = threading.Lock()
        self._cache: dict[str, list[Logged]] = {}
        self.quarantine: dict[tuple[str, int], str] = {}
        """Mirrored records that failed their catalogue schema: (origin, index) → why."""

    @staticmethod
    def logged(tlog: TileLog, start: int, end: int) -> list[Logged]:
        out = []
        for i, entry in enumerate(tlog.entries(start, end), start):
            payload = Envelope.from_json(entry).payload  # verified when it was logged or mirrored
            out.append(Logged(tlog.origin, i, leaf_hash(entry).hex(), Record.from_json(payload)))
        return out

    def _screen(self, items: list[Logged]) -> None:
        """Quarantine the mirrored records among ``items`` that fail their schema (under ``_lock``)."""
        own = self._own().origin
        for item in items:
            if item.origin == own or (item.origin, item.index) in self.quarantine:
                continue
            try:
                validate_record(item.record)
            except DetenteError as exc:
                self.quarantine[(item.origin, item.index)] = f"{item.record.type}: {exc.message}"[:500]
                log.warning("quarantine origin=%s index=%d reason=%s", item.origin, item.index, exc.message)

    def _admitted(self, items: list[Logged]) -> list[Logged]:
        bad = self.quarantine
        return [x for x in items if not bad or (x.origin, x.index) not in bad]

    def all(self) -> list[Logged]:
        """Every record of the own log and of every mirror (each parsed once, then cached)."""
        own = self._own()
        logs = [own] + [self.peers.mirror(row) for row in self.peers.followed()]
        with self._lock:
            for tlog in logs:
                cached = self._cache.setdefault(tlog.origin, [])
                size = tlog.refresh().size if tlog is not own else tlog.size
                if size > len(cached):
                    items = self.logged(tlog, len(cached), size)
                    self._screen(items)
                    cached.extend(items)
            return [x for tlog in logs for x in self._admitted(self._cache[tlog.origin])]

    def at(self, origin: str, index: int) -> list[Logged]:
        """The record at ``origin#index`` in this node's own log or a mirror (empty if none, or
        quarantined)."""
        own = self._own()
        if origin == own.origin:
            tlog = own
        else:
            row = self.peers.by_origin(origin)
            if row is None:
                return []
            tlog = self.peers.mirror(row)
            tlog.refresh()
        if not 0 <= index < tlog.size:
            return []
        items = self.logged(tlog, index, index + 1)
        with self._lock:
            self._screen(items)
            return self._admitted(items)

    def remember(self, result: SyncResult) -> None:
        """Keep the records a sync just verified and parsed, so that receipts and the protocol loop
        do not read and parse them again (only when they continue the cache exactly)."""
        if not result.opened:
            return
        with self._lock:
            cached = self._cache.setdefault(result.origin, [])
            if len(cached) == result.old_size:
                items = [
                    Logged(result.origin, result.old_size + i, o.leaf_hash.hex(), o.record)
                    for i, o in enumerate(result.opened)
                ]
                self._screen(items)
                cached.extend(items)

    def mirrored(self, mirror: TileLog, start: int, end: int) -> list[Logged]:
        """Records ``start`` … ``end`` of a mirror (quarantined ones left out)."""
        with self._lock:
            cached = self._cache.get(mirror.origin, [])
            if len(cached) >= end:
                return self._admitted(cached[start:end])
        items = self.logged(mirror, start, end)
        with self._lock:
            self._screen(items)
            return self._admitted(items)
