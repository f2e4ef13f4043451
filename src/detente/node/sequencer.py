"""Group commit for concurrent writers: many callers, one batch per integration.

Callers on any thread call :meth:`Sequencer.add` with one entry and block until that entry is
durable in the log, getting back its index and the checkpoint that first covers it. A single
background thread takes everything queued (up to ``max_batch`` entries, waiting at most
``max_wait`` seconds for a batch to fill) and appends it with :meth:`TileLog.append`: one
transaction, one fsync and one signed checkpoint per batch instead of per entry (tessera's
batch/sequence lifecycle). A full queue raises :class:`~detente.errors.Pushback` so a server
can answer 503 with Retry-After instead of growing without bound.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass

from detente.errors import EntryTooLarge, Pushback, StorageError
from detente.node.tilelog import TileLog
from detente.tlog.checkpoint import Checkpoint
from detente.tlog.tiles import MAX_ENTRY_SIZE

__all__ = ["Sequenced", "Sequencer"]


@dataclass(frozen=True)
class Sequenced:
    index: int
    leaf_hash: bytes
    checkpoint: Checkpoint


class Sequencer:
    """Batches concurrent single-entry appends to one :class:`TileLog`."""

    def __init__(
        self,
        log: TileLog,
        *,
        max_batch: int = 1000,
        max_wait: float = 0.05,
        max_pending: int = 100_000,
    ) -> None:
        self.log = log
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.max_pending = max_pending
        self._queue: deque[tuple[bytes, Future[Sequenced]]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.batches = 0
        self._thread = threading.Thread(target=self._run, name="detente-sequencer", daemon=True)
        self._thread.start()

    def submit(self, entry: bytes) -> Future[Sequenced]:
        """Queue ``entry``; the future resolves once it is durable and checkpointed."""
        if len(entry) > MAX_ENTRY_SIZE:  # refuse it alone, before it can share a batch
            raise EntryTooLarge(f"log entry of {len(entry)} bytes is over {MAX_ENTRY_SIZE}")
        fut: Future[Sequenced] = Future()
        with self._cond:
            if self._closed:
                raise StorageError("the sequencer is closed")
            if len(self._queue) >= self.max_pending:
                raise Pushback(f"{len(self._queue)} entries are already waiting to be sequenced")
            self._queue.append((entry, fut))
            self._cond.notify()
        return fut

    def add(self, entry: bytes, timeout: float | None = 60.0) -> Sequenced:
        """Append one entry; return once it is durable (blocking)."""
        return self.submit(entry).result(timeout)

    def _take(self) -> list[tuple[bytes, Future[Sequenced]]]:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if self._queue and len(self._queue) < self.max_batch and not self._closed:
                self._cond.wait(self.max_wait)  # let a batch fill
            n = min(len(self._queue), self.max_batch)
            return [self._queue.popleft() for _ in range(n)]

    def _run(self) -> None:
        while True:
            batch = self._take()
            if not batch:
                return  # closed and drained
            try:
                result = self.log.append([e for e, _ in batch])
            except BaseException as exc:  # every waiter learns why its entry was not appended
                for _, fut in batch:
                    fut.set_exception(exc)
                continue
            self.batches += 1
            for i, (_, fut) in enumerate(batch):
                fut.set_result(Sequenced(result.first_index + i, result.leaf_hashes[i], result.checkpoint))

    def close(self) -> None:
        """Stop accepting entries, finish everything queued, and stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
