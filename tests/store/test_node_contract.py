"""The NodeStore contract on every driver: tokens, pinned peers, witness CAS, alarms."""

from __future__ import annotations

import threading

import pytest

from detente.errors import ConfigError
from detente.store.node_protocol import NodeStore, PeerRow, TimeRow, TokenRow


def test_tokens_round_trip_and_revoke(node_store: NodeStore) -> None:
    row = TokenRow("t1", b"h" * 32, "officer", "desk", 100, None, None)
    node_store.add_token(row)
    assert node_store.get_token("t1") == row
    assert node_store.get_token("nope") is None
    assert node_store.revoke_token("t1", 200)
    assert node_store.get_token("t1").revoked == 200
    assert node_store.revoke_token("t1", 300)  # idempotent: the first revocation time stays
    assert node_store.get_token("t1").revoked == 200
    assert not node_store.revoke_token("nope", 300)
    assert [t.token_id for t in node_store.list_tokens()] == ["t1"]


def test_a_pinned_peer_key_is_never_replaced_silently(node_store: NodeStore) -> None:
    peer = PeerRow("cn", "http://127.0.0.1:1", "cn.example/log+00000000+AAAA", None, 1)
    node_store.add_peer(peer)
    with pytest.raises(ConfigError):
        node_store.add_peer(PeerRow("cn", "http://evil", "cn.example/log+11111111+BBBB", None, 2))
    assert node_store.peers() == [peer]
    assert node_store.remove_peer("cn")
    assert not node_store.remove_peer("cn")
    assert node_store.peers() == []


def test_witness_state_compare_and_swap(node_store: NodeStore) -> None:
    assert node_store.witness_latest("log") is None
    assert not node_store.witness_swap("log", 5, 10, b"cp10")  # witness has size 0, not 5
    assert node_store.witness_swap("log", 0, 10, b"cp10")
    assert not node_store.witness_swap("log", 0, 12, b"cp12")
    assert node_store.witness_swap("log", 10, 12, b"cp12")
    assert node_store.witness_latest("log") == b"cp12"


def test_witness_swap_is_atomic_under_races(node_store: NodeStore) -> None:
    wins: list[int] = []

    def race(size: int) -> None:
        if node_store.witness_swap("race", 0, size, b"cp%d" % size):
            wins.append(size)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert node_store.witness_latest("race") == b"cp%d" % wins[0]


def test_alarms(node_store: NodeStore) -> None:
    a = node_store.add_alarm("cn.example/log", "equivocation", "two roots for size 5", 1000, 7)
    b = node_store.add_alarm("cn.example/log", "inconsistent", "root does not extend", 1001, None)
    assert b > a
    assert [(x.kind, x.index) for x in node_store.alarms()] == [("equivocation", 7), ("inconsistent", None)]


def test_cosigned_checkpoint_is_kept(node_store: NodeStore) -> None:
    assert node_store.load_cosigned("us") is None
    node_store.save_cosigned("us", b"cp1 + cosigs")
    node_store.save_cosigned("us", b"cp2 + cosigs")
    assert node_store.load_cosigned("us") == b"cp2 + cosigs"
    assert node_store.load_cosigned("cn") is None


def test_cursors(node_store: NodeStore) -> None:
    assert node_store.get_cursor("receipts:cn") == 0
    node_store.set_cursor("receipts:cn", 17)
    node_store.set_cursor("receipts:cn", 42)
    assert node_store.get_cursor("receipts:cn") == 42
    assert node_store.get_cursor("receipts:us") == 0


