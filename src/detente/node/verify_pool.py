"""Verifying a peer's backlog on every core: a pool of worker processes that verify entries
(DSSE envelope, payload type, Ed25519 signature, leaf hash) while the sync fetches the next ones;
the sync parses each record and checks its party as it takes the results.

The pool only *pre-verifies*. :func:`~detente.node.sync.sync_peer` still walks the entries in log
order, in one thread, and decides: it applies key rotations and revocations as it meets them,
checks that the key in force at each position is not revoked there, and accepts a worker's
result only if the key history is the one the worker was given (no key event applied since the
chunk was sent). Any other entry (after a rotation in the same window, or one a worker could not
open) is opened again in process, so the result, the errors and the alarms are exactly those of
opening every entry in process. Entries are still all mirrored in one
:meth:`~detente.node.tilelog.TileLog.extend`, or none are.

Bounded: at most ``window`` chunks of ``chunk`` entries are out at the workers; the sync fetches
ahead of its verification by no more than that, and stops fetching at the first bad entry.
Small backlogs (under ``min_entries``) are opened in process: sending a few entries to another
process costs more than verifying them. Worker processes are started (``spawn``: the node has
threads) on the first large backlog and stopped by :meth:`VerifyPool.close`; a worker whose node
process died without closing the pool exits by itself.

Split of the work, by what it costs to move between processes (docs/performance.md): a worker
parses the envelope, verifies its signature and hashes the leaf, and sends back the envelope's
parts (bytes and strings: cheap to pickle); the caller parses the record from the verified payload
and checks its party. Parsing a record (~10 µs) costs less than pickling a parsed one and reading
it back (~19 µs), so records are never sent between processes.
"""

from __future__ import annotations

import base64
import binascii
import logging
import multiprocessing
import os
import re
import threading
import time
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache

from detente.crypto.dsse import Ed25519DSSEVerifier, Envelope, EnvelopeSignature, pae
from detente.crypto.keys import VerifierKey
from detente.errors import DetenteError, MalformedEnvelope, SignatureError
from detente.records.entry import RECORD_PAYLOAD_TYPE, OpenedEntry
from detente.records.keys import KeyEvent, KeyHistory
from detente.records.record import Record
from detente.tlog.hashing import leaf_hash

__all__ = ["Opened", "VerifyPool"]

log = logging.getLogger(__name__)

Opened = tuple[int, bytes, OpenedEntry | None]
"""``(index, entry, pre)``: ``pre`` is the entry opened by a worker with the key in force now,
or ``None`` when the caller must open it itself."""

_Result = tuple[bytes, str, tuple[tuple[bytes, str | None], ...], str, bytes] | None
"""What a worker sends back for one entry: the envelope's payload, payload type and signatures,
the key id that verified it, the leaf hash; ``None`` for an entry it could not open."""


