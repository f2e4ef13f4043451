"""One sync of one peer (``detente.node.sync.sync_peer``), in process: a real SQLite log as the
peer, a real SQLite mirror, real Ed25519 signatures, and a client that can serve another
checkpoint or swap an entry in transit. Each test pins one decision: what is mirrored, what is a
fork (and its exact evidence), what is refused before anything is fetched, and the budgets at
their boundaries (issue #18: the tests the mutation run of ``node/sync.py`` needs)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hostile_peer import forged_checkpoint, padded

from detente.crypto.keys import Ed25519Identity
from detente.crypto.note import NoteSignature, open_note, parse_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import MalformedCheckpoint, SyncBudgetExceeded, UnknownKey, VerificationError
from detente.node import sync as sync_module
from detente.node.alarms import MAX_EVIDENCE_SIGNATURES, canonical_evidence
from detente.node.sync import DEFAULT_MAX_BYTES, Fork, SyncResult, sync_peer
from detente.node.tilelog import TileLog
from detente.records.entry import seal_record
from detente.records.keys import KEY_REVOCATION, KEY_ROTATION, KeyEvent, KeyHistory
from detente.records.record import Record
from detente.store.sqlite import SQLiteStore

ORIGIN = "cn.detente.example/log"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _statement(n: int, party: str = ORIGIN) -> Record:
    return Record(type="detente.dev/statement/v1", party=party, issued=NOW, body={"text": f"statement {n}"})


def _sealed(ident: Ed25519Identity, numbers: Sequence[int]) -> list[bytes]:
    return [seal_record(_statement(n, ident.name), ident) for n in numbers]


class _Client:
    """A peer serving ``log`` (what PeerClient fetches over HTTP), or another checkpoint, or some
    entries swapped in transit; it remembers what it was asked for."""

    def __init__(self, log: TileLog, note: bytes | None = None, swap: dict[int, bytes] | None = None) -> None:
        self.log = log
        self.note = note
        self.swap = swap or {}
        self.fetched: list[tuple[int, int]] = []
        self.nodes_asked: list[int] = []

    def checkpoint(self) -> bytes:
        return self.note if self.note is not None else self.log.signed_checkpoint()

    def iter_entries(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        self.fetched.append((start, end))
        for i, entry in enumerate(self.log.entries(start, end), start):
            yield i, self.swap.get(i, entry)

    def fetch_nodes(self, size: int) -> Any:
        self.nodes_asked.append(size)
        return self.log._fetch


class _Peer:
    def __init__(self, tmp_path: Path, ident: Ed25519Identity | None = None) -> None:
        self.ident = ident or Ed25519Identity.generate(ORIGIN)
        self.tmp_path = tmp_path
        self.log = self.other_log("peer")
        self.mirror = TileLog.mirror(SQLiteStore(tmp_path / "mirror.db", create=True), self.ident.vkey())
        self.forks: list[Fork] = []

    def other_log(self, name: str) -> TileLog:
        """Another log under the same key (what a peer that forks signs)."""
        return TileLog.create(SQLiteStore(self.tmp_path / f"{name}.db", create=True), self.ident)

    def sync(self, client: _Client | None = None, keys: Any = None, **kw: Any) -> SyncResult:
        return sync_peer(self.mirror, keys or self.ident.vkey(), client or _Client(self.log), self.forks.append, **kw)


def _summary(result: SyncResult) -> tuple[str, int, int, int, Fork | None]:
    return (result.origin, result.old_size, result.size, result.records, result.fork)


def _texts(result: SyncResult) -> list[str]:
    return [o.record.body["text"] for o in result.opened]


# --- what is mirrored ----------------------------------------------------------------------------


def test_a_sync_mirrors_the_new_entries_and_says_what_it_did(tmp_path: Path) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(5)))
    client = _Client(peer.log)
    first = peer.sync(client)
    assert (first.origin, first.old_size, first.size, first.records, first.fork, first.key_events) == (
        ORIGIN,
        0,
        5,
        5,
        None,
        (),
    )
    assert _texts(first) == [f"statement {n}" for n in range(5)]
    assert client.fetched == [(0, 5)]
    assert peer.mirror.refresh().size == 5 and peer.mirror.entries(0, 5) == peer.log.entries(0, 5)
    assert peer.mirror.signed_checkpoint() == peer.log.signed_checkpoint()

    peer.log.append(_sealed(peer.ident, range(5, 8)))
    second = peer.sync(client)
    assert (second.old_size, second.size, second.records) == (5, 8, 3)
    assert _texts(second) == ["statement 5", "statement 6", "statement 7"]
    assert client.fetched == [(0, 5), (5, 8)]  # only what is new
    assert peer.mirror.refresh().root == peer.log.refresh().root and peer.forks == []
    assert client.nodes_asked == []


def test_sync_results_and_forks_are_frozen(tmp_path: Path) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(1)))
    result = peer.sync()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.size = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Fork(ORIGIN, "equivocation", "x", b"", b"").kind = "other"  # type: ignore[misc]


def test_nothing_new_and_a_stale_replay_change_nothing(tmp_path: Path) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(5)))
    old_note = peer.log.signed_checkpoint()
    peer.log.append(_sealed(peer.ident, range(5, 8)))
    peer.sync()
    client = _Client(peer.log)
    assert _summary(peer.sync(client)) == (ORIGIN, 8, 8, 0, None)
    replay = _Client(peer.log, note=old_note)  # size 5, the root the mirror has at 5
    assert _summary(peer.sync(replay)) == (ORIGIN, 8, 8, 0, None)
    assert client.fetched == replay.fetched == [] and peer.forks == []
    assert peer.mirror.refresh().size == 8


def test_a_sync_without_a_key_callback_still_applies_the_rotation(tmp_path: Path) -> None:
    peer, i1 = _rotated(tmp_path, last_index=3)
    result = peer.sync()  # no on_keys
    assert result.size == 7 and [e.index for e in result.key_events] == [3, 6]
    assert peer.mirror.keys == (peer.ident.vkey(), i1.vkey())


# --- forks -----------------------------------------------------------------------------------------


def test_a_second_root_for_the_mirrors_size_is_an_equivocation_with_both_notes(tmp_path: Path) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(5)))
    peer.sync()
    seen = peer.mirror.signed_checkpoint()
    other = peer.other_log("fork")
    other.append(_sealed(peer.ident, range(100, 105)))
    shown = other.signed_checkpoint()
    client = _Client(other, note=padded(shown, 20))  # the padding is not evidence
    result = peer.sync(client)
    fork = Fork(ORIGIN, "equivocation", "two different roots for size 5", seen, shown)
    assert peer.forks == [fork] and _summary(result) == (ORIGIN, 5, 5, 0, fork)
    assert client.fetched == [] and peer.mirror.refresh().root == peer.log.refresh().root


def test_a_second_root_for_an_earlier_size_is_an_equivocation(tmp_path: Path) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(3)))
    peer.log.append(_sealed(peer.ident, range(3, 5)))
    peer.sync()
    other = peer.other_log("fork")
    other.append(_sealed(peer.ident, [0, 1, 99]))  # size 3, another third entry
    result = peer.sync(_Client(other))
    assert result.fork is not None and (result.fork.kind, result.fork.detail) == (
        "equivocation",
        "two different roots for size 3",
    )
    assert result.fork.seen == peer.mirror.signed_checkpoint() and result.fork.shown == other.signed_checkpoint()
    assert (result.old_size, result.size, result.records) == (5, 5, 0)


def test_a_larger_tree_that_does_not_extend_the_mirror_is_inconsistent(tmp_path: Path) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(5)))
    peer.sync()
    seen = peer.mirror.signed_checkpoint()
    other = peer.other_log("fork")
    other.append(_sealed(peer.ident, range(100, 108)))  # size 8, validly signed, another history
    client = _Client(other)
    result = peer.sync(client)
    fork = Fork(ORIGIN, "inconsistent", "size 8 does not extend the verified size 5", seen, other.signed_checkpoint())
    assert peer.forks == [fork] and _summary(result) == (ORIGIN, 5, 5, 0, fork)
    assert client.nodes_asked == [8]  # the peer's own hash tiles told which
    assert peer.mirror.refresh().size == 5 and peer.mirror.refresh().root == peer.log.root(5)


def test_entries_altered_in_transit_are_refused_not_a_fork(tmp_path: Path) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(5)))
    peer.sync()
    peer.log.append(_sealed(peer.ident, range(5, 8)))
    swapped = {6: seal_record(_statement(66), peer.ident)}  # validly signed, not the logged entry
    client = _Client(peer.log, swap=swapped)
    with pytest.raises(VerificationError, match=f"entries served by '{ORIGIN}' do not produce its signed root"):
        peer.sync(client)
    assert client.nodes_asked == [8] and peer.forks == [] and peer.mirror.refresh().size == 5


def test_entries_altered_on_a_first_sync_are_refused_without_asking_for_tiles(tmp_path: Path) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(5)))
    client = _Client(peer.log, swap={0: seal_record(_statement(50), peer.ident)})
    with pytest.raises(VerificationError, match="do not produce its signed root"):
        peer.sync(client)
    assert client.nodes_asked == [] and peer.forks == [] and peer.mirror.refresh().size == 0


# --- refused before anything is fetched -------------------------------------------------------------


def test_a_checkpoint_of_another_log_or_no_checkpoint_at_all_is_malformed(tmp_path: Path) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(2)))
    stranger = Ed25519Identity.generate("us.detente.example/log")
    client = _Client(peer.log, note=forged_checkpoint(stranger, 2, peer.log.root(2)))
    with pytest.raises(MalformedCheckpoint, match=f"checkpoint is for 'us.detente.example/log', not '{ORIGIN}'"):
        peer.sync(client)
    before = Ed25519Identity.generate("aa.detente.example/log")  # an origin sorting before ours
    early = _Client(peer.log, note=forged_checkpoint(before, 2, peer.log.root(2)))
    with pytest.raises(MalformedCheckpoint, match=f"checkpoint is for 'aa.detente.example/log', not '{ORIGIN}'"):
        peer.sync(early)
    junk = _Client(peer.log, note=b"not a note")
    with pytest.raises(MalformedCheckpoint, match=f"^checkpoint of '{ORIGIN}': "):
        peer.sync(junk)
    assert client.fetched == early.fetched == junk.fetched == [] and peer.mirror.refresh().size == 0


def test_a_checkpoint_whose_known_key_does_not_verify_fetches_nothing(tmp_path: Path) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(4)))
    note = parse_note(peer.log.signed_checkpoint())
    sig = note.signatures[0]
    bad = note.with_signatures([]).with_signatures([type(sig)(sig.name, sig.key_id, bytes(64))]).to_bytes()
    assert parse_note(bad).signatures[0].key_id == sig.key_id
    client = _Client(peer.log, note=bad)
    with pytest.raises(VerificationError):
        peer.sync(client)
    assert client.fetched == [] and peer.mirror.refresh().size == 0


# --- the budgets at their boundaries ---------------------------------------------------------------


def test_the_byte_budget_holds_exactly_max_bytes(tmp_path: Path) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(5)))
    total = sum(len(e) for e in peer.log.entries(0, 5))
    with pytest.raises(
        SyncBudgetExceeded, match=f"^'{ORIGIN}' has over {total - 1} bytes of new entries since size 0$"
    ):
        peer.sync(max_bytes=total - 1)
    assert peer.mirror.refresh().size == 0
    assert peer.sync(max_bytes=total).size == 5
    peer.log.append(_sealed(peer.ident, range(5, 7)))
    more = sum(len(e) for e in peer.log.entries(5, 7))
    with pytest.raises(SyncBudgetExceeded, match=f"has over {more - 1} bytes of new entries since size 5"):
        peer.sync(max_bytes=more - 1)
    assert peer.sync(max_bytes=more).size == 7
    assert DEFAULT_MAX_BYTES == 64 * 1024 * 1024


class _Clock:
    """``time`` for the sync module: each reading is ``step`` seconds after the last."""

    def __init__(self, step: float = 1.0) -> None:
        self.now = 1000.0
        self.step = step

    def monotonic(self) -> float:
        self.now += self.step
        return self.now


def test_the_time_budget_holds_exactly_max_seconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(5)))
    # the deadline is read once, then once per entry: entry n is checked n seconds after the start
    monkeypatch.setattr(sync_module, "time", _Clock())
    with pytest.raises(SyncBudgetExceeded, match=f"^sync of '{ORIGIN}' took over 4s$"):
        peer.sync(max_seconds=4.0)
    assert peer.mirror.refresh().size == 0
    monkeypatch.setattr(sync_module, "time", _Clock())
    assert peer.sync(max_seconds=5.0).size == 5


# --- rotated and revoked keys ----------------------------------------------------------------------


def _rotated(tmp_path: Path, last_index: int) -> tuple[_Peer, Ed25519Identity]:
    """0..2 signed by i0, the rotation to i1 at 3, 4..5 signed by i1, i0 revoked at 6 (vouching
    for 0..``last_index``)."""
    peer = _Peer(tmp_path)
    i0, i1 = peer.ident, Ed25519Identity.generate(ORIGIN)
    peer.log.append(_sealed(i0, range(3)))
    rotation = seal_record(Record(type=KEY_ROTATION, party=ORIGIN, issued=NOW, body={"vkey": str(i1.vkey())}), i0)
    peer.log.schedule_rotation(rotation, i1)
    peer.log.append([rotation])
    peer.log.append(_sealed(i1, range(4, 6)))
    body = {"vkey": str(i0.vkey()), "effective": "2026-11-30T00:00:00Z", "last_index": last_index, "reason": "stolen"}
    peer.log.append([seal_record(Record(type=KEY_REVOCATION, party=ORIGIN, issued=NOW, body=body), i1)])
    return peer, i1


def test_key_events_reach_the_callback_before_anything_is_mirrored(tmp_path: Path) -> None:
    peer, i1 = _rotated(tmp_path, last_index=3)
    calls: list[tuple[KeyHistory, tuple[KeyEvent, ...], int]] = []
    result = peer.sync(on_keys=lambda h, e: calls.append((h, e, peer.mirror.refresh().size)))
    i0 = peer.ident
    events = (KeyEvent(3, "rotation", str(i1.vkey())), KeyEvent(6, "revocation", str(i0.vkey()), 3))
    assert result.key_events == events and (result.size, result.records, peer.forks) == (7, 7, [])
    [(history, given, size_then)] = calls
    assert given == events and size_then == 0  # remembered before the mirror moved
    assert history.keys == (i0.vkey(), i1.vkey()) and history.revoked_at(i0.vkey(), 4)
    assert peer.mirror.keys == (i0.vkey(), i1.vkey())


def test_a_revocation_that_disowns_signed_entries_raises_an_alarm_and_still_mirrors(tmp_path: Path) -> None:
    peer, _ = _rotated(tmp_path, last_index=1)  # entry 2, signed by i0 before the rotation, is disowned
    result = peer.sync()
    revocation = peer.log.entries(6, 7)[0]
    detail = (
        f"entries 2..2 were signed by {peer.ident.vkey()}, revoked by #6 after their signing: the party disowns them"
    )
    assert peer.forks == [Fork(ORIGIN, "revoked-key", detail, b"", revocation)]
    assert (result.size, result.fork) == (7, None) and peer.mirror.refresh().size == 7


def _synced_rotated(tmp_path: Path) -> tuple[_Peer, Ed25519Identity, KeyHistory]:
    peer, i1 = _rotated(tmp_path, last_index=3)
    learned: list[tuple[KeyEvent, ...]] = []
    peer.sync(on_keys=lambda h, e: learned.append(e))
    return peer, i1, KeyHistory(peer.ident.vkey(), learned[0])


def test_a_checkpoint_signed_by_the_revoked_key_is_an_alarm_at_or_below_the_mirrors_size(tmp_path: Path) -> None:
    peer, _, history = _synced_rotated(tmp_path)
    seen = peer.mirror.signed_checkpoint()
    for size in (7, 5):
        forged = forged_checkpoint(peer.ident, size, bytes([size]) * 32)
        result = peer.sync(_Client(peer.log, note=forged), keys=history)
        fork = Fork(ORIGIN, "revoked-key", f"checkpoint of size {size} is signed by a revoked key", seen, forged)
        assert _summary(result) == (ORIGIN, 7, 7, 0, fork)
    # size 4 commits to 0..3 only, which the revocation vouches for: i0 is simply not its key
    with pytest.raises(UnknownKey):
        peer.sync(_Client(peer.log, note=forged_checkpoint(peer.ident, 4, peer.log.root(4))), keys=history)
    assert len(peer.forks) == 2 and peer.mirror.refresh().size == 7


def test_a_larger_checkpoint_signed_by_the_revoked_key_is_an_alarm_and_mirrors_nothing(tmp_path: Path) -> None:
    peer, i1, history = _synced_rotated(tmp_path)
    peer.log.append(_sealed(i1, range(7, 9)))
    forged = forged_checkpoint(peer.ident, 9, peer.log.root(9))
    result = peer.sync(_Client(peer.log, note=forged), keys=history)
    assert result.fork is not None and (result.fork.kind, result.fork.detail, result.fork.shown) == (
        "revoked-key",
        "checkpoint of size 9 is signed by a revoked key",
        forged,
    )
    assert (result.old_size, result.size, result.records) == (7, 7, 0) and peer.mirror.refresh().size == 7
    assert peer.sync(keys=history).size == 9  # the log's own checkpoint, signed by i1, still syncs


def test_an_entry_signed_by_the_revoked_key_is_an_alarm_and_one_by_a_stranger_a_refusal(tmp_path: Path) -> None:
    peer, i1, history = _synced_rotated(tmp_path)
    peer.log.append(_sealed(i1, range(7, 9)))
    by_revoked = seal_record(_statement(7), peer.ident)
    result = peer.sync(_Client(peer.log, swap={7: by_revoked}), keys=history)
    detail = f"entry 7 is signed by the revoked key {peer.ident.vkey()}"
    seen = peer.mirror.signed_checkpoint()
    assert _summary(result) == (ORIGIN, 7, 7, 0, Fork(ORIGIN, "revoked-key", detail, seen, by_revoked))

    stranger = Ed25519Identity.generate(ORIGIN)  # same name, never announced
    with pytest.raises(VerificationError, match=f"^entry 8 of '{ORIGIN}' does not verify: ") as info:
        peer.sync(_Client(peer.log, swap={8: seal_record(_statement(8), stranger)}), keys=history)
    assert info.value.hint == "the peer or the network altered it; nothing was mirrored"
    assert peer.mirror.refresh().size == 7 and len(peer.forks) == 1


def test_a_sync_may_take_300_seconds_unless_told_otherwise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(1)))
    monkeypatch.setattr(sync_module, "time", _Clock(step=301.0))  # the one entry arrives 301 s in
    with pytest.raises(SyncBudgetExceeded, match=r"took over 300s$"):
        peer.sync()
    monkeypatch.setattr(sync_module, "time", _Clock(step=300.0))  # 300 s in: still in time
    assert peer.sync().size == 1


def test_a_tree_that_does_not_extend_is_told_from_altered_entries_whichever_root_sorts_first(tmp_path: Path) -> None:
    # two histories under one key; each mirror holds one at size 5 and is then shown the other at size 8
    ident = Ed25519Identity.from_seed(ORIGIN, bytes(range(32)))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = _Peer(tmp_path / "a", ident), _Peer(tmp_path / "b", ident)
    first.log.append(_sealed(ident, range(5)))
    second.log.append(_sealed(ident, range(100, 105)))
    low, high = sorted([first, second], key=lambda p: p.log.root(5))
    assert low.log.root(5) < high.log.root(5)
    for peer in (low, high):
        peer.sync()
    for peer in (low, high):
        peer.log.append(_sealed(ident, range(200, 203)))
    for mirror_of, shown in ((low, high), (high, low)):
        result = mirror_of.sync(_Client(shown.log))
        assert result.fork is not None
        assert (result.fork.kind, result.fork.detail) == ("inconsistent", "size 8 does not extend the verified size 5")
        assert mirror_of.mirror.refresh().size == 5


def test_a_checkpoint_signed_by_the_second_of_two_revoked_keys_is_an_alarm(tmp_path: Path) -> None:
    """0..2 by i0, rotation to i1 at 3, 4 by i1, rotation to i2 at 5, i0 revoked at 6 and i1 at 7
    (both by i2): a checkpoint signed by i1 is tried against i0 first, then i1."""
    peer = _Peer(tmp_path)
    i0, i1, i2 = peer.ident, Ed25519Identity.generate(ORIGIN), Ed25519Identity.generate(ORIGIN)
    peer.log.append(_sealed(i0, range(3)))
    for old, new in ((i0, i1), (i1, i2)):
        if new is i2:
            peer.log.append(_sealed(i1, [4]))
        rotation = seal_record(Record(type=KEY_ROTATION, party=ORIGIN, issued=NOW, body={"vkey": str(new.vkey())}), old)
        peer.log.schedule_rotation(rotation, new)
        peer.log.append([rotation])
    for revoked, last in ((i0, 3), (i1, 5)):
        body = {"vkey": str(revoked.vkey()), "effective": "2026-11-30T00:00:00Z", "last_index": last, "reason": "x"}
        peer.log.append([seal_record(Record(type=KEY_REVOCATION, party=ORIGIN, issued=NOW, body=body), i2)])
    learned: list[tuple[KeyEvent, ...]] = []
    assert peer.sync(on_keys=lambda h, e: learned.append(e)).size == 8 and peer.forks == []
    history = KeyHistory(i0.vkey(), learned[0])
    assert history.revoked_keys(7) == [i0.vkey(), i1.vkey()]
    forged = forged_checkpoint(i1, 8, bytes(32))
    result = peer.sync(_Client(peer.log, note=forged), keys=history)
    assert result.fork is not None and (result.fork.kind, result.fork.detail, result.fork.shown) == (
        "revoked-key",
        "checkpoint of size 8 is signed by a revoked key",
        forged,
    )


# --- what a refused sync leaves behind, and what a fork's evidence keeps -----------------------------


class _Replayed(_Client):
    """The log's own checkpoint, and its own validly signed entries served at other positions
    (what whoever serves the read side, a static copy or a network in the middle, can do)."""

    def __init__(self, log: TileLog, order: Sequence[int]) -> None:
        super().__init__(log)
        self.order = order

    def iter_entries(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        real = self.log.entries(0, self.log.size)
        for i in range(start, end):
            yield i, real[self.order[i]]


def test_key_events_of_entries_that_do_not_make_the_signed_root_are_not_kept(tmp_path: Path) -> None:
    peer = _Peer(tmp_path)
    i0, i1 = peer.ident, Ed25519Identity.generate(ORIGIN)
    peer.log.append(_sealed(i0, range(10)))
    rotation = seal_record(Record(type=KEY_ROTATION, party=ORIGIN, issued=NOW, body={"vkey": str(i1.vkey())}), i0)
    peer.log.schedule_rotation(rotation, i1)
    peer.log.append([rotation])  # 10
    peer.log.append(_sealed(i1, range(11, 15)))  # the checkpoint of size 15 is signed by i1
    learned: list[tuple[KeyEvent, ...]] = []
    # the real rotation moved to 5, then i1's real entries: each verifies, the root does not
    replayed = _Replayed(peer.log, [0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 11, 12, 13, 14, 11])
    with pytest.raises(VerificationError, match="do not produce its signed root"):
        peer.sync(replayed, on_keys=lambda h, e: learned.append(e))
    assert learned == [] and peer.mirror.refresh().size == 0  # a rotation at 5 was never the log's
    result = peer.sync(on_keys=lambda h, e: learned.append(e))
    assert learned == [(KeyEvent(10, "rotation", str(i1.vkey())),)] and result.size == 15


def _crowded(note: bytes, origin: str = ORIGIN) -> bytes:
    """``note`` with four junk signature lines in the log's own name put before its real ones."""
    parsed = parse_note(note)
    junk = tuple(NoteSignature(origin, 0x01020300 + i, b"\x00" * 64) for i in range(MAX_EVIDENCE_SIGNATURES))
    return dataclasses.replace(parsed, signatures=junk + parsed.signatures).to_bytes()


