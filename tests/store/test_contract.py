"""The LogStore contract, run against every driver (SQLite file and a real PostgreSQL)."""

from __future__ import annotations

import pytest

from detente.errors import CheckpointConflict, LogNotFound, StorageError
from detente.store.protocol import LogStore
from detente.tlog.tiles import TileID

ORIGIN = "contract.example/log"


def test_new_log_has_no_checkpoint_and_ensure_is_idempotent(store: LogStore) -> None:
    store.ensure_log(ORIGIN)
    store.ensure_log(ORIGIN)
    assert store.logs() == [ORIGIN]
    assert store.latest_checkpoint(ORIGIN) is None


def test_unknown_log_raises_log_not_found(store: LogStore) -> None:
    with pytest.raises(LogNotFound):
        store.latest_checkpoint("nobody.example/log")
    with pytest.raises(LogNotFound):
        store.commit("nobody.example/log", None, b"cp", {})


def test_commit_writes_tiles_and_checkpoint_together(store: LogStore) -> None:
    store.ensure_log(ORIGIN)
    store.commit(ORIGIN, None, b"cp1", {TileID(0, 0, 3): b"a" * 96, TileID(-1, 0, 3): b"bundle"})
    assert store.latest_checkpoint(ORIGIN) == b"cp1"
    got = store.read_tiles(ORIGIN, [(0, 0), (-1, 0), (0, 1), (1, 0)])
    assert got == {(0, 0): (b"a" * 96, 3), (-1, 0): (b"bundle", 3)}


def test_compare_and_swap_refuses_a_stale_writer_and_writes_nothing(store: LogStore) -> None:
    store.ensure_log(ORIGIN)
    store.commit(ORIGIN, None, b"cp1", {TileID(0, 0, 1): b"x" * 32})
    with pytest.raises(CheckpointConflict):
        store.commit(ORIGIN, None, b"fork", {TileID(0, 0, 2): b"y" * 96})
    with pytest.raises(CheckpointConflict):
        store.commit(ORIGIN, b"not-cp1", b"fork", {TileID(0, 0, 2): b"y" * 96})
    assert store.latest_checkpoint(ORIGIN) == b"cp1"
    assert store.read_tiles(ORIGIN, [(0, 0)]) == {(0, 0): (b"x" * 32, 1)}
    store.commit(ORIGIN, b"cp1", b"cp2", {TileID(0, 0, 2): b"y" * 96})
    assert store.latest_checkpoint(ORIGIN) == b"cp2"


@pytest.mark.parametrize("width", [2, 3])
def test_tiles_only_grow_and_a_refused_rewrite_writes_nothing(store: LogStore, width: int) -> None:
    store.ensure_log(ORIGIN)
    store.commit(ORIGIN, None, b"cp1", {TileID(0, 0, 3): b"a" * 96})
    with pytest.raises(StorageError):
        store.commit(ORIGIN, b"cp1", b"cp2", {TileID(0, 1, 1): b"n" * 32, TileID(0, 0, width): b"b" * 64})
    assert store.latest_checkpoint(ORIGIN) == b"cp1"
    assert store.read_tiles(ORIGIN, [(0, 0), (0, 1)]) == {(0, 0): (b"a" * 96, 3)}


def test_full_tiles_are_immutable(store: LogStore) -> None:
    store.ensure_log(ORIGIN)
    store.commit(ORIGIN, None, b"cp1", {TileID(0, 0, 256): b"f" * 100})
    with pytest.raises(StorageError):
        store.commit(ORIGIN, b"cp1", b"cp2", {TileID(0, 0, 256): b"g" * 100})
    assert store.read_tiles(ORIGIN, [(0, 0)]) == {(0, 0): (b"f" * 100, 256)}


def test_logs_are_independent(store: LogStore) -> None:
    store.ensure_log("a.example/log")
    store.ensure_log("b.example/log")
    store.commit("a.example/log", None, b"a1", {TileID(0, 0, 1): b"a" * 32})
    assert store.latest_checkpoint("b.example/log") is None
    assert store.read_tiles("b.example/log", [(0, 0)]) == {}
    assert store.logs() == ["a.example/log", "b.example/log"]


def test_a_second_connection_sees_committed_state(store_factory) -> None:
    first = store_factory()
    first.ensure_log(ORIGIN)
    first.commit(ORIGIN, None, b"cp1", {TileID(-1, 0, 1): b"e"})
    second = store_factory()
    assert second.latest_checkpoint(ORIGIN) == b"cp1"
    assert second.read_tiles(ORIGIN, [(-1, 0)]) == {(-1, 0): (b"e", 1)}
