"""The node's protocol loop on its schedule (issue #26), against a full re-evaluation: a real node
(SQLite file, real keys) mirrors a peer's log as a sync does, both logs are witnessed, and at every
turn the actions the node takes, evaluating only the threads that are due, are those a full
evaluation of every record finds for the threads not yet settled. A restart resumes from the
stored schedule; a hostile peer's malformed record never stops the loop."""

from __future__ import annotations

import contextlib
import random
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tomli_w

from detente.crypto.keys import Ed25519Identity
from detente.errors import AlreadyAnswered
from detente.node.config import load_config
from detente.node.localnet import LocalNode, _run_cli
from detente.node.node import Node
from detente.node.tilelog import TileLog
from detente.node.timebook import TimeBook
from detente.protocol.threads import Action, Logged, evaluate
from detente.records.catalogue import ACK, RECEIPT
from detente.records.entry import seal_record
from detente.records.record import Record
from detente.records.ref import RecordRef
from detente.store.node_protocol import TimeRow
from detente.store.sqlite import SQLiteStore

T0 = 1_796_126_400.0  # 2026-12-01 12:00 UTC
HOTLINE = "detente.dev/hotline-message/v1"
WITNESS = "witness.test.example"


@dataclass
class World:
    base: Path
    peer: Ed25519Identity
    source: TileLog
    now: list[float] = field(default_factory=lambda: [T0])
    node: Node | None = None

    def open(self) -> Node:
        config, base = load_config(self.base)
        self.node = Node(config, base, clock=lambda: self.now[0])
        return self.node

    @property
    def me(self) -> str:
        assert self.node is not None
        return self.node.signer.identity.name

    def mirrored(self, records: list[Record]) -> None:
        assert self.node is not None
        batch = [seal_record(r, self.peer) for r in records]
        result = self.source.append(batch)
        self.node.peering.mirror(self.node.peering.row("cn")).extend(batch, result.note)

    def peer_record(self, rtype: str, body: dict[str, object], to: str, refs: tuple[RecordRef, ...] = ()) -> Record:
        when = datetime.fromtimestamp(self.now[0], UTC)
        return Record(type=rtype, party=self.peer.name, issued=when, to=(to,), body=body, refs=refs)

    def witness(self) -> None:
        assert self.node is not None
        mirror = self.node.peering.mirror(self.node.peering.row("cn"))
        at = int(self.now[0])
        self.node.state.add_times(
            [
                TimeRow(self.me, self.node.log.size, WITNESS, "cosigned", at),
                TimeRow(mirror.origin, mirror.size, WITNESS, "cosigned", at),
            ]
        )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    peer = Ed25519Identity.generate("cn.test.example/log")
    source = TileLog.create(SQLiteStore(tmp_path / "peer.db", create=True), peer)
    local = LocalNode("us", "us.test.example/log", tmp_path / "us").init()
    _run_cli(["peer", "add", "cn", "http://127.0.0.1:9", "--vkey", str(peer.vkey()), "-n", str(local.directory)])
    w = World(local.directory, peer, source)
    w.open()
    yield w
    if w.node is not None:
        w.node.stop()


def _key(a: Action) -> tuple[object, ...]:
    return (a.kind, a.subject.origin, a.subject.index, a.party, a.obligation, a.step)


def _full(node: Node) -> list[Action]:
    """What a full evaluation of every record finds due now, for the threads not yet settled."""
    node.records.catch_up()
    unsettled = {(r.origin, r.index) for r in node.state.threads(unsettled=True)[1]}
    now = datetime.fromtimestamp(node.clock(), UTC)
    times = TimeBook(node.state).times(node.agreement.time_rule())
    actions = evaluate(node.records.protocol(), node.agreement, now, node.signer.identity.name, times).actions
    return [a for a in actions if (a.subject.origin, a.subject.index) in unsettled]


def _tick(node: Node, reminded: set[tuple[object, ...]]) -> None:
    """One turn, checked against a full evaluation: the same misses and escalations; each reminder
    as soon as it is due (a full evaluation finds it on every turn of its window; the node sends
    it once, and finds it again only when it reads the thread again)."""
    expected = _full(node)
    taken = node.protocol.run_protocol()
    assert sorted(_key(a) for a in taken if a.kind != "remind") == sorted(
        _key(a) for a in expected if a.kind != "remind"
    )
    due = {_key(a) for a in expected if a.kind == "remind"}
    found = {_key(a) for a in taken if a.kind == "remind"}
    assert found <= due and found - reminded == due - reminded
    reminded |= due


