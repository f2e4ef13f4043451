"""The time book's cache of timelines (issue #21): shared by every book of one store, dropped by
a cosignature kept through any of them, and never keeping a timeline read while one was kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from detente.node.timebook import TimeBook
from detente.protocol.threads import Logged
from detente.protocol.timing import TimeRule
from detente.records.record import Record
from detente.store.node_protocol import NodeStore, TimeRow
from detente.store.sqlite_node import SQLiteNodeStore

CN, US, EU = "cn.example/log", "us.example/log", "eu.example/witness"
T = 1_800_000_000


def _at(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _entry(index: int) -> Logged:
    record = Record(type="detente.dev/hotline-message/v1", party=CN, issued=_at(T), to=(US,), body={})
    return Logged(CN, index, "00" * 32, record)


def test_a_cosignature_kept_through_another_book_drops_the_cached_timeline(tmp_path: Path) -> None:
    store = SQLiteNodeStore(tmp_path / "node.db", create=True)
    reader, writer = TimeBook(store), TimeBook(store)  # as the protocol desk's and the publisher's
    writer.made(CN, 5, US, T, f"— {US} AAAA")
    line = reader.timeline(CN)
    assert reader.timeline(CN) is line  # read once, then kept
    assert reader.times()(_entry(7)).lo == _at(T)
    generation = reader.generation

    writer.made(CN, 10, EU, T + 60, f"— {EU} AAAA")
    assert reader.generation > generation
    assert reader.timeline(CN) is not line
    assert reader.times()(_entry(7)).hi == _at(T + 60)
    assert reader.times(TimeRule(frozenset({EU})))(_entry(7)).lo is None  # each rule its own timeline

    writer.mirrored(CN, 10, T + 61, US)  # when this node held entries is no witness's cosignature
    assert reader.generation == generation + 1


class _WrittenWhileRead(SQLiteNodeStore):
    """A store where a cosignature is kept (through another book) while a timeline is being read:
    the read returns the rows from before it, as a read racing a write may."""

    write: TimeRow | None = None

    def times(self, origin: str, kind: str) -> list[TimeRow]:
        rows = super().times(origin, kind)
        if self.write is not None:
            row, self.write = self.write, None
            TimeBook(self).made(row.origin, row.size, row.source, row.at, row.line)
        return rows


def test_a_timeline_read_while_a_cosignature_was_kept_is_not_kept(tmp_path: Path) -> None:
    store: NodeStore = _WrittenWhileRead(tmp_path / "node.db", create=True)
    book = TimeBook(store)
    store.write = TimeRow(CN, 10, EU, "cosigned", T, f"— {EU} AAAA")  # type: ignore[attr-defined]
    assert book.times()(_entry(7)).hi is None  # read before the cosignature was kept
    assert book.times()(_entry(7)).hi == _at(T)  # the next read sees it
