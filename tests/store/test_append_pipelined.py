"""``TileLog.append_pipelined`` and ``LogStore.start_commit`` on every driver: the same tree as
one ``append`` after another, and a failed batch stops every later one (issue #26)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from detente.crypto.keys import Ed25519Identity
from detente.crypto.note_verifiers import verifier_for
from detente.errors import CheckpointConflict, EntryTooLarge, StorageError
from detente.node.tilelog import TileLog
from detente.tlog.checkpoint import open_checkpoint
from detente.tlog.compact import CompactRange
from detente.tlog.hashing import leaf_hash
from detente.tlog.proofs import verify_consistency, verify_inclusion
from detente.tlog.tiles import TileID

IDENT = Ed25519Identity.from_seed("party.example/log", bytes(range(32)))
TWIN = Ed25519Identity.from_seed("twin.example/log", bytes(range(32)))
SIZES = [1, 255, 1, 300, 700, 3, 65_536, 40, 5]
"""Batches that end inside and on tile edges, one that fills a level-1 tile, and
ones after it that leave the level-2 tile on the edge unchanged."""


def _entries(start: int, n: int) -> list[bytes]:
    return [b"entry %d " % i + b"x" * (i % 97) for i in range(start, start + n)]


def _batches(sizes: list[int]) -> list[list[bytes]]:
    out, start = [], 0
    for n in sizes:
        out.append(_entries(start, n))
        start += n
    return out


def _root(entries: list[bytes]) -> bytes:
    cr = CompactRange()
    for e in entries:
        cr.append(leaf_hash(e))
    return cr.root()


def _verified_size(log: TileLog) -> int:
    note = log.store.latest_checkpoint(log.origin)
    assert note is not None
    return open_checkpoint(note, [verifier_for(k) for k in log.keys], origin=log.origin).checkpoint.size


def _assert_consistent(log: TileLog, written: list[bytes]) -> None:
    """The stored checkpoint signs exactly ``written``, whose entries and proofs the store serves."""
    assert log.refresh().size == len(written) == _verified_size(log)
    assert log.checkpoint.root == _root(written)
    assert log.entries(0, len(written)) == written
    for i in {0, 255 % len(written), 256 % len(written), len(written) // 2, len(written) - 1}:
        verify_inclusion(leaf_hash(written[i]), i, log.size, log.inclusion_proof(i), log.checkpoint.root)


def test_pipelined_batches_make_the_tree_and_tiles_of_one_append_after_another(store) -> None:
    batches = _batches(SIZES)
    piped, plain = TileLog.create(store, IDENT), TileLog.create(store, TWIN)
    results = list(piped.append_pipelined(batches))
    for batch in batches:
        plain.append(batch)
    written = [e for b in batches for e in b]
    assert [(r.first_index, r.count) for r in results] == [(sum(SIZES[:k]), n) for k, n in enumerate(SIZES)]
    assert [r.leaf_hashes for r in results] == [tuple(leaf_hash(e) for e in b) for b in batches]
    _assert_consistent(piped, written)
    assert piped.checkpoint.root == plain.checkpoint.root
    # every tile and bundle, byte for byte, as the plain appends stored them
    positions = [(level, i) for level in (-1, 0, 1, 2) for i in range(len(written) // 256 + 1)]
    assert store.read_tiles(piped.origin, positions) == store.read_tiles(plain.origin, positions)
    for k, r in enumerate(results):  # each reported checkpoint was the stored one in its turn
        verify_consistency(r.checkpoint.size, piped.size, r.checkpoint.root, piped.checkpoint.root,
                           piped.consistency_proof(r.checkpoint.size))  # fmt: skip
        assert r.checkpoint.size == sum(SIZES[: k + 1])


def test_a_lost_compare_and_swap_stops_the_later_batches_and_leaves_the_store_whole(store_factory) -> None:
    batches = _batches([300, 300, 300, 300])
    log = TileLog.create(store_factory(), IDENT)
    appended = log.append_pipelined(batches)
    first = next(appended)  # batch 1 is now integrated and signed on batch 0's tree
    assert first.checkpoint.size == 300
    other = TileLog.create(store_factory(), IDENT)  # a second writer, its own connection
    theirs = [b"theirs %d" % i for i in range(50)]
    other.append(theirs)
    with pytest.raises(CheckpointConflict):
        next(appended)
    assert list(appended) == []  # batches 2 and 3 are never sent
    assert log.size == 350  # reloaded: the next append builds on the stored tree
    written = batches[0] + theirs
    _assert_consistent(log, written)
    log.append(batches[1])
    _assert_consistent(other, written + batches[1])


def test_a_bad_batch_reports_the_one_in_flight_before_it_and_writes_nothing_of_its_own(store) -> None:
    batches = _batches([10, 20, 30])
    batches[2] = [*batches[2][:-1], b"x" * 70_000]  # over a bundle's 16-bit length
    log = TileLog.create(store, IDENT)
    seen = []
    with pytest.raises(EntryTooLarge):
        for result in log.append_pipelined(batches):
            seen.append(result.checkpoint.size)
    assert seen == [10, 30]  # batch 1 was committing when batch 2 failed: it is durable and reported
    _assert_consistent(log, batches[0] + batches[1])


def test_appends_between_the_yields_are_kept_and_the_batch_ahead_is_prepared_again(store) -> None:
    batches = _batches([100, 200, 300])
    log = TileLog.create(store, IDENT)
    written: list[bytes] = []
    extra = [b"in between %d" % i for i in range(7)]
    for k, result in enumerate(log.append_pipelined(batches)):
        written += batches[k]
        assert result.checkpoint.size == len(written)
        if k == 0:  # batch 1 was prepared on batch 0's tree; this append moves it on
            log.append(extra)
            written += extra
    _assert_consistent(log, written)


def test_a_rotation_in_a_pipelined_batch_signs_it_and_every_later_batch_with_the_new_key(store) -> None:
    new = Ed25519Identity.from_seed(IDENT.name, b"\x05" * 32)
    batches = _batches([10, 10, 10])
    batches[1][-1] = b"rotation record"
    log = TileLog.create(store, IDENT)
    log.schedule_rotation(b"rotation record", new)
    results = list(log.append_pipelined(batches))
    old_key, new_key = [verifier_for(IDENT.vkey())], [verifier_for(new.vkey())]
    assert open_checkpoint(results[0].note, old_key, origin=IDENT.name).checkpoint.size == 10
    for r in results[1:]:
        assert open_checkpoint(r.note, new_key, origin=IDENT.name).checkpoint == r.checkpoint
    log.append([b"after"])  # the log signs with the new key from now on
    assert open_checkpoint(log.signed_checkpoint(), new_key, origin=IDENT.name).checkpoint.size == 31


def test_a_rotation_scheduled_between_the_yields_signs_the_batch_ahead_with_the_new_key(store) -> None:
    new = Ed25519Identity.from_seed(IDENT.name, b"\x05" * 32)
    batches = _batches([10, 10])
    batches[1][-1] = b"rotation record"
    log = TileLog.create(store, IDENT)
    notes = []
    for result in log.append_pipelined(batches):
        if not notes:  # batch 1 was signed ahead with the old key: it must be signed again
            log.schedule_rotation(b"rotation record", new)
        notes.append(result.note)
    assert open_checkpoint(notes[1], [verifier_for(new.vkey())], origin=IDENT.name).checkpoint.size == 20
    assert log.signed_checkpoint() == notes[1] == store.latest_checkpoint(IDENT.name)


def test_start_commit_keeps_the_compare_and_swap_and_the_tile_rule(store) -> None:
    log = TileLog.create(store, IDENT)
    log.append(_entries(0, 10))
    note = log.signed_checkpoint()
    bundle = {TileID(-1, 0, 10): b"\x00\x01x" * 10}  # the same width as stored: may not be rewritten
    with pytest.raises(StorageError):
        store.start_commit(IDENT.name, note, note, bundle)()
    with pytest.raises(CheckpointConflict):
        store.start_commit(IDENT.name, b"not the stored checkpoint", note, {TileID(-1, 0, 11): b"x"})()
    # nothing was written, and the store (its connection released) serves the next commit
    assert store.latest_checkpoint(IDENT.name) == note
    assert store.read_tiles(IDENT.name, [(-1, 0)])[(-1, 0)][1] == 10
    log.append(_entries(10, 5))
    _assert_consistent(log, _entries(0, 15))


def test_a_store_out_of_step_with_its_checkpoint_fails_closed_before_anything_is_sent(tmp_path) -> None:
    import sqlite3

    from detente.store.sqlite import SQLiteStore

    path = tmp_path / "log.db"
    log = TileLog.create(SQLiteStore(path, create=True), IDENT)
    list(log.append_pipelined([_entries(0, 10)]))
    with sqlite3.connect(path) as conn:  # the tiles this log wrote are gone behind its back
        conn.execute("DELETE FROM tiles WHERE level = 0")
    with pytest.raises(StorageError):
        next(log.append_pipelined([_entries(10, 1)]))
    assert log.refresh().size == 10


@pytest.mark.postgres
def test_a_connection_lost_before_the_sync_writes_nothing_and_releases_the_store(pg_store_factory) -> None:
    import psycopg
    from tests.store.conftest import PG_URL

    keeper = TileLog.create(pg_store_factory(), IDENT)  # the fixture drops the schema through this one
    keeper.append(_entries(0, 10))
    note = keeper.signed_checkpoint()
    store = pg_store_factory()
    bundle = {TileID(-1, 0, 11): b"\x00\x01x" * 11}
    finish = store.start_commit(IDENT.name, note, b"the next checkpoint", bundle)  # sent, not synced
    with psycopg.connect(PG_URL, autocommit=True) as admin:  # the server drops the connection
        admin.execute("SELECT pg_terminate_backend(%s, 10000)", (store._conn.info.backend_pid,))  # type: ignore[attr-defined]
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            call()
        except BaseException as exc:
            errors.append(exc)

    caller = threading.Thread(target=run, args=(finish,), daemon=True)
    caller.start()
    caller.join(10)
    assert not caller.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], StorageError)
    assert keeper.store.latest_checkpoint(IDENT.name) == note  # never committed
    assert keeper.store.read_tiles(IDENT.name, [(-1, 0)])[(-1, 0)][1] == 10
    # The store's lock was released (this would hang otherwise) and its next commit is made on a
    # new connection (store/pg_connection.py).
    again = threading.Thread(
        target=run, args=(lambda: store.start_commit(IDENT.name, note, b"the next checkpoint", bundle)(),), daemon=True
    )
    again.start()
    again.join(10)
    assert not again.is_alive() and len(errors) == 1
    assert keeper.store.latest_checkpoint(IDENT.name) == b"the next checkpoint"


class _FailingCommit:
    """SQLite's write connection, but its ``COMMIT`` fails as a full or failing disk makes it fail
    (the only way to get that from SQLite on demand); everything else is the real connection."""

    def __init__(self, conn) -> None:  # type: ignore[no-untyped-def]
        self.conn = conn

    def execute(self, sql: str, *args):  # type: ignore[no-untyped-def]
        if sql == "COMMIT":
            import sqlite3

            raise sqlite3.OperationalError("disk I/O error")
        return self.conn.execute(sql, *args)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.conn, name)


def test_a_sqlite_commit_that_fails_on_its_thread_is_reported_and_keeps_nothing(tmp_path) -> None:
    from detente.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "log.db", create=True)
    log = TileLog.create(store, IDENT)
    log.append(_entries(0, 10))
    real = store._writer
    store._writer = _FailingCommit(real)  # type: ignore[assignment]
    later = _entries(20, 5)
    results = log.append_pipelined([_entries(10, 10), later])
    with pytest.raises(StorageError, match="disk I/O error"):
        next(results)
    store._writer = real
    assert not real.in_transaction  # rolled back: the next write starts clean
    assert log.refresh().size == 10
    assert store.read_tiles(IDENT.name, [(0, 0)])[(0, 0)][1] == 10  # nothing of the batch kept
    log.append(_entries(10, 3))  # the store's lock was given back
    assert log.size == 13
