"""The node store's reads by time window, type and body field (``records_issued``), on both drivers:
what a quarter's report and the export-control disclosures read instead of every record."""

from __future__ import annotations

import os

from detente.store.node_protocol import NodeStore, RecordRow

A, B = "a.example/log", "b.example/log"


def _row(origin: str, index: int, kind: str, issued: str | None, body: str = "{}") -> RecordRow:
    record = f'{{"issued":"{issued or "2026-01-01T00:00:00Z"}","body":{body}}}'.encode()
    return RecordRow(origin, index, f"{index:064x}", kind, record, issued=issued)


def test_a_window_of_time_types_and_a_body_field(node_store: NodeStore) -> None:
    node_store.add_records(
        [
            _row(A, 0, "t/notice", "2026-03-31T23:59:59.999999Z"),
            _row(A, 1, "t/notice", "2026-04-01T00:00:00.000000Z", '{"topic":"violation"}'),
            _row(A, 2, "t/statement", "2026-05-01T00:00:00.000000Z"),
            _row(A, 3, "t/notice", "2026-07-01T00:00:00.000000Z", '{"topic":"violation"}'),
            _row(B, 0, "t/notice", "2026-06-30T12:00:00.000000Z", '{"topic":"other"}'),
            _row(B, 1, "t/notice", None),  # a time the store does not know: in every window
        ]
    )
    node_store.add_records([RecordRow(A, 4, "ff" * 32, "t/notice", b"{}", problem="quarantined", issued="2026-05-01")])
    q2 = ("2026-04-01T00:00:00.000000Z", "2026-07-01T00:00:00.000000Z")

    def keys(rows: list[RecordRow]) -> list[tuple[str, int]]:
        return [(r.origin, r.index) for r in rows]

    before = node_store.rows_read
    assert keys(node_store.records_issued([A, B], since=q2[0], until=q2[1])) == [(A, 1), (A, 2), (B, 0), (B, 1)]
    assert node_store.rows_read - before == 4
    assert keys(node_store.records_issued([A], since=q2[0], until=q2[1])) == [(A, 1), (A, 2)]
    assert keys(node_store.records_issued([A, B], until=q2[0], types=["t/notice"])) == [(A, 0), (B, 1)]
    assert keys(node_store.records_issued([A, B], since=q2[0], types=["t/notice", "t/statement"])) == [
        (A, 1),
        (A, 2),
        (A, 3),
        (B, 0),
        (B, 1),
    ]
    assert keys(node_store.records_issued([A, B], types=["t/notice"], body=("topic", "violation"))) == [(A, 1), (A, 3)]
    assert node_store.records_issued([A, B], types=[]) == []
    assert node_store.records_issued([], since=q2[0]) == []


def test_an_older_store_has_its_records_timed_once_on_open(node_store: NodeStore) -> None:
    from detente.store.postgres_node import PostgresNodeStore
    from detente.store.sqlite_node import SQLiteNodeStore

    rows = [
        RecordRow(A, 0, "00" * 32, "t/n", b'{"issued":"2026-04-01T07:59:59.5+08:00","body":{}}'),  # Q1 in UTC
        RecordRow(A, 1, "11" * 32, "t/n", b'{"issued":"2026-04-01T00:00:00.25Z","body":{}}'),
        RecordRow(A, 2, "22" * 32, "t/n", b'{"issued":"2026-07-01T00:00:00Z","body":{}}'),
    ]
    node_store.add_records(rows)  # no times given: as an older node indexed them
    if isinstance(node_store, SQLiteNodeStore):
        node_store._conn.execute("DROP TABLE record_issued")
        node_store._conn.execute("DELETE FROM cursors WHERE name = 'record_issued'")
        reopened: NodeStore = SQLiteNodeStore(node_store.path)
    else:
        assert isinstance(node_store, PostgresNodeStore)
        node_store._run("DROP TABLE @record_issued")
        node_store._run("DELETE FROM @cursors WHERE name = 'record_issued'")
        url = os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test")
        reopened = PostgresNodeStore(url, schema=node_store.s)
    try:
        got = reopened.records_issued([A], since="2026-04-01T00:00:00.000000Z", until="2026-07-01T00:00:00.000000Z")
        assert [r.index for r in got] == [1]
    finally:
        reopened.close()


def test_sealed_records_are_read_through_their_own_index(node_store: NodeStore) -> None:
    node_store.add_records(
        [
            RecordRow(A, 0, "00" * 32, "t/n", b'{"body":{"text":"\\"sealed\\" in a text"},"type":"t/n"}'),
            RecordRow(A, 1, "11" * 32, "t/n", b'{"body":{},"sealed":{"to":[]},"type":"t/n"}'),
            RecordRow(A, 2, "22" * 32, "t/n", b'{"body":{},"type":"t/n"}'),
            RecordRow(A, 3, "33" * 32, "t/n", b'{"body":{},"sealed":{"to":[]},"type":"t/n"}'),
        ]
    )
    before = node_store.rows_read
    assert [r.index for r in node_store.records(A, sealed=True)] == [1, 3]
    assert [r.index for r in node_store.records(A, start=2, sealed=True)] == [3]
    assert node_store.rows_read - before == 3
    # with types and no window (where the type index would otherwise be named as well)
    assert [r.index for r in node_store.records(A, types=["t/n"], sealed=True)] == [1, 3]
    assert node_store.records(A, types=["t/other"], sealed=True) == []
