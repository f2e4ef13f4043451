"""A mutual-recognition arrangement's own adoption rule (issue #25): in force once ``quorum`` of
its N parties have signed (k of N), or once all have; only the parties that signed recognize
anyone under it; an arrangement without a quorum keeps the digest it had before the field
existed, so signatures already in the logs stay valid."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from detente.exportctl.records import RecognitionArrangement, arrangement_digest
from detente.node.exportctl import _Arrangement

A, B, C = "a.example/log", "b.example/log", "c.example/log"
BASE: dict[str, Any] = {
    "arrangement_id": "mra-forum",
    "parties": [A, B, C],
    "recognizes": {A: [B, C], B: [A]},
    "scope": {"original": {"lang": "en", "text": "accelerators"}},
    "effective": "2026-01-01",
}
# arrangement_digest(BASE) as computed before the quorum field existed (commit 5959357)
DIGEST_BEFORE_QUORUM = "5c0801cd1a25fa84fca0affbdc3c74fd327a248a5dacd020e66c09decc39fd78"


def arrangement(**over: Any) -> RecognitionArrangement:
    return RecognitionArrangement.model_validate(BASE | over)


def signed(body: RecognitionArrangement, **days: int) -> _Arrangement:
    """The arrangement with the given parties' signatures (``a=3``: a signed on 3 March 2026)."""
    names = {"a": A, "b": B, "c": C}
    at = {names[k]: datetime(2026, 3, d, tzinfo=UTC) for k, d in days.items()}
    return _Arrangement(item=None, body=body, digest=arrangement_digest(body), signed=at)  # type: ignore[arg-type]


def test_an_arrangement_without_a_quorum_keeps_its_digest() -> None:
    assert arrangement_digest(arrangement()) == DIGEST_BEFORE_QUORUM
    assert arrangement_digest(arrangement(quorum=2)) != DIGEST_BEFORE_QUORUM  # the rule is signed too


@pytest.mark.parametrize("quorum", [1, 4])
def test_a_quorum_outside_two_to_n_is_refused(quorum: int) -> None:
    with pytest.raises(ValidationError):
        arrangement(quorum=quorum)


def test_k_of_n_is_in_force_at_the_kth_signature_and_binds_only_signers() -> None:
    body = arrangement(quorum=2, recognizes={A: [B, C], B: [A], C: [A]})
    one = signed(body, a=3)
    assert not one.complete and one.since is None and not one.in_force(date(2026, 6, 1))
    two = signed(body, a=3, c=9)
    assert two.complete and two.since == date(2026, 3, 9) and two.in_force(date(2026, 3, 9))
    assert not two.in_force(date(2026, 3, 8))
    assert dict(two.recognitions()) == {A: (B, C), C: (A,)}  # b has not signed: it recognizes nobody
    three = signed(body, a=3, c=9, b=20)
    assert three.since == date(2026, 3, 9)  # the rule was met at the second signature
    assert dict(three.recognitions()) == {A: (B, C), B: (A,), C: (A,)}


def test_without_a_quorum_every_party_must_sign() -> None:
    body = arrangement()
    assert not signed(body, a=3, b=4).complete
    everyone = signed(body, a=3, b=4, c=5)
    assert everyone.complete and everyone.since == date(2026, 3, 5)
    signatures_outside = signed(body, a=3, b=4)
    signatures_outside.signed["x.example/log"] = datetime(2026, 3, 6, tzinfo=UTC)
    assert not signatures_outside.complete  # a signature from outside the parties never counts
