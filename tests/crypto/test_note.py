"""detente.crypto.note against C2SP signed-note: the spec example, the golang.org/x/mod example,
the verification rules (unknown keys ignored, a failing known key rejects, no trusted signature
rejects), the signature-count limits, and the parser's refusal of malformed notes."""

from __future__ import annotations

import base64
import dataclasses
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.crypto.keys import Ed25519Identity
from detente.crypto.note import (
    MAX_SIGNATURES,
    CosignatureSigner,
    Ed25519NoteSigner,
    Note,
    NoteSignature,
    open_note,
    parse_note,
    sign_note,
)
from detente.crypto.note_verifiers import NoteVerifier, verifier_for
from detente.errors import MalformedNote, SignatureError, UnknownKey, VerificationError

# C2SP signed-note.md example
FOO_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
FOO_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# golang.org/x/mod sumdb/note example_test.go
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_NOTE = (
    PETER_TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _ident(i: int, name: str | None = None) -> Ed25519Identity:
    return Ed25519Identity.from_seed(name or f"w{i}.example", bytes([i % 256, i // 256]) + bytes(30))


def _verifier(ident: Ed25519Identity) -> NoteVerifier:
    return verifier_for(ident.vkey())


ALICE, BOB, CAROL = _ident(1, "alice.example/log"), _ident(2, "bob.example/log"), _ident(3, "carol.example")


# --- published notes -----------------------------------------------------------------------------


def test_c2sp_spec_example() -> None:
    note = parse_note(FOO_NOTE.encode())
    assert note.text == "This is an example message.\n"
    (sig,) = note.signatures
    assert (sig.name, sig.key_id, len(sig.signature)) == ("example.com/foo", 0x530D903A, 64)
    opened = open_note(FOO_NOTE, [verifier_for(FOO_VKEY)])
    assert opened.text == "This is an example message.\n"
    assert opened.verified_names == ("example.com/foo",)
    assert note.to_bytes() == FOO_NOTE.encode()


def test_go_example_note_and_reproduced_signature() -> None:
    opened = open_note(PETER_NOTE.encode(), [verifier_for(PETER_VKEY)])
    assert opened.text == PETER_TEXT
    # Ed25519 is deterministic: signing the text with the published Go signer key gives the
    # published note byte for byte.
    ident = Ed25519Identity.parse_signer_key(
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    )
    assert sign_note(PETER_TEXT, [Ed25519NoteSigner(ident)]).to_bytes() == PETER_NOTE.encode()


def test_published_note_one_changed_text_byte_fails() -> None:
    with pytest.raises(SignatureError):
        open_note(FOO_NOTE.replace("example message", "example messagE"), [verifier_for(FOO_VKEY)])


# --- verification rules --------------------------------------------------------------------------


def test_sign_and_open() -> None:
    note = sign_note("hello\n", [Ed25519NoteSigner(ALICE)])
    opened = open_note(note.to_bytes(), [_verifier(ALICE)])
    assert opened.text == "hello\n"
    assert opened.verified_names == ("alice.example/log",)
    assert opened.unverified == ()


def test_signatures_from_unknown_keys_are_ignored() -> None:
    note = sign_note("hello\n", [Ed25519NoteSigner(BOB), Ed25519NoteSigner(ALICE), Ed25519NoteSigner(CAROL)])
    opened = open_note(note.to_bytes(), [_verifier(ALICE)])
    assert opened.verified_names == ("alice.example/log",)
    assert [s.name for s in opened.unverified] == ["bob.example/log", "carol.example"]


def test_unknown_key_sharing_a_name_or_an_id_with_a_known_key_is_ignored() -> None:
    # "Verifiers MUST ignore signatures from unknown keys, even if they share a name or ID (but
    # not both) with a known key." Both impostor signatures are garbage: verifying them would fail.
    alice_id = ALICE.vkey().key_id
    good = Ed25519NoteSigner(ALICE).sign_note_text(b"hello\n")
    same_name = NoteSignature(ALICE.name, alice_id ^ 1, bytes(64))
    same_id = NoteSignature("mallory.example", alice_id, bytes(64))
    note = Note("hello\n", (same_name, same_id, good))
    opened = open_note(note.to_bytes(), [_verifier(ALICE)])
    assert opened.verified_names == (ALICE.name,)
    assert set(opened.unverified) == {same_name, same_id}
    with pytest.raises(UnknownKey):
        open_note(Note("hello\n", (same_name, same_id)).to_bytes(), [_verifier(ALICE)])


def test_a_known_key_whose_signature_fails_rejects_the_note() -> None:
    note = sign_note("hello\n", [Ed25519NoteSigner(ALICE), Ed25519NoteSigner(BOB)])
    a, b = note.signatures
    bad_b = NoteSignature(b.name, b.key_id, bytes([b.signature[0] ^ 1]) + b.signature[1:])
    tampered = Note(note.text, (a, bad_b)).to_bytes()
    # ... even though another trusted key's signature verifies
    with pytest.raises(SignatureError):
        open_note(tampered, [_verifier(ALICE), _verifier(BOB)])
    # and Bob's bad signature is ignored by someone who does not trust Bob
    assert open_note(tampered, [_verifier(ALICE)]).verified_names == (ALICE.name,)


def test_signature_over_different_text_fails() -> None:
    sig = Ed25519NoteSigner(ALICE).sign_note_text(b"hello\n")
    with pytest.raises(SignatureError):
        open_note(Note("hullo\n", (sig,)).to_bytes(), [_verifier(ALICE)])


@pytest.mark.parametrize("length", [0, 1, 63, 65, 128])
def test_known_key_with_a_wrong_length_signature_fails(length: int) -> None:
    sig = NoteSignature(ALICE.name, ALICE.vkey().key_id, bytes(length) or b"\x00")
    with pytest.raises(SignatureError):
        open_note(Note("hello\n", (sig,)).to_bytes(), [_verifier(ALICE)])


def test_no_trusted_signature_raises_unknown_key() -> None:
    note = sign_note("hello\n", [Ed25519NoteSigner(BOB)]).to_bytes()
    with pytest.raises(UnknownKey):
        open_note(note, [_verifier(ALICE)])
    with pytest.raises(UnknownKey):
        open_note(note, [])


def test_cosigner_key_does_not_verify_a_log_signature() -> None:
    # Same Ed25519 key, type 0x04: a different key ID, so the type 0x01 signature is unknown.
    note = sign_note("hello\n", [Ed25519NoteSigner(ALICE)]).to_bytes()
    with pytest.raises(UnknownKey):
        open_note(note, [verifier_for(ALICE.cosigner_vkey())])


def test_duplicate_signature_lines_count_once() -> None:
    note = sign_note("hello\n", [Ed25519NoteSigner(ALICE)])
    doubled = note.to_bytes() + note.signatures[0].line().encode()
    parsed = parse_note(doubled)
    assert parsed.signatures == note.signatures
    assert open_note(doubled, [_verifier(ALICE)]).verified_names == (ALICE.name,)


# --- signature count limits ------------------------------------------------------------------------


@pytest.mark.parametrize("count", [16, MAX_SIGNATURES])
def test_notes_with_16_and_100_signatures_are_accepted(count: int) -> None:
    assert MAX_SIGNATURES == 100
    idents = [_ident(i) for i in range(count)]
    note = sign_note("many signers\n", [Ed25519NoteSigner(i) for i in idents]).to_bytes()
    opened = open_note(note, [_verifier(i) for i in idents])
    assert len(opened.verified) == count
    assert set(opened.verified_names) == {i.name for i in idents}


def test_a_note_with_101_signatures_is_malformed() -> None:
    idents = [_ident(i) for i in range(101)]
    note = sign_note("too many\n", [Ed25519NoteSigner(i) for i in idents]).to_bytes()
    with pytest.raises(MalformedNote):
        parse_note(note)
    with pytest.raises(MalformedNote):
        open_note(note, [_verifier(idents[0])])


# --- malformed notes --------------------------------------------------------------------------------

_SIG = "— alice.example/log " + base64.b64encode(b"\x00\x00\x00\x01" + bytes(64)).decode() + "\n"


@pytest.mark.parametrize(
    "bad",
    [
        ("text\x00\n\n" + _SIG).encode(),
        ("text\x01\n\n" + _SIG).encode(),
        ("text\t\n\n" + _SIG).encode(),
        ("text\r\n\r\n" + _SIG).encode(),
        ("text\x1f\n\n" + _SIG).encode(),
        ("text\n\n" + _SIG.replace("\n", "\r\n")).encode(),  # control character in the signatures
        ("text\n" + _SIG).encode(),  # no blank line
        ("text\n\n" + _SIG.rstrip("\n")).encode(),  # last signature line has no newline
        b"text\n\n",  # no signatures
        b"text\n\n\n",  # empty signature line
        b"\n\n\n",
        b"",
        ("text\n\n" + _SIG + "\n").encode(),  # blank line after the signatures
        ("text\n\n" + _SIG.replace("—", "-")).encode(),  # hyphen-minus, not em dash
        ("text\n\n" + _SIG.replace("— ", "—")).encode(),  # no space after the dash
        ("text\n\n" + _SIG.replace("— ", " — ")).encode(),  # leading space
        ("text\n\n" + _SIG.replace("log ", "log  ")).encode(),  # two spaces
        ("text\n\n" + _SIG.replace("\n", " \n")).encode(),  # trailing space
        ("text\n\n" + _SIG.replace("alice.example/log ", "")).encode(),  # no key name
        ("text\n\n" + _SIG.replace("alice.example/log", "alice+log")).encode(),  # '+' in the name
        ("text\n\n" + _SIG.replace("alice.example/log", "alice\u00a0log")).encode(),  # Unicode space
        ("text\n\n" + _SIG.replace("AAAA", "AA!A", 1)).encode(),  # bad base64
        ("text\n\n" + _SIG.replace("=\n", "\n")).encode(),  # missing padding
        ("text\n\n" + _SIG.replace("=\n", "==\n")).encode(),  # extra padding
        "text\n\n— alice.example/log AAAAAA==\n".encode(),  # 4 bytes: no room for a signature
        "text\n\n— alice.example/log \n".encode(),  # empty signature
        b"text\xff\n\n" + _SIG.encode(),  # not UTF-8
        b"text\xc3\x28\n\n" + _SIG.encode(),
        b"text\xed\xa0\x80\n\n" + _SIG.encode(),  # UTF-8-encoded surrogate
        b"text\n\n" + _SIG.encode()[:-3] + b"\xc0\xaf\n",  # overlong encoding in signatures
    ],
)
def test_malformed_notes_raise_malformed_note(bad: bytes) -> None:
    with pytest.raises(MalformedNote):
        parse_note(bad)
    with pytest.raises(MalformedNote):
        open_note(bad, [_verifier(ALICE)])


def test_the_unmutated_template_is_well_formed() -> None:
    # every case above is one mutation of this note, so each fails for the reason given
    (sig,) = parse_note(("text\n\n" + _SIG).encode()).signatures
    assert (sig.name, sig.key_id, sig.signature) == ("alice.example/log", 1, bytes(64))


def test_five_byte_signature_is_well_formed() -> None:
    # 4-byte key ID + 1 byte: parses (the minimum); verification then fails for a known key.
    note = parse_note("text\n\n— alice.example/log " + base64.b64encode(b"\x00\x00\x00\x01\x02").decode() + "\n")
    assert note.signatures == (NoteSignature("alice.example/log", 1, b"\x02"),)


@pytest.mark.parametrize("text", ["no newline", "", "a\x01\n", "tab\there\n"])
def test_sign_note_refuses_malformed_text(text: str) -> None:
    with pytest.raises(MalformedNote):
        sign_note(text, [Ed25519NoteSigner(ALICE)])


def test_sign_note_needs_a_signer() -> None:
    with pytest.raises(MalformedNote):
        sign_note("text\n", [])


# --- texts with blank lines ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["a\n\nb\n", "\n", "\n\n", "a\n\n\n", "— not a signature\n\n", "x\n\n— y AAAA\n"])
def test_texts_containing_blank_lines_round_trip(text: str) -> None:
    note = sign_note(text, [Ed25519NoteSigner(ALICE)])
    data = note.to_bytes()
    assert parse_note(data).text == text
    assert open_note(data, [_verifier(ALICE)]).text == text


# --- properties ----------------------------------------------------------------------------------

_note_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x7f").filter(
        lambda c: c == "\n" or ord(c) >= 0x20
    ),
    max_size=200,
).map(lambda s: s + "\n")


@settings(max_examples=200, deadline=None)
@given(text=_note_text, signers=st.sets(st.integers(0, 7), min_size=1, max_size=4))
def test_sign_then_open_round_trips(text: str, signers: set[int]) -> None:
    idents = [_ident(i) for i in sorted(signers)]
    note = sign_note(text, [Ed25519NoteSigner(i) for i in idents])
    data = note.to_bytes()
    parsed = parse_note(data)
    assert parsed == note
    assert parsed.to_bytes() == data
    opened = open_note(data, [_verifier(idents[-1])])
    assert opened.text == text
    assert opened.verified_names == (idents[-1].name,)
    assert len(opened.unverified) == len(idents) - 1


_structured = st.lists(
    st.sampled_from(["\n", "\n\n", "— ", "—", " ", "a", "+", "=", "A", "AAAAAAAA", "\x01", "\xe9", "é", "\t"]),
    max_size=30,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300) | _structured.map(str.encode) | _structured.map(lambda s: (s + "\n\n" + _SIG).encode()))
def test_arbitrary_bytes_parse_or_raise_malformed_note(data: bytes) -> None:
    try:
        note = parse_note(data)
    except MalformedNote:
        return
    assert note.text.endswith("\n")
    assert 1 <= len(note.signatures) <= MAX_SIGNATURES
    assert all(len(s.signature) >= 1 and 0 <= s.key_id < 2**32 for s in note.signatures)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | _structured.map(lambda s: (s + "\n\n" + _SIG).encode()))