def _threads(world: World, origin: str) -> list[Logged]:
    assert world.node is not None
    return [x for x in world.node.records.protocol() if x.origin == origin and x.record.type == HOTLINE]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_scheduled_loop_acts_as_a_full_evaluation_would(world: World, seed: int) -> None:
    rng = random.Random(seed)
    reminded: set[tuple[object, ...]] = set()
    body = {"priority": "routine", "topic": "urgent-concern"}
    for _ in range(40):
        node = world.node
        assert node is not None
        step = rng.choice(["peer-notice", "my-notice", "peer-reply", "my-reply", "later", "later", "witness"])
        if step == "peer-notice":
            world.mirrored([world.peer_record(HOTLINE, body, world.me)])
        elif step == "my-notice":
            when = datetime.fromtimestamp(world.now[0], UTC)
            node.writer.append(Record(type=HOTLINE, party=world.me, issued=when, to=(world.peer.name,), body=body))
        elif step == "peer-reply" and (mine := _threads(world, world.me)):
            subject = rng.choice(mine)
            kind, rel = rng.choice([(RECEIPT, "receipt-of"), (ACK, "ack-of")])
            ref = RecordRef(origin=subject.origin, index=subject.index, leaf_hash=subject.leaf_hash, rel=rel)
            reply_body: dict[str, object] = (
                {"received_at": subject.record.issued.isoformat()} if kind == RECEIPT else {}
            )
            world.mirrored([world.peer_record(kind, reply_body, world.me, (ref,))])
        elif step == "my-reply" and (theirs := _threads(world, world.peer.name)):
            subject = rng.choice(theirs)
            with contextlib.suppress(AlreadyAnswered):  # a second acknowledgement is refused
                node.protocol.reply(subject.origin, subject.index, ACK, {})
        elif step == "later":
            world.now[0] += rng.choice([60, 600, 3600, 6 * 3600, 26 * 3600])
        else:
            world.witness()
        _tick(node, reminded)
        if rng.random() < 0.1:  # a restart: the schedule is read back from the store
            node.stop()
            world.open()
    assert world.node is not None
    world.witness()
    _tick(world.node, reminded)


def test_a_restart_resumes_from_the_stored_schedule(world: World) -> None:
    node = world.node
    assert node is not None
    body = {"priority": "routine", "topic": "urgent-concern"}
    world.mirrored([world.peer_record(HOTLINE, body, world.me) for _ in range(20)])
    world.witness()
    node.protocol.run_protocol()
    assert node.protocol.examined == 20  # each new thread read once
    node.protocol.run_protocol()
    assert node.protocol.examined == 0  # nothing is due before the first reminder
    node.stop()
    node = world.open()
    node.protocol.run_protocol()
    assert node.protocol.examined == 0  # after a restart too: the schedule was kept
    world.now[0] += 24 * 3600 + 60  # every deadline passed: each thread is read again, and its misses recorded
    taken = node.protocol.run_protocol()
    assert node.protocol.examined == 20 and "record-miss" in {a.kind for a in taken}


def test_a_changed_agreement_makes_every_thread_due_after_a_restart(world: World) -> None:
    node = world.node
    assert node is not None
    world.mirrored([world.peer_record(HOTLINE, {"priority": "routine", "topic": "urgent-concern"}, world.me)])
    world.witness()
    node.protocol.run_protocol()
    node.protocol.run_protocol()
    assert node.protocol.examined == 0
    node.stop()
    (world.base / "agreement.json").write_text(
        node.agreement.model_copy(update={"receipt_within": node.agreement.receipt_within / 3}).model_dump_json()
    )
    path = world.base / "detente.toml"
    path.write_text(tomli_w.dumps({**tomllib.loads(path.read_text()), "agreement": "agreement.json"}))
    node = world.open()
    node.protocol.run_protocol()
    assert node.protocol.examined == 1


def test_a_hostile_peers_malformed_records_never_stop_the_loop(world: World) -> None:
    node = world.node
    assert node is not None
    good = world.peer_record(HOTLINE, {"priority": "routine", "topic": "urgent-concern"}, world.me)
    world.mirrored([good])
    world.witness()
    node.protocol.run_protocol()
    subject = _threads(world, world.peer.name)[0]
    ref = RecordRef(origin=subject.origin, index=subject.index, leaf_hash=subject.leaf_hash, rel="ack-of")
    bad = [
        world.peer_record(HOTLINE, {"priority": "whenever", "topic": 7}, world.me),  # fails its schema
        world.peer_record(RECEIPT, {"received_at": "not a time"}, world.me, (ref,)),  # a malformed reply
        world.peer_record(HOTLINE, {"priority": "routine", "topic": "urgent-concern", "x": "y" * 10_000}, world.me),
    ]
    world.mirrored(bad)
    world.witness()
    node.protocol.run_protocol()  # does not raise
    quarantined, _ = node.records.quarantine()
    assert quarantined >= 2
    assert node.protocol.examined == 0  # a quarantined record is no reply: the thread is not due
    assert [x.index for x in _threads(world, world.peer.name)] == [subject.index]  # and opens none


def test_a_commitment_record_makes_every_open_thread_due(world: World) -> None:
    from detente.commitments.model import DOCUMENT, CommitmentDocument

    node = world.node
    assert node is not None
    world.mirrored([world.peer_record(HOTLINE, {"priority": "routine", "topic": "urgent-concern"}, world.me)])
    world.witness()
    node.protocol.run_protocol()
    node.protocol.run_protocol()
    assert node.protocol.examined == 0
    document = CommitmentDocument.model_validate(
        {
            "document_id": "m",
            "version": 1,
            "kind": "moratorium",
            "title": {"original": {"lang": "en", "text": "Moratorium"}},
            "parties": [world.me, world.peer.name],
            "clauses": [{"id": "1", "text": {"original": {"lang": "en", "text": "halt"}}, "categories": ["x-test"]}],
        }
    )
    when = datetime.fromtimestamp(world.now[0], UTC)
    body = document.model_dump(mode="json", exclude_none=True)
    world.mirrored([Record(type=DOCUMENT, party=world.peer.name, issued=when, body=body)])
    node.protocol.run_protocol()
    assert node.records.quarantine()[0] == 0
    assert node.protocol.examined == 2  # the open thread read again (the agreement binding it may change)