def test_junk_lines_in_the_logs_name_cannot_crowd_its_signature_out_of_an_inconsistent_forks_evidence(
    tmp_path: Path,
) -> None:
    peer = _Peer(tmp_path)
    peer.log.append(_sealed(peer.ident, range(5)))
    peer.sync()
    other = peer.other_log("fork")
    other.append(_sealed(peer.ident, range(100, 108)))  # size 8, another history, validly signed
    result = peer.sync(_Client(other, note=_crowded(other.signed_checkpoint())))
    assert result.fork is not None and result.fork.kind == "inconsistent"
    evidence = canonical_evidence(ORIGIN, result.fork.shown)  # what the alarm record keeps
    open_note(evidence.encode(), [verifier_for(peer.ident.vkey())])  # still proves who signed it


def test_junk_lines_cannot_crowd_a_revoked_keys_signature_out_of_the_evidence(tmp_path: Path) -> None:
    peer, i1, history = _synced_rotated(tmp_path)
    for size in (7, 9):  # at the mirror's size, and a larger tree
        if size == 9:
            peer.log.append(_sealed(i1, range(7, 9)))
        forged = forged_checkpoint(peer.ident, size, peer.log.root(size) if size == 9 else bytes(32))
        result = peer.sync(_Client(peer.log, note=_crowded(forged)), keys=history)
        assert result.fork is not None and result.fork.kind == "revoked-key"
        assert result.fork.shown == forged  # only the line that verified with the revoked key
        open_note(canonical_evidence(ORIGIN, result.fork.shown).encode(), [verifier_for(peer.ident.vkey())])