def test_open_note_on_arbitrary_bytes_raises_only_typed_errors(data: bytes) -> None:
    try:
        open_note(data, [_verifier(ALICE)])
    except (MalformedNote, VerificationError):
        return
    raise AssertionError("an arbitrary note verified")


def test_signature_line_layout() -> None:
    sig = NoteSignature("a.example", 0x01020304, b"\xff" * 64)
    line = sig.line()
    assert line.startswith("\u2014\u0020a.example ")
    assert base64.b64decode(line.split(" ")[2])[:4] == struct.pack(">I", 0x01020304)
    assert line.endswith("\n")


# --- found by mutation testing ---------------------------------------------------------------------


def test_delete_is_a_control_character_in_the_text_and_in_the_signatures() -> None:
    for bad in ("text\x7f\n\n" + _SIG, "text\n\n" + _SIG.replace("alice", "al\x7fice")):
        with pytest.raises(MalformedNote, match=r"^note contains the control character U\+007F$"):
            parse_note(bad)
    with pytest.raises(MalformedNote, match=r"^note contains the control character U\+001F$"):
        sign_note("a\x1fb\n", [Ed25519NoteSigner(ALICE)])
    assert parse_note("tilde ~ and space\n\n" + _SIG).text == "tilde ~ and space\n"  # 0x7e and 0x20 are text


