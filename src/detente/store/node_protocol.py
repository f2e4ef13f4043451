"""The storage contract for a node's own state: operator tokens, pinned peers, the witness's
latest cosigned checkpoint per log, and alarms. Logs themselves (the party's own and the
mirrors of its peers') live in a :class:`~detente.store.protocol.LogStore` in the same
database."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "NEVER",
    "AlarmRow",
    "DueThread",
    "KeyEventRow",
    "NodeStore",
    "PeerRow",
    "RecordRow",
    "ThreadMark",
    "TokenRow",
    "thread_topic",
    "thread_topics",
]


@dataclass(frozen=True)
class TokenRow:
    token_id: str
    secret_hash: bytes
    role: str
    label: str
    created: int
    expires: int | None
    revoked: int | None


@dataclass(frozen=True)
class PeerRow:
    name: str
    url: str
    vkey: str
    """The peer's pinned log key (type 0x01): verifies its checkpoints and records."""
    cosigner_vkey: str | None
    """The peer's witness key (type 0x04), if it cosigns our checkpoints."""
    added: int
    read_url: str | None = None
    """Where the peer's log is read (a static copy, ``detente publish``), if not at ``url``; its
    node at ``url`` still answers witness requests."""


@dataclass(frozen=True)
class AlarmRow:
    alarm_id: int
    origin: str
    kind: str
    detail: str
    at: int
    index: int | None
    """Where the alarm record sits in this node's own log."""


@dataclass(frozen=True)
class RecordRow:
    """One record of a log this node holds, as indexed (the log entry itself stays in the log)."""

    origin: str
    index: int
    leaf_hash: str
    type: str
    record: bytes
    """The record's JSON exactly as the party signed it (the DSSE payload)."""
    problem: str | None = None
    """Why it is quarantined (its body fails its catalogue schema); ``None``: admitted."""
    refs: tuple[tuple[str, int], ...] = ()
    """The records it refers to, (origin, index): how a reply finds its thread."""
    thread: ThreadMark | None = None
    """Set when the record opens a protocol thread (a notice, a hotline message, …)."""
    issued: str | None = None
    """When the record says it was issued, as sortable UTC text (as :attr:`ThreadMark.issued`): what
    :meth:`NodeStore.records_issued` reads a time window by. Set when indexing; read back only by
    :meth:`NodeStore.records_by_time` (``""``: a time the index could not read)."""


@dataclass(frozen=True)
class ThreadMark:
    """A record that opens a thread, as the node store keeps it for paging and the protocol loop."""

    issued: str
    """When the record says it was issued, as sortable UTC text (``YYYY-MM-DDTHH:MM:SS.ffffffZ``)."""
    involves_me: bool
    """Whether this node's party sent it or is among its recipients (only those are evaluated)."""
    settled: bool = False
    """Whether every obligation of the thread is met (the protocol loop then never reads it again)."""


NEVER = 2**62
"""A thread's next due time when nothing but a new record can change it (POSIX microseconds)."""


@dataclass(frozen=True)
class DueThread:
    """An unsettled thread whose evaluation is due (:meth:`NodeStore.due_threads`)."""

    row: RecordRow
    """Its opening record."""
    due: int
    """When it was due (POSIX microseconds; with the record's origin and index, the paging key)."""
    touched: int
    """How many records referring to it had been indexed when it was read: :meth:`NodeStore.reschedule`
    sets its next due time only if none was indexed since."""


@dataclass(frozen=True)
class KeyEventRow:
    """A log key event this node verified (``detente.records.keys``): ``pinned`` (index -1, the
    key pinned out of band), ``rotation`` or ``revocation`` (index = where its record is logged)."""

    origin: str
    index: int
    kind: str
    vkey: str
    last_index: int | None


@dataclass(frozen=True)
class TimeRow:
    """A time observation about log ``origin`` at ``size`` (:mod:`detente.protocol.timing`).

    ``kind`` ``cosigned``: witness ``source`` cosigned that checkpoint at POSIX ``at`` (``line``
    is its cosignature line, so anyone can verify it); ``mirrored``: this node (``source``) first
    held that size of a peer's log at ``at`` (``line`` empty)."""

    origin: str
    size: int
    source: str
    kind: str
    at: int
    line: str = ""


@dataclass(frozen=True)
class SealedFindingRow:
    """A sealed record addressed to this node that its node cannot read (``docs/sealed.md``)."""

    origin: str
    index: int
    reason: str
    type: str | None
    sender: str | None
    tlp: str | None
    at: int
    """When it was (last) noted, POSIX microseconds: the oldest are dropped past the bound."""


