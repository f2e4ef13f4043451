"""The operator journal's storage contract (:mod:`detente.store.journal_protocol`), on a real SQLite
file and a real PostgreSQL schema: rows chain, a change made in the database shows, concurrent
writers never fork the chain, and idempotency keys are kept once per token."""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from detente.errors import JournalTampered, StoreUnavailable
from detente.node.journal import IDEMPOTENCY_TTL, Journal
from detente.store.journal_protocol import GENESIS, IdempotencyRow, JournalEntry, JournalStore, link, verify_chain
from detente.store.open import open_journal

PG_URL = os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("DETENTE_REQUIRE_PG") == "1"


class Db:
    """A database holding a journal, reachable both through the driver and behind its back."""

    def __init__(self, url: str, tamper: Callable[[str], None]) -> None:
        self.url = url
        self.sql = tamper
        self.opened: list[JournalStore] = []

    def open(self) -> JournalStore:
        store = open_journal(self.url)
        self.opened.append(store)
        return store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    if request.param == "sqlite":
        path = tmp_path / "node.db"
        sqlite3.connect(path).close()

        def sql_lite(statement: str) -> None:
            with sqlite3.connect(path) as conn:
                conn.execute(statement)

        made = Db(str(path), sql_lite)
    else:
        schema = f"j_{uuid.uuid4().hex[:16]}"
        try:
            psycopg.connect(PG_URL, connect_timeout=3).close()
        except psycopg.Error as exc:
            if REQUIRE_PG:
                raise
            pytest.skip(f"PostgreSQL not reachable: {exc}")

        def sql_pg(statement: str) -> None:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f"SET search_path TO {schema}")
                conn.execute(statement.encode())

        made = Db(f"{PG_URL}#{schema}", sql_pg)
    yield made
    for store in made.opened:
        store.close()
    if request.param == "postgres":
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _entry(i: int, actor: str = "a1b2c3") -> JournalEntry:
    return JournalEntry(1_700_000_000 + i, actor, "officer", "write", "POST /api/v1/records", "ok", f'{{"index":{i}}}')


def test_rows_chain_from_genesis_and_read_back_in_order(db: Db) -> None:
    journal = db.open()
    written = [journal.append(_entry(i)) for i in range(5)]
    assert [r.seq for r in written] == [1, 2, 3, 4, 5]
    assert written[0].prev == GENESIS
    assert all(b.prev == a.hash for a, b in itertools.pairwise(written))
    assert written[2].hash == link(written[1].hash, 3, _entry(2))
    assert journal.rows() == written
    assert verify_chain(journal.rows()) == (5, written[-1].hash)
    assert [r.seq for r in journal.rows(since=1_700_000_003)] == [4, 5]
    assert [r.seq for r in journal.rows(after=2, limit=2)] == [3, 4]
    assert db.open().rows() == written  # durable: another connection reads the same rows


def test_two_connections_writing_at_once_never_fork_the_chain(db: Db) -> None:
    first, second = db.open(), db.open()
    errors: list[BaseException] = []

    def write(store: JournalStore, actor: str) -> None:
        try:
            for i in range(40):
                store.append(_entry(i, actor))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, a)) for s, a in ((first, "aaaa"), (second, "bbbb"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = first.rows()
    assert len(rows) == 80 and verify_chain(rows)[0] == 80


# Each check of verify_chain, and the one tampering only it catches.
TAMPERING = {
    "a field edited": (
        "UPDATE journal SET outcome = 'refused' WHERE seq = 2",
        "journal row 2 was changed after it was written",
    ),
    "a row removed": ("DELETE FROM journal WHERE seq = 2", "journal row 2 is missing"),
    "the first row removed": ("DELETE FROM journal WHERE seq = 1", "journal row 1 is missing"),
}


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_a_row_changed_in_the_database_is_found(db: Db, how: str) -> None:
    journal = db.open()
    for i in range(3):
        journal.append(_entry(i))
    verify_chain(journal.rows())  # intact before
    statement, message = TAMPERING[how]
    db.sql(statement)
    with pytest.raises(JournalTampered) as caught:
        verify_chain(journal.rows())
    assert caught.value.message.startswith(message), caught.value.message


def test_a_row_changed_with_its_hash_recomputed_is_found_by_the_next_row(db: Db) -> None:
    journal = db.open()
    rows = [journal.append(_entry(i)) for i in range(3)]
    forged = JournalEntry(rows[1].at, rows[1].actor, rows[1].role, rows[1].action, rows[1].target, "ok", "{}")
    db.sql(f"UPDATE journal SET detail = '{{}}', hash = {_blob(db, link(rows[0].hash, 2, forged))} WHERE seq = 2")
    with pytest.raises(JournalTampered) as caught:
        verify_chain(journal.rows())
    assert caught.value.message.startswith("journal row 3 does not follow row 2"), caught.value.message


def _blob(db: Db, value: bytes) -> str:
    return f"X'{value.hex()}'" if not db.url.startswith("postgresql") else f"'\\x{value.hex()}'::bytea"


def test_an_idempotency_key_is_kept_once_per_token(db: Db) -> None:
    journal = db.open()
    row = IdempotencyRow("tok1", "k-1", "f" * 64, 1_700_000_000, None, "", b"")
    assert journal.claim(row) is None  # reserved for this request
    again = journal.claim(row)
    assert again is not None and again.status is None and again.fingerprint == "f" * 64  # still being answered
    assert db.open().claim(IdempotencyRow("tok2", "k-1", "e" * 64, 1, None, "", b"")) is None  # another token's
    journal.settle("tok1", "k-1", 201, "application/json", b'{"index":0}')
    kept = db.open().claim(row)
    assert kept is not None and (kept.status, kept.media_type, kept.body) == (201, "application/json", b'{"index":0}')
    journal.release("tok1", "k-1")
    assert journal.claim(row) is None  # forgotten: a retry runs again


def test_a_journal_on_a_database_that_is_not_there_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable):
        open_journal(str(tmp_path / "missing.db"))
    assert not (tmp_path / "missing.db").exists()


def test_an_idempotency_key_is_forgotten_after_a_day(db: Db) -> None:
    now = [1_700_000_000.0]
    journal = Journal(db.open(), lambda: now[0])
    assert journal.claim("tok1", "k", "f" * 64) is None
    journal.settle("tok1", "k", 201, "application/json", b"{}")
    now[0] += IDEMPOTENCY_TTL  # a day on: still kept
    kept = journal.claim("tok1", "k", "e" * 64)
    assert kept is not None and kept.status == 201
    now[0] += 1  # past a day: forgotten, and reserved for this request
    assert journal.claim("tok1", "k", "e" * 64) is None
