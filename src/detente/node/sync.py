"""Pull a peer's log, verify everything, mirror it, and raise alarms on forks.

One sync of one peer: fetch its signed checkpoint and verify it with the pinned key; fetch the
entries since the mirror's size; verify every record's signature and party; append them to the
local mirror only if they reproduce exactly the signed root (so the new tree provably extends
the one this node verified before). A checkpoint that cannot extend the mirror, or a second root
for a size already seen, is a fork: an alarm with both signed checkpoints as evidence.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from detente.crypto.keys import VerifierKey
from detente.crypto.note import parse_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import (
    ConsistencyError,
    DetenteError,
    MalformedCheckpoint,
    MalformedNote,
    SyncBudgetExceeded,
    UnknownKey,
    VerificationError,
)
from detente.node.client import PeerClient
from detente.node.tilelog import TileLog
from detente.node.verify_pool import VerifyPool
from detente.records.entry import OpenedEntry, open_entry
from detente.records.keys import KeyEvent, KeyHistory
from detente.tlog.checkpoint import Checkpoint, VerifiedCheckpoint, open_checkpoint
from detente.tlog.proofs import tree_root

__all__ = ["DEFAULT_MAX_BYTES", "Fork", "SyncResult", "sync_peer"]


@dataclass(frozen=True)
class Fork:
    """Evidence that a log showed two views: both notes are validly signed by its key. Kind
    ``revoked-key``: ``shown`` is a checkpoint or entry signed by a key the log revoked."""

    origin: str
    kind: str  # "equivocation" (two roots for one size), "inconsistent" (does not extend), "revoked-key"
    detail: str
    seen: bytes
    shown: bytes


@dataclass(frozen=True)
class SyncResult:
    origin: str
    old_size: int
    size: int
    records: int
    fork: Fork | None = None
    opened: tuple[OpenedEntry, ...] = ()
    """The records mirrored by this sync, already verified and parsed (index ``old_size`` on)."""
    key_events: tuple[KeyEvent, ...] = ()
    """Rotations and revocations this sync verified (already passed to ``on_keys``)."""
    note: bytes = b""
    """The peer's checkpoint as served (its cosignatures included), when its log signature verified
    and it matches the mirror; empty after a fork."""


DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""How many bytes of a peer's entries one sync holds before it gives up (``sync_max_bytes``)."""


@dataclass
class _Budget:
    """What one sync may hold and take; past either it fails and nothing is mirrored."""

    origin: str
    old_size: int
    max_bytes: int
    max_seconds: float
    deadline: float
    held: int = 0

    def spend(self, size: int) -> None:
        self.held += size
        if self.held > self.max_bytes:
            raise SyncBudgetExceeded(
                f"{self.origin!r} has over {self.max_bytes} bytes of new entries since size {self.old_size}",
                hint="nothing was mirrored; raise sync_max_bytes in detente.toml if this peer's backlog is genuine",
            )
        if time.monotonic() > self.deadline:
            raise SyncBudgetExceeded(
                f"sync of {self.origin!r} took over {self.max_seconds:g}s",
                hint="nothing was mirrored; the next pull starts again from the same size",
            )


def _spend(items: Iterable[tuple[int, bytes]], budget: _Budget) -> Iterator[tuple[int, bytes]]:
    """The entries as fetched, each counted against the budget before anything holds it."""
    for i, entry in items:
        budget.spend(len(entry))
        yield i, entry


def _open(history: KeyHistory, i: int, entry: bytes, pre: OpenedEntry | None) -> OpenedEntry:
    """Entry ``i`` verified with exactly ``K(i)`` (not revoked there): ``pre`` is the entry a
    worker already opened with that key (see :mod:`detente.node.verify_pool`)."""
    key = history.check_signer(i)
    return pre if pre is not None else open_entry(entry, [key])


