"""The operator journal: who did what through this node, when, and what came of it.

Every write through the operator API, every token created or revoked, every peer pinned or
unpinned, every key rotated or revoked, and every failed sign-in is one row, chained to the row
before it (:mod:`detente.store.journal_protocol`), so a row edited or removed in the database
afterwards shows when the journal is verified. Rows are written by the API
(:mod:`detente.api.journal`) and by the ``detente`` commands that change the node's files
directly (``local:<user>``). It also keeps the ``Idempotency-Key`` of each write it answered, so
a retried request gets the first answer instead of a second write.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

from detente.store.journal_protocol import IdempotencyRow, JournalEntry, JournalRow, JournalStore, verify_chain

__all__ = ["IDEMPOTENCY_TTL", "Journal", "as_dict", "local_actor"]

IDEMPOTENCY_TTL = 24 * 3600
"""Seconds an ``Idempotency-Key`` is kept: a retry within this time gets the first answer."""
_PAGE = 10_000


def local_actor() -> str:
    """Who runs a ``detente`` command on the node's own files: ``local:<login name>``."""
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "local"


class Journal:
    def __init__(self, store: JournalStore, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    def record(
        self,
        actor: str,
        role: str,
        action: str,
        target: str = "-",
        outcome: str = "ok",
        detail: Mapping[str, object] | None = None,
    ) -> JournalRow:
        """Append one row (durable on return)."""
        text = json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
        return self.store.append(JournalEntry(int(self.clock()), actor, role, action, target, outcome, text))

    def entries(self, *, since: int | None = None, limit: int | None = None) -> list[JournalRow]:
        """The rows written at or after ``since`` (Unix seconds), oldest first."""
        return self.store.rows(since=since, limit=limit)

    def _all(self) -> Iterator[JournalRow]:
        after = 0
        while page := self.store.rows(after=after, limit=_PAGE):
            yield from page
            after = page[-1].seq

    def verify(self) -> tuple[int, bytes]:
        """Check the whole chain; its head ``(seq, hash)``. Raises
        :class:`~detente.errors.JournalTampered` at the first row that does not fit."""
        return verify_chain(self._all())

    # --- idempotency keys ---------------------------------------------------------------------

    def claim(self, token_id: str, key: str, fingerprint: str) -> IdempotencyRow | None:
        """Reserve ``key`` for the request now being answered (``None``), or what is kept for it.
        A key older than :data:`IDEMPOTENCY_TTL` is forgotten and reserved anew."""
        now = int(self.clock())
        row = IdempotencyRow(token_id, key, fingerprint, now, None, "", b"")
        found = self.store.claim(row)
        if found is not None and found.at < now - IDEMPOTENCY_TTL:
            self.store.release(token_id, key)
            found = self.store.claim(row)
        return found

    def settle(self, token_id: str, key: str, status: int, media_type: str, body: bytes) -> None:
        self.store.settle(token_id, key, status, media_type, body)

    def release(self, token_id: str, key: str) -> None:
        self.store.release(token_id, key)

    def close(self) -> None:
        self.store.close()


def as_dict(row: JournalRow) -> dict[str, object]:
    """One row for ``--json`` and the API: its fields, the time in UTC, the chain's hashes in hex."""
    try:
        detail: object = json.loads(row.detail)
    except ValueError:  # not JSON: changed by hand (verify tells); shown as it is
        detail = row.detail
    return {
        "seq": row.seq,
        "at": row.at,
        "time": datetime.fromtimestamp(row.at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "actor": row.actor,
        "role": row.role,
        "action": row.action,
        "target": row.target,
        "outcome": row.outcome,
        "detail": detail,
        "prev": row.prev.hex(),
        "hash": row.hash.hex(),
    }
