"""The storage contract for a node's operator journal: who did what through the node, and what
came of it, in the node's own database (SQLite file or PostgreSQL schema), beside the idempotency
keys of the writes it answered.

The journal is append-only and hash-chained: row ``n`` carries the SHA-256 of row ``n - 1``
(:func:`link`), so editing, deleting or reordering a row breaks the chain from there on, which
:func:`verify_chain` finds. The chain shows a change made by hand in the database; it does not
stop someone who rewrites every row after the changed one, or cuts rows off the end (compare the
head :func:`verify_chain` returns with one noted earlier to see that).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from detente.errors import JournalTampered

__all__ = ["GENESIS", "IdempotencyRow", "JournalEntry", "JournalRow", "JournalStore", "link", "verify_chain"]

GENESIS = bytes(32)
"""What the first row's ``prev`` is: no row came before it."""


@dataclass(frozen=True)
class JournalEntry:
    at: int
    """When (Unix seconds, the node's clock)."""
    actor: str
    """The operator token's id; ``local:<user>`` for a command run on the node's own files; the
    claimed token id (or ``-``) for a sign-in that failed."""
    role: str
    """The token's role (``viewer``, ``officer``, ``admin``), ``local``, or ``-`` when unknown."""
    action: str
    """What was asked: ``POST /api/v1/records``, ``token.create``, ``peer.pin``, ``sign-in``, …"""
    target: str
    """What it acted on (a path, a token id, a peer's name), or ``-``."""
    outcome: str
    """``ok`` or ``<HTTP status>``, and on failure the problem code: ``401 unauthorized``."""
    detail: str = "{}"
    """A small JSON object: where an appended record landed, a label, the refusal's message."""


@dataclass(frozen=True)
class JournalRow(JournalEntry):
    seq: int = 0
    """1, 2, 3, … with no gap."""
    prev: bytes = GENESIS
    """:attr:`hash` of row ``seq - 1`` (:data:`GENESIS` for row 1)."""
    hash: bytes = GENESIS
    """:func:`link` of ``prev`` and this row's fields."""


@dataclass(frozen=True)
class IdempotencyRow:
    token_id: str
    key: str
    fingerprint: str
    """SHA-256 of the request's method, path, query and body (hex)."""
    at: int
    status: int | None
    """The first answer's status; ``None`` while that request is still being answered."""
    media_type: str
    body: bytes


def link(prev: bytes, seq: int, entry: JournalEntry) -> bytes:
    """The hash row ``seq`` carries: SHA-256 over the previous row's hash and this row's fields
    (as one canonical JSON array, so no field can bleed into the next)."""
    fields = [seq, entry.at, entry.actor, entry.role, entry.action, entry.target, entry.outcome, entry.detail]
    return hashlib.sha256(prev + json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()).digest()


def verify_chain(rows: Iterable[JournalRow], *, prev: bytes = GENESIS, seq: int = 0) -> tuple[int, bytes]:
    """Check that ``rows`` (in order, following row ``seq`` whose hash is ``prev``) form an unbroken
    chain; return the last row's ``(seq, hash)``. Raises :class:`~detente.errors.JournalTampered`
    naming the first row that does not fit."""
    for row in rows:
        if row.seq != seq + 1:  # a row removed
            raise JournalTampered(f"journal row {seq + 1} is missing (the next row is {row.seq})")
        if row.prev != prev:  # the row before changed, its hash recomputed to hide it
            raise JournalTampered(f"journal row {row.seq} does not follow row {seq}: row {seq} was changed")
        if link(row.prev, row.seq, row) != row.hash:  # this row changed
            raise JournalTampered(f"journal row {row.seq} was changed after it was written")
        seq, prev = row.seq, row.hash
    return seq, prev


class JournalStore(Protocol):
    """Both drivers pass ``tests/store/test_journal_contract.py``. Every method is durable on
    return and safe to call from many threads and processes (the node and a local ``detente``
    command) at once."""

    def append(self, entry: JournalEntry) -> JournalRow:
        """Chain ``entry`` after the last row and store it: reading the last row and writing the new
        one is one transaction, so concurrent appends never fork the chain."""
        ...

    def rows(self, *, since: int | None = None, after: int = 0, limit: int | None = None) -> list[JournalRow]:
        """Rows with ``seq > after`` (and ``at >= since``, when given), oldest first."""
        ...

    def claim(self, row: IdempotencyRow) -> IdempotencyRow | None:
        """Reserve ``(row.token_id, row.key)`` for a request now being answered and return ``None``;
        or, when the key is taken already, return what is stored for it (and change nothing)."""
        ...

    def settle(self, token_id: str, key: str, status: int, media_type: str, body: bytes) -> None:
        """Keep the first answer to the request that claimed ``key``."""
        ...

    def release(self, token_id: str, key: str) -> None:
        """Forget ``key`` (its request failed before anything was written: a retry runs it again)."""
        ...

    def close(self) -> None: ...
