"""Sealed records (issue #24), pure: content readable only by the named recipients, public what the
protocol needs, the sender bound to what it sealed by a commitment that a disclosure is checked
against."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.crypto.canonical import canonical_json
from detente.crypto.sealing import EncryptionKey
from detente.errors import MalformedRecord, UnknownRecipient, VerificationError
from detente.records.catalogue import validate_record
from detente.records.record import TLP, Record
from detente.records.sealing import (
    current_keys,
    disclosure,
    open_record,
    seal_record_content,
    verify_disclosure,
)
from detente.records.text import BilingualText, LangText

US, CN, EU = "us.example/log", "cn.example/log", "eu.example/log"
HOTLINE = "detente.dev/hotline-message/v1"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SECRET = "Model weights exfiltrated from facility 12 at 03:10 UTC"
KEYS = {p: EncryptionKey.generate() for p in (US, CN, EU)}


def _public(*parties: str) -> dict[str, tuple[str, bytes]]:
    return {p: (KEYS[p].key_id, KEYS[p].public_bytes()) for p in parties}


def _message(tlp: TLP = TLP.AMBER, to: tuple[str, ...] = (CN,), text: str = SECRET) -> Record:
    return Record(
        type=HOTLINE,
        party=US,
        issued=NOW,
        to=to,
        tlp=tlp,
        body={"priority": "flash", "topic": "urgent-concern", "code": "AMBER-7", "sector": "energy"},
        text=BilingualText(original=LangText(lang="en", text=text), translations={"zh": "机密 / confidential"}),
    )


def test_only_the_recipients_read_it_and_only_the_protocol_fields_stay_public() -> None:
    sealed = seal_record_content(_message(to=(CN, EU)), _public(CN, EU))
    assert sealed.body == {"priority": "flash", "topic": "urgent-concern"} and sealed.text is None
    wire = sealed.to_json()
    assert SECRET.encode() not in wire and b"energy" not in wire and b"AMBER-7" not in wire
    validate_record(sealed)  # the frame is valid for any reader of the log
    for party in (CN, EU):
        opened = open_record(sealed, party, {KEYS[party].key_id: KEYS[party]})
        assert opened.body["sector"] == "energy" and opened.text is not None
        assert opened.text.original.text == SECRET
    with pytest.raises(UnknownRecipient):
        open_record(sealed, US, {KEYS[US].key_id: KEYS[US]})  # the sender published no key: not even it reads it
    own = seal_record_content(_message(), _public(CN, US))  # with its own key published, it reads what it sent
    assert [t.party for t in own.sealed.to] == [CN, US]  # type: ignore[union-attr]
    assert open_record(own, US, {KEYS[US].key_id: KEYS[US]}).body["sector"] == "energy"
    validate_record(own)
    with pytest.raises(VerificationError, match="does not hold"):
        open_record(sealed, CN, {KEYS[EU].key_id: KEYS[EU]})


def test_a_recipient_without_a_published_key_is_refused_before_anything_is_sealed() -> None:
    with pytest.raises(UnknownRecipient, match="published no encryption key"):
        seal_record_content(_message(to=(CN, EU)), _public(CN))


def _flip(text: str, at: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[at] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def test_a_flipped_byte_anywhere_fails_and_the_seal_cannot_move_to_another_record() -> None:
    sealed = seal_record_content(_message(), _public(CN))
    assert sealed.sealed is not None
    mine = {KEYS[CN].key_id: KEYS[CN]}
    bad_ct = sealed.sealed.model_copy(update={"ciphertext": _flip(sealed.sealed.ciphertext, 20)})
    wrap = sealed.sealed.to[0]
    bad_wrap = sealed.sealed.model_copy(update={"to": (wrap.model_copy(update={"wrapped": _flip(wrap.wrapped, 40)}),)})
    for broken in (bad_ct, bad_wrap):
        with pytest.raises(VerificationError, match="does not decrypt"):
            open_record(sealed.model_copy(update={"sealed": broken}), CN, mine)
    moved = sealed.model_copy(update={"issued": datetime(2026, 12, 2, tzinfo=UTC)})  # another record's header
    with pytest.raises(VerificationError, match="does not decrypt"):
        open_record(moved, CN, mine)


def test_a_sender_that_commits_to_one_content_and_seals_another_is_caught() -> None:
    sealed = seal_record_content(_message(), _public(CN))
    assert sealed.sealed is not None
    lying = sealed.model_copy(update={"sealed": sealed.sealed.model_copy(update={"commitment": "0" * 64})})
    with pytest.raises(VerificationError, match="commitment"):
        open_record(lying, CN, {KEYS[CN].key_id: KEYS[CN]})


def test_a_disclosure_verifies_and_a_forged_one_fails() -> None:
    sealed = seal_record_content(_message(), _public(CN))
    opened = open_record(sealed, CN, {KEYS[CN].key_id: KEYS[CN]})
    shown = disclosure(US, 7, "ab" * 32, opened)
    assert verify_disclosure(sealed, shown)["text"]["original"]["text"] == SECRET
    forged_content = canonical_json({"body": {"priority": "routine"}, "text": None})
    forged = shown | {"content": base64.b64encode(forged_content).decode()}
    with pytest.raises(VerificationError, match="not what the sender committed to"):
        verify_disclosure(sealed, forged)
    with pytest.raises(VerificationError):
        verify_disclosure(sealed, shown | {"salt": base64.b64encode(b"\x00" * 16).decode()})


def test_the_frame_rules_every_reader_checks() -> None:
    with pytest.raises(MalformedRecord, match="must be sealed"):
        validate_record(_message(TLP.RED))  # a restricted marking in the open
    sealed = seal_record_content(_message(TLP.RED), _public(CN))
    with pytest.raises(MalformedRecord, match="must be marked"):
        validate_record(sealed.model_copy(update={"tlp": TLP.GREEN}))
    with pytest.raises(MalformedRecord, match="must be sealed"):
        validate_record(sealed.model_copy(update={"body": {"priority": "flash", "sector": "energy"}}))
    with pytest.raises(MalformedRecord, match="each of its recipients"):
        validate_record(sealed.model_copy(update={"to": (CN, EU)}))
    with pytest.raises(MalformedRecord, match="text is sealed"):
        validate_record(sealed.model_copy(update={"text": _message().text}))
    validate_record(sealed)


def test_the_key_to_seal_to_is_the_newest_active_one_not_revoked() -> None:
    old, new = EncryptionKey.generate(), EncryptionKey.generate()

    def body(k: EncryptionKey, status: str = "active") -> dict[str, str]:
        return {"public_key": base64.b64encode(k.public_bytes()).decode(), "key_id": k.key_id, "status": status}

    assert current_keys([(CN, body(old)), (CN, body(new))])[CN][0] == new.key_id
    assert CN not in current_keys([(CN, body(old)), (CN, body(old, "revoked"))])
    assert current_keys([(CN, body(old)), (CN, body(new)), (CN, body(new, "revoked"))]) == {}
    lying = body(old) | {"key_id": new.key_id}  # a key ID that is not the key's
    assert current_keys([(CN, lying)]) == {}


@settings(max_examples=50, deadline=None)
@given(secret=st.text(min_size=12, max_size=200).filter(lambda s: s.strip()))
def test_no_plaintext_survives_in_the_sealed_record(secret: str) -> None:
    sealed = seal_record_content(_message(text=secret), _public(CN))
    wire = sealed.to_json()
    assert secret.encode() not in wire
    assert canonical_json(secret)[1:-1] not in wire  # nor its JSON-escaped form
    assert open_record(sealed, CN, {KEYS[CN].key_id: KEYS[CN]}).text.original.text == secret  # type: ignore[union-attr]
