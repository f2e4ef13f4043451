"""``propagate_labels``: a platform's ContentPropagator/PropagateID in the AIGC label, and for a
file with Content Credentials a new manifest citing the old one as its parent ingredient. Checked
by reading the result back with c2pa's Reader, on the real c2pa-rs fixtures in tests/data/c2pa
(C.jpg and video1.mp4 are Trusted against the bundled test root bundle)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from detente.errors import MalformedMedia, MalformedRecord
from detente.media.aigc import AigcLabel
from detente.media.c2pa_credentials import IPTC_SOURCE_TYPE, PartyChain, make_party_chain, read_c2pa
from detente.media.containers import read_aigc
from detente.media.label import apply_labels, check_labels
from detente.media.propagate import propagate_labels

c2pa = pytest.importorskip("c2pa")

DATA = Path(__file__).parent.parent / "data" / "c2pa"
BUNDLE = (DATA / "test_cert_root_bundle.pem").read_text()
PLATFORM = "001191110108MA01X9K7XP00001"
PRODUCED = AigcLabel(label="1", content_producer="001191110102MACQD9K64010000", produce_id="gen-42")


@pytest.fixture(scope="module")
def platform() -> PartyChain:
    return make_party_chain("cn.detente.example/log", country="CN")


def _store(data: bytes, mime: str) -> dict[str, Any]:
    with c2pa.Reader(mime, io.BytesIO(data)) as reader:
        return dict(json.loads(reader.json()))


def _anchors(chain: PartyChain) -> str:
    return BUNDLE + chain.root_pem.decode()


@pytest.mark.parametrize(("name", "mime"), [("C.jpg", "image/jpeg"), ("video1.mp4", "video/mp4")])
def test_a_signed_file_gets_the_platform_fields_and_a_manifest_citing_its_own(
    name: str, mime: str, platform: PartyChain
) -> None:
    original = (DATA / name).read_bytes()
    before = _store(original, mime)
    out = propagate_labels(
        original, platform, propagator=PLATFORM, propagate_id="share-7", label="2", mime=mime, anchors_pem=BUNDLE
    )
    found = read_aigc(out, mime)
    assert found is not None
    assert found.label.to_dict() | {} == {
        "Label": "2",
        "ContentProducer": "",
        "ProduceID": "",
        "ReservedCode1": "",
        "ContentPropagator": PLATFORM,
        "PropagateID": "share-7",
        "ReservedCode2": "",
    }
    report = read_c2pa(out, mime, anchors_pem=_anchors(platform))
    assert report.state == "Trusted", report.failure
    assert report.signature["issuer"] == "cn.detente.example/log"
    assert report.manifests == len(before["manifests"]) + 1
    store = _store(out, mime)
    active = store["manifests"][store["active_manifest"]]
    (parent,) = [i for i in active["ingredients"] if i["relationship"] == "parentOf"]
    # The parent ingredient is the file as it was: its active manifest, now in the new store as it was signed.
    assert parent["active_manifest"] == before["active_manifest"]
    assert (
        store["manifests"][before["active_manifest"]]["signature_info"]
        == (before["manifests"][before["active_manifest"]]["signature_info"])
    )
    actions = next(a for a in active["assertions"] if a["label"] == "c2pa.actions.v2")["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited.metadata"]
    assert len(actions[0]["parameters"]["ingredients"]) == 1
    # The informative copy of China's label in the platform's manifest is the propagated one.
    assert report.aigc == found.label.to_dict()


def test_the_producers_fields_are_kept_and_the_ai_source_type_is_read_through_the_parent(
    platform: PartyChain,
) -> None:
    producer = make_party_chain("generator.example/log", country="CN")
    produced = apply_labels((DATA / "no_manifest.jpg").read_bytes(), PRODUCED, producer)
    out = propagate_labels(
        produced, platform, propagator=PLATFORM, propagate_id="share-8", anchors_pem=producer.root_pem.decode()
    )
    found = read_aigc(out)
    assert found is not None
    assert found.label == AigcLabel(
        label="1",
        content_producer=PRODUCED.content_producer,
        produce_id="gen-42",
        content_propagator=PLATFORM,
        propagate_id="share-8",
    )
    report = read_c2pa(out, "image/jpeg", anchors_pem=producer.root_pem.decode() + platform.root_pem.decode())
    assert report.state == "Trusted", report.failure
    # The platform's manifest declares no source type of its own: the generator's, through the parent.
    assert report.digital_source_types == (IPTC_SOURCE_TYPE + "trainedAlgorithmicMedia",)
    verdicts = {v.regime: v.verdict for v in check_labels(out, anchors_pem=platform.root_pem.decode()).regimes}
    assert verdicts == {"c2pa": "pass", "cn-aigc": "pass"}, verdicts


def test_a_file_without_content_credentials_gets_the_fields_only(platform: PartyChain) -> None:
    out = propagate_labels(
        (DATA / "no_manifest.jpg").read_bytes(), platform, propagator=PLATFORM, propagate_id="s", label="3"
    )
    assert read_c2pa(out, "image/jpeg").state == "absent"
    found = read_aigc(out)
    assert found is not None and (found.label.label, found.label.content_propagator) == ("3", PLATFORM)


def test_what_a_platform_may_not_do(platform: PartyChain) -> None:
    signed = (DATA / "C.jpg").read_bytes()
    with pytest.raises(MalformedMedia, match="no AIGC implicit label") as missing:
        propagate_labels(signed, platform, propagator=PLATFORM, propagate_id="s", anchors_pem=BUNDLE)
    assert "--label 2" in (missing.value.hint or "")
    labelled = apply_labels((DATA / "no_manifest.jpg").read_bytes(), PRODUCED, platform)
    with pytest.raises(MalformedMedia, match="does not change it"):
        propagate_labels(labelled, platform, propagator=PLATFORM, propagate_id="s", label="3")
    with pytest.raises(MalformedRecord, match="ContentPropagator is empty"):
        propagate_labels(labelled, platform, propagator=" ", propagate_id="s")
    with pytest.raises(MalformedRecord, match="control character"):
        propagate_labels(labelled, platform, propagator=PLATFORM, propagate_id="a\x00b")
    with pytest.raises(MalformedMedia, match="explicit label"):
        propagate_labels(
            "本文由人工智能生成".encode(), platform, propagator=PLATFORM, propagate_id="s", mime="text/plain"
        )
    # Credentials that no longer validate (one byte of image data changed) are not cited.
    broken = bytearray(signed)
    broken[-100] ^= 0xFF
    assert read_c2pa(bytes(broken), "image/jpeg").state == "Invalid"
    with pytest.raises(MalformedMedia, match="Invalid"):
        propagate_labels(bytes(broken), platform, propagator=PLATFORM, propagate_id="s", label="2")


def test_apply_still_refuses_a_signed_file_and_names_propagate(platform: PartyChain) -> None:
    with pytest.raises(MalformedMedia, match="already carries Content Credentials") as refused:
        apply_labels((DATA / "C.jpg").read_bytes(), PRODUCED, platform)
    assert "detente label propagate" in (refused.value.hint or "")