def _open_checkpoint(note: bytes, history: KeyHistory, size: int) -> VerifiedCheckpoint | None:
    """The checkpoint, verified with ``K(size)``; ``None`` if a key revoked at that size signed it."""
    try:
        return open_checkpoint(note, [verifier_for(history.check_signer(size))], origin=history.origin)
    except UnknownKey:
        if _revoked_signed(note, history, size) is not None:
            return None
        raise


def _revoked_signed(note: bytes, history: KeyHistory, size: int) -> VerifiedCheckpoint | None:
    """The checkpoint as verified with a key revoked at ``size`` that signed it, if one did."""
    for key in history.revoked_keys(size - 1):
        try:
            return open_checkpoint(note, [verifier_for(key)], origin=history.origin)
        except DetenteError:
            continue
    return None


def _evidence(note: bytes, history: KeyHistory, size: int) -> bytes:
    """A checkpoint signed by a revoked key, as fork evidence: only the lines that verified with
    that key, so a peer cannot crowd its signature out of the alarm with junk lines in its name."""
    revoked = _revoked_signed(note, history, size)
    return revoked.canonical() if revoked is not None else note


def sync_peer(
    mirror: TileLog,
    keys: VerifierKey | KeyHistory,
    client: PeerClient,
    on_fork: Callable[[Fork], object],
    on_keys: Callable[[KeyHistory, tuple[KeyEvent, ...]], object] | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_seconds: float = 300.0,
    pool: VerifyPool | None = None,
) -> SyncResult:
    """Bring ``mirror`` up to the peer's latest checkpoint. Raises a :class:`DetenteError` when
    the peer is unreachable or serves entries that do not verify (nothing is written).

    ``keys`` is the log's key history (or its pinned key): entry ``j`` must be signed by the key
    in force at ``j`` and a checkpoint of size ``s`` by the key in force at ``s``, so a checkpoint
    signed by a new key is accepted only once the entries before it announce that key in a
    rotation record signed by the previous one. Verified key events are handed to ``on_keys``
    once the entries are known to make the signed root and before anything is mirrored, so a node
    remembers them durably first, and only when they are the log's.

    Verify before buffering: the checkpoint's signature is checked before any entry is fetched
    (unless it is signed by a key the history does not know yet, which only a rotation record
    among the new entries can introduce), and entries are verified one bundle at a time as they
    arrive, so junk is refused after at most one bundle (with a ``pool``, after at most its window
    of chunks). A sync holds at most ``max_bytes`` of
    entries and runs at most ``max_seconds``; past either it fails (nothing is written) and says so.

    With a ``pool``, a large backlog's entries are opened by worker processes while the next
    bundles are fetched (at most the pool's window ahead); the decisions stay here, in log order.
    """
    deadline = time.monotonic() + max_seconds
    history = keys.copy() if isinstance(keys, KeyHistory) else KeyHistory(keys)
    origin = history.origin
    note = client.checkpoint()
    try:
        claimed = Checkpoint.parse(parse_note(note).text)
    except MalformedNote as exc:
        raise MalformedCheckpoint(f"checkpoint of {origin!r}: {exc.message}") from None
    if claimed.origin != origin:
        raise MalformedCheckpoint(f"checkpoint is for {claimed.origin!r}, not {origin!r}")
    old = mirror.refresh()
    seen_note = mirror.signed_checkpoint() if old.size else b""

    def fork(kind: str, detail: str, shown_blob: bytes = note) -> SyncResult:
        evidence = Fork(origin, kind, detail, seen_note, shown_blob)
        on_fork(evidence)
        return SyncResult(origin, old.size, old.size, 0, evidence)

    if claimed.size <= old.size:
        stale = _open_checkpoint(note, history, claimed.size)
        if stale is None:
            return fork(
                "revoked-key",
                f"checkpoint of size {claimed.size} is signed by a revoked key",
                _evidence(note, history, claimed.size),
            )
        shown = stale.checkpoint
        if shown.root == (old.root if shown.size == old.size else mirror.root(shown.size)):
            current = note if shown.size == old.size else b""  # a stale replay's cosignatures are old news
            return SyncResult(origin, old.size, old.size, 0, note=current)  # nothing new (or a stale replay)
        return fork("equivocation", f"two different roots for size {shown.size}", stale.canonical())

    # Verify before buffer: a checkpoint whose known key's signature fails fetches nothing. One
    # signed by a key not known yet is checked again below: only a rotation among the entries
    # can name that key, and the entries are verified one bundle at a time as they arrive.
    with contextlib.suppress(UnknownKey):
        _open_checkpoint(note, history, claimed.size)
    budget = _Budget(origin, old.size, max_bytes, max_seconds, deadline)
    fetched = _spend(client.iter_entries(old.size, claimed.size), budget)
    total = claimed.size - old.size
    stream = pool.open_entries(history, fetched, total) if pool is not None else ((i, e, None) for i, e in fetched)
    try:
        taken = _take(stream, history, fork)
    finally:
        stream.close()  # a sync that stopped early leaves nothing at the workers
    if isinstance(taken, SyncResult):
        return taken
    entries, opened, events = taken
    verified = _open_checkpoint(note, history, claimed.size)
    if verified is None:
        return fork(
            "revoked-key",
            f"checkpoint of size {claimed.size} is signed by a revoked key",
            _evidence(note, history, claimed.size),
        )
    shown = verified.checkpoint

    def remember_keys() -> None:
        # only once the entries are the tree the checkpoint signs: genuine rotation records
        # replayed at other positions verify one by one, and would otherwise be kept at the wrong
        # index and refuse the honest log ever after
        if events and on_keys is not None:
            on_keys(history, tuple(events))

    if events:
        mirror.trust(history.keys)
    try:
        mirror.extend(entries, verified.canonical(), before_commit=remember_keys)
    except ConsistencyError:
        # Either the entries were altered in transit, or the log's tree no longer contains the
        # one we verified before. The peer's own hash tiles tell which.
        if old.size and tree_root(old.size, client.fetch_nodes(shown.size)) != old.root:
            return fork(
                "inconsistent", f"size {shown.size} does not extend the verified size {old.size}", verified.canonical()
            )
        raise VerificationError(f"entries served by {origin!r} do not produce its signed root") from None
    return SyncResult(
        origin, old.size, shown.size, len(entries), opened=tuple(opened), key_events=tuple(events), note=note
    )