def _watch_parent(parent: int) -> None:
    """In a worker: exit once the node's process is gone (killed before it could stop the pool),
    rather than wait forever on a queue nobody writes to."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="detente-verify-watch", daemon=True).start()


@lru_cache(maxsize=16)
def _history(pinned: str, events: tuple[KeyEvent, ...]) -> KeyHistory:
    return KeyHistory(VerifierKey.parse(pinned), events)


@lru_cache(maxsize=64)
def _verifier(key: VerifierKey) -> Ed25519DSSEVerifier:
    return Ed25519DSSEVerifier(key)


_CANONICAL = re.compile(
    rb'\{"payload":"([A-Za-z0-9+/]*={0,2})","payloadType":"([^"\\\x00-\x1f]*)",'
    rb'"signatures":\[\{"keyid":"([^"\\\x00-\x1f]+)","sig":"([A-Za-z0-9+/]*={0,2})"\}\]\}'
)
"""The canonical JSON of an envelope with one signature whose strings need no escapes: what
``seal_record`` writes. Anything else is parsed by :meth:`Envelope.from_json`."""


_Parts = tuple[bytes, str, tuple[tuple[bytes, str | None], ...]]
"""An envelope as plain values: payload, payload type, ``(sig, keyid)`` of each signature."""


def _envelope_parts(entry: bytes) -> _Parts:
    """The parts of :meth:`Envelope.from_json`, without the general JSON parse for the usual entry.

    For an entry ``_CANONICAL`` matches, the strict parse would give exactly the four strings it
    captures (no escapes, no duplicate keys), and standard base64 that ``base64.b64decode``
    accepts with ``validate=True`` decodes as :func:`~detente._internal.encoding.b64decode`
    decodes it; any other entry, or one whose strings are not UTF-8 or whose base64 does not
    decode so, takes the general parse, which gives the same result or the same error
    (``tests/federation/test_verify_pool_envelope.py``)."""
    match = _CANONICAL.fullmatch(entry)
    if match is not None:
        payload, ptype, keyid, sig = match.groups()
        try:
            signature = (base64.b64decode(sig, validate=True), keyid.decode("utf-8"))
            return base64.b64decode(payload, validate=True), ptype.decode("utf-8"), (signature,)
        except (binascii.Error, UnicodeDecodeError):
            pass
    env = Envelope.from_json(entry)
    return env.payload, env.payload_type, tuple((s.sig, s.keyid) for s in env.signatures)


def _verified(parts: _Parts, key: VerifierKey) -> str:
    """:func:`verify_envelope` of ``parts`` with the one ``key`` and the record payload type: the
    key id that verified, or an error (:class:`SignatureError`, or :class:`MalformedEnvelope`
    for another payload type)."""
    payload, payload_type, sigs = parts
    verifier = _verifier(key)
    message = pae(payload_type, payload)
    for sig, _ in sigs:
        try:
            verifier.verify(message, sig)
        except SignatureError:
            continue
        if payload_type != RECORD_PAYLOAD_TYPE:
            raise MalformedEnvelope(f"unexpected DSSE payload type {payload_type!r}")
        return verifier.keyid
    raise SignatureError("no signature of the envelope verifies")


def _open_chunk(pinned: str, events: tuple[KeyEvent, ...], start: int, entries: list[bytes]) -> list[_Result]:
    """In a worker: verify ``entries`` (from index ``start``) with ``K(index)`` of the given history.

    Each entry's envelope is parsed and its signature verified as :func:`open_entry` does; the
    record is left to the caller (:func:`_finish`). ``None`` for an entry that does not verify:
    the sync opens that one again in process, which gives the typed error (or the revoked-key
    alarm) exactly as without a pool."""
    history = _history(pinned, events)
    out: list[_Result] = []
    for i, entry in enumerate(entries, start):
        try:
            parts = _envelope_parts(entry)
            keyid = _verified(parts, history.key_at(i))
        except Exception:  # whatever it is, the sync opens this entry again itself
            out.append(None)
            continue
        out.append((*parts, keyid, leaf_hash(entry)))
    return out


def _finish(result: _Result) -> OpenedEntry | None:
    """In the caller: the rest of :func:`open_entry` for an entry a worker verified: the record,
    parsed from the verified payload, and its party checked against the keys that signed it.
    ``None`` if either fails: the caller opens the entry itself and gets the typed error."""
    if result is None:
        return None
    payload, payload_type, sigs, keyid, leaf = result
    try:
        record = Record.from_json(payload)
    except DetenteError:
        return None
    if record.party != keyid.rsplit("+", 1)[0]:
        return None
    envelope = Envelope(payload, payload_type, tuple(EnvelopeSignature(sig, hint) for sig, hint in sigs))
    return OpenedEntry(record, envelope, leaf)


@dataclass
class _Chunk:
    items: list[tuple[int, bytes]]
    events: int  # how many key events the history had when the chunk was sent
    future: Future[list[_Result]] | None


class VerifyPool:
    """Worker processes, one per core by default, shared by every sync of one node (thread-safe)."""

    def __init__(
        self,
        workers: int | None = None,
        *,
        min_entries: int = 1024,
        chunk: int = 256,
        window: int | None = None,
        chunk_bytes: int = 1 << 20,
        window_bytes: int = 8 << 20,
    ) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.min_entries = min_entries
        self.chunk = chunk
        self.window = window or 2 * max(self.workers, 1)
        self.chunk_bytes = chunk_bytes
        """A chunk is sent once it has ``chunk`` entries or this many bytes (large entries, small chunks)."""
        self.window_bytes = window_bytes
        """At most this many bytes of entries are out at the workers: a peer serving 64 KiB junk
        entries makes the sync hold a few MiB ahead, not ``window × chunk`` entries of them."""
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False
        self.by_workers = 0
        """Entries whose worker result a sync took (the rest it opened itself), for status and tests."""

    def _pool(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._closed or self.workers < 1:
                return None
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_watch_parent,
                    initargs=(os.getpid(),),
                )
            return self._executor

    def _broken(self, executor: ProcessPoolExecutor) -> None:
        """A worker died: drop the pool (the next large backlog starts a new one)."""
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)
        log.warning("verify pool: a worker process died; opening entries in process")

    def close(self) -> None:
        """Stop the workers (waiting for them); later backlogs are opened in process."""
        with self._lock:
            executor, self._executor, self._closed = self._executor, None, True
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def open_entries(
        self, history: KeyHistory, items: Iterable[tuple[int, bytes]], total: int
    ) -> Generator[Opened, None, None]:
        """``(index, entry, pre)`` for each of ``items``, in order, as the caller takes them.

        ``history`` is the caller's own, which it updates as it goes: a worker's result is given
        only while it still has the key events it had when the chunk was sent. ``total`` is how
        many entries are coming; fewer than ``min_entries`` are all left to the caller."""
        executor = self._pool() if total >= self.min_entries else None
        if executor is None:
            for i, entry in items:
                yield i, entry, None
            return
        pending: deque[_Chunk] = deque()
        try:
            batch: list[tuple[int, bytes]] = []
            batch_bytes = out_bytes = 0
            for item in items:
                batch.append(item)
                batch_bytes += len(item[1])
                if len(batch) == self.chunk or batch_bytes >= self.chunk_bytes:
                    pending.append(self._send(executor, history, batch))
                    out_bytes += batch_bytes
                    batch, batch_bytes = [], 0
                    while pending and (len(pending) >= self.window or out_bytes >= self.window_bytes):
                        taken = pending.popleft()
                        out_bytes -= sum(len(e) for _, e in taken.items)
                        yield from self._take(executor, history, taken)
            if batch:
                pending.append(self._send(executor, history, batch))
            while pending:
                yield from self._take(executor, history, pending.popleft())
        finally:  # the caller stopped (a bad entry, a fork): what is still out is not needed
            for chunk in pending:
                if chunk.future is not None:
                    chunk.future.cancel()

    def _send(self, executor: ProcessPoolExecutor, history: KeyHistory, items: list[tuple[int, bytes]]) -> _Chunk:
        events = tuple(history.events)
        try:
            future = executor.submit(_open_chunk, str(history.pinned), events, items[0][0], [e for _, e in items])
        except (BrokenProcessPool, RuntimeError):  # broken, or shut down by close() meanwhile
            future = None
        return _Chunk(items, len(events), future)

    def _take(self, executor: ProcessPoolExecutor, history: KeyHistory, chunk: _Chunk) -> Iterator[Opened]:
        results: list[_Result] = [None] * len(chunk.items)
        if chunk.future is not None:
            try:
                results = chunk.future.result()
            except BrokenProcessPool:
                self._broken(executor)
            except CancelledError:  # close() while this sync ran: it finishes in process
                pass
        for (i, entry), result in zip(chunk.items, results, strict=True):
            current = len(history.events) == chunk.events  # no key event applied since it was sent
            pre = _finish(result) if current else None
            if pre is not None:
                with self._lock:
                    self.by_workers += 1
            yield i, entry, pre
