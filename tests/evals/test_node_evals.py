"""The evaluation desk of two real in-process nodes (SQLite files, real keys, ``us`` mirroring
``cn`` and back exactly as a sync stores a log): seeds derived from the log after the
pre-registration and checked on verification, the publication deadline recorded as a miss in
both logs, the paired comparison and the re-check's detection power."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from detente.errors import VerificationError
from detente.evals.records import EVAL_PREREGISTRATION
from detente.evals.seeds import derive_seed, seeded_suite
from detente.evals.stats import detection_power
from detente.evals.suite import builtin_suite
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.protocol.threads import evaluate
from detente.records.catalogue import DEADLINE_MISSED
from detente.store.node_protocol import PeerRow

pytest.importorskip("vaderSentiment", reason="the evals extra is not installed")

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
SUITE = "en-sentiment-consistency"


@dataclass
class Pair:
    us: Node
    cn: Node
    clock: list[float]

    def sync(self) -> None:
        """Each node mirrors the other's log up to its latest checkpoint."""
        for a, b in ((self.us, self.cn), (self.cn, self.us)):
            row = next(r for r in a.state.peers())
            mirror = a.peering.mirror(row)
            mirror.extend(b.log.entries(mirror.size, b.log.size), b.log.signed_checkpoint())


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    clock = [START]
    nodes = []
    for name in ("us", "cn"):
        local = LocalNode(name, f"{name}.detente.example/log", tmp_path / name).init()
        config, base = load_config(local.directory)
        nodes.append(Node(config, base, clock=lambda: clock[0]))
    us, cn = nodes
    for a, b, name in ((us, cn, "cn"), (cn, us, "us")):
        a.state.add_peer(
            PeerRow(
                name=name, url="http://127.0.0.1:9", vkey=str(b.signer.identity.vkey()), cosigner_vkey=None, added=0
            )
        )
        a.peering.reload()
    yield Pair(us, cn, clock)
    for n in nodes:
        n.stop()
        if n._incidents is not None:
            n._incidents.index.close()
        n.state.close()
        n.logs.close()


def test_a_preregistered_run_uses_seeds_from_the_log_after_it(pair: Pair) -> None:
    us, cn = pair.us, pair.cn
    prereg = us.evals.preregister(SUITE, "vader")
    assert prereg["to"] == [cn.signer.identity.name]
    assert prereg["publish_by"] == datetime.fromtimestamp(START + 30 * 86400, UTC).isoformat()
    run = us.evals.run(SUITE, "vader", preregistration=prereg["index"])
    _, verified = us.evals.verified(us.signer.identity.name, run["index"])
    pre = verified.predicate["preregistration"]
    root = us.log.root(prereg["index"] + 1)
    assert pre["checkpoint"] == {"size": prereg["index"] + 1, "root": root.hex()}
    assert pre["seed"] == derive_seed(bytes.fromhex(prereg["leaf_hash"]), root)
    base = builtin_suite(SUITE)
    assert pre["suite_digest"] == base.digest() == prereg["suite_digest"]
    assert run["suite_digest"] == seeded_suite(base, pre["seed"]).digest() != base.digest()
    assert {p["seed"] for p in verified.predicate["suite"]["manifest"]["perturbations"]} == {pre["seed"]}

    pair.sync()  # the other party verifies the derivation from its own mirror of us's log
    _, at_cn = cn.evals.verified(us.signer.identity.name, run["index"])
    assert at_cn.suite_digest == run["suite_digest"]
    assert next(r for r in cn.evals.results() if r["index"] == run["index"])["verified"] is True


def test_a_result_with_other_seeds_fails_verification(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    import detente.node.evals as desk

    us = pair.us
    me = us.signer.identity.name
    prereg = us.evals.preregister(SUITE, "vader")
    with monkeypatch.context() as m:  # computed before registering: the suite's own seeds
        m.setattr(desk, "seeded_suite", lambda suite, seed: suite)
        early = us.evals.run(SUITE, "vader", preregistration=prereg["index"])
    with pytest.raises(VerificationError, match="other seeds"):
        us.evals.verified(me, early["index"])
    with monkeypatch.context() as m:  # a seed of the party's choosing, named as if derived
        m.setattr(desk, "derive_seed", lambda leaf, root: 7)
        chosen = us.evals.run(SUITE, "vader", preregistration=prereg["index"])
    with pytest.raises(VerificationError, match="not the one derived"):
        us.evals.verified(me, chosen["index"])
    listed = {r["index"]: r for r in us.evals.results()}
    assert listed[early["index"]]["verified"] is False and listed[chosen["index"]]["verified"] is False


def test_a_missed_publication_deadline_is_recorded_in_both_logs(pair: Pair) -> None:
    us, cn = pair.us, pair.cn
    late = us.evals.preregister(SUITE, "vader")
    kept = us.evals.preregister(SUITE, "vader")
    us.evals.run(SUITE, "vader", preregistration=kept["index"])  # published in time: met
    pair.sync()
    pair.clock[0] = START + 31 * 86400
    for node in (us, cn):
        node.protocol.run_protocol()
    pair.sync()
    for node in (us, cn):
        misses = [
            x.record.body
            for x in node.party.all_records()
            if x.record.type == DEADLINE_MISSED
            and x.origin == node.signer.identity.name
            and x.record.body.get("deadline") == "follow-up"
        ]
        refs = [
            r.index
            for x in node.party.all_records()
            if x.record.type == DEADLINE_MISSED and x.origin == node.signer.identity.name
            for r in x.record.refs
            if x.record.body.get("deadline") == "follow-up"
        ]
        assert len(misses) == 1 and misses[0]["party"] == us.signer.identity.name, node
        assert refs == [late["index"]]
        assert misses[0]["due"] == datetime.fromtimestamp(START + 30 * 86400, UTC).isoformat()
    prereg = next(x for x in us.party.all_records() if x.record.type == EVAL_PREREGISTRATION)
    assert prereg.record.issued + timedelta(days=30) == datetime.fromisoformat(prereg.record.body["publish_by"])

    # the records every protocol view reads (the audit's replay among them) hold both threads
    now = datetime.fromtimestamp(pair.clock[0], UTC)
    threads = evaluate(cn.party.protocol_records(), cn.party.agreement, now, cn.signer.identity.name).threads
    follow_ups = {t.subject.index: o for t in threads for o in t.obligations if o.kind == "follow-up"}
    assert set(follow_ups) == {late["index"], kept["index"]}
    assert follow_ups[late["index"]].missed(now) and not follow_ups[kept["index"]].missed(now)


def test_compare_and_recheck_through_the_desk(pair: Pair) -> None:
    us = pair.us
    me = us.signer.identity.name
    a = us.evals.run(SUITE, "vader")
    b = us.evals.run(SUITE, "vader")
    compared = us.evals.compare((me, a["index"]), (me, b["index"]))
    assert compared["significant"] == [] and compared["metrics"]
    assert all(r["p_value"] == 1.0 and r["only_a"] == r["only_b"] == 0 for r in compared["metrics"])
    assert "flagged" not in compared and "McNemar" in compared["method"]
    checked = us.evals.recheck(me, a["index"], count=50, seed=1)
    power = checked["detection_power"]
    assert power["records"] == 1320 and power["drawn"] == 50
    assert power["fabricated_1pct"] == round(detection_power(1320, 0.01, 50), 6)
    assert power["fabricated_5pct"] == round(detection_power(1320, 0.05, 50), 6)
    assert power["method"].startswith("hypergeometric")
