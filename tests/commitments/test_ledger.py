"""The commitments ledger from records alone: adoption by co-signature of the exact digest,
supersession, withdrawal, agreements in force, moratorium and human-control flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from detente.commitments.ledger import Ledger, diff
from detente.commitments.model import DOCUMENT, SIGNATURE, WITHDRAWAL, CommitmentDocument, document_digest
from detente.records.record import Record

US, CN, EU = "us.example/log", "cn.example/log", "eu.example/log"
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def doc(version: int = 1, **over: object) -> CommitmentDocument:
    base: dict[str, object] = {
        "document_id": "m",
        "version": version,
        "kind": "moratorium",
        "title": {"original": {"lang": "en", "text": "Moratorium"}},
        "parties": [US, CN],
        "clauses": [
            {"id": "1", "text": {"original": {"lang": "en", "text": f"halt v{version}"}}, "categories": ["x-test"]}
        ],
    }
    return CommitmentDocument.model_validate(base | over)


def rec(origin: str, rtype: str, at: datetime, body: dict) -> tuple[str, int, str, Record]:  # type: ignore[type-arg]
    rec.n += 1  # type: ignore[attr-defined]
    return (origin, rec.n, f"{rec.n:064x}", Record(type=rtype, party=origin, issued=at, body=body))  # type: ignore[attr-defined]


rec.n = 0  # type: ignore[attr-defined]


def sig(origin: str, d: CommitmentDocument, at: datetime, digest: str | None = None) -> tuple[str, int, str, Record]:
    return rec(
        origin,
        SIGNATURE,
        at,
        {"document_id": d.document_id, "version": d.version, "digest": digest or document_digest(d)},
    )


def test_adopted_only_when_every_party_signed_the_exact_digest() -> None:
    d = doc()
    draft = rec(US, DOCUMENT, T0, d.model_dump(mode="json", exclude_none=True))
    half = Ledger.from_records([draft, sig(US, d, T0)])
    assert half.in_force(T0 + timedelta(days=1)) == []
    wrong = Ledger.from_records([draft, sig(US, d, T0), sig(CN, d, T0, "f" * 64)])
    assert wrong.in_force(T0 + timedelta(days=1)) == []
    outsider = Ledger.from_records([draft, sig(US, d, T0), sig(EU, d, T0)])
    assert outsider.in_force(T0 + timedelta(days=1)) == []
    full = Ledger.from_records([draft, sig(US, d, T0), sig(CN, d, T0 + timedelta(hours=2))])
    (v,) = full.in_force(T0 + timedelta(days=1))
    assert v.adopted_at == T0 + timedelta(hours=2) and not v.in_force(T0 + timedelta(hours=1))


def test_flags_supersession_and_withdrawal() -> None:
    d1, d2 = (
        doc(1),
        doc(2, clauses=[{"id": "1", "text": {"original": {"lang": "en", "text": "halt"}}, "categories": ["y-test"]}]),
    )
    items = [rec(US, DOCUMENT, T0, d1.model_dump(mode="json", exclude_none=True)), sig(US, d1, T0), sig(CN, d1, T0)]
    ledger = Ledger.from_records(items)
    at = T0 + timedelta(days=1)
    assert ledger.flags(US, {CN}, {"category": "x-test"}, at) == ["moratorium:m#1"]
    assert ledger.flags(EU, {CN}, {"category": "x-test"}, at) == ["moratorium:m#1"]  # binds the recipient
    assert ledger.flags(EU, {"other/log"}, {"category": "x-test"}, at) == []
    later = T0 + timedelta(days=2)
    items += [
        rec(CN, DOCUMENT, later, d2.model_dump(mode="json", exclude_none=True)),
        sig(US, d2, later),
        sig(CN, d2, later),
    ]
    ledger = Ledger.from_records(items)
    assert ledger.flags(US, {CN}, {"category": "x-test"}, later + timedelta(hours=1)) == []  # v2 supersedes
    assert ledger.flags(US, {CN}, {"category": "y-test"}, later + timedelta(hours=1)) == ["moratorium:m#1"]
    assert "-1. halt v1" in diff(d1, d2) and "+1. categories: y-test" in diff(d1, d2)
    items.append(
        rec(
            CN,
            WITHDRAWAL,
            later,
            {
                "document_id": "m",
                "version": 2,
                "effective": (later + timedelta(days=1)).isoformat(),
                "reason": {"original": {"lang": "en", "text": "review"}},
            },
        )
    )
    ledger = Ledger.from_records(items)
    assert [v.document.version for v in ledger.in_force(later + timedelta(hours=1))] == [2]
    assert [v.document.version for v in ledger.in_force(later + timedelta(days=2))] == [1]  # v1 was never withdrawn


def test_human_control_floor_and_agreements() -> None:
    p = doc(
        kind="principles",
        document_id="p",
        clauses=[
            {
                "id": "HC",
                "text": {"original": {"lang": "en", "text": "in the loop"}},
                "min_human_control": "in-the-loop",
                "scope": ["weapon-test"],
            }
        ],
    )
    a = doc(
        kind="agreement",
        document_id="a",
        clauses=[{"id": "1", "text": {"original": {"lang": "en", "text": "fast"}}}],
        agreement={"receipt_within": 60},
        effective_from=(T0 + timedelta(days=3)).isoformat(),
    )
    items = []
    for d in (p, a):
        items += [rec(US, DOCUMENT, T0, d.model_dump(mode="json", exclude_none=True)), sig(US, d, T0), sig(CN, d, T0)]
    ledger = Ledger.from_records(items)
    at = T0 + timedelta(days=1)
    weapon = {"category": "weapon-test"}
    assert ledger.flags(US, {CN}, weapon | {"human_control_mode": "on-the-loop"}, at) == ["human-control:p#HC"]
    assert ledger.flags(US, {CN}, weapon | {"human_control_mode": "in-the-loop"}, at) == []
    assert ledger.flags(US, {CN}, weapon | {"human_control_mode": "not-applicable"}, at) == []
    assert ledger.agreement_for({US, CN}, at) is None  # not yet effective
    rules, version = ledger.agreement_for({US, CN}, T0 + timedelta(days=4))  # type: ignore[misc]
    assert (
        rules.receipt_within == timedelta(seconds=60)
        and rules.agreement_id == "a"
        and version.document.kind == "agreement"
    )
    assert ledger.agreement_for({US, EU}, T0 + timedelta(days=4)) is None


def test_document_rules() -> None:
    with pytest.raises(ValidationError, match="categories"):
        doc(clauses=[{"id": "1", "text": {"original": {"lang": "en", "text": "x"}}}])
    with pytest.raises(ValidationError, match="agreement"):
        doc(kind="agreement", clauses=[{"id": "1", "text": {"original": {"lang": "en", "text": "x"}}}])
    with pytest.raises(ValidationError, match="twice"):
        doc(parties=[US, US])


def test_a_k_of_n_document_is_adopted_at_its_kth_signature_and_binds_only_its_signatories() -> None:
    """Issue #25: a statement adopted when k of N co-sign (the quorum in the document itself)."""
    d = doc(parties=[US, CN, EU], quorum=2)
    draft = rec(US, DOCUMENT, T0, d.model_dump(mode="json", exclude_none=True))
    one = Ledger.from_records([draft, sig(US, d, T0)])
    assert one.in_force(T0 + timedelta(days=1)) == []
    two = Ledger.from_records([draft, sig(US, d, T0), sig(EU, d, T0 + timedelta(hours=3))])
    (v,) = two.in_force(T0 + timedelta(days=1))
    assert v.adopted_at == T0 + timedelta(hours=3)
    assert v.bound(T0 + timedelta(days=1)) == {US, EU}
    notice = {"category": "x-test"}
    assert two.flags(US, {CN}, notice, T0 + timedelta(days=1)) == ["moratorium:m#1"]  # the sender is bound
    assert two.flags(CN, set(), notice, T0 + timedelta(days=1)) == []  # cn never signed: not bound
    late = Ledger.from_records(
        [draft, sig(US, d, T0), sig(EU, d, T0 + timedelta(hours=3)), sig(CN, d, T0 + timedelta(days=2))]
    )
    assert late.flags(CN, set(), notice, T0 + timedelta(days=1)) == []  # bound only from its own signature
    assert late.flags(CN, set(), notice, T0 + timedelta(days=3)) == ["moratorium:m#1"]
    with pytest.raises(ValidationError, match="quorum of 4"):
        doc(parties=[US, CN, EU], quorum=4)


def test_a_withdrawal_takes_effect_no_earlier_than_it_was_issued() -> None:
    """A peer's withdrawal dated back past its own issue time (another node could sign one) does
    not rewrite what was in force before it was issued."""
    d = doc()
    later = T0 + timedelta(days=10)
    back = {
        "document_id": "m",
        "version": 1,
        "effective": "2000-01-01T00:00:00Z",
        "reason": {"original": {"lang": "en", "text": "out"}},
    }
    items = [rec(US, DOCUMENT, T0, d.model_dump(mode="json", exclude_none=True)), sig(US, d, T0), sig(CN, d, T0)]
    ledger = Ledger.from_records([*items, rec(CN, WITHDRAWAL, later, back)])
    (v,) = ledger.versions.values()
    assert v.withdrawn == (CN, later)
    assert v.in_force(later - timedelta(seconds=1)) and not v.in_force(later)
