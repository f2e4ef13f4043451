"""The auditor replays time (issue #19): thread outcomes recomputed from the public logs and the
cosignatures each log serves, every cosignature verified against a root the auditor computed;
disputes where a party's node recorded what the evidence does not support, or stayed silent about
a late answer. Logs in SQLite files, served in process as PeerClient serves them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from detente.crypto.keys import Ed25519Identity
from detente.node.auditor import run_audit
from detente.node.tilelog import TileLog
from detente.records.catalogue import ACK, DEADLINE_MISSED, RECEIPT
from detente.records.entry import seal_record
from detente.records.record import Record
from detente.records.ref import RecordRef
from detente.store.sqlite import SQLiteStore
from detente.tlog.checkpoint import Checkpoint
from detente.tlog.cosignature import cosign
from detente.tlog.policy import parse_policy

US, CN = "us.detente.example/log", "cn.detente.example/log"
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LINK = "detente.dev/link-test/v1"


class Served:
    """A log as its node serves it, with the cosignature rows its witnesses returned."""

    def __init__(self, log: TileLog) -> None:
        self.log = log
        self.rows: list[tuple[int, str, int, str]] = []

    def cosign(self, witness: Ed25519Identity, at: datetime) -> None:
        line = cosign(self.log.checkpoint, witness, int(at.timestamp())).line().rstrip("\n")
        self.rows.append((self.log.size, witness.name, int(at.timestamp()), line))

    def checkpoint(self) -> bytes:
        return self.log.signed_checkpoint()

    def entries(self, start: int, end: int) -> list[bytes]:
        return self.log.entries(start, end)

    def cosignatures(self, since: int = 0) -> list[tuple[int, str, int, str]]:
        return [r for r in self.rows if r[0] >= since]

    def fetch_nodes(self, size: int) -> Any:
        return self.log._fetch

    def close(self) -> None:
        pass


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.us, self.cn = Ed25519Identity.generate(US), Ed25519Identity.generate(CN)
        self.served = {
            "mem://us": Served(TileLog.create(SQLiteStore(tmp_path / "us.db", create=True), self.us)),
            "mem://cn": Served(TileLog.create(SQLiteStore(tmp_path / "cn.db", create=True), self.cn)),
        }
        self.policy = parse_policy(
            f"log {self.us.vkey()} mem://us\nlog {self.cn.vkey()} mem://cn\n"
            f"witness us {self.us.cosigner_vkey()}\nwitness cn {self.cn.cosigner_vkey()}\nquorum none\n"
        )

    def log(self, who: Ed25519Identity, rtype: str, issued: datetime, **kw: Any) -> RecordRef:
        served = self.served["mem://us" if who is self.us else "mem://cn"]
        record = Record(type=rtype, party=who.name, issued=issued, **kw)
        entry = seal_record(record, who)
        index = served.log.append([entry]).first_index
        from detente.tlog.hashing import leaf_hash

        return RecordRef(origin=who.name, index=index, leaf_hash=leaf_hash(entry).hex(), rel="x")

    def audit(self, now: datetime) -> Any:
        return run_audit(self.policy, None, client_factory=lambda url: self.served[url], now=now)  # type: ignore[arg-type]


def _reply(world: World, subject: RecordRef, issued: datetime) -> None:
    for rtype, rel, body in ((RECEIPT, "receipt-of", {"received_at": issued.isoformat()}), (ACK, "ack-of", {})):
        world.log(world.cn, rtype, issued, to=(US,), body=body, refs=(subject.model_copy(update={"rel": rel}),))


def test_a_back_dated_late_answer_is_judged_late_and_its_silence_is_a_dispute(tmp_path: Path) -> None:
    w = World(tmp_path)
    test = w.log(w.us, LINK, T0, to=(CN,), body={"test_text": "The quick brown fox 0123"})
    w.served["mem://us"].cosign(w.cn, T0 + timedelta(seconds=5))
    w.served["mem://cn"].cosign(w.us, T0 + timedelta(hours=1))  # cn's log seen empty an hour in
    _reply(w, test, T0 + timedelta(minutes=10))  # claims 10 minutes; witnessed 3 hours later
    w.served["mem://cn"].cosign(w.us, T0 + timedelta(hours=3))
    result = w.audit(T0 + timedelta(hours=4))
    assert result.clean, [x.problems for x in result.logs]
    time = result.time
    assert time.verified == 3 and not time.refused
    (thread,) = time.threads
    response = next(o for o in thread["obligations"] if o["kind"] == "response")
    assert response["met_at"] == (T0 + timedelta(hours=3)).isoformat() and response["missed"]
    assert response["established_by"] == US
    assert thread["witnessed"]["hi_by"] == [CN]
    assert thread["findings"] == [
        f"time-claim-outside-witnessed-interval@{CN}#0",
        f"time-claim-outside-witnessed-interval@{CN}#1",
    ]
    assert any("after its deadline" in d and "no party's log records it as missed" in d for d in time.disputes)


def test_a_miss_recorded_against_an_answer_witnessed_in_time_is_a_dispute(tmp_path: Path) -> None:
    w = World(tmp_path)
    test = w.log(w.us, LINK, T0, to=(CN,), body={"test_text": "The quick brown fox 0123"})
    w.served["mem://us"].cosign(w.cn, T0 + timedelta(seconds=5))
    w.served["mem://cn"].cosign(w.us, T0 + timedelta(minutes=1))  # cn's log, empty, seen at T0+1 min
    _reply(w, test, T0 + timedelta(minutes=3))
    w.served["mem://cn"].cosign(w.us, T0 + timedelta(minutes=4))
    # us's node claims cn missed the answer: the evidence says it was witnessed at T0+4 min.
    due = (T0 + timedelta(hours=1, seconds=5)).isoformat()
    w.log(w.us, DEADLINE_MISSED, T0 + timedelta(hours=2), to=(CN,), body={"deadline": "response", "party": CN,
          "due": due}, refs=(test.model_copy(update={"rel": "missed"}),))  # fmt: skip
    w.served["mem://us"].cosign(w.cn, T0 + timedelta(minutes=30))  # ... and was logged before the deadline
    result = w.audit(T0 + timedelta(hours=3))
    disputes = result.time.disputes
    assert any("but the evidence shows it met" in d and "witnessed by us.detente.example/log" in d for d in disputes)
    assert any("before the deadline" in d for d in disputes)
    assert not any("no party's log records it" in d for d in disputes)


def test_a_forged_cosignature_is_refused_and_never_counts(tmp_path: Path) -> None:
    w = World(tmp_path)
    test = w.log(w.us, LINK, T0, to=(CN,), body={"test_text": "The quick brown fox 0123"})
    w.served["mem://us"].cosign(w.cn, T0 + timedelta(seconds=5))
    _reply(w, test, T0 + timedelta(minutes=50))
    # cn serves a "cosignature" by us dated T0+51 min over a checkpoint with another root: forged.
    other = Checkpoint(CN, w.served["mem://cn"].log.size, b"\x01" * 32)
    line = cosign(other, w.us, int((T0 + timedelta(minutes=51)).timestamp())).line().rstrip("\n")
    w.served["mem://cn"].rows.append((other.size, US, int((T0 + timedelta(minutes=51)).timestamp()), line))
    w.served["mem://cn"].cosign(w.us, T0 + timedelta(hours=2))  # the real one, after the deadline
    result = w.audit(T0 + timedelta(hours=3))
    assert len(result.time.refused) == 1 and "by us.detente.example/log" in result.time.refused[0]
    response = next(o for o in result.time.threads[0]["obligations"] if o["kind"] == "response")
    assert response["met_at"] == (T0 + timedelta(hours=2)).isoformat() and response["missed"]


def test_an_agreement_that_names_a_neutral_witness_counts_only_its_time(tmp_path: Path) -> None:
    from detente.protocol.agreement import Agreement

    w = World(tmp_path)
    eu = Ed25519Identity.generate("eu.detente.example/log")
    w.policy = parse_policy(
        f"log {w.us.vkey()} mem://us\nlog {w.cn.vkey()} mem://cn\nwitness us {w.us.cosigner_vkey()}\n"
        f"witness cn {w.cn.cosigner_vkey()}\nwitness eu {eu.cosigner_vkey()}\nquorum none\n"
    )
    test = w.log(w.us, LINK, T0, to=(CN,), body={"test_text": "The quick brown fox 0123"})
    w.served["mem://us"].cosign(w.cn, T0 + timedelta(seconds=5))
    w.served["mem://us"].cosign(eu, T0 + timedelta(seconds=9))
    _reply(w, test, T0 + timedelta(minutes=1))
    w.served["mem://cn"].cosign(w.us, T0 + timedelta(minutes=2))  # us vouches early ...
    w.served["mem://cn"].cosign(eu, T0 + timedelta(hours=2))  # ... the neutral witness only later
    neutral = Agreement(time_witnesses=("eu.detente.example/log",))
    result = run_audit(w.policy, None, client_factory=lambda url: w.served[url], now=T0 + timedelta(hours=3),
                       agreement=neutral)  # type: ignore[arg-type]  # fmt: skip
    (thread,) = result.time.threads
    response = next(o for o in thread["obligations"] if o["kind"] == "response")
    assert thread["witnessed"]["hi_by"] == ["eu.detente.example/log"]
    assert response["established_by"] == "eu.detente.example/log" and response["missed"]
    default = w.audit(T0 + timedelta(hours=3))  # without it, us's earlier countersignature counts
    assert not next(o for o in default.time.threads[0]["obligations"] if o["kind"] == "response")["missed"]


def test_cosignatures_verify_at_every_size_across_runs_from_the_kept_state(tmp_path: Path) -> None:
    """Rows at size 0 (the empty tree's root), at sizes inside a pass (the roots it folds), at the
    size the last run ended on (its root kept in the state file), and beyond the checkpoint."""
    w = World(tmp_path)
    us = w.served["mem://us"]
    state = tmp_path / "state.json"
    us.cosign(w.cn, T0)  # size 0
    w.log(w.us, LINK, T0, to=(CN,), body={"test_text": "The quick brown fox 0123"})
    us.cosign(w.cn, T0 + timedelta(seconds=1))  # size 1
    w.log(w.us, LINK, T0, to=(CN,), body={"test_text": "The quick brown fox 4567"})
    w.log(w.us, LINK, T0, to=(CN,), body={"test_text": "The quick brown fox 89ab"})
    us.cosign(w.cn, T0 + timedelta(seconds=2))  # size 3
    us.rows.append((7, CN, int(T0.timestamp()), us.rows[-1][3]))  # a size past the checkpoint

    def run() -> Any:
        return run_audit(w.policy, state, client_factory=lambda url: w.served[url], now=T0)  # type: ignore[arg-type, return-value]

    first = run()
    assert (first.time.verified, first.time.unverifiable, first.time.refused) == (3, 1, []), first.as_dict()
    assert first.logs[0].problems == []

    w.log(w.us, LINK, T0, to=(CN,), body={"test_text": "The quick brown fox cdef"})
    us.cosign(w.cn, T0 + timedelta(seconds=3))  # size 4
    us.rows.remove(us.rows[3])
    second = run()  # starts at size 3: its root comes from the state file
    assert (second.time.verified, second.time.unverifiable, second.time.refused) == (2, 0, []), second.as_dict()
    assert (second.logs[0].old_size, second.logs[0].size) == (3, 4)


class _Unserved(Served):
    def cosignatures(self, since: int = 0) -> list[tuple[int, str, int, str]]:
        from detente.errors import StoreUnavailable

        raise StoreUnavailable("the peer answered 500")


def test_cosignatures_that_cannot_be_fetched_are_a_problem_and_the_audit_goes_on(tmp_path: Path) -> None:
    w = World(tmp_path)
    w.served["mem://us"] = _Unserved(w.served["mem://us"].log)
    w.log(w.us, LINK, T0, to=(CN,), body={"test_text": "The quick brown fox 0123"})
    result = w.audit(T0)
    assert result.logs[0].problems == ["its cosignatures: the peer answered 500"]
    assert (result.logs[0].size, result.logs[0].records, result.logs[1].problems) == (1, 1, [])


def test_threads_are_judged_as_of_the_time_given_or_now(tmp_path: Path) -> None:
    w = World(tmp_path)
    w.log(w.us, LINK, T0, to=(CN,), body={"test_text": "The quick brown fox 0123"})
    w.served["mem://us"].cosign(w.cn, T0 + timedelta(seconds=5))
    early = w.audit(T0 + timedelta(minutes=1))  # its deadline has not come
    (thread,) = early.time.threads
    assert not any(o["missed"] for o in thread["obligations"]), thread
    later = w.audit(T0 + timedelta(days=30))
    assert any(o["missed"] for o in later.time.threads[0]["obligations"])
    unset = run_audit(w.policy, None, client_factory=lambda url: w.served[url])  # type: ignore[arg-type, return-value]
    assert len(unset.time.threads) == 1  # judged as of the clock
