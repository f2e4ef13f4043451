"""The dual-labelling order (research A1.3): China's AIGC label first, then the C2PA signature.

Signed offline by c2pa-python with a throwaway ES256 chain made here (EKU emailProtection, KU
digitalSignature, SKI/AKI, as the SDK requires). The C2PA hard binding then covers the XMP
packet; writing the AIGC label after signing breaks it.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from detente.media.aigc import AigcLabel
from detente.media.containers import read_aigc, write_aigc

c2pa = pytest.importorskip("c2pa")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402

DATA = Path(__file__).parent.parent / "data" / "c2pa"
LABEL = AigcLabel(label="1", content_producer="001191110102MACQD9K64010000", produce_id="detente-c2pa-order")
AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign,
        crl_sign=sign,
        encipher_only=False,
        decipher_only=False,
    )


@pytest.fixture(scope="module")
def chain() -> tuple[bytes, bytes, str]:
    """(leaf+root PEM chain, leaf PKCS#8 key PEM, root PEM) for a throwaway ES256 signer."""
    now = datetime.now(UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "detente tests"),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
            ]
        )

    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(name("detente test root"))
        .issuer_name(name("detente test root"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("detente test signer"))
        .issuer_name(root.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key = leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return leaf.public_bytes(pem) + root.public_bytes(pem), key, root.public_bytes(pem).decode()


def sign(data: bytes, mime: str, chain: tuple[bytes, bytes, str]) -> bytes:
    certs, key, _ = chain
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, certs, key, None))
    manifest = {
        "claim_generator_info": [{"name": "detente-tests", "version": "0"}],
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": AI}]}}
        ],
    }
    out = io.BytesIO()
    with c2pa.Builder(manifest) as builder:
        builder.sign(signer, mime, io.BytesIO(data), out)
    return out.getvalue()


def validate(data: bytes, mime: str, anchors: str | None) -> tuple[str, dict[str, Any]]:
    settings: dict[str, Any] = {"verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False}}
    if anchors is not None:
        settings["trust"] = {"trust_anchors": anchors}
    context = c2pa.Context(c2pa.Settings.from_dict(settings))
    with c2pa.Reader(mime, io.BytesIO(data), context=context) as reader:
        return reader.get_validation_state(), reader.get_validation_results()


def codes(results: dict[str, Any], kind: str) -> set[str]:
    return {entry["code"] for entry in results["activeManifest"][kind]}


def test_aigc_first_then_c2pa_keeps_both_labels_valid(chain: tuple[bytes, bytes, str]) -> None:
    labelled = write_aigc((DATA / "no_manifest.jpg").read_bytes(), LABEL)
    signed = sign(labelled, "image/jpeg", chain)

    state, results = validate(signed, "image/jpeg", anchors=chain[2])
    assert state == "Trusted"
    assert "assertion.dataHash.match" in codes(results, "success")
    assert codes(results, "failure") == set()

    state, results = validate(signed, "image/jpeg", anchors=None)
    assert state == "Valid"
    assert codes(results, "failure") == {"signingCredential.untrusted"}

    found = read_aigc(signed)
    assert found is not None and (found.label, found.location) == (LABEL, "xmp")


def test_aigc_after_c2pa_breaks_the_hard_binding(chain: tuple[bytes, bytes, str]) -> None:
    signed = sign((DATA / "no_manifest.jpg").read_bytes(), "image/jpeg", chain)
    assert validate(signed, "image/jpeg", anchors=chain[2])[0] == "Trusted"

    relabelled = write_aigc(signed, LABEL)
    state, results = validate(relabelled, "image/jpeg", anchors=chain[2])
    assert state == "Invalid"
    assert "assertion.dataHash.mismatch" in codes(results, "failure")
    found = read_aigc(relabelled)
    assert found is not None and found.label == LABEL


def test_writing_into_a_published_c2pa_file_invalidates_it() -> None:
    original = (DATA / "C.jpg").read_bytes()
    anchors = (DATA / "test_cert_root_bundle.pem").read_text()
    assert validate(original, "image/jpeg", anchors)[0] == "Trusted"
    state, results = validate(write_aigc(original, LABEL), "image/jpeg", anchors)
    assert state == "Invalid"
    assert "assertion.dataHash.mismatch" in codes(results, "failure")


def test_mp4_aigc_first_then_c2pa(chain: tuple[bytes, bytes, str]) -> None:
    # video1.mp4 already carries a manifest; writing the label breaks its BMFF hash ...
    original = (DATA / "video1.mp4").read_bytes()
    labelled = write_aigc(original, LABEL)
    state, results = validate(labelled, "video/mp4", anchors=None)
    assert state == "Invalid"
    assert "assertion.bmffHash.mismatch" in codes(results, "failure")
    # ... and signing after labelling makes a valid manifest that covers the label.
    signed = sign(labelled, "video/mp4", chain)
    state, results = validate(signed, "video/mp4", anchors=chain[2])
    assert state == "Trusted", results
    found = read_aigc(signed)
    assert found is not None and (found.label, found.location) == (LABEL, "mp4-udta")
