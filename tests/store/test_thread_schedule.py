"""The NodeStore contract for the protocol loop's schedule (issue #26), on every driver: a thread is
due when new, when a record referring to it is indexed, or when its next deadline comes; a
reschedule never hides a reply that arrived while the thread was being evaluated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from detente.store.node_protocol import NEVER, NodeStore, RecordRow, ThreadMark
from detente.store.sqlite_node import SQLiteNodeStore

A, B = "us.example/log", "cn.example/log"


def _thread(origin: str, index: int, *, mine: bool = True) -> RecordRow:
    return RecordRow(
        origin, index, f"{index:02d}" * 32, "t/notice", b"{}", thread=ThreadMark("2026-01-01T00:00:00.000000Z", mine)
    )


def _due(store: NodeStore, at: int, **kw: object) -> list[tuple[str, int]]:
    return [(d.row.origin, d.row.index) for d in store.due_threads(at, **kw)]  # type: ignore[arg-type]


def test_new_threads_are_due_at_once_and_paged_by_due_time_and_key(node_store: NodeStore) -> None:
    node_store.add_records([_thread(B, 0), _thread(A, 1), _thread(A, 0), _thread(A, 2, mine=False)])
    assert _due(node_store, 0) == [(B, 0), (A, 0), (A, 1)]  # not the one this party is not in
    assert _due(node_store, 0, limit=2) == [(B, 0), (A, 0)]
    assert _due(node_store, 0, after=(0, A, 0)) == [(A, 1)]
    assert [d.row.leaf_hash for d in node_store.due_threads(0, after=(0, B, 0), limit=1)] == ["00" * 32]
    first = node_store.due_threads(0, limit=1)[0]
    node_store.reschedule([(B, 0, first.touched, 7)])
    assert _due(node_store, 7) == [(A, 0), (A, 1), (B, 0)]  # the earliest due first
    assert _due(node_store, 7, after=(0, A, 1)) == [(B, 0)]
    assert [d.due for d in node_store.due_threads(7)] == [0, 0, 7]


def test_a_rescheduled_thread_waits_for_its_time_and_a_settled_one_is_never_due(node_store: NodeStore) -> None:
    node_store.add_records([_thread(A, 0), _thread(A, 1)])
    touched = {(d.row.origin, d.row.index): d.touched for d in node_store.due_threads(0)}
    node_store.reschedule([(A, 0, touched[(A, 0)], 5_000), (A, 1, touched[(A, 1)], NEVER)])
    assert _due(node_store, 4_999) == []
    assert _due(node_store, 5_000) == [(A, 0)]
    node_store.settle([(A, 0)])
    assert _due(node_store, NEVER - 1) == []


def test_a_record_referring_to_a_thread_makes_it_due_and_voids_a_reschedule_read_before(
    node_store: NodeStore,
) -> None:
    node_store.add_records([_thread(A, 0), _thread(A, 1)])
    (first, second) = node_store.due_threads(0)
    node_store.reschedule([(A, 1, second.touched, NEVER)])
    # a reply to A#0 is indexed while A#0 is being evaluated: the reschedule read before it is void
    node_store.add_records([RecordRow(B, 0, "aa" * 32, "t/ack", b"{}", refs=((A, 0), (A, 1)))])
    node_store.reschedule([(A, 0, first.touched, NEVER)])
    assert _due(node_store, 1) == [(A, 0), (A, 1)]  # both: one never rescheduled, one referred to since
    node_store.add_records([RecordRow(B, 1, "bb" * 32, "t/ack", b"{}", problem="bad", refs=((A, 0),))])
    again = {(d.row.origin, d.row.index): d.touched for d in node_store.due_threads(1)}
    node_store.reschedule([(A, 0, again[(A, 0)], NEVER), (A, 1, again[(A, 1)], NEVER)])
    assert _due(node_store, NEVER - 1) == []  # a quarantined record refers to nothing


def test_touching_every_thread_makes_each_unsettled_one_due(node_store: NodeStore) -> None:
    node_store.add_records([_thread(A, 0), _thread(A, 1)])
    rows = [(d.row.origin, d.row.index, d.touched, NEVER) for d in node_store.due_threads(0)]
    node_store.reschedule(rows)
    node_store.settle([(A, 1)])
    assert _due(node_store, 10) == []
    node_store.touch_threads()
    assert _due(node_store, 10) == [(A, 0)]
    node_store.reschedule(rows)  # read before the touch: void
    assert _due(node_store, 10) == [(A, 0)]


def test_an_older_sqlite_store_gets_the_schedule_on_open(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    SQLiteNodeStore(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE threads; CREATE TABLE threads (origin TEXT NOT NULL, log_index INTEGER NOT NULL, "
        "issued TEXT NOT NULL, involves_me INTEGER NOT NULL, settled INTEGER NOT NULL, "
        "PRIMARY KEY (origin, log_index)) STRICT;"
        "INSERT INTO threads VALUES ('us.example/log', 0, '2026-01-01T00:00:00.000000Z', 1, 0);"
        "INSERT INTO records VALUES ('us.example/log', 0, 'aa', 't/notice', x'7b7d', NULL);"
    )
    conn.commit()
    conn.close()
    store = SQLiteNodeStore(path)
    try:
        assert _due(store, 0) == [(A, 0)]  # what the old store held is due at once
    finally:
        store.close()