TOPIC_LIMIT = 200


def thread_topic(record: bytes) -> str | None:
    """The string field ``topic`` of a record's body, as the store keeps it for a thread's opening
    record (:meth:`NodeStore.threads_about` finds threads by it); ``None`` if there is none, or one
    no store keeps (longer than :data:`TOPIC_LIMIT`, or not text every driver can hold)."""
    try:
        body = json.loads(record).get("body")
        topic = body.get("topic") if isinstance(body, dict) else None
        if not isinstance(topic, str) or len(topic) > TOPIC_LIMIT or "\x00" in topic:
            return None
        topic.encode()  # a lone surrogate is no text
    except (ValueError, AttributeError, RecursionError):  # UnicodeError is a ValueError
        return None
    return topic


def thread_topics(rows: Iterable[tuple[str, int, bytes]]) -> list[tuple[str, int, str]]:
    """``(origin, index, topic)`` of the threads' opening records ``(origin, index, record)`` that
    have a topic (:func:`thread_topic`): the rows both drivers keep in ``thread_topics``."""
    return [(o, i, topic) for o, i, record in rows if (topic := thread_topic(bytes(record))) is not None]


class NodeStore(Protocol):
    """Durable node state. Every method is durable on return and safe across threads."""

    rows_read: int
    """How many record rows :meth:`records`, :meth:`records_issued`, :meth:`records_by_time`,
    :meth:`threads`, :meth:`threads_about`, :meth:`referrers` and :meth:`due_threads` have returned
    since the store was opened: what a view examined is the difference across it (a metric:
    concurrent reads may race on it)."""

    def add_token(self, row: TokenRow) -> None: ...

    def get_token(self, token_id: str) -> TokenRow | None: ...

    def revoke_token(self, token_id: str, at: int) -> bool:
        """Mark the token revoked; ``False`` if there is no such token."""
        ...

    def list_tokens(self) -> list[TokenRow]: ...

    def add_peer(self, row: PeerRow) -> None:
        """Pin a new peer. Raises :class:`~detente.errors.ConfigError` if the name exists:
        a pinned key is only replaced by removing the peer first, never silently."""
        ...

    def remove_peer(self, name: str) -> bool: ...

    def peers(self) -> list[PeerRow]: ...

    def witness_latest(self, origin: str) -> bytes | None:
        """The checkpoint this node last cosigned for ``origin`` (a signed note)."""
        ...

    def witness_swap(self, origin: str, old_size: int, size: int, note: bytes) -> bool:
        """Atomically store ``note`` as the latest cosigned checkpoint, only if the stored one
        has ``old_size`` (0 when there is none). ``False`` when another request won."""
        ...

    def save_cosigned(self, origin: str, note: bytes) -> None:
        """Keep our own latest checkpoint with the cosignatures collected for it (replaces)."""
        ...

    def load_cosigned(self, origin: str) -> bytes | None: ...

    def get_cursor(self, name: str) -> int:
        """A named progress marker (e.g. how far a peer's log has been receipted); 0 if unset."""
        ...

    def set_cursor(self, name: str, value: int) -> None: ...

    def add_alarm(self, origin: str, kind: str, detail: str, at: int, index: int | None) -> int: ...

    def alarms(self) -> list[AlarmRow]: ...

    def add_records(self, rows: Sequence[RecordRow]) -> None:
        """Index records, all or none (a row already indexed is left as it is); each thread an
        admitted record refers to becomes due (:meth:`due_threads`)."""
        ...

    def indexed_size(self, origin: str) -> int:
        """How many records of ``origin`` are indexed (indexing is in log order, without gaps)."""
        ...

    def records(
        self,
        origin: str,
        *,
        types: Collection[str] | None = None,
        start: int = 0,
        end: int | None = None,
        sealed: bool = False,
    ) -> list[RecordRow]:
        """Admitted records of ``origin`` (of ``types``; index ``start`` … ``end``), in log order.
        With ``sealed``, only those whose signed JSON holds the key ``"sealed"`` (every sealed record,
        and perhaps a few others: the caller checks), read through an index of them."""
        ...

    def records_issued(
        self,
        origins: Sequence[str],
        *,
        since: str | None = None,
        until: str | None = None,
        types: Collection[str] | None = None,
        body: tuple[str, str] | None = None,
    ) -> list[RecordRow]:
        """Admitted records of ``origins`` issued at ``since`` or later and before ``until``
        (sortable UTC text as :attr:`ThreadMark.issued`; ``None``: open), of ``types``, whose body
        field ``body[0]`` is the string ``body[1]``; by origin, then in log order. Read through an
        index by time (or by type), not by walking the logs. A record whose time the index could not
        read when an older store was migrated is included whatever the window: the caller checks."""
        ...

    def records_by_time(
        self, origins: Sequence[str], *, since: str, until: str, after: tuple[str, str, int] | None, limit: int
    ) -> list[RecordRow]:
        """One page of :meth:`records_issued` ``(origins, since=since, until=until)`` (every type),
        in time order: by (issued, origin, index), just after ``after`` (the last row's ``issued``,
        ``origin`` and ``index``; ``None``: from the start), at most ``limit`` rows, each with its
        ``issued`` set. The records whose time the index could not read come first (``issued``
        ``""``). Each page is one range of the time index: reading a window page by page costs what
        reading it at once does, and holds one page."""
        ...

    def quarantined(
        self, origin: str | None = None, *, start: int = 0, end: int | None = None, limit: int = 200
    ) -> tuple[int, list[RecordRow]]:
        """How many records (of ``origin``, index ``start`` … ``end``) are quarantined, and the
        first ``limit`` of them in log order."""
        ...

    def threads(
        self, *, unsettled: bool = False, limit: int | None = None, offset: int = 0
    ) -> tuple[int, list[RecordRow]]:
        """How many threads involve this node's party (only unsettled ones, if asked), and their
        opening records newest first, ``offset`` … ``offset + limit``."""
        ...

    def threads_about(
        self, origins: Sequence[str], record_type: str, topic: str, *, limit: int | None, offset: int = 0
    ) -> tuple[int, list[RecordRow]]:
        """How many threads of ``origins`` this party is in whose opening record is an admitted
        ``record_type`` whose body's ``topic`` is ``topic`` (:func:`thread_topic`), and those opening
        records newest first (issued, origin, index, each descending), ``offset`` … ``offset +
        limit``: counted and paged in the store through an index of the threads' topics (kept as
        records are added; an older store's threads get theirs once, on open), so the cost follows
        the threads of that topic and only the page's rows are returned."""
        ...

    def referrers(self, keys: Sequence[tuple[str, int]]) -> list[RecordRow]:
        """The admitted records that refer to any of ``keys`` (origin, index), each once."""
        ...

    def settle(self, keys: Sequence[tuple[str, int]]) -> None:
        """Mark these threads settled: every obligation met."""
        ...

    def due_threads(self, at: int, *, after: tuple[int, str, int] | None = None, limit: int = 1000) -> list[DueThread]:
        """Unsettled threads this party is in whose next evaluation is due at ``at`` (POSIX
        microseconds): a new thread, one a record referring to it was indexed for since it was last
        evaluated (:meth:`add_records` makes it due at once), or one whose next deadline has come.
        In (due, origin, index) order from just after ``after``, at most ``limit``."""
        ...

    def reschedule(self, rows: Sequence[tuple[str, int, int, int]]) -> None:
        """``(origin, index, touched, due)``: each thread's next due time (POSIX microseconds;
        :data:`NEVER`: only a new record can change it), set only if its ``touched`` is still the
        one :meth:`due_threads` read (else it stays due: something arrived meanwhile)."""
        ...

    def touch_threads(self) -> None:
        """Make every unsettled thread due at once (what binds them may have changed: the agreement,
        a commitment in force)."""
        ...

    def close(self) -> None:
        """Close the store's connections (the node calls it once its threads have stopped)."""
        ...

    def add_key_event(self, row: KeyEventRow) -> None:
        """Remember a verified key event (replaces one at the same origin and index)."""
        ...

    def key_events(self, origin: str) -> list[KeyEventRow]:
        """The key events kept for ``origin``, by index."""
        ...

    def update_peer_keys(self, name: str, vkey: str, cosigner_vkey: str | None) -> None:
        """Replace a peer's pinned keys: only ever with keys a verified rotation record named."""
        ...

    def add_times(self, rows: Sequence[TimeRow]) -> None:
        """Keep time observations; of two for one (origin, kind, source, size), the earlier."""
        ...

    def times(self, origin: str, kind: str) -> list[TimeRow]:
        """Every observation of ``kind`` kept for ``origin``, by size."""
        ...

    def note_sealed_finding(self, row: SealedFindingRow, *, keep: int) -> None:
        """Keep a sealed-record finding (replacing one at the same origin and index); then only the
        ``keep`` most recently noted are kept, the oldest dropped, so the table stays bounded."""
        ...

    def sealed_findings(self) -> list[SealedFindingRow]:
        """The kept sealed-record findings, by origin and index."""
        ...
