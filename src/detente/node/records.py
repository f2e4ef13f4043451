"""The records a node holds (its own log and its mirrors), indexed in its store.

Every entry is parsed once, when it is first seen, and indexed in the node store by origin, index
and type (:meth:`~detente.store.node_protocol.NodeStore.add_records`), with the records it refers
to and, for a record that opens a protocol thread, the thread's time and whether this party is in
it; reads are queries, and nothing is kept in memory between them. The protocol loop reads only the
threads not yet settled and the records that refer to them; the inbox reads one page of threads.

Schemas at the border: a mirrored record that does not validate against the catalogue schema of
its type is quarantined. Its entry stays in the mirror, which is append-only and verifiable, and
its index row says why; it is never given to the protocol or a desk, and ``/api/v1/status`` lists it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from detente.crypto.dsse import Envelope
from detente.errors import DetenteError
from detente.node.peers import Peers
from detente.node.sync import SyncResult
from detente.node.tilelog import TileLog
from detente.protocol.threads import COMMITMENT_TYPES, PROTOCOL_TYPES, WITHHELD, Logged, opens_thread
from detente.records.catalogue import RECEIPT, validate_record
from detente.records.record import Record
from detente.store.node_protocol import NodeStore, RecordRow, ThreadMark
from detente.tlog.hashing import leaf_hash

__all__ = ["RecordBook", "issued_window", "parsed", "read_issued"]

log = logging.getLogger(__name__)

_CHUNK = 1024  # entries parsed and indexed per transaction while catching up


class RecordBook:
    def __init__(self, own: Callable[[], TileLog], peers: Peers, state: NodeStore) -> None:
        self._own = own
        self.peers = peers
        self.state = state
        self._lock = threading.Lock()

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
        me = self._own().origin
        rows = []
        for item, payload in items:
            rec = item.record
            problem = None
            try:
                validate_record(rec)
            except DetenteError as exc:
                problem = f"{rec.type}: {exc.message}"[:500]
                if origin != me:
                    log.warning("quarantine origin=%s index=%d reason=%s", origin, item.index, exc.message)
            thread = None
            if opens_thread(rec) or (
                rec.type == WITHHELD and not rec.to
            ):  # a withheld notice: seen by all, owes nothing
                involved = origin == me or me in rec.to or not rec.to
                thread = ThreadMark(_sortable(rec.issued), involved, settled=not rec.to)
            refs = tuple((r.origin, r.index) for r in rec.refs)
            rows.append(
                RecordRow(
                    origin, item.index, item.leaf_hash, rec.type, payload, problem, refs, thread, _sortable(rec.issued)
                )
            )
        if rows:
            self.state.add_records(rows)  # a thread a new record refers to is due at the next turn
        if any(r.problem is None and r.type in COMMITMENT_TYPES for r in rows):
            self.state.touch_threads()  # the agreement binding a thread's parties may have changed

    def catch_up(self) -> list[TileLog]:
        """Index every entry not indexed yet, of the own log and every followed mirror; the logs."""
        logs = self._logs()
        with self._lock:
            for tlog in logs:
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
        """Every admitted record of the protocol's types (read from the store for this call)."""
        return self.of_type(PROTOCOL_TYPES)

    def of_type(self, types: Collection[str] | None = None) -> list[Logged]:
        """Admitted records (of ``types``; every type when ``None``), own log first, each in order.
        Read from the store: a call holds them, the node does not."""
        self.catch_up()
        return self.indexed(types)

    def _origins(self) -> list[str]:
        return [self._own().origin, *(self.peers.status[row.name].origin for row in self.peers.followed())]

    def indexed(self, types: Collection[str] | None = None) -> list[Logged]:
        """Like :meth:`of_type`, as far as the index goes now (for a caller that has just caught up:
        catching up refreshes and verifies every mirror's checkpoint)."""
        return [_parse(r) for origin in self._origins() for r in self.state.records(origin, types=types)]

    def threads(
        self, *, unsettled: bool = False, limit: int | None = None, offset: int = 0
    ) -> tuple[int, list[Logged]]:
        """How many threads this party is in (only unsettled ones, if asked) and their opening
        records, newest first, ``offset`` … ``offset + limit``."""
        self.catch_up()
        count, rows = self.state.threads(unsettled=unsettled, limit=limit, offset=offset)
        return count, [_parse(r) for r in rows]

    def with_replies(self, subjects: list[Logged]) -> list[Logged]:
        """``subjects``, every admitted record that refers to one of them, and the commitment
        records (which decide the agreement a thread runs under): all :func:`evaluate` needs."""
        keys = [(x.origin, x.index) for x in subjects]
        replies = [_parse(r) for r in self.state.referrers(keys)]
        return [*subjects, *replies, *self.indexed(COMMITMENT_TYPES)]  # the caller has just caught up

    def receipted(self, origin: str, index: int, me: str) -> bool:
        """Whether ``me`` has logged a receipt for ``origin#index`` (as far as the index knows)."""
        return any(r.origin == me and r.type == RECEIPT for r in self.state.referrers([(origin, index)]))

    def settle(self, keys: list[tuple[str, int]]) -> None:
        """These threads have every obligation met: the protocol loop need not read them again."""
        self.state.settle(keys)

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


def _sortable(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def issued_window(since: datetime | None, until: datetime | None) -> tuple[str | None, str | None]:
    """``since`` … ``until`` as the store's time index reads them (either open: ``None``), a second
    wider each way: an older store's times were read to the millisecond, so the caller checks each
    record's own time against the exact window."""
    second = timedelta(seconds=1)
    return (None if since is None else _sortable(since - second), None if until is None else _sortable(until + second))


def _parse(row: RecordRow) -> Logged:
    return Logged(row.origin, row.index, row.leaf_hash, Record.from_json(row.record))


def parsed(rows: Iterable[RecordRow]) -> list[Logged]:
    """Index rows read from the store, parsed for one call (their entries were verified when logged
    or mirrored)."""
    return [_parse(r) for r in rows]


def read_issued(
    state: NodeStore,
    origins: Sequence[str],
    since: datetime | None = None,
    until: datetime | None = None,
    types: Collection[str] | None = None,
    *,
    body: tuple[str, str] | None = None,
) -> list[Logged]:
    """The admitted records of ``origins`` issued at ``since`` or later and before ``until`` (either
    open), of ``types`` (every type when ``None``), whose body field ``body[0]`` is ``body[1]``: read
    through the store's index by time or by type (:meth:`NodeStore.records_issued`), never by walking
    the logs, and parsed for this call only. As far as the index goes: the caller catches up first."""
    wide_since, wide_until = issued_window(since, until)
    rows = state.records_issued(origins, since=wide_since, until=wide_until, types=types, body=body)
    out = [_parse(r) for r in rows]
    return [
        x for x in out if (since is None or since <= x.record.issued) and (until is None or x.record.issued < until)
    ]