def test_records_are_indexed_by_origin_index_and_type_with_their_quarantine(node_store: NodeStore) -> None:
    from detente.store.node_protocol import RecordRow

    a, b = "us.example/log", "cn.example/log"
    assert node_store.indexed_size(a) == 0 and node_store.records(a) == []
    rows = [
        RecordRow(a, 0, "00" * 32, "t/notice", b'{"n":0}'),
        RecordRow(a, 1, "11" * 32, "t/incident", b'{"n":1}'),
        RecordRow(a, 2, "22" * 32, "t/notice", b'{"n":2}', problem="t/notice: body.x: field required"),
        RecordRow(b, 0, "33" * 32, "t/notice", b'{"n":3}'),
    ]
    node_store.add_records(rows)
    node_store.add_records(rows[:1])  # indexing again changes nothing
    assert node_store.indexed_size(a) == 3 and node_store.indexed_size(b) == 1
    assert [r.index for r in node_store.records(a)] == [0, 1]  # the quarantined one is left out
    assert [r.index for r in node_store.records(a, types=["t/notice"])] == [0]
    assert node_store.records(a, types=[]) == []
    assert [r.record for r in node_store.records(a, start=1, end=2)] == [b'{"n":1}']
    count, bad = node_store.quarantined()
    assert count == 1 and bad[0].index == 2 and bad[0].problem and "field required" in bad[0].problem
    assert node_store.quarantined(b)[0] == 0
    assert node_store.quarantined(a, start=0, end=2)[0] == 0 and node_store.quarantined(a, start=2, end=3)[0] == 1
    assert node_store.quarantined(limit=0) == (1, [])


def test_threads_page_newest_first_replies_are_found_and_settled_threads_drop_out(node_store: NodeStore) -> None:
    from detente.store.node_protocol import RecordRow, ThreadMark

    a, b = "us.example/log", "cn.example/log"
    node_store.add_records(
        [
            RecordRow(a, 0, "00" * 32, "t/notice", b"{}", thread=ThreadMark("2026-01-01T00:00:00.000000Z", True)),
            RecordRow(a, 1, "11" * 32, "t/notice", b"{}", thread=ThreadMark("2026-01-03T00:00:00.000000Z", True)),
            RecordRow(a, 2, "22" * 32, "t/notice", b"{}", thread=ThreadMark("2026-01-02T00:00:00.000000Z", False)),
            RecordRow(b, 0, "33" * 32, "t/receipt", b"{}", refs=((a, 0),)),
            RecordRow(b, 1, "44" * 32, "t/ack", b"{}", refs=((a, 0), (a, 1))),
            RecordRow(b, 2, "55" * 32, "t/ack", b"{}", problem="bad", refs=((a, 1),)),  # quarantined: never a reply
            RecordRow(
                b,
                3,
                "66" * 32,
                "t/notice",
                b"{}",
                problem="bad",
                thread=ThreadMark("2026-01-04T00:00:00.000000Z", True),
            ),
        ]
    )
    count, rows = node_store.threads()
    assert count == 2 and [(r.origin, r.index) for r in rows] == [(a, 1), (a, 0)]  # newest first, mine only
    assert [(r.origin, r.index) for r in node_store.threads(limit=1, offset=1)[1]] == [(a, 0)]
    assert [(r.origin, r.index) for r in node_store.referrers([(a, 0), (a, 1)])] == [(b, 0), (b, 1)]
    assert [(r.origin, r.index) for r in node_store.referrers([(a, 1)])] == [(b, 1)]
    assert node_store.referrers([]) == []
    node_store.settle([(a, 1)])
    assert [(r.origin, r.index) for r in node_store.threads(unsettled=True)[1]] == [(a, 0)]
    assert node_store.threads()[0] == 2  # a settled thread is still listed


def test_time_observations_keep_the_earliest_per_witness_and_size(node_store: NodeStore) -> None:
    node_store.add_times(
        [
            TimeRow("cn", 5, "us", "cosigned", 200, "— us AAAA"),
            TimeRow("cn", 5, "us", "cosigned", 150, "— us BBBB"),  # earlier: replaces, with its line
            TimeRow("cn", 3, "us", "cosigned", 100, "— us CCCC"),
            TimeRow("cn", 5, "eu", "cosigned", 120, "— eu DDDD"),
            TimeRow("cn", 5, "us", "mirrored", 160),
            TimeRow("us", 1, "cn", "cosigned", 90, "— cn EEEE"),
        ]
    )
    node_store.add_times([TimeRow("cn", 5, "us", "cosigned", 180, "— us FFFF")])  # later: ignored
    assert node_store.times("cn", "cosigned") == [
        TimeRow("cn", 3, "us", "cosigned", 100, "— us CCCC"),
        TimeRow("cn", 5, "eu", "cosigned", 120, "— eu DDDD"),
        TimeRow("cn", 5, "us", "cosigned", 150, "— us BBBB"),
    ]
    assert node_store.times("cn", "mirrored") == [TimeRow("cn", 5, "us", "mirrored", 160)]
    assert node_store.times("nowhere", "cosigned") == []
