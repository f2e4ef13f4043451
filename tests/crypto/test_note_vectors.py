"""Real signed notes from logs and witnesses outside detente verify, and one changed byte fails."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from detente.crypto.keys import VerifierKey
from detente.crypto.note import Note, NoteSignature, open_note, parse_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import MalformedNote, VerificationError
from detente.tlog.checkpoint import open_checkpoint
from detente.tlog.cosignature import verify_cosignatures

NOTES = sorted((Path(__file__).parent.parent / "vectors" / "notes").glob("*.json"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_vectors_cover_every_signature_type() -> None:
    types = {VerifierKey.parse(k).sig_type for p in NOTES for k in _load(p)["vkeys"]}
    assert types == {0x01, 0x02, 0x04, 0x05}


def test_vectors_are_present() -> None:
    assert len(NOTES) >= 10


@pytest.mark.parametrize("path", NOTES, ids=lambda p: p.stem)
def test_published_note_verifies_with_exactly_its_keys(path: Path) -> None:
    v = _load(path)
    verified = open_note(v["note"], [verifier_for(k) for k in v["vkeys"]])
    assert sorted(verified.verified_names) == sorted(v["verified_key_names"])
    assert len(verified.verified) == len(v["verified_key_names"])
    assert verified.text == parse_note(v["note"]).text
    assert parse_note(v["note"]).to_bytes() == v["note"].encode()


@pytest.mark.parametrize("path", NOTES, ids=lambda p: p.stem)
def test_one_changed_byte_in_the_text_fails(path: Path) -> None:
    v = _load(path)
    note = v["note"]
    tampered = ("X" if note[0] != "X" else "Y") + note[1:]
    with pytest.raises(VerificationError):
        open_note(tampered, [verifier_for(k) for k in v["vkeys"]])


@pytest.mark.parametrize("path", NOTES, ids=lambda p: p.stem)
def test_one_changed_byte_in_any_trusted_signature_fails(path: Path) -> None:
    v = _load(path)
    note = parse_note(v["note"])
    keys = [verifier_for(k) for k in v["vkeys"]]
    known = {(k.name, k.key_id) for k in keys}
    trusted = [i for i, s in enumerate(note.signatures) if (s.name, s.key_id) in known]
    assert len(trusted) == len(v["verified_key_names"])
    for i in trusted:
        sig = note.signatures[i]
        for pos in {0, len(sig.signature) // 2, len(sig.signature) - 1}:
            raw = bytearray(sig.signature)
            raw[pos] ^= 0x01
            bad = NoteSignature(sig.name, sig.key_id, bytes(raw))
            tampered = Note(note.text, (*note.signatures[:i], bad, *note.signatures[i + 1 :]))
            with pytest.raises(VerificationError):
                open_note(tampered.to_bytes(), keys)


def test_unknown_second_signer_is_ignored() -> None:
    v = _load(next(p for p in NOTES if p.stem == "golang-mod-peterneumann-enochroot"))
    peter = [k for k in v["vkeys"] if k.startswith("PeterNeumann+")]
    verified = open_note(v["note"], [verifier_for(k) for k in peter])
    assert verified.verified_names == ("PeterNeumann",)
    assert [s.name for s in verified.unverified] == ["EnochRoot"]


def test_sumdb_checkpoint_parses_and_verifies_as_a_checkpoint() -> None:
    v = _load(next(p for p in NOTES if p.stem == "sumdb-6476701"))
    cp = open_checkpoint(v["note"], [verifier_for(v["vkeys"][0])], origin="go.sum database tree")
    assert cp.checkpoint.size == 6476701
    assert base64.b64encode(cp.checkpoint.root).decode() == "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk="


def test_witness_cosigned_pixel_checkpoint() -> None:
    v = _load(next(p for p in NOTES if p.stem == "ecdsa-pixel-611-armored-witness-cosigned"))
    keys = [VerifierKey.parse(k) for k in v["vkeys"]]
    log_keys = [verifier_for(k) for k in keys if k.sig_type == 0x02]
    witness_keys = [verifier_for(k) for k in keys if k.sig_type == 0x04]
    cp = open_checkpoint(v["note"], log_keys)
    assert cp.checkpoint.size == 611
    cosigs = verify_cosignatures(parse_note(v["note"]), witness_keys)
    assert sorted((c.witness, c.timestamp) for c in cosigs) == [
        ("ArmoredWitness-autumn-wood", 1738713829),
        ("ArmoredWitness-small-breeze", 1738713836),
    ]


def test_rfc6962_signature_does_not_cover_extension_lines() -> None:
    v = _load(next(p for p in NOTES if p.stem == "rfc6962-rome-2024h1"))
    text, sigs = v["note"].split("\n\n", 1)
    with pytest.raises(VerificationError):
        open_note(text + "\nextra\n\n" + sigs, [verifier_for(k) for k in v["vkeys"]])


def test_note_parser_rejects_malformed_input() -> None:
    for bad in [
        b"no blank line\n",
        b"text\n\n",
        b"text\n\n\xe2\x80\x94 name AAAA\n",
        b"\xff\n\n- x\n",
        "text\x01\n\n— a AAAAAAAA\n".encode(),
        b"text\n\n- name AAAAAAAA\n",
        "text\n\n— a+b AAAAAAAA\n".encode(),
        "text\n\n— name !!!!\n".encode(),
    ]:
        with pytest.raises(MalformedNote):
            parse_note(bad)
