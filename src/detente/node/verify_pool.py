"""Verifying a peer's backlog on every core: a pool of worker processes that open entries
(DSSE envelope, Ed25519 signature, record, party, leaf hash) while the sync fetches the next ones.

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
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache

from detente.crypto.dsse import Envelope, EnvelopeSignature
from detente.crypto.keys import VerifierKey
from detente.records.entry import OpenedEntry, open_entry
from detente.records.keys import KeyEvent, KeyHistory
from detente.records.record import Record

__all__ = ["Opened", "VerifyPool"]

log = logging.getLogger(__name__)

Opened = tuple[int, bytes, OpenedEntry | None]
"""``(index, entry, pre)``: ``pre`` is the entry opened by a worker with the key in force now,
or ``None`` when the caller must open it itself."""

_Result = tuple[Record, bytes, str, tuple[tuple[bytes, str | None], ...], bytes] | None


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


def _open_chunk(pinned: str, events: tuple[KeyEvent, ...], start: int, entries: list[bytes]) -> list[_Result]:
    """In a worker: open ``entries`` (from index ``start``) with ``K(index)`` of the given history.

    Returns the parts of each :class:`OpenedEntry` (cheaper to send back than the dataclasses),
    or ``None`` for an entry that does not open: the sync opens that one again in process, which
    gives the typed error (or the revoked-key alarm) exactly as without a pool."""
    history = _history(pinned, events)
    out: list[_Result] = []
    for i, entry in enumerate(entries, start):
        try:
            opened = open_entry(entry, [history.key_at(i)])
        except Exception:  # whatever it is, the sync opens this entry again itself
            out.append(None)
            continue
        env = opened.envelope
        sigs = tuple((s.sig, s.keyid) for s in env.signatures)
        out.append((opened.record, env.payload, env.payload_type, sigs, opened.leaf_hash))
    return out


def _rebuild(result: _Result) -> OpenedEntry | None:
    if result is None:
        return None
    record, payload, payload_type, sigs, leaf = result
    envelope = Envelope(payload, payload_type, tuple(EnvelopeSignature(sig, keyid) for sig, keyid in sigs))
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
            pre = _rebuild(result) if current else None
            if pre is not None:
                with self._lock:
                    self.by_workers += 1
            yield i, entry, pre
