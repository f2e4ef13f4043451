"""detente.crypto.keys against C2SP signed-note key rules and published keys (C2SP spec example,
golang.org/x/mod sumdb/note example, sigsum-go cosignature vector, real log and witness keys)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.crypto.keys import (
    SIG_COSIGNATURE_V1,
    SIG_ECDSA,
    SIG_ED25519,
    SIG_RFC6962,
    Ed25519Identity,
    VerifierKey,
    check_key_name,
    key_id,
)
from detente.crypto.note_verifiers import verifier_for
from detente.errors import MalformedKey

EXAMPLE_FOO = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
SUMDB = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SIGSUM_WITNESS = "example.org/witness+cacf2e50+BGbguFjkYqYJ5m/nE3DIFtiEb/ED1UmaIqf+w3/bxCSn"
SIGSUM_LOG = (
    "sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69"
    "+809da1a3+AWbguFjkYqYJ5m/nE3DIFtiEb/ED1UmaIqf+w3/bxCSn"
)
REMORA = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
REKOR = (
    "rekor.sigstore.dev+c0d23d6a+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0"
    "hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc="
)
ROME = (
    "rome.ct.filippo.io/2024h1+78f4abae+BTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAFzPC3fap+uINc1RQ4eRbYMUt84"
    "+bKkA8GDLN8KwVdzAgYhYSv4kS8XSheGLAHCWhIJTJbuC3sL88bNMTtrsBM="
)

PUBLISHED = {
    EXAMPLE_FOO: SIG_ED25519,
    PETER_VKEY: SIG_ED25519,
    SUMDB: SIG_ED25519,
    SIGSUM_LOG: SIG_ED25519,
    SIGSUM_WITNESS: SIG_COSIGNATURE_V1,
    REMORA: SIG_COSIGNATURE_V1,
    REKOR: SIG_ECDSA,
    ROME: SIG_RFC6962,
}


def _c2sp_key_id(name: str, sig_type: int, public_key: bytes) -> str:
    """``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`` as C2SP signed-note writes it, in hex."""
    return hashlib.sha256(name.encode() + b"\x0a" + bytes([sig_type]) + public_key).digest()[:4].hex()


def _parts(vkey: str) -> tuple[str, str, bytes]:
    name, hexid, b64 = vkey.split("+", 2)
    return name, hexid, base64.b64decode(b64)


# --- parse / format ------------------------------------------------------------------------------


@pytest.mark.parametrize("vkey", list(PUBLISHED), ids=lambda v: v.split("+")[0])
def test_published_vkeys_parse_and_format_back_unchanged(vkey: str) -> None:
    vk = VerifierKey.parse(vkey)
    name, hexid, raw = _parts(vkey)
    assert (vk.name, f"{vk.key_id:08x}", vk.sig_type, vk.key) == (name, hexid, PUBLISHED[vkey], raw[1:])
    assert str(vk) == vkey
    assert VerifierKey.parse(str(vk)) == vk
    assert verifier_for(vkey).vkey == vk


def test_vkey_with_trailing_newline_as_read_from_a_file() -> None:
    assert str(VerifierKey.parse(EXAMPLE_FOO + "\n")) == EXAMPLE_FOO


# --- key IDs exactly as C2SP defines them -------------------------------------------------------


@pytest.mark.parametrize("vkey", [EXAMPLE_FOO, PETER_VKEY, SUMDB, SIGSUM_LOG, SIGSUM_WITNESS, REMORA])
def test_ed25519_and_cosigner_key_ids_follow_the_spec(vkey: str) -> None:
    name, hexid, raw = _parts(vkey)
    assert _c2sp_key_id(name, raw[0], raw[1:]) == hexid
    assert f"{key_id(name, raw[0], raw[1:]):08x}" == hexid


def test_ecdsa_key_id_is_the_hash_of_the_spki_alone() -> None:
    # signed-note type 0x02: key ID = SHA-256(DER SPKI)[:4], no name and no type byte.
    _, hexid, raw = _parts(REKOR)
    assert hashlib.sha256(raw[1:]).digest()[:4].hex() == hexid
    assert VerifierKey.parse(REKOR).expected_key_id() == int(hexid, 16)


def test_rfc6962_key_id_hashes_the_log_id() -> None:
    # static-ct-api type 0x05: key ID = SHA-256(name ‖ 0x0A ‖ 0x05 ‖ SHA-256(SPKI))[:4]
    name, hexid, raw = _parts(ROME)
    assert _c2sp_key_id(name, 0x05, hashlib.sha256(raw[1:]).digest()) == hexid


def test_same_key_has_different_ids_as_log_and_as_cosigner() -> None:
    ident = Ed25519Identity.from_seed("example.org/witness", b"\x11" + bytes(31))
    log, cosigner = ident.vkey(), ident.cosigner_vkey()
    assert log.key == cosigner.key
    assert (log.sig_type, cosigner.sig_type) == (SIG_ED25519, SIG_COSIGNATURE_V1)
    assert log.key_id != cosigner.key_id


# --- identities from published private keys ------------------------------------------------------


def test_go_signer_key_yields_exactly_the_published_vkey() -> None:
    ident = Ed25519Identity.parse_signer_key(PETER_SKEY)
    assert ident.name == "PeterNeumann"
    assert str(ident.vkey()) == PETER_VKEY
    assert ident.signer_key() == PETER_SKEY
    assert Ed25519Identity.parse_signer_key(PETER_SKEY + "\n").signer_key() == PETER_SKEY


def test_sigsum_seed_0x11_yields_the_published_keys() -> None:
    seed = b"\x11" + bytes(31)
    witness = Ed25519Identity.from_seed("example.org/witness", seed)
    assert witness.public_bytes.hex() == "66e0b858e462a609e66fe71370c816d8846ff103d5499a22a7fec37fdbc424a7"
    assert str(witness.cosigner_vkey()) == SIGSUM_WITNESS
    log_name = SIGSUM_LOG.split("+")[0]
    # sigsum's origin convention: sigsum.org/v1/tree/<hex SHA-256(public key)>
    assert log_name.endswith(hashlib.sha256(witness.public_bytes).hexdigest())
    assert str(Ed25519Identity.from_seed(log_name, seed).vkey()) == SIGSUM_LOG


@pytest.mark.parametrize(
    "bad",
    [
        PETER_SKEY.removeprefix("PRIVATE+KEY+"),  # no prefix
        PETER_SKEY.replace("c74f20a3", "c74f20a4"),  # wrong key ID
        PETER_SKEY.replace("+PeterNeumann+", "+PeterNeumanm+"),  # ID does not match the name
        "PRIVATE+KEY+PeterNeumann+c74f20a3+" + base64.b64encode(b"\x02" + bytes(32)).decode(),  # not type 1
        "PRIVATE+KEY+PeterNeumann+c74f20a3+" + base64.b64encode(b"\x01" + bytes(31)).decode(),  # short seed
        PETER_SKEY[:-1],  # bad base64
        "PRIVATE+KEY+PeterNeumann",
    ],
)
def test_malformed_signer_keys(bad: str) -> None:
    with pytest.raises(MalformedKey):
        Ed25519Identity.parse_signer_key(bad)


def test_seed_must_be_32_bytes() -> None:
    with pytest.raises(MalformedKey):
        Ed25519Identity.from_seed("a.example", bytes(31))


# --- malformed vkeys -----------------------------------------------------------------------------


def _vkey_with_correct_id(name: str, raw: bytes) -> str:
    """A vkey whose key ID is right for ``name``, so only the name can make it invalid."""
    return f"{name}+{_c2sp_key_id(name, raw[0], raw[1:])}+{base64.b64encode(raw).decode()}"


_FOO_RAW = _parts(EXAMPLE_FOO)[2]


@pytest.mark.parametrize(
    "bad",
    [
        EXAMPLE_FOO.replace("530d903a", "530d903b"),  # wrong key ID
        EXAMPLE_FOO.replace("example.com/foo", "example.com/fo0"),  # name changed under the ID
        EXAMPLE_FOO.replace("530d903a", "530D903A"),  # key ID not lowercase hex
        EXAMPLE_FOO.replace("530d903a", "530d903"),  # 7 hex digits
        EXAMPLE_FOO.replace("530d903a", "0530d903a"),  # 9 hex digits
        EXAMPLE_FOO.replace("530d903a", "530d903g"),
        EXAMPLE_FOO[:-1],  # truncated base64
        EXAMPLE_FOO[:-4] + "U2k!",  # non-alphabet character
        EXAMPLE_FOO[:40] + " " + EXAMPLE_FOO[40:],  # space inside the base64
        EXAMPLE_FOO.replace("Aeky", "Aeky=="),  # padding in the middle
        "example.com/foo+530d903a",  # no key
        "example.com/foo+530d903a+",  # empty key
        "example.com/foo+530d903a+AQ==",  # type byte only
        "example.com/foo",
        "",
        "exa+mple.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # '+' in the name
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # empty name
        _vkey_with_correct_id("example.com/ foo", _FOO_RAW),  # ASCII space in the name
        _vkey_with_correct_id("example.com/\u00a0foo", _FOO_RAW),  # NO-BREAK SPACE
        _vkey_with_correct_id("example.com/\u3000foo", _FOO_RAW),  # IDEOGRAPHIC SPACE
        _vkey_with_correct_id("example.com/\tfoo", _FOO_RAW),  # tab
        _vkey_with_correct_id("example.com/\x01foo", _FOO_RAW),  # control character
        _vkey_with_correct_id("a.example", b"\x01" + bytes(31)),  # Ed25519 key of 31 bytes
        _vkey_with_correct_id("a.example", b"\x04" + bytes(33)),  # cosigner key of 33 bytes
    ],
)
def test_malformed_vkeys_raise_malformed_key(bad: str) -> None:
    with pytest.raises(MalformedKey):
        VerifierKey.parse(bad)
    with pytest.raises(MalformedKey):
        verifier_for(bad)


@pytest.mark.parametrize("name", ["a+b", "", "a b", "a\u2003b", "a\nb", "a\x7fb"])
def test_key_name_rules(name: str) -> None:
    with pytest.raises(MalformedKey):
        check_key_name(name)
    with pytest.raises(MalformedKey):
        Ed25519Identity.from_seed(name, bytes(32))


def test_key_names_may_be_urls_and_non_ascii() -> None:
    for name in ["example.com/log42", "sigsum.org/v1/tree/00ff", "журнал.example/日志", "a"]:
        assert check_key_name(name) == name


def test_unsupported_or_broken_key_types_are_refused_by_verifier_for() -> None:
    unknown = f"a.example+{hashlib.sha256(b'x').hexdigest()[:8]}+" + base64.b64encode(b"\x07" + bytes(32)).decode()
    assert VerifierKey.parse(unknown).sig_type == 0x07  # parses: its key ID is not defined here
    with pytest.raises(MalformedKey):
        verifier_for(unknown)
    not_spki = b"\x02" + b"not a DER public key"
    bad_ecdsa = f"a.example+{hashlib.sha256(not_spki[1:]).digest()[:4].hex()}+{base64.b64encode(not_spki).decode()}"
    with pytest.raises(MalformedKey):
        verifier_for(bad_ecdsa)


# --- properties ----------------------------------------------------------------------------------

_names = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
        blacklist_characters="+\x85\u180e\u200b",
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: not any(c.isspace() for c in s))


@settings(max_examples=150, deadline=None)
@given(name=_names, seed=st.binary(min_size=32, max_size=32))
def test_generated_keys_round_trip(name: str, seed: bytes) -> None:
    ident = Ed25519Identity.from_seed(name, seed)
    for vk, sig_type in [(ident.vkey(), SIG_ED25519), (ident.cosigner_vkey(), SIG_COSIGNATURE_V1)]:
        text = str(vk)
        assert text.split("+")[1] == _c2sp_key_id(name, sig_type, ident.public_bytes)
        assert VerifierKey.parse(text) == vk
    again = Ed25519Identity.parse_signer_key(ident.signer_key())
    assert str(again.vkey()) == str(ident.vkey())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80) | st.from_regex(r"\A[a-z./+]{0,12}\+[0-9a-f]{8}\+[A-Za-z0-9+/=]{0,60}\Z"))
def test_vkey_parser_parses_or_raises_malformed_key(text: str) -> None:
    try:
        vk = VerifierKey.parse(text)
    except MalformedKey:
        return
    assert VerifierKey.parse(str(vk)) == vk
    assert str(vk).split("+")[:2] == text.strip().split("+")[:2]


# --- boundaries (found by mutation testing: each check on both sides, with its own message) ---------


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("wrong", ["00000000", "530d9039", "530d903b", "ffffffff"])
def test_a_wrong_key_id_below_or_above_the_right_one_is_refused(wrong: str) -> None:
    with pytest.raises(MalformedKey, match=f"^key ID {wrong} does not match the key \\(expected 530d903a\\)$"):
        VerifierKey.parse(EXAMPLE_FOO.replace("530d903a", wrong))


@pytest.mark.parametrize("sig_type", [0x00, 0x03, 0x06, 0xFF])
def test_a_key_of_a_type_without_a_defined_key_id_parses_with_any_id(sig_type: int) -> None:
    # types 0x01, 0x02, 0x04 and 0x05 have their own key IDs; the types between and around them do not
    for hexid in ("00000000", "7fffffff", "ffffffff"):
        vk = VerifierKey.parse(f"a.example+{hexid}+{_b64(bytes([sig_type]) + b'key')}")
        assert (vk.sig_type, vk.key_id, vk.key, vk.expected_key_id()) == (sig_type, int(hexid, 16), b"key", None)


def test_a_vkey_needs_a_type_byte_and_at_least_one_byte_of_key() -> None:
    for raw in (b"\x00", b"\x07", b"\x01"):
        with pytest.raises(MalformedKey, match=r"^verifier key has no key material$"):
            VerifierKey.parse(f"a.example+00000000+{_b64(raw)}")
    one_byte = _b64(b"\x07\x2a")  # one byte of an unknown type's key
    vk = VerifierKey.parse(f"a.example+00000000+{one_byte}")
    assert (vk.sig_type, vk.key) == (0x07, b"\x2a")


def test_a_vkey_without_three_parts_is_quoted_up_to_80_characters() -> None:
    text = "x" * 200
    with pytest.raises(MalformedKey) as info:
        VerifierKey.parse(text)
    assert info.value.message == f"verifier key {'x' * 80!r} does not have three '+' parts"


def test_verifier_keys_are_frozen() -> None:
    vk = VerifierKey.parse(EXAMPLE_FOO)
    with pytest.raises(AttributeError):
        vk.key_id = 0  # type: ignore[misc]
    assert str(vk) == EXAMPLE_FOO


def _signer_key(raw: bytes, hexid: str | None = None, name: str = "a.example") -> str:
    if hexid is None:
        hexid = f"{Ed25519Identity.from_seed(name, bytes(range(32))).vkey().key_id:08x}"
    return f"PRIVATE+KEY+{name}+{hexid}+{_b64(raw)}"


def test_a_signer_key_is_type_0x01_and_a_32_byte_seed_exactly() -> None:
    seed = bytes(range(32))
    ident = Ed25519Identity.parse_signer_key(_signer_key(b"\x01" + seed))
    assert ident.vkey() == Ed25519Identity.from_seed("a.example", seed).vkey()
    for raw in (b"\x00" + seed, b"\x02" + seed, b"\x04" + seed, b"\x01" + seed[:31], b"\x01" + seed + b"\x00"):
        with pytest.raises(MalformedKey, match=r"^signer key is not an Ed25519 \(type 0x01\) 32-byte seed$"):
            Ed25519Identity.parse_signer_key(_signer_key(raw))


@pytest.mark.parametrize("delta", [-1, 1])
def test_a_signer_key_whose_id_is_below_or_above_its_keys_is_refused(delta: int) -> None:
    seed = bytes(range(32))
    right = Ed25519Identity.from_seed("a.example", seed).vkey().key_id
    for wrong in (f"{(right + delta) % 2**32:08x}", "00000000" if delta < 0 else "ffffffff"):
        with pytest.raises(MalformedKey, match=r"^signer key ID does not match its key$"):
            Ed25519Identity.parse_signer_key(_signer_key(b"\x01" + seed, wrong))


@pytest.mark.parametrize("hexid", ["1234567", "123456789", ""])
def test_a_key_id_of_other_than_8_hex_digits_is_refused_whatever_the_key_type(hexid: str) -> None:
    with pytest.raises(MalformedKey, match=f"^key ID '{hexid}' is not 8 lowercase hex digits$"):
        VerifierKey.parse(f"a.example+{hexid}+{_b64(b'key')}")


@pytest.mark.parametrize("ch", ["\x85", "\u2028", "\u2029", "\x00", "\x1f", "\x7f", " ", "\u00a0", "\u3000"])
def test_a_key_name_may_hold_no_whitespace_of_any_category_nor_control_character(ch: str) -> None:
    with pytest.raises(MalformedKey, match="contains a space or control character"):
        check_key_name(f"a{ch}b")


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_a_seed_of_other_than_32_bytes_is_refused_with_its_length(length: int) -> None:
    with pytest.raises(MalformedKey, match=f"^Ed25519 seed must be 32 bytes, got {length}$"):
        Ed25519Identity.from_seed("a.example", bytes(length))


def test_a_generated_identity_signs_what_its_vkey_verifies() -> None:
    ident = Ed25519Identity.generate("a.example")
    other = Ed25519Identity.generate("a.example")
    assert ident.name == "a.example" and ident.vkey() != other.vkey()
    verify = verifier_for(str(ident.vkey()))
    verify.verify(b"message", ident.sign(b"message"))