class _SameIdOtherKey:
    """A verifier claiming another verifier's name and key ID whose signatures never verify (what
    a key-ID collision looks like)."""

    def __init__(self, like: NoteVerifier) -> None:
        self.name, self.key_id, self.vkey = like.name, like.key_id, like.vkey

    def verify(self, text: bytes, signature: bytes) -> None:
        raise SignatureError("not this key")


def test_one_of_several_verifiers_for_the_same_key_id_verifying_is_enough() -> None:
    note = sign_note("text\n", [Ed25519NoteSigner(ALICE)])
    good = _verifier(ALICE)
    for verifiers in ([good, _SameIdOtherKey(good)], [_SameIdOtherKey(good), good]):
        verified = open_note(note.to_bytes(), verifiers)
        assert [v for _, v in verified.verified] == [good]
    with pytest.raises(SignatureError, match=r"^note signature by trusted key alice.example/log"):
        open_note(note.to_bytes(), [_SameIdOtherKey(good)])


def test_no_trusted_signature_names_the_trusted_keys() -> None:
    note = sign_note("text\n", [Ed25519NoteSigner(CAROL)]).to_bytes()
    with pytest.raises(UnknownKey) as info:
        open_note(note, [_verifier(BOB), _verifier(ALICE), _verifier(ALICE)])
    assert info.value.message == (
        "no signature on the note is from a trusted key (trusted: alice.example/log, bob.example/log)"
    )
    with pytest.raises(UnknownKey, match=r"\(trusted: none given\)$"):
        open_note(note, [])


