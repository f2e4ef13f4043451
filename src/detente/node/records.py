"""The records a node holds (its own log and its mirrors), indexed in its store.

Every entry is parsed once, when it is first seen, and indexed in the node store by origin, index
and type (:meth:`~detente.store.node_protocol.NodeStore.add_records`); reads are queries. Only the
records the protocol engine evaluates on every tick (:data:`~detente.protocol.threads.PROTOCOL_TYPES`)
are also kept parsed in memory; incidents, evaluation samples, rule packs and the rest are read from
the store when a desk asks for them, so memory does not grow with them.

Schemas at the border: a mirrored record that does not validate against the catalogue schema of
its type is quarantined. Its entry stays in the mirror, which is append-only and verifiable, and
its index row says why; it is never given to the protocol or a desk, and ``/api/v1/status`` lists it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterable

from detente.crypto.dsse import Envelope
from detente.errors import DetenteError
from detente.node.peers import Peers
from detente.node.sync import SyncResult
from detente.node.tilelog import TileLog
from detente.protocol.threads import PROTOCOL_TYPES, Logged
from detente.records.catalogue import validate_record
from detente.records.record import Record
from detente.store.node_protocol import NodeStore, RecordRow
from detente.tlog.hashing import leaf_hash

__all__ = ["RecordBook"]

log = logging.getLogger(__name__)

_CHUNK = 1024  # entries parsed and indexed per transaction while catching up


class RecordBook:
    def __init__(self, own: Callable[[], TileLog], peers: Peers, state: NodeStore) -> None:
        self._own = own
        self.peers = peers
        self.state = state
        self._lock = threading.Lock()
        self._protocol: dict[str, list[Logged]] = {}
        """Per origin, the admitted records of the protocol's types, parsed, in log order."""

    # --- indexing ---------------------------------------------------------------------------

    @staticmethod
    def logged(tlog: TileLog, start: int, end: int) -> list[Logged]:
        """Entries ``start`` … ``end`` of ``tlog`` parsed (verified when they were logged or mirrored)."""
        out = []
        for i, entry in enumerate(tlog.entries(start, end), start):
            payload = Envelope.from_json(entry).payload
            out.append(Logged(tlog.origin, i, leaf_hash(entry).hex(), Record.from_json(payload)))
        return out

    def _logs(self) -> list[TileLog]:
        mirrors = [self.peers.mirror(row) for row in self.peers.followed()]
        for mirror in mirrors:
            mirror.refresh()
        return [self._own(), *mirrors]

    def _index(self, origin: str, items: Iterable[tuple[Logged, bytes]]) -> None:
        """Index parsed records (under ``_lock``); each with the payload bytes the party signed."""
        own = origin == self._own().origin
        rows = []
        kept = self._protocol.setdefault(origin, [])
        for item, payload in items:
            problem = None
            try:
                validate_record(item.record)
            except DetenteError as exc:
                problem = f"{item.record.type}: {exc.message}"[:500]
                if not own:
                    log.warning("quarantine origin=%s index=%d reason=%s", origin, item.index, exc.message)
            rows.append(RecordRow(origin, item.index, item.leaf_hash, item.record.type, payload, problem))
            if problem is None and item.record.type in PROTOCOL_TYPES:
                kept.append(item)
        if rows:
            self.state.add_records(rows)

    def _load(self, origin: str) -> None:
        """The protocol's records of ``origin`` from the index, once per process (under ``_lock``)."""
        if origin not in self._protocol:
            rows = self.state.records(origin, types=PROTOCOL_TYPES)
            self._protocol[origin] = [_parse(r) for r in rows]

    def catch_up(self) -> list[TileLog]:
        """Index every entry not indexed yet, of the own log and every followed mirror; the logs."""
        logs = self._logs()
        with self._lock:
            for tlog in logs:
                self._load(tlog.origin)
                start = self.state.indexed_size(tlog.origin)
                for begin in range(start, tlog.size, _CHUNK):
                    end = min(begin + _CHUNK, tlog.size)
                    entries = tlog.entries(begin, end)
                    parsed = []
                    for i, entry in enumerate(entries, begin):
                        payload = Envelope.from_json(entry).payload
                        parsed.append(
                            (Logged(tlog.origin, i, leaf_hash(entry).hex(), Record.from_json(payload)), payload)
                        )
                    self._index(tlog.origin, parsed)
        return logs

    def remember(self, result: SyncResult) -> None:
        """Index the records a sync just verified and parsed (they are not parsed again), when they
        continue the index exactly."""
        if not result.opened:
            return
        with self._lock:
            self._load(result.origin)
            if self.state.indexed_size(result.origin) != result.old_size:
                return  # catch_up will read them from the mirror
            self._index(
                result.origin,
                (
                    (Logged(result.origin, result.old_size + i, o.leaf_hash.hex(), o.record), o.envelope.payload)
                    for i, o in enumerate(result.opened)
                ),
            )

    # --- reading ----------------------------------------------------------------------------

    def protocol(self) -> list[Logged]:
        """The admitted records the protocol engine evaluates, own log first, each log in order."""
        logs = self.catch_up()
        with self._lock:
            return [x for tlog in logs for x in self._protocol.get(tlog.origin, [])]

    def of_type(self, types: Collection[str] | None = None) -> list[Logged]:
        """Admitted records (of ``types``; every type when ``None``), own log first, each in order.
        Read from the store: a call holds them, the node does not."""
        logs = self.catch_up()
        if types is not None and set(types) <= PROTOCOL_TYPES:
            wanted = set(types)
            with self._lock:
                return [x for tlog in logs for x in self._protocol.get(tlog.origin, []) if x.record.type in wanted]
        return [_parse(r) for tlog in logs for r in self.state.records(tlog.origin, types=types)]

    def all(self) -> list[Logged]:
        """Every admitted record of every log held (read from the store: use :meth:`of_type`)."""
        return self.of_type(None)

    def at(self, origin: str, index: int, *, quarantined: bool = False) -> list[Logged]:
        """The record at ``origin#index`` in this node's own log or a mirror (empty if none; a
        quarantined one only when asked for, so that a desk can say what is wrong with it)."""
        if index < 0 or (origin != self._own().origin and self.peers.by_origin(origin) is None):
            return []
        self.catch_up()
        rows = self.state.records(origin, start=index, end=index + 1)
        if not rows and quarantined:
            rows = self.state.quarantined(origin, start=index, end=index + 1, limit=1)[1]
        return [_parse(r) for r in rows]

    def mirrored(self, mirror: TileLog, start: int, end: int) -> list[Logged]:
        """Admitted records ``start`` … ``end`` of a mirror."""
        if self.state.indexed_size(mirror.origin) < end:
            self.catch_up()
        return [_parse(r) for r in self.state.records(mirror.origin, start=start, end=end)]

    def quarantine(self, origin: str | None = None, limit: int = 200) -> tuple[int, list[RecordRow]]:
        """How many records (of ``origin``) are quarantined, and the first ``limit``."""
        return self.state.quarantined(origin, limit=limit)

    def quarantined_in(self, origin: str, start: int, end: int) -> dict[int, str]:
        """Index → why, for the quarantined records of ``origin`` in ``start`` … ``end``."""
        _, rows = self.state.quarantined(origin, start=start, end=end, limit=end - start)
        return {r.index: r.problem or "" for r in rows}


def _parse(row: RecordRow) -> Logged:
    return Logged(row.origin, row.index, row.leaf_hash, Record.from_json(row.record))
