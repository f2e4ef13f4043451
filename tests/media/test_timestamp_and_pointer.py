"""Signatures that outlive their certificate, and the XMP pointer to the active manifest.

An RFC 3161 time-stamp from a real TSA on loopback (tests/media/tsa.py: asn1crypto and
cryptography, no network), fetched by c2pa-rs itself while signing; then, once the signing
certificate has expired, the time-stamped file still validates and the same file signed without
one does not (``signingCredential.expired``). And the stale ``dcterms:provenance`` that c2pa-rs's
``no_manifest.jpg`` still carries (a pointer to an Adobe manifest no longer in the file) is
rewritten to the manifest detente signs.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from detente.errors import ConfigError
from detente.media.aigc import AigcLabel
from detente.media.c2pa_credentials import make_party_chain, read_c2pa, sign_c2pa
from detente.media.label import apply_labels
from detente.media.propagate import propagate_labels
from detente.media.provenance import manifest_uri, read_provenance
from detente.media.xmp import read_xmp_provenance, set_xmp_provenance

pytest.importorskip("c2pa")
tsa_module = pytest.importorskip("tsa", reason="tests/media/tsa.py needs asn1crypto (dev extra)")

DATA = Path(__file__).parent.parent / "data" / "c2pa"
LABEL = AigcLabel(label="1", content_producer="001191110102MACQD9K64010000", produce_id="gen-1")
STALE = "self#jumbf=/c2pa/adobe:urn:uuid:5f5bba8c-9184-44c6-b9a7-62cfda37b343/c2pa.claim"


def test_a_configured_tsa_time_stamps_the_signature() -> None:
    chain = make_party_chain("us.detente.example/log", country="US")
    with tsa_module.local_tsa() as tsa:
        signed = apply_labels((DATA / "no_manifest.jpg").read_bytes(), LABEL, chain, tsa_url=tsa.url)
        assert len(tsa.requests) == 1
    untrusted_tsa = read_c2pa(signed, "image/jpeg", anchors_pem=chain.root_pem.decode())
    assert untrusted_tsa.state == "Trusted"
    assert "timeStamp.validated" in untrusted_tsa.success
    assert "timeStamp.untrusted" in untrusted_tsa.informational
    report = read_c2pa(signed, "image/jpeg", anchors_pem=chain.root_pem.decode() + tsa.root_pem.decode())
    assert {"timeStamp.validated", "timeStamp.trusted"} <= set(report.success)
    assert report.signature.get("time")  # the TSA's time, which the SDK reports as the signing time
    # Without a TSA nothing is stamped.
    plain = read_c2pa(apply_labels((DATA / "no_manifest.jpg").read_bytes(), LABEL, chain), "image/jpeg")
    assert not [c for c in plain.success + plain.informational if c.startswith("timeStamp")]


def test_an_unreachable_tsa_is_a_configuration_error() -> None:
    chain = make_party_chain("us.detente.example/log")
    with tsa_module.local_tsa() as tsa:
        gone = tsa.url
    with pytest.raises(ConfigError, match="time-stamp") as refused:
        sign_c2pa((DATA / "no_manifest.jpg").read_bytes(), "image/jpeg", chain, tsa_url=gone)
    assert "c2pa_tsa_url" in (refused.value.hint or "")


def test_a_time_stamped_signature_outlives_its_certificate() -> None:
    # A leaf that expires a few seconds from now (make_party_chain issues it for 365 days from `now`).
    chain = make_party_chain("us.detente.example/log", now=datetime.now(UTC) - timedelta(days=365, seconds=-4))
    original = (DATA / "no_manifest.jpg").read_bytes()
    with tsa_module.local_tsa() as tsa:
        stamped = sign_c2pa(original, "image/jpeg", chain, tsa_url=tsa.url)
    plain = sign_c2pa(original, "image/jpeg", chain)
    anchors = chain.root_pem.decode() + tsa.root_pem.decode()
    assert read_c2pa(plain, "image/jpeg", anchors_pem=anchors).state == "Trusted"
    deadline = time.monotonic() + 120
    while "signingCredential.expired" not in read_c2pa(plain, "image/jpeg", anchors_pem=anchors).failure:
        assert time.monotonic() < deadline, "the leaf certificate never expired"
        time.sleep(0.5)
    after = read_c2pa(plain, "image/jpeg", anchors_pem=anchors)
    assert after.state == "Invalid"
    kept = read_c2pa(stamped, "image/jpeg", anchors_pem=anchors)
    assert kept.state == "Trusted", kept.failure
    assert {"timeStamp.trusted", "claimSignature.insideValidity"} <= set(kept.success)


def test_a_stale_provenance_pointer_is_replaced_by_the_new_manifests() -> None:
    original = (DATA / "no_manifest.jpg").read_bytes()
    assert read_provenance(original, "image/jpeg") == [STALE]
    chain = make_party_chain("us.detente.example/log")
    signed = apply_labels(original, LABEL, chain)
    report = read_c2pa(signed, "image/jpeg", anchors_pem=chain.root_pem.decode())
    assert report.state == "Trusted", report.failure  # the pointer was written before signing: covered
    assert read_provenance(signed, "image/jpeg") == [manifest_uri(report.active_manifest)]
    # A platform's manifest over it moves the pointer on again.
    platform = make_party_chain("cn.detente.example/log")
    passed_on = propagate_labels(
        signed, platform, propagator="001PLATFORM", propagate_id="p-1", anchors_pem=chain.root_pem.decode()
    )
    again = read_c2pa(passed_on, "image/jpeg", anchors_pem=chain.root_pem.decode() + platform.root_pem.decode())
    assert again.state == "Trusted", again.failure
    assert again.active_manifest != report.active_manifest
    assert read_provenance(passed_on, "image/jpeg") == [manifest_uri(again.active_manifest)]


def test_the_pointer_in_element_form_and_with_other_prefixes() -> None:
    packet = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" xmlns:dct="http://purl.org/dc/terms/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<dct:provenance>self#jumbf=/c2pa/old</dct:provenance><dc:format>image/png</dc:format>"
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    assert read_xmp_provenance(packet) == ["self#jumbf=/c2pa/old"]
    edited = set_xmp_provenance(packet, "self#jumbf=/c2pa/urn:c2pa:new&<x>")
    assert read_xmp_provenance(edited) == ["self#jumbf=/c2pa/urn:c2pa:new&<x>"]
    assert b"<dc:format>image/png</dc:format>" in edited