def _take(
    stream: Iterable[tuple[int, bytes, OpenedEntry | None]],
    history: KeyHistory,
    fork: Callable[[str, str, bytes], SyncResult],
) -> tuple[list[bytes], list[OpenedEntry], list[KeyEvent]] | SyncResult:
    """Verify the new entries in log order, applying key events as they come: the entries, their
    records and the events; or the fork result of an entry signed by a revoked key."""
    entries: list[bytes] = []
    opened: list[OpenedEntry] = []
    events: list[KeyEvent] = []
    for i, entry, pre in stream:
        try:
            item = _open(history, i, entry, pre)
            applied = history.apply(i, item.record)
        except DetenteError as exc:
            revoked = history.revoked_signer(entry, i)
            if revoked is not None:
                return fork("revoked-key", f"entry {i} is signed by the revoked key {revoked}", entry)
            raise VerificationError(
                f"entry {i} of {history.origin!r} does not verify: {exc.message}",
                hint="the peer or the network altered it; nothing was mirrored",
            ) from None
        entries.append(entry)
        opened.append(item)
        if applied is not None:
            events.append(applied[0])
            if applied[1] is not None:
                d = applied[1]
                fork(
                    "revoked-key",
                    f"entries {d.first}..{d.last} were signed by {d.key}, revoked by #{d.revocation_index} "
                    "after their signing: the party disowns them",
                    entry,
                )
    return entries, opened, events
