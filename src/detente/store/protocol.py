"""The storage contract for tiled logs.

A driver stores, per log origin, the latest signed checkpoint, the stored hash tiles (with inner
nodes, see :mod:`detente.tlog.tiles`) and the entry bundles. It knows nothing of Merkle maths or
signatures. Two drivers implement it natively, each in its own module
(:mod:`detente.store.sqlite`, :mod:`detente.store.postgres`); ``tests/store/test_contract.py``
runs the same suite against both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from detente.tlog.tiles import TileID

__all__ = ["LogStore", "TilePos"]

TilePos = tuple[int, int]
"""``(level, index)`` of a stored tile; level ``-1`` is an entry bundle."""


class LogStore(Protocol):
    """Durable storage for one or more tiled logs. Implementations are safe to share between
    threads; concurrent writers to the same log are serialised by :meth:`commit`'s
    compare-and-swap."""

    def ensure_log(self, origin: str) -> None:
        """Create the log's state row if it does not exist (idempotent, durable on return)."""
        ...

    def logs(self) -> list[str]:
        """Origins of every log in this store."""
        ...

    def latest_checkpoint(self, origin: str) -> bytes | None:
        """The stored signed checkpoint, or ``None`` for a log with none yet.

        Raises :class:`~detente.errors.LogNotFound` when the log does not exist.
        """
        ...

    def read_tiles(self, origin: str, positions: Sequence[TilePos]) -> dict[TilePos, tuple[bytes, int]]:
        """The latest stored version ``(blob, width)`` of each tile that exists; missing ones are
        absent from the result. A stored tile may be wider than a given tree size needs."""
        ...

    def commit(
        self,
        origin: str,
        expected: bytes | None,
        checkpoint: bytes,
        tiles: Mapping[TileID, bytes],
    ) -> None:
        """Atomically write ``tiles`` (hash tiles and entry bundles, replacing narrower versions)
        and replace the checkpoint, *only if* the stored checkpoint still equals ``expected``.

        Durable when it returns. Raises :class:`~detente.errors.CheckpointConflict` and writes
        nothing when the stored checkpoint differs: two writers can never publish a split view.
        A stored tile is only ever replaced by a *wider* one (full tiles are immutable): an
        attempt to rewrite one at the same or a smaller width raises
        :class:`~detente.errors.StorageError` and writes nothing.
        """
        ...

    def start_commit(
        self,
        origin: str,
        expected: bytes | None,
        checkpoint: bytes,
        tiles: Mapping[TileID, bytes],
    ) -> Callable[[], None]:
        """:meth:`commit` in two halves, so a writer can compute its next batch while this one is
        written (``TileLog.append_pipelined``): begin the commit, and return a function that
        returns once it is durable. What :meth:`commit` raises, either call raises; the commit is
        only durable, and only to be reported, once the returned function has returned.

        The caller must call the returned function exactly once, and make no other call to this
        store from its thread before it (the store may hold its connection until then; other
        threads wait). A driver with nothing to overlap commits at once and returns a function
        that does nothing.
        """
        ...

    def close(self) -> None: ...
