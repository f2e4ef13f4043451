"""The node store's paged reads, on both drivers: a time window read page by page in time order
(``records_by_time``, how the quarterly report reads its quarter) and the threads about one topic
counted and paged in the store (``threads_about``, the export-control disclosures)."""

from __future__ import annotations

import os

from detente.store.node_protocol import NodeStore, RecordRow, ThreadMark

A, B = "a.example/log", "b.example/log"
Q2 = ("2026-04-01T00:00:00.000000Z", "2026-07-01T00:00:00.000000Z")


def _row(origin: str, index: int, issued: str | None, body: str = "{}", problem: str | None = None) -> RecordRow:
    record = f'{{"issued":"{issued or "2026-01-01T00:00:00Z"}","body":{body}}}'.encode()
    return RecordRow(origin, index, f"{index:064x}", "t/notice", record, problem, issued=issued)


def _pages(store: NodeStore, origins: list[str], limit: int) -> list[list[tuple[str, int, str]]]:
    pages, after = [], None
    while rows := store.records_by_time(origins, since=Q2[0], until=Q2[1], after=after, limit=limit):
        assert len(rows) <= limit
        pages.append([(r.origin, r.index, r.issued or "") for r in rows])
        after = (rows[-1].issued or "", rows[-1].origin, rows[-1].index)
    return pages


def test_a_window_read_in_pages_in_time_order(node_store: NodeStore) -> None:
    may = [f"2026-05-{d:02d}T00:00:00.000000Z" for d in range(1, 29)]
    node_store.add_records([_row(A, i, may[(i * 5) % 28]) for i in range(28)])  # log order is not time order
    node_store.add_records([_row(B, 0, may[3]), _row(B, 1, None), _row(B, 2, "2026-07-01T00:00:00.000000Z")])
    node_store.add_records([_row(B, 3, None), _row(B, 4, may[0], problem="quarantined")])
    node_store.add_records([_row(A, 28, "2026-03-31T23:59:59.999999Z")])
    node_store.add_records([_row(B, i, may[3]) for i in range(10, 17)])  # ties across page boundaries

    before = node_store.rows_read
    pages = _pages(node_store, [A, B], 4)
    flat = [row for page in pages for row in page]
    assert node_store.rows_read - before == len(flat) == 2 + 29 + 7  # the untimed, then the window once each
    assert flat[:2] == [(B, 1, ""), (B, 3, "")]  # the untimed first (in every window: the reader checks)
    timed = flat[2:]
    assert timed == sorted(timed, key=lambda r: (r[2], r[0], r[1]))
    assert {(o, i) for o, i, _ in timed} == {*((A, i) for i in range(28)), (B, 0), *((B, i) for i in range(10, 17))}
    assert [len(p) for p in pages] == [4] * 9 + [2]
    for size in (1, 1000):  # the same at any page size
        assert [r[:2] for r in flat] == [r[:2] for p in _pages(node_store, [A, B], size) for r in p]
    assert all(o == A for p in _pages(node_store, [A], 3) for o, _, _ in p)
    assert node_store.records_by_time([], since=Q2[0], until=Q2[1], after=None, limit=10) == []


def test_threads_about_a_topic_counted_and_paged_in_the_store(node_store: NodeStore) -> None:
    def notice(origin: str, index: int, day: int, topic: str, *, me: bool = True) -> RecordRow:
        issued = f"2026-05-{day:02d}T00:00:00.000000Z"
        record = f'{{"issued":"{issued}","body":{{"topic":"{topic}"}}}}'.encode()
        return RecordRow(origin, index, f"{index:064x}", "t/hotline", record, thread=ThreadMark(issued, me))

    node_store.add_records([notice(A, i, 1 + i % 3, "violation" if i % 2 else "other") for i in range(12)])
    node_store.add_records([notice(B, 0, 3, "violation"), notice(B, 1, 3, "violation", me=False)])
    node_store.add_records([RecordRow(B, 2, "22" * 32, "t/other", b'{"body":{"topic":"violation"}}')])
    # the newest first, ties by origin then index, descending
    expected = [(B, 0), (A, 11), (A, 5), (A, 7), (A, 1), (A, 9), (A, 3)]

    before = node_store.rows_read
    total, rows = node_store.threads_about([A, B], "t/hotline", "violation", limit=None)
    assert total == 7 and [(r.origin, r.index) for r in rows] == expected
    total, rows = node_store.threads_about([A, B], "t/hotline", "violation", limit=2, offset=3)
    assert total == 7 and [(r.origin, r.index) for r in rows] == expected[3:5]
    assert node_store.rows_read - before == 7 + 2  # the count reads no row
    total, rows = node_store.threads_about([A], "t/hotline", "violation", limit=10)
    assert total == 6 and all(r.origin == A for r in rows)
    assert node_store.threads_about([A, B], "t/hotline", "violation", limit=5, offset=7) == (7, [])
    assert node_store.threads_about([A, B], "t/hotline", "none", limit=10) == (0, [])


def test_an_older_store_has_its_threads_topics_read_once_on_open(node_store: NodeStore) -> None:
    from detente.store.postgres_node import PostgresNodeStore
    from detente.store.sqlite_node import SQLiteNodeStore

    def notice(index: int, body: str) -> RecordRow:
        record = b'{"issued":"2026-05-01T00:00:00Z","body":' + body.encode() + b"}"
        return RecordRow(A, index, f"{index:064x}", "t/hotline", record, thread=ThreadMark("2026-05-01", True))

    node_store.add_records(
        [
            notice(0, '{"topic":"violation"}'),
            notice(1, '{"topic":"viol\\u0061tion"}'),  # the same topic, escaped: found by its value
            notice(2, '{"topic":["violation"]}'),  # not a string: no topic
            notice(3, '{"topic":"\\u0000"}'),  # no text every driver holds: no topic, and no error
            notice(4, '{"other":"violation"}'),
        ]
    )
    assert [r.index for r in node_store.threads_about([A], "t/hotline", "violation", limit=None)[1]] == [1, 0]
    if isinstance(node_store, SQLiteNodeStore):  # as a store from before the topics were kept
        node_store._conn.execute("DROP TABLE thread_topics")
        node_store._conn.execute("DELETE FROM cursors WHERE name = 'thread_topics'")
        reopened: NodeStore = SQLiteNodeStore(node_store.path)
    else:
        assert isinstance(node_store, PostgresNodeStore)
        node_store._run("DROP TABLE @thread_topics")
        node_store._run("DELETE FROM @cursors WHERE name = 'thread_topics'")
        url = os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test")
        reopened = PostgresNodeStore(url, schema=node_store.s)
    try:
        total, rows = reopened.threads_about([A], "t/hotline", "violation", limit=None)
        assert total == 2 and [r.index for r in rows] == [1, 0]
    finally:
        reopened.close()
