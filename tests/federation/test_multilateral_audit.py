"""Witness policies for N parties (issue #25): three party nodes and a neutral witness, real
processes. Each party audits every log under its own C2SP tlog-policy, "k of the N−1 other
parties' witnesses plus the neutral witness": met at k = N−2 on every log; at k = N−1 met only on
its own log (a party never cosigns its own); unmet on the log whose newest checkpoint the stopped
neutral witness did not cosign, and met again once it is back. The auditor follows the N logs
incrementally: a second run reads only the entries appended since the first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest

from detente.cli.demo_parties import outside_policy, party_policy, pin_all, settled
from detente.node.auditor import run_audit
from detente.node.client import PeerClient
from detente.node.localnet import LocalNode
from detente.tlog.policy import parse_policy

NOT_MET = "witness quorum 'others-and-neutral' not met"


def _federation(make_node: Callable[[str], LocalNode], wait) -> tuple[list[LocalNode], LocalNode]:  # type: ignore[no-untyped-def]
    parties = [make_node(name) for name in ("us", "cn", "uk")]
    witness = make_node("witness")
    pin_all(parties, witness)
    for node in (*parties, witness):
        node.start(timeout=120)
    for p in parties:
        p.send("detente.dev/statement/v1", f"{p.name} joins the forum")
    wait("every log mirrored and cosigned by all", lambda: settled(parties, witness), timeout=300)
    return parties, witness


def _problems(result) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return {log.origin.split(".")[0]: log.problems for log in result.logs}


@pytest.mark.parametrize("make_node", ["sqlite"], indirect=True)
def test_each_partys_policy_k_of_the_others_and_a_neutral_witness(make_node, wait) -> None:  # type: ignore[no-untyped-def]
    parties, witness = _federation(make_node, wait)
    for me in parties:
        met = run_audit(parse_policy(party_policy(me, parties, witness, k=1)))
        assert met.clean, met.as_dict()
        for log in met.logs:  # counted: the others but the log's own party, and the neutral witness
            owner = log.origin.split(".")[0]
            expected = sorted(f"{p.name}-w" for p in parties if p is not me and p.name != owner)
            assert log.cosigned_by == [*expected, "witness-w"], (me.name, log)

        strict = run_audit(parse_policy(party_policy(me, parties, witness, k=2)))
        problems = _problems(strict)
        assert problems.pop(me.name) == [], strict.as_dict()  # its own log: both others cosigned it
        for other, found in problems.items():  # the others' logs: only one of me's others can cosign
            assert len(found) == 1 and found[0].startswith(NOT_MET), (me.name, other, found)

    # The neutral witness stops; us appends; cn and uk cosign the new checkpoint, the neutral cannot.
    witness.stop()
    us, cn, uk = parties
    size = us.send("detente.dev/statement/v1", "a record the neutral witness never sees")["index"] + 1

    def cosigned_by_parties() -> bool:
        s = us.status()
        return s["size"] == size and {cn.origin, uk.origin} <= set(s["cosigned_by"])

    wait("cn and uk to cosign us's new checkpoint", cosigned_by_parties, timeout=120)
    unmet = run_audit(parse_policy(party_policy(cn, parties, witness, k=1)))
    problems = _problems(unmet)
    assert len(problems["us"]) == 1 and problems["us"][0].startswith(NOT_MET), unmet.as_dict()
    assert "witness-w" not in unmet.logs[0].cosigned_by
    assert problems["cn"] == [] and problems["uk"] == [], unmet.as_dict()

    witness.start(timeout=120)
    wait("the neutral witness back and cosigning", lambda: settled(parties, witness), timeout=300)
    again = run_audit(parse_policy(party_policy(cn, parties, witness, k=1)))
    assert again.clean, again.as_dict()


class _Recording(PeerClient):
    """A real client that notes which entry ranges it reads."""

    ranges: ClassVar[list[tuple[str, int, int]]] = []

    def entries(self, start: int, end: int) -> list[bytes]:
        self.ranges.append((self.base, start, end))
        return super().entries(start, end)


@pytest.mark.parametrize("make_node", ["sqlite"], indirect=True)
def test_the_auditor_follows_n_logs_incrementally(make_node, wait, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    parties, witness = _federation(make_node, wait)
    policy = parse_policy(outside_policy(parties, witness, k=2))
    state = tmp_path / "audit-state.json"
    _Recording.ranges = []
    first = run_audit(policy, state, client_factory=_Recording)
    assert first.clean, first.as_dict()
    sizes = {log.origin: log.size for log in first.logs}
    assert all(log.old_size == 0 and log.records == log.size for log in first.logs), first.as_dict()

    for i, p in enumerate(parties):  # 1, 2 and 3 new records
        for j in range(i + 1):
            p.send("detente.dev/statement/v1", f"{p.name} adds record {j}")
    wait("the new records mirrored and cosigned", lambda: settled(parties, witness), timeout=300)
    _Recording.ranges = []
    second = run_audit(policy, state, client_factory=_Recording)
    assert second.clean, second.as_dict()
    for i, log in enumerate(second.logs):
        assert log.old_size == sizes[log.origin]
        assert log.size == log.old_size + i + 1
        assert log.records == log.size - log.old_size, log  # only the new entries were verified
    urls = {p.url: p.origin for p in parties}
    read = [(urls[url], start, end) for url, start, end in _Recording.ranges]
    assert read and all(start >= sizes[origin] for origin, start, _ in read), read
    assert {origin for origin, _, _ in read} == set(sizes)