def test_with_signatures_adds_only_new_lines_in_order() -> None:
    note = sign_note("text\n", [Ed25519NoteSigner(ALICE)])
    bob = sign_note("text\n", [Ed25519NoteSigner(BOB)]).signatures[0]
    carol = sign_note("text\n", [Ed25519NoteSigner(CAROL)]).signatures[0]
    merged = note.with_signatures([bob, note.signatures[0], carol, bob])
    assert merged.signatures == (note.signatures[0], bob, carol) and merged.text == "text\n"
    assert note.signatures == (note.signatures[0],)  # the original is unchanged


def test_notes_signatures_and_signers_are_frozen() -> None:
    note = sign_note("text\n", [Ed25519NoteSigner(ALICE)])
    verified = open_note(note, [_verifier(ALICE)])
    for obj, field in [
        (note, "text"),
        (note.signatures[0], "key_id"),
        (verified, "note"),
        (Ed25519NoteSigner(ALICE), "identity"),
        (CosignatureSigner(ALICE, 1), "timestamp"),
    ]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, field, None)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("text\n" + _SIG, "note has no blank line before its signatures"),
        ("text\n\n" + _SIG.rstrip("\n"), "note signature block is empty or does not end in a newline"),
        ("text\n\n", "note signature block is empty or does not end in a newline"),
        ("text\n\n" + _SIG.replace("log ", "log  "), "signature line is not '— <name> <base64>'"),
        ("text\n\n" + _SIG.replace("\n", " \n"), "signature line is not '— <name> <base64>'"),
        ("text\n\n— alice.example/log\n", "signature line is not '— <name> <base64>'"),
        ("text\n\n" + _SIG.replace("— ", "-- "), "signature line does not start with an em dash and a space"),
        ("text\n\n— alice.example/log AAAAAA==\n", "note signature is shorter than 5 bytes"),
    ],
)
def test_each_malformed_note_says_what_is_wrong(bad: str, message: str) -> None:
    with pytest.raises(MalformedNote) as info:
        parse_note(bad)
    assert info.value.message == message


def test_a_cosignature_is_the_timestamp_then_the_signature() -> None:
    note = sign_note("text\n", [CosignatureSigner(ALICE, 1_700_000_000)])
    (sig,) = note.signatures
    assert (sig.name, sig.key_id) == (ALICE.name, ALICE.cosigner_vkey().key_id)
    assert len(sig.signature) == 72 and sig.signature[:8] == struct.pack(">Q", 1_700_000_000)
    verified = open_note(note.to_bytes(), [verifier_for(ALICE.cosigner_vkey())])
    assert verified.verified_names == (ALICE.name,)
